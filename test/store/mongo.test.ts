/**
 * MongoStore against a real MongoDB server: the same contract suite as the other adapters, run
 * when MONGODB_URL is set, e.g.
 *
 *   MONGODB_URL=mongodb://localhost:27017/baton-test npx jest test/store/mongo
 *
 * Each test gets its own database (`<name from the URL>-<pid>-<n>`), dropped afterwards. Against a
 * replica set it runs twice: with transactions ('auto') and with compare-and-swap forced ('never').
 * Without MONGODB_URL the server suite is reported as skipped (loudly). The unit tests below need
 * no server; the algorithms are also tested without one in mongo-fake.test.ts (in-memory double)
 * and mongo-wire.test.ts (mongoose + driver against a wire-protocol fake).
 */
import mongoose, { type Connection } from 'mongoose';
import {
  ConversationExistsError,
  DuplicateIdempotencyKeyError,
  StoreClosedError,
} from '../../src/store';
import {
  MODEL_NAMES,
  MongoStore,
  conversationDocToRecord,
  conversationSchema,
  duplicateKeyIndex,
  DuplicateKeyConflict,
  eventDeleteQuery,
  eventDocToStoredEvent,
  eventSchema,
  helloSupportsTransactions,
  idempotencyDeleteQuery,
  idempotencySchema,
  isIdempotencyCommitted,
  mapTransactionError,
  redactUrl,
  resolveMongoTarget,
  type ConversationDoc,
  type IdempotencyDoc,
} from '../../src/store/mongo';
import { storeContract, t } from './contract';

const MONGODB_URL = process.env.MONGODB_URL;

// ---------------------------------------------------------------------------------------------
// The contract suite on a real server
// ---------------------------------------------------------------------------------------------

if (!MONGODB_URL) {
  const reason =
    'MongoDB contract suite skipped: set MONGODB_URL=mongodb://… to run it ' +
    '(e.g. MONGODB_URL=mongodb://localhost:27017/baton-test npx jest test/store/mongo)';
  // eslint-disable-next-line no-console
  console.warn(`\n  ⚠  ${reason}\n`);
  describe.skip(reason, () => {
    it('runs the ConversationStore contract suite against a real MongoDB server', () => undefined);
    it('checks the indexes and the write mode on the server', () => undefined);
  });
} else {
  const baseName = resolveMongoTarget(MONGODB_URL).dbName.slice(0, 40);
  let base: Connection;
  let counter = 0;
  const open: Connection[] = [];
  const dbNameFor = () => `${baseName}-${process.pid}-${++counter}`;

  beforeAll(async () => {
    base = await mongoose.createConnection(MONGODB_URL, { serverSelectionTimeoutMS: 10_000 }).asPromise();
  });
  afterAll(async () => {
    await base?.close();
  });
  const dropAll = async () => {
    for (const conn of open.splice(0)) await conn.dropDatabase();
  };

  // On an existing connection (useDb), transactions when the server has them.
  storeContract(
    `MongoStore on ${redactUrl(MONGODB_URL)} (transactions: auto)`,
    async () => {
      const conn = base.useDb(dbNameFor(), { useCache: false });
      open.push(conn);
      return new MongoStore(conn);
    },
    dropAll,
  );

  // From a URL (own connection), compare-and-swap forced even on a replica set.
  storeContract(
    `MongoStore on ${redactUrl(MONGODB_URL)} (compare-and-swap forced)`,
    async () => {
      const dbName = dbNameFor();
      open.push(base.useDb(dbName, { useCache: false }));
      return new MongoStore({ url: MONGODB_URL, dbName }, { transactions: 'never' });
    },
    dropAll,
  );

  describe('MongoStore on a real server', () => {
    afterEach(dropAll);

    it('creates the indexes and picks the write mode from the topology', async () => {
      const dbName = dbNameFor();
      const conn = base.useDb(dbName, { useCache: false });
      open.push(conn);
      const store = new MongoStore({ url: MONGODB_URL, dbName });
      try {
        const tx = await store.usesTransactions();
        const hello = await conn.db!.command({ hello: 1 });
        expect(tx).toBe(helloSupportsTransactions(hello));
        const names = async (coll: string) => (await conn.db!.collection(coll).indexes()).map((i) => i.name).sort();
        expect(await names('conversations')).toEqual([
          '_id_',
          'conversations_by_bot_updated',
          'conversations_by_customer_updated',
          'conversations_by_updated',
        ]);
        expect(await names('events')).toEqual(['_id_', 'events_by_conversation_seq']);
        expect(await names('idempotency')).toEqual(['_id_', 'idempotency_by_conversation_key']);
      } finally {
        await store.close();
      }
    });

    it('two stores (like two processes): a stale commit is rejected and the fresh one wins', async () => {
      const dbName = dbNameFor();
      open.push(base.useDb(dbName, { useCache: false }));
      const a = new MongoStore({ url: MONGODB_URL, dbName });
      const b = new MongoStore({ url: MONGODB_URL, dbName }, { transactions: 'never' });
      try {
        await a.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) });
        await b.commit({ id: 'c1', expectedVersion: 1, state: { by: 'b' }, events: [{ type: 'b', at: t(1), data: {} }], at: t(1) });
        await expect(
          a.commit({ id: 'c1', expectedVersion: 1, state: { by: 'a' }, events: [{ type: 'a', at: t(2), data: {} }], at: t(2) }),
        ).rejects.toMatchObject({ code: 'stale_version', actualVersion: 2 });
        await a.commit({ id: 'c1', expectedVersion: 2, state: { by: 'a' }, events: [{ type: 'a', at: t(2), data: {} }], at: t(2) });
        expect((await b.events('c1')).map((e) => e.type)).toEqual(['b', 'a']);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Unit tests (no server)
// ---------------------------------------------------------------------------------------------

describe('MongoStore configuration', () => {
  it('rejects a URL that is not a MongoDB connection string, without echoing the password', () => {
    for (const url of ['postgres://user:s3cret@db.example.com/baton', 'http://localhost:27017', 'localhost:27017', 'file.sqlite']) {
      let err: unknown;
      try {
        new MongoStore({ url });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TypeError);
      expect((err as Error).message).toMatch(/not a MongoDB connection string.*mongodb:\/\//);
      expect((err as Error).message).not.toContain('s3cret');
    }
    expect(() => new MongoStore({ url: '' })).toThrow(TypeError);
    expect(() => new MongoStore({ url: 42 as unknown as string })).toThrow(TypeError);
    expect(() => new MongoStore(null as unknown as { url: string })).toThrow(TypeError);
    expect(() => new MongoStore({ url: 'mongodb:///baton' })).toThrow(/names no host/);
  });

  it('takes the database name from dbName, else the URL path, else "baton"', () => {
    expect(resolveMongoTarget('mongodb://localhost:27017/support').dbName).toBe('support');
    expect(resolveMongoTarget('mongodb://u:p@a:1,b:2/prod?replicaSet=rs0&authSource=admin').dbName).toBe('prod');
    expect(resolveMongoTarget('mongodb+srv://cluster0.example.net/app?retryWrites=true').dbName).toBe('app');
    expect(resolveMongoTarget('mongodb://localhost:27017').dbName).toBe('baton');
    expect(resolveMongoTarget('mongodb://localhost:27017/?directConnection=true').dbName).toBe('baton');
    expect(resolveMongoTarget('mongodb://localhost/ignored', 'chosen').dbName).toBe('chosen');
    expect(new MongoStore({ url: 'mongodb://localhost/x', dbName: 'y' }).dbName).toBe('y');
    for (const bad of ['a.b', 'a b', 'a/b', 'x'.repeat(64), '']) {
      expect(() => resolveMongoTarget('mongodb://localhost', bad)).toThrow(/invalid database name/);
    }
    expect(() => resolveMongoTarget('mongodb://localhost/a.b')).toThrow(/invalid database name/);
  });

  it('redacts passwords in URLs it reports', () => {
    expect(redactUrl('mongodb://admin:hunter2@db:27017/baton')).toBe('mongodb://admin:***@db:27017/baton');
    expect(redactUrl('mongodb+srv://reader@cluster/x')).toBe('mongodb+srv://reader@cluster/x');
    expect(redactUrl('mongodb://db/x')).toBe('mongodb://db/x');
  });

  it('validates the tuning options', () => {
    const url = 'mongodb://localhost/x';
    expect(() => new MongoStore({ url, transactions: 'sometimes' as 'auto' })).toThrow(/transactions must be/);
    expect(() => new MongoStore({ url, orphanGraceMs: -1 })).toThrow(/orphanGraceMs/);
    expect(() => new MongoStore({ url, orphanGraceMs: Number.NaN })).toThrow(/orphanGraceMs/);
  });

  it('connects lazily: an unused store can be constructed and closed without a server', async () => {
    const store = new MongoStore({ url: 'mongodb://127.0.0.1:1/never' });
    await store.close();
    await store.close();
    await expect(store.load('x')).rejects.toBeInstanceOf(StoreClosedError);
  });

  it('rejects invalid input before connecting, and reports an unreachable server on each call', async () => {
    const store = new MongoStore({ url: 'mongodb://127.0.0.1:1/unreachable', connectOptions: { serverSelectionTimeoutMS: 150 } });
    try {
      await expect(store.create({ id: '', botId: 'b', state: {}, at: t(0) })).rejects.toThrow(TypeError);
      await expect(store.events('x', { limit: 0 })).rejects.toThrow(RangeError);
      await expect(store.load('x')).rejects.toThrow(/ECONNREFUSED|Server selection|connect/i);
      await expect(store.load('x')).rejects.toThrow(/ECONNREFUSED|Server selection|connect/i); // retried, not cached
    } finally {
      await store.close();
    }
  });

  it('refuses a mongoose connection that was never opened', async () => {
    const conn = mongoose.createConnection();
    const store = new MongoStore(conn);
    await expect(store.load('x')).rejects.toThrow(/not open/);
    await store.close();
  });
});

describe('MongoStore schemas and indexes', () => {
  it('defines the collections and the indexes the queries need', () => {
    expect(conversationSchema.get('collection')).toBe('conversations');
    expect(eventSchema.get('collection')).toBe('events');
    expect(idempotencySchema.get('collection')).toBe('idempotency');
    expect(conversationSchema.indexes()).toEqual([
      [{ updatedAt: -1, _id: 1 }, expect.objectContaining({ name: 'conversations_by_updated' })],
      [{ botId: 1, updatedAt: -1, _id: 1 }, expect.objectContaining({ name: 'conversations_by_bot_updated' })],
      [{ customerId: 1, updatedAt: -1, _id: 1 }, expect.objectContaining({ name: 'conversations_by_customer_updated' })],
    ]);
    expect(eventSchema.indexes()).toEqual([
      [{ conversationId: 1, seq: 1 }, expect.objectContaining({ unique: true, name: 'events_by_conversation_seq' })],
    ]);
    expect(idempotencySchema.indexes()).toEqual([
      [{ conversationId: 1, key: 1 }, expect.objectContaining({ unique: true, name: 'idempotency_by_conversation_key' })],
    ]);
    for (const [, opts] of conversationSchema.indexes()) expect(opts.unique).toBeFalsy();
  });

  it('keeps state, data and values as JSON text, ids as strings, and no mongoose version key', () => {
    expect(conversationSchema.path('_id').instance).toBe('String');
    expect(conversationSchema.path('state').instance).toBe('String');
    expect(conversationSchema.path('customerId').instance).toBe('String');
    expect(conversationSchema.path('updatedAt').instance).toBe('String');
    expect(eventSchema.path('data').instance).toBe('String');
    expect(idempotencySchema.path('value').instance).toBe('String');
    for (const schema of [conversationSchema, eventSchema, idempotencySchema]) {
      expect(schema.get('versionKey')).toBe(false);
      expect(schema.get('minimize')).toBe(false);
      expect(schema.get('autoIndex')).toBe(false); // created (and awaited) by MongoStore itself
    }
    expect(Object.keys(conversationSchema.paths).sort()).toEqual(
      ['_id', 'botId', 'customerId', 'version', 'state', 'createdAt', 'updatedAt', 'lastSeq', 'rev', 'lastTxn', 'lastIdemKey', 'pendingTxn', 'pendingSince'].sort(),
    );
    expect(new Set(Object.values(MODEL_NAMES)).size).toBe(3);
  });
});

describe('MongoStore document ↔ record mapping', () => {
  const doc: ConversationDoc = {
    _id: 'c1',
    botId: 'bot',
    customerId: 'cust',
    version: 3,
    state: '{"step":"x","list":[1,null]}',
    createdAt: t(0),
    updatedAt: t(5),
    lastSeq: 7,
    rev: 9,
    lastTxn: 'txn',
    lastIdemKey: null,
    pendingTxn: null,
    pendingSince: null,
  };

  it('maps a conversation document to a record (internal fields stay internal)', () => {
    expect(conversationDocToRecord(doc)).toEqual({
      id: 'c1',
      botId: 'bot',
      customerId: 'cust',
      version: 3,
      state: { step: 'x', list: [1, null] },
      createdAt: t(0),
      updatedAt: t(5),
    });
    // Documents written before customer ids (no field) read as anonymous.
    const { customerId: _omit, ...old } = doc;
    expect(conversationDocToRecord(old as ConversationDoc).customerId).toBeNull();
    // A fresh object every time.
    expect(conversationDocToRecord(doc).state).not.toBe(conversationDocToRecord(doc).state);
  });

  it('maps an event document to a stored event', () => {
    expect(eventDocToStoredEvent({ conversationId: 'c1', seq: 4, type: 'reply', at: t(1), data: '{"text":"hi ✓"}' })).toEqual({
      seq: 4,
      conversationId: 'c1',
      type: 'reply',
      at: t(1),
      data: { text: 'hi ✓' },
    });
  });

  it('decides whether an idempotency document is committed', () => {
    const idem: IdempotencyDoc = { conversationId: 'c1', key: 'k', value: '1', rev: 8, txn: 'txn', committed: false, writtenAt: new Date(0) };
    expect(isIdempotencyCommitted(idem, doc)).toBe(true); // the latest commit's key
    expect(isIdempotencyCommitted({ ...idem, txn: 'other' }, doc)).toBe(false); // an orphan
    expect(isIdempotencyCommitted({ ...idem, txn: 'other', committed: true }, doc)).toBe(true); // marked
    expect(isIdempotencyCommitted(idem, null)).toBe(false);
    expect(isIdempotencyCommitted(idem, { ...doc, version: 0 })).toBe(false); // a reservation
  });

  it('builds the delete filters on the (conversationId, seq) / (conversationId, key) indexes', () => {
    expect(eventDeleteQuery({ conversationId: 'c', afterSeq: 5, txn: 'x' })).toEqual({ conversationId: 'c', seq: { $gt: 5 }, txn: 'x' });
    expect(eventDeleteQuery({ conversationId: 'c', afterSeq: 5, revBelow: 3 })).toEqual({ conversationId: 'c', seq: { $gt: 5 }, rev: { $lt: 3 } });
    expect(idempotencyDeleteQuery({ conversationId: 'c', key: 'k', txn: 'x' })).toEqual({ conversationId: 'c', key: 'k', txn: 'x' });
    expect(idempotencyDeleteQuery({ conversationId: 'c', key: 'k', deadBefore: { rev: 4, lastTxn: 'last' } })).toEqual({
      conversationId: 'c',
      key: 'k',
      rev: { $lt: 4 },
      committed: false,
      txn: { $ne: 'last' },
    });
    expect(idempotencyDeleteQuery({ conversationId: 'c', key: 'k', deadBefore: { rev: 4, lastTxn: null } })).toEqual({
      conversationId: 'c',
      key: 'k',
      rev: { $lt: 4 },
      committed: false,
    });
  });
});

describe('MongoStore error mapping', () => {
  const { MongoServerError } = mongoose.mongo;

  it('recognises duplicate-key errors (code 11000) and the refused document of a batch', () => {
    const single = new MongoServerError({
      message: 'E11000 duplicate key error collection: baton.conversations index: _id_ dup key: { _id: "c1" }',
      errmsg: 'E11000 duplicate key error collection: baton.conversations index: _id_ dup key: { _id: "c1" }',
      code: 11000,
      keyPattern: { _id: 1 },
      keyValue: { _id: 'c1' },
    });
    expect(duplicateKeyIndex(single)).toBe(0);
    const bulk = { name: 'MongoBulkWriteError', code: 11000, writeErrors: [{ index: 3, code: 11000, errmsg: 'E11000 …' }] };
    expect(duplicateKeyIndex(bulk)).toBe(3);
    expect(duplicateKeyIndex({ writeErrors: { index: 2, err: { code: 11000 } } })).toBe(2);
    expect(duplicateKeyIndex({ message: 'wrapped', cause: bulk })).toBe(3);
    expect(duplicateKeyIndex({ errorResponse: { code: 11001 } })).toBe(0);
    expect(duplicateKeyIndex(new MongoServerError({ message: 'WriteConflict', code: 112 }))).toBeNull();
    expect(duplicateKeyIndex(new Error('E11000 in a message only'))).toBeNull();
    expect(duplicateKeyIndex(null)).toBeNull();
  });

  it('maps duplicate keys in a transaction: conversation → ConversationExistsError, key → DuplicateIdempotencyKeyError', () => {
    expect(mapTransactionError(new DuplicateKeyConflict('conversations', 0), 'c1')).toBeInstanceOf(ConversationExistsError);
    const dup = mapTransactionError(new DuplicateKeyConflict('idempotency', 0), 'c1', 'msg-1');
    expect(dup).toBeInstanceOf(DuplicateIdempotencyKeyError);
    expect(dup).toMatchObject({ conversationId: 'c1', key: 'msg-1', code: 'duplicate_idempotency_key' });

    const rawConversation = new MongoServerError({
      message: 'E11000 duplicate key error collection: baton.conversations index: _id_ dup key: { _id: "c1" }',
      code: 11000,
    });
    expect(mapTransactionError(rawConversation, 'c1')).toMatchObject({ code: 'conversation_exists', conversationId: 'c1' });
    const rawKey = new MongoServerError({ message: 'E11000 duplicate key error', code: 11000, keyPattern: { conversationId: 1, key: 1 } });
    expect(mapTransactionError(rawKey, 'c1', 'k')).toBeInstanceOf(DuplicateIdempotencyKeyError);

    const other = new MongoServerError({ message: 'WriteConflict', code: 112 });
    expect(mapTransactionError(other, 'c1', 'k')).toBe(other);
    const events = new DuplicateKeyConflict('events', 1);
    expect(mapTransactionError(events, 'c1')).toBe(events);
  });

  it('tells from a hello reply whether the deployment has transactions', () => {
    expect(helloSupportsTransactions({ isWritablePrimary: true, logicalSessionTimeoutMinutes: 30 })).toBe(false); // standalone
    expect(helloSupportsTransactions({ setName: 'rs0', logicalSessionTimeoutMinutes: 30 })).toBe(true);
    expect(helloSupportsTransactions({ msg: 'isdbgrid', logicalSessionTimeoutMinutes: 30 })).toBe(true);
    expect(helloSupportsTransactions({ setName: 'rs0' })).toBe(false); // no sessions
    expect(helloSupportsTransactions({ setName: 'rs0', logicalSessionTimeoutMinutes: null })).toBe(false);
  });
});

/**
 * MongoStore through mongoose and the real MongoDB driver, against an in-process wire-protocol
 * fake of a *standalone* server (so: compare-and-swap mode). This checks MongooseBackend's glue
 * (queries, options, lean documents, index creation, duplicate-key errors from the driver) on every
 * run without a MongoDB server. It does not replace the real-server suite (mongo.test.ts with
 * MONGODB_URL): the fake implements only what MongoStore uses.
 */
import mongoose from 'mongoose';
import { DuplicateKeyConflict, MongoStore, MongooseBackend } from '../../src/store/mongo';
import { storeContract, t } from './contract';
import { MongoWireFake } from './mongo-wire-fake';

const fake = new MongoWireFake();
let baseUrl = '';
let dbCounter = 0;
const fast = { serverSelectionTimeoutMS: 5000 };

beforeAll(async () => {
  baseUrl = await fake.start();
});
afterAll(async () => {
  await fake.stop();
});

storeContract(
  'MongoStore via mongoose + MongoDB driver (wire-protocol fake of a standalone server)',
  async () => new MongoStore({ url: `${baseUrl}/contract-${++dbCounter}`, connectOptions: fast }),
  async () => {
    fake.databases.clear();
  },
);

describe('MongoStore on mongoose (wire-protocol fake)', () => {
  let store: MongoStore;
  let dbName: string;
  beforeEach(() => {
    dbName = `specifics-${++dbCounter}`;
    store = new MongoStore({ url: `${baseUrl}/${dbName}`, connectOptions: fast });
  });
  afterEach(async () => {
    await store.close();
  });

  it('creates the collections and indexes before the first operation, and detects a standalone server', async () => {
    expect(await store.usesTransactions()).toBe(false);
    const colls = fake.databases.get(dbName)!;
    const indexes = Object.fromEntries(
      [...colls.entries()].map(([name, c]) => [name, c.indexes.map((i) => [i.name, i.key, i.unique])]),
    );
    expect(indexes).toEqual({
      conversations: [
        ['_id_', { _id: 1 }, true],
        ['conversations_by_updated', { updatedAt: -1, _id: 1 }, false],
        ['conversations_by_bot_updated', { botId: 1, updatedAt: -1, _id: 1 }, false],
        ['conversations_by_customer_updated', { customerId: 1, updatedAt: -1, _id: 1 }, false],
      ],
      events: [
        ['_id_', { _id: 1 }, true],
        ['events_by_conversation_seq', { conversationId: 1, seq: 1 }, true],
      ],
      idempotency: [
        ['_id_', { _id: 1 }, true],
        ['idempotency_by_conversation_key', { conversationId: 1, key: 1 }, true],
      ],
    });
  });

  it('stores documents in the documented shape (JSON text for state, data and values)', async () => {
    await store.create({ id: 'c1', botId: 'bot', customerId: 'cust', state: { a: [1] }, at: t(0), events: [{ type: 'e', at: t(0), data: { x: 'y' } }] });
    await store.commit({ id: 'c1', expectedVersion: 1, state: { a: [2] }, events: [], at: t(1), idempotency: { key: 'k', value: { ok: true } } });
    const colls = fake.databases.get(dbName)!;
    const [conv] = colls.get('conversations')!.docs;
    expect(conv).toMatchObject({
      _id: 'c1',
      botId: 'bot',
      customerId: 'cust',
      version: 2,
      state: '{"a":[2]}',
      createdAt: t(0),
      updatedAt: t(1),
      lastSeq: 1,
      rev: 3,
      lastIdemKey: 'k',
      pendingTxn: null,
      pendingSince: null,
    });
    expect(typeof conv.lastTxn).toBe('string');
    const [event] = colls.get('events')!.docs;
    expect(event).toMatchObject({ conversationId: 'c1', seq: 1, type: 'e', at: t(0), data: '{"x":"y"}', rev: 1 });
    expect(event.writtenAt).toBeInstanceOf(Date);
    const [idem] = colls.get('idempotency')!.docs;
    expect(idem).toMatchObject({ conversationId: 'c1', key: 'k', value: '{"ok":true}', committed: false, txn: conv.lastTxn });
  });

  it('queries list through the index matching its filter', async () => {
    await store.create({ id: 'c1', botId: 'bot', customerId: 'cust', state: {}, at: t(0) });
    fake.commands.length = 0;
    await store.list();
    await store.list({ botId: 'bot' });
    await store.list({ customerId: 'cust' });
    await store.list({ customerId: 'cust', botId: 'bot', limit: 5 });
    const finds = fake.commands.filter((c) => c.name === 'find' && c.body.find === 'conversations').map((c) => c.body);
    expect(finds.map((f) => [f.hint, f.sort, f.limit])).toEqual([
      ['conversations_by_updated', { updatedAt: -1, _id: 1 }, 100],
      ['conversations_by_bot_updated', { updatedAt: -1, _id: 1 }, 100],
      ['conversations_by_customer_updated', { updatedAt: -1, _id: 1 }, 100],
      ['conversations_by_customer_updated', { updatedAt: -1, _id: 1 }, 5],
    ]);
    expect(finds[3].filter).toEqual({ version: { $gte: 1 }, botId: 'bot', customerId: 'cust' });
  });

  it('turns the driver’s duplicate-key errors (code 11000) into DuplicateKeyConflict with the refused document', async () => {
    const backend = new MongooseBackend({ url: baseUrl, dbName });
    await backend.open();
    try {
      const doc = (seq: number) => ({ conversationId: 'c', seq, type: 'e', at: t(0), data: '{}', rev: 1, txn: 'x', writtenAt: new Date(0) });
      await backend.insertEvents([doc(1), doc(2)]);
      const err = await backend.insertEvents([doc(3), doc(4), doc(2), doc(5)]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuplicateKeyConflict);
      expect(err).toMatchObject({ collection: 'events', index: 2 });
      // Ordered: the documents before the refused one were written, the ones after it were not.
      expect(fake.databases.get(dbName)!.get('events')!.docs.map((d) => d.seq)).toEqual([1, 2, 3, 4]);

      const idem = { conversationId: 'c', key: 'k', value: '1', rev: 1, txn: 'x', committed: false, writtenAt: new Date(0) };
      await backend.insertIdempotency(idem);
      await expect(backend.insertIdempotency(idem)).rejects.toMatchObject({ collection: 'idempotency', index: 0 });

      const conv = {
        _id: 'c', botId: 'b', customerId: null, version: 1, state: '{}', createdAt: t(0), updatedAt: t(0),
        lastSeq: 0, rev: 1, lastTxn: null, lastIdemKey: null, pendingTxn: null, pendingSince: null,
      };
      await backend.insertConversation(conv);
      await expect(backend.insertConversation(conv)).rejects.toMatchObject({ collection: 'conversations' });
      // Compare-and-swap: matches only the expected rev.
      expect(await backend.casConversation('c', 2, { rev: 3 })).toBe(false);
      expect(await backend.casConversation('c', 1, { rev: 2, pendingSince: new Date(5) })).toBe(true);
      expect(await backend.getConversation('c')).toMatchObject({ rev: 2, pendingSince: new Date(5) });
    } finally {
      await backend.close();
    }
  });

  it('works on an existing mongoose connection, and leaves it open on close()', async () => {
    const conn = await mongoose.createConnection(`${baseUrl}/${dbName}-conn`, fast).asPromise();
    try {
      const onConn = new MongoStore(conn);
      await onConn.create({ id: 'c1', botId: 'bot', state: { via: 'connection' }, at: t(0) });
      expect(await onConn.load('c1')).toMatchObject({ state: { via: 'connection' } });
      await onConn.close();
      expect(conn.readyState).toBe(mongoose.ConnectionStates.connected);
      await expect(onConn.load('c1')).rejects.toMatchObject({ code: 'store_closed' });
      // Another store on the same connection reuses its models.
      const again = new MongoStore(conn);
      expect(await again.load('c1')).toMatchObject({ version: 1 });
      await again.close();
    } finally {
      await conn.close();
    }
  });
});

describe('createBaton({ store: { mongo } })', () => {
  it('builds Baton on a MongoStore for a mongodb:// URL', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { createBaton } = await import('../../src/main');
    const { silentLogger } = await import('../../src/util/logger');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-mongo-main-'));
    const botDir = path.join(__dirname, '..', 'server', 'fixtures', 'bots', 'relay');
    const baton = await createBaton({ botDir, cacheDir: tmp, store: { mongo: `${baseUrl}/from-create-baton` }, logger: silentLogger });
    try {
      await baton.store.create({ id: 'c1', botId: baton.bot.id, customerId: 'cust', state: {}, at: t(0) });
      expect(await baton.store.list({ customerId: 'cust' })).toMatchObject([{ id: 'c1', customerId: 'cust' }]);
      expect(fake.databases.get('from-create-baton')?.get('conversations')?.docs).toHaveLength(1);
      await expect(
        createBaton({ botDir, cacheDir: tmp, store: { mongo: 'postgres://x/y' }, logger: silentLogger }),
      ).rejects.toThrow(/not a MongoDB connection string/);
    } finally {
      await baton.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

/**
 * The channel store contract (store-contract.ts) on every adapter: memory, SQLite and MongoDB.
 *
 * MongoDB against a real server runs when MONGODB_URL is set, e.g.
 *
 *   MONGODB_URL=mongodb://localhost:27017/baton-test npx jest test/channels/store.test.ts
 *
 * (each test gets its own database `<name from the URL>-ch-<pid>-<n>`, dropped afterwards);
 * without it that run is reported as skipped (loudly). The same suite also runs on every run
 * through mongoose and the real driver against the in-process wire-protocol fake
 * (test/store/mongo-wire-fake.ts), and the unit tests at the end need no server.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import mongoose, { type Connection } from 'mongoose';
import { MemoryChannelStore } from '../../src/channels/store/memory';
import {
  CHANNEL_MODEL_NAMES,
  MongoChannelStore,
  channelLinkSchema,
  channelOptOutSchema,
  deliveryDocToRecord,
  deliveryRecordToDoc,
  deliverySchema,
  providerIdSchema,
  statusesMovableTo,
  type DeliveryDoc,
} from '../../src/channels/store/mongo';
import { statusMayMove, type DeliveryStatus } from '../../src/channels/store/port';
import { SqliteChannelStore } from '../../src/channels/store/sqlite';
import { redactUrl, resolveMongoTarget } from '../../src/store/mongo';
import { MongoWireFake } from '../store/mongo-wire-fake';
import { AT, channelStoreContract, delivery } from './store-contract';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channel-store-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

channelStoreContract('memory', () => new MemoryChannelStore());
channelStoreContract('sqlite', () => new SqliteChannelStore({ filename: path.join(dir, `${Math.random()}.sqlite`) }));

test('SQLite keeps everything across reopening the file', async () => {
  const file = path.join(dir, 'reopen.sqlite');
  const a = new SqliteChannelStore({ filename: file });
  await a.link('acme', 'messenger', 'psid-1', 'user-9', AT);
  await a.setOptOut('acme', 'twilio', '+1', true, AT);
  await a.saveDelivery(delivery(1));
  await a.close();
  const b = new SqliteChannelStore({ filename: file });
  expect(await b.linkedCustomer('acme', 'messenger', 'psid-1')).toBe('user-9');
  expect(await b.isOptedOut('acme', 'twilio', '+1')).toBe(true);
  expect(await b.deliveries('c1')).toHaveLength(1);
  await b.close();
});

// ---------------------------------------------------------------------------------------------
// MongoDB on a real server
// ---------------------------------------------------------------------------------------------

const MONGODB_URL = process.env.MONGODB_URL;

if (!MONGODB_URL) {
  const reason =
    'MongoDB channel store contract suite skipped: set MONGODB_URL=mongodb://… to run it ' +
    '(e.g. MONGODB_URL=mongodb://localhost:27017/baton-test npx jest test/channels/store.test.ts)';
  // eslint-disable-next-line no-console
  console.warn(`\n  ⚠  ${reason}\n`);
  describe.skip(reason, () => {
    it('runs the ChannelStore contract suite against a real MongoDB server', () => undefined);
    it('creates the indexes on the server and keeps everything across reopening', () => undefined);
  });
} else {
  const baseName = resolveMongoTarget(MONGODB_URL).dbName.slice(0, 40);
  let base: Connection;
  let counter = 0;
  const open: Connection[] = [];
  const dbNameFor = () => `${baseName}-ch-${process.pid}-${++counter}`;
  beforeAll(async () => {
    base = await mongoose.createConnection(MONGODB_URL, { serverSelectionTimeoutMS: 10_000 }).asPromise();
  });
  afterAll(async () => {
    await base?.close();
  });
  const dropAll = async () => {
    for (const conn of open.splice(0)) await conn.dropDatabase();
  };

  // On a shared connection (useDb), as when wired next to MongoStore.
  channelStoreContract(
    `MongoChannelStore on ${redactUrl(MONGODB_URL)}`,
    () => {
      const conn = base.useDb(dbNameFor(), { useCache: false });
      open.push(conn);
      return new MongoChannelStore(conn);
    },
    dropAll,
  );

  describe('MongoChannelStore on a real server', () => {
    afterEach(dropAll);

    it('creates the indexes and keeps everything across reopening (from a URL)', async () => {
      const dbName = dbNameFor();
      const conn = base.useDb(dbName, { useCache: false });
      open.push(conn);
      const a = new MongoChannelStore({ url: MONGODB_URL, dbName });
      await a.link('acme', 'messenger', 'psid-1', 'user-9', AT);
      await a.setOptOut('acme', 'twilio', '+1', true, AT);
      await a.saveDelivery(delivery(1));
      await a.close();
      const names = async (coll: string) => (await conn.db!.collection(coll).indexes()).map((i) => i.name).sort();
      expect(await names('channel_links')).toEqual(['_id_', 'channel_links_by_address']);
      expect(await names('channel_opt_outs')).toEqual(['_id_', 'channel_opt_outs_by_address']);
      expect(await names('channel_deliveries')).toEqual(['_id_', 'channel_deliveries_by_conversation_seq']);
      expect(await names('channel_provider_ids')).toEqual(['_id_', 'channel_provider_ids_by_id']);
      const b = new MongoChannelStore({ url: MONGODB_URL, dbName });
      try {
        expect(await b.linkedCustomer('acme', 'messenger', 'psid-1')).toBe('user-9');
        expect(await b.isOptedOut('acme', 'twilio', '+1')).toBe(true);
        expect(await b.deliveries('c1')).toEqual([delivery(1)]);
        expect(await b.updateDeliveryStatus('twilio', 'SM1', 'delivered', undefined, AT)).toBe(true);
      } finally {
        await b.close();
      }
    });

    it('racing status reports never move a delivery backwards', async () => {
      const dbName = dbNameFor();
      open.push(base.useDb(dbName, { useCache: false }));
      const a = new MongoChannelStore({ url: MONGODB_URL, dbName });
      const b = new MongoChannelStore({ url: MONGODB_URL, dbName });
      try {
        for (let i = 1; i <= 20; i++) await a.saveDelivery(delivery(i));
        const order: ('delivered' | 'read' | 'failed')[] = ['read', 'delivered', 'failed'];
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => i + 1).flatMap((seq) => order.map((st, k) => (k % 2 ? a : b).updateDeliveryStatus('twilio', `SM${seq}`, st, st === 'failed' ? 'x' : undefined, AT))),
        );
        for (const d of await a.deliveries('c1')) expect(d.status).toBe('failed'); // failed is final and ranks highest
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// MongoDB through mongoose and the driver, on the wire-protocol fake (no server)
// ---------------------------------------------------------------------------------------------

describe('MongoChannelStore via mongoose + MongoDB driver (wire-protocol fake)', () => {
  const fake = new MongoWireFake();
  let baseUrl = '';
  let n = 0;
  const fast = { serverSelectionTimeoutMS: 5000 };
  beforeAll(async () => {
    baseUrl = await fake.start();
  });
  afterAll(async () => {
    await fake.stop();
  });

  channelStoreContract(
    'MongoChannelStore (wire-protocol fake of a standalone server)',
    () => new MongoChannelStore({ url: `${baseUrl}/channels-${++n}`, connectOptions: fast }),
    async () => {
      fake.databases.clear();
    },
  );

  it('creates the collections and indexes before the first operation', async () => {
    const dbName = `channels-idx-${++n}`;
    const store = new MongoChannelStore({ url: `${baseUrl}/${dbName}`, connectOptions: fast });
    try {
      await store.open();
      const indexes = Object.fromEntries([...fake.databases.get(dbName)!].map(([name, c]) => [name, c.indexes.map((i) => [i.name, i.key, i.unique])]));
      expect(indexes).toEqual({
        channel_links: [
          ['_id_', { _id: 1 }, true],
          ['channel_links_by_address', { botId: 1, channel: 1, address: 1 }, true],
        ],
        channel_opt_outs: [
          ['_id_', { _id: 1 }, true],
          ['channel_opt_outs_by_address', { botId: 1, channel: 1, address: 1 }, true],
        ],
        channel_deliveries: [
          ['_id_', { _id: 1 }, true],
          ['channel_deliveries_by_conversation_seq', { conversationId: 1, seq: 1 }, true],
        ],
        channel_provider_ids: [
          ['_id_', { _id: 1 }, true],
          ['channel_provider_ids_by_id', { channel: 1, providerId: 1 }, true],
        ],
      });
    } finally {
      await store.close();
    }
  });

  it('stores documents in the documented shape, and the status update is a compare-and-set', async () => {
    const dbName = `channels-shape-${++n}`;
    const store = new MongoChannelStore({ url: `${baseUrl}/${dbName}`, connectOptions: fast });
    try {
      await store.link('acme', 'whatsapp', '+1555', 'user-1', AT);
      await store.saveDelivery(delivery(3, { numbered: [{ title: 'Yes', payload: 'Y' }], providerMessageIds: ['SMa', 'SMb'] }));
      const colls = fake.databases.get(dbName)!;
      expect(colls.get('channel_links')!.docs).toEqual([expect.objectContaining({ botId: 'acme', channel: 'whatsapp', address: '+1555', customerId: 'user-1', linkedAt: AT })]);
      const [d] = colls.get('channel_deliveries')!.docs;
      expect(d).toMatchObject({ conversationId: 'c1', seq: 3, status: 'sent', providerMessageIds: ['SMa', 'SMb'], error: null, note: null, numbered: '[{"title":"Yes","payload":"Y"}]' });
      expect(colls.get('channel_provider_ids')!.docs.map((p) => [p.channel, p.providerId, p.conversationId, p.seq])).toEqual([
        ['twilio', 'SMa', 'c1', 3],
        ['twilio', 'SMb', 'c1', 3],
      ]);
      fake.commands.length = 0;
      await store.updateDeliveryStatus('twilio', 'SMa', 'delivered', undefined, AT);
      const update = fake.commands.find((c) => c.name === 'update' && c.body.update === 'channel_deliveries')!;
      expect((update.body.updates as { q: unknown }[])[0].q).toEqual({ conversationId: 'c1', seq: 3, status: { $in: ['pending', 'held', 'suppressed', 'sent'] } });
    } finally {
      await store.close();
    }
  });

  it('works on an existing mongoose connection and leaves it open on close()', async () => {
    const conn = await mongoose.createConnection(`${baseUrl}/channels-conn-${++n}`, fast).asPromise();
    try {
      const s = new MongoChannelStore(conn);
      await s.setOptOut('acme', 'twilio', '+1', true, AT);
      await s.close();
      expect(conn.readyState).toBe(mongoose.ConnectionStates.connected);
      await expect(s.isOptedOut('acme', 'twilio', '+1')).rejects.toThrow(/closed/);
      const again = new MongoChannelStore(conn); // reuses the models registered on the connection
      expect(await again.isOptedOut('acme', 'twilio', '+1')).toBe(true);
      await again.close();
    } finally {
      await conn.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Unit tests (no server)
// ---------------------------------------------------------------------------------------------

describe('MongoChannelStore without a server', () => {
  it('declares the collections and the indexes its queries need', () => {
    expect(channelLinkSchema.get('collection')).toBe('channel_links');
    expect(channelOptOutSchema.get('collection')).toBe('channel_opt_outs');
    expect(deliverySchema.get('collection')).toBe('channel_deliveries');
    expect(providerIdSchema.get('collection')).toBe('channel_provider_ids');
    expect(channelLinkSchema.indexes()).toEqual([[{ botId: 1, channel: 1, address: 1 }, expect.objectContaining({ unique: true, name: 'channel_links_by_address' })]]);
    expect(channelOptOutSchema.indexes()).toEqual([[{ botId: 1, channel: 1, address: 1 }, expect.objectContaining({ unique: true, name: 'channel_opt_outs_by_address' })]]);
    expect(deliverySchema.indexes()).toEqual([[{ conversationId: 1, seq: 1 }, expect.objectContaining({ unique: true, name: 'channel_deliveries_by_conversation_seq' })]]);
    expect(providerIdSchema.indexes()).toEqual([[{ channel: 1, providerId: 1 }, expect.objectContaining({ unique: true, name: 'channel_provider_ids_by_id' })]]);
    for (const schema of [channelLinkSchema, channelOptOutSchema, deliverySchema, providerIdSchema]) {
      expect(schema.get('versionKey')).toBe(false);
      expect(schema.get('autoIndex')).toBe(false); // created (and awaited) by the store itself
    }
    expect(deliverySchema.path('numbered').instance).toBe('String');
    expect(new Set(Object.values(CHANNEL_MODEL_NAMES)).size).toBe(4);
  });

  it('maps records to documents and back (absent optional fields stored as null, read back as absent)', () => {
    const full = delivery(4, { status: 'held', error: 'e', note: 'n', numbered: [{ title: 'A', payload: 'a' }] });
    const doc = deliveryRecordToDoc(full);
    expect(doc).toEqual({
      conversationId: 'c1', seq: 4, messageId: 'm4', channel: 'twilio', address: '+15550001111', status: 'held', attempts: 1,
      providerMessageIds: ['SM4'], error: 'e', note: 'n', numbered: '[{"title":"A","payload":"a"}]', updatedAt: AT,
    });
    expect(deliveryDocToRecord(doc)).toEqual(full);
    const bareDoc = deliveryRecordToDoc(delivery(5));
    expect(bareDoc).toMatchObject({ error: null, note: null, numbered: null });
    expect(Object.keys(deliveryDocToRecord(bareDoc)).sort()).toEqual(Object.keys(delivery(5)).sort());
    // Extra stored fields (the _id) stay internal; a missing array reads as empty.
    const { providerMessageIds: _omit, ...noIds } = bareDoc;
    expect(deliveryDocToRecord({ ...noIds, _id: 'x' } as unknown as DeliveryDoc).providerMessageIds).toEqual([]);
    expect('_id' in deliveryDocToRecord({ ...bareDoc, _id: 'x' } as unknown as DeliveryDoc)).toBe(false);
  });

  it('builds the status compare-and-set filter from statusMayMove', () => {
    const all: DeliveryStatus[] = ['pending', 'held', 'suppressed', 'sent', 'delivered', 'read', 'failed'];
    for (const to of all) expect(statusesMovableTo(to)).toEqual(all.filter((from) => statusMayMove(from, to)));
    expect(statusesMovableTo('delivered')).toEqual(['pending', 'held', 'suppressed', 'sent']);
    expect(statusesMovableTo('failed')).toEqual(['pending', 'held', 'suppressed', 'sent', 'delivered', 'read']);
    expect(statusesMovableTo('sent')).toEqual(['pending', 'held', 'suppressed']);
  });

  it('validates the URL without echoing a password, and connects lazily', async () => {
    expect(() => new MongoChannelStore({ url: 'postgres://u:s3cret@db/x' })).toThrow(/^MongoChannelStore: .*not a MongoDB connection string/);
    expect(() => new MongoChannelStore({ url: 'postgres://u:s3cret@db/x' })).not.toThrow(/s3cret/);
    expect(() => new MongoChannelStore(null as unknown as { url: string })).toThrow(TypeError);
    expect(new MongoChannelStore({ url: 'mongodb://localhost/support' }).dbName).toBe('support');
    const s = new MongoChannelStore({ url: 'mongodb://127.0.0.1:1/never' });
    await s.close();
    await s.close();
    await expect(s.lastDelivery('c1')).rejects.toThrow(/closed/);
  });

  it('reports an unreachable server on each call (not cached)', async () => {
    const s = new MongoChannelStore({ url: 'mongodb://127.0.0.1:1/unreachable', connectOptions: { serverSelectionTimeoutMS: 150 } });
    try {
      await expect(s.lastDelivery('c1')).rejects.toThrow(/ECONNREFUSED|Server selection|connect/i);
      await expect(s.lastDelivery('c1')).rejects.toThrow(/ECONNREFUSED|Server selection|connect/i);
    } finally {
      await s.close();
    }
  });
});

/**
 * MongoHandoffStore without a MongoDB server:
 * - the contract suite through mongoose and the real driver, against the in-process wire-protocol
 *   fake acting as a one-node replica set (transactions: one at a time, a second one refused with
 *   a transient WriteConflict that the driver retries — stricter than MongoDB, see the fake);
 * - two stores (like two processes) racing for the same conversations through that fake;
 * - the refusal to run on a standalone server;
 * - unit tests: schemas and indexes, document ↔ record mapping, error mapping, configuration.
 * The contract suite against a real server is in stores.test.ts (with MONGODB_URL).
 */
import mongoose from 'mongoose';
import {
  AGENT_PATCH_FIELDS,
  HANDOFF_MODEL_NAMES,
  MongoHandoffStore,
  REV_COUNTER_ID,
  TransactionsRequiredError,
  agentDocToRecord,
  agentPatchUpdate,
  agentRecordToDoc,
  agentSchema,
  assignmentDocToRecord,
  assignmentFilterQuery,
  assignmentRecordToDoc,
  assignmentSchema,
  mapAgentInsertError,
  metaSchema,
  readMarkSchema,
  type AssignmentDoc,
} from '../../src/handoff/store/mongo';
import { EmailTakenError, type AgentRecord, type Assignment, type EnqueueInput } from '../../src/handoff/store/port';
import { MongoWireFake } from '../store/mongo-wire-fake';
import { at, handoffStoreContract } from './store-contract';

const fast = { serverSelectionTimeoutMS: 5000 };
const entry = (id: string, extra: Partial<EnqueueInput> = {}): EnqueueInput => ({ conversationId: id, botId: 'b', queue: 'q', priority: 0, reason: 'r', waitingSince: at(0), sinceSeq: 1, customer: null, ...extra });

describe('MongoHandoffStore via mongoose + MongoDB driver (wire-protocol fake of a replica set)', () => {
  const fake = new MongoWireFake({ replicaSet: 'rs0' });
  let baseUrl = '';
  let n = 0;
  beforeAll(async () => {
    baseUrl = await fake.start();
  });
  afterAll(async () => {
    await fake.stop();
  });

  handoffStoreContract(
    'MongoHandoffStore (wire-protocol fake of a replica set)',
    async () => new MongoHandoffStore({ url: `${baseUrl}/handoff-${++n}`, connectOptions: fast }),
    async () => {
      fake.databases.clear();
    },
  );

  it('creates the collections, indexes and the change counter before the first operation', async () => {
    const dbName = `handoff-idx-${++n}`;
    const store = new MongoHandoffStore({ url: `${baseUrl}/${dbName}`, connectOptions: fast });
    try {
      await store.open();
      const colls = fake.databases.get(dbName)!;
      const indexes = Object.fromEntries([...colls].map(([name, c]) => [name, c.indexes.map((i) => [i.name, i.key, i.unique])]));
      expect(indexes).toEqual({
        handoff_agents: [
          ['_id_', { _id: 1 }, true],
          ['handoff_agents_by_email', { email: 1 }, true],
          ['handoff_agents_by_created', { createdAt: 1, _id: 1 }, false],
        ],
        handoff_assignments: [
          ['_id_', { _id: 1 }, true],
          ['handoff_assignments_by_rev', { rev: 1 }, true],
          ['handoff_assignments_by_agent', { agentId: 1, status: 1, rev: -1 }, false],
          ['handoff_assignments_by_status', { status: 1, rev: -1 }, false],
        ],
        handoff_reads: [
          ['_id_', { _id: 1 }, true],
          ['handoff_reads_by_agent_conversation', { agentId: 1, conversationId: 1 }, true],
        ],
        handoff_meta: [['_id_', { _id: 1 }, true]],
      });
      expect(colls.get('handoff_meta')!.docs).toEqual([{ _id: REV_COUNTER_ID, value: 0 }]);
    } finally {
      await store.close();
    }
  });

  it('stores documents in the documented shape; each change is one transaction that bumps the counter', async () => {
    const dbName = `handoff-shape-${++n}`;
    const store = new MongoHandoffStore({ url: `${baseUrl}/${dbName}`, connectOptions: fast });
    try {
      await store.createAgent({ id: 'a1', email: 'A@x.example', name: 'A', role: 'agent', passwordHash: 'h', capacity: 2, skills: ['*'] }, at(0));
      fake.commands.length = 0;
      await store.enqueue(entry('c1', { customer: { id: 'u', name: 'Ann', email: null } }), at(1));
      const txCommands = fake.commands.filter((c) => c.body.autocommit === false).map((c) => c.name);
      expect(txCommands).toEqual(['find', 'findAndModify', 'update', 'commitTransaction']);
      expect(fake.commands.find((c) => c.body.startTransaction)!.body.readConcern).toEqual({ level: 'snapshot' });
      await store.claim('c1', 'a1', { capacity: 2, at: at(2) });
      await store.setLastMessage('c1', { seq: 4, from: 'customer', text: 'hi', createdAt: at(3) }, at(3));
      const colls = fake.databases.get(dbName)!;
      expect(colls.get('handoff_agents')!.docs).toEqual([
        { _id: 'a1', email: 'a@x.example', name: 'A', role: 'agent', passwordHash: 'h', capacity: 2, skills: ['*'], presence: 'offline', lastAssignedAt: at(2), createdAt: at(0), updatedAt: at(0) },
      ]);
      expect(colls.get('handoff_assignments')!.docs).toEqual([
        {
          _id: 'c1', botId: 'b', status: 'assigned', queue: 'q', priority: 0, reason: 'r', waitingSince: at(0), sinceSeq: 1, agentId: 'a1', assignedAt: at(2),
          closedBy: null, closedAt: null, customer: '{"id":"u","name":"Ann","email":null}', lastMessage: '{"seq":4,"from":"customer","text":"hi","createdAt":"' + at(3) + '"}',
          rev: 3, updatedAt: at(3),
        },
      ]);
      expect(colls.get('handoff_meta')!.docs).toEqual([{ _id: 'rev', value: 3 }]);
    } finally {
      await store.close();
    }
  });

  it('a refused change writes nothing and uses no rev (the transaction is rolled back)', async () => {
    const dbName = `handoff-rollback-${++n}`;
    const store = new MongoHandoffStore({ url: `${baseUrl}/${dbName}`, connectOptions: fast });
    try {
      await store.enqueue(entry('c1'), at(1));
      await store.enqueue(entry('c2'), at(1));
      await store.claim('c1', 'a1', { capacity: 1, at: at(2) });
      await expect(store.claim('c2', 'a1', { capacity: 1, at: at(3) })).rejects.toMatchObject({ code: 'over_capacity' });
      await expect(store.finish('nope', { by: 'resolve', at: at(3) })).rejects.toMatchObject({ code: 'conversation_not_found' });
      expect(fake.databases.get(dbName)!.get('handoff_meta')!.docs).toEqual([{ _id: 'rev', value: 3 }]);
      expect((await store.changes(0)).map((e) => [e.conversationId, e.rev])).toEqual([
        ['c2', 2],
        ['c1', 3],
      ]);
    } finally {
      await store.close();
    }
  });

  it('reads changes() in a snapshot (a read-only transaction)', async () => {
    const store = new MongoHandoffStore({ url: `${baseUrl}/handoff-snap-${++n}`, connectOptions: fast });
    try {
      await store.enqueue(entry('c1'), at(1));
      fake.commands.length = 0;
      await store.changes(0);
      const find = fake.commands.find((c) => c.name === 'find')!;
      expect(find.body).toMatchObject({ find: 'handoff_assignments', filter: { rev: { $gt: 0 } }, sort: { rev: 1 }, startTransaction: true, autocommit: false, readConcern: { level: 'snapshot' } });
    } finally {
      await store.close();
    }
  });

  it('two stores (like two processes) racing for the same conversations never double-assign nor exceed capacity', async () => {
    const dbName = `handoff-race-${++n}`;
    const a = new MongoHandoffStore({ url: `${baseUrl}/${dbName}`, connectOptions: fast });
    const b = new MongoHandoffStore({ url: `${baseUrl}/${dbName}`, connectOptions: fast });
    try {
      await Promise.all([a.open(), b.open()]); // both connected before the race starts
      const count = 20;
      for (let i = 0; i < count; i++) await a.enqueue(entry(`c${i}`, { waitingSince: at(i) }), at(i));
      const conflictsBefore = fake.stats.conflicts;
      const claimAll = async (s: MongoHandoffStore, agentId: string, reverse: boolean, capacity: number) => {
        const won: string[] = [];
        for (let k = 0; k < count; k++) {
          const id = `c${reverse ? count - 1 - k : k}`;
          try {
            if ((await s.claim(id, agentId, { capacity, at: at(100) })).changed) won.push(id);
          } catch (e) {
            if (!['already_assigned', 'over_capacity'].includes((e as { code?: string }).code ?? '')) throw e;
          }
        }
        return won;
      };
      const [x, y] = await Promise.all([claimAll(a, 'agent-x', false, 1000), claimAll(b, 'agent-y', true, 1000)]);
      expect(x.length + y.length).toBe(count);
      expect(new Set([...x, ...y]).size).toBe(count);
      // The two connections really collided, and the driver ran the refused transactions again.
      // (Which store wins how many is up to the driver's randomised back-off: not checked.)
      expect(fake.stats.conflicts).toBeGreaterThan(conflictsBefore);

      for (let i = 0; i < count; i++) await b.requeue(`c${i}`, { queue: 'q', at: at(200) });
      const [p, q] = await Promise.all([claimAll(a, 'agent-z', false, 3), claimAll(b, 'agent-z', true, 3)]);
      expect(p.length + q.length).toBe(3);
      expect(await b.loads()).toEqual({ 'agent-z': 3 });
      const revs = (await a.changes(0, 10_000)).map((e) => e.rev);
      expect(new Set(revs).size).toBe(count);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('works on an existing mongoose connection and leaves it open on close()', async () => {
    const conn = await mongoose.createConnection(`${baseUrl}/handoff-conn-${++n}`, fast).asPromise();
    try {
      const s = new MongoHandoffStore(conn);
      await s.enqueue(entry('c1'), at(1));
      await s.close();
      expect(conn.readyState).toBe(mongoose.ConnectionStates.connected);
      await expect(s.getAssignment('c1')).rejects.toThrow(/closed/);
      const again = new MongoHandoffStore(conn); // reuses the models registered on the connection
      expect((await again.getAssignment('c1'))!.rev).toBe(1);
      await again.close();
    } finally {
      await conn.close();
    }
  });

  it('starts its counter above the revs already stored, should the counter document be lost', async () => {
    const dbName = `handoff-counter-${++n}`;
    const first = new MongoHandoffStore({ url: `${baseUrl}/${dbName}`, connectOptions: fast });
    await first.enqueue(entry('c1'), at(1));
    await first.enqueue(entry('c2'), at(1));
    await first.close();
    fake.databases.get(dbName)!.get('handoff_meta')!.docs.length = 0;
    const second = new MongoHandoffStore({ url: `${baseUrl}/${dbName}`, connectOptions: fast });
    try {
      const { entry: e } = await second.enqueue(entry('c3'), at(2));
      expect(e.rev).toBe(3);
    } finally {
      await second.close();
    }
  });
});

describe('MongoHandoffStore on a standalone server (wire-protocol fake)', () => {
  const fake = new MongoWireFake();
  let baseUrl = '';
  beforeAll(async () => {
    baseUrl = await fake.start();
  });
  afterAll(async () => {
    await fake.stop();
  });

  it('refuses to run without transactions, with a clear error, on every call (not cached)', async () => {
    const store = new MongoHandoffStore({ url: `${baseUrl}/standalone`, connectOptions: fast });
    try {
      await expect(store.open()).rejects.toBeInstanceOf(TransactionsRequiredError);
      await expect(store.getAssignment('c1')).rejects.toThrow(/needs multi-document transactions.*replica set/);
      await expect(store.enqueue(entry('c1'), at(0))).rejects.toMatchObject({ code: 'transactions_required' });
      expect(fake.databases.get('standalone')).toBeUndefined(); // refused before creating anything
    } finally {
      await store.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Unit tests (no server)
// ---------------------------------------------------------------------------------------------

describe('MongoHandoffStore schemas and indexes', () => {
  it('declares the collections and the indexes its queries need', () => {
    expect(agentSchema.get('collection')).toBe('handoff_agents');
    expect(assignmentSchema.get('collection')).toBe('handoff_assignments');
    expect(readMarkSchema.get('collection')).toBe('handoff_reads');
    expect(metaSchema.get('collection')).toBe('handoff_meta');
    expect(agentSchema.indexes()).toEqual([
      [{ email: 1 }, expect.objectContaining({ unique: true, name: 'handoff_agents_by_email' })],
      [{ createdAt: 1, _id: 1 }, expect.objectContaining({ name: 'handoff_agents_by_created' })],
    ]);
    expect(assignmentSchema.indexes()).toEqual([
      [{ rev: 1 }, expect.objectContaining({ unique: true, name: 'handoff_assignments_by_rev' })],
      [{ agentId: 1, status: 1, rev: -1 }, expect.objectContaining({ name: 'handoff_assignments_by_agent' })],
      [{ status: 1, rev: -1 }, expect.objectContaining({ name: 'handoff_assignments_by_status' })],
    ]);
    expect(readMarkSchema.indexes()).toEqual([[{ agentId: 1, conversationId: 1 }, expect.objectContaining({ unique: true, name: 'handoff_reads_by_agent_conversation' })]]);
    expect(metaSchema.indexes()).toEqual([]);
    expect(assignmentSchema.indexes()[1][1].unique).toBeFalsy();
    expect(assignmentSchema.indexes()[2][1].unique).toBeFalsy();
  });

  it('keeps ids as strings, snapshots as JSON text, and no mongoose version key', () => {
    expect(agentSchema.path('_id').instance).toBe('String');
    expect(assignmentSchema.path('_id').instance).toBe('String');
    expect(assignmentSchema.path('customer').instance).toBe('String');
    expect(assignmentSchema.path('lastMessage').instance).toBe('String');
    for (const schema of [agentSchema, assignmentSchema, readMarkSchema, metaSchema]) {
      expect(schema.get('versionKey')).toBe(false);
      expect(schema.get('minimize')).toBe(false);
      expect(schema.get('autoIndex')).toBe(false); // created (and awaited) by the store itself
    }
    expect(new Set(Object.values(HANDOFF_MODEL_NAMES)).size).toBe(4);
  });
});

describe('MongoHandoffStore document ↔ record mapping', () => {
  const agent: AgentRecord = {
    id: 'a1', email: 'ann@x.example', name: 'Ann', role: 'admin', passwordHash: '$2a$10$x', capacity: 3, skills: ['orders', '*'],
    presence: 'online', lastAssignedAt: null, createdAt: at(0), updatedAt: at(1),
  };
  const assignment: Assignment = {
    conversationId: 'c1', botId: 'b', status: 'resolved', queue: 'billing', priority: 2, reason: 'customer_request', waitingSince: at(0), sinceSeq: 7,
    agentId: 'a1', assignedAt: at(1), closedBy: 'handback', closedAt: at(2), customer: { id: 'u', name: 'N \ud800', email: null },
    lastMessage: { seq: 9, from: 'agent', text: 'bye', createdAt: at(2) }, rev: 12, updatedAt: at(2),
  };

  it('maps agents both ways (the id is the _id)', () => {
    const doc = agentRecordToDoc(agent);
    expect(doc).toMatchObject({ _id: 'a1', email: 'ann@x.example', skills: ['orders', '*'] });
    expect('id' in doc).toBe(false);
    expect(agentDocToRecord(doc)).toEqual(agent);
    expect(agentDocToRecord(doc).skills).not.toBe(doc.skills);
    const { lastAssignedAt: _omit, ...old } = doc;
    expect(agentDocToRecord(old as typeof doc).lastAssignedAt).toBeNull();
  });

  it('maps assignments both ways, with the customer and last message as JSON text', () => {
    const doc = assignmentRecordToDoc(assignment);
    expect(doc).toMatchObject({ _id: 'c1', customer: JSON.stringify(assignment.customer), lastMessage: JSON.stringify(assignment.lastMessage) });
    expect(doc.customer).toContain('\\ud800'); // a lone surrogate survives as JSON text
    expect(assignmentDocToRecord(doc)).toEqual(assignment);
    const empty: AssignmentDoc = { ...doc, customer: null, lastMessage: null, agentId: null, assignedAt: null, closedBy: null, closedAt: null };
    expect(assignmentDocToRecord(empty)).toMatchObject({ customer: null, lastMessage: null, agentId: null, closedBy: null });
    expect(Object.keys(assignmentDocToRecord(doc)).sort()).toEqual(Object.keys(assignment).sort());
  });

  it('builds the updateAgent $set from the patch’s known fields only', () => {
    expect(agentPatchUpdate({ presence: 'away', capacity: 4, skills: ['x'] }, at(5))).toEqual({ presence: 'away', capacity: 4, skills: ['x'], updatedAt: at(5) });
    expect(agentPatchUpdate({ name: undefined } as never, at(5))).toEqual({ updatedAt: at(5) });
    expect(agentPatchUpdate({ email: 'evil@x', id: 'other', lastAssignedAt: at(0) } as never, at(5))).toEqual({ updatedAt: at(5) });
    expect([...AGENT_PATCH_FIELDS].sort()).toEqual(['capacity', 'name', 'passwordHash', 'presence', 'role', 'skills']);
  });

  it('builds the listAssignments filter', () => {
    expect(assignmentFilterQuery({})).toEqual({});
    expect(assignmentFilterQuery({ status: ['waiting'], agentId: 'a1', queues: ['q1', 'q2'], limit: 5 })).toEqual({ status: { $in: ['waiting'] }, agentId: 'a1', queue: { $in: ['q1', 'q2'] } });
    expect(assignmentFilterQuery({ status: [] })).toEqual({ status: { $in: [] } });
  });
});

describe('MongoHandoffStore error mapping and configuration', () => {
  const { MongoServerError } = mongoose.mongo;

  it('maps a duplicate key on insert (the e-mail index, or a taken id) to EmailTakenError', () => {
    const byEmail = new MongoServerError({ message: 'E11000 duplicate key error collection: baton.handoff_agents index: handoff_agents_by_email dup key: { email: "a@x" }', code: 11000, keyPattern: { email: 1 } });
    expect(mapAgentInsertError(byEmail, 'a@x')).toBeInstanceOf(EmailTakenError);
    expect(mapAgentInsertError(byEmail, 'a@x')).toMatchObject({ code: 'email_taken' });
    const bulk = { name: 'MongoBulkWriteError', code: 11000, writeErrors: [{ index: 0, code: 11000, errmsg: 'E11000 … index: _id_' }] };
    expect(mapAgentInsertError(bulk, 'a@x')).toBeInstanceOf(EmailTakenError);
    const other = new MongoServerError({ message: 'not primary', code: 10107 });
    expect(mapAgentInsertError(other, 'a@x')).toBe(other);
  });

  it('the transactions-required error says what to do', () => {
    const e = new TransactionsRequiredError();
    expect(e.code).toBe('transactions_required');
    expect(e.message).toMatch(/replica set.*--replSet.*rs\.initiate\(\)/);
  });

  it('validates the URL without echoing a password, and connects lazily', async () => {
    expect(() => new MongoHandoffStore({ url: 'postgres://u:s3cret@db/x' })).toThrow(/^MongoHandoffStore: .*not a MongoDB connection string/);
    expect(() => new MongoHandoffStore({ url: 'postgres://u:s3cret@db/x' })).not.toThrow(/s3cret/);
    expect(() => new MongoHandoffStore({ url: 'mongodb://localhost', dbName: 'a.b' })).toThrow(/invalid database name/);
    expect(() => new MongoHandoffStore(null as unknown as { url: string })).toThrow(TypeError);
    expect(new MongoHandoffStore({ url: 'mongodb://localhost/support' }).dbName).toBe('support');
    const s = new MongoHandoffStore({ url: 'mongodb://127.0.0.1:1/never' });
    await s.close();
    await s.close();
    await expect(s.getAgent('a1')).rejects.toThrow(/closed/);
    await expect(s.claim('c1', 'a1', { capacity: 1, at: at(0) })).rejects.toThrow(/closed/);
  });

  it('reports an unreachable server on each call (not cached)', async () => {
    const s = new MongoHandoffStore({ url: 'mongodb://127.0.0.1:1/unreachable', connectOptions: { serverSelectionTimeoutMS: 150 } });
    try {
      await expect(s.getAgent('a1')).rejects.toThrow(/ECONNREFUSED|Server selection|connect/i);
      await expect(s.enqueue(entry('c1'), at(0))).rejects.toThrow(/ECONNREFUSED|Server selection|connect/i);
    } finally {
      await s.close();
    }
  });

  it('refuses a mongoose connection that was never opened', async () => {
    const s = new MongoHandoffStore(mongoose.createConnection());
    await expect(s.getAgent('a1')).rejects.toThrow(/not open/);
    await s.close();
  });
});

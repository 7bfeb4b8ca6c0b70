/**
 * The HandoffStore contract (store-contract.ts) on every adapter: memory, SQLite and MongoDB.
 *
 * MongoDB against a real server runs when MONGODB_URL is set (it must be a replica set or a
 * sharded cluster: MongoHandoffStore needs transactions), e.g.
 *
 *   MONGODB_URL=mongodb://localhost:27017/baton-test?replicaSet=rs0 npx jest test/handoff/stores.test.ts
 *
 * (each test gets its own database `<name from the URL>-ho-<pid>-<n>`, dropped afterwards);
 * without it that run is reported as skipped (loudly). The same suite also runs on every run
 * through mongoose and the real driver against the in-process wire-protocol fake, and the unit
 * tests need no server: test/handoff/mongo.test.ts.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import mongoose, { type Connection } from 'mongoose';
import { MemoryHandoffStore } from '../../src/handoff/store/memory';
import { MongoHandoffStore } from '../../src/handoff/store/mongo';
import { SqliteHandoffStore } from '../../src/handoff/store/sqlite';
import { MongoStore, redactUrl, resolveMongoTarget } from '../../src/store/mongo';
import { SqliteStore } from '../../src/store/sqlite';
import { handoffStoreContract, at } from './store-contract';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-handoff-store-'));
  dirs.push(d);
  return d;
};
const cleanup = async () => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
};

handoffStoreContract('MemoryHandoffStore', async () => new MemoryHandoffStore());
handoffStoreContract('SqliteHandoffStore (file)', async () => new SqliteHandoffStore({ filename: path.join(tmp(), 'h.sqlite') }), cleanup);

describe('SqliteHandoffStore specifics', () => {
  afterAll(cleanup);

  it('shares the file with the conversation store without touching its schema version', async () => {
    const file = path.join(tmp(), 'shared.sqlite');
    const conv = new SqliteStore({ filename: file });
    const h = new SqliteHandoffStore({ filename: file });
    await conv.create({ id: 'c1', botId: 'b', state: {}, at: at(0) });
    await h.enqueue({ conversationId: 'c1', botId: 'b', queue: 'q', priority: 0, reason: 'r', waitingSince: at(0), sinceSeq: 1, customer: null }, at(0));
    await h.close();
    await conv.close();
    // Reopening both works (migrations are idempotent).
    const conv2 = new SqliteStore({ filename: file });
    const h2 = new SqliteHandoffStore({ filename: file });
    expect(await conv2.load('c1')).not.toBeNull();
    expect((await h2.getAssignment('c1'))!.queue).toBe('q');
    await h2.close();
    await conv2.close();
  });

  it('two processes claiming the same conversations never double-assign', async () => {
    const file = path.join(tmp(), 'race.sqlite');
    const seed = new SqliteHandoffStore({ filename: file });
    const n = 60;
    for (let i = 0; i < n; i++) await seed.enqueue({ conversationId: `c${i}`, botId: 'b', queue: 'q', priority: 0, reason: 'r', waitingSince: at(i), sinceSeq: 1, customer: null }, at(i));
    await seed.close();
    const mod = path.join(__dirname, '..', '..', 'src', 'handoff', 'store', 'sqlite.ts');
    const startAt = Date.now() + 2500;
    const script = (agentId: string) => `
      require('tsx/cjs');
      const { SqliteHandoffStore } = require(${JSON.stringify(mod)});
      (async () => {
        const s = new SqliteHandoffStore({ filename: ${JSON.stringify(file)} });
        // Both processes start claiming at the same moment.
        while (Date.now() < ${startAt}) await new Promise((r) => setTimeout(r, 2));
        const won = [];
        // The two processes walk the list from opposite ends and meet in the middle.
        for (let k = 0; k < ${n}; k++) {
          const i = ${agentId === 'agent-a' ? 'k' : `${n - 1} - k`};
          await new Promise((r) => setTimeout(r, 1));
          try { const r = await s.claim('c' + i, ${JSON.stringify(agentId)}, { capacity: 1000, at: new Date().toISOString() }); if (r.changed) won.push('c' + i); }
          catch (e) { if (e.code !== 'already_assigned') throw e; }
        }
        await s.close();
        process.stdout.write(JSON.stringify(won));
      })().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });`;
    const run = (agentId: string) =>
      new Promise<string[]>((resolve, reject) => {
        const p = spawn(process.execPath, ['-e', script(agentId)], { cwd: path.join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        const timer = setTimeout(() => p.kill('SIGKILL'), 20_000);
        p.on('exit', (code) => {
          clearTimeout(timer);
          if (code === 0) resolve(JSON.parse(out));
          else reject(new Error(`child failed (${code}): ${err}`));
        });
      });
    const [a, b] = await Promise.all([run('agent-a'), run('agent-b')]);
    expect(a.length + b.length).toBe(n);
    // Both really competed (each won some).
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    expect(new Set([...a, ...b]).size).toBe(n);
    const check = new SqliteHandoffStore({ filename: file });
    const all = await check.listAssignments({ limit: 1000 });
    expect(all.every((e) => e.status === 'assigned' && (e.agentId === 'agent-a' ? a : b).includes(e.conversationId))).toBe(true);
    await check.close();
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------
// MongoDB on a real server
// ---------------------------------------------------------------------------------------------

const MONGODB_URL = process.env.MONGODB_URL;

if (!MONGODB_URL) {
  const reason =
    'MongoDB handoff store contract suite skipped: set MONGODB_URL=mongodb://… (a replica set) to run it ' +
    '(e.g. MONGODB_URL=mongodb://localhost:27017/baton-test?replicaSet=rs0 npx jest test/handoff/stores.test.ts)';
  // eslint-disable-next-line no-console
  console.warn(`\n  ⚠  ${reason}\n`);
  describe.skip(reason, () => {
    it('runs the HandoffStore contract suite against a real MongoDB server', () => undefined);
    it('creates the indexes on the server and shares the database with the conversation store', () => undefined);
    it('two stores (like two processes) claiming the same conversations never double-assign nor exceed capacity', () => undefined);
  });
} else {
  const baseName = resolveMongoTarget(MONGODB_URL).dbName.slice(0, 40);
  let base: Connection;
  let counter = 0;
  const open: Connection[] = [];
  const dbNameFor = () => `${baseName}-ho-${process.pid}-${++counter}`;
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
  handoffStoreContract(
    `MongoHandoffStore on ${redactUrl(MONGODB_URL)}`,
    async () => {
      const conn = base.useDb(dbNameFor(), { useCache: false });
      open.push(conn);
      return new MongoHandoffStore(conn);
    },
    dropAll,
  );

  describe('MongoHandoffStore on a real server', () => {
    afterEach(dropAll);
    const entry = (id: string) => ({ conversationId: id, botId: 'b', queue: 'q', priority: 0, reason: 'r', waitingSince: at(0), sinceSeq: 1, customer: null });

    it('creates the indexes and shares the database (and connection) with the conversation store', async () => {
      const dbName = dbNameFor();
      const conn = base.useDb(dbName, { useCache: false });
      open.push(conn);
      const conv = new MongoStore(conn);
      const h = new MongoHandoffStore(conn);
      await conv.create({ id: 'c1', botId: 'b', state: {}, at: at(0) });
      await h.enqueue(entry('c1'), at(0));
      await h.close();
      await conv.close();
      const names = async (coll: string) => (await conn.db!.collection(coll).indexes()).map((i) => i.name).sort();
      expect(await names('handoff_agents')).toEqual(['_id_', 'handoff_agents_by_created', 'handoff_agents_by_email']);
      expect(await names('handoff_assignments')).toEqual(['_id_', 'handoff_assignments_by_agent', 'handoff_assignments_by_rev', 'handoff_assignments_by_status']);
      expect(await names('handoff_reads')).toEqual(['_id_', 'handoff_reads_by_agent_conversation']);
      const h2 = new MongoHandoffStore({ url: MONGODB_URL, dbName });
      try {
        expect((await h2.getAssignment('c1'))!.queue).toBe('q');
        const conv2 = new MongoStore(conn);
        expect((await conv2.load('c1'))!.version).toBe(1);
        await conv2.close();
      } finally {
        await h2.close();
      }
    });

    it('two stores (like two processes) claiming the same conversations never double-assign nor exceed capacity', async () => {
      const dbName = dbNameFor();
      open.push(base.useDb(dbName, { useCache: false }));
      const a = new MongoHandoffStore({ url: MONGODB_URL, dbName });
      const b = new MongoHandoffStore({ url: MONGODB_URL, dbName });
      try {
        await Promise.all([a.open(), b.open()]); // both connected before the race starts
        const n = 40;
        for (let i = 0; i < n; i++) await a.enqueue(entry(`c${i}`), at(i));
        const claimAll = async (s: MongoHandoffStore, agentId: string, reverse: boolean, capacity: number) => {
          const won: string[] = [];
          for (let k = 0; k < n; k++) {
            const id = `c${reverse ? n - 1 - k : k}`;
            try {
              if ((await s.claim(id, agentId, { capacity, at: new Date().toISOString() })).changed) won.push(id);
            } catch (e) {
              if (!['already_assigned', 'over_capacity'].includes((e as { code?: string }).code ?? '')) throw e;
            }
          }
          return won;
        };
        // Two agents race for every conversation, from opposite ends.
        const [x, y] = await Promise.all([claimAll(a, 'agent-x', false, 1000), claimAll(b, 'agent-y', true, 1000)]);
        expect(x.length + y.length).toBe(n);
        expect(new Set([...x, ...y]).size).toBe(n);
        // One agent, capacity 3, claimed from both "processes" at once: never more than 3.
        for (let i = 0; i < n; i++) await a.finish(`c${i}`, { by: 'resolve', at: at(100) });
        for (let i = 0; i < n; i++) await a.enqueue(entry(`c${i}`), at(200 + i));
        const [p, q] = await Promise.all([claimAll(a, 'agent-z', false, 3), claimAll(b, 'agent-z', true, 3)]);
        expect(p.length + q.length).toBe(3);
        expect(await a.loads()).toEqual({ 'agent-z': 3 });
        // Every change got its own rev, and changes() lists them without gaps or repeats.
        const all = await a.changes(0, 10_000);
        expect(new Set(all.map((e) => e.rev)).size).toBe(all.length);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}

/**
 * The handoff store's fast paths: automatic assignment in the enqueue's atomic step
 * (`enqueue(…, { assignTo })`), read marks of one conversation for many agents (`readMarksOf`) —
 * on the memory and SQLite adapters — and the SQLite adapter's in-process cache of agents and
 * loads, which must see every change made by anyone else (another connection or process on the
 * file, plain SQL) and must never let capacity be exceeded.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Database from 'better-sqlite3';
import { MemoryHandoffStore } from '../../src/handoff/store/memory';
import { SqliteHandoffStore } from '../../src/handoff/store/sqlite';
import type { EnqueueInput, HandoffStore } from '../../src/handoff/store/port';
import { at } from './store-contract';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-handoff-fast-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const agent = (id: string, extra: Record<string, unknown> = {}) => ({ id, email: `${id}@x.example`, name: id.toUpperCase(), role: 'agent' as const, passwordHash: '$2a$10$hash', capacity: 2, skills: ['*'], ...extra });
const entry = (id: string, extra: Partial<EnqueueInput> = {}): EnqueueInput => ({ conversationId: id, botId: 'bot', queue: 'general', priority: 0, reason: 'customer_request', waitingSince: at(0), sinceSeq: 3, customer: null, ...extra });

describe.each([
  ['MemoryHandoffStore', async (): Promise<HandoffStore> => new MemoryHandoffStore()],
  ['SqliteHandoffStore', async (): Promise<HandoffStore> => new SqliteHandoffStore({ filename: path.join(tmp(), 'h.sqlite') })],
])('%s: enqueue with assignTo, readMarksOf', (_name, make) => {
  let store: HandoffStore;
  beforeEach(async () => {
    store = await make();
  });
  afterEach(async () => {
    await store.close();
  });

  it('creates the entry already assigned when the agent has room, else waiting', async () => {
    await store.createAgent(agent('a1', { capacity: 1 }), at(0));
    const r1 = await store.enqueue(entry('c1'), at(1), { assignTo: { agentId: 'a1', capacity: 1 } });
    expect(r1).toMatchObject({ created: true, entry: { status: 'assigned', agentId: 'a1', assignedAt: at(1) } });
    expect((await store.getAgent('a1'))!.lastAssignedAt).toBe(at(1));
    expect(await store.loads()).toEqual({ a1: 1 });
    // Full: it waits (and the agent is not touched).
    const r2 = await store.enqueue(entry('c2'), at(2), { assignTo: { agentId: 'a1', capacity: 1 } });
    expect(r2).toMatchObject({ created: true, entry: { status: 'waiting', agentId: null } });
    expect((await store.getAgent('a1'))!.lastAssignedAt).toBe(at(1));
    // An unknown agent: it waits.
    expect((await store.enqueue(entry('c3'), at(3), { assignTo: { agentId: 'ghost', capacity: 5 } })).entry.status).toBe('waiting');
    // An open entry is returned as it is.
    expect(await store.enqueue(entry('c2'), at(4), { assignTo: { agentId: 'a1', capacity: 9 } })).toEqual({ entry: r2.entry, created: false });
    // A resolved entry reopens assigned.
    await store.finish('c1', { by: 'resolve', at: at(5) });
    expect(await store.loads()).toEqual({});
    const r3 = await store.enqueue(entry('c1', { waitingSince: at(6) }), at(6), { assignTo: { agentId: 'a1', capacity: 1 } });
    expect(r3).toMatchObject({ created: true, entry: { status: 'assigned', agentId: 'a1', closedBy: null, waitingSince: at(6) } });
    expect(await store.loads()).toEqual({ a1: 1 });
    expect(r3.entry.rev).toBeGreaterThan(r2.entry.rev);
  });

  it('reads the marks of many agents for one conversation', async () => {
    await store.markRead('a1', 'c1', 5);
    await store.markRead('a2', 'c1', 7);
    await store.markRead('a2', 'c2', 9);
    expect(await store.readMarksOf!('c1', ['a1', 'a2', 'a3'])).toEqual({ a1: 5, a2: 7 });
    expect(await store.readMarksOf!('c2', ['a1'])).toEqual({});
    expect(await store.readMarksOf!('c1', [])).toEqual({});
  });
});

describe('SqliteHandoffStore: the cache of agents and loads', () => {
  const open = (file: string) => new SqliteHandoffStore({ filename: file });
  /** What the database holds, read without any cache. */
  const truth = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      type Row = { id: string; presence: string; capacity: number; skills: string; role: string; name: string; lastAssignedAt: string | null };
      const agents = db.prepare('SELECT id, presence, capacity, skills, role, name, last_assigned_at AS lastAssignedAt FROM handoff_agents ORDER BY created_at, id').all() as Row[];
      const loads = db.prepare("SELECT agent_id AS id, COUNT(*) AS n FROM handoff_assignments WHERE status = 'assigned' GROUP BY agent_id").all() as { id: string; n: number }[];
      return { agents: agents.map((a) => ({ ...a, skills: JSON.parse(a.skills as string) as string[] })), loads: Object.fromEntries(loads.map((r) => [r.id, r.n])) };
    } finally {
      db.close();
    }
  };
  const view = async (s: HandoffStore) => ({
    agents: (await s.listAgents()).map((a) => ({ id: a.id, presence: a.presence, capacity: a.capacity, skills: a.skills, role: a.role, name: a.name, lastAssignedAt: a.lastAssignedAt })),
    loads: await s.loads(),
  });

  it('sees agents created, changed and removed by another connection on the file, and by plain SQL', async () => {
    const file = path.join(tmp(), 'h.sqlite');
    const a = open(file);
    const b = open(file);
    await a.createAgent(agent('a1'), at(0));
    expect((await a.listAgents()).map((x) => x.id)).toEqual(['a1']); // cached now
    await b.createAgent(agent('b1'), at(1));
    expect((await a.listAgents()).map((x) => x.id)).toEqual(['a1', 'b1']);
    expect((await a.getAgent('b1'))!.presence).toBe('offline');
    await b.updateAgent('b1', { presence: 'online' }, at(2));
    expect((await a.getAgent('b1'))!.presence).toBe('online');
    await b.updateAgent('b1', { presence: 'offline' }, at(3));
    expect((await a.listAgents()).find((x) => x.id === 'b1')!.presence).toBe('offline');
    // An older Baton, a script, an admin with the sqlite3 shell: the triggers still count it.
    const raw = new Database(file);
    raw.prepare("UPDATE handoff_agents SET presence = 'away', capacity = 9 WHERE id = 'a1'").run();
    expect(await a.getAgent('a1')).toMatchObject({ presence: 'away', capacity: 9 });
    raw.prepare("DELETE FROM handoff_agents WHERE id = 'b1'").run();
    expect(await a.getAgent('b1')).toBeNull();
    expect((await a.listAgents()).map((x) => x.id)).toEqual(['a1']);
    raw.close();
    expect(await view(a)).toEqual(truth(file));
    await a.close();
    await b.close();
  });

  it("sees loads changed by another connection (claims, transfers, requeues, finishes, plain SQL)", async () => {
    const file = path.join(tmp(), 'h.sqlite');
    const a = open(file);
    const b = open(file);
    await a.createAgent(agent('a1', { capacity: 5 }), at(0));
    await a.createAgent(agent('a2', { capacity: 5 }), at(0));
    for (const id of ['c1', 'c2', 'c3']) await a.enqueue(entry(id), at(1));
    expect(await a.loads()).toEqual({});
    await b.claim('c1', 'a1', { capacity: 5, at: at(2) });
    await b.claim('c2', 'a1', { capacity: 5, at: at(2) });
    expect(await a.loads()).toEqual({ a1: 2 });
    expect((await a.getAgent('a1'))!.lastAssignedAt).toBe(at(2));
    await b.claim('c1', 'a2', { capacity: 5, at: at(3), takeFrom: 'a1' });
    expect(await a.loads()).toEqual({ a1: 1, a2: 1 });
    await b.requeue('c2', { queue: 'x', at: at(4) });
    expect(await a.loads()).toEqual({ a2: 1 });
    await b.finish('c1', { by: 'resolve', at: at(5) });
    expect(await a.loads()).toEqual({});
    const raw = new Database(file);
    raw.prepare("UPDATE handoff_assignments SET status = 'assigned', agent_id = 'a2' WHERE conversation_id = 'c3'").run();
    raw.close();
    expect(await a.loads()).toEqual({ a2: 1 });
    await a.close();
    await b.close();
  });

  it('sees an agent created and one going offline in another process', async () => {
    const file = path.join(tmp(), 'h.sqlite');
    const a = open(file);
    await a.createAgent(agent('a1'), at(0));
    await a.updateAgent('a1', { presence: 'online' }, at(0));
    expect((await a.listAgents()).map((x) => [x.id, x.presence])).toEqual([['a1', 'online']]);
    const mod = path.join(__dirname, '..', '..', 'src', 'handoff', 'store', 'sqlite.ts');
    const script = `
      require('tsx/cjs');
      const { SqliteHandoffStore } = require(${JSON.stringify(mod)});
      (async () => {
        const s = new SqliteHandoffStore({ filename: ${JSON.stringify(file)} });
        await s.updateAgent('a1', { presence: 'offline' }, ${JSON.stringify(at(1))});
        await s.createAgent({ id: 'p2', email: 'p2@x.example', name: 'P2', role: 'agent', passwordHash: 'h', capacity: 3, skills: ['orders'], presence: 'online' }, ${JSON.stringify(at(1))});
        await s.close();
      })().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });`;
    await new Promise<void>((resolve, reject) => {
      const p = spawn(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..', '..'), stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child failed (${code}): ${err}`))));
    });
    expect((await a.listAgents()).map((x) => [x.id, x.presence])).toEqual([
      ['a1', 'offline'],
      ['p2', 'online'],
    ]);
    expect(await a.getAgent('p2')).toMatchObject({ capacity: 3, skills: ['orders'] });
    await a.close();
  }, 30_000);

  it('stays exact through its own writes mixed with another connection’s (compared with the database after every step)', async () => {
    const file = path.join(tmp(), 'h.sqlite');
    const a = open(file);
    const b = open(file);
    const agents = ['a1', 'a2', 'a3'];
    for (const id of agents) await a.createAgent(agent(id, { capacity: 3 }), at(0));
    // A fixed pseudo-random sequence (no Math.random: the test is the same on every run).
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let t = 1;
    for (let step = 0; step < 300; step++) {
      const s = rnd(3) === 0 ? b : a;
      const conv = `c${rnd(12)}`;
      const who = agents[rnd(3)];
      const op = rnd(7);
      try {
        if (op === 0) await s.enqueue(entry(conv), at(t++), rnd(2) ? { assignTo: { agentId: who, capacity: 3 } } : undefined);
        else if (op === 1) await s.claim(conv, who, { capacity: 3, at: at(t++) });
        else if (op === 2) await s.claim(conv, who, { capacity: 3, at: at(t++), takeFrom: agents[rnd(3)] });
        else if (op === 3) await s.requeue(conv, { queue: 'q', at: at(t++) });
        else if (op === 4) await s.finish(conv, { by: 'resolve', at: at(t++) });
        else if (op === 5) await s.updateAgent(who, { presence: (['online', 'away', 'offline'] as const)[rnd(3)], capacity: 2 + rnd(3) }, at(t++));
        else await s.setLastMessage(conv, { seq: t, from: 'customer', text: 'x', createdAt: at(t) }, at(t++));
      } catch (e) {
        if (!(e as { code?: string }).code) throw e; // conflicts (not found, not open, over capacity…) are part of the game
      }
      const expected = truth(file);
      // getAgent first: it must be right from a stale cache (a point read) as well as from a current one.
      for (const x of [a, b]) for (const e of expected.agents) expect(await x.getAgent(e.id)).toMatchObject({ presence: e.presence, capacity: e.capacity, lastAssignedAt: e.lastAssignedAt });
      expect(await view(a)).toEqual(expected);
      expect(await view(b)).toEqual(expected);
    }
    await a.close();
    await b.close();
  });

  it('never lets capacity be exceeded, whatever the caches say', async () => {
    const file = path.join(tmp(), 'h.sqlite');
    const a = open(file);
    const b = open(file);
    await a.createAgent(agent('a1', { capacity: 2 }), at(0));
    for (let i = 0; i < 8; i++) await a.enqueue(entry(`w${i}`), at(1));
    // Both caches say a1 carries nothing.
    expect(await a.loads()).toEqual({});
    expect(await b.loads()).toEqual({});
    const tries = [
      a.enqueue(entry('n1'), at(2), { assignTo: { agentId: 'a1', capacity: 2 } }),
      b.enqueue(entry('n2'), at(2), { assignTo: { agentId: 'a1', capacity: 2 } }),
      a.claim('w0', 'a1', { capacity: 2, at: at(2) }),
      b.claim('w1', 'a1', { capacity: 2, at: at(2) }),
      a.enqueue(entry('n3'), at(2), { assignTo: { agentId: 'a1', capacity: 2 } }),
      b.claim('w2', 'a1', { capacity: 2, at: at(2) }),
    ];
    const results = await Promise.allSettled(tries);
    const won = results.filter((r) => r.status === 'fulfilled' && (('changed' in r.value && r.value.changed) || ('created' in r.value && r.value.entry.status === 'assigned')));
    expect(won).toHaveLength(2);
    expect(truth(file).loads).toEqual({ a1: 2 });
    expect(await a.loads()).toEqual({ a1: 2 });
    expect(await b.loads()).toEqual({ a1: 2 });
    await a.close();
    await b.close();
  });

  it('upgrades a database written by the previous schema (no counter, no triggers)', async () => {
    const file = path.join(tmp(), 'old.sqlite');
    const first = open(file);
    await first.createAgent(agent('a1'), at(0));
    await first.enqueue(entry('c1'), at(0));
    await first.claim('c1', 'a1', { capacity: 2, at: at(1) });
    await first.close();
    // Back to schema 1, as an older Baton left it.
    const raw = new Database(file);
    raw.exec(`
      DROP TRIGGER handoff_agents_routing_ins; DROP TRIGGER handoff_agents_routing_upd; DROP TRIGGER handoff_agents_routing_del;
      DROP TRIGGER handoff_assignments_routing_ins; DROP TRIGGER handoff_assignments_routing_upd; DROP TRIGGER handoff_assignments_routing_del;
      DROP INDEX handoff_reads_by_conversation;
      DELETE FROM handoff_meta WHERE key = 'routing';
      UPDATE handoff_meta SET value = 1 WHERE key = 'schema';
    `);
    raw.close();
    const a = open(file);
    const b = open(file);
    expect(await a.loads()).toEqual({ a1: 1 });
    await b.updateAgent('a1', { presence: 'online' }, at(2));
    await b.finish('c1', { by: 'resolve', at: at(2) });
    expect(await a.getAgent('a1')).toMatchObject({ presence: 'online' });
    expect(await a.loads()).toEqual({});
    await a.close();
    await b.close();
  });
});

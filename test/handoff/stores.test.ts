import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MemoryHandoffStore } from '../../src/handoff/store/memory';
import { SqliteHandoffStore } from '../../src/handoff/store/sqlite';
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

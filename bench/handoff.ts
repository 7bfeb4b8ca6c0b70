/**
 * Handoff benchmark: 50 agents and 1,500 open handed-off conversations (30 per agent) on one
 * server (in this process, SQLite file, real sockets on 127.0.0.1). Prints figures; asserts nothing.
 *
 *   npm run bench:handoff      (BENCH_AGENTS, BENCH_CONVERSATIONS, BENCH_SAMPLES to change)
 *
 * 1. Assignment latency: from sending the message that hands off (the customer picks a team) to
 *    the `queue` frame "assigned" on the chosen agent's stream (automatic assignment).
 * 2. Fan-out, agent → customer: POST an agent message → the `message` frame on the customer's stream.
 * 3. Fan-out, customer → agent: POST a customer message → the `message` frame on the agent's stream.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { setMaxListeners } from 'events';
import WebSocket from 'ws';
import { loadConfig } from '../src/config';
import { startServer } from '../src/http/serve';
import { AgentTokens } from '../src/handoff/auth';
import { silentLogger } from '../src/util/logger';

const ROOT = path.resolve(__dirname, '..');
const AGENTS = Number(process.env.BENCH_AGENTS ?? 50);
const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 1500);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 1000);
const SECRET = 'bench-secret-0123456789abcdef';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const line = (what: string, xs: number[]) => console.log(`  ${what.padEnd(44)} n=${String(xs.length).padStart(5)}  p50 ${pct(xs, 50).toFixed(2)} ms  p90 ${pct(xs, 90).toFixed(2)} ms  p99 ${pct(xs, 99).toFixed(2)} ms  max ${Math.max(...xs).toFixed(2)} ms`);

type Waiter = { pred: (f: any) => boolean; resolve: (t: number) => void };
function socket(url: string) {
  const ws = new WebSocket(url);
  const waiters: Waiter[] = [];
  ws.on('message', (d) => {
    const t = performance.now();
    const f = JSON.parse(d.toString());
    for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i].pred(f)) waiters.splice(i, 1)[0].resolve(t);
  });
  const open = new Promise<void>((r, j) => {
    ws.once('open', () => r());
    ws.once('error', j);
  });
  const drop = (w: Waiter) => {
    const i = waiters.indexOf(w);
    if (i >= 0) waiters.splice(i, 1);
  };
  return {
    ws,
    open,
    /** The arrival time of the next frame matching `pred`. `signal`: stop waiting (the waiter is removed, the promise never settles). */
    next: (pred: (f: any) => boolean, ms = 10_000, signal?: AbortSignal) =>
      new Promise<number>((resolve, reject) => {
        const w: Waiter = { pred, resolve: (t) => (clearTimeout(timer), resolve(t)) };
        const timer = setTimeout(() => (drop(w), reject(new Error('frame timeout'))), ms);
        signal?.addEventListener('abort', () => (clearTimeout(timer), drop(w)), { once: true });
        waiters.push(w);
      }),
  };
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>) {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-bench-handoff-'));
  const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', BATON_DB: path.join(dir, 'baton.sqlite'), BATON_SECRET: SECRET, BATON_BOT: path.join(ROOT, 'bots', 'acme'), LOG_LEVEL: 'silent', BATON_SEED_ADMIN_PASSWORD: 'bench-admin-pw', BATON_SEED_AGENT_PASSWORD: 'bench-agent-pw' });
  // Inside acme's opening hours (Tuesday 11:00 New York), whatever the real date.
  const offset = new Date('2026-03-10T15:00:00.000Z').getTime() - Date.now();
  const clock = () => new Date(Date.now() + offset);
  const srv = await startServer(config, { logger: silentLogger, defaultMetrics: false, clock, print: () => undefined });
  const base = srv.url;
  const wsBase = base.replace(/^http/, 'ws');
  const tokens = new AgentTokens(SECRET, clock);
  const post = async (url: string, body: unknown, token?: string) => {
    const r = await fetch(base + url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    const j = (await r.json()) as any;
    if (!r.ok) throw new Error(`${url} → ${r.status} ${JSON.stringify(j)}`);
    return j;
  };
  try {
    console.log(`\nHandoff benchmark: ${AGENTS} agents, ${CONVERSATIONS} conversations (${Math.round(CONVERSATIONS / AGENTS)} per agent), SQLite, one process\n`);
    const t0 = performance.now();
    const agents: { id: string }[] = [];
    for (let i = 0; i < AGENTS; i++) agents.push(await srv.baton.handoff.createAgent({ email: `agent${i}@bench.example`, name: `Agent ${i}`, password: 'bench-password-1', capacity: Math.ceil(CONVERSATIONS / AGENTS) }));
    // The seeded demo agents stay offline.
    const streams = new Map<string, ReturnType<typeof socket>>();
    for (const a of agents) {
      const s = socket(`${wsBase}/api/v1/agent/stream?token=${tokens.issue(a.id).token}`);
      await s.open;
      streams.set(a.id, s);
      await srv.baton.handoff.setPresence((await srv.baton.handoff.store.getAgent(a.id))!, 'online');
    }
    console.log(`  setup: ${AGENTS} agents online with streams in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // 1. Handoffs and automatic assignment.
    const convs: { id: string; token: string; agentId: string }[] = [];
    const assign: number[] = [];
    const all = [...streams.values()];
    await pool(Array.from({ length: CONVERSATIONS }, (_, i) => i), 16, async () => {
      const c = await post('/api/v1/conversations', {});
      await post(`/api/v1/conversations/${c.conversationId}/messages`, { text: 'talk to a person' }, c.customerToken);
      let agentId = '';
      // Whichever agent's stream gets the frame wins; the other streams stop waiting (a waiter
      // left behind would be checked against every later frame of this process's sockets).
      const stop = new AbortController();
      setMaxListeners(all.length + 1, stop.signal); // one waiter per agent stream, on purpose
      const seen = Promise.race(
        all.map((s, k) =>
          s.next((f) => f.type === 'queue' && f.conversation.id === c.conversationId && f.conversation.status === 'assigned' && f.conversation.assignedTo?.id === agents[k].id, 10_000, stop.signal).then((t) => {
            agentId = agents[k].id;
            return t;
          }),
        ),
      ).finally(() => stop.abort());
      const start = performance.now();
      await post(`/api/v1/conversations/${c.conversationId}/messages`, { text: 'Orders & delivery' }, c.customerToken);
      assign.push((await seen) - start);
      convs.push({ id: c.conversationId, token: c.customerToken, agentId });
    });
    const loads = await srv.baton.handoff.store.loads();
    console.log(`  ${convs.length} conversations handed off and assigned; load per agent min ${Math.min(...Object.values(loads))} max ${Math.max(...Object.values(loads))}`);
    line('assignment latency (handoff → agent frame)', assign);

    // Customer streams for every conversation.
    const customer = new Map<string, ReturnType<typeof socket>>();
    await pool(convs, 32, async (c) => {
      const s = socket(`${wsBase}/api/v1/conversations/${c.id}/stream?token=${encodeURIComponent(c.token)}`);
      await s.open;
      customer.set(c.id, s);
    });
    console.log(`  ${customer.size} customer streams + ${streams.size} agent streams open`);
    const sample = Array.from({ length: SAMPLES }, (_, i) => convs[(i * 7919) % convs.length]);

    // 2. Agent message → customer stream.
    const a2c: number[] = [];
    await pool(sample, 8, async (c) => {
      const text = `agent says ${Math.random()}`;
      const got = customer.get(c.id)!.next((f) => f.type === 'message' && f.message.text === text);
      const start = performance.now();
      await post(`/api/v1/agent/conversations/${c.id}/messages`, { text }, tokens.issue(c.agentId).token);
      a2c.push((await got) - start);
    });
    line('agent message → customer stream', a2c);

    // 3. Customer message → agent stream.
    const c2a: number[] = [];
    await pool(sample, 8, async (c) => {
      const text = `customer says ${Math.random()}`;
      const got = streams.get(c.agentId)!.next((f) => f.type === 'message' && f.conversationId === c.id && f.message.text === text);
      const start = performance.now();
      await post(`/api/v1/conversations/${c.id}/messages`, { text }, c.token);
      c2a.push((await got) - start);
    });
    line('customer message → agent stream', c2a);
    console.log('\n  (latency includes the HTTP request; target < 50 ms p99)\n');
    for (const s of [...streams.values(), ...customer.values()]) s.ws.terminate();
  } finally {
    await srv.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);

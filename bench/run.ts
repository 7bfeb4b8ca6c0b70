/**
 * Baton benchmarks. Prints figures; never asserts timings.
 *
 *   npm run bench            (bots/acme by default; BENCH_BOT=bots/<id> to change)
 *
 * 1. NLU training time for the bot (fresh, no cache), median of 3.
 * 2. Startup time with a cached model, in a fresh Node process (compiled code).
 * 3. In-process turn latency over 10,000 turns with SQLite persistence, next to the
 *    same workload on the in-memory store as a baseline measured in the same run.
 *
 * Through the HTTP server (throughput, latency under offered load, memory): `npm run bench:http`
 * (bench/http.ts; method and figures in docs/performance.md).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { loadBotOrThrow } from '../src/flow/loader';
import { trainBot, createBaton } from '../src/main';
import { silentLogger } from '../src/util/logger';

const ROOT = path.resolve(__dirname, '..');
const BOT = path.resolve(ROOT, process.env.BENCH_BOT ?? 'bots/acme');
const TURNS = Number(process.env.BENCH_TURNS ?? 10000);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x: number) => `${x.toFixed(3)} ms`;

async function benchTraining(tmp: string) {
  const { bot } = loadBotOrThrow(BOT);
  const times: number[] = [];
  let examples = 0;
  for (let i = 0; i < 3; i++) {
    const dir = path.join(tmp, `train-${i}`);
    const t0 = process.hrtime.bigint();
    const r = await trainBot(bot, { cacheDir: dir });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.fromCache) throw new Error('expected a fresh training run');
  }
  for (const f of Object.values(bot.flows)) examples += f.examples.length;
  for (const a of Object.values(bot.articles)) examples += a.questions.length;
  console.log(`NLU training (${bot.id}: ${Object.keys(bot.intents).length} intents, ${examples} authored examples + built-ins)`);
  console.log(`  median ${ms(pct(times, 50))}   runs: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
}

function benchStartup(tmp: string) {
  const dist = path.join(ROOT, 'dist', 'main.js');
  if (!fs.existsSync(dist)) {
    console.log('startup: skipped (run `npm run build` first)');
    return;
  }
  const cache = path.join(tmp, 'startup-cache');
  const script = `
    const t0 = process.hrtime.bigint();
    const { createBaton } = require(${JSON.stringify(dist)});
    const { silentLogger } = require(${JSON.stringify(path.join(ROOT, 'dist', 'util', 'logger.js'))});
    createBaton({ botDir: ${JSON.stringify(BOT)}, cacheDir: ${JSON.stringify(cache)}, store: { sqlite: ${JSON.stringify(path.join(tmp, 'startup.sqlite'))} }, logger: silentLogger })
      .then(async (b) => { const ms = Number(process.hrtime.bigint() - t0) / 1e6; console.log(JSON.stringify({ ms, fromCache: b.model.fromCache, rss: process.memoryUsage().rss })); await b.close(); });
  `;
  const runs: { ms: number; fromCache: boolean; rss: number; wall: number }[] = [];
  for (let i = 0; i < 6; i++) {
    const w0 = Date.now();
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    runs.push({ ...JSON.parse(r.stdout.trim().split('\n').pop()!), wall: Date.now() - w0 });
  }
  const cold = runs[0];
  const warm = runs.slice(1).filter((r) => r.fromCache);
  console.log('Startup in a fresh process (load bot + actions + model, open SQLite)');
  console.log(`  first run, no cache (trains): ${ms(cold.ms)}`);
  console.log(`  with cached model: median ${ms(pct(warm.map((r) => r.ms), 50))} (process wall time incl. Node boot: median ${pct(warm.map((r) => r.wall), 50)} ms), RSS ${(pct(warm.map((r) => r.rss), 50) / 2 ** 20).toFixed(0)} MiB`);
}

/** A realistic mix: tracking with a lookup action, a digression, knowledge answers, small talk, a misunderstanding. */
const SCRIPT = [
  'hi',
  'where is my order',
  'how much does shipping cost',
  'AB-123456',
  'thanks',
  'what is your return policy',
  'yes',
  'track order AB-123456',
  'blah blah qwerty',
  'what payment methods do you accept',
  'no',
  'bye',
];

async function benchTurns(tmp: string, kind: 'sqlite' | 'memory') {
  const b = await createBaton({
    botDir: BOT,
    cacheDir: path.join(tmp, 'turn-cache'),
    store: kind === 'sqlite' ? { sqlite: path.join(tmp, 'turns.sqlite') } : 'memory',
    logger: silentLogger,
  });
  const lat: number[] = [];
  let conv = '';
  const warmup = 300;
  const t0 = Date.now();
  for (let i = 0; i < TURNS + warmup; i++) {
    const k = i % SCRIPT.length;
    if (k === 0) conv = (await b.service.create({ channel: 'bench' })).conversationId;
    const s = process.hrtime.bigint();
    await b.service.send(conv, { text: SCRIPT[k], clientMessageId: `c${i}` });
    if (i >= warmup) lat.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  const wall = Date.now() - t0;
  await b.close();
  return { p50: pct(lat, 50), p90: pct(lat, 90), p99: pct(lat, 99), max: Math.max(...lat), perSec: ((TURNS + warmup) / wall) * 1000 };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-bench-'));
  console.log(`Baton benchmarks — ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}\n`);
  try {
    await benchTraining(tmp);
    console.log('');
    benchStartup(tmp);
    console.log('');
    const mem = await benchTurns(tmp, 'memory');
    const sql = await benchTurns(tmp, 'sqlite');
    console.log(`Turn latency, in process, ${TURNS} turns (NLU + interpreter + actions + commit; script of ${SCRIPT.length} messages per conversation)`);
    console.log('  store     p50        p90        p99        max         turns/s');
    for (const [name, r] of [['memory', mem], ['sqlite', sql]] as const)
      console.log(`  ${name.padEnd(8)}  ${ms(r.p50).padEnd(9)}  ${ms(r.p90).padEnd(9)}  ${ms(r.p99).padEnd(9)}  ${ms(r.max).padEnd(10)}  ${r.perSec.toFixed(0)}`);
    console.log(`  SQLite persistence adds ${(sql.p50 - mem.p50).toFixed(3)} ms at p50 and ${(sql.p99 - mem.p99).toFixed(3)} ms at p99 (target: p99 < 5 ms with SQLite)`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});

/**
 * HTTP benchmark of the messaging server. Prints figures; never asserts.
 *
 *   npm run bench:http          (about 2 minutes; method and reference figures: docs/performance.md)
 *
 * Three processes per measurement, all on 127.0.0.1: this orchestrator, the server under test
 * (bench/http-server.ts: `startServer()` as `baton serve` runs it, or a bare express endpoint) and
 * the load generator (bench/http-load.ts: Node's http client, keep-alive). Every measurement runs
 * twice (the machine may be shared: both figures are printed), each time on a fresh server.
 *
 * 1. Saturation: closed loop, 64 customers each sending back to back to its own conversation
 *    (POST /api/v1/conversations/{id}/messages, bots/acme, SQLite file in a temp dir, the mix in
 *    http-common.ts, a clientMessageId on each) — turns/s and latency, next to a bare express JSON
 *    endpoint measured the same way, and the ratio. Then the same against `baton serve --workers N`
 *    (the real CLI in a child process: a node:cluster primary and N workers, as deployed) and
 *    against bare express in N cluster workers, with both ratios.
 * 2. Steady offered load: open loop, 500 turns/s over 2,000 conversations for 18 s (after 2 s of
 *    warm-up), latency from each message's scheduled send time (no coordinated omission); the bare
 *    endpoint under the same schedule as the floor.
 * 3. 100,000 stored conversations: a SQLite file filled in a prep step; startup time on it, RSS idle,
 *    then after a short load touching 3,000 of them (2 messages each), next to the empty database.
 *
 * Knobs (environment):
 *   BENCH_BOT                  bots/acme
 *   BENCH_HTTP_RUNS            2
 *   BENCH_HTTP_SAT_MS          7000   saturation window (after 2 s of warm-up)
 *   BENCH_HTTP_STEADY_MS       18000  steady-load window for Baton (after 2 s of warm-up)
 *   BENCH_HTTP_BARE_STEADY_MS  8000   steady-load window for bare express
 *   BENCH_HTTP_CONVERSATIONS   100000 stored conversations for measurement 3
 *   BENCH_HTTP_ONLY            sat,steady,rss (any subset)
 *   BENCH_LOG_LEVEL            info   the server's access log goes to a file, as it would to a log collector
 *   BENCH_HTTP_PROFILE         1 or a directory: `--cpu-prof` the Baton server of the first saturation run
 *                              (or steady-load run, if saturation is not selected) and print its hot spots
 *                              during the measurement window (profiles are kept in <dir>/sat, <dir>/steady)
 *   BENCH_HTTP_WORKERS         2; N > 1 repeats the saturation run against `baton serve --workers N` and
 *                              bare express in N node:cluster workers (1: skip)
 *   BENCH_SERVER_PRELOAD       a module the server process loads first, e.g. to try a variant under the
 *                              same load (bench/http-store-per-commit.ts: one transaction per commit)
 *   BENCH_HTTP_JSON            a file to write the raw results to
 */
import { fork, spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Job, JobResult, ServerMessage, Target } from './http-common';
import { populate, type Populated } from './http-prep';
import { summarizeProfile } from './http-profile';
import { createBaton } from '../src/main';
import { silentLogger } from '../src/util/logger';

const ROOT = path.resolve(__dirname, '..');
const BOT = path.resolve(ROOT, process.env.BENCH_BOT ?? 'bots/acme');
const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const RUNS = env('BENCH_HTTP_RUNS', 2);
const SAT_MS = env('BENCH_HTTP_SAT_MS', 7000);
const STEADY_MS = env('BENCH_HTTP_STEADY_MS', 18000);
const BARE_STEADY_MS = env('BENCH_HTTP_BARE_STEADY_MS', 8000);
const N_CONV = env('BENCH_HTTP_CONVERSATIONS', 100_000);
const WORKERS = env('BENCH_HTTP_WORKERS', 2);
const ONLY = new Set((process.env.BENCH_HTTP_ONLY ?? 'sat,steady,rss').split(','));
const PROFILE = process.env.BENCH_HTTP_PROFILE;
const SECRET = 'bench-secret-0123456789abcdef0123456789';
const WARMUP_MS = 2000;
const SAT_CUSTOMERS = 64;
const STEADY_RATE = 500;
const STEADY_CONVERSATIONS = 2000;
const TOUCH = 3000;
const TICK_HZ = 100; // USER_HZ: the unit of utime/stime in /proc/<pid>/stat on Linux

const MiB = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU time (user + system) of a process so far, in ms; NaN off Linux. */
function cpuMs(pid: number | undefined): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICK_HZ;
  } catch {
    return NaN;
  }
}

function nextMessage<T extends { type: string }>(child: ChildProcess, type: T['type'], timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${what}: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: { type?: string; message?: string }) => {
      if (m?.type === type) done(null, m as T);
      else if (m?.type === 'error') done(new Error(`${what}: ${m.message}`));
    };
    const onExit = (code: number | null) => done(new Error(`${what}: process exited (${code}) before "${type}"`));
    function done(err: Error | null, v?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(v!);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

const children = new Set<ChildProcess>();

interface Server {
  child: ChildProcess;
  port: number;
  /** fork → serving (Node boot, module loading, bot + model + database, listen). */
  spawnToReadyMs: number;
  ready: Extract<ServerMessage, { type: 'ready' }>;
  mem(): Promise<Mem>;
  stop(): Promise<void>;
  /** `baton serve` exit code (CLI servers). */
  exitCode?: number | null;
}

/** VmRSS and VmHWM of a process, in bytes (NaN off Linux). */
function procMem(pid: number): { rss: number; hwm: number } {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

/**
 * `baton serve <bot> --workers N` as deployed: the CLI (TypeScript sources through tsx, like the
 * other servers here) in a child process without IPC, configured through the environment; ready
 * when it prints its start-up summary (which names the workers' pids); stopped with SIGTERM.
 */
async function startCli(opts: { db: string; cacheDir: string; log: string; workers: number }): Promise<Server & { workerPids: number[]; primaryPid: number }> {
  const logFd = fs.openSync(opts.log, 'a');
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'src', 'cli', 'main.ts'), 'serve', BOT, '--workers', String(opts.workers)], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', BATON_DB: opts.db, BATON_SECRET: SECRET, BATON_CACHE_DIR: opts.cacheDir, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' },
    stdio: ['ignore', 'pipe', logFd],
  });
  fs.closeSync(logFd);
  children.add(child);
  child.on('exit', () => children.delete(child));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`baton serve --workers ${opts.workers}: not serving within 180 s`)), 180_000);
    const check = () => {
      const r = /is live at http:\/\/127\.0\.0\.1:(\d+)\/[\s\S]*pids ([\d, ]+); primary (\d+)/.exec(out);
      if (r) done(null, r);
    };
    const onExit = (code: number | null) => done(new Error(`baton serve --workers ${opts.workers} exited (${code}) before serving; see ${opts.log}`));
    function done(err: Error | null, r?: RegExpExecArray) {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(r!);
    }
    child.stdout!.on('data', check);
    child.on('exit', onExit);
  });
  const spawnToReadyMs = performance.now() - t0;
  const workerPids = m[2].split(',').map((x) => Number(x.trim()));
  const primaryPid = Number(m[3]);
  const pids = [primaryPid, ...workerPids];
  const sum = (f: (x: { rss: number; hwm: number }) => number) => pids.reduce((a, p) => a + f(procMem(p)), 0);
  const srv: Server & { workerPids: number[]; primaryPid: number } = {
    child,
    port: Number(m[1]),
    spawnToReadyMs,
    workerPids,
    primaryPid,
    ready: { type: 'ready', port: Number(m[1]), startServerMs: NaN, sinceProcessStartMs: spawnToReadyMs, rss: sum((x) => x.rss), heapUsed: NaN, pids },
    mem: async () => ({ type: 'mem', rss: sum((x) => x.rss), heapUsed: NaN, heapAfterGc: NaN, external: NaN, hwm: sum((x) => x.hwm) }),
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      srv.exitCode = await Promise.race([exited, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 40_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
  return srv;
}

async function startServer(mode: 'baton' | 'bare', opts: { db?: string; cacheDir: string; log: string; cpuProfDir?: string; workers?: number }): Promise<Server> {
  const logFd = fs.openSync(opts.log, 'a');
  const t0 = performance.now();
  const child = fork(path.join(__dirname, 'http-server.ts'), [mode], {
    cwd: ROOT,
    execArgv: ['--require', 'tsx/cjs', '--expose-gc', ...(opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [])],
    env: { ...process.env, BENCH_DB: opts.db ?? '', BENCH_CACHE_DIR: opts.cacheDir, BENCH_SECRET: SECRET, BENCH_BOT: BOT, BENCH_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', BENCH_WORKERS: String(opts.workers ?? 1) },
    stdio: ['ignore', logFd, logFd, 'ipc'],
  });
  fs.closeSync(logFd);
  children.add(child);
  child.on('exit', () => children.delete(child));
  const ready = await nextMessage<Extract<ServerMessage, { type: 'ready' }>>(child, 'ready', 180_000, `${mode} server`);
  return {
    child,
    port: ready.port,
    spawnToReadyMs: performance.now() - t0,
    ready,
    mem: () => {
      const p = nextMessage<Mem>(child, 'mem', 10_000, `${mode} server`);
      child.send({ type: 'mem' });
      return p;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.send({ type: 'stop' });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 30_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

type Mem = Extract<ServerMessage, { type: 'mem' }>;

interface Measured extends JobResult {
  /** CPU use during the measurement window, in cores (1 = one core fully busy). */
  serverCores: number;
  /** The same per server process (`ready.pids` order: for a cluster, the primary first). */
  processCores: number[];
  generatorCores: number;
  /** Server CPU per completed request, ms. */
  serverCpuPerReqMs: number;
  /** The measurement window on the server's monotonic clock (µs), to cut its CPU profile. */
  serverClock: { fromUs: number; toUs: number };
}

function startGenerator(): ChildProcess {
  const child = fork(path.join(__dirname, 'http-load.ts'), [], { cwd: ROOT, execArgv: ['--require', 'tsx/cjs'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

async function runJob(gen: ChildProcess, server: Server, job: Job): Promise<Measured> {
  const result = nextMessage<{ type: 'result'; result: JobResult }>(gen, 'result', 600_000, `load generator (${job.label})`);
  gen.send({ type: 'job', job });
  // CPU over the measurement window (timed from here: the generator starts the job at once).
  let c0 = { s: NaN, g: NaN, t: NaN, each: [] as number[] };
  let c1 = { s: NaN, g: NaN, t: NaN, each: [] as number[] };
  const sample = () => {
    const each = server.ready.pids.map((pid) => cpuMs(pid));
    return { s: each.reduce((a, x) => a + x, 0), g: cpuMs(gen.pid), t: performance.now(), each };
  };
  const timers = [
    setTimeout(() => {
      c0 = sample();
      void clockOf(server).then((us) => (clock.fromUs = us), () => undefined);
    }, job.warmupMs),
    setTimeout(() => {
      c1 = sample();
      void clockOf(server).then((us) => (clock.toUs = us), () => undefined);
    }, job.warmupMs + job.durationMs),
  ];
  const clock = { fromUs: NaN, toUs: NaN };
  const r = (await result).result;
  timers.forEach(clearTimeout);
  if (!Number.isFinite(c1.t)) c1 = sample();
  const dt = c1.t - c0.t;
  const serverCores = (c1.s - c0.s) / dt;
  const generatorCores = (c1.g - c0.g) / dt;
  const processCores = c1.each.map((x, i) => (x - c0.each[i]) / dt);
  return { ...r, serverCores, processCores, generatorCores, serverCpuPerReqMs: (serverCores * 1000) / r.perSec, serverClock: clock };
}

/** Hot spots of the profiled server's main thread during the measurement window. */
function printProfile(dir: string, m: Measured) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const main = files.sort((a, b) => fs.statSync(path.join(dir, b)).size - fs.statSync(path.join(dir, a)).size)[0]; // the largest: the main thread
  if (main) console.log(summarizeProfile(path.join(dir, main), 30, m.serverClock).replace(/^/gm, '    '));
}

/** The server's monotonic clock in µs (the time base of its CPU profile). */
async function clockOf(server: Server): Promise<number> {
  if (!server.child.send) return NaN; // a CLI server: no IPC
  const p = nextMessage<Extract<ServerMessage, { type: 'clock' }>>(server.child, 'clock', 10_000, 'server clock');
  server.child.send({ type: 'clock' });
  return (await p).us;
}

function line(name: string, r: Measured): string {
  const l = r.latency;
  return (
    `    ${name.padEnd(14)} ${int(r.perSec).padStart(6)} turns/s   p50 ${f2(l.p50).padStart(6)} ms   p99 ${f2(l.p99).padStart(6)} ms   max ${f1(l.max).padStart(6)} ms` +
    `   errors ${r.errors}   server ${f2(r.serverCores)} cores${r.processCores.length > 1 ? ` [${r.processCores.map(f2).join(' + ')}]` : ''} (${f2(r.serverCpuPerReqMs)} ms CPU/turn), generator ${f2(r.generatorCores)} cores`
  );
}

/** Saturation against `baton serve --workers N` and bare express in N cluster workers. */
interface WorkersReport {
  n: number;
  baton: Measured;
  bareCluster: Measured;
  /** baton ×N / bare express in one process (the target's comparison) and / bare express ×N. */
  ratioToBare: number;
  ratioToBareCluster: number;
  startupMs: number;
  /** RSS per process (MiB figures in bytes): the primary, then each worker, idle and after the run. */
  rssIdle: { primary: number; workers: number[] };
  rssAfter: { primary: number; workers: number[] };
  exitCode: number | null | undefined;
  outcomes: unknown;
}

interface RunReport {
  run: number;
  loadavg: string;
  sat?: { bare: Measured; baton: Measured; ratio: number; memEmpty: Mem; memAfter: Mem; startup: { spawnToReadyMs: number; startServerMs: number }; workers?: WorkersReport };
  steady?: { baton: Measured; bare: Measured; rssAfter: number };
  rss?: { spawnToReadyMs: number; startServerMs: number; idle: Mem; load: Measured; after: Mem };
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-http-bench-'));
  // The first Baton server of run 1 (saturation, or steady load when saturation is not selected) is profiled.
  const profileDir = (run: number, what: 'sat' | 'steady') =>
    PROFILE && run === 1 && (what === 'sat' || !ONLY.has('sat')) ? (PROFILE === '1' ? path.join(tmp, `cpuprof-${what}`) : path.resolve(PROFILE, what)) : undefined;
  const cacheDir = path.join(tmp, 'model-cache');
  const started = Date.now();
  console.log(`Baton HTTP benchmark — nproc ${os.availableParallelism?.() ?? os.cpus().length}, ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${MiB(os.totalmem())} RAM`);
  console.log(`load average at start: ${loadavg()} (1, 5, 15 min) — the machine may be shared; every measurement runs ${RUNS}×`);
  console.log(`bot ${path.relative(ROOT, BOT)}, SQLite in ${tmp}, server log level ${process.env.BENCH_LOG_LEVEL ?? 'info'} (access log to a file)\n`);
  const reports: RunReport[] = [];
  const gen = startGenerator();
  try {
    // Prep (not measured): the model is trained once into the temp cache, and the big database is written.
    const m0 = performance.now();
    const trained = await createBaton({ botDir: BOT, store: 'memory', cacheDir, logger: silentLogger });
    await trained.close();
    console.log(`prep: intent model trained into the temp cache in ${f1((performance.now() - m0) / 1000)} s (every server start below loads it from there)`);
    let big: Populated | undefined;
    const bigFile = path.join(tmp, 'big.sqlite');
    if (ONLY.has('rss')) {
      big = await populate({ file: bigFile, n: N_CONV, botDir: BOT, cacheDir, secret: SECRET, sample: TOUCH * RUNS });
      console.log(`prep: ${int(big.conversations)} conversations, ${int(big.events)} events, ${MiB(big.fileBytes)} SQLite file, written in ${f1(big.ms / 1000)} s`);
    }
    console.log('');
    for (let run = 1; run <= RUNS; run++) {
      const rep: RunReport = { run, loadavg: loadavg() };
      reports.push(rep);
      console.log(`Run ${run}/${RUNS} — load average ${rep.loadavg}`);
      const dir = path.join(tmp, `run${run}`);
      fs.mkdirSync(dir);

      if (ONLY.has('sat')) {
        console.log(`  1. Saturation: closed loop, ${SAT_CUSTOMERS} customers back to back, ${WARMUP_MS / 1000} s warm-up + ${SAT_MS / 1000} s`);
        const bareSrv = await startServer('bare', { cacheDir, log: path.join(dir, 'bare.log') });
        const fake = Array.from({ length: SAT_CUSTOMERS }, (_, i) => ({ id: `bare-${i}`, token: 'x'.repeat(43) }));
        const bare = await runJob(gen, bareSrv, { kind: 'closed', label: 'sat bare', port: bareSrv.port, connections: SAT_CUSTOMERS, targets: fake, perTarget: 1e9, warmupMs: WARMUP_MS, durationMs: SAT_MS, tag: `r${run}` });
        await bareSrv.stop();
        console.log(line('bare express', bare));
        const profDir = profileDir(run, 'sat');
        const srv = await startServer('baton', { db: path.join(dir, 'sat.sqlite'), cacheDir, log: path.join(dir, 'sat-baton.log'), cpuProfDir: profDir });
        const memEmpty = await srv.mem();
        // The 64 conversations are created first (POST /api/v1/conversations; not measured).
        const targets = await targetsOf(gen, srv, SAT_CUSTOMERS);
        const baton = await runJob(gen, srv, { kind: 'closed', label: 'sat baton', port: srv.port, connections: SAT_CUSTOMERS, targets, perTarget: 1e9, warmupMs: WARMUP_MS, durationMs: SAT_MS, tag: `r${run}` });
        const memAfter = await srv.mem();
        await srv.stop();
        const ratio = baton.perSec / bare.perSec;
        console.log(line('baton sqlite', baton));
        console.log(`    ratio ${(100 * ratio).toFixed(0)}% of bare express (targets: ≥ 2,000 turns/s and ≥ 40%); replies per sampled response ${f2(baton.sampledReplies!.messages / Math.max(1, baton.sampledReplies!.responses))}, outcomes ${JSON.stringify(baton.outcomes)}`);
        rep.sat = { bare, baton, ratio, memEmpty, memAfter, startup: { spawnToReadyMs: srv.spawnToReadyMs, startServerMs: srv.ready.startServerMs } };
        if (WORKERS > 1) {
          // The same load against `baton serve --workers N` (a real deployment: CLI child process,
          // cluster primary + N workers on one SQLite file) and bare express in N cluster workers.
          const bareMulti = await startServer('bare', { cacheDir, log: path.join(dir, 'bare-cluster.log'), workers: WORKERS });
          const bareCluster = await runJob(gen, bareMulti, { kind: 'closed', label: 'sat bare cluster', port: bareMulti.port, connections: SAT_CUSTOMERS, targets: fake, perTarget: 1e9, warmupMs: WARMUP_MS, durationMs: SAT_MS, tag: `r${run}` });
          await bareMulti.stop();
          console.log(line(`bare ×${WORKERS} wkrs`, bareCluster));
          const cli = await startCli({ db: path.join(dir, 'sat-workers.sqlite'), cacheDir, log: path.join(dir, 'sat-workers.log'), workers: WORKERS });
          const rssOf = () => ({ primary: procMem(cli.primaryPid).rss, workers: cli.workerPids.map((p) => procMem(p).rss) });
          const rssIdle = rssOf();
          const wTargets = await targetsOf(gen, cli, SAT_CUSTOMERS);
          const w = await runJob(gen, cli, { kind: 'closed', label: 'sat baton workers', port: cli.port, connections: SAT_CUSTOMERS, targets: wTargets, perTarget: 1e9, warmupMs: WARMUP_MS, durationMs: SAT_MS, tag: `r${run}` });
          const rssAfter = rssOf();
          await cli.stop();
          const workers: WorkersReport = {
            n: WORKERS,
            baton: w,
            bareCluster,
            ratioToBare: w.perSec / bare.perSec,
            ratioToBareCluster: w.perSec / bareCluster.perSec,
            startupMs: cli.spawnToReadyMs,
            rssIdle,
            rssAfter,
            exitCode: cli.exitCode,
            outcomes: w.outcomes,
          };
          rep.sat.workers = workers;
          const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
          console.log(line(`baton --workers ${WORKERS}`, w));
          console.log(
            `    baton serve --workers ${WORKERS}: ${pct(workers.ratioToBare)} of bare express in one process (the target's comparison), ${pct(workers.ratioToBareCluster)} of bare express in ${WORKERS} cluster workers; ${f2(w.perSec / baton.perSec)}× one Baton process; outcomes ${JSON.stringify(w.outcomes)}`,
          );
          const mibs = (r: { primary: number; workers: number[] }) => `primary ${MiB(r.primary)}, workers ${r.workers.map(MiB).join(' + ')}`;
          console.log(`    RSS idle: ${mibs(rssIdle)}; after the run: ${mibs(rssAfter)}; start-up ${int(cli.spawnToReadyMs)} ms (spawn → every worker serving); exit code after SIGTERM ${cli.exitCode}`);
        }
        if (profDir) printProfile(profDir, baton);
      }

      if (ONLY.has('steady')) {
        console.log(`  2. Steady offered load: open loop, ${STEADY_RATE} turns/s over ${int(STEADY_CONVERSATIONS)} conversations, ${WARMUP_MS / 1000} s warm-up + ${STEADY_MS / 1000} s; latency from the scheduled send time`);
        const profDir = profileDir(run, 'steady');
        const srv = await startServer('baton', { db: path.join(dir, 'steady.sqlite'), cacheDir, log: path.join(dir, 'steady-baton.log'), cpuProfDir: profDir });
        const targets = await targetsOf(gen, srv, STEADY_CONVERSATIONS);
        const baton = await runJob(gen, srv, { kind: 'open', label: 'steady baton', port: srv.port, rate: STEADY_RATE, targets, warmupMs: WARMUP_MS, durationMs: STEADY_MS, maxSockets: 256, tag: `r${run}` });
        const rssAfter = (await srv.mem()).rss;
        await srv.stop();
        const bareSrv = await startServer('bare', { cacheDir, log: path.join(dir, 'bare.log') });
        const fake = Array.from({ length: STEADY_CONVERSATIONS }, (_, i) => ({ id: `bare-${i}`, token: 'x'.repeat(43) }));
        const bare = await runJob(gen, bareSrv, { kind: 'open', label: 'steady bare', port: bareSrv.port, rate: STEADY_RATE, targets: fake, warmupMs: WARMUP_MS, durationMs: BARE_STEADY_MS, maxSockets: 256, tag: `r${run}` });
        await bareSrv.stop();
        const s = (r: Measured) =>
          `p50 ${f2(r.latency.p50)} ms   p99 ${f2(r.latency.p99)} ms   p99.9 ${f2(r.latency.p999)} ms   max ${f1(r.latency.max)} ms   (${int(r.ok)} turns, ${int(r.perSec)}/s, errors ${r.errors}, late sends ${r.lateSends}, server ${f2(r.serverCores)} cores)`;
        console.log(`    baton sqlite   ${s(baton)}   target p99 < 50 ms`);
        console.log(`    bare express   ${s(bare)}   (${BARE_STEADY_MS / 1000} s)`);
        rep.steady = { baton, bare, rssAfter };
        if (profDir) printProfile(profDir, baton);
      }

      if (ONLY.has('rss') && big) {
        console.log(`  3. ${int(big.conversations)} stored conversations: startup, then ${int(TOUCH)} of them get 2 messages each (closed loop, 32 customers)`);
        const srv = await startServer('baton', { db: bigFile, cacheDir, log: path.join(dir, 'big-baton.log') });
        await sleep(500);
        const idle = await srv.mem();
        const touch = big.sample.slice((run - 1) * TOUCH, run * TOUCH);
        const load = await runJob(gen, srv, { kind: 'closed', label: 'rss load', port: srv.port, connections: 32, targets: touch, perTarget: 2, scriptOffset: 1, warmupMs: 0, durationMs: 20_000, tag: `r${run}` });
        const after = await srv.mem();
        await srv.stop();
        console.log(
          `    startup ${int(srv.spawnToReadyMs)} ms from fork to serving (startServer() itself ${int(srv.ready.startServerMs)} ms); RSS idle ${MiB(idle.rss)} (JS heap ${MiB(idle.heapUsed)}, ${MiB(idle.heapAfterGc)} after a full GC)`,
        );
        console.log(
          `    after ${int(load.ok)} turns on ${int(touch.length)} conversations (${int(load.perSec)} turns/s, p99 ${f2(load.latency.p99)} ms, errors ${load.errors}): RSS ${MiB(after.rss)} (JS heap ${MiB(after.heapUsed)}, ${MiB(after.heapAfterGc)} after a full GC), peak RSS ${MiB(after.hwm)}`,
        );
        if (rep.sat)
          console.log(
            `    same server on an empty database: startup ${int(rep.sat.startup.spawnToReadyMs)} ms (startServer() ${int(rep.sat.startup.startServerMs)} ms), RSS idle ${MiB(rep.sat.memEmpty.rss)} (heap after GC ${MiB(rep.sat.memEmpty.heapAfterGc)}), after the saturation run ${MiB(rep.sat.memAfter.rss)} (heap after GC ${MiB(rep.sat.memAfter.heapAfterGc)})`,
          );
        rep.rss = { spawnToReadyMs: srv.spawnToReadyMs, startServerMs: srv.ready.startServerMs, idle, load, after };
      }
      console.log('');
    }
    summary(reports);
    if (process.env.BENCH_HTTP_JSON) fs.writeFileSync(process.env.BENCH_HTTP_JSON, JSON.stringify({ nproc: os.availableParallelism?.(), node: process.version, reports }, null, 2));
    console.log(`\ntotal ${f1((Date.now() - started) / 1000)} s, load average at the end ${loadavg()}`);
  } finally {
    gen.disconnect();
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Conversations created through the API by the load generator (setup, not measured), with their tokens. */
async function targetsOf(gen: ChildProcess, srv: Server, n: number): Promise<Target[]> {
  const p = nextMessage<{ type: 'targets'; targets: Target[] }>(gen, 'targets', 120_000, 'load generator (create)');
  gen.send({ type: 'create', port: srv.port, n });
  return (await p).targets;
}

function summary(reports: RunReport[]) {
  const both = <T>(f: (r: RunReport) => T | undefined, fmt: (x: T) => string) =>
    reports
      .map(f)
      .map((x) => (x === undefined ? '—' : fmt(x)))
      .join('  |  ');
  console.log(`Summary (run ${reports.map((r) => r.run).join('  |  run ')})`);
  if (reports.some((r) => r.sat)) {
    const sat = (m: Measured) => `${int(m.perSec)} turns/s, p50 ${f2(m.latency.p50)} ms, p99 ${f2(m.latency.p99)} ms, ${f2(m.serverCpuPerReqMs)} ms CPU/turn`;
    console.log(`  saturation, baton      ${both((r) => r.sat?.baton, sat)}`);
    console.log(`  saturation, bare       ${both((r) => r.sat?.bare, sat)}`);
    console.log(`  ratio baton / bare     ${both((r) => r.sat?.ratio, (x) => `${(100 * x).toFixed(0)}%`)}`);
    if (WORKERS > 1) {
      console.log(`  bare ×${WORKERS} workers       ${both((r) => r.sat?.workers?.bareCluster, sat)}`);
      console.log(`  baton --workers ${WORKERS}     ${both((r) => r.sat?.workers?.baton, sat)}`);
      console.log(`  ratio / bare (1 proc)  ${both((r) => r.sat?.workers?.ratioToBare, (x) => `${(100 * x).toFixed(0)}%`)}`);
      console.log(`  ratio / bare ×${WORKERS}       ${both((r) => r.sat?.workers?.ratioToBareCluster, (x) => `${(100 * x).toFixed(0)}%`)}`);
    }
  }
  if (reports.some((r) => r.steady)) {
    console.log(`  steady 500/s, baton    ${both((r) => r.steady?.baton, (m) => `p50 ${f2(m.latency.p50)} ms, p99 ${f2(m.latency.p99)} ms, max ${f1(m.latency.max)} ms`)}`);
    console.log(`  steady 500/s, bare     ${both((r) => r.steady?.bare, (m) => `p50 ${f2(m.latency.p50)} ms, p99 ${f2(m.latency.p99)} ms, max ${f1(m.latency.max)} ms`)}`);
  }
  if (reports.some((r) => r.rss)) {
    const k = `${Math.round(N_CONV / 1000)}k convs:`.padEnd(12);
    console.log(`  ${k} startup    ${both((r) => r.rss, (x) => `${int(x.spawnToReadyMs)} ms (startServer ${int(x.startServerMs)} ms)`)}`);
    console.log(`  ${k} RSS        ${both((r) => r.rss, (x) => `idle ${MiB(x.idle.rss)}, after load ${MiB(x.after.rss)} (heap after GC ${MiB(x.idle.heapAfterGc)} → ${MiB(x.after.heapAfterGc)}), peak ${MiB(x.after.hwm)}`)}`);
  }
}

main().catch((e) => {
  console.error(e);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  process.exitCode = 1;
});

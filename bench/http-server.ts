/**
 * A server process for the HTTP benchmark (forked by bench/http.ts, with an IPC channel).
 *
 *   baton: the real server, `startServer()` as `baton serve` runs it (pino access log on stderr at
 *          BENCH_LOG_LEVEL, default info; Prometheus metrics; stream hub), on 127.0.0.1, port 0,
 *          SQLite file BENCH_DB, model cache BENCH_CACHE_DIR, token secret BENCH_SECRET.
 *   bare:  express 5 with express.json() and one route answering the same path with a small JSON
 *          body: the floor for "HTTP + JSON in Node on this machine".
 *
 * BENCH_WORKERS=N (N > 1): N such servers in node:cluster workers sharing the port and the SQLite
 * file, with a minimal primary (bench/http.ts uses it for bare express in N workers; Baton with
 * workers is measured as deployed, `baton serve --workers N`, see bench/http.ts).
 *
 * IPC: sends { type: 'ready', port, … } once serving; answers { type: 'mem' } with memory figures
 * and { type: 'clock' } with the monotonic clock in µs (the time base of `--cpu-prof` samples);
 * on { type: 'stop' } shuts down gracefully and exits (so `--cpu-prof` can write its profile).
 */
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import cluster, { type Worker } from 'cluster';
import express from 'express';
import type { ServerMessage } from './http-common';

const mode = process.argv[2];
const send = (m: ServerMessage) => process.send?.(m);

function vmHwm(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function startBare(): Promise<{ port: number; stop: () => Promise<number> }> {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '64kb' }));
  app.post('/api/v1/conversations/:id/messages', (req, res) => {
    const text = typeof req.body?.text === 'string' ? req.body.text : '';
    res.json({
      messages: [{ id: req.params.id, type: 'text', text: `you said ${text.length} characters`, from: 'bot', createdAt: new Date().toISOString() }],
      duplicate: false,
      handoff: null,
    });
  });
  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      return 0;
    },
  };
}

async function startBaton(): Promise<{ port: number; stop: () => Promise<number> }> {
  // Loaded here so the bare server does not pay for (or carry in memory) Baton's modules.
  // (require, not import(): the process may run with tsx's CommonJS hook only, see bench/http.ts.)
  const { loadConfig } = require('../src/config') as typeof import('../src/config');
  const { startServer } = require('../src/http/serve') as typeof import('../src/http/serve');
  const config = loadConfig(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      BATON_DB: process.env.BENCH_DB,
      BATON_SECRET: process.env.BENCH_SECRET,
      BATON_CACHE_DIR: process.env.BENCH_CACHE_DIR,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    },
    { botDir: process.env.BENCH_BOT },
  );
  // BENCH_SERVER_PRELOAD: a module loaded first, e.g. to swap in a store variant under the same load.
  if (process.env.BENCH_SERVER_PRELOAD) require(process.env.BENCH_SERVER_PRELOAD);
  const handle = await startServer(config, {});
  return { port: handle.port, stop: () => handle.shutdown('benchmark done') };
}

type Ready = Extract<ServerMessage, { type: 'ready' }>;
type Mem = Extract<ServerMessage, { type: 'mem' }>;

/**
 * BENCH_WORKERS > 1: this process is a node:cluster primary; each worker runs the server (as in
 * single-process mode, same port, same SQLite file, same token secret) and the primary relays
 * ready / mem / stop, summing memory over the workers.
 */
async function primary(workers: number) {
  const t0 = performance.now();
  const ws = Array.from({ length: workers }, () => cluster.fork());
  const next = <T extends ServerMessage>(w: Worker, type: T['type']) => new Promise<T>((resolve) => {
    const on = (m: ServerMessage) => {
      if (m?.type === type) {
        w.off('message', on);
        resolve(m as T);
      }
    };
    w.on('message', on);
  });
  const ready = await Promise.all(ws.map((w) => next<Ready>(w, 'ready')));
  const mem = process.memoryUsage();
  send({
    type: 'ready',
    port: ready[0].port,
    startServerMs: performance.now() - t0,
    sinceProcessStartMs: performance.now(),
    rss: mem.rss + ready.reduce((a, r) => a + r.rss, 0),
    heapUsed: mem.heapUsed + ready.reduce((a, r) => a + r.heapUsed, 0),
    pids: [process.pid, ...ws.map((w) => w.process.pid!)],
  });
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'clock') send({ type: 'clock', us: Number(process.hrtime.bigint() / 1000n) });
    else if (m?.type === 'mem') {
      void Promise.all(ws.map((w) => (w.send(m), next<Mem>(w, 'mem')))).then((all) => {
        const u = process.memoryUsage();
        const sum = (f: (x: Mem) => number) => all.reduce((a, x) => a + f(x), 0);
        send({ type: 'mem', rss: u.rss + sum((x) => x.rss), heapUsed: u.heapUsed + sum((x) => x.heapUsed), heapAfterGc: sum((x) => x.heapAfterGc), external: u.external + sum((x) => x.external), hwm: vmHwm() + sum((x) => x.hwm) });
      });
    } else if (m?.type === 'stop') {
      void Promise.all(ws.map((w) => new Promise<void>((r) => (w.once('exit', () => r()), w.send(m))))).then(() => {
        send({ type: 'stopped', code: 0 });
        process.exit(0);
      });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

async function main() {
  if (mode !== 'baton' && mode !== 'bare') throw new Error(`usage: http-server.ts baton|bare (got ${mode})`);
  const workers = Number(process.env.BENCH_WORKERS ?? 1);
  if (workers > 1 && cluster.isPrimary) return primary(workers);
  const t0 = performance.now();
  const s = mode === 'baton' ? await startBaton() : await startBare();
  const mem = process.memoryUsage();
  send({ type: 'ready', port: s.port, startServerMs: performance.now() - t0, sinceProcessStartMs: performance.now(), rss: mem.rss, heapUsed: mem.heapUsed, pids: [process.pid] });
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'clock') {
      // The monotonic clock V8's CPU profiler stamps its samples with (µs), to cut a profile to a window.
      send({ type: 'clock', us: Number(process.hrtime.bigint() / 1000n) });
    } else if (m?.type === 'mem') {
      const u = process.memoryUsage();
      // With --expose-gc: the heap still reachable after a full collection (what is actually held).
      const g = (globalThis as { gc?: () => void }).gc;
      g?.();
      send({ type: 'mem', rss: u.rss, heapUsed: u.heapUsed, heapAfterGc: g ? process.memoryUsage().heapUsed : NaN, external: u.external, hwm: vmHwm() });
    } else if (m?.type === 'stop') {
      void s.stop().then((code) => {
        send({ type: 'stopped', code });
        process.disconnect?.();
        process.exit(code);
      });
    }
  });
  // Never outlive the benchmark.
  process.on('disconnect', () => process.exit(0));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

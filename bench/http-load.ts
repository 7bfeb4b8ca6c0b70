/**
 * The HTTP benchmark's load generator: its own process (forked by bench/http.ts), Node's http
 * client over keep-alive connections to 127.0.0.1. Receives jobs over IPC ({ type: 'job', job }),
 * answers { type: 'result', result } for each; exits when the orchestrator disconnects.
 *
 * - closed loop: `connections` customers, each sends its next message as soon as the previous
 *   reply arrived; latency = request start → last byte of the response.
 * - open loop: message k is due at start + k / rate, whatever the server does; latency = due time
 *   → last byte of the response, so a stall is charged to every message that should have been sent
 *   during it (no coordinated omission).
 *
 * On { type: 'create', port, n } it creates n conversations through POST /api/v1/conversations and
 * answers { type: 'targets', targets } (setup, not measured).
 *
 * Every message carries a unique clientMessageId. Non-2xx responses and socket errors are counted,
 * never retried. Each request has a 10 s timeout; the whole job is bounded by its duration + 15 s.
 */
import * as fs from 'fs';
import * as http from 'http';
import { SCRIPT, summarize, type ClosedJob, type Job, type JobResult, type OpenJob, type Target } from './http-common';

const REQUEST_TIMEOUT_MS = 10_000;
const now = () => performance.now();

interface Reply {
  status: number | string;
  body?: string;
}

function post(agent: http.Agent, port: number, path: string, token: string | undefined, payload: unknown, keepBody: boolean): Promise<Reply> {
  const body = JSON.stringify(payload);
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: Reply) => {
      if (!done) {
        done = true;
        resolve(r);
      }
    };
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    if (token) headers.authorization = `Bearer ${token}`;
    const req = http.request({ agent, host: '127.0.0.1', port, method: 'POST', path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => keepBody && chunks.push(c));
      res.on('end', () => finish({ status: res.statusCode ?? 0, body: keepBody ? Buffer.concat(chunks).toString('utf8') : undefined }));
      res.on('error', (e: NodeJS.ErrnoException) => finish({ status: e.code ?? 'response_error' }));
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => {
      req.destroy();
      finish({ status: 'timeout' });
    });
    req.on('error', (e: NodeJS.ErrnoException) => finish({ status: e.code ?? 'request_error' }));
    req.end(body);
  });
}

/** Create `n` conversations through the API (32 at a time); returns their ids and tokens. */
async function createConversations(agent: http.Agent, port: number, n: number): Promise<Target[]> {
  const out: Target[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const r = await post(agent, port, '/api/v1/conversations', undefined, {}, true);
      if (r.status !== 201 || !r.body) throw new Error(`creating a conversation failed: ${r.status} ${r.body ?? ''}`);
      const b = JSON.parse(r.body) as { conversationId: string; customerToken: string };
      out[i] = { id: b.conversationId, token: b.customerToken };
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, n) }, worker));
  return out;
}

class Recorder {
  readonly lat: Float64Array;
  n = 0;
  ok = 0;
  errors = 0;
  readonly outcomes: Record<string, number> = {};
  readonly sampled = { responses: 0, messages: 0, duplicates: 0 };
  constructor(capacity: number) {
    this.lat = new Float64Array(capacity);
  }
  /** `counted`: the request belongs to the measurement window. */
  add(r: Reply, latencyMs: number, counted: boolean) {
    const key = String(r.status);
    this.outcomes[key] = (this.outcomes[key] ?? 0) + 1;
    const good = typeof r.status === 'number' && r.status >= 200 && r.status < 300;
    if (r.body && good) {
      try {
        const b = JSON.parse(r.body) as { messages?: unknown[]; duplicate?: boolean };
        this.sampled.responses++;
        this.sampled.messages += b.messages?.length ?? 0;
        if (b.duplicate) this.sampled.duplicates++;
      } catch {
        this.outcomes.unparsable = (this.outcomes.unparsable ?? 0) + 1;
      }
    }
    if (!counted) return;
    if (!good) {
      this.errors++;
      return;
    }
    this.ok++;
    if (this.n < this.lat.length) this.lat[this.n++] = latencyMs;
  }
}

const messagePath = (t: Target) => `/api/v1/conversations/${encodeURIComponent(t.id)}/messages`;

async function closedLoop(job: ClosedJob, targets: Target[], agent: http.Agent): Promise<Omit<JobResult, 'label' | 'kind'>> {
  const rec = new Recorder(2_000_000);
  const t0 = now();
  const windowStart = t0 + job.warmupMs;
  const windowEnd = windowStart + job.durationMs;
  let lastEnd = windowStart;
  const customer = async (w: number) => {
    for (let ti = w; ti < targets.length; ti += job.connections) {
      const t = targets[ti];
      for (let k = 0; k < job.perTarget; k++) {
        const start = now();
        if (start >= windowEnd) return;
        const text = SCRIPT[((job.scriptOffset ?? 0) + ti + k) % SCRIPT.length];
        const r = await post(agent, job.port, messagePath(t), t.token, { text, clientMessageId: `${job.tag}-${ti}-${k}` }, k % 50 === 0);
        const end = now();
        const counted = start >= windowStart && end <= windowEnd;
        if (counted) lastEnd = Math.max(lastEnd, end);
        rec.add(r, end - start, counted);
      }
    }
  };
  await Promise.all(Array.from({ length: job.connections }, (_, w) => customer(w)));
  // Stopped early (every target done): the window is what actually ran.
  const windowMs = Math.min(job.durationMs, lastEnd - windowStart);
  return { ok: rec.ok, errors: rec.errors, outcomes: rec.outcomes, windowMs, perSec: (rec.ok / windowMs) * 1000, latency: summarize(rec.lat, rec.n), sampledReplies: rec.sampled };
}

async function openLoop(job: OpenJob, targets: Target[], agent: http.Agent): Promise<Omit<JobResult, 'label' | 'kind'>> {
  const total = Math.round(((job.warmupMs + job.durationMs) / 1000) * job.rate);
  const rec = new Recorder(total);
  const interval = 1000 / job.rate;
  const sent = new Array<number>(targets.length).fill(0);
  const t0 = now() + 5;
  const windowStart = t0 + job.warmupMs;
  const pending = new Set<Promise<void>>();
  let lateSends = 0;
  let k = 0;
  // BENCH_HTTP_TRACE=<file>: one line per open-loop message (due ms from start, latency ms, status, conversation index).
  const trace = process.env.BENCH_HTTP_TRACE ? ['due_ms,latency_ms,status,conversation'] : undefined;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const t = now();
      while (k < total && t0 + k * interval <= t) {
        const due = t0 + k * interval;
        if (t - due > 5) lateSends++;
        // Conversations in turn; each one goes through the script from a different point.
        const ti = k % targets.length;
        const target = targets[ti];
        const step = sent[ti]++;
        const text = SCRIPT[(ti + step) % SCRIPT.length];
        const p = post(agent, job.port, messagePath(target), target.token, { text, clientMessageId: `${job.tag}-${ti}-${step}` }, k % 50 === 0).then((r) => {
          const end = now();
          rec.add(r, end - due, due >= windowStart);
          trace?.push(`${(due - t0).toFixed(1)},${(end - due).toFixed(2)},${r.status},${ti}`);
          pending.delete(p);
        });
        pending.add(p);
        k++;
      }
      if (k >= total) return resolve();
      // Wake up a little before the next due time; setTimeout has ~1 ms granularity.
      const wait = t0 + k * interval - now();
      if (wait > 1.5) setTimeout(tick, wait - 1);
      else setImmediate(tick);
    };
    tick();
  });
  await Promise.all([...pending]);
  if (trace) fs.writeFileSync(`${process.env.BENCH_HTTP_TRACE}.${job.label.replace(/\W+/g, '-')}.csv`, trace.join('\n') + '\n');
  return { ok: rec.ok, errors: rec.errors, outcomes: rec.outcomes, windowMs: job.durationMs, perSec: (rec.ok / job.durationMs) * 1000, latency: summarize(rec.lat, rec.n), lateSends, sampledReplies: rec.sampled };
}

async function run(job: Job): Promise<JobResult> {
  const maxSockets = job.kind === 'closed' ? job.connections : job.maxSockets;
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  try {
    const targets = job.targets;
    const bound = job.warmupMs + job.durationMs + 15_000;
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      job.kind === 'closed' ? closedLoop(job, targets, agent) : openLoop(job, targets, agent),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`job ${job.label} did not finish within ${bound} ms`)), bound);
      }),
    ]).finally(() => clearTimeout(timer));
    return { label: job.label, kind: job.kind, ...r };
  } finally {
    agent.destroy();
  }
}

process.on('message', (m: { type?: string; job?: Job; port?: number; n?: number }) => {
  const fail = (e: Error) => process.send?.({ type: 'error', message: e.stack ?? e.message });
  if (m?.type === 'job' && m.job) run(m.job).then((result) => process.send?.({ type: 'result', result }), fail);
  else if (m?.type === 'create' && m.port && m.n) {
    // Setup, not measured: conversations created through the API, as a customer's widget does.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    createConversations(agent, m.port, m.n)
      .then((targets) => process.send?.({ type: 'targets', targets }), fail)
      .finally(() => agent.destroy());
  }
});
process.on('disconnect', () => process.exit(0));

/**
 * `baton serve --workers 2` (node:cluster) as a real child process on 127.0.0.1:
 * - both workers answer turns, with tokens of the secret the primary generated for them;
 * - a customer stream on one worker gets a reply committed by the other at once (the store poll is
 *   set to 60 s, so only the relay through the primary can explain it); agent streams too;
 * - /metrics on either worker counts the turns of both;
 * - a worker killed with SIGKILL is replaced, and tokens still work on the replacement;
 * - SIGTERM to the primary: every worker finishes its turn in progress, streams close with 1001,
 *   the primary exits 0.
 *
 * Which worker served a request is read from the access log (`worker: <n>` on every line, found by
 * the request's X-Request-Id). Every request uses a new connection, so the cluster's round-robin
 * hands them to the workers in turn.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { loadConfig, ConfigError } from '../../src/config';
import { killServer, spawnServer, stream, tmpDir, until, within, type ChildServer } from './helpers/server';

jest.setTimeout(60_000);

const ADMIN_PASSWORD = 'admin-password-0123';

interface Reply {
  status: number;
  body: any;
}

/** One request on its own connection (Connection: close), bounded. */
function request(base: string, method: string, url: string, opts: { body?: unknown; token?: string; requestId?: string } = {}): Promise<Reply> {
  const u = new URL(base + url);
  const data = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method,
        agent: false,
        timeout: 15_000,
        headers: {
          connection: 'close',
          ...(data !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) } : {}),
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(opts.requestId ? { 'x-request-id': opts.requestId } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // metrics: text
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within 15 s`)));
    req.on('error', reject);
    req.end(data);
  });
}

function logLines(srv: ChildServer): Record<string, any>[] {
  const out: Record<string, any>[] = [];
  for (const line of srv.stderr().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a line being written
    }
  }
  return out;
}

function readEvents(file: string, id: string): { seq: number; type: string }[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT seq, type FROM events WHERE conversation_id = ? ORDER BY seq').all(id) as { seq: number; type: string }[];
  } finally {
    db.close();
  }
}

/** Sum of a Prometheus counter over its labels. */
function counter(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

describe('BATON_WORKERS / --workers', () => {
  it('is 1 by default, a number or auto; several workers need a shared database', () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig({ BATON_WORKERS: '3' }).workers).toBe(3);
    expect(loadConfig({ BATON_WORKERS: 'auto' }).workers).toBeGreaterThanOrEqual(1);
    expect(loadConfig({ BATON_WORKERS: '3' }, { workers: '2' }).workers).toBe(2);
    expect(() => loadConfig({ BATON_WORKERS: '0' })).toThrow(/BATON_WORKERS: must be at least 1/);
    expect(() => loadConfig({}, { workers: 'many' })).toThrow(/--workers: must be a whole number from 1 to 64, or auto/);
    expect(() => loadConfig({ BATON_WORKERS: '2', BATON_DB: 'memory' })).toThrow(ConfigError);
    expect(loadConfig({ BATON_WORKERS: '1', BATON_DB: 'memory' }).workers).toBe(1);
  });
});

describe('baton serve --workers 2', () => {
  let srv: ChildServer;
  let dir: string;
  let n = 0;
  /** Turns answered (status 200 on the messages route), for the metrics check. */
  let turns = 0;

  /** A request on a new connection; resolves with the reply and the worker that served it. */
  async function call(method: string, url: string, opts: { body?: unknown; token?: string } = {}): Promise<Reply & { worker: number }> {
    const requestId = `t-${++n}`;
    const r = await request(srv.url, method, url, { ...opts, requestId });
    if (r.status === 200 && url.endsWith('/messages') && method === 'POST') turns++;
    const line = await until(() => logLines(srv).find((l) => l.msg === 'request' && l.requestId === requestId), `the access log line of ${requestId}`, 5000);
    return { ...r, worker: line.worker };
  }
  const startConversation = async () => {
    const r = await call('POST', '/api/v1/conversations', { body: {} });
    expect(r.status).toBe(201);
    return { id: r.body.conversationId as string, token: r.body.customerToken as string };
  };

  beforeAll(async () => {
    dir = tmpDir('workers');
    srv = await spawnServer(
      dir,
      {
        BATON_WORKERS: '2',
        BATON_SECRET: '', // the primary generates one for both workers
        BATON_POLL_INTERVAL_MS: '60000', // other workers' commits can only arrive through the relay
        BATON_SEED_ADMIN_PASSWORD: ADMIN_PASSWORD,
        RELAY_ACTION_MS: '1500',
        LOG_LEVEL: 'debug',
      },
      45_000,
    );
  });
  afterAll(async () => {
    await killServer(srv);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('prints the start-up summary once, and every log line of a worker says which', () => {
    expect(srv.stdout().match(/is live at/g)).toHaveLength(1);
    expect(srv.stdout()).toMatch(/Workers: 2 \(node:cluster; pids \d+, \d+; primary \d+\)/);
    const serving = logLines(srv).filter((l) => l.msg === 'baton is serving');
    expect(serving.map((l) => l.worker).sort()).toEqual([1, 2]);
    // Generated once by the primary (one warning), not by each worker.
    expect(logLines(srv).filter((l) => /BATON_SECRET is not set/.test(l.msg))).toHaveLength(1);
  });

  it('answers turns on both workers with one token', async () => {
    const { id, token } = await startConversation();
    const served = new Set<number>();
    for (let i = 1; i <= 6; i++) {
      const r = await call('POST', `/api/v1/conversations/${id}/messages`, { token, body: { text: `echo Q${i}`, clientMessageId: `both-${i}` } });
      expect(r.status).toBe(200);
      expect(r.body.messages.map((m: any) => m.text)).toEqual([`A Q${i}`]);
      served.add(r.worker);
    }
    expect([...served].sort()).toEqual([1, 2]);
  });

  it("delivers a reply committed by one worker to a customer stream on the other at once (not by the poll)", async () => {
    const { id, token } = await startConversation();
    const s = stream(srv.url, id, token);
    try {
      await s.waitFor((f) => f.type === 'ready', 'ready');
      const opened = await until(() => logLines(srv).find((l) => l.msg === 'stream opened' && l.conversationId === id), 'the stream log line');
      let other: number | undefined;
      for (let i = 1; i <= 6 && other === undefined; i++) {
        const r = await call('POST', `/api/v1/conversations/${id}/messages`, { token, body: { text: `echo Q${i}`, clientMessageId: `relay-${i}` } });
        expect(r.status).toBe(200);
        // Every reply reaches the stream (this worker's directly, the other's through the primary) well
        // within the bound; the poll would take 60 s.
        await s.waitFor((f) => f.type === 'message' && f.message.text === `A Q${i}`, `A Q${i} on the stream`, 5000);
        if (r.worker !== opened.worker) other = i;
      }
      expect(other).toBeDefined();
      expect(s.messages().map((m) => m.text)).toEqual(['Relay here.', ...Array.from({ length: other! }, (_, k) => [`echo Q${k + 1}`, `A Q${k + 1}`]).flat()]);
    } finally {
      await s.close();
    }
  });

  it("shows a customer stream the typing indicator of a turn running on the other worker", async () => {
    const { id, token } = await startConversation();
    const s = stream(srv.url, id, token);
    try {
      await s.waitFor((f) => f.type === 'ready', 'ready');
      const opened = await until(() => logLines(srv).find((l) => l.msg === 'stream opened' && l.conversationId === id), 'the stream log line');
      let checked = false;
      for (let i = 1; i <= 4 && !checked; i++) {
        const from = s.frames.length;
        const r = await call('POST', `/api/v1/conversations/${id}/messages`, { token, body: { text: `slow Q${i}`, clientMessageId: `typing-${i}` } });
        expect(r.status).toBe(200);
        await s.waitFor((f) => f.type === 'message' && f.message.text === `S Q${i} done`, `S Q${i} on the stream`, 5000);
        if (r.worker === opened.worker) continue;
        const upToReply = s.frames.slice(from, s.frames.findIndex((f) => f.type === 'message' && f.message.text === `S Q${i} done`));
        expect(upToReply).toContainEqual({ type: 'typing', from: 'bot' });
        checked = true;
      }
      expect(checked).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('tells agent streams on both workers about a handoff made on either', async () => {
    const login = await call('POST', '/api/v1/agent/login', { body: { email: 'admin@relay.example', password: ADMIN_PASSWORD } });
    expect(login.status).toBe(200);
    // Two streams opened one after the other: round-robin puts them on different workers.
    const agents = [] as { ws: WebSocket; frames: any[] }[];
    try {
      for (let i = 0; i < 2; i++) {
        const ws = new WebSocket(`${srv.url.replace(/^http/, 'ws')}/api/v1/agent/stream?token=${encodeURIComponent(login.body.token)}`);
        const frames: any[] = [];
        ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
        ws.on('error', () => undefined);
        agents.push({ ws, frames });
        await until(() => frames.find((f) => f.type === 'ready'), 'agent stream ready');
      }
      const { id, token } = await startConversation();
      const r = await call('POST', `/api/v1/conversations/${id}/messages`, { token, body: { text: 'talk to a human', clientMessageId: 'human-1' } });
      expect(r.status).toBe(200);
      expect(r.body.handoff).toMatchObject({ reason: 'customer_request' });
      for (const a of agents) await until(() => a.frames.find((f) => f.type === 'queue' && JSON.stringify(f).includes(id)), 'the queue frame on every agent stream', 5000);
    } finally {
      for (const a of agents) a.ws.close();
    }
  });

  it('/metrics on either worker counts the turns of both', async () => {
    const seen = new Map<number, number>();
    for (let i = 0; i < 4; i++) {
      const r = await call('GET', '/metrics');
      expect(r.status).toBe(200);
      seen.set(r.worker, counter(r.body, 'baton_turns_total'));
    }
    expect([...seen.keys()].sort()).toEqual([1, 2]);
    expect([...seen.values()]).toEqual([turns, turns]);
    expect(turns).toBeGreaterThanOrEqual(9); // 6 + at least 1 + at least 1 + 1 above
  });

  it('replaces a worker that dies, and its replacement accepts the same tokens', async () => {
    const { id, token } = await startConversation();
    const pids = /pids (\d+), (\d+);/.exec(srv.stdout())!.slice(1).map(Number);
    process.kill(pids[1], 'SIGKILL');
    await until(() => logLines(srv).find((l) => l.msg === 'worker exited unexpectedly; restarting it' && l.worker === 2 && l.pid === pids[1]), 'the primary to notice', 5000);
    const replacement = await until(() => logLines(srv).find((l) => l.msg === 'worker ready' && l.worker === 2), 'a new worker 2', 30_000);
    expect(replacement.pid).not.toBe(pids[1]);
    const served = new Set<number>();
    for (let i = 1; i <= 4; i++) {
      const r = await call('POST', `/api/v1/conversations/${id}/messages`, { token, body: { text: `echo Q${i}`, clientMessageId: `after-${i}` } });
      expect(r.status).toBe(200);
      served.add(r.worker);
    }
    expect([...served].sort()).toEqual([1, 2]);
    // Dying again soon: restarted again, after a longer pause (not in a tight loop).
    process.kill(replacement.pid, 'SIGKILL');
    const again = await until(() => logLines(srv).find((l) => l.msg === 'worker exited unexpectedly; restarting it' && l.pid === replacement.pid), 'the second exit', 5000);
    const first = logLines(srv).find((l) => l.msg === 'worker exited unexpectedly; restarting it' && l.pid === pids[1])!;
    expect(again.restartInMs).toBeGreaterThan(first.restartInMs);
    await until(() => logLines(srv).filter((l) => l.msg === 'worker ready' && l.worker === 2).length === 2, 'the second replacement', 30_000);
  });

  it('on SIGTERM every worker finishes its turn in progress, streams close with 1001, and the primary exits 0', async () => {
    const a = await startConversation();
    const b = await startConversation();
    const s = stream(srv.url, a.id, a.token);
    await s.waitFor((f) => f.type === 'ready', 'ready');
    const replies = Promise.all([
      call('POST', `/api/v1/conversations/${a.id}/messages`, { token: a.token, body: { text: 'slow Q1', clientMessageId: 'slow-a' } }),
      call('POST', `/api/v1/conversations/${b.id}/messages`, { token: b.token, body: { text: 'slow Q2', clientMessageId: 'slow-b' } }),
    ]);
    const file = path.join(dir, 'baton.sqlite');
    await until(() => [a.id, b.id].every((id) => readEvents(file, id).some((e) => e.type === 'action_requested')), 'both slow actions to start', 10_000);
    srv.proc.kill('SIGTERM');
    const [ra, rb] = await replies;
    expect([ra.status, rb.status]).toEqual([200, 200]);
    expect(ra.body.messages.map((m: any) => m.text)).toEqual(['S Q1 done']);
    expect(rb.body.messages.map((m: any) => m.text)).toEqual(['S Q2 done']);
    expect([ra.worker, rb.worker].sort()).toEqual([1, 2]);
    expect((await within(s.closed, 10_000))?.code).toBe(1001);
    expect(await within(srv.exited, 20_000)).toEqual({ code: 0, signal: null });
    expect(logLines(srv).filter((l) => l.msg === 'stopped' && l.worker).map((l) => l.worker).sort()).toEqual([1, 2]);
    expect(srv.stderr()).not.toMatch(/"level":"(error|fatal)"[^\n]*"msg":"(?!worker exited unexpectedly)/);
  });
});

describe('baton serve --workers 2, shutdown timeout', () => {
  it('exits 1 when a worker cannot finish within BATON_SHUTDOWN_TIMEOUT_MS', async () => {
    const dir = tmpDir('workers-timeout');
    const srv = await spawnServer(dir, { BATON_WORKERS: '2', RELAY_ACTION_MS: '20000', BATON_SHUTDOWN_TIMEOUT_MS: '500' }, 45_000);
    try {
      const start = await request(srv.url, 'POST', '/api/v1/conversations', { body: {} });
      const { conversationId: id, customerToken: token } = start.body;
      const reply = request(srv.url, 'POST', `/api/v1/conversations/${id}/messages`, { token, body: { text: 'slow Q1' } }).catch((e: Error) => e);
      await until(() => readEvents(path.join(dir, 'baton.sqlite'), id).some((e) => e.type === 'action_requested'), 'the slow action to start', 10_000);
      srv.proc.kill('SIGTERM');
      expect(await within(srv.exited, 20_000)).toEqual({ code: 1, signal: null });
      await reply;
      expect(srv.stderr()).toContain('graceful shutdown took too long');
    } finally {
      await killServer(srv);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

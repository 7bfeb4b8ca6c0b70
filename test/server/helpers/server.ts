/**
 * Helpers for server-level tests: a real server on 127.0.0.1:<random port> (in this process, or
 * as a `baton serve` child process), a small API client and a WebSocket client that records frames.
 * Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import WebSocket from 'ws';
import { loadConfig, type ServerConfig } from '../../../src/config';
import { startServer, type ServerHandle, type StartOptions } from '../../../src/http/serve';
import { silentLogger } from '../../../src/util/logger';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const RELAY_BOT = path.join(ROOT, 'test', 'server', 'fixtures', 'bots', 'relay');
export const SECRET = 'test-secret-0123456789abcdef';
export const IDENTITY_SECRET = 'identity-secret-0123456789abcdef';
/** Shared by every test server: models are cached by content hash and written atomically, so sharing is safe and saves training time. */
export const MODEL_CACHE = path.join(os.tmpdir(), 'baton-test-model-cache');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `p`, or undefined after `ms` (the timer is cleared either way, so nothing is left running). */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `baton-${prefix}-`));
}

/** Poll `check` until it returns a truthy value (bounded). */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 5000, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export function testConfig(dir: string, env: Record<string, string> = {}): ServerConfig {
  return loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    BATON_DB: path.join(dir, 'baton.sqlite'),
    BATON_SECRET: SECRET,
    BATON_IDENTITY_SECRET: IDENTITY_SECRET,
    BATON_CACHE_DIR: MODEL_CACHE,
    BATON_POLL_INTERVAL_MS: '200',
    BATON_BOT: RELAY_BOT,
    LOG_LEVEL: 'silent',
    ...env,
  });
}

/** A server in this process (real socket, real SQLite file unless BATON_DB says otherwise). */
export async function startTestServer(dir: string, env: Record<string, string> = {}, opts: StartOptions = {}): Promise<ServerHandle> {
  return startServer(testConfig(dir, env), { logger: silentLogger, defaultMetrics: false, ...opts });
}

// ------------------------------------------------------------------------------ API client

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export function client(base: string) {
  const call = async (method: string, url: string, opts: { body?: unknown; token?: string; raw?: string; headers?: Record<string, string> } = {}): Promise<Reply> => {
    const res = await fetch(base + url, {
      method,
      headers: {
        ...(opts.body !== undefined || opts.raw !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...opts.headers,
      },
      body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON (metrics, HTML)
    }
    return { status: res.status, body, headers: res.headers };
  };
  return {
    call,
    async start(body: unknown = {}): Promise<{ id: string; token: string; body: any }> {
      const r = await call('POST', '/api/v1/conversations', { body });
      if (r.status !== 201) throw new Error(`start failed: ${r.status} ${JSON.stringify(r.body)}`);
      return { id: r.body.conversationId, token: r.body.customerToken, body: r.body };
    },
    send(id: string, token: string, body: unknown) {
      return call('POST', `/api/v1/conversations/${id}/messages`, { body, token });
    },
    /** The whole history (all pages). */
    async history(id: string, token: string): Promise<any[]> {
      const out: any[] = [];
      let after = 0;
      for (let i = 0; i < 100; i++) {
        const r = await call('GET', `/api/v1/conversations/${id}/messages?after=${after}&limit=1000`, { token });
        if (r.status !== 200) throw new Error(`history failed: ${r.status} ${JSON.stringify(r.body)}`);
        out.push(...r.body.messages);
        after = r.body.nextAfter;
        if (!r.body.hasMore) return out;
      }
      throw new Error('history did not end');
    },
  };
}

// ------------------------------------------------------------------------------ WebSocket client

export interface StreamRecorder {
  ws: WebSocket;
  frames: any[];
  messages(): any[];
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<void>;
  waitFor(pred: (f: any) => boolean, what: string, timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

export function stream(base: string, id: string, token: string | undefined, after?: number): StreamRecorder {
  const q = new URLSearchParams();
  if (token !== undefined) q.set('token', token);
  if (after !== undefined) q.set('after', String(after));
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/api/v1/conversations/${encodeURIComponent(id)}/stream?${q}`);
  const frames: any[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake refused: ${res.statusCode}`)));
  });
  return {
    ws,
    frames,
    messages: () => frames.filter((f) => f.type === 'message').map((f) => f.message),
    closed,
    opened,
    waitFor: (pred, what, timeoutMs = 5000) => until(() => frames.find(pred), what, timeoutMs, 10),
    async close() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
      await within(closed, 1000);
    },
  };
}

// ------------------------------------------------------------------------------ child processes

export interface ChildServer {
  proc: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `baton serve <relay bot>` in a child process (the TypeScript sources via tsx). Resolves once it listens. */
export async function spawnServer(dir: string, env: Record<string, string> = {}, timeoutMs = 15000): Promise<ChildServer> {
  const proc = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'test', 'server', 'helpers', 'baton-cli.ts'), 'serve', RELAY_BOT], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.tmpdir(),
      HOST: '127.0.0.1',
      PORT: '0',
      BATON_DB: path.join(dir, 'baton.sqlite'),
      BATON_SECRET: SECRET,
      BATON_IDENTITY_SECRET: IDENTITY_SECRET,
      BATON_CACHE_DIR: MODEL_CACHE,
      BATON_POLL_INTERVAL_MS: '200',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = await until(
    () => {
      if (gone) throw new Error(`the server exited before listening:\n${out}\n${err}`);
      const m = /is live at (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      return m?.[1];
    },
    'the child server to listen',
    timeoutMs,
  );
  return { proc, url, stdout: () => out, stderr: () => err, exited };
}

/** Stop a child server for sure (SIGKILL), bounded. */
export async function killServer(s: ChildServer | undefined): Promise<void> {
  if (!s || s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  s.proc.kill('SIGKILL');
  await within(s.exited, 3000);
}

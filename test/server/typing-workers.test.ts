/**
 * Typing indicators across the workers of `baton serve --workers 2` (a real child process on
 * 127.0.0.1, the store poll set to 60 s so only the relay through the primary can explain a frame
 * on another worker): customer typing reaches agent streams on both workers, agent typing reaches
 * customer streams on both. Which worker holds a stream is read from its debug log line; the
 * cluster's round-robin puts two connections opened one after the other on different workers.
 */
import * as fs from 'fs';
import WebSocket from 'ws';
import { client, killServer, spawnServer, stream, tmpDir, until, type ChildServer, type StreamRecorder } from './helpers/server';

jest.setTimeout(60_000);

const ADMIN_PASSWORD = 'admin-password-0123';
let srv: ChildServer;
let dir: string;

function logLines(): Record<string, any>[] {
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

beforeAll(async () => {
  dir = tmpDir('typing-workers');
  srv = await spawnServer(dir, { BATON_WORKERS: '2', BATON_POLL_INTERVAL_MS: '60000', BATON_SEED_ADMIN_PASSWORD: ADMIN_PASSWORD, LOG_LEVEL: 'debug' }, 45_000);
});
afterAll(async () => {
  await killServer(srv);
  fs.rmSync(dir, { recursive: true, force: true });
});

it('relays customer typing to agent streams and agent typing to customer streams on the other worker', async () => {
  const api = client(srv.url);
  const login = await api.call('POST', '/api/v1/agent/login', { body: { email: 'admin@relay.example', password: ADMIN_PASSWORD } });
  expect(login.status).toBe(200);
  const token = login.body.token as string;
  const c = await api.start({});
  const h = await api.send(c.id, c.token, { text: 'talk to a human', clientMessageId: 'human-1' });
  expect(h.body.handoff).toMatchObject({ reason: 'customer_request' });
  await until(async () => (await api.call('POST', `/api/v1/agent/conversations/${c.id}/accept`, { token, body: {} })).status === 200, 'the admin accepted the conversation');

  const agents: { frames: any[]; ws: WebSocket }[] = [];
  const customers: StreamRecorder[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const ws = new WebSocket(`${srv.url.replace(/^http/, 'ws')}/api/v1/agent/stream?token=${encodeURIComponent(token)}`);
      const frames: any[] = [];
      ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
      ws.on('error', () => undefined);
      agents.push({ ws, frames });
      await until(() => frames.find((f) => f.type === 'ready'), 'agent stream ready');
    }
    for (let i = 0; i < 2; i++) {
      const s = stream(srv.url, c.id, c.token);
      customers.push(s);
      await s.waitFor((f) => f.type === 'ready', 'customer stream ready');
    }
    const workersOf = (msg: string) => until(() => {
      const w = logLines().filter((l) => l.msg === msg && (msg === 'stream opened' ? l.conversationId === c.id : true)).map((l) => l.worker);
      return w.length >= 2 ? w : undefined;
    }, msg);
    expect(new Set(await workersOf('agent stream opened'))).toEqual(new Set([1, 2]));
    expect(new Set(await workersOf('stream opened'))).toEqual(new Set([1, 2]));

    // The customer types on one worker's stream: both agent streams (one on each worker) show it.
    customers[0].ws.send('{"type":"typing"}');
    for (const a of agents) await until(() => a.frames.find((f) => f.type === 'typing' && f.conversationId === c.id && f.from === 'customer'), 'customer typing on each agent stream', 5000);

    // The agent types on one worker's agent stream: both customer streams show "<name> is typing".
    agents[0].ws.send(JSON.stringify({ type: 'typing', conversationId: c.id }));
    for (const s of customers) expect(await s.waitFor((f) => f.type === 'typing' && f.from === 'agent', 'agent typing on each customer stream', 5000)).toEqual({ type: 'typing', from: 'agent', name: expect.any(String) });
  } finally {
    for (const a of agents) a.ws.close();
    for (const s of customers) await s.close();
  }
});

/**
 * The real-time stream (WebSocket) against a real server on 127.0.0.1 with a SQLite file:
 * backlog → ready → live, typing, ping, refusals, messages committed while the customer is away,
 * no gaps or duplicates while commits race the backlog, other processes' commits, shutdown.
 */
import * as fs from 'fs';
import * as path from 'path';
import WebSocket from 'ws';
import { createBaton, type Baton } from '../../src/main';
import type { ConversationStore } from '../../src/store/port';
import { StaleVersionError } from '../../src/store/port';
import { TokenService } from '../../src/identity/tokens';
import { signUserId } from '../../src/identity/verify';
import { silentLogger } from '../../src/util/logger';
import type { ServerHandle } from '../../src/http/serve';
import { client, IDENTITY_SECRET, MODEL_CACHE, RELAY_BOT, SECRET, sleep, startTestServer, stream, tmpDir, until, type StreamRecorder } from './helpers/server';

let dir: string;
let srv: ServerHandle;
let api: ReturnType<typeof client>;
let actionMs = 0;
const open: StreamRecorder[] = [];
const track = (s: StreamRecorder) => (open.push(s), s);

beforeAll(async () => {
  dir = tmpDir('stream');
  srv = await startTestServer(dir, {}, { actions: { pause: async () => (await sleep(actionMs), { ok: true }) } });
  api = client(srv.url);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await srv?.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** What an agent reply (a later feature) looks like in the log: committed straight to the store. */
async function commitAgentMessages(store: ConversationStore, id: string, texts: string[]): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const rec = await store.load(id);
    if (!rec) throw new Error('no conversation');
    const at = new Date().toISOString();
    try {
      await store.commit({ id, expectedVersion: rec.version, state: rec.state, at, events: texts.map((text) => ({ type: 'agent_message', at, data: { message: { text }, agent: { id: 'a-1', name: 'Sam' } } })) });
      return;
    } catch (e) {
      if (!(e instanceof StaleVersionError)) throw e;
    }
  }
  throw new Error('could not commit');
}

const seqs = (ms: { seq: number }[]) => ms.map((m) => m.seq);

describe('WebSocket stream', () => {
  it('sends the backlog in order, then ready, then live messages (customer and bot) as they are committed', async () => {
    const { id, token } = await api.start();
    await api.send(id, token, { text: 'echo Q1', clientMessageId: 'c-1' });
    const s = track(stream(srv.url, id, token));
    const ready = await s.waitFor((f) => f.type === 'ready', 'ready');
    const history = await api.history(id, token);
    expect(s.frames.slice(0, s.frames.indexOf(ready)).map((f) => f.message)).toEqual(history);
    expect(ready.lastSeq).toBe(history[history.length - 1].seq);
    expect(history.map((m: any) => `${m.from}: ${m.text}`)).toEqual(['bot: Relay here.', 'customer: echo Q1', 'bot: A Q1']);

    const r = await api.send(id, token, { text: 'echo Q2', clientMessageId: 'c-2' });
    const reply = await s.waitFor((f) => f.type === 'message' && f.message.text === 'A Q2', 'the live reply');
    const customer = s.messages().find((m) => m.text === 'echo Q2');
    expect(customer).toMatchObject({ from: 'customer', clientMessageId: 'c-2', id: `m${customer.seq}` });
    // The same message, with the same id, seq and time, in the POST reply, the stream and the history.
    expect(r.body.messages[0]).toEqual(reply.message);
    expect(await api.history(id, token)).toEqual(s.messages());
  });

  it('starts after the seq the client already has', async () => {
    const { id, token } = await api.start();
    await api.send(id, token, { text: 'echo Q1' });
    const all = await api.history(id, token);
    const s = track(stream(srv.url, id, token, all[1].seq));
    const ready = await s.waitFor((f) => f.type === 'ready', 'ready');
    expect(s.messages()).toEqual(all.slice(2));
    expect(ready.lastSeq).toBe(all[2].seq);
  });

  it('shows the bot typing while a turn runs, before its replies', async () => {
    const { id, token } = await api.start();
    const s = track(stream(srv.url, id, token));
    await s.waitFor((f) => f.type === 'ready', 'ready');
    actionMs = 400;
    try {
      const sent = api.send(id, token, { text: 'slow Q7' });
      const typing = await s.waitFor((f) => f.type === 'typing', 'typing', 2000);
      expect(typing).toEqual({ type: 'typing', from: 'bot' });
      expect((await sent).body.messages.map((m: any) => m.text)).toEqual(['S Q7 done']);
      await s.waitFor((f) => f.type === 'message' && f.message.text === 'S Q7 done', 'the reply');
      expect(s.frames.indexOf(typing)).toBeLessThan(s.frames.findIndex((f) => f.type === 'message' && f.message.text === 'S Q7 done'));
    } finally {
      actionMs = 0;
    }
  });

  it('answers ping with pong and reports frames it does not understand without closing', async () => {
    const { id, token } = await api.start();
    const s = track(stream(srv.url, id, token));
    await s.waitFor((f) => f.type === 'ready', 'ready');
    s.ws.send(JSON.stringify({ type: 'ping' }));
    await s.waitFor((f) => f.type === 'pong', 'pong');
    s.ws.send('{"type":"message","text":"hi"}');
    const err = await s.waitFor((f) => f.type === 'error', 'error frame');
    expect(err.error.code).toBe('invalid_frame');
    s.ws.send('{"type":"ping"}');
    await until(() => s.frames.filter((f) => f.type === 'pong').length === 2, 'second pong');
  });

  it('refuses bad tokens (4401), unknown conversations (4404) and a bad "after" (4400) with an error frame first', async () => {
    const { id, token } = await api.start();
    const other = await api.start();
    const cases: [string | undefined, string, number, number | undefined][] = [
      [undefined, id, 4401, undefined],
      ['nonsense', id, 4401, undefined],
      [other.token, id, 4401, undefined],
      [new TokenService(SECRET, 'relay').forConversation('no-such-conversation'), 'no-such-conversation', 4404, undefined],
      [token, id, 4400, -1],
    ];
    for (const [tok, conv, code, after] of cases) {
      const s = stream(srv.url, conv, tok, after);
      const closed = await s.closed;
      expect(closed.code).toBe(code);
      expect(s.frames).toEqual([{ type: 'error', error: { code: expect.any(String), message: expect.any(String) } }]);
    }
    // Not a stream path: the handshake itself is refused with HTTP 404.
    const ws404 = new WebSocket(`${srv.url.replace('http', 'ws')}/api/v1/nope`);
    ws404.on('error', () => undefined);
    const status = await new Promise<number>((resolve) => ws404.on('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(404);
    ws404.terminate();
  });

  it('lets a verified customer stream their conversations, and nobody else', async () => {
    const identity = (userId: string) => ({ identity: { userId, signature: signUserId(userId, IDENTITY_SECRET) } });
    const ann = await api.start(identity('ann'));
    const bob = await api.start(identity('bob'));
    const s = track(stream(srv.url, ann.id, ann.token));
    await s.waitFor((f) => f.type === 'ready', 'ready');
    const refused = stream(srv.url, ann.id, bob.token);
    expect((await refused.closed).code).toBe(4401);
  });

  it('delivers messages committed while the customer was away when they reconnect, and live to connected clients', async () => {
    const { id, token } = await api.start();
    const first = track(stream(srv.url, id, token));
    const ready = await first.waitFor((f) => f.type === 'ready', 'ready');
    await first.close();
    // Hours later an agent answers (committed straight to the store, not through a turn).
    await commitAgentMessages(srv.baton.store, id, ['Hi, this is Sam. Your refund is on its way.']);
    const back = track(stream(srv.url, id, token, ready.lastSeq));
    await back.waitFor((f) => f.type === 'ready', 'ready after reconnect');
    expect(back.messages()).toEqual([
      { seq: expect.any(Number), id: expect.any(String), from: 'agent', text: 'Hi, this is Sam. Your refund is on its way.', agent: { name: 'Sam' }, createdAt: expect.any(String) },
    ]);
    expect((await api.history(id, token)).pop()).toEqual(back.messages()[0]);
    // While connected: pushed as soon as it is committed.
    await commitAgentMessages(srv.baton.store, id, ['Anything else?']);
    await back.waitFor((f) => f.type === 'message' && f.message.text === 'Anything else?', 'the live agent message', 1000);
  });

  it('has no gaps and no duplicates when messages are committed while the backlog is being sent', async () => {
    const { id, token } = await api.start();
    await commitAgentMessages(
      srv.baton.store,
      id,
      Array.from({ length: 450 }, (_, i) => `old ${i}`),
    );
    const s = track(stream(srv.url, id, token));
    const writer = (async () => {
      for (let i = 0; i < 40; i++) {
        await commitAgentMessages(srv.baton.store, id, [`new ${i}`]);
        if (i % 5 === 0) await api.send(id, token, { text: `echo Q${i}` });
        await new Promise((r) => setImmediate(r));
      }
    })();
    await writer;
    const all = await api.history(id, token);
    await until(() => s.messages().length >= all.length, 'every message on the stream', 5000);
    await sleep(50);
    expect(s.messages()).toEqual(all);
    const got = seqs(s.messages());
    expect(got).toEqual([...got].sort((a, b) => a - b));
    expect(new Set(got).size).toBe(got.length);
    expect(s.frames.filter((f) => f.type === 'ready')).toHaveLength(1);
  });

  it('delivers messages committed by another process (found by polling the store)', async () => {
    const { id, token } = await api.start();
    const s = track(stream(srv.url, id, token));
    await s.waitFor((f) => f.type === 'ready', 'ready');
    const other: Baton = await createBaton({ botDir: RELAY_BOT, store: { sqlite: path.join(dir, 'baton.sqlite') }, cacheDir: MODEL_CACHE, logger: silentLogger });
    try {
      const t0 = Date.now();
      const turn = await other.service.send(id, { text: 'echo Q42' });
      expect(turn.replies.map((m) => m.text)).toEqual(['A Q42']);
      await s.waitFor((f) => f.type === 'message' && f.message.text === 'A Q42', 'the other process’s reply', 3000);
      expect(Date.now() - t0).toBeLessThan(2000); // polled every 200 ms here (1 s by default)
      expect(s.messages().map((m) => m.text)).toEqual(['Relay here.', 'echo Q42', 'A Q42']);
    } finally {
      await other.close();
    }
  });
});

describe('shutdown', () => {
  it('closes open streams with 1001 "going away" after delivering what was committed', async () => {
    const d = tmpDir('stream-stop');
    const s2 = await startTestServer(d);
    try {
      const a = client(s2.url);
      const { id, token } = await a.start();
      const s = stream(s2.url, id, token);
      await s.waitFor((f) => f.type === 'ready', 'ready');
      const code = await s2.shutdown('test');
      expect(code).toBe(0);
      expect((await s.closed).code).toBe(1001);
    } finally {
      await s2.shutdown();
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});

/**
 * The messaging guarantees, checked over HTTP against a real server on 127.0.0.1 with a real
 * SQLite file: per-conversation ordering (other conversations in parallel), idempotent retries,
 * commit-then-send (a reply is never returned or pushed before its events are committed, and never
 * at all if the commit fails).
 */
import * as fs from 'fs';
import * as path from 'path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite';
import type { CommitInput, ConversationStore } from '../../src/store/port';
import type { ServerHandle } from '../../src/http/serve';
import { client, sleep, startTestServer, stream, tmpDir } from './helpers/server';

let dir: string;
let srv: ServerHandle;
let api: ReturnType<typeof client>;
let actionMs = 0;

beforeAll(async () => {
  dir = tmpDir('guarantees');
  srv = await startTestServer(dir, {}, { actions: { pause: async () => (await sleep(actionMs), { ok: true }) } });
  api = client(srv.url);
});
afterAll(async () => {
  await srv?.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  actionMs = 0;
});

const lines = (h: any[]) => h.map((m) => `${m.from}: ${m.text}`);

describe('ordering', () => {
  it('processes messages to one conversation one at a time, in arrival order: each question is followed by its reply', async () => {
    const { id, token } = await api.start();
    actionMs = 400;
    // Q0 is slow; Q1..Q10 arrive 15 ms apart while it runs and queue behind it.
    const pending = [api.send(id, token, { text: 'slow Q0' })];
    for (let i = 1; i <= 10; i++) {
      await sleep(15);
      pending.push(api.send(id, token, { text: `echo Q${i}` }));
    }
    const replies = await Promise.all(pending);
    expect(replies.map((r) => r.status)).toEqual(Array(11).fill(200));
    expect(replies.map((r) => r.body.messages.map((m: any) => m.text).join())).toEqual(['S Q0 done', ...Array.from({ length: 10 }, (_, i) => `A Q${i + 1}`)]);
    const expected = ['bot: Relay here.', 'customer: slow Q0', 'bot: S Q0 done'];
    for (let i = 1; i <= 10; i++) expected.push(`customer: echo Q${i}`, `bot: A Q${i}`);
    expect(lines(await api.history(id, token))).toEqual(expected);
  });

  it('keeps every question next to its reply when many arrive at once', async () => {
    const { id, token } = await api.start();
    const n = 25;
    const replies = await Promise.all(Array.from({ length: n }, (_, i) => api.send(id, token, { text: `echo Q${i}`, clientMessageId: `burst-${i}` })));
    replies.forEach((r, i) => expect(r.body.messages.map((m: any) => m.text)).toEqual([`A Q${i}`]));
    const h = (await api.history(id, token)).slice(1);
    expect(h).toHaveLength(2 * n);
    for (let k = 0; k < n; k++) {
      const q = h[2 * k];
      expect(q.from).toBe('customer');
      expect(h[2 * k + 1]).toMatchObject({ from: 'bot', text: q.text.replace('echo', 'A') });
    }
    expect(new Set(h.filter((m: any) => m.from === 'customer').map((m: any) => m.text)).size).toBe(n);
  });

  it('lets other conversations proceed while one is busy', async () => {
    const a = await api.start();
    const b = await api.start();
    actionMs = 800;
    const t0 = Date.now();
    const slow = api.send(a.id, a.token, { text: 'slow Q1' });
    await sleep(50);
    const quick = await api.send(b.id, b.token, { text: 'echo Q2' });
    const quickMs = Date.now() - t0;
    expect(quick.body.messages[0].text).toBe('A Q2');
    expect(quickMs).toBeLessThan(600);
    expect((await slow).body.messages[0].text).toBe('S Q1 done');
  });
});

describe('idempotency', () => {
  it('processes a message sent 3 times at once with the same clientMessageId once, and answers all three the same', async () => {
    const { id, token } = await api.start();
    actionMs = 150;
    const rs = await Promise.all([1, 2, 3].map(() => api.send(id, token, { text: 'slow Q5', clientMessageId: 'same-1' })));
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(rs.map((r) => r.body.duplicate).sort()).toEqual([false, true, true]);
    for (const r of rs) expect(r.body.messages).toEqual(rs[0].body.messages);
    expect(lines(await api.history(id, token))).toEqual(['bot: Relay here.', 'customer: slow Q5', 'bot: S Q5 done']);
    // …and again later, one by one.
    const later = await api.send(id, token, { text: 'slow Q5', clientMessageId: 'same-1' });
    expect(later.body).toEqual({ ...rs[0].body, duplicate: true });
  });
});

describe('commit-then-send', () => {
  it('returns and pushes a reply only after its events are in the database', async () => {
    const { id, token } = await api.start();
    const reader = new Database(path.join(dir, 'baton.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const stored = (seq: number) => reader.prepare('SELECT type FROM events WHERE conversation_id = ? AND seq = ?').get(id, seq) as { type: string } | undefined;
      const s = stream(srv.url, id, token);
      await s.waitFor((f) => f.type === 'ready', 'ready');
      const inDbWhenPushed: boolean[] = [];
      s.ws.on('message', (data) => {
        const f = JSON.parse(data.toString());
        if (f.type === 'message') inDbWhenPushed.push(stored(f.message.seq) !== undefined);
      });
      for (let i = 0; i < 5; i++) {
        const r = await api.send(id, token, { text: `echo Q${i}` });
        // Checked the moment the response arrives, from another connection to the file.
        expect(stored(r.body.messages[0].seq)).toEqual({ type: 'bot_message' });
      }
      await s.waitFor((f) => f.type === 'message' && f.message.text === 'A Q4', 'last reply');
      expect(inDbWhenPushed).toEqual(Array(10).fill(true));
      await s.close();
    } finally {
      reader.close();
    }
  });

  it('never shows a reply whose commit failed: the client gets an error and may retry', async () => {
    const d = tmpDir('commit-fail');
    const inner = new SqliteStore({ filename: path.join(d, 'baton.sqlite') });
    let failNext = false;
    const flaky: ConversationStore = new Proxy(inner, {
      get(target, prop) {
        if (prop === 'commit')
          return async (input: CommitInput) => {
            if (failNext) {
              failNext = false;
              throw new Error('disk I/O error (injected)');
            }
            return target.commit(input);
          };
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const s2 = await startTestServer(d, {}, { store: flaky });
    try {
      const a = client(s2.url);
      const { id, token } = await a.start();
      const s = stream(s2.url, id, token);
      await s.waitFor((f) => f.type === 'ready', 'ready');
      failNext = true;
      const r = await a.send(id, token, { text: 'echo Q1', clientMessageId: 'x' });
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ error: { code: 'internal', message: expect.any(String) } });
      expect(JSON.stringify(r.body)).not.toContain('injected');
      await sleep(100);
      expect(s.messages().map((m) => m.text)).toEqual(['Relay here.']);
      expect(lines(await a.history(id, token))).toEqual(['bot: Relay here.']);
      // The retry is processed (nothing was half-written) and answered once.
      const retry = await a.send(id, token, { text: 'echo Q1', clientMessageId: 'x' });
      expect(retry.body).toMatchObject({ duplicate: false, messages: [{ text: 'A Q1' }] });
      await s.waitFor((f) => f.type === 'message' && f.message.text === 'A Q1', 'the reply after the retry');
      expect(lines(await a.history(id, token))).toEqual(['bot: Relay here.', 'customer: echo Q1', 'bot: A Q1']);
      await s.close();
    } finally {
      await s2.shutdown();
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});

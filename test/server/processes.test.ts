/**
 * Real `baton serve` processes on 127.0.0.1 sharing one SQLite file:
 * - two servers serving the same conversation concurrently: no lost update, every message
 *   answered exactly once, event seqs contiguous, a stream on one server sees the other's messages;
 * - SIGTERM during a slow turn: the reply still arrives, its events are committed, exit 0;
 * - kill -9 during a slow action: nothing acknowledged is lost, nothing half-done is shown after a
 *   restart, and the conversation carries on.
 */
import * as fs from 'fs';
import * as path from 'path';
import Database from 'better-sqlite3';
import { client, killServer, sleep, spawnServer, stream, tmpDir, until, type ChildServer } from './helpers/server';

jest.setTimeout(30_000);

const children: ChildServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => killServer(c)));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function start(dir: string, env: Record<string, string> = {}): Promise<ChildServer> {
  const c = await spawnServer(dir, env);
  children.push(c);
  return c;
}

function readEvents(file: string, id: string): { seq: number; type: string; data: any }[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT seq, type, data FROM events WHERE conversation_id = ? ORDER BY seq').all(id) as { seq: number; type: string; data: string }[]).map((r) => ({
      ...r,
      data: JSON.parse(r.data),
    }));
  } finally {
    db.close();
  }
}

const transcript = (events: { type: string; data: any }[]) =>
  events.filter((e) => e.type === 'customer_message' || e.type === 'bot_message').map((e) => (e.type === 'customer_message' ? `customer: ${e.data.text}` : `bot: ${e.data.message.text}`));

describe('two server processes on one SQLite file', () => {
  it('serve one conversation concurrently without losing or doubling anything', async () => {
    const dir = tmpDir('two');
    dirs.push(dir);
    const [a, b] = await Promise.all([start(dir), start(dir)]);
    const A = client(a.url);
    const B = client(b.url);
    const { id, token } = await A.start();
    const s = stream(a.url, id, token);
    await s.waitFor((f) => f.type === 'ready', 'ready on A');

    // 30 messages, alternately to A and B, all at once; 5 of them are also retried on the other server.
    const n = 30;
    const sends: Promise<{ status: number; body: any }>[] = [];
    for (let i = 0; i < n; i++) {
      const body = { text: `echo Q${i}`, clientMessageId: `m-${i}` };
      sends.push((i % 2 ? A : B).send(id, token, body));
      if (i % 6 === 0) sends.push((i % 2 ? B : A).send(id, token, body));
    }
    const replies = await Promise.all(sends);
    expect(replies.map((r) => r.status)).toEqual(Array(sends.length).fill(200));

    const events = readEvents(path.join(dir, 'baton.sqlite'), id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const t = transcript(events).slice(1);
    expect(t).toHaveLength(2 * n);
    for (let k = 0; k < n; k++) {
      expect(t[2 * k]).toMatch(/^customer: echo Q\d+$/);
      expect(t[2 * k + 1]).toBe(t[2 * k].replace('customer: echo', 'bot: A'));
    }
    expect(new Set(t.filter((l) => l.startsWith('customer')))).toEqual(new Set(Array.from({ length: n }, (_, i) => `customer: echo Q${i}`)));
    // Both servers answer the history identically, and A's stream got B's messages too.
    expect(await B.history(id, token)).toEqual(await A.history(id, token));
    const all = await A.history(id, token);
    await until(() => s.messages().length === all.length, 'every message on the stream of A', 5000);
    expect(s.messages()).toEqual(all);
    await s.close();
  });
});

describe('graceful shutdown', () => {
  it('on SIGTERM finishes the turn in progress (reply sent, events committed), closes streams with 1001 and exits 0', async () => {
    const dir = tmpDir('sigterm');
    dirs.push(dir);
    const srv = await start(dir, { RELAY_ACTION_MS: '1200' });
    const api = client(srv.url);
    const { id, token } = await api.start();
    const s = stream(srv.url, id, token);
    await s.waitFor((f) => f.type === 'ready', 'ready');
    const reply = api.send(id, token, { text: 'slow Q1', clientMessageId: 'slow-1' });
    await s.waitFor((f) => f.type === 'typing', 'the turn to start');
    srv.proc.kill('SIGTERM');
    const r = await reply;
    expect(r.status).toBe(200);
    expect(r.body.messages.map((m: any) => m.text)).toEqual(['S Q1 done']);
    expect((await s.closed).code).toBe(1001);
    expect(s.messages().map((m) => m.text)).toEqual(['Relay here.', 'slow Q1', 'S Q1 done']);
    expect(await srv.exited).toEqual({ code: 0, signal: null });
    expect(transcript(readEvents(path.join(dir, 'baton.sqlite'), id))).toEqual(['bot: Relay here.', 'customer: slow Q1', 'bot: S Q1 done']);
    expect(srv.stderr()).not.toMatch(/"level":"(error|fatal)"/);
  });
});

describe('crash (kill -9) in the middle of a turn', () => {
  it('loses nothing acknowledged and shows nothing half-done after a restart', async () => {
    const dir = tmpDir('crash');
    dirs.push(dir);
    const file = path.join(dir, 'baton.sqlite');
    const first = await start(dir, { RELAY_ACTION_MS: '10000' });
    const api = client(first.url);
    const { id, token } = await api.start();
    for (let i = 1; i <= 3; i++) expect((await api.send(id, token, { text: `echo Q${i}`, clientMessageId: `c-${i}` })).status).toBe(200);
    const acknowledged = await api.history(id, token);
    const lost = api.send(id, token, { text: 'slow Q9', clientMessageId: 'c-9' }).then(
      (r) => r,
      (e: Error) => e,
    );
    // The slow turn committed its first part (the message and the action request); the action is running.
    await until(() => readEvents(file, id).some((e) => e.type === 'action_requested'), 'the action to start', 5000);
    first.proc.kill('SIGKILL');
    expect(await lost).toEqual(expect.objectContaining({ message: expect.any(String) })); // a network error: never acknowledged
    await first.exited;

    const second = await start(dir, { RELAY_ACTION_MS: '10' });
    const api2 = client(second.url);
    const after = await api2.history(id, token);
    // Everything acknowledged is there, unchanged; of the interrupted turn only the accepted message.
    expect(after.slice(0, acknowledged.length)).toEqual(acknowledged);
    expect(after.slice(acknowledged.length).map((m: any) => `${m.from}: ${m.text}`)).toEqual(['customer: slow Q9']);
    const events = readEvents(file, id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    // The client retries: the message is known (not processed twice); its answer was lost with the process.
    const retry = await api2.send(id, token, { text: 'slow Q9', clientMessageId: 'c-9' });
    expect(retry.body).toMatchObject({ duplicate: true, messages: [] });
    // The conversation carries on: the interrupted action is reported as failed, then the new message is answered.
    const next = await api2.send(id, token, { text: 'echo Q10', clientMessageId: 'c-10' });
    expect(next.status).toBe(200);
    expect(next.body.messages.map((m: any) => m.text)).toContain('S Q9 failed');
    const final = await api2.history(id, token);
    expect(final.filter((m: any) => m.text === 'slow Q9')).toHaveLength(1);
    await killServer(second);
    await sleep(10);
  });
});

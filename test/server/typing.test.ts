/**
 * Typing indicators between customers and agents, and the life of an agent stream, over real
 * sockets on 127.0.0.1 (acme bot, SQLite file, injected clock for token expiry):
 * - customer → agent: a `typing` frame on the customer stream reaches the agents who see the
 *   conversation (assignee, admins) as `{ type: 'typing', conversationId, from: 'customer' }`,
 *   only while it is with a person, only from an authorised stream, throttled per connection;
 * - agent → customer: `{ type: 'typing', conversationId }` on the agent stream reaches the
 *   conversation's customer streams as `{ type: 'typing', from: 'agent', name }`, only from its
 *   assignee;
 * - flooding either stream closes it (1008 `rate_limited`);
 * - an agent stream is closed with `token_expired` / 4401 when its token expires, an agent removed
 *   from the store loses their streams (4401), one whose role changes is asked to reconnect (4409).
 *
 * "Nothing arrives" is checked after a generous pause and a later frame that does arrive (the
 * relay is in order per stream), never by racing a timer.
 */
import * as fs from 'fs';
import * as path from 'path';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { client, sleep, startTestServer, stream, tmpDir, until, within, ROOT, type StreamRecorder } from './helpers/server';
import type { ServerHandle } from '../../src/http/serve';

jest.setTimeout(60_000);

const ACME = path.join(ROOT, 'bots', 'acme');
// Tuesday 2026-03-10 11:00 in New York: inside acme's opening hours.
let now = new Date('2026-03-10T15:00:00.000Z');
const clock = () => now;
let srv: ServerHandle;
let dir: string;
let api: ReturnType<typeof client>;
const ADMIN_PW = 'admin-password-123';
const AGENT_PW = 'agent-password-123';
let admin: { token: string; agent: any };
let sam: { token: string; agent: any };
let kim: { token: string; agent: any };

beforeAll(async () => {
  dir = tmpDir('typing');
  srv = await startTestServer(dir, { BATON_BOT: ACME, BATON_SEED_ADMIN_PASSWORD: ADMIN_PW, BATON_SEED_AGENT_PASSWORD: AGENT_PW, BATON_POLL_INTERVAL_MS: '100' }, { clock, print: () => undefined });
  api = client(srv.url);
  admin = await login('admin@acme.example', ADMIN_PW);
  sam = await login('agent@acme.example', AGENT_PW);
  const created = await api.call('POST', '/api/v1/agent/agents', { token: admin.token, body: { email: 'kim@acme.example', name: 'Kim', password: 'kim-password-123' } });
  expect(created.status).toBe(201);
  kim = await login('kim@acme.example', 'kim-password-123');
});
afterAll(async () => {
  await srv?.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function login(email: string, password: string) {
  const r = await api.call('POST', '/api/v1/agent/login', { body: { email, password } });
  expect(r.status).toBe(200);
  return r.body as { token: string; agent: any };
}

interface AgentStream {
  ws: WebSocket;
  frames: any[];
  closed: Promise<{ code: number; reason: string }>;
  send(f: unknown): void;
  waitFor(pred: (f: any) => boolean, what: string, ms?: number): Promise<any>;
  close(): Promise<void>;
}

async function agentStream(token: string): Promise<AgentStream> {
  const ws = new WebSocket(`${srv.url.replace(/^http/, 'ws')}/api/v1/agent/stream?token=${encodeURIComponent(token)}`);
  const frames: any[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
  const s: AgentStream = {
    ws,
    frames,
    closed,
    send: (f) => ws.send(JSON.stringify(f)),
    waitFor: (pred, what, ms = 5000) => until(() => frames.find(pred), what, ms, 10),
    close: async () => {
      ws.close();
      await within(closed, 1000);
    },
  };
  await s.waitFor((f) => f.type === 'ready', 'agent stream ready');
  return s;
}

async function customerStream(id: string, token: string): Promise<StreamRecorder> {
  const s = stream(srv.url, id, token);
  await s.waitFor((f) => f.type === 'ready', 'customer stream ready');
  return s;
}

/** A customer who asks for a person (a waiting conversation, nobody online: it waits). */
async function handedOff() {
  const c = await api.start({});
  await api.send(c.id, c.token, { text: 'talk to a person' });
  const b = await api.send(c.id, c.token, { text: 'Orders & delivery' });
  expect(b.body.handoff).toMatchObject({ reason: 'customer_request' });
  await srv.baton.handoff.idle();
  return c;
}

async function accept(token: string, id: string) {
  const r = await api.call('POST', `/api/v1/agent/conversations/${id}/accept`, { token, body: {} });
  expect(r.status).toBe(200);
}

const customerTyping = (id: string) => (f: any) => f.type === 'typing' && f.conversationId === id;
const agentTyping = (f: any) => f.type === 'typing' && f.from === 'agent';
const count = (frames: any[], pred: (f: any) => boolean) => frames.filter(pred).length;

describe('customer typing → agent streams', () => {
  it('reaches the assignee and admins of a handed-off conversation, not other agents; only while it is with a person', async () => {
    const c = await handedOff();
    await accept(sam.token, c.id);
    const [samS, kimS, adminS] = await Promise.all([agentStream(sam.token), agentStream(kim.token), agentStream(admin.token)]);
    const cs = await customerStream(c.id, c.token);
    try {
      cs.ws.send('{"type":"typing"}');
      const f = await samS.waitFor(customerTyping(c.id), 'typing on the assignee’s stream');
      expect(f).toEqual({ type: 'typing', conversationId: c.id, from: 'customer' });
      await adminS.waitFor(customerTyping(c.id), 'typing on the admin’s stream');
      // The customer stream itself stays quiet: no error, no echo.
      expect(cs.frames.filter((x) => x.type === 'error' || x.type === 'typing')).toEqual([]);

      // Kim (an agent without this conversation) is told nothing: a later frame for her arrives, the typing never did.
      const mine = await handedOff(); // waiting: every agent with the skill sees it, Kim too
      const cm = await customerStream(mine.id, mine.token);
      cm.ws.send('{"type":"typing"}');
      await kimS.waitFor(customerTyping(mine.id), 'typing of a waiting conversation on Kim’s stream');
      expect(kimS.frames.filter(customerTyping(c.id))).toEqual([]);
      await cm.close();

      // Handed back to the bot: the customer's typing goes nowhere.
      const hb = await api.call('POST', `/api/v1/agent/conversations/${c.id}/handback`, { token: sam.token, body: { flow: null } });
      expect(hb.status).toBe(200);
      await srv.baton.handoff.idle();
      await sleep(1100); // past the per-connection throttle
      const before = count(samS.frames, customerTyping(c.id)) + count(adminS.frames, customerTyping(c.id));
      cs.ws.send('{"type":"typing"}');
      await sleep(300);
      cs.ws.send('{"type":"ping"}');
      await cs.waitFor((x) => x.type === 'pong', 'pong');
      await sleep(300);
      expect(count(samS.frames, customerTyping(c.id)) + count(adminS.frames, customerTyping(c.id))).toBe(before);
    } finally {
      await Promise.all([cs.close(), samS.close(), kimS.close(), adminS.close()]);
    }
  });

  it('a never handed-off conversation: nobody is told', async () => {
    const adminS = await agentStream(admin.token);
    const c = await api.start({});
    const cs = await customerStream(c.id, c.token);
    const other = await handedOff();
    const os = await customerStream(other.id, other.token);
    try {
      cs.ws.send('{"type":"typing"}');
      await sleep(200);
      os.ws.send('{"type":"typing"}'); // sent after: arrives after anything the first could have caused
      await adminS.waitFor(customerTyping(other.id), 'the handed-off conversation’s typing');
      await sleep(200);
      expect(adminS.frames.filter(customerTyping(c.id))).toEqual([]);
    } finally {
      await Promise.all([cs.close(), os.close(), adminS.close()]);
    }
  });

  it('is accepted only on an authorised stream: a customer cannot make another conversation’s agent see typing', async () => {
    const victim = await handedOff();
    await accept(sam.token, victim.id);
    const attacker = await api.start({});
    const samS = await agentStream(sam.token);
    try {
      // The attacker's own token on the victim's stream, and no token at all: typing sent at once, before the check ends.
      for (const token of [attacker.token, undefined]) {
        const s = stream(srv.url, victim.id, token);
        await s.opened;
        for (let i = 0; i < 3; i++) s.ws.send('{"type":"typing"}');
        expect(await within(s.closed, 5000)).toMatchObject({ code: 4401 });
        expect(s.frames.find((f) => f.type === 'error')).toMatchObject({ error: { code: token ? 'forbidden' : 'unauthorized' } });
      }
      // The attacker's own (authorised, not handed-off) stream: their typing is about their conversation only.
      const own = await customerStream(attacker.id, attacker.token);
      own.ws.send('{"type":"typing"}');
      await sleep(300);
      await own.close();
      // The real customer types: that one arrives, and it is the only one Sam ever got.
      const real = await customerStream(victim.id, victim.token);
      real.ws.send('{"type":"typing"}');
      await samS.waitFor(customerTyping(victim.id), 'the real customer’s typing');
      await sleep(200);
      expect(samS.frames.filter((f) => f.type === 'typing')).toEqual([{ type: 'typing', conversationId: victim.id, from: 'customer' }]);
      await real.close();
    } finally {
      await samS.close();
      await api.call('POST', `/api/v1/agent/conversations/${victim.id}/resolve`, { token: sam.token, body: {} });
    }
  });

  it('is throttled per connection (one per second relayed), and a flood closes the stream with 1008', async () => {
    const c = await handedOff();
    await accept(sam.token, c.id);
    const samS = await agentStream(sam.token);
    const cs = await customerStream(c.id, c.token);
    try {
      for (let i = 0; i < 10; i++) cs.ws.send('{"type":"typing"}');
      await samS.waitFor(customerTyping(c.id), 'the first typing');
      await sleep(1100);
      cs.ws.send('{"type":"typing"}');
      await until(() => count(samS.frames, customerTyping(c.id)) === 2, 'the second typing, after the interval');
      await sleep(200);
      expect(count(samS.frames, customerTyping(c.id))).toBe(2);

      // A flood (far past the burst allowance): an error frame, then 1008.
      for (let i = 0; i < 100 && cs.ws.readyState === WebSocket.OPEN; i++) cs.ws.send('{"type":"typing"}');
      expect(await within(cs.closed, 5000)).toMatchObject({ code: 1008 });
      expect(cs.frames.find((f) => f.type === 'error')).toMatchObject({ error: { code: 'rate_limited' } });
      expect(count(samS.frames, customerTyping(c.id))).toBeLessThanOrEqual(3);
    } finally {
      await Promise.all([cs.close(), samS.close()]);
      await api.call('POST', `/api/v1/agent/conversations/${c.id}/resolve`, { token: sam.token, body: {} });
    }
  });
});

describe('agent typing → customer streams', () => {
  it('reaches the conversation’s customer streams with the agent’s name; only from its assignee', async () => {
    const c = await handedOff();
    await accept(sam.token, c.id);
    const other = await handedOff();
    const [samS, kimS, adminS] = await Promise.all([agentStream(sam.token), agentStream(kim.token), agentStream(admin.token)]);
    const [cs1, cs2, os] = await Promise.all([customerStream(c.id, c.token), customerStream(c.id, c.token), customerStream(other.id, other.token)]);
    try {
      samS.send({ type: 'typing', conversationId: c.id });
      for (const s of [cs1, cs2]) expect(await s.waitFor(agentTyping, 'agent typing on the customer stream')).toEqual({ type: 'typing', from: 'agent', name: 'Sam' });

      // Kim and the admin do not have it: refused with an error frame (their stream stays open), nothing reaches the customer.
      for (const s of [kimS, adminS]) {
        s.send({ type: 'typing', conversationId: c.id });
        expect(await s.waitFor((f) => f.type === 'error', 'not_assigned')).toMatchObject({ error: { code: 'not_assigned' } });
      }
      // Nor for a waiting conversation, nor one that does not exist.
      samS.send({ type: 'typing', conversationId: other.id });
      samS.send({ type: 'typing', conversationId: 'no-such-conversation' });
      await until(() => count(samS.frames, (f) => f.type === 'error' && f.error.code === 'not_assigned') === 2, 'two refusals');
      // Malformed typing frames are invalid frames.
      samS.send({ type: 'typing' });
      await samS.waitFor((f) => f.type === 'error' && f.error.code === 'invalid_frame', 'invalid_frame');
      await sleep(200);
      expect(count(cs1.frames, agentTyping)).toBe(1);
      expect(count(cs2.frames, agentTyping)).toBe(1);
      expect(os.frames.filter(agentTyping)).toEqual([]);
      expect([kimS, adminS].every((s) => s.ws.readyState === WebSocket.OPEN)).toBe(true);

      // Throttled per conversation and connection: a burst gives one more, after the interval.
      await sleep(1100);
      for (let i = 0; i < 5; i++) samS.send({ type: 'typing', conversationId: c.id });
      await until(() => count(cs1.frames, agentTyping) === 2, 'the second agent typing');
      await sleep(300);
      expect(count(cs1.frames, agentTyping)).toBe(2);

      // Once transferred away from Sam, his typing is refused.
      const t = await api.call('POST', `/api/v1/agent/conversations/${c.id}/transfer`, { token: sam.token, body: { agentId: kim.agent.id } });
      expect(t.status).toBe(200);
      await sleep(1100);
      const refusals = count(samS.frames, (f) => f.type === 'error');
      samS.send({ type: 'typing', conversationId: c.id });
      await until(() => count(samS.frames, (f) => f.type === 'error') === refusals + 1, 'refused after the transfer');
      kimS.send({ type: 'typing', conversationId: c.id });
      await until(() => cs1.frames.some((f) => agentTyping(f) && f.name === 'Kim'), 'Kim typing, now hers');
      expect(count(cs1.frames, agentTyping)).toBe(3);
    } finally {
      await Promise.all([cs1.close(), cs2.close(), os.close(), samS.close(), kimS.close(), adminS.close()]);
      await api.call('POST', `/api/v1/agent/conversations/${c.id}/resolve`, { token: kim.token, body: {} });
    }
  });

  it('a flooding agent stream is closed with 1008', async () => {
    const s = await agentStream(sam.token);
    for (let i = 0; i < 100 && s.ws.readyState === WebSocket.OPEN; i++) s.send({ type: 'ping' });
    expect(await within(s.closed, 5000)).toMatchObject({ code: 1008 });
    expect(s.frames.find((f) => f.type === 'error')).toMatchObject({ error: { code: 'rate_limited' } });
  });
});

describe('agent streams end with the agent’s access', () => {
  it('closes an open stream when its token expires (error token_expired, 4401), not before', async () => {
    const t0 = now;
    try {
      const fresh = await login('agent@acme.example', AGENT_PW);
      const s = await agentStream(fresh.token);
      // 11 hours later (the token lasts 12): still open, still answering.
      now = new Date(t0.getTime() + 11 * 3600_000);
      await sleep(1500);
      s.send({ type: 'ping' });
      await s.waitFor((f) => f.type === 'pong', 'pong at 11 h');
      expect(s.ws.readyState).toBe(WebSocket.OPEN);
      // Past the expiry: closed by the server within its check interval (1 s), with the reason.
      now = new Date(t0.getTime() + 12 * 3600_000 + 1);
      expect(await within(s.closed, 5000)).toEqual({ code: 4401, reason: 'token expired' });
      expect(s.frames[s.frames.length - 1]).toEqual({ type: 'error', error: { code: 'token_expired', message: expect.any(String) } });
      // And the same token cannot open a new one.
      const again = new WebSocket(`${srv.url.replace(/^http/, 'ws')}/api/v1/agent/stream?token=${encodeURIComponent(fresh.token)}`);
      again.on('error', () => undefined);
      const code = await within(new Promise<number>((r) => again.on('close', (c) => r(c))), 5000);
      expect(code).toBe(4401);
    } finally {
      now = t0;
    }
  });

  it('an agent removed from the store loses their streams (4401); one whose role changes is asked to reconnect (4409)', async () => {
    const r = await api.call('POST', '/api/v1/agent/agents', { token: admin.token, body: { email: 'lee@acme.example', name: 'Lee', password: 'lee-password-123', role: 'admin' } });
    expect(r.status).toBe(201);
    const lee = await login('lee@acme.example', 'lee-password-123');
    const pat = await api.call('POST', '/api/v1/agent/agents', { token: admin.token, body: { email: 'pat@acme.example', name: 'Pat', password: 'pat-password-123', role: 'admin' } });
    const patLogin = await login('pat@acme.example', 'pat-password-123');
    const [leeS, patS] = await Promise.all([agentStream(lee.token), agentStream(patLogin.token)]);

    // Pat is demoted (by another process, or an admin tool): told to reconnect; the new stream sees as an agent.
    await srv.baton.handoff.store.updateAgent(pat.body.agent.id, { role: 'agent' }, now.toISOString());
    expect(await within(patS.closed, 5000)).toEqual({ code: 4409, reason: 'role changed' });
    expect(patS.frames.find((f) => f.type === 'error')).toMatchObject({ error: { code: 'role_changed' } });
    const patAgain = await agentStream(patLogin.token);
    await patAgain.close();

    // Lee is deleted straight from the database (no API does it): the stream goes.
    const db = new Database(path.join(dir, 'baton.sqlite'));
    try {
      db.prepare('DELETE FROM handoff_agents WHERE id = ?').run(lee.agent.id);
    } finally {
      db.close();
    }
    expect(await within(leeS.closed, 5000)).toEqual({ code: 4401, reason: 'agent removed' });
    expect(leeS.frames.find((f) => f.type === 'error')).toMatchObject({ error: { code: 'agent_removed' } });
  });
});

/**
 * The agent API and streams over real sockets on 127.0.0.1 (acme bot, SQLite file, injected clock):
 * auth, the whole handoff → accept → reply → note → hand back → satisfaction flow, silence while a
 * person owns the conversation, conflicts, business hours, transfers, canned responses.
 */
import * as path from 'path';
import * as fs from 'fs';
import WebSocket from 'ws';
import { createHmac } from 'crypto';
import { client, startTestServer, stream, tmpDir, until, within, IDENTITY_SECRET, ROOT } from '../server/helpers/server';
import type { ServerHandle } from '../../src/http/serve';

jest.setTimeout(60_000);

const ACME = path.join(ROOT, 'bots', 'acme');
// Tuesday 2026-03-10 11:00 in New York (EDT): inside acme's opening hours.
let now = new Date('2026-03-10T15:00:00.000Z');
const clock = () => now;
let srv: ServerHandle;
let dir: string;
let api: ReturnType<typeof client>;
const ADMIN_PW = 'admin-password-123';
const AGENT_PW = 'agent-password-123';

beforeAll(async () => {
  dir = tmpDir('agent-api');
  srv = await startTestServer(dir, { BATON_BOT: ACME, BATON_SEED_ADMIN_PASSWORD: ADMIN_PW, BATON_SEED_AGENT_PASSWORD: AGENT_PW, BATON_POLL_INTERVAL_MS: '100' }, { clock, print: () => undefined });
  api = client(srv.url);
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
const as = (token: string) => ({
  get: (url: string) => api.call('GET', `/api/v1/agent${url}`, { token }),
  post: (url: string, body: unknown = {}) => api.call('POST', `/api/v1/agent${url}`, { token, body }),
});

function agentStream(token: string) {
  const ws = new WebSocket(`${srv.url.replace(/^http/, 'ws')}/api/v1/agent/stream?token=${encodeURIComponent(token)}`);
  const frames: any[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number }>((r) => ws.on('close', (code) => r({ code })));
  return {
    ws,
    frames,
    closed,
    waitFor: (pred: (f: any) => boolean, what: string, ms = 5000) => until(() => frames.find(pred), what, ms, 10),
    close: async () => {
      ws.close();
      await within(closed, 1000);
    },
  };
}

/** A customer who asks for a person and picks a team: returns the conversation. */
async function handedOff(team = 'Orders & delivery', identity?: unknown) {
  const c = await api.start(identity ? { identity } : {});
  const a = await api.send(c.id, c.token, { text: 'talk to a person' });
  expect(a.body.messages[0].text).toContain("what's it about?");
  const b = await api.send(c.id, c.token, { text: team });
  expect(b.body.handoff).toMatchObject({ reason: 'customer_request' });
  await srv.baton.handoff.idle();
  return { ...c, handoffReply: b.body };
}

describe('agent authentication', () => {
  it('logs in with the seeded accounts; a wrong password or unknown e-mail is invalid_credentials', async () => {
    const ok = await login('agent@acme.example', AGENT_PW);
    expect(ok.token).toMatch(/^at\./);
    expect(ok.agent).toEqual({ id: expect.any(String), email: 'agent@acme.example', name: 'Sam', role: 'agent', capacity: 30, presence: 'offline', skills: ['*'] });
    for (const body of [{ email: 'agent@acme.example', password: 'nope-nope-nope' }, { email: 'nobody@acme.example', password: AGENT_PW }]) {
      const r = await api.call('POST', '/api/v1/agent/login', { body });
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('invalid_credentials');
    }
    const me = await as(ok.token).get('/me');
    expect(me.body.agent.email).toBe('agent@acme.example');
  });

  it('stores passwords as bcrypt hashes (cost >= 10), never in clear', async () => {
    const a = await srv.baton.handoff.store.getAgentByEmail('admin@acme.example');
    expect(a!.passwordHash).toMatch(/^\$2[aby]\$1\d\$/);
    expect(a!.passwordHash).not.toContain(ADMIN_PW);
  });

  it('refuses missing, forged and expired tokens (401) and non-admins on admin routes (403)', async () => {
    expect((await api.call('GET', '/api/v1/agent/me')).body.error.code).toBe('unauthorized');
    expect((await api.call('GET', '/api/v1/agent/me', { token: 'at.eyJzdWIiOiJ4In0.forged' })).status).toBe(401);
    const customer = await api.start();
    expect((await api.call('GET', '/api/v1/agent/me', { token: customer.token })).status).toBe(401);
    const { token } = await login('agent@acme.example', AGENT_PW);
    // Agents may list colleagues (to transfer to them) but only admins create them.
    expect((await as(token).get('/agents')).status).toBe(200);
    expect((await as(token).post('/agents', { email: 'x@acme.example', name: 'X', password: 'long-enough-pw' })).status).toBe(403);
    const saved = now;
    now = new Date(now.getTime() + 12 * 3600_000 + 1000);
    try {
      const r = await as(token).get('/me');
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('unauthorized');
    } finally {
      now = saved;
    }
  });

  it('lets an admin create and list agents; e-mails are unique', async () => {
    const { token } = await login('admin@acme.example', ADMIN_PW);
    const r = await as(token).post('/agents', { email: 'Robin@Acme.example', name: 'Robin', password: 'robin-password-1', capacity: 1, skills: ['billing'] });
    expect(r.status).toBe(201);
    expect(r.body.agent).toEqual({ id: expect.any(String), email: 'robin@acme.example', name: 'Robin', role: 'agent', capacity: 1, presence: 'offline', skills: ['billing'] });
    expect((await as(token).post('/agents', { email: 'robin@acme.example', name: 'R2', password: 'robin-password-2' })).body.error.code).toBe('email_taken');
    const list = await as(token).get('/agents');
    expect(list.body.agents.map((a: any) => a.email)).toEqual(expect.arrayContaining(['admin@acme.example', 'agent@acme.example', 'robin@acme.example']));
    expect(JSON.stringify(list.body)).not.toContain('passwordHash');
  });

  it('refuses a bad token on the agent stream with an error frame and close 4401', async () => {
    const s = agentStream('at.bad.token');
    const closed = await within(s.closed, 5000);
    expect(closed?.code).toBe(4401);
    expect(s.frames).toEqual([{ type: 'error', error: expect.objectContaining({ code: 'unauthorized' }) }]);
  });
});

describe('the whole handoff over HTTP and WebSocket', () => {
  it('customer asks for a person → queue → accept → reply, note, silence → hand back → satisfaction answer stored', async () => {
    const sam = await login('agent@acme.example', AGENT_PW);
    const agentWs = agentStream(sam.token);
    await agentWs.waitFor((f) => f.type === 'ready', 'ready');

    const c = await handedOff('Orders & delivery', undefined);
    // Agents exist but nobody is online: the customer is told someone will answer later, and may leave.
    expect(c.handoffReply.messages.map((m: any) => m.text).join(' ')).toMatch(/away from their desk.*close this window/);

    // In the waiting line, pushed to the agent's stream too.
    const item = await agentWs.waitFor((f) => f.type === 'queue' && f.conversation.id === c.id, 'queue frame');
    expect(item.conversation).toMatchObject({ id: c.id, status: 'waiting', reason: 'customer_request', queue: 'orders', priority: 0, assignedTo: null, unread: 0 });
    const waiting = await as(sam.token).get('/conversations?status=waiting');
    expect(waiting.body.conversations.map((x: any) => x.id)).toContain(c.id);

    const custWs = stream(srv.url, c.id, c.token);
    await custWs.waitFor((f) => f.type === 'ready', 'customer ready');

    // Accept: the customer sees who joined.
    const acc = await as(sam.token).post(`/conversations/${c.id}/accept`);
    expect(acc.status).toBe(200);
    expect(acc.body.conversation).toMatchObject({ id: c.id, status: 'assigned', assignedTo: { id: sam.agent.id, name: 'Sam' } });
    await custWs.waitFor((f) => f.type === 'message' && /Sam from our team has joined/.test(f.message.text ?? ''), 'join notice');

    // Reply: in the customer's history and stream, from: agent, with the name only.
    const sent = await as(sam.token).post(`/conversations/${c.id}/messages`, { text: 'Hi, this is Sam. Let me check your order.', clientMessageId: 'agent-m1' });
    expect(sent.status).toBe(200);
    expect(sent.body.message).toEqual({ seq: expect.any(Number), id: expect.any(String), from: 'agent', text: 'Hi, this is Sam. Let me check your order.', createdAt: now.toISOString(), agent: { id: sam.agent.id, name: 'Sam' } });
    const again = await as(sam.token).post(`/conversations/${c.id}/messages`, { text: 'Hi, this is Sam. Let me check your order.', clientMessageId: 'agent-m1' });
    expect(again.body.message).toEqual(sent.body.message);
    const live = await custWs.waitFor((f) => f.type === 'message' && f.message.from === 'agent', 'agent message on the customer stream');
    expect(live.message).toEqual({ seq: sent.body.message.seq, id: sent.body.message.id, from: 'agent', text: sent.body.message.text, agent: { name: 'Sam' }, createdAt: sent.body.message.createdAt });

    // A note: never shown to the customer.
    const note = await as(sam.token).post(`/conversations/${c.id}/notes`, { text: 'VIP customer — be generous' });
    expect(note.body.note).toMatchObject({ from: 'note', text: 'VIP customer — be generous', agent: { id: sam.agent.id, name: 'Sam' } });

    // The customer writes: the bot says nothing (a person has it); the agent's stream gets it.
    const cm = await api.send(c.id, c.token, { text: 'thanks, it is order AB-123456' });
    expect(cm.body.messages).toEqual([]);
    await agentWs.waitFor((f) => f.type === 'message' && f.conversationId === c.id && f.message.from === 'customer' && /AB-123456/.test(f.message.text), 'customer message on the agent stream');
    const mine = await as(sam.token).get('/conversations?status=mine');
    expect(mine.body.conversations.find((x: any) => x.id === c.id)).toMatchObject({ unread: 1, lastMessage: { from: 'customer', text: 'thanks, it is order AB-123456' } });

    const history = await api.history(c.id, c.token);
    expect(history.some((m: any) => /VIP/.test(m.text ?? ''))).toBe(false);
    expect(JSON.stringify(custWs.frames)).not.toContain('VIP');
    const agentMsg = history.find((m: any) => m.from === 'agent');
    expect(agentMsg).toEqual(live.message);

    // The agent's view: full transcript incl. the note, and the context the bot gathered.
    const detail = await as(sam.token).get(`/conversations/${c.id}`);
    expect(detail.status).toBe(200);
    const froms = detail.body.transcript.map((t: any) => t.from);
    expect(froms).toEqual(expect.arrayContaining(['bot', 'customer', 'system', 'agent', 'note']));
    expect(detail.body.context).toMatchObject({ reason: 'customer_request', flow: 'talk_to_person', slots: { support_topic: 'orders' }, channel: 'web', customer: { verified: false } });
    expect(detail.body.context.intents[0]).toMatchObject({ intent: 'builtin.human' });
    const read = await as(sam.token).post(`/conversations/${c.id}/read`, { seq: detail.body.transcript[detail.body.transcript.length - 1].seq });
    expect(read.body).toEqual({});
    expect((await as(sam.token).get('/conversations?status=mine')).body.conversations.find((x: any) => x.id === c.id).unread).toBe(0);

    // Hand back: the bot asks the satisfaction question; the answer is recorded.
    const hb = await as(sam.token).post(`/conversations/${c.id}/handback`);
    expect(hb.body.conversation).toMatchObject({ id: c.id, status: 'bot' });
    await custWs.waitFor((f) => f.type === 'message' && f.message.from === 'bot' && /rate the help/.test(f.message.text ?? ''), 'satisfaction question');
    const rated = await api.send(c.id, c.token, { text: '5' });
    expect(rated.body.messages[0].text).toContain('glad we could help');
    const csat = await srv.baton.store.events(c.id, { types: ['csat'] });
    expect(csat.map((e) => e.data)).toEqual([{ rating: 5, flow: 'satisfaction' }]);
    // The bot answers again.
    const back = await api.send(c.id, c.token, { text: 'where is my order' });
    expect(back.body.messages.length).toBeGreaterThan(0);
    await custWs.close();
    await agentWs.close();
  });

  it('keeps the bot silent while a person owns the conversation, from every device and entry point', async () => {
    const sam = await login('agent@acme.example', AGENT_PW);
    const c = await handedOff('Payments');
    await as(sam.token).post(`/conversations/${c.id}/accept`);
    // Device 1 and device 2 (the same token, e.g. a phone and a laptop), and the embedding API (another channel adapter).
    const r1 = await api.send(c.id, c.token, { text: 'hello?' });
    const r2 = await api.send(c.id, c.token, { text: 'where is my order AB-123456' });
    const r3 = await srv.baton.service.send(c.id, { text: 'talk to a person' });
    const r4 = await srv.baton.service.send(c.id, { text: 'start over' });
    expect([r1.body.messages, r2.body.messages, r3.replies, r4.replies]).toEqual([[], [], [], []]);
    expect((await srv.baton.service.state(c.id))!.status).toBe('handed_off');
    await as(sam.token).post(`/conversations/${c.id}/resolve`);
    expect((await srv.baton.service.state(c.id))!.status).toBe('resolved');
  });

  it('answers 409 when someone else has the conversation, when not assigned, and over capacity', async () => {
    const admin = await login('admin@acme.example', ADMIN_PW);
    await as(admin.token).post('/agents', { email: 'kim@acme.example', name: 'Kim', password: 'kim-password-1', capacity: 1 });
    const sam = await login('agent@acme.example', AGENT_PW);
    const kim = await login('kim@acme.example', 'kim-password-1');
    const c1 = await handedOff('My account');
    const c2 = await handedOff('My account');
    expect((await as(kim.token).post(`/conversations/${c1.id}/accept`)).status).toBe(200);
    const taken = await as(sam.token).post(`/conversations/${c1.id}/accept`);
    expect([taken.status, taken.body.error.code]).toEqual([409, 'already_assigned']);
    const notMine = await as(sam.token).post(`/conversations/${c1.id}/messages`, { text: 'hi' });
    expect([notMine.status, notMine.body.error.code]).toEqual([409, 'not_assigned']);
    const full = await as(kim.token).post(`/conversations/${c2.id}/accept`);
    expect([full.status, full.body.error.code]).toEqual([409, 'over_capacity']);
    expect((await as(sam.token).get('/conversations/nope')).status).toBe(404);
    // Transfer to another agent, then to a queue.
    const t = await as(kim.token).post(`/conversations/${c1.id}/transfer`, { agentId: sam.agent.id });
    expect(t.body.conversation).toMatchObject({ status: 'assigned', assignedTo: { id: sam.agent.id } });
    const q = await as(sam.token).post(`/conversations/${c1.id}/transfer`, { queue: 'billing' });
    expect(q.body.conversation).toMatchObject({ status: 'waiting', queue: 'billing', assignedTo: null });
    const h = await api.history(c1.id, c1.token);
    expect(h.map((m: any) => m.text).join('\n')).toMatch(/Sam from our team has joined[\s\S]*passed your conversation/);
  });

  it('renders canned responses server-side with the customer, slots and agent (HTML-escaped)', async () => {
    const sam = await login('agent@acme.example', AGENT_PW);
    const list = await as(sam.token).get('/canned');
    expect(list.body.responses.map((r: any) => r.id)).toEqual(expect.arrayContaining(['greeting', 'order_lookup']));
    const signature = createHmac('sha256', IDENTITY_SECRET).update('cust-42').digest('hex');
    const c = await handedOff('Orders & delivery', { userId: 'cust-42', signature, name: '<b>Ann</b>', email: 'ann@example.com' });
    const r = await as(sam.token).post(`/conversations/${c.id}/canned/greeting/render`);
    expect(r.body.text).toBe("Hi &lt;b&gt;Ann&lt;/b&gt;, this is Sam from Acme support. I'm reading through your conversation now.");
    const d = await as(sam.token).get(`/conversations/${c.id}`);
    expect(d.body.context.customer).toMatchObject({ id: 'cust-42', name: '<b>Ann</b>', email: 'ann@example.com', verified: true });
    expect(d.body.conversation.customer).toEqual({ id: 'cust-42', name: '<b>Ann</b>', email: 'ann@example.com' });
    expect((await as(sam.token).post(`/conversations/${c.id}/canned/nope/render`)).body.error.code).toBe('canned_not_found');
  });
});

describe('routing and business hours over HTTP', () => {
  it('assigns automatically to an online agent, who the customer sees join', async () => {
    const admin = await login('admin@acme.example', ADMIN_PW);
    await as(admin.token).post('/agents', { email: 'lee@acme.example', name: 'Lee', password: 'lee-password-1', skills: ['returns'] });
    const lee = await login('lee@acme.example', 'lee-password-1');
    const s = agentStream(lee.token);
    await s.waitFor((f) => f.type === 'ready', 'ready');
    expect((await as(lee.token).post('/presence', { presence: 'online' })).body.agent.presence).toBe('online');
    const c = await handedOff('Returns & refunds');
    expect(c.handoffReply.messages.map((m: any) => m.text).join(' ')).toContain('Someone will reply right here, usually within a few minutes');
    const f = await s.waitFor((x) => x.type === 'queue' && x.conversation.id === c.id && x.conversation.status === 'assigned', 'assigned frame');
    expect(f.conversation.assignedTo).toEqual({ id: lee.agent.id, name: 'Lee' });
    const h = await api.history(c.id, c.token);
    expect(h[h.length - 1].text).toContain('Lee from our team has joined');
    await as(lee.token).post('/presence', { presence: 'offline' });
    await s.close();
  });

  it('outside opening hours tells the customer when to expect a reply (in the queue time zone)', async () => {
    const saved = now;
    // Friday 2026-03-13 23:30 in New York: closed until Saturday 10:00.
    now = new Date('2026-03-14T03:30:00.000Z');
    try {
      const c = await handedOff('Orders & delivery');
      const text = c.handoffReply.messages.map((m: any) => m.text).join(' ');
      expect(text).toContain('back tomorrow at 10:00 AM EDT');
      expect(text).toContain('close this window');
      expect(c.handoffReply.handoff).toEqual({ reason: 'customer_request', queue: 'orders' });
    } finally {
      now = saved;
    }
  });
});

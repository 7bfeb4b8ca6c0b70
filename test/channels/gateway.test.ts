/**
 * The channel gateway through a real server (acme bot, SQLite file, 127.0.0.1) with a small test
 * channel: one inbound path (ordering, idempotency by provider message id, numbered replies), one
 * outbound path (rendering for the channel, retries, failures recorded without losing the message,
 * opt-out, proactive agent replies to the channel last used, held messages), one history across
 * channels for a linked customer.
 */
import * as fs from 'fs';
import * as path from 'path';
import express, { Router } from 'express';
import { client, startTestServer, tmpDir, until, IDENTITY_SECRET, ROOT } from '../server/helpers/server';
import type { ServerHandle } from '../../src/http/serve';
import { DeliveryError, type ChannelAdapter, type ChannelCapabilities, type ChannelRoute, type DeliveryContext, type InboundSink, type OutboundPart } from '../../src/channels/port';
import { signLink, signUserId } from '../../src/identity/verify';

jest.setTimeout(60_000);

const ACME = path.join(ROOT, 'bots', 'acme');
// Tuesday 2026-03-10 11:00 in New York: inside acme's opening hours.
let now = new Date('2026-03-10T15:00:00.000Z');
const clock = () => now;

interface Sent {
  route: ChannelRoute;
  parts: OutboundPart[];
  ctx: DeliveryContext;
}

/** A channel like SMS: no buttons, short texts; `failures` are thrown by the next deliveries. */
class TestChannel implements ChannelAdapter {
  readonly name = 'testsms';
  readonly title = 'Test SMS';
  readonly capabilities: ChannelCapabilities = { maxTextLength: 320, maxChoices: 0, maxChoiceTitle: 20, urlButtons: false, images: false, cards: false, markdown: false, typing: false };
  sent: Sent[] = [];
  failures: Error[] = [];
  calls = 0;
  windowOpen = true;
  router(sink: InboundSink): Router {
    const r = Router();
    r.post('/webhooks/testsms', express.raw({ type: () => true }), async (req, res, next) => {
      try {
        const m = JSON.parse(String(req.body));
        if (m.stop) {
          await sink.setOptOut(this.name, m.from, m.stop === 'STOP');
          res.status(200).json({ optOut: m.stop === 'STOP' });
          return;
        }
        const r2 = await sink.receive({ channel: this.name, address: m.from, providerMessageId: m.id, text: m.text, payload: m.payload });
        res.json(r2);
      } catch (e) {
        next(e);
      }
    });
    return r;
  }
  async deliver(route: ChannelRoute, parts: OutboundPart[], ctx: DeliveryContext) {
    this.calls++;
    const f = this.failures.shift();
    if (f) throw f;
    if (!this.windowOpen && Date.parse(ctx.now.toISOString()) - Date.parse(route.lastInboundAt) > 24 * 3600_000) {
      this.sent.push({ route, parts: [{ kind: 'text', text: '[template]' }], ctx });
      return { providerMessageIds: [`tpl-${this.calls}`], held: true, note: 'template' };
    }
    this.sent.push({ route, parts, ctx });
    return { providerMessageIds: [`p-${this.calls}`] };
  }
}

const channel = new TestChannel();
let srv: ServerHandle;
let dir: string;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  dir = tmpDir('channel-gateway');
  srv = await startTestServer(
    dir,
    { BATON_BOT: ACME, BATON_SEED_ADMIN_PASSWORD: 'admin-password-123', BATON_SEED_AGENT_PASSWORD: 'agent-password-123', BATON_IDENTITY_SECRET: IDENTITY_SECRET },
    { clock, print: () => undefined, channels: { adapters: [channel], retry: { attempts: 3, baseMs: 5, maxMs: 50 } } },
  );
  api = client(srv.url);
});
afterAll(async () => {
  await srv?.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  channel.sent = [];
  channel.failures = [];
  channel.windowOpen = true;
});

let n = 0;
const inbound = (from: string, text: string, extra: Record<string, unknown> = {}) =>
  api.call('POST', '/webhooks/testsms', { body: { id: `SM${++n}`, from, text, ...extra } });
const texts = (from: string) => channel.sent.filter((s) => s.route.address === from).map((s) => s.parts.map((p) => (p.kind === 'text' ? p.text : '')).join('\n'));
const transcript = async (id: string) => (await srv.baton.store.events(id, { types: ['customer_message', 'bot_message', 'agent_message'] })).map((e) => ({ type: e.type, text: String((e.data.message as any)?.text ?? e.data.text ?? '') }));

test('a message on a channel starts a conversation; the replies go back on that channel, rendered for it', async () => {
  const from = '+15550000001';
  const r = await inbound(from, 'where is my order');
  expect(r.status).toBe(200);
  const id = r.body.conversationId as string;
  await until(() => texts(from).some((t) => /order number/i.test(t)), 'the bot asks for the order number');
  // The welcome came first, then the answer, in commit order.
  const all = texts(from);
  expect(all.findIndex((t) => /order number/i.test(t))).toBeGreaterThan(0);
  await inbound(from, 'AB-123456');
  await until(() => texts(from).some((t) => /UPS/.test(t)), 'the order status arrives');
  // Every text fits the channel; nothing was HTML-escaped.
  for (const s of channel.sent) for (const p of s.parts) if (p.kind === 'text') expect(p.text.length).toBeLessThanOrEqual(320);
  expect(texts(from).join('\n')).not.toMatch(/&#x27;|&amp;/);
  const state = await srv.baton.service.state(id);
  expect(state?.route).toMatchObject({ channel: 'testsms', address: from });
  const rec = await srv.baton.store.load(id);
  expect(rec?.customerId).toBe(`testsms:${from}`);
});

test('a webhook delivered twice makes one turn and one set of replies', async () => {
  const from = '+15550000002';
  await inbound(from, 'hello');
  await until(() => texts(from).length > 0, 'welcome');
  await srv.baton.channels!.idle();
  const before = channel.sent.length;
  const body = { id: 'SM-dup-1', from, text: 'what are your store hours' };
  const [a, b] = await Promise.all([api.call('POST', '/webhooks/testsms', { body }), api.call('POST', '/webhooks/testsms', { body })]);
  const c = await api.call('POST', '/webhooks/testsms', { body });
  expect([a.body.duplicate, b.body.duplicate].sort()).toEqual([false, true]);
  expect(c.body.duplicate).toBe(true);
  await srv.baton.channels!.idle();
  const id = a.body.conversationId;
  const customer = (await transcript(id)).filter((m) => m.type === 'customer_message' && m.text === 'what are your store hours');
  expect(customer).toHaveLength(1);
  const delivered = channel.sent.slice(before);
  expect(delivered.length).toBeGreaterThan(0);
  expect(new Set(delivered.map((d) => d.ctx.messageId)).size).toBe(delivered.length);
});

test('choices become a numbered list; replying with a number picks that choice', async () => {
  const from = '+15550000003';
  const r = await inbound(from, 'I want to talk to a person');
  const id = r.body.conversationId as string;
  await until(() => texts(from).some((t) => /1\. Orders & delivery/.test(t)), 'the numbered choices');
  const listed = texts(from).find((t) => /1\. Orders & delivery/.test(t))!;
  expect(listed).toMatch(/2\. Returns & refunds/);
  expect(listed).toMatch(/Reply with a number/);
  await srv.baton.channels!.idle();
  await inbound(from, '2');
  const events = await srv.baton.store.events(id, { types: ['customer_message', 'handoff'] });
  expect(events[events.length - 2].data).toMatchObject({ text: 'Returns & refunds' });
  expect(events[events.length - 1].data).toMatchObject({ queue: 'returns' });
});

test('retryable failures are retried; a final failure is recorded and the message stays in the transcript', async () => {
  const from = '+15550000004';
  channel.failures = [new DeliveryError('HTTP 503', true), new DeliveryError('HTTP 429', true, { retryAfterMs: 20 })];
  const r = await inbound(from, 'hi');
  await until(() => texts(from).length > 0, 'delivered after two retries');
  await srv.baton.channels!.idle();
  const id = r.body.conversationId;
  let d = await srv.baton.channels!.deliveries(id);
  expect(d[0]).toMatchObject({ status: 'sent', attempts: 3, providerMessageIds: [expect.any(String)] });

  channel.failures = [new DeliveryError('HTTP 400 bad number', false)];
  await inbound(from, 'what are your store hours');
  await srv.baton.channels!.idle();
  d = await srv.baton.channels!.deliveries(id);
  const failed = d.filter((x) => x.status === 'failed');
  expect(failed).toHaveLength(1);
  expect(failed[0]).toMatchObject({ attempts: 1, error: 'HTTP 400 bad number' });
  const inTranscript = (await srv.baton.store.events(id, { afterSeq: failed[0].seq - 1, limit: 1 }))[0];
  expect(inTranscript.type).toBe('bot_message');

  // Retryable errors that never stop: tried `attempts` times, then failed.
  channel.failures = [new DeliveryError('down', true), new DeliveryError('down', true), new DeliveryError('down', true)];
  await inbound(from, 'thanks');
  await srv.baton.channels!.idle();
  d = await srv.baton.channels!.deliveries(id);
  expect(d.filter((x) => x.status === 'failed' && x.attempts === 3)).toHaveLength(1);
});

test('an opted-out address gets nothing; the messages are kept and recorded as suppressed', async () => {
  const from = '+15550000005';
  const r = await inbound(from, 'hi');
  await until(() => texts(from).length > 0, 'welcome');
  await api.call('POST', '/webhooks/testsms', { body: { from, stop: 'STOP' } });
  const before = texts(from).length;
  await inbound(from, 'what are your store hours');
  await srv.baton.channels!.idle();
  expect(texts(from).length).toBe(before);
  const d = await srv.baton.channels!.deliveries(r.body.conversationId);
  expect(d[d.length - 1]).toMatchObject({ status: 'suppressed' });
  await api.call('POST', '/webhooks/testsms', { body: { from, stop: 'START' } });
  await inbound(from, 'what are your store hours');
  await until(() => texts(from).length > before, 'messages flow again after START');
});

async function agentLogin() {
  const r = await api.call('POST', '/api/v1/agent/login', { body: { email: 'agent@acme.example', password: 'agent-password-123' } });
  expect(r.status).toBe(200);
  return r.body.token as string;
}

test('while an agent has the conversation the bot is silent; the agent reply goes out on the channel, also hours later', async () => {
  const from = '+15550000006';
  const r = await inbound(from, 'I want to talk to a person');
  await inbound(from, '1');
  const id = r.body.conversationId as string;
  const token = await agentLogin();
  await api.call('POST', '/api/v1/agent/presence', { token, body: { presence: 'online' } });
  const acc = await api.call('POST', `/api/v1/agent/conversations/${id}/accept`, { token });
  expect([200, 409]).toContain(acc.status);
  await srv.baton.channels!.idle();
  const before = channel.sent.length;
  await inbound(from, 'hello? anyone?');
  await srv.baton.channels!.idle();
  expect(channel.sent.slice(before).filter((s) => s.ctx.from === 'bot')).toHaveLength(0);
  now = new Date(now.getTime() + 5 * 3600_000);
  const m = await api.call('POST', `/api/v1/agent/conversations/${id}/messages`, { token, body: { text: 'Hi, this is Dana — your parcel left today.' } });
  expect(m.status).toBe(200);
  await until(() => channel.sent.some((s) => s.ctx.from === 'agent' && s.route.address === from), 'the agent reply reaches the channel');
  const sent = channel.sent.find((s) => s.ctx.from === 'agent')!;
  expect(sent.parts[0]).toMatchObject({ kind: 'text', text: 'Hi, this is Dana — your parcel left today.' });
  // The context panel names the channel.
  const detail = await api.call('GET', `/api/v1/agent/conversations/${id}`, { token });
  expect(detail.body.context.channelInfo).toMatchObject({ name: 'testsms', title: 'Test SMS' });
  now = new Date('2026-03-10T15:00:00.000Z');
});

test('a customer who writes from the widget afterwards gets later messages there, not on the channel', async () => {
  const from = '+15550000007';
  const r = await inbound(from, 'hi');
  const id = r.body.conversationId as string;
  // The business links the number to a verified customer; the widget opens with that identity.
  const userId = 'user-7';
  const link = await api.call('POST', '/api/v1/customers/links', { body: { userId, channel: 'testsms', address: from, signature: signLink(userId, 'testsms', from, IDENTITY_SECRET) } });
  expect(link.status).toBe(200);
  const bad = await api.call('POST', '/api/v1/customers/links', { body: { userId, channel: 'testsms', address: from, signature: '0'.repeat(64) } });
  expect(bad.status).toBe(403);
  await srv.baton.channels!.idle();
  const created = await api.call('POST', '/api/v1/conversations', { body: { identity: { userId, signature: signUserId(userId, IDENTITY_SECRET) } } });
  expect(created.status).toBe(201);
  const widgetConv = created.body.conversationId as string;
  // The next SMS from that number joins the customer's latest conversation: one history.
  const r2 = await inbound(from, 'what are your store hours');
  expect(r2.body.conversationId).toBe(widgetConv);
  expect(r2.body.conversationId).not.toBe(id);
  const mine = await api.call('GET', '/api/v1/customers/me/conversations', { token: created.body.customerToken });
  expect(mine.body.conversations.map((c: any) => c.conversationId)).toContain(widgetConv);
  const history = await api.call('GET', `/api/v1/conversations/${widgetConv}/messages`, { token: created.body.customerToken });
  expect(history.body.messages.some((m: any) => m.from === 'customer' && m.text === 'what are your store hours')).toBe(true);
  await until(() => texts(from).some((t) => /hours/i.test(t)), 'the SMS reply');
  await srv.baton.channels!.idle();
  // Now the customer writes in the widget: replies stay in the widget.
  const before = channel.sent.length;
  await api.call('POST', `/api/v1/conversations/${widgetConv}/messages`, { token: created.body.customerToken, body: { text: 'thanks' } });
  await srv.baton.channels!.idle();
  expect(channel.sent.length).toBe(before);
});

test('outside the service window a stand-in is sent and the message follows when the customer writes', async () => {
  const from = '+15550000008';
  const r = await inbound(from, 'I want to talk to a person');
  await inbound(from, '1');
  await inbound(from, '3');
  const id = r.body.conversationId as string;
  const token = await agentLogin();
  expect((await api.call('POST', `/api/v1/agent/conversations/${id}/accept`, { token })).status).toBe(200);
  await srv.baton.channels!.idle();
  channel.windowOpen = false;
  now = new Date(now.getTime() + 30 * 3600_000);
  const later = await agentLogin();
  expect((await api.call('POST', `/api/v1/agent/conversations/${id}/messages`, { token: later, body: { text: 'Sorry for the wait: your refund is on its way.' } })).status).toBe(200);
  await srv.baton.channels!.idle();
  let d = await srv.baton.channels!.deliveries(id);
  expect(d[d.length - 1]).toMatchObject({ status: 'held', note: 'template' });
  expect(texts(from)).toContain('[template]');
  await inbound(from, 'ok what is it?');
  await until(() => texts(from).includes('Sorry for the wait: your refund is on its way.'), 'the held message is sent');
  await srv.baton.channels!.idle();
  d = await srv.baton.channels!.deliveries(id);
  expect(d.filter((x) => x.status === 'held')).toHaveLength(0);
  now = new Date('2026-03-10T15:00:00.000Z');
});

test('two first messages at once from one number make one conversation', async () => {
  const from = '+15550000009';
  const [a, b] = await Promise.all([inbound(from, 'hi'), inbound(from, 'what are your store hours')]);
  expect(a.body.conversationId).toBe(b.body.conversationId);
  expect(await srv.baton.store.list({ customerId: `testsms:${from}` })).toHaveLength(1);
});

describe('after a crash between commit and delivery', () => {
  test('recover() sends what was committed but never sent, once, and only what was meant for the channel', async () => {
    const { createBaton } = await import('../../src/main');
    const { ChannelGateway } = await import('../../src/channels/gateway');
    const { MemoryChannelStore } = await import('../../src/channels/store/memory');
    const { silentLogger } = await import('../../src/util/logger');
    let t = new Date('2026-03-10T15:00:00.000Z');
    const baton = await createBaton({ botDir: ACME, logger: silentLogger, clock: () => t });
    const ch = new TestChannel();
    const channelStore = new MemoryChannelStore();
    // This gateway is not subscribed to the commit feed: like a process that died right after committing.
    const dead = new ChannelGateway({ botId: baton.bot.id, service: baton.service, store: baton.store, channelStore, adapters: [ch], logger: silentLogger, clock: () => t });
    const from = '+15550000010';
    const r = await dead.receive({ channel: 'testsms', address: from, providerMessageId: 'SMc1', text: 'where is my order' });
    expect(ch.sent).toHaveLength(0);
    const restarted = new ChannelGateway({ botId: baton.bot.id, service: baton.service, store: baton.store, channelStore, adapters: [ch], logger: silentLogger, clock: () => t });
    // Too recent: another live process may still be sending them.
    expect(await restarted.recover()).toBe(0);
    t = new Date(t.getTime() + 5 * 60_000);
    expect(await restarted.recover()).toBeGreaterThan(0);
    const texts = ch.sent.map((s) => s.parts.map((p) => (p.kind === 'text' ? p.text : '')).join(''));
    expect(texts.some((x) => /order number/i.test(x))).toBe(true);
    // The welcome, committed before the customer's first message, was not sent as if it were a reply.
    const [welcome] = await baton.store.events(r.conversationId, { types: ['bot_message'], limit: 1 });
    expect(String((welcome.data.message as { text?: string }).text)).toMatch(/Acme Store assistant/);
    expect(texts.join('\n')).not.toMatch(/Acme Store assistant/);
    const n = ch.sent.length;
    expect(await restarted.recover()).toBe(0);
    expect(ch.sent.length).toBe(n);
    expect((await channelStore.deliveries(r.conversationId)).every((d) => d.status === 'sent')).toBe(true);
    await restarted.close();
    await baton.close();
  });
});

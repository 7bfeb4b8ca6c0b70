/**
 * Every provider channel end to end, through `baton serve` as configured from the environment
 * (acme bot, SQLite file, 127.0.0.1): a signed webhook → the bot's turn → the reply at a fake
 * provider API on 127.0.0.1, rendered for that channel; a duplicate webhook makes one turn; a bad
 * signature changes nothing; a handoff and the agent's reply reach the customer on their channel,
 * proactively; a customer linked on two channels has one history.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { createHmac } from 'crypto';
import { client, startTestServer, tmpDir, until, IDENTITY_SECRET, ROOT } from '../server/helpers/server';
import type { ServerHandle } from '../../src/http/serve';
import { signLink, signUserId } from '../../src/identity/verify';

jest.setTimeout(60_000);

const ACME = path.join(ROOT, 'bots', 'acme');
let now = new Date('2026-03-10T15:00:00.000Z'); // Tuesday 11:00 in New York: acme's team is in
const clock = () => now;
const PUBLIC = 'https://support.acme.example';
const TW = { sid: 'AC' + 'a1'.repeat(16), token: 'f0'.repeat(16), from: '+15005550006' };
const WA = { verify: 'wa-verify-token', secret: 'wa-app-secret-0123456789', token: 'EAAwa-token', phone: '106540352242922' };
const MS = { verify: 'ms-verify-token', secret: 'ms-app-secret-0123456789', token: 'EAAms-page-token' };

interface Req {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: any;
}
const requests: Req[] = [];
let n = 0;
const provider = http.createServer((req, res) => {
  let data = '';
  req.on('data', (c) => (data += c));
  req.on('end', () => {
    const u = new URL(req.url!, 'http://x');
    const form = String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded');
    requests.push({ method: req.method!, path: u.pathname, query: u.searchParams, headers: req.headers, body: form ? Object.fromEntries(new URLSearchParams(data)) : data ? JSON.parse(data) : undefined });
    n++;
    res.setHeader('Content-Type', 'application/json');
    if (u.pathname.endsWith('/Messages.json')) res.writeHead(201).end(JSON.stringify({ sid: `SM${String(n).padStart(32, '0')}`, status: 'queued' }));
    else if (u.pathname === `/v21.0/${WA.phone}/messages`) res.end(JSON.stringify({ messaging_product: 'whatsapp', messages: [{ id: `wamid.${n}` }] }));
    else if (u.pathname === '/v21.0/me/messages') res.end(JSON.stringify({ recipient_id: 'x', message_id: `m_${n}` }));
    else if (u.pathname.startsWith('/v3/conversations/')) res.end(JSON.stringify({ id: `act-out-${n}` }));
    else res.writeHead(404).end('{}');
  });
});

let srv: ServerHandle;
let base: string;
let dir: string;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  await new Promise<void>((r) => provider.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
  dir = tmpDir('channels-e2e');
  srv = await startTestServer(
    dir,
    {
      BATON_BOT: ACME,
      BATON_IDENTITY_SECRET: IDENTITY_SECRET,
      BATON_SEED_ADMIN_PASSWORD: 'admin-password-123',
      BATON_SEED_AGENT_PASSWORD: 'agent-password-123',
      BATON_PUBLIC_URL: PUBLIC,
      TWILIO_API_BASE_URL: base,
      META_GRAPH_API_BASE_URL: base,
      ACME_TWILIO_ACCOUNT_SID: TW.sid,
      ACME_TWILIO_AUTH_TOKEN: TW.token,
      ACME_TWILIO_FROM: TW.from,
      ACME_WHATSAPP_VERIFY_TOKEN: WA.verify,
      ACME_WHATSAPP_APP_SECRET: WA.secret,
      ACME_WHATSAPP_TOKEN: WA.token,
      ACME_WHATSAPP_PHONE_NUMBER_ID: WA.phone,
      ACME_WHATSAPP_TEMPLATE: 'support_reply_waiting',
      ACME_MESSENGER_VERIFY_TOKEN: MS.verify,
      ACME_MESSENGER_APP_SECRET: MS.secret,
      ACME_MESSENGER_PAGE_TOKEN: MS.token,
      BATON_BOTFRAMEWORK_LOCAL: 'true',
    },
    { clock, print: () => undefined, channels: { retry: { attempts: 3, baseMs: 5, maxMs: 50 } } },
  );
  api = client(srv.url);
});
afterAll(async () => {
  await srv?.shutdown();
  await new Promise((r) => provider.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

const settle = () => srv.baton.channels!.idle();

// ------------------------------------------------------------------ signed webhooks, as the providers send them

function twilio(params: Record<string, string>, opts: { sign?: 'ok' | 'none' | 'wrong' } = {}) {
  const p = '/webhooks/twilio/acme';
  const data = Object.keys(params)
    .sort()
    .map((k) => k + params[k])
    .join('');
  const sig = createHmac('sha1', opts.sign === 'wrong' ? 'f1'.repeat(16) : TW.token).update(PUBLIC + p + data).digest('base64');
  return fetch(srv.url + p, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(opts.sign === 'none' ? {} : { 'X-Twilio-Signature': sig }) },
    body: new URLSearchParams(params).toString(),
  });
}
let sms = 0;
const smsFrom = (from: string, Body: string, MessageSid = `SM${(++sms).toString(16).padStart(32, '0')}`) =>
  twilio({ MessageSid, AccountSid: TW.sid, From: from, To: TW.from, Body, NumMedia: '0' });

function meta(channel: 'whatsapp' | 'messenger', body: unknown, sign: 'ok' | 'wrong' = 'ok') {
  const raw = JSON.stringify(body);
  const secret = channel === 'whatsapp' ? WA.secret : MS.secret;
  const sig = createHmac('sha256', sign === 'ok' ? secret : 'nope').update(raw).digest('hex');
  return fetch(`${srv.url}/webhooks/${channel}/acme`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': `sha256=${sig}` }, body: raw });
}
let wam = 0;
const waMessage = (from: string, message: Record<string, unknown>) =>
  meta('whatsapp', {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: 'WABA',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550001234', phone_number_id: WA.phone },
              contacts: [{ profile: { name: 'Maria' }, wa_id: from }],
              messages: [{ from, id: `wamid.in.${++wam}`, timestamp: String(Math.floor(now.getTime() / 1000)), ...message }],
            },
          },
        ],
      },
    ],
  });
let mid = 0;
const msMessage = (psid: string, message: Record<string, unknown>) =>
  meta('messenger', { object: 'page', entry: [{ id: 'PAGE', time: now.getTime(), messaging: [{ sender: { id: psid }, recipient: { id: 'PAGE' }, timestamp: now.getTime(), message: { mid: `m_in_${++mid}`, ...message } }] }] });

async function agentToken() {
  const r = await api.call('POST', '/api/v1/agent/login', { body: { email: 'agent@acme.example', password: 'agent-password-123' } });
  return r.body.token as string;
}
const twilioSends = (to: string) => requests.filter((r) => r.path.endsWith('/Messages.json') && r.body.To === to);
const waSends = (to: string) => requests.filter((r) => r.path === `/v21.0/${WA.phone}/messages` && r.body.to === to);
const msSends = (psid: string) => requests.filter((r) => r.path === '/v21.0/me/messages' && r.body.recipient?.id === psid);

// ------------------------------------------------------------------ SMS

test('SMS: signed message → the reply through the Messages API; unsigned or wrongly signed → refused, nothing happens', async () => {
  const from = '+15557770001';
  expect((await twilio({ MessageSid: 'SMx1', From: from, Body: 'hi' }, { sign: 'none' })).status).toBe(401);
  expect((await twilio({ MessageSid: 'SMx2', From: from, Body: 'hi' }, { sign: 'wrong' })).status).toBe(403);
  expect(await srv.baton.store.list({ customerId: `twilio:${from}` })).toHaveLength(0);

  const r = await smsFrom(from, 'where is my order');
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/xml/);
  await until(() => twilioSends(from).some((s) => /order number/i.test(s.body.Body)), 'the SMS reply');
  const sent = twilioSends(from)[0];
  expect(sent.method).toBe('POST');
  expect(sent.path).toBe(`/2010-04-01/Accounts/${TW.sid}/Messages.json`);
  expect(sent.headers.authorization).toBe(`Basic ${Buffer.from(`${TW.sid}:${TW.token}`).toString('base64')}`);
  expect(sent.body).toMatchObject({ To: from, From: TW.from, StatusCallback: `${PUBLIC}/webhooks/twilio/acme/status` });

  await smsFrom(from, 'AB-123456');
  await until(() => twilioSends(from).some((s) => /UPS/.test(s.body.Body)), 'the order status by SMS');
});

test('SMS: the same MessageSid delivered three times makes one turn and one set of replies', async () => {
  const from = '+15557770002';
  await smsFrom(from, 'hello');
  await settle();
  const before = twilioSends(from).length;
  const sid = 'SM' + 'd'.repeat(32);
  const results = await Promise.all([smsFrom(from, 'what are your store hours', sid), smsFrom(from, 'what are your store hours', sid)]);
  await smsFrom(from, 'what are your store hours', sid);
  expect(results.map((x) => x.status)).toEqual([200, 200]);
  await settle();
  const id = (await srv.baton.store.list({ customerId: `twilio:${from}` }))[0].id;
  const asked = (await srv.baton.store.events(id, { types: ['customer_message'] })).filter((e) => e.data.text === 'what are your store hours');
  expect(asked).toHaveLength(1);
  const replies = twilioSends(from).slice(before);
  expect(replies.length).toBeGreaterThan(0);
  expect(new Set(replies.map((x) => x.body.Body)).size).toBe(replies.length);
});

test('SMS: choices as a numbered list, "1" picks; the agent reply reaches the phone; delivery status is recorded', async () => {
  const from = '+15557770003';
  await smsFrom(from, 'I want to talk to a person');
  await until(() => twilioSends(from).some((s) => /1\. Orders & delivery/.test(s.body.Body)), 'numbered choices');
  await settle();
  await smsFrom(from, '1');
  const id = (await srv.baton.store.list({ customerId: `twilio:${from}` }))[0].id;
  await until(async () => (await srv.baton.store.events(id, { types: ['handoff'] })).length === 1, 'the handoff to a person');
  const token = await agentToken();
  expect((await api.call('POST', `/api/v1/agent/conversations/${id}/accept`, { token })).status).toBe(200);
  await settle();
  const before = twilioSends(from).length;
  // The bot is silent while the agent has it.
  await smsFrom(from, 'are you there?');
  await settle();
  expect(twilioSends(from).length).toBe(before);
  expect((await api.call('POST', `/api/v1/agent/conversations/${id}/messages`, { token, body: { text: 'Hi, Dana here. Your parcel is with UPS.' } })).status).toBe(200);
  await until(() => twilioSends(from).some((s) => s.body.Body === 'Hi, Dana here. Your parcel is with UPS.'), 'the agent reply by SMS');
  await settle();
  const deliveries = await srv.baton.channels!.deliveries(id);
  const last = deliveries[deliveries.length - 1];
  expect(last.status).toBe('sent');
  // Twilio reports it delivered.
  const params = { MessageSid: last.providerMessageIds[0], MessageStatus: 'delivered', AccountSid: TW.sid, To: from, From: TW.from };
  const p = '/webhooks/twilio/acme/status';
  const data = Object.keys(params).sort().map((k) => k + (params as Record<string, string>)[k]).join('');
  const sig = createHmac('sha1', TW.token).update(PUBLIC + p + data).digest('base64');
  const st = await fetch(srv.url + p, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Twilio-Signature': sig }, body: new URLSearchParams(params).toString() });
  expect(st.status).toBe(204);
  expect((await srv.baton.channels!.deliveries(id)).pop()!.status).toBe('delivered');
});

test('SMS: STOP silences the number until START', async () => {
  const from = '+15557770004';
  await smsFrom(from, 'hi');
  await settle();
  await smsFrom(from, 'STOP');
  const before = twilioSends(from).length;
  await smsFrom(from, 'what are your store hours');
  await settle();
  expect(twilioSends(from).length).toBe(before);
  await smsFrom(from, 'START');
  await smsFrom(from, 'what are your store hours');
  await until(() => twilioSends(from).length > before, 'replies again after START');
});

// ------------------------------------------------------------------ WhatsApp

test('WhatsApp: verification handshake; signed message → reply; five choices as a list; a list reply picks', async () => {
  const ok = await fetch(`${srv.url}/webhooks/whatsapp/acme?hub.mode=subscribe&hub.verify_token=${WA.verify}&hub.challenge=1158201444`);
  expect(ok.status).toBe(200);
  expect(await ok.text()).toBe('1158201444');
  expect((await fetch(`${srv.url}/webhooks/whatsapp/acme?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`)).status).toBe(403);

  const wa = '15557770010';
  expect((await meta('whatsapp', { object: 'whatsapp_business_account', entry: [] }, 'wrong')).status).toBe(403);
  expect((await waMessage(wa, { type: 'text', text: { body: 'I want to talk to a person' } })).status).toBe(200);
  const isTeams = (s: Req) => s.body.type === 'interactive' && JSON.stringify(s.body.interactive).includes('Orders & delivery');
  await until(() => waSends(wa).some(isTeams), 'the interactive list of teams');
  // The welcome's four choices came first, as a list too.
  expect(waSends(wa)[0].body.type).toBe('interactive');
  const list = waSends(wa).find(isTeams)!;
  expect(list.headers.authorization).toBe(`Bearer ${WA.token}`);
  expect(list.body.interactive.type).toBe('list');
  const rows = list.body.interactive.action.sections.flatMap((s: any) => s.rows);
  expect(rows.map((r: any) => r.title)).toEqual(['Orders & delivery', 'Returns & refunds', 'My account', 'Payments', 'Something else']);
  await settle();
  await waMessage(wa, { type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: rows[1].id, title: rows[1].title } } });
  const id = (await srv.baton.store.list({ customerId: `whatsapp:+${wa}` }))[0].id;
  await until(async () => (await srv.baton.store.events(id, { types: ['handoff'] })).some((e) => e.data.queue === 'returns'), 'the handoff to returns');
});

test('WhatsApp: an agent reply more than 24 h later goes out as the template and follows when the customer writes', async () => {
  const wa = '15557770011';
  await waMessage(wa, { type: 'text', text: { body: 'I want to talk to a person' } });
  await settle();
  const id = (await srv.baton.store.list({ customerId: `whatsapp:+${wa}` }))[0].id;
  await until(() => waSends(wa).some((s) => JSON.stringify(s.body).includes('Orders & delivery')), 'the list of teams');
  const row = waSends(wa).find((s) => JSON.stringify(s.body).includes('Orders & delivery'))!.body.interactive.action.sections[0].rows[0];
  await waMessage(wa, { type: 'interactive', interactive: { type: 'list_reply', list_reply: { id: row.id, title: row.title } } });
  const token = await agentToken();
  await until(async () => (await api.call('POST', `/api/v1/agent/conversations/${id}/accept`, { token })).status === 200, 'accepted');
  await settle();
  now = new Date(now.getTime() + 26 * 3600_000);
  try {
    const later = await agentToken();
    const detail = await api.call('GET', `/api/v1/agent/conversations/${id}`, { token: later });
    expect(detail.body.context.channelInfo).toMatchObject({ name: 'whatsapp', window: { state: 'template' } });
    await api.call('POST', `/api/v1/agent/conversations/${id}/messages`, { token: later, body: { text: 'Your refund was approved.' } });
    await until(() => waSends(wa).some((s) => s.body.type === 'template'), 'the template');
    expect(waSends(wa).find((s) => s.body.type === 'template')!.body.template).toMatchObject({ name: 'support_reply_waiting', language: { code: 'en_US' } });
    expect(waSends(wa).some((s) => s.body.text?.body === 'Your refund was approved.')).toBe(false);
    await settle();
    await waMessage(wa, { type: 'text', text: { body: 'hi, what is it?' } });
    await until(() => waSends(wa).some((s) => s.body.text?.body === 'Your refund was approved.'), 'the held reply');
  } finally {
    now = new Date('2026-03-10T15:00:00.000Z');
  }
});

test('WhatsApp and Messenger: a webhook retried by Meta makes one turn', async () => {
  const wa = '15557770012';
  const body = (id: string) => ({
    object: 'whatsapp_business_account',
    entry: [{ id: 'WABA', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001234', phone_number_id: WA.phone }, contacts: [{ profile: { name: 'Lee' }, wa_id: wa }], messages: [{ from: wa, id, timestamp: '1773154800', type: 'text', text: { body: 'what are your store hours' } }] } }] }],
  });
  for (let i = 0; i < 3; i++) expect((await meta('whatsapp', body('wamid.retried.1'))).status).toBe(200);
  await settle();
  const id = (await srv.baton.store.list({ customerId: `whatsapp:+${wa}` }))[0].id;
  expect((await srv.baton.store.events(id, { types: ['customer_message'] })).length).toBe(1);
  const psid = '7002';
  const ev = { object: 'page', entry: [{ id: 'PAGE', time: 1, messaging: [{ sender: { id: psid }, recipient: { id: 'PAGE' }, timestamp: 1, message: { mid: 'm_retried_1', text: 'what are your store hours' } }] }] };
  await Promise.all([meta('messenger', ev), meta('messenger', ev)]);
  await meta('messenger', ev);
  await settle();
  const mid2 = (await srv.baton.store.list({ customerId: `messenger:${psid}` }))[0].id;
  expect((await srv.baton.store.events(mid2, { types: ['customer_message'] })).length).toBe(1);
  const answers = msSends(psid).filter((s) => s.body.message?.text);
  expect(new Set(answers.map((a) => a.body.message.text)).size).toBe(answers.length);
});

// ------------------------------------------------------------------ Messenger

test('Messenger: signed message → quick replies; the agent reply after 30 h goes with the HUMAN_AGENT tag', async () => {
  const ok = await fetch(`${srv.url}/webhooks/messenger/acme?hub.mode=subscribe&hub.verify_token=${MS.verify}&hub.challenge=42`);
  expect(await ok.text()).toBe('42');
  const psid = '7001';
  expect((await msMessage(psid, { text: 'I want to talk to a person' })).status).toBe(200);
  await until(() => msSends(psid).some((s) => s.body.message?.quick_replies?.length === 5), 'quick replies');
  const qr = msSends(psid).find((s) => s.body.message?.quick_replies)!;
  expect(qr.query.get('access_token')).toBe(MS.token);
  expect(qr.body.messaging_type).toBe('RESPONSE');
  await settle();
  await msMessage(psid, { text: 'Payments', quick_reply: { payload: qr.body.message.quick_replies[3].payload } });
  const id = (await srv.baton.store.list({ customerId: `messenger:${psid}` }))[0].id;
  await until(async () => (await srv.baton.store.events(id, { types: ['handoff'] })).length === 1, 'the handoff');
  const token = await agentToken();
  await until(async () => (await api.call('POST', `/api/v1/agent/conversations/${id}/accept`, { token })).status === 200, 'accepted');
  await settle();
  now = new Date(now.getTime() + 30 * 3600_000);
  try {
    const later = await agentToken();
    await api.call('POST', `/api/v1/agent/conversations/${id}/messages`, { token: later, body: { text: 'Sorry for the wait — the charge was refunded.' } });
    await until(() => msSends(psid).some((s) => s.body.message?.text === 'Sorry for the wait — the charge was refunded.'), 'the agent reply');
    const sent = msSends(psid).find((s) => s.body.message?.text === 'Sorry for the wait — the charge was refunded.')!;
    expect(sent.body).toMatchObject({ messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT' });
  } finally {
    now = new Date('2026-03-10T15:00:00.000Z');
  }
});

// ------------------------------------------------------------------ one customer, two channels

test('a customer verified in the widget and linked on WhatsApp sees one history', async () => {
  const userId = 'user-linked-1';
  const wa = '15557770020';
  const created = await api.call('POST', '/api/v1/conversations', { body: { identity: { userId, signature: signUserId(userId, IDENTITY_SECRET) } } });
  expect(created.status).toBe(201);
  const link = await api.call('POST', '/api/v1/customers/links', { body: { userId, channel: 'whatsapp', address: '+1 555 777 0020', signature: signLink(userId, 'whatsapp', '+1 555 777 0020', IDENTITY_SECRET) } });
  expect(link.body).toMatchObject({ address: `+${wa}`, linked: true });
  await waMessage(wa, { type: 'text', text: { body: 'what are your store hours' } });
  await until(() => waSends(wa).length > 0, 'the WhatsApp reply');
  const history = await api.call('GET', `/api/v1/conversations/${created.body.conversationId}/messages`, { token: created.body.customerToken });
  const texts = history.body.messages.map((m: any) => `${m.from}: ${m.text ?? ''}`);
  expect(texts).toContain('customer: what are your store hours');
  // The bot's WhatsApp reply is in the same history, after the question.
  const q = history.body.messages.findIndex((m: any) => m.text === 'what are your store hours');
  expect(history.body.messages.slice(q + 1).some((m: any) => m.from === 'bot')).toBe(true);
});

// ------------------------------------------------------------------ Bot Framework (local mode, as with the Emulator)

let act = 0;
const bfMessage = (user: string, extra: Record<string, unknown>) =>
  fetch(`${srv.url}/api/messages`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      type: 'message',
      id: `act-in-${++act}`,
      timestamp: now.toISOString(),
      channelId: 'webchat',
      serviceUrl: base,
      from: { id: user, name: 'Sam' },
      recipient: { id: 'acme-bot', name: 'Acme' },
      conversation: { id: `conv-${user}` },
      ...extra,
    }),
  });
const bfSends = (user: string) => requests.filter((r) => r.path.startsWith(`/v3/conversations/conv-${user}/activities`));

test('Bot Framework: an activity → the reply posted to the connector, with suggested actions; an agent reply later, proactively', async () => {
  const user = 'user-bf-1';
  const r = await bfMessage(user, { text: 'I want to talk to a person' });
  expect(r.status).toBeLessThan(300);
  await until(() => bfSends(user).some((s) => s.body.suggestedActions?.actions?.some((a: any) => a.title === 'Payments')), 'suggested actions');
  const sent = bfSends(user).find((s) => s.body.suggestedActions?.actions?.some((a: any) => a.title === 'Payments'))!;
  expect(sent.body).toMatchObject({ type: 'message', textFormat: 'plain', conversation: { id: `conv-${user}` }, recipient: { id: user } });
  const payments = sent.body.suggestedActions.actions.find((a: any) => a.title === 'Payments');
  await settle();
  // The Web Chat button press: a messageBack with the payload.
  await bfMessage(user, { text: 'Payments', value: payments.value });
  const id = (await srv.baton.store.list({ customerId: `botframework:webchat:${user}` }))[0].id;
  await until(async () => (await srv.baton.store.events(id, { types: ['handoff'] })).length === 1, 'the handoff');
  const token = await agentToken();
  await until(async () => (await api.call('POST', `/api/v1/agent/conversations/${id}/accept`, { token })).status === 200, 'accepted');
  await api.call('POST', `/api/v1/agent/conversations/${id}/messages`, { token, body: { text: 'Hello from the payments team.' } });
  await until(() => bfSends(user).some((s) => s.body.text === 'Hello from the payments team.'), 'the agent reply on the connector');
});

test('channels that are not configured answer 404', async () => {
  expect((await fetch(`${srv.url}/webhooks/twilio/other-bot`, { method: 'POST' })).status).toBe(404);
});

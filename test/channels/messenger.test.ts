/**
 * The Facebook Messenger channel against a fake Graph API and a fake sink, both on 127.0.0.1:
 * webhook verification and signatures, inbound mapping (text, quick replies, postbacks, echoes,
 * attachments, deliveries), the exact Send API requests, the 24-hour / HUMAN_AGENT window, typing,
 * error classification and the factory's env handling.
 */
import * as http from 'http';
import express from 'express';
import { errorHandler } from '../../src/http/errors';
import { silentLogger } from '../../src/util/logger';
import { ChannelConfigError, DeliveryError, type ChannelAdapter, type ChannelRoute, type DeliveryContext } from '../../src/channels/port';
import { createMessengerChannel, postbackId } from '../../src/channels/messenger';
import { FakeSink, close, fakeProvider, listen, metaPoster, metaSign } from './helpers/fakes';

jest.setTimeout(10_000);

const SECRET = 'messenger-app-secret-0123456789';
const VERIFY = 'verify-messenger';
const PAGE_TOKEN = 'EAAPageToken+/=';
const PSID = '24517423357854325';
const PAGE_ID = '110000000000001';

// ------------------------------------------------------------------ fakes

/** A fake Graph API: records every request, answers from a queue (default: a fresh message id). */
const fakeGraph = () => fakeProvider((body, n) => (body.sender_action ? { recipient_id: PSID } : { recipient_id: PSID, message_id: `m_${n}` }));

function env(graphUrl: string, extra: Record<string, string> = {}) {
  return {
    ACME_MESSENGER_VERIFY_TOKEN: VERIFY,
    ACME_MESSENGER_APP_SECRET: SECRET,
    ACME_MESSENGER_PAGE_TOKEN: PAGE_TOKEN,
    META_GRAPH_API_BASE_URL: graphUrl,
    ...extra,
  };
}
const deps = (e: Record<string, string | undefined>) => ({ env: e, prefix: 'ACME_', botId: 'acme', botName: 'Acme', logger: silentLogger, clock: () => new Date() });

// ------------------------------------------------------------------ setup

const graph = fakeGraph();
const sink = new FakeSink();
let graphUrl: string;
let ms: ChannelAdapter;
let hook: { server: http.Server; url: string };
const PATH = '/webhooks/messenger/acme';

beforeAll(async () => {
  graphUrl = await listen(graph.server);
  ms = createMessengerChannel(deps(env(graphUrl, { META_GRAPH_API_VERSION: 'v22.0' })))!;
  const app = express();
  app.use(ms.router(sink));
  app.use(errorHandler(silentLogger));
  const server = http.createServer(app);
  hook = { server, url: await listen(server) };
});
afterAll(async () => {
  await close(hook?.server);
  await close(graph.server);
});
beforeEach(() => {
  sink.reset();
  graph.reset();
});

const sign = (raw: string, secret = SECRET) => metaSign(raw, secret);
const post = metaPoster(() => hook.url + PATH, SECRET);

const T = 1773154800000;
/** A webhook payload: one entry per list of messaging events. */
const page = (...entries: object[][]) => ({ object: 'page', entry: entries.map((messaging, i) => ({ id: PAGE_ID, time: T + i, messaging })) });
const ev = (body: object, sender = PSID, timestamp = T) => ({ sender: { id: sender }, recipient: { id: PAGE_ID }, timestamp, ...body });

// ------------------------------------------------------------------ factory

describe('createMessengerChannel', () => {
  it('is off (null) when none of its variables is set', () => {
    expect(createMessengerChannel(deps({ ACME_WHATSAPP_TOKEN: 'x', BETA_MESSENGER_PAGE_TOKEN: 'y' }))).toBeNull();
  });

  it('names every missing or bad variable when only some are set', () => {
    let err: unknown;
    try {
      createMessengerChannel(deps({ ACME_MESSENGER_PAGE_TOKEN: PAGE_TOKEN, META_GRAPH_API_VERSION: 'latest' }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChannelConfigError);
    expect((err as ChannelConfigError).problems.map((p) => p.variable).sort()).toEqual(['ACME_MESSENGER_APP_SECRET', 'ACME_MESSENGER_VERIFY_TOKEN', 'META_GRAPH_API_VERSION']);
  });

  it('builds the adapter with its capabilities', () => {
    expect(ms.name).toBe('messenger');
    expect(ms.title).toBe('Facebook Messenger');
    expect(ms.capabilities).toEqual({ maxTextLength: 2000, maxChoices: 13, maxChoiceTitle: 20, urlButtons: true, images: true, cards: true, markdown: false, typing: true });
  });
});

// ------------------------------------------------------------------ webhook: handshake and signatures

describe('webhook verification handshake', () => {
  const get = (q: string) => fetch(`${hook.url}${PATH}?${q}`, { signal: AbortSignal.timeout(5000) });

  it('echoes hub.challenge as text/plain for the right verify token', async () => {
    const res = await get(`hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=CHALLENGE_ACCEPTED`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('CHALLENGE_ACCEPTED');
  });

  it('refuses a wrong token with 403', async () => {
    const res = await get(`hub.mode=subscribe&hub.verify_token=${VERIFY}x&hub.challenge=1`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.code).toBe('verification_failed');
  });
});

describe('webhook signature (X-Hub-Signature-256)', () => {
  const body = page([ev({ message: { mid: 'm_in1', text: 'hi' } })]);

  it('accepts a valid signature', async () => {
    expect((await post(body)).status).toBe(200);
    expect(sink.received).toHaveLength(1);
  });

  it('refuses missing (401), wrong (403) and tampered (403) without touching the sink', async () => {
    const raw = JSON.stringify(body);
    const missing = await post(body, { signature: null });
    expect(missing.status).toBe(401);
    expect(missing.json.error.code).toBe('missing_signature');
    expect((await post(body, { signature: sign(raw, 'wrong-secret') })).status).toBe(403);
    expect((await post(undefined, { raw: raw.replace('"hi"', '"ho"'), signature: sign(raw) })).status).toBe(403);
    expect(sink.received).toEqual([]);
    expect(sink.statuses).toEqual([]);
  });
});

// ------------------------------------------------------------------ webhook: inbound mapping

describe('inbound events', () => {
  it('maps text, quick replies and postbacks; skips echoes', async () => {
    await post(
      page([
        ev({ message: { mid: 'm_text', text: 'Where is my order?' } }),
        ev({ message: { mid: 'm_echo', is_echo: true, app_id: 1, text: 'Our own reply' } }, PAGE_ID),
        ev({ message: { mid: 'm_qr', text: 'Track order', quick_reply: { payload: 'track' } } }),
        ev({ postback: { mid: 'm_pb', title: 'Returns', payload: 'returns' } }),
      ]),
    );
    expect(sink.received).toEqual([
      { channel: 'messenger', address: PSID, providerMessageId: 'm_text', text: 'Where is my order?' },
      { channel: 'messenger', address: PSID, providerMessageId: 'm_qr', text: 'Track order', payload: 'track' },
      { channel: 'messenger', address: PSID, providerMessageId: 'm_pb', text: 'Returns', payload: 'returns' },
    ]);
  });

  it('gives a postback without a mid a stable id from sender, timestamp and payload', async () => {
    const body = page([ev({ postback: { title: 'Get Started', payload: 'GET_STARTED' } }, PSID, T + 5)]);
    await post(body);
    await post(body); // Meta's retry: same id
    expect(sink.received).toHaveLength(2);
    expect(sink.received[0].providerMessageId).toBe(sink.received[1].providerMessageId);
    expect(sink.received[0].providerMessageId).toBe(postbackId(PSID, T + 5, 'GET_STARTED'));
    expect(postbackId(PSID, T + 6, 'GET_STARTED')).not.toBe(sink.received[0].providerMessageId);
  });

  it('describes attachments as text', async () => {
    await post(
      page([
        ev({ message: { mid: 'm_img', text: 'this arrived broken', attachments: [{ type: 'image', payload: { url: 'https://cdn.fb/x.jpg' } }] } }),
        ev({ message: { mid: 'm_stk', attachments: [{ type: 'image', payload: { url: 'https://cdn.fb/s.png', sticker_id: 369239263222822 } }] } }),
        ev({ message: { mid: 'm_aud', attachments: [{ type: 'audio', payload: { url: 'https://cdn.fb/a.mp4' } }, { type: 'file', payload: { url: 'https://cdn.fb/f.pdf' } }] } }),
      ]),
    );
    expect(sink.received.map((m) => m.text)).toEqual(['[image] this arrived broken', '[sticker]', '[audio] [file]']);
  });

  it('processes several events of one webhook in order, across entries and senders', async () => {
    await post(page([ev({ message: { mid: 'm_1', text: 'one' } }), ev({ message: { mid: 'm_2', text: 'two' } }, '999')], [ev({ message: { mid: 'm_3', text: 'three' } })]));
    expect(sink.received.map((m) => [m.providerMessageId, m.address])).toEqual([
      ['m_1', PSID],
      ['m_2', '999'],
      ['m_3', PSID],
    ]);
  });

  it('maps deliveries (every mid) and skips read watermarks', async () => {
    await post(page([ev({ delivery: { mids: ['m_out1', 'm_out2'], watermark: T } }), ev({ read: { watermark: T + 1000 } })]));
    expect(sink.statuses).toEqual([
      { channel: 'messenger', providerMessageId: 'm_out1', status: 'delivered', at: '2026-03-10T15:00:00.000Z' },
      { channel: 'messenger', providerMessageId: 'm_out2', status: 'delivered', at: '2026-03-10T15:00:00.000Z' },
    ]);
    expect(sink.received).toEqual([]);
  });

  it('ignores (200) payloads that are not for a page', async () => {
    expect((await post({ object: 'instagram', entry: [{ messaging: [ev({ message: { mid: 'm_ig', text: 'x' } })] }] })).status).toBe(200);
    expect(sink.received).toEqual([]);
  });

  it('answers 200 when the sink refuses a message as invalid, 500 on any other failure', async () => {
    sink.failWith.set('m_bad', Object.assign(new Error('invalid'), { code: 'invalid_message' }));
    expect((await post(page([ev({ message: { mid: 'm_bad', text: '' } })]))).status).toBe(200);
    sink.failWith.set('m_down', new Error('store down'));
    expect((await post(page([ev({ message: { mid: 'm_down', text: 'x' } })]))).status).toBe(500);
  });
});

// ------------------------------------------------------------------ deliver

const NOW = new Date('2026-03-10T15:00:00.000Z');
const route = (lastInboundAt = '2026-03-10T14:00:00.000Z'): ChannelRoute => ({ channel: 'messenger', address: PSID, lastInboundAt });
const ctx = (now = NOW, from: 'bot' | 'agent' = 'bot'): DeliveryContext => ({ conversationId: 'c1', messageId: 'm1', from, now });
const SEND_PATH = `/v22.0/me/messages?access_token=${encodeURIComponent(PAGE_TOKEN)}`;

describe('deliver', () => {
  it('sends a text: POST /{version}/me/messages?access_token=<page token>, messaging_type RESPONSE; receipt = message_id', async () => {
    const receipt = await ms.deliver(route(), [{ kind: 'text', text: 'Your order ships today.' }], ctx());
    expect(graph.requests).toHaveLength(1);
    const r = graph.requests[0];
    expect(r.method).toBe('POST');
    expect(r.url).toBe(SEND_PATH);
    expect(new URL(r.url, 'http://x').searchParams.get('access_token')).toBe(PAGE_TOKEN);
    expect(r.headers.authorization).toBeUndefined();
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body).toEqual({ recipient: { id: PSID }, messaging_type: 'RESPONSE', message: { text: 'Your order ships today.' } });
    expect(receipt).toEqual({ providerMessageIds: ['m_1'] });
  });

  it('sends choices as quick replies (payload, else title)', async () => {
    await ms.deliver(route(), [{ kind: 'text', text: 'Anything else?', choices: [{ title: 'Yes', payload: 'yes' }, { title: 'No thanks' }] }], ctx());
    expect(graph.requests[0].body.message).toEqual({
      text: 'Anything else?',
      quick_replies: [
        { content_type: 'text', title: 'Yes', payload: 'yes' },
        { content_type: 'text', title: 'No thanks', payload: 'No thanks' },
      ],
    });
  });

  it('guards limits: 13 quick replies, titles 20 characters', async () => {
    const choices = Array.from({ length: 15 }, (_, i) => ({ title: `Choice number ${i} with a long title`, payload: `c${i}` }));
    await ms.deliver(route(), [{ kind: 'text', text: 'Pick', choices }], ctx());
    const qr = graph.requests[0].body.message.quick_replies;
    expect(qr).toHaveLength(13);
    expect(qr[0]).toEqual({ content_type: 'text', title: 'Choice number 0 wit…', payload: 'c0' });
  });

  it('sends an image as a reusable image attachment', async () => {
    await ms.deliver(route(), [{ kind: 'image', url: 'https://cdn.example.com/label.png', alt: 'Return label' }], ctx());
    expect(graph.requests[0].body).toEqual({
      recipient: { id: PSID },
      messaging_type: 'RESPONSE',
      message: { attachment: { type: 'image', payload: { url: 'https://cdn.example.com/label.png', is_reusable: true } } },
    });
  });

  it('sends a card as a generic template (default action, postback and web_url buttons)', async () => {
    const receipt = await ms.deliver(
      route(),
      [
        { kind: 'text', text: 'Our bestseller:' },
        {
          kind: 'card',
          title: 'Trail Runner 2',
          subtitle: 'Light, grippy, waterproof.',
          image: 'https://cdn.example.com/shoe.jpg',
          url: 'https://shop.example.com/trail-runner-2',
          buttons: [{ title: 'Buy now', url: 'https://shop.example.com/cart?add=tr2' }, { title: 'Sizes', payload: 'sizes_tr2' }, { title: 'Other colours' }],
        },
      ],
      ctx(),
    );
    expect(graph.requests.map((r) => r.url)).toEqual([SEND_PATH, SEND_PATH]);
    expect(graph.requests[1].body).toEqual({
      recipient: { id: PSID },
      messaging_type: 'RESPONSE',
      message: {
        attachment: {
          type: 'template',
          payload: {
            template_type: 'generic',
            elements: [
              {
                title: 'Trail Runner 2',
                subtitle: 'Light, grippy, waterproof.',
                image_url: 'https://cdn.example.com/shoe.jpg',
                default_action: { type: 'web_url', url: 'https://shop.example.com/trail-runner-2' },
                buttons: [
                  { type: 'web_url', url: 'https://shop.example.com/cart?add=tr2', title: 'Buy now' },
                  { type: 'postback', title: 'Sizes', payload: 'sizes_tr2' },
                  { type: 'postback', title: 'Other colours', payload: 'Other colours' },
                ],
              },
            ],
          },
        },
      },
    });
    expect(receipt.providerMessageIds).toEqual(['m_1', 'm_2']);
  });

  it('keeps link buttons on a card with more than 3 buttons and sends the others as quick replies', async () => {
    await ms.deliver(
      route(),
      [{ kind: 'card', title: 'T'.repeat(90), buttons: [{ title: 'Site', url: 'https://e.com' }, { title: 'A' }, { title: 'B' }, { title: 'C', payload: 'c' }] }],
      ctx(),
    );
    const m = graph.requests[0].body.message;
    expect(m.attachment.payload.elements[0].title).toBe(`${'T'.repeat(79)}…`);
    expect(m.attachment.payload.elements[0].buttons).toEqual([{ type: 'web_url', url: 'https://e.com', title: 'Site' }]);
    expect(m.quick_replies.map((q: any) => q.payload)).toEqual(['A', 'B', 'c']);
  });

  it('shows typing with sender_action typing_on, and ignores its failures', async () => {
    await ms.typing!(route());
    expect(graph.requests[0].url).toBe(SEND_PATH);
    expect(graph.requests[0].body).toEqual({ recipient: { id: PSID }, sender_action: 'typing_on' });
    graph.queue.push({ status: 500, body: { error: { code: 2, message: 'down' } } });
    await expect(ms.typing!(route())).resolves.toBeUndefined();
  });
});

// ------------------------------------------------------------------ window

describe('messaging window', () => {
  const last = '2026-03-01T12:00:00.000Z';
  const day1 = new Date('2026-03-02T11:59:59.000Z'); // < 24 h
  const day3 = new Date('2026-03-04T12:00:00.000Z'); // 3 days
  const day8 = new Date('2026-03-08T12:00:00.000Z'); // exactly 7 days

  it('is open for 24 h; then agents get HUMAN_AGENT for 7 days; bots get nothing', () => {
    expect(ms.window!(route(last), day1, 'bot')).toMatchObject({ state: 'open', until: '2026-03-02T12:00:00.000Z' });
    expect(ms.window!(route(last), day3, 'bot')).toMatchObject({ state: 'closed' });
    expect(ms.window!(route(last), day3, 'agent')).toMatchObject({ state: 'tag', until: '2026-03-08T12:00:00.000Z' });
    expect(ms.window!(route(last), day8, 'agent')).toMatchObject({ state: 'closed' });
  });

  it('tags an agent reply after 24 h with MESSAGE_TAG / HUMAN_AGENT', async () => {
    const receipt = await ms.deliver(route(last), [{ kind: 'text', text: 'Following up on your return.' }], ctx(day3, 'agent'));
    expect(graph.requests[0].body).toEqual({ recipient: { id: PSID }, messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', message: { text: 'Following up on your return.' } });
    expect(receipt.providerMessageIds).toEqual(['m_1']);
    expect(receipt.note).toMatch(/HUMAN_AGENT/);
  });

  it('refuses (final) a bot message after 24 h and any message after 7 days, without calling Messenger', async () => {
    const bot = await ms.deliver(route(last), [{ kind: 'text', text: 'x' }], ctx(day3, 'bot')).catch((e) => e);
    expect(bot).toBeInstanceOf(DeliveryError);
    expect(bot).toMatchObject({ retryable: false });
    expect(bot.message).toMatch(/outside the 24-hour window/);
    const agent = await ms.deliver(route(last), [{ kind: 'text', text: 'x' }], ctx(day8, 'agent')).catch((e) => e);
    expect(agent).toMatchObject({ retryable: false });
    expect(graph.requests).toEqual([]);
  });
});

// ------------------------------------------------------------------ errors

describe('Graph API errors', () => {
  const graphError = (status: number, code: number, subcode?: number) => ({ status, body: { error: { message: 'error', type: 'OAuthException', code, ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: 'A1' } } });
  const send = () => ms.deliver(route(), [{ kind: 'text', text: 'hi' }], ctx()).then(
      () => {
        throw new Error('expected the delivery to fail');
      },
      (e) => e as DeliveryError,
    );

  it('retries 5xx, 429 and throttling codes on 400 (e.g. 613, 32)', async () => {
    graph.queue.push(graphError(503, 2));
    expect(await send()).toMatchObject({ retryable: true });
    graph.queue.push(graphError(400, 613));
    expect(await send()).toMatchObject({ retryable: true, opts: { providerCode: '613' } });
    graph.queue.push(graphError(400, 32));
    expect(await send()).toMatchObject({ retryable: true });
  });

  it('gives up on other errors, explaining the window/permission error 10', async () => {
    graph.queue.push(graphError(400, 10, 2018278));
    const e = await send();
    expect(e).toMatchObject({ retryable: false, opts: { providerCode: '10' } });
    expect(e.message).toMatch(/outside the allowed messaging window/);
    graph.queue.push(graphError(400, 100, 2018001));
    expect(await send()).toMatchObject({ retryable: false, opts: { providerCode: '100' } });
  });
});

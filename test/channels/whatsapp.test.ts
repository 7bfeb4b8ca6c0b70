/**
 * The WhatsApp Cloud API channel against a fake Graph API and a fake sink, both on 127.0.0.1:
 * webhook verification and signatures, inbound mapping, the exact send requests, the 24-hour
 * window (with a template stand-in), error classification and the factory's env handling.
 */
import * as http from 'http';
import express from 'express';
import { errorHandler } from '../../src/http/errors';
import { silentLogger } from '../../src/util/logger';
import { ChannelConfigError, DeliveryError, type ChannelAdapter, type ChannelRoute, type DeliveryContext, type InboundSink } from '../../src/channels/port';
import { createWhatsAppChannel } from '../../src/channels/whatsapp';
import { GRAPH_RETRYABLE_CODES } from '../../src/channels/meta';
import { FakeSink, close, fakeProvider, listen, metaPoster, metaSign } from './helpers/fakes';

jest.setTimeout(10_000);

const SECRET = 'app-secret-0123456789abcdef';
const VERIFY = 'verify-me-please';
const TOKEN = 'EAAG-system-user-token';
const PNID = '106540352242922';

// ------------------------------------------------------------------ fakes

/** A fake Graph API: records every request, answers from a queue (default: a fresh message id). */
const fakeGraph = () => fakeProvider((_body, n) => ({ messaging_product: 'whatsapp', contacts: [{ input: '1', wa_id: '1' }], messages: [{ id: `wamid.${n}` }] }));

function env(graphUrl: string, extra: Record<string, string> = {}) {
  return {
    ACME_WHATSAPP_VERIFY_TOKEN: VERIFY,
    ACME_WHATSAPP_APP_SECRET: SECRET,
    ACME_WHATSAPP_TOKEN: TOKEN,
    ACME_WHATSAPP_PHONE_NUMBER_ID: PNID,
    META_GRAPH_API_BASE_URL: graphUrl,
    ...extra,
  };
}
const deps = (e: Record<string, string | undefined>) => ({ env: e, prefix: 'ACME_', botId: 'acme', botName: 'Acme', logger: silentLogger, clock: () => new Date() });

/** The adapter's router in an app of its own (with Baton's error handler), on 127.0.0.1. */
async function serve(adapter: ChannelAdapter, sink: InboundSink) {
  const app = express();
  app.use(adapter.router(sink));
  app.use(errorHandler(silentLogger));
  const server = http.createServer(app);
  return { server, url: await listen(server) };
}

// ------------------------------------------------------------------ setup

const graph = fakeGraph();
const sink = new FakeSink();
let graphUrl: string;
let wa: ChannelAdapter;
let waTemplate: ChannelAdapter;
let hook: { server: http.Server; url: string };
const PATH = '/webhooks/whatsapp/acme';

beforeAll(async () => {
  graphUrl = await listen(graph.server);
  wa = createWhatsAppChannel(deps(env(graphUrl)))!;
  waTemplate = createWhatsAppChannel(deps(env(graphUrl, { ACME_WHATSAPP_TEMPLATE: 'reengage_v1', ACME_WHATSAPP_TEMPLATE_LANGUAGE: 'en_GB', ACME_WHATSAPP_TEMPLATE_PARAM: 'text' })))!;
  hook = await serve(wa, sink);
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

/** A webhook payload with one change for our number. */
function payload(value: Record<string, unknown>, phoneNumberId = PNID) {
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: 'WABA_ID', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001111', phone_number_id: phoneNumberId }, ...value } }] }],
  };
}
const contact = (waId: string, name: string) => ({ wa_id: waId, profile: { name } });
const msg = (id: string, type: string, body: Record<string, unknown>, from = '15551234567') => ({ from, id, timestamp: '1773154800', type, ...body });

// ------------------------------------------------------------------ factory

describe('createWhatsAppChannel', () => {
  it('is off (null) when none of its variables is set', () => {
    expect(createWhatsAppChannel(deps({ ACME_MESSENGER_PAGE_TOKEN: 'x', OTHER_WHATSAPP_TOKEN: 'y', ACME_WHATSAPP_TOKEN: '  ' }))).toBeNull();
  });

  it('names every missing variable when only some are set', () => {
    let err: unknown;
    try {
      createWhatsAppChannel(deps({ ACME_WHATSAPP_TOKEN: TOKEN }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChannelConfigError);
    expect((err as ChannelConfigError).problems.map((p) => p.variable).sort()).toEqual(['ACME_WHATSAPP_APP_SECRET', 'ACME_WHATSAPP_PHONE_NUMBER_ID', 'ACME_WHATSAPP_VERIFY_TOKEN']);
  });

  it('names every bad value, including the global Graph settings', () => {
    let err: unknown;
    try {
      createWhatsAppChannel(
        deps({
          ...env('ftp://nope'),
          ACME_WHATSAPP_PHONE_NUMBER_ID: '+1 555 000',
          ACME_WHATSAPP_TEMPLATE_LANGUAGE: 'English',
          ACME_WHATSAPP_TEMPLATE_PARAM: 'all',
          META_GRAPH_API_VERSION: '21',
        }),
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChannelConfigError);
    const vars = (err as ChannelConfigError).problems.map((p) => p.variable);
    expect(vars).toEqual(
      expect.arrayContaining([
        'ACME_WHATSAPP_PHONE_NUMBER_ID',
        'ACME_WHATSAPP_TEMPLATE_LANGUAGE',
        'ACME_WHATSAPP_TEMPLATE_PARAM',
        'META_GRAPH_API_BASE_URL',
        'META_GRAPH_API_VERSION',
      ]),
    );
    // Template options without a template are reported too.
    expect((err as ChannelConfigError).problems.find((p) => p.variable === 'ACME_WHATSAPP_TEMPLATE_PARAM' && /only applies/.test(p.message))).toBeDefined();
    expect(() => createWhatsAppChannel(deps({ ...env(graphUrl), ACME_WHATSAPP_TEMPLATE: 'Re-Engage' }))).toThrow(/ACME_WHATSAPP_TEMPLATE: template names/);
  });

  it('builds the adapter with its capabilities, and defaults to graph.facebook.com v21.0', async () => {
    expect(wa.name).toBe('whatsapp');
    expect(wa.title).toBe('WhatsApp');
    expect(wa.capabilities).toEqual({ maxTextLength: 4096, maxChoices: 10, maxChoiceTitle: 24, urlButtons: false, images: true, cards: false, markdown: false, typing: false });
    expect(wa.typing).toBeUndefined();
    // Default base URL: the request goes to graph.facebook.com — intercept fetch instead of calling it.
    const def = createWhatsAppChannel(deps({ ...env(graphUrl), META_GRAPH_API_BASE_URL: undefined }))!;
    const realFetch = global.fetch;
    const seen: string[] = [];
    global.fetch = (async (url: string) => {
      seen.push(String(url));
      return new Response(JSON.stringify({ messages: [{ id: 'wamid.default' }] }), { status: 200 });
    }) as typeof fetch;
    try {
      await def.deliver(route(), [{ kind: 'text', text: 'hi' }], ctx());
    } finally {
      global.fetch = realFetch;
    }
    expect(seen).toEqual([`https://graph.facebook.com/v21.0/${PNID}/messages`]);
  });
});

// ------------------------------------------------------------------ webhook: handshake and signatures

describe('webhook verification handshake', () => {
  const get = (q: string) => fetch(`${hook.url}${PATH}?${q}`, { signal: AbortSignal.timeout(5000) });

  it('echoes hub.challenge as text/plain for the right verify token', async () => {
    const res = await get(`hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=1158201444`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('1158201444');
  });

  it('refuses a wrong token or mode with 403', async () => {
    for (const q of [`hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`, `hub.mode=unsubscribe&hub.verify_token=${VERIFY}&hub.challenge=1`, '']) {
      const res = await get(q);
      expect(res.status).toBe(403);
      expect(((await res.json()) as any).error.code).toBe('verification_failed');
    }
  });

  it('echoes only a plain challenge (400 otherwise)', async () => {
    const res = await get(`hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=${encodeURIComponent('<script>x</script>')}`);
    expect(res.status).toBe(400);
  });

  it('answers other methods with 405', async () => {
    const res = await fetch(hook.url + PATH, { method: 'PUT', signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
  });
});

describe('webhook signature (X-Hub-Signature-256)', () => {
  const body = payload({ contacts: [contact('15551234567', 'Ann')], messages: [msg('wamid.A', 'text', { text: { body: 'hello' } })] });

  it('accepts a valid signature and hands the message over', async () => {
    const r = await post(body);
    expect(r.status).toBe(200);
    expect(sink.received).toHaveLength(1);
  });

  it('refuses a missing signature with 401, a wrong one with 403, and leaves the sink untouched', async () => {
    expect((await post(body, { signature: null })).status).toBe(401);
    const wrong = await post(body, { signature: sign(JSON.stringify(body), 'another-secret') });
    expect(wrong.status).toBe(403);
    expect(wrong.json.error.code).toBe('invalid_signature');
    expect((await post(body, { signature: 'sha1=abc' })).status).toBe(403);
    expect(sink.received).toEqual([]);
    expect(sink.statuses).toEqual([]);
  });

  it('checks the exact bytes: a tampered body (even re-serialised whitespace) is refused with 403', async () => {
    const raw = JSON.stringify(body);
    const tampered = raw.replace('hello', 'HELLO');
    expect((await post(undefined, { raw: tampered, signature: sign(raw) })).status).toBe(403);
    const spaced = JSON.stringify(body, null, 2); // same JSON value, different bytes
    expect((await post(undefined, { raw: spaced, signature: sign(raw) })).status).toBe(403);
    expect(sink.received).toEqual([]);
    // …and the pretty-printed bytes with their own signature are fine.
    expect((await post(undefined, { raw: spaced, signature: sign(spaced) })).status).toBe(200);
  });

  it('refuses a signed body that is not JSON with 400', async () => {
    const r = await post(undefined, { raw: 'not json' });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('invalid_json');
  });
});

// ------------------------------------------------------------------ webhook: inbound mapping

describe('inbound messages', () => {
  it('maps a text message: +E.164 address, wamid, profile name', async () => {
    await post(payload({ contacts: [contact('15551234567', 'Ann Smith')], messages: [msg('wamid.T1', 'text', { text: { body: 'Where is my order?' } })] }));
    expect(sink.received).toEqual([{ channel: 'whatsapp', address: '+15551234567', providerMessageId: 'wamid.T1', text: 'Where is my order?', name: 'Ann Smith' }]);
  });

  it('maps reply buttons, list replies and template quick replies to payload + title', async () => {
    await post(
      payload({
        messages: [
          msg('wamid.B1', 'interactive', { interactive: { type: 'button_reply', button_reply: { id: 'track', title: 'Track order' } } }),
          msg('wamid.L1', 'interactive', { interactive: { type: 'list_reply', list_reply: { id: 'returns', title: 'Returns', description: 'Send something back' } } }),
          msg('wamid.Q1', 'button', { button: { payload: 'talk_to_agent', text: 'Talk to us' } }),
        ],
      }),
    );
    expect(sink.received.map(({ providerMessageId, text, payload: p }) => ({ providerMessageId, text, payload: p }))).toEqual([
      { providerMessageId: 'wamid.B1', text: 'Track order', payload: 'track' },
      { providerMessageId: 'wamid.L1', text: 'Returns', payload: 'returns' },
      { providerMessageId: 'wamid.Q1', text: 'Talk to us', payload: 'talk_to_agent' },
    ]);
  });

  it('describes what it cannot read instead of dropping it', async () => {
    await post(
      payload({
        messages: [
          msg('wamid.M1', 'image', { image: { id: 'media1', mime_type: 'image/jpeg', caption: 'the broken part' } }),
          msg('wamid.M2', 'audio', { audio: { id: 'media2', voice: true } }),
          msg('wamid.M3', 'location', { location: { latitude: 40.7, longitude: -74, name: 'Home', address: '1 Main St' } }),
          msg('wamid.M4', 'document', { document: { id: 'media3', filename: 'invoice.pdf' } }),
          msg('wamid.M5', 'reaction', { reaction: { message_id: 'wamid.X', emoji: '👍' } }),
          msg('wamid.M6', 'unsupported', { errors: [{ code: 131051 }] }),
          msg('wamid.M7', 'system', { system: { body: 'Ann changed their number' } }),
        ],
      }),
    );
    expect(sink.received.map((m) => m.text)).toEqual(['[image] the broken part', '[audio]', '[location] Home, 1 Main St (40.7, -74)', '[document: invoice.pdf]', '[reaction 👍]', '[unsupported]']);
  });

  it('processes several messages of one webhook in order (across entries), then the statuses', async () => {
    const body = payload({
      contacts: [contact('15551234567', 'Ann'), contact('447700900123', 'Bob')],
      messages: [msg('wamid.1', 'text', { text: { body: 'one' } }), msg('wamid.2', 'text', { text: { body: 'two' } }, '447700900123')],
      statuses: [{ id: 'wamid.OUT1', status: 'delivered', timestamp: '1773154801', recipient_id: '15551234567' }],
    });
    (body.entry as any[]).push({ id: 'WABA_ID', changes: [{ field: 'messages', value: { metadata: { phone_number_id: PNID }, messages: [msg('wamid.3', 'text', { text: { body: 'three' } })] } }] });
    expect((await post(body)).status).toBe(200);
    expect(sink.received.map((m) => [m.providerMessageId, m.text, m.address, m.name])).toEqual([
      ['wamid.1', 'one', '+15551234567', 'Ann'],
      ['wamid.2', 'two', '+447700900123', 'Bob'],
      ['wamid.3', 'three', '+15551234567', undefined],
    ]);
    expect(sink.statuses).toHaveLength(1);
  });

  it('maps statuses: sent / delivered / read / failed with the first error', async () => {
    await post(
      payload({
        statuses: [
          { id: 'wamid.S', status: 'sent', timestamp: '1773154800', recipient_id: '15551234567' },
          { id: 'wamid.D', status: 'delivered', timestamp: '1773154801', recipient_id: '15551234567' },
          { id: 'wamid.R', status: 'read', timestamp: '1773154802', recipient_id: '15551234567' },
          { id: 'wamid.F', status: 'failed', timestamp: '1773154803', recipient_id: '15551234567', errors: [{ code: 131026, title: 'Message undeliverable' }] },
          { id: 'wamid.W', status: 'deleted', timestamp: '1773154804', recipient_id: '15551234567' },
        ],
      }),
    );
    expect(sink.statuses).toEqual([
      { channel: 'whatsapp', providerMessageId: 'wamid.S', status: 'sent', at: '2026-03-10T15:00:00.000Z' },
      { channel: 'whatsapp', providerMessageId: 'wamid.D', status: 'delivered', at: '2026-03-10T15:00:01.000Z' },
      { channel: 'whatsapp', providerMessageId: 'wamid.R', status: 'read', at: '2026-03-10T15:00:02.000Z' },
      { channel: 'whatsapp', providerMessageId: 'wamid.F', status: 'failed', error: '131026 Message undeliverable', at: '2026-03-10T15:00:03.000Z' },
    ]);
    expect(sink.received).toEqual([]);
  });

  it('ignores (200) changes for another phone number and payloads that are not WhatsApp', async () => {
    expect((await post(payload({ messages: [msg('wamid.O', 'text', { text: { body: 'x' } })] }, '999'))).status).toBe(200);
    expect((await post({ object: 'page', entry: [] })).status).toBe(200);
    expect(sink.received).toEqual([]);
  });

  it('acknowledges a message the sink refuses as invalid and goes on; any other failure is a 500 that stops there', async () => {
    const invalid = Object.assign(new Error('empty message'), { code: 'invalid_message' });
    sink.failWith.set('wamid.bad', invalid);
    const ok = await post(payload({ messages: [msg('wamid.bad', 'text', { text: { body: '' } }), msg('wamid.next', 'text', { text: { body: 'next' } })] }));
    expect(ok.status).toBe(200);
    expect(sink.received.map((m) => m.providerMessageId)).toEqual(['wamid.next']);

    sink.reset();
    sink.failWith.set('wamid.store', new Error('database is locked'));
    const failed = await post(payload({ messages: [msg('wamid.first', 'text', { text: { body: 'a' } }), msg('wamid.store', 'text', { text: { body: 'b' } }), msg('wamid.after', 'text', { text: { body: 'c' } })] }));
    expect(failed.status).toBe(500);
    expect(sink.received.map((m) => m.providerMessageId)).toEqual(['wamid.first']);
  });
});

// ------------------------------------------------------------------ deliver

const NOW = new Date('2026-03-10T15:00:00.000Z');
const route = (lastInboundAt = '2026-03-10T14:00:00.000Z'): ChannelRoute => ({ channel: 'whatsapp', address: '+15551234567', lastInboundAt });
const ctx = (now = NOW, from: 'bot' | 'agent' = 'bot'): DeliveryContext => ({ conversationId: 'c1', messageId: 'm1', from, now });
const envelope = { messaging_product: 'whatsapp', recipient_type: 'individual', to: '15551234567' };

describe('deliver (inside the 24-hour window)', () => {
  it('sends a text: POST /v21.0/<phone number id>/messages, Bearer token, JSON body; receipt = messages[0].id', async () => {
    const receipt = await wa.deliver(route(), [{ kind: 'text', text: 'Your order ships today.' }], ctx());
    expect(graph.requests).toHaveLength(1);
    const r = graph.requests[0];
    expect(r.method).toBe('POST');
    expect(r.url).toBe(`/v21.0/${PNID}/messages`);
    expect(r.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body).toEqual({ ...envelope, type: 'text', text: { body: 'Your order ships today.', preview_url: false } });
    expect(receipt).toEqual({ providerMessageIds: ['wamid.1'] });
  });

  it('sends up to 3 short choices as reply buttons (id = payload, else title)', async () => {
    await wa.deliver(route(), [{ kind: 'text', text: 'Anything else?', choices: [{ title: 'Yes', payload: 'yes' }, { title: 'No thanks' }] }], ctx());
    expect(graph.requests[0].body).toEqual({
      ...envelope,
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'Anything else?' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'yes', title: 'Yes' } },
            { type: 'reply', reply: { id: 'No thanks', title: 'No thanks' } },
          ],
        },
      },
    });
  });

  it('sends 4–10 choices (or titles over 20 characters) as a list behind "Options"', async () => {
    const choices = ['Track my order', 'Returns', 'Opening hours', 'Talk to a person'].map((t, i) => ({ title: t, payload: `p${i}` }));
    await wa.deliver(route(), [{ kind: 'text', text: 'How can I help?', choices }], ctx());
    await wa.deliver(route(), [{ kind: 'text', text: 'Pick one', choices: [{ title: 'A title of twenty-two!', payload: 'long' }, { title: 'A choice far too long for a row title', payload: 'longer' }] }], ctx());
    expect(graph.requests[0].body).toEqual({
      ...envelope,
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text: 'How can I help?' },
        action: { button: 'Options', sections: [{ rows: choices.map((c) => ({ id: c.payload, title: c.title })) }] },
      },
    });
    expect(graph.requests[1].body.interactive.type).toBe('list');
    expect(graph.requests[1].body.interactive.action.sections[0].rows).toEqual([
      { id: 'long', title: 'A title of twenty-two!' },
      { id: 'longer', title: 'A choice far too long f…', description: 'A choice far too long for a row title' },
    ]);
  });

  it('sends a text longer than an interactive body allows first, then its last paragraph with the buttons', async () => {
    const intro = 'Our returns policy, in full. '.repeat(40).trim(); // ~1160 characters
    const text = `${intro}\n\nWould you like to start a return?`;
    const receipt = await wa.deliver(route(), [{ kind: 'text', text, choices: [{ title: 'Yes', payload: 'yes' }, { title: 'No', payload: 'no' }] }], ctx());
    expect(graph.requests.map((r) => r.body.type)).toEqual(['text', 'interactive']);
    expect(graph.requests[0].body.text.body).toBe(intro);
    expect(graph.requests[1].body.interactive.body.text).toBe('Would you like to start a return?');
    expect(receipt.providerMessageIds).toEqual(['wamid.1', 'wamid.2']);
  });

  it('sends an image by link with its alt text as caption, then the following text', async () => {
    const receipt = await wa.deliver(route(), [{ kind: 'image', url: 'https://cdn.example.com/label.png', alt: 'Return label' }, { kind: 'text', text: 'Print this.' }], ctx());
    expect(graph.requests.map((r) => r.body)).toEqual([
      { ...envelope, type: 'image', image: { link: 'https://cdn.example.com/label.png', caption: 'Return label' } },
      { ...envelope, type: 'text', text: { body: 'Print this.', preview_url: false } },
    ]);
    expect(receipt.providerMessageIds).toEqual(['wamid.1', 'wamid.2']);
  });

  it('guards limits the renderer already keeps: long texts are split, link choices become lines, ids and titles are cut', async () => {
    await wa.deliver(route(), [{ kind: 'text', text: `${'a'.repeat(3000)} ${'b'.repeat(3000)}` }], ctx());
    expect(graph.requests.map((r) => r.body.text.body.length)).toEqual([3000, 3000]);
    graph.reset();
    await wa.deliver(route(), [{ kind: 'text', text: 'More:', choices: [{ title: 'FAQ', url: 'https://e.com/faq' }, { title: 'Yes', payload: 'y'.repeat(300) }] }], ctx());
    expect(graph.requests[0].body.interactive.body.text).toBe('More:\n\nFAQ: https://e.com/faq');
    expect(graph.requests[0].body.interactive.action.buttons).toEqual([{ type: 'reply', reply: { id: 'y'.repeat(256), title: 'Yes' } }]);
  });

  it('refuses an address that is not a phone number, without calling WhatsApp', async () => {
    await expect(wa.deliver({ ...route(), address: 'web:123' }, [{ kind: 'text', text: 'x' }], ctx())).rejects.toMatchObject({ retryable: false });
    expect(graph.requests).toEqual([]);
  });
});

// ------------------------------------------------------------------ window

describe('the 24-hour customer-service window', () => {
  const last = '2026-03-09T15:00:00.000Z';

  it('is open for 24 h after the customer wrote, then template (configured) or closed', () => {
    const justBefore = new Date('2026-03-10T14:59:59.999Z');
    const at = new Date('2026-03-10T15:00:00.000Z');
    expect(wa.window!(route(last), justBefore, 'bot')).toMatchObject({ state: 'open', until: '2026-03-10T15:00:00.000Z' });
    expect(wa.window!(route(last), at, 'agent')).toMatchObject({ state: 'closed' });
    const t = waTemplate.window!(route(last), at, 'agent');
    expect(t.state).toBe('template');
    expect(t.note).toMatch(/template "reengage_v1"/);
    expect(t.note).toMatch(/follows when the customer writes back/);
  });

  it('outside the window, sends the template once for the whole message (text as {{1}}) and reports it held', async () => {
    const later = new Date('2026-03-11T16:00:00.000Z');
    const parts = [
      { kind: 'text' as const, text: 'Your refund\nwas approved.\t Thanks!' },
      { kind: 'text' as const, text: 'Anything else?', choices: [{ title: 'No' }] },
    ];
    const receipt = await waTemplate.deliver(route(last), parts, ctx(later, 'agent'));
    expect(graph.requests).toHaveLength(1);
    expect(graph.requests[0].url).toBe(`/v21.0/${PNID}/messages`);
    expect(graph.requests[0].body).toEqual({
      ...envelope,
      type: 'template',
      template: {
        name: 'reengage_v1',
        language: { code: 'en_GB' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'Your refund was approved. Thanks! Anything else?' }] }],
      },
    });
    expect(receipt).toEqual({ providerMessageIds: ['wamid.1'], held: true, note: 'template reengage_v1 (outside the 24-hour window)' });
  });

  it('sends the template without components unless WHATSAPP_TEMPLATE_PARAM=text, and trims the parameter to 1024 characters', async () => {
    const plain = createWhatsAppChannel(deps(env(graphUrl, { ACME_WHATSAPP_TEMPLATE: 'hello_again' })))!;
    await plain.deliver(route(last), [{ kind: 'text', text: 'x' }], ctx(new Date('2026-03-12T00:00:00Z')));
    expect(graph.requests[0].body.template).toEqual({ name: 'hello_again', language: { code: 'en_US' } });
    await waTemplate.deliver(route(last), [{ kind: 'text', text: 'word '.repeat(400) }], ctx(new Date('2026-03-12T00:00:00Z')));
    const param = graph.requests[1].body.template.components[0].parameters[0].text as string;
    expect([...param].length).toBe(1024);
    expect(param.endsWith('…')).toBe(true);
  });

  it('without a template, refuses outside the window (final) and calls nothing', async () => {
    const e = await wa.deliver(route(last), [{ kind: 'text', text: 'hello?' }], ctx(new Date('2026-03-11T00:00:00Z'))).catch((x) => x);
    expect(e).toBeInstanceOf(DeliveryError);
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/outside the 24-hour window and no template configured/);
    expect(graph.requests).toEqual([]);
  });
});

// ------------------------------------------------------------------ errors

describe('Graph API errors', () => {
  const graphError = (status: number, code: number, message = 'error', subcode?: number) => ({ status, body: { error: { message, type: 'OAuthException', code, ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: 'A1' } } });
  const send = () => wa.deliver(route(), [{ kind: 'text', text: 'hi' }], ctx()).then(
      () => {
        throw new Error('expected the delivery to fail');
      },
      (e) => e as DeliveryError,
    );

  it('retries 5xx and 429 (with Retry-After)', async () => {
    graph.queue.push(graphError(500, 1));
    expect(await send()).toMatchObject({ retryable: true, opts: { status: 500 } });
    graph.queue.push({ ...graphError(429, 4), headers: { 'Retry-After': '7' } });
    expect(await send()).toMatchObject({ retryable: true, opts: { status: 429, retryAfterMs: 7000 } });
  });

  it('retries rate-limit and temporary codes even on HTTP 400', async () => {
    for (const code of [130429, 131048, 131056, 80007, 4, 613]) {
      graph.queue.push(graphError(400, code, 'Rate limit hit'));
      const e = await send();
      expect(e).toBeInstanceOf(DeliveryError);
      expect(e).toMatchObject({ retryable: true, opts: { status: 400, providerCode: String(code) } });
    }
    expect([...GRAPH_RETRYABLE_CODES].sort()).toEqual(['1', '130429', '131048', '131056', '17', '2', '32', '4', '613', '80007'].sort());
  });

  it('gives up on other 4xx; 131047 (re-engagement) is explained', async () => {
    graph.queue.push(graphError(400, 100, 'Invalid parameter'));
    expect(await send()).toMatchObject({ retryable: false, opts: { providerCode: '100' } });
    graph.queue.push(graphError(401, 190, 'Invalid OAuth access token'));
    expect(await send()).toMatchObject({ retryable: false, opts: { status: 401 } });
    graph.queue.push(graphError(400, 131047, 'Re-engagement message'));
    const e = await send();
    expect(e).toMatchObject({ retryable: false, opts: { providerCode: '131047' } });
    expect(e.message).toMatch(/more than 24 hours since the customer last wrote/);
  });
});

/**
 * The Twilio SMS channel: signature checks (against an independent implementation of Twilio's
 * documented algorithm), inbound mapping, opt-out/help keywords, status callbacks, and outbound
 * calls to a fake Twilio REST API on 127.0.0.1.
 */
import { createHmac } from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';
import express from 'express';
import {
  classifyKeyword,
  createTwilioChannel,
  deliveryNote,
  incomingText,
  mapMessageStatus,
  smsSegments,
  splitText,
  twilioSignature,
  verifyTwilioSignature,
} from '../../src/channels/twilio';
import { urlVariants } from '../../src/channels/twilio/signature';
import {
  ChannelConfigError,
  DeliveryError,
  type ChannelAdapter,
  type ChannelFactoryDeps,
  type ChannelRoute,
  type DeliveryContext,
  type DeliveryStatusUpdate,
  type InboundMessage,
  type InboundResult,
  type InboundSink,
} from '../../src/channels/port';
import { errorHandler } from '../../src/http/errors';
import { silentLogger, type Logger } from '../../src/util/logger';

const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const FROM = '+15005550006';
const SERVICE = 'MG0123456789abcdef0123456789abcdef';
const PUBLIC = 'https://bot.example.com';
const CUSTOMER = '+14155550123';

// ---------------------------------------------------------------- helpers

/**
 * Twilio's documented algorithm, written independently of the adapter: parse the form by hand,
 * sort by name (stable, so repeated names keep their order), append name+value to the URL,
 * HMAC-SHA1 with the auth token, base64.
 */
function referenceSignature(token: string, url: string, form: string): string {
  const pairs = form
    .split('&')
    .filter(Boolean)
    .map((kv) => {
      const [k, v = ''] = kv.split('=');
      const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
      return [dec(k), dec(v)] as const;
    });
  const sorted = pairs.map((p, i) => ({ p, i })).sort((a, b) => (a.p[0] < b.p[0] ? -1 : a.p[0] > b.p[0] ? 1 : a.i - b.i));
  const data = url + sorted.map(({ p }) => p[0] + p[1]).join('');
  return createHmac('sha1', token).update(data, 'utf8').digest('base64');
}

function form(fields: Record<string, string> | Array<[string, string]>): string {
  return new URLSearchParams(fields as Record<string, string>).toString();
}

class FakeSink implements InboundSink {
  received: InboundMessage[] = [];
  optOuts: Array<[string, string, boolean]> = [];
  statuses: DeliveryStatusUpdate[] = [];
  optedOut = new Set<string>();
  receiveError?: Error;

  async receive(msg: InboundMessage): Promise<InboundResult> {
    if (this.receiveError) throw this.receiveError;
    this.received.push(msg);
    return { conversationId: 'c1', duplicate: false };
  }
  async setOptOut(channel: string, address: string, optedOut: boolean): Promise<void> {
    this.optOuts.push([channel, address, optedOut]);
    if (optedOut) this.optedOut.add(address);
    else this.optedOut.delete(address);
  }
  async isOptedOut(_channel: string, address: string): Promise<boolean> {
    return this.optedOut.has(address);
  }
  async deliveryStatus(update: DeliveryStatusUpdate): Promise<void> {
    this.statuses.push(update);
  }
  get calls(): number {
    return this.received.length + this.optOuts.length + this.statuses.length;
  }
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLogger, warn: (msg: string) => void warnings.push(msg), warnings };
}

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** A fake Twilio REST API: records requests, answers from a queue (default: 201 with a new sid). */
function fakeTwilio() {
  const requests: Recorded[] = [];
  const replies: Reply[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const reply = replies.shift() ?? { status: 201, body: { sid: `SM${String(++n).padStart(32, '0')}`, status: 'queued', num_segments: '1' } };
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.body));
    });
  });
  return { server, requests, replies };
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function deps(over: Partial<ChannelFactoryDeps> & { vars?: Record<string, string | undefined> } = {}): ChannelFactoryDeps {
  const { vars, ...rest } = over;
  return {
    env: vars ?? { ACME_TWILIO_ACCOUNT_SID: SID, ACME_TWILIO_AUTH_TOKEN: TOKEN, ACME_TWILIO_FROM: FROM },
    prefix: 'ACME_',
    botId: 'acme',
    botName: 'Acme & Co',
    publicUrl: PUBLIC,
    logger: silentLogger,
    clock: () => new Date('2025-06-01T12:00:00Z'),
    ...rest,
  };
}

function channel(d: ChannelFactoryDeps): ChannelAdapter {
  const c = createTwilioChannel(d);
  if (!c) throw new Error('expected a channel');
  return c;
}

/** A Baton-like app around one adapter's router, with Baton's error handler. */
async function serve(adapter: ChannelAdapter, sink: InboundSink): Promise<{ server: http.Server; base: string }> {
  const app = express();
  app.use(adapter.router(sink));
  app.use(errorHandler(silentLogger));
  const server = http.createServer(app);
  return { server, base: await listen(server) };
}

async function post(base: string, path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8', ...headers },
    body,
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

// ---------------------------------------------------------------- pure functions

describe('signature', () => {
  // The worked example of Twilio's "Secure webhooks" documentation.
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
  const documented: Array<[string, string]> = [
    ['CallSid', 'CA1234567890ABCDE'],
    ['Caller', '+14158675310'],
    ['Digits', '1234'],
    ['From', '+14158675310'],
    ['To', '+18005551212'],
  ];

  it("reproduces the signature of Twilio's documented example", () => {
    expect(referenceSignature('12345', url, form(documented))).toBe('GvWf1cFY/Q7PnoempGyD5oXAezc=');
    expect(twilioSignature('12345', url, documented)).toBe('GvWf1cFY/Q7PnoempGyD5oXAezc=');
    expect(verifyTwilioSignature('12345', 'GvWf1cFY/Q7PnoempGyD5oXAezc=', url, [...documented].reverse())).toBe(true);
  });

  it('agrees with the reference for other numbers, and rejects any change', () => {
    const params: Array<[string, string]> = documented.map(([k, v]) => [k, v.replace('+14158675310', '+12349013030')]);
    const sig = referenceSignature('12345', url, form(params));
    expect(twilioSignature('12345', url, params)).toBe(sig);
    expect(sig).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    expect(verifyTwilioSignature('12345', sig, url, params)).toBe(true);
    expect(verifyTwilioSignature('12346', sig, url, params)).toBe(false);
    expect(verifyTwilioSignature('12345', sig, url.replace('https', 'http'), params)).toBe(false);
    expect(verifyTwilioSignature('12345', sig, url, [...params, ['Extra', '']])).toBe(false);
    expect(verifyTwilioSignature('12345', sig.slice(0, -1), url, params)).toBe(false);
  });

  it('accepts repeated parameters in the order received or sorted (as Twilio’s libraries sign them)', () => {
    const params: Array<[string, string]> = [
      ['To', '+1'],
      ['MediaUrl', 'https://b'],
      ['MediaUrl', 'https://a'],
    ];
    const received = referenceSignature(TOKEN, PUBLIC, form(params));
    const sorted = createHmac('sha1', TOKEN).update(`${PUBLIC}MediaUrlhttps://aMediaUrlhttps://bTo+1`).digest('base64');
    expect(received).not.toBe(sorted);
    expect(verifyTwilioSignature(TOKEN, received, PUBLIC, params)).toBe(true);
    expect(verifyTwilioSignature(TOKEN, sorted, PUBLIC, params)).toBe(true);
  });

  it('tries the URL with and without the default port, keeping path and query as they are', () => {
    expect(urlVariants('https://a.example/x?q=%20')).toEqual(['https://a.example/x?q=%20', 'https://a.example:443/x?q=%20']);
    expect(urlVariants('https://a.example:443/x')).toEqual(['https://a.example:443/x', 'https://a.example/x']);
    expect(urlVariants('http://a.example:8080/x')).toEqual(['http://a.example:8080/x']);
    expect(urlVariants('http://a.example/x')).toEqual(['http://a.example/x', 'http://a.example:80/x']);
  });
});

describe('smsSegments', () => {
  it('counts GSM-7 texts: 160 in one segment, then 153 per segment', () => {
    expect(smsSegments('')).toEqual({ encoding: 'GSM-7', units: 0, segments: 0 });
    expect(smsSegments('Hello, where is my order? @home £5 ¿Qué?')).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(smsSegments('a'.repeat(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments('a'.repeat(161))).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
    expect(smsSegments('a'.repeat(306)).segments).toBe(2);
    expect(smsSegments('a'.repeat(307)).segments).toBe(3);
  });

  it('counts GSM extension characters (€ [ ] { } | ^ ~ \\) twice', () => {
    expect(smsSegments('€')).toEqual({ encoding: 'GSM-7', units: 2, segments: 1 });
    expect(smsSegments('{}[]|^~\\€')).toEqual({ encoding: 'GSM-7', units: 18, segments: 1 });
    expect(smsSegments('€'.repeat(80))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments('€'.repeat(81))).toEqual({ encoding: 'GSM-7', units: 162, segments: 2 });
    expect(smsSegments('a'.repeat(159) + '€').segments).toBe(2);
  });

  it('never splits an escape pair across segments', () => {
    // 306 septets would fit two segments, but the € straddles the first boundary.
    expect(smsSegments('a'.repeat(152) + '€' + 'a'.repeat(152))).toEqual({ encoding: 'GSM-7', units: 306, segments: 3 });
  });

  it('switches the whole text to UCS-2 for one character outside GSM-7: 70, then 67 per segment', () => {
    expect(smsSegments('ł'.repeat(70))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSegments('ł'.repeat(71))).toEqual({ encoding: 'UCS-2', units: 71, segments: 2 });
    expect(smsSegments('a'.repeat(100) + '’')).toEqual({ encoding: 'UCS-2', units: 101, segments: 2 });
    expect(smsSegments('ł'.repeat(134)).segments).toBe(2);
    expect(smsSegments('ł'.repeat(135)).segments).toBe(3);
  });

  it('counts an emoji as two UTF-16 units and never splits it', () => {
    expect(smsSegments('😀'.repeat(35))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSegments('a'.repeat(66) + '😀' + 'a'.repeat(66))).toEqual({ encoding: 'UCS-2', units: 134, segments: 3 });
  });
});

describe('keywords and text', () => {
  it.each([
    ['STOP', 'opt-out'],
    [' stop ', 'opt-out'],
    ['StopAll', 'opt-out'],
    ['unsubscribe', 'opt-out'],
    ['Cancel', 'opt-out'],
    ['END', 'opt-out'],
    ['quit', 'opt-out'],
    ['OPTOUT', 'opt-out'],
    ['revoke', 'opt-out'],
    ['START', 'opt-in'],
    ['unstop', 'opt-in'],
    ['Yes', 'yes'],
    ['HELP', 'help'],
    ['info', 'help'],
    ['stop please', null],
    ['please cancel my order', null],
    ['yes please', null],
    ['STOP.', null],
  ])('%j is %s', (body, keyword) => {
    expect(classifyKeyword(body)).toBe(keyword);
  });

  it('labels media so a photo is never dropped silently', () => {
    expect(incomingText('', ['image/jpeg'])).toBe('[image]');
    expect(incomingText('  ', ['image/png', 'video/mp4', 'audio/amr', 'text/vcard'])).toBe('[image] [video] [audio] [file]');
    expect(incomingText('my broken parcel', ['image/jpeg'])).toBe('my broken parcel\n[image]');
    expect(incomingText('hi', [])).toBe('hi');
    expect(incomingText(' ', [])).toBe('');
  });

  it('maps every MessageStatus', () => {
    expect(['accepted', 'queued', 'sending', 'sent'].map(mapMessageStatus)).toEqual(['sent', 'sent', 'sent', 'sent']);
    expect(mapMessageStatus('delivered')).toBe('delivered');
    expect(mapMessageStatus('read')).toBe('read');
    expect(['undelivered', 'failed', 'canceled'].map(mapMessageStatus)).toEqual(['failed', 'failed', 'failed']);
    expect(['receiving', 'received', 'scheduled', 'whatever'].map(mapMessageStatus)).toEqual([null, null, null, null]);
  });

  it('splits an over-long text at spaces, each part within the limit', () => {
    const parts = splitText('word '.repeat(700).trim(), 1600);
    expect(parts.length).toBe(3);
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(1600);
    expect(parts.join(' ')).toBe('word '.repeat(700).trim());
    expect(splitText('x'.repeat(3200), 1600)).toEqual(['x'.repeat(1600), 'x'.repeat(1600)]);
  });

  it('describes the segments sent', () => {
    expect(deliveryNote([{ body: 'hello' }])).toBe('1 SMS, 1 segment (GSM-7)');
    expect(deliveryNote([{ body: 'a'.repeat(200) }, { body: 'thanks 😀' }])).toBe('2 SMS, 3 segments (GSM-7 and UCS-2: characters outside the GSM-7 alphabet)');
    expect(deliveryNote([{ body: 'see' }, { mediaUrl: 'https://x/y.png' }])).toBe('1 SMS, 1 segment (GSM-7) + 1 MMS');
  });
});

// ---------------------------------------------------------------- factory

describe('createTwilioChannel', () => {
  it('is off (null) when none of the bot’s Twilio variables is set, even with the global API URL', () => {
    expect(createTwilioChannel(deps({ vars: {} }))).toBeNull();
    expect(createTwilioChannel(deps({ vars: { TWILIO_API_BASE_URL: 'http://127.0.0.1:1', ACME_TWILIO_FROM: '', OTHER_TWILIO_FROM: FROM } }))).toBeNull();
  });

  it('names every missing variable when only some are set', () => {
    let err: unknown;
    try {
      createTwilioChannel(deps({ vars: { ACME_TWILIO_HELP_TEXT: 'Text us' } }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChannelConfigError);
    expect((err as ChannelConfigError).problems.map((p) => p.variable)).toEqual(['ACME_TWILIO_ACCOUNT_SID', 'ACME_TWILIO_AUTH_TOKEN', 'ACME_TWILIO_FROM']);
    expect((err as Error).message).toMatch(/ACME_TWILIO_ACCOUNT_SID: is missing/);
  });

  it('reports malformed values, each by name', () => {
    const bad = () =>
      createTwilioChannel(
        deps({
          vars: {
            ACME_TWILIO_ACCOUNT_SID: 'XX0123456789abcdef0123456789abcdef',
            ACME_TWILIO_AUTH_TOKEN: 'secret',
            ACME_TWILIO_FROM: '555-1234',
            ACME_TWILIO_MMS: 'maybe',
            TWILIO_API_BASE_URL: 'ftp://x',
          },
        }),
      );
    expect(bad).toThrow(ChannelConfigError);
    try {
      bad();
    } catch (e) {
      const problems = (e as ChannelConfigError).problems;
      expect(problems.map((p) => p.variable)).toEqual(['ACME_TWILIO_ACCOUNT_SID', 'ACME_TWILIO_AUTH_TOKEN', 'ACME_TWILIO_FROM', 'ACME_TWILIO_MMS', 'TWILIO_API_BASE_URL']);
      expect(problems[0].message).toMatch(/AC/);
    }
    expect(() => createTwilioChannel(deps({ vars: { ACME_TWILIO_ACCOUNT_SID: 'SK0123456789abcdef0123456789abcdef', ACME_TWILIO_AUTH_TOKEN: TOKEN, ACME_TWILIO_FROM: FROM } }))).toThrow(
      /API key/,
    );
  });

  it('builds the adapter: name, title, SMS capabilities', () => {
    const c = channel(deps());
    expect(c.name).toBe('twilio');
    expect(c.title).toBe('SMS (Twilio)');
    expect(c.capabilities).toEqual({ maxTextLength: 1600, maxChoices: 0, maxChoiceTitle: 0, urlButtons: false, images: false, cards: false, markdown: false, typing: false });
    expect(c.window).toBeUndefined();
    const mms = channel(deps({ vars: { ACME_TWILIO_ACCOUNT_SID: SID, ACME_TWILIO_AUTH_TOKEN: TOKEN, ACME_TWILIO_FROM: SERVICE, ACME_TWILIO_MMS: 'TRUE' } }));
    expect(mms.capabilities.images).toBe(true);
  });
});

// ---------------------------------------------------------------- webhooks

describe('incoming message webhook', () => {
  const sink = new FakeSink();
  let server: http.Server;
  let base: string;
  const path = '/webhooks/twilio/acme';

  beforeAll(async () => {
    ({ server, base } = await serve(channel(deps()), sink));
  });
  afterAll(() => close(server));
  beforeEach(() => {
    sink.received = [];
    sink.optOuts = [];
    sink.optedOut.clear();
    sink.receiveError = undefined;
  });

  function sms(fields: Record<string, string>): Record<string, string> {
    return { ToCountry: 'US', SmsMessageSid: 'SM1', NumMedia: '0', SmsSid: 'SM1', Body: '', To: FROM, MessageSid: 'SM1', AccountSid: SID, From: CUSTOMER, ApiVersion: '2010-04-01', ...fields };
  }
  /** POST a signed webhook the way Twilio does. */
  function send(fields: Record<string, string>, at = path) {
    const body = form(sms(fields));
    return post(base, at, body, { 'X-Twilio-Signature': referenceSignature(TOKEN, PUBLIC + at, body) });
  }

  it('runs a turn for a signed message and answers with empty TwiML', async () => {
    const res = await send({ Body: 'Where is my order #123?', MessageSid: 'SM0001', SmsSid: 'SM0001' });
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/xml/);
    expect(res.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(sink.received).toEqual([{ channel: 'twilio', address: CUSTOMER, providerMessageId: 'SM0001', text: 'Where is my order #123?' }]);
  });

  it('keeps the text byte for byte (+, &, =, emoji, line breaks) and passes ProfileName as the name', async () => {
    const body = '1+1 = 2 & 😀\r\nok';
    await send({ Body: body, ProfileName: 'Ada' });
    expect(sink.received[0]).toMatchObject({ text: body, name: 'Ada' });
  });

  it('falls back to SmsSid when MessageSid is absent', async () => {
    const fields = sms({ Body: 'hi', SmsSid: 'SM0002' });
    delete (fields as Partial<Record<string, string>>).MessageSid;
    const body = form(fields);
    const res = await post(base, path, body, { 'X-Twilio-Signature': referenceSignature(TOKEN, PUBLIC + path, body) });
    expect(res.status).toBe(200);
    expect(sink.received[0].providerMessageId).toBe('SM0002');
  });

  it('passes media-only messages as labels', async () => {
    await send({ Body: '', NumMedia: '2', MediaContentType0: 'image/jpeg', MediaUrl0: 'https://api.twilio.com/x', MediaContentType1: 'video/mp4', MediaUrl1: 'https://api.twilio.com/y' });
    expect(sink.received[0].text).toBe('[image] [video]');
  });

  it('answers 401 without a signature, 403 with a wrong one or a tampered body; the sink is not called', async () => {
    const body = form(sms({ Body: 'hi' }));
    const missing = await post(base, path, body);
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.text)).toEqual({ error: { code: 'missing_signature', message: expect.any(String) } });

    const wrong = await post(base, path, body, { 'X-Twilio-Signature': referenceSignature('0'.repeat(32), PUBLIC + path, body) });
    expect(wrong.status).toBe(403);
    expect(JSON.parse(wrong.text).error.code).toBe('invalid_signature');

    const signature = referenceSignature(TOKEN, PUBLIC + path, body);
    const tampered = await post(base, path, body.replace('Body=hi', 'Body=ho'), { 'X-Twilio-Signature': signature });
    expect(tampered.status).toBe(403);
    const added = await post(base, path, `${body}&Extra=1`, { 'X-Twilio-Signature': signature });
    expect(added.status).toBe(403);
    const otherUrl = await post(base, `${path}?x=1`, body, { 'X-Twilio-Signature': signature });
    expect(otherUrl.status).toBe(403);
    expect(sink.calls).toBe(0);
  });

  it('accepts a signature computed over the URL with the default port', async () => {
    const body = form(sms({ Body: 'port' }));
    const res = await post(base, path, body, { 'X-Twilio-Signature': referenceSignature(TOKEN, `${PUBLIC}:443${path}`, body) });
    expect(res.status).toBe(200);
    expect(sink.received).toHaveLength(1);
  });

  it('includes the query string in the signed URL', async () => {
    const res = await send({ Body: 'q' }, `${path}?source=sms`);
    expect(res.status).toBe(200);
    expect(sink.received).toHaveLength(1);
  });

  it('does not answer for another bot', async () => {
    const res = await send({ Body: 'hi' }, '/webhooks/twilio/other');
    expect(res.status).toBe(404);
    expect(sink.calls).toBe(0);
  });

  it('records STOP (and its synonyms) as an opt-out without running a turn', async () => {
    for (const word of [' stop ', 'Unsubscribe', 'QUIT']) {
      const res = await send({ Body: word });
      expect(res.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    }
    expect(sink.optOuts).toEqual([
      ['twilio', CUSTOMER, true],
      ['twilio', CUSTOMER, true],
      ['twilio', CUSTOMER, true],
    ]);
    expect(sink.received).toEqual([]);
  });

  it('records START/UNSTOP as an opt-in without running a turn', async () => {
    sink.optedOut.add(CUSTOMER);
    await send({ Body: 'Start' });
    await send({ Body: 'UNSTOP' });
    expect(sink.optOuts).toEqual([
      ['twilio', CUSTOMER, false],
      ['twilio', CUSTOMER, false],
    ]);
    expect(sink.received).toEqual([]);
  });

  it('treats YES as an opt-in only for an opted-out number; otherwise it answers the bot', async () => {
    sink.optedOut.add(CUSTOMER);
    await send({ Body: 'yes', MessageSid: 'SM10' });
    expect(sink.optOuts).toEqual([['twilio', CUSTOMER, false]]);
    expect(sink.received).toEqual([]);

    await send({ Body: 'YES', MessageSid: 'SM11' });
    expect(sink.optOuts).toHaveLength(1);
    expect(sink.received).toEqual([{ channel: 'twilio', address: CUSTOMER, providerMessageId: 'SM11', text: 'YES' }]);
  });

  it('answers HELP/INFO with the help text in TwiML, XML-escaped, without a turn', async () => {
    for (const word of ['HELP', 'info']) {
      const res = await send({ Body: word });
      expect(res.status).toBe(200);
      expect(res.type).toMatch(/^text\/xml/);
      expect(res.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Message>Acme &amp; Co: reply with your question to get help. Reply STOP to unsubscribe.</Message></Response>');
    }
    expect(sink.received).toEqual([]);
    sink.optedOut.add(CUSTOMER);
    expect((await send({ Body: 'help' })).text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });

  it('acknowledges a message Baton refuses (invalid_message) but fails others so Twilio can retry', async () => {
    sink.receiveError = Object.assign(new Error('too long'), { code: 'invalid_message' });
    expect((await send({ Body: 'x' })).status).toBe(200);
    sink.receiveError = new Error('database down');
    expect((await send({ Body: 'x' })).status).toBe(500);
  });

  it('ignores WhatsApp senders and empty messages without a turn', async () => {
    expect((await send({ Body: 'hi', From: 'whatsapp:+14155550123' })).status).toBe(200);
    expect((await send({ Body: '   ' })).status).toBe(200);
    expect(sink.received).toEqual([]);
  });

  it('answers 400 for a signed webhook without From', async () => {
    const fields = sms({ Body: 'hi' });
    delete (fields as Partial<Record<string, string>>).From;
    const body = form(fields);
    const res = await post(base, path, body, { 'X-Twilio-Signature': referenceSignature(TOKEN, PUBLIC + path, body) });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error.code).toBe('invalid_webhook');
  });
});

describe('webhooks without BATON_PUBLIC_URL', () => {
  const sink = new FakeSink();
  const logger = recordingLogger();
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    const d = deps({ logger, vars: { ACME_TWILIO_ACCOUNT_SID: SID, ACME_TWILIO_AUTH_TOKEN: TOKEN, ACME_TWILIO_FROM: FROM, ACME_TWILIO_HELP_TEXT: 'off' } });
    delete d.publicUrl;
    ({ server, base } = await serve(channel(d), sink));
  });
  afterAll(() => close(server));

  it('checks the signature against the URL rebuilt from the Host header, warning once', async () => {
    const path = '/webhooks/twilio/acme';
    for (const sid of ['SM20', 'SM21']) {
      const body = form({ MessageSid: sid, From: CUSTOMER, To: FROM, Body: 'hi' });
      const res = await post(base, path, body, { 'X-Twilio-Signature': referenceSignature(TOKEN, base + path, body) });
      expect(res.status).toBe(200);
    }
    expect(sink.received.map((m) => m.providerMessageId)).toEqual(['SM20', 'SM21']);
    expect(logger.warnings.filter((w) => w.includes('BATON_PUBLIC_URL'))).toHaveLength(1);
  });

  it('uses X-Forwarded-Proto when a proxy terminates TLS', async () => {
    const path = '/webhooks/twilio/acme';
    const body = form({ MessageSid: 'SM22', From: CUSTOMER, To: FROM, Body: 'hi' });
    const host = new URL(base).host;
    const res = await post(base, path, body, { 'X-Forwarded-Proto': 'https', 'X-Twilio-Signature': referenceSignature(TOKEN, `https://${host}${path}`, body) });
    expect(res.status).toBe(200);
  });

  it('leaves HELP to Twilio when the help text is "off"', async () => {
    const path = '/webhooks/twilio/acme';
    const body = form({ MessageSid: 'SM23', From: CUSTOMER, To: FROM, Body: 'HELP' });
    const res = await post(base, path, body, { 'X-Twilio-Signature': referenceSignature(TOKEN, base + path, body) });
    expect(res.text).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');
    expect(sink.received.map((m) => m.providerMessageId)).not.toContain('SM23');
  });
});

describe('status callback webhook', () => {
  const sink = new FakeSink();
  let server: http.Server;
  let base: string;
  const path = '/webhooks/twilio/acme/status';

  beforeAll(async () => {
    ({ server, base } = await serve(channel(deps()), sink));
  });
  afterAll(() => close(server));
  beforeEach(() => {
    sink.statuses = [];
  });

  function send(fields: Record<string, string>, signature?: string) {
    const body = form({ AccountSid: SID, From: FROM, To: CUSTOMER, ApiVersion: '2010-04-01', ...fields });
    return post(base, path, body, { 'X-Twilio-Signature': signature ?? referenceSignature(TOKEN, PUBLIC + path, body) });
  }

  it('reports delivery and failure to the gateway and answers 204', async () => {
    const delivered = await send({ MessageSid: 'SM1', MessageStatus: 'delivered', SmsSid: 'SM1', SmsStatus: 'delivered' });
    expect(delivered.status).toBe(204);
    await send({ MessageSid: 'SM2', MessageStatus: 'sent' });
    await send({ MessageSid: 'SM3', MessageStatus: 'undelivered', ErrorCode: '30003' });
    await send({ MessageSid: 'SM4', MessageStatus: 'failed', ErrorCode: '30007' });
    await send({ MessageSid: 'SM5', MessageStatus: 'read' });
    expect(sink.statuses).toEqual([
      { channel: 'twilio', providerMessageId: 'SM1', status: 'delivered' },
      { channel: 'twilio', providerMessageId: 'SM2', status: 'sent' },
      { channel: 'twilio', providerMessageId: 'SM3', status: 'failed', error: '30003' },
      { channel: 'twilio', providerMessageId: 'SM4', status: 'failed', error: '30007' },
      { channel: 'twilio', providerMessageId: 'SM5', status: 'read' },
    ]);
  });

  it('ignores statuses that say nothing about delivery', async () => {
    expect((await send({ MessageSid: 'SM6', MessageStatus: 'received' })).status).toBe(204);
    expect(sink.statuses).toEqual([]);
  });

  it('is signed like the message webhook', async () => {
    expect((await post(base, path, form({ MessageSid: 'SM7', MessageStatus: 'delivered' }))).status).toBe(401);
    expect((await send({ MessageSid: 'SM7', MessageStatus: 'delivered' }, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=')).status).toBe(403);
    expect(sink.statuses).toEqual([]);
  });
});

// ---------------------------------------------------------------- deliver

describe('deliver', () => {
  const api = fakeTwilio();
  let apiBase: string;
  const route: ChannelRoute = { channel: 'twilio', address: CUSTOMER, lastInboundAt: '2025-06-01T11:00:00Z' };
  const ctx: DeliveryContext = { conversationId: 'c1', messageId: 'm1', from: 'agent', now: new Date('2025-06-01T12:00:00Z') };
  const basic = `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`;
  const messagesPath = `/2010-04-01/Accounts/${SID}/Messages.json`;

  function adapter(vars: Record<string, string> = {}, over: Partial<ChannelFactoryDeps> = {}): ChannelAdapter {
    return channel(deps({ vars: { ACME_TWILIO_ACCOUNT_SID: SID, ACME_TWILIO_AUTH_TOKEN: TOKEN, ACME_TWILIO_FROM: FROM, TWILIO_API_BASE_URL: `${apiBase}/`, ...vars }, ...over }));
  }
  const fields = (i: number) => Object.fromEntries(new URLSearchParams(api.requests[i].body));

  beforeAll(async () => {
    apiBase = await listen(api.server);
  });
  afterAll(() => close(api.server));
  beforeEach(() => {
    api.requests.length = 0;
    api.replies.length = 0;
  });

  it('posts one form per part to the Messages API with basic auth and a status callback', async () => {
    const receipt = await adapter().deliver(route, [{ kind: 'text', text: 'Your order ships today.' }, { kind: 'text', text: 'Anything else? 😀' }], ctx);
    expect(api.requests).toHaveLength(2);
    const [first] = api.requests;
    expect(first.method).toBe('POST');
    expect(first.url).toBe(messagesPath);
    expect(first.headers.authorization).toBe(basic);
    expect(first.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(fields(0)).toEqual({ To: CUSTOMER, From: FROM, Body: 'Your order ships today.', StatusCallback: `${PUBLIC}/webhooks/twilio/acme/status` });
    expect(fields(1)).toEqual({ To: CUSTOMER, From: FROM, Body: 'Anything else? 😀', StatusCallback: `${PUBLIC}/webhooks/twilio/acme/status` });
    expect(receipt).toEqual({
      providerMessageIds: [`SM${'1'.padStart(32, '0')}`, `SM${'2'.padStart(32, '0')}`],
      note: '2 SMS, 2 segments (GSM-7 and UCS-2: characters outside the GSM-7 alphabet)',
    });
  });

  it('sends through a Messaging Service, and without a status callback when the public URL is unknown', async () => {
    const a = adapter({ ACME_TWILIO_FROM: SERVICE }, { publicUrl: undefined });
    await a.deliver(route, [{ kind: 'text', text: 'hi' }], ctx);
    expect(fields(0)).toEqual({ To: CUSTOMER, MessagingServiceSid: SERVICE, Body: 'hi' });
  });

  it('sends images as MMS when enabled (caption = alt), as text lines otherwise', async () => {
    await adapter({ ACME_TWILIO_MMS: 'true' }).deliver(route, [{ kind: 'image', url: 'https://cdn.example/label.png', alt: 'Return label' }, { kind: 'image', url: 'https://cdn.example/x.png' }], ctx);
    expect(fields(0)).toEqual({ To: CUSTOMER, From: FROM, MediaUrl: 'https://cdn.example/label.png', Body: 'Return label', StatusCallback: `${PUBLIC}/webhooks/twilio/acme/status` });
    expect(fields(1)).toEqual({ To: CUSTOMER, From: FROM, MediaUrl: 'https://cdn.example/x.png', StatusCallback: `${PUBLIC}/webhooks/twilio/acme/status` });

    api.requests.length = 0;
    const receipt = await adapter().deliver(route, [{ kind: 'image', url: 'https://cdn.example/label.png', alt: 'Return label' }], ctx);
    expect(fields(0).Body).toBe('Return label: https://cdn.example/label.png');
    expect(fields(0).MediaUrl).toBeUndefined();
    expect(receipt.note).toBe('1 SMS, 1 segment (GSM-7)');
  });

  it('guards the limits if a part arrives unfitted: long texts split, choices and cards as text', async () => {
    await adapter().deliver(
      route,
      [
        { kind: 'text', text: 'word '.repeat(400).trim(), choices: [{ title: 'Track', payload: 'track' }, { title: 'Site', url: 'https://shop.example' }] },
        { kind: 'card', title: 'Blue mug', subtitle: '$12', buttons: [{ title: 'Buy', payload: 'buy' }] },
      ],
      ctx,
    );
    expect(api.requests).toHaveLength(3);
    expect(fields(0).Body.length).toBeLessThanOrEqual(1600);
    expect(fields(1).Body.endsWith('word\n1. Track\nSite: https://shop.example')).toBe(true);
    expect(fields(2).Body).toBe('Blue mug\n$12\n1. Buy');
  });

  it('makes 5xx and 429 retryable, honouring Retry-After', async () => {
    api.replies.push({ status: 503, body: { code: 20500, message: 'Internal Server Error' }, headers: { 'Retry-After': '7' } });
    const e1 = await adapter().deliver(route, [{ kind: 'text', text: 'hi' }], ctx).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(DeliveryError);
    expect(e1).toMatchObject({ retryable: true, opts: { status: 503, retryAfterMs: 7000 } });

    api.replies.push({ status: 429, body: { code: 20429, message: 'Too Many Requests' }, headers: { 'Retry-After': '2' } });
    const e2 = await adapter().deliver(route, [{ kind: 'text', text: 'hi' }], ctx).catch((e: unknown) => e);
    expect(e2).toMatchObject({ retryable: true, opts: { status: 429, retryAfterMs: 2000, providerCode: '20429' } });
  });

  it('makes 400 final', async () => {
    api.replies.push({ status: 400, body: { code: 21211, message: "The 'To' number is not a valid phone number.", status: 400 } });
    const e = await adapter().deliver(route, [{ kind: 'text', text: 'hi' }], ctx).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(DeliveryError);
    expect(e).toMatchObject({ retryable: false, opts: { status: 400, providerCode: '21211' } });
  });

  it('maps 21610 (recipient replied STOP) to a final error with providerCode 21610', async () => {
    api.replies.push({ status: 400, body: { code: 21610, message: 'Attempt to send to unsubscribed recipient', status: 400 } });
    const e = await adapter().deliver(route, [{ kind: 'text', text: 'hi' }], ctx).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(DeliveryError);
    expect(e).toMatchObject({ retryable: false, opts: { providerCode: '21610' } });
    expect((e as Error).message).toMatch(/STOP/);
  });

  it('says which messages went out before a failure', async () => {
    api.replies.push({ status: 201, body: { sid: 'SMfirst' } }, { status: 500, body: { code: 20500 } });
    const e = await adapter()
      .deliver(route, [{ kind: 'text', text: 'one' }, { kind: 'text', text: 'two' }], ctx)
      .catch((err: unknown) => err);
    expect(e).toMatchObject({ retryable: true });
    expect((e as Error).message).toMatch(/after 1 of 2 messages were sent: SMfirst/);
  });

  it('is retryable when Twilio cannot be reached', async () => {
    const a = adapter({ TWILIO_API_BASE_URL: 'http://127.0.0.1:1' });
    const e = await a.deliver(route, [{ kind: 'text', text: 'hi' }], ctx).catch((err: unknown) => err);
    expect(e).toMatchObject({ retryable: true });
  });
});

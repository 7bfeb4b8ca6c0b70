/**
 * Bot Framework channel: the real SDK (CloudAdapter) on loopback, with a fake Bot Framework
 * connector playing the Emulator / channel service, and a fake Microsoft OpenID endpoint for the
 * credential-mode tokens.
 */
import { spawnSync } from 'node:child_process';
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { createBotFrameworkChannel, type BotFrameworkChannelOptions } from '../../src/channels/botframework';
import { readBotFrameworkConfig } from '../../src/channels/botframework/config';
import { readPayload } from '../../src/channels/botframework/inbound';
import { fitTitle, imageContentType, toActivities } from '../../src/channels/botframework/outbound';
import { toDeliveryError } from '../../src/channels/botframework/errors';
import {
  ChannelConfigError,
  DeliveryError,
  type ChannelAdapter,
  type ChannelRoute,
  type DeliveryContext,
  type DeliveryStatusUpdate,
  type InboundMessage,
  type InboundResult,
  type InboundSink,
} from '../../src/channels/port';
import { errorHandler } from '../../src/http/errors';
import type { Logger } from '../../src/util/logger';
import type { JsonObject } from '../../src/util/json';

// ---------------------------------------------------------------------------------------------
// Fakes

interface LogEntry {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}

function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void entries.push({ level, msg, fields });
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

class FakeSink implements InboundSink {
  received: InboundMessage[] = [];
  failWith: unknown = null;
  async receive(msg: InboundMessage): Promise<InboundResult> {
    this.received.push(msg);
    if (this.failWith) throw this.failWith;
    return { conversationId: 'conv-baton-1', duplicate: false };
  }
  async setOptOut(): Promise<void> {}
  async isOptedOut(): Promise<boolean> {
    return false;
  }
  async deliveryStatus(_u: DeliveryStatusUpdate): Promise<void> {}
}

interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

interface FakeReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Never answer (a hung connector). */
  hang?: boolean;
}

/** The Bot Framework connector (what the Emulator, Web Chat's Direct Line or Teams run): records each request. */
class FakeConnector {
  requests: RecordedRequest[] = [];
  reply: (req: RecordedRequest) => FakeReply = () => ({ status: 200, body: { id: `sent-${this.requests.length}` } });
  private server = http.createServer((req, res) => this.handle(req, res));
  private hung = new Set<http.ServerResponse>();
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const recorded: RecordedRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: text ? JSON.parse(text) : undefined };
      this.requests.push(recorded);
      const r = this.reply(recorded);
      if (r.hang) {
        this.hung.add(res);
        return;
      }
      res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
      res.end(r.body === undefined ? '' : JSON.stringify(r.body));
    });
  }
}

/** Microsoft's OpenID metadata + signing keys for channel tokens, with one key of our own. */
class FakeOpenId {
  readonly kid = 'test-signing-key';
  private readonly keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openidconfiguration') res.end(JSON.stringify({ issuer: 'https://api.botframework.com', jwks_uri: `${this.url}/keys` }));
    else if (req.url === '/keys') res.end(JSON.stringify({ keys: [{ kty: 'RSA', use: 'sig', kid: this.kid, ...this.publicJwk(), endorsements: ['msteams', 'webchat', 'directline', 'emulator'] }] }));
    else res.writeHead(404).end();
  });
  url = '';

  get metadataUrl(): string {
    return `${this.url}/.well-known/openidconfiguration`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private publicJwk(): { n: string; e: string } {
    const jwk = (this.keys.publicKey as KeyObject).export({ format: 'jwk' }) as { n: string; e: string };
    return { n: jwk.n, e: jwk.e };
  }

  /** A channel token as the Bot Framework signs it (RS256); `key` forges one with another key under the same key id. */
  token(claims: Record<string, unknown>, key: KeyObject = this.keys.privateKey): string {
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const data = `${enc({ alg: 'RS256', typ: 'JWT', kid: this.kid })}.${enc({ iss: 'https://api.botframework.com', iat: now, nbf: now, exp: now + 3600, ...claims })}`;
    return `${data}.${createSign('RSA-SHA256').update(data).sign(key).toString('base64url')}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Harness

interface Bot {
  channel: ChannelAdapter;
  sink: FakeSink;
  logger: ReturnType<typeof recordingLogger>;
  url: string;
  server: http.Server;
}

async function startBot(env: Record<string, string>, options: BotFrameworkChannelOptions = {}): Promise<Bot> {
  const logger = recordingLogger();
  const channel = createBotFrameworkChannel({ env, prefix: 'ACME_', botId: 'acme', botName: 'Acme', logger, clock: () => new Date() }, options);
  if (!channel) throw new Error('channel is off');
  const sink = new FakeSink();
  const app = express();
  app.use(channel.router(sink));
  app.use(errorHandler(logger));
  const server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { channel, sink, logger, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function stopBot(bot: Bot | undefined): Promise<void> {
  if (!bot) return;
  bot.server.closeAllConnections();
  await new Promise<void>((resolve) => bot.server.close(() => resolve()));
}

async function post(bot: Bot, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${bot.url}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const ctx: DeliveryContext = { conversationId: 'conv-baton-1', messageId: 'm-1', from: 'bot', now: new Date('2025-01-01T00:00:00Z') };

function routeOf(msg: InboundMessage): ChannelRoute {
  return { channel: msg.channel, address: msg.address, ref: msg.ref, lastInboundAt: '2025-01-01T00:00:00Z' };
}

// ---------------------------------------------------------------------------------------------
// Local mode (Bot Framework Emulator): inbound + outbound through the real CloudAdapter

describe('Bot Framework channel, local mode (Emulator) round trip', () => {
  const connector = new FakeConnector();
  let bot: Bot;

  const message = (over: Record<string, unknown> = {}) => ({
    type: 'message',
    id: 'act-1',
    timestamp: '2025-01-01T00:00:00.000Z',
    channelId: 'emulator',
    serviceUrl: connector.url,
    from: { id: 'user-1', name: 'Ada Lovelace', role: 'user' },
    recipient: { id: 'bot-1', name: 'Acme', role: 'bot' },
    conversation: { id: 'conv-1' },
    locale: 'en-US',
    text: 'where is my order?',
    ...over,
  });

  /** Sends a message in, returns the route Baton would store for the customer. */
  async function inbound(over: Record<string, unknown> = {}): Promise<ChannelRoute> {
    bot.sink.received = [];
    const res = await post(bot, message(over));
    expect(res.status).toBe(200);
    expect(bot.sink.received).toHaveLength(1);
    return routeOf(bot.sink.received[0]);
  }

  beforeAll(async () => {
    await connector.start();
    bot = await startBot({ BATON_BOTFRAMEWORK_LOCAL: 'true' }, { requestTimeoutMs: 1000 });
  });
  afterAll(async () => {
    await stopBot(bot);
    await connector.stop();
  });
  beforeEach(() => {
    connector.requests = [];
    connector.reply = () => ({ status: 200, body: { id: `sent-${connector.requests.length}` } });
    bot.sink.failWith = null;
    bot.sink.received = [];
  });

  it('warns at start that requests are not authenticated', () => {
    expect(bot.logger.entries.some((e) => e.level === 'warn' && /NOT authenticated/.test(e.msg))).toBe(true);
  });

  it('turns a message activity into one InboundMessage with a usable conversation reference', async () => {
    const res = await post(bot, message());
    expect(res.status).toBe(200);
    expect(bot.sink.received).toEqual([
      {
        channel: 'botframework',
        address: 'emulator:user-1',
        providerMessageId: 'emulator:conv-1:act-1',
        text: 'where is my order?',
        name: 'Ada Lovelace',
        ref: {
          activityId: 'act-1',
          user: { id: 'user-1', name: 'Ada Lovelace', role: 'user' },
          bot: { id: 'bot-1', name: 'Acme', role: 'bot' },
          conversation: { id: 'conv-1' },
          channelId: 'emulator',
          locale: 'en-US',
          serviceUrl: connector.url,
        },
      },
    ]);
    // Nothing is sent inside the turn: replies go out through deliver.
    expect(connector.requests).toEqual([]);
  });

  it("reads a pressed button's payload from value.payload (messageBack) and keeps its title as text", async () => {
    await post(bot, message({ id: 'act-2', text: 'Track my order', value: { payload: 'TRACK_ORDER' }, channelData: { postBack: true } }));
    expect(bot.sink.received[0]).toMatchObject({ providerMessageId: 'emulator:conv-1:act-2', text: 'Track my order', payload: 'TRACK_ORDER' });
  });

  it('removes the bot\'s own Teams @mention from the text', async () => {
    await post(
      bot,
      message({
        channelId: 'msteams',
        id: '1700000000000',
        conversation: { id: '19:abc@thread.v2', conversationType: 'channel', tenantId: 't-1' },
        text: '<at>Acme</at> I need help',
        entities: [{ type: 'mention', text: '<at>Acme</at>', mentioned: { id: 'bot-1', name: 'Acme' } }],
      }),
    );
    expect(bot.sink.received[0]).toMatchObject({ address: 'msteams:user-1', providerMessageId: 'msteams:19:abc@thread.v2:1700000000000', text: 'I need help' });
    expect(bot.sink.received[0].ref).toMatchObject({ conversation: { id: '19:abc@thread.v2', tenantId: 't-1' }, channelId: 'msteams' });
  });

  it('acknowledges conversationUpdate, typing and other activities without a turn', async () => {
    for (const type of ['conversationUpdate', 'typing', 'messageReaction', 'event', 'endOfConversation']) {
      const res = await post(bot, { ...message(), type, text: undefined, membersAdded: [{ id: 'user-1' }] });
      expect(res.status).toBe(200);
    }
    expect(bot.sink.received).toEqual([]);
    expect(connector.requests).toEqual([]);
  });

  it("passes the SDK's answer to an invoke activity through (Baton handles none), without a turn", async () => {
    const res = await post(bot, { ...message(), type: 'invoke', name: 'adaptiveCard/action', text: undefined });
    expect(res.status).toBe(501);
    expect(bot.sink.received).toEqual([]);
  });

  it('answers 400 to a body that is not JSON, and to JSON that is not an activity', async () => {
    const bad = await post(bot, '{"type": "message",');
    expect(bad).toEqual({ status: 400, json: { error: { code: 'invalid_json', message: 'the request body is not valid JSON' } } });
    const notActivity = await post(bot, [1, 2]);
    expect(notActivity.status).toBe(400);
    expect(notActivity.json).toMatchObject({ error: { code: 'invalid_activity' } });
    const noConversation = await post(bot, { ...message(), conversation: undefined, serviceUrl: 'ftp://x' });
    expect(noConversation.status).toBe(400);
    expect(noConversation.json).toMatchObject({
      error: { code: 'invalid_activity', details: [{ path: 'conversation.id', message: 'required' }, { path: 'serviceUrl (an http(s) URL)', message: 'required' }] },
    });
    expect(bot.sink.received).toEqual([]);
  });

  it('answers 200 when the gateway rejects the message as invalid (a retry would not help), 500 on any other failure', async () => {
    bot.sink.failWith = Object.assign(new Error('a message needs "text" or "payload"'), { code: 'invalid_message' });
    expect((await post(bot, message({ text: '' }))).status).toBe(200);
    expect(bot.logger.entries.some((e) => e.level === 'warn' && /invalid/.test(e.msg))).toBe(true);

    bot.sink.failWith = new Error('database is on fire');
    const res = await post(bot, message({ id: 'act-3' }));
    expect(res.status).toBe(500);
    expect(res.json).toEqual({ error: { code: 'turn_failed', message: 'the message could not be processed; the channel will retry it' } });
    const logged = bot.logger.entries.filter((e) => e.level === 'error');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ msg: expect.stringMatching(/turn failed/), fields: { activityId: 'act-3', providerConversationId: 'conv-1' } });
    bot.logger.entries.length = 0;
  });

  it('delivers text with choices as one proactive reply: plain text, messageBack suggested actions carrying the payload', async () => {
    const route = await inbound();
    const receipt = await bot.channel.deliver(
      route,
      [
        {
          kind: 'text',
          text: 'Your order ships today. *Anything else?*',
          choices: [{ title: 'Track my order', payload: 'TRACK' }, { title: 'Talk to a person' }, { title: 'Our FAQ', url: 'https://acme.test/faq' }],
        },
      ],
      ctx,
    );
    expect(receipt).toEqual({ providerMessageIds: ['emulator:conv-1:sent-1'] });
    expect(connector.requests).toHaveLength(1);
    const [req] = connector.requests;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v3/conversations/conv-1/activities/act-1');
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    // Local mode: no credentials, so no token.
    expect(req.headers.authorization).toBeUndefined();
    expect(req.body).toMatchObject({
      type: 'message',
      text: 'Your order ships today. *Anything else?*',
      textFormat: 'plain',
      channelId: 'emulator',
      serviceUrl: connector.url,
      conversation: { id: 'conv-1' },
      from: { id: 'bot-1', name: 'Acme', role: 'bot' },
      recipient: { id: 'user-1', name: 'Ada Lovelace', role: 'user' },
      replyToId: 'act-1',
      locale: 'en-US',
      suggestedActions: {
        actions: [
          { type: 'messageBack', title: 'Track my order', text: 'Track my order', displayText: 'Track my order', value: { payload: 'TRACK' } },
          { type: 'imBack', title: 'Talk to a person', value: 'Talk to a person' },
          { type: 'openUrl', title: 'Our FAQ', value: 'https://acme.test/faq' },
        ],
      },
    });
    expect((req.body as { suggestedActions: Record<string, unknown> }).suggestedActions).not.toHaveProperty('to');
    expect(req.body).not.toHaveProperty('attachments');
  });

  it('in Teams, puts choices on a buttons-only hero card of the same message (Teams suggested actions cannot carry a payload)', async () => {
    const route = await inbound({ channelId: 'msteams', id: 'act-teams', conversation: { id: 'a:1xyz' } });
    await bot.channel.deliver(route, [{ kind: 'text', text: 'Pick one', choices: [{ title: 'Yes', payload: 'Y' }, { title: 'No', payload: 'N' }] }], ctx);
    expect(connector.requests[0].path).toBe('/v3/conversations/a%3A1xyz/activities/act-teams');
    expect(connector.requests[0].body).toMatchObject({
      type: 'message',
      text: 'Pick one',
      textFormat: 'plain',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.hero',
          content: {
            buttons: [
              { type: 'messageBack', title: 'Yes', text: 'Yes', displayText: 'Yes', value: { payload: 'Y' } },
              { type: 'messageBack', title: 'No', text: 'No', displayText: 'No', value: { payload: 'N' } },
            ],
          },
        },
      ],
    });
    expect(connector.requests[0].body).not.toHaveProperty('suggestedActions');
  });

  it('delivers images as image attachments and consecutive cards as one hero-card carousel, one request each, in order', async () => {
    const route = await inbound();
    const receipt = await bot.channel.deliver(
      route,
      [
        { kind: 'text', text: 'Here are our plans.' },
        { kind: 'image', url: 'https://acme.test/img/plans.png?v=2', alt: 'Plans overview' },
        { kind: 'card', title: 'Basic', subtitle: '$5 a month', image: 'https://acme.test/basic.jpg', url: 'https://acme.test/basic', buttons: [{ title: 'Choose Basic', payload: 'PLAN_BASIC' }, { title: 'Details', url: 'https://acme.test/basic#details' }] },
        { kind: 'card', title: 'Pro', buttons: [{ title: 'Choose Pro', payload: 'PLAN_PRO' }] },
      ],
      ctx,
    );
    expect(receipt.providerMessageIds).toEqual(['emulator:conv-1:sent-1', 'emulator:conv-1:sent-2', 'emulator:conv-1:sent-3']);
    expect(connector.requests.map((r) => r.path)).toEqual(Array(3).fill('/v3/conversations/conv-1/activities/act-1'));
    expect(connector.requests[0].body).toMatchObject({ type: 'message', text: 'Here are our plans.', textFormat: 'plain' });
    expect(connector.requests[1].body).toMatchObject({
      type: 'message',
      attachments: [{ contentType: 'image/png', contentUrl: 'https://acme.test/img/plans.png?v=2', name: 'Plans overview' }],
      from: { id: 'bot-1' },
      recipient: { id: 'user-1' },
    });
    expect(connector.requests[2].body).toMatchObject({
      type: 'message',
      attachmentLayout: 'carousel',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.hero',
          content: {
            title: 'Basic',
            subtitle: '$5 a month',
            images: [{ url: 'https://acme.test/basic.jpg', alt: 'Basic' }],
            tap: { type: 'openUrl', title: 'Basic', value: 'https://acme.test/basic' },
            buttons: [
              { type: 'messageBack', title: 'Choose Basic', text: 'Choose Basic', displayText: 'Choose Basic', value: { payload: 'PLAN_BASIC' } },
              { type: 'openUrl', title: 'Details', value: 'https://acme.test/basic#details' },
            ],
          },
        },
        { contentType: 'application/vnd.microsoft.card.hero', content: { title: 'Pro', buttons: [{ type: 'messageBack', title: 'Choose Pro', value: { payload: 'PLAN_PRO' } }] } },
      ],
    });
  });

  it('sends a typing activity', async () => {
    const route = await inbound();
    await bot.channel.typing!(route);
    expect(connector.requests).toHaveLength(1);
    expect(connector.requests[0].body).toMatchObject({ type: 'typing', from: { id: 'bot-1' }, recipient: { id: 'user-1' }, conversation: { id: 'conv-1' } });
  });

  it('typing failures are swallowed (best effort)', async () => {
    const route = await inbound();
    connector.reply = () => ({ status: 500, body: { error: { code: 'ServiceError', message: 'boom' } } });
    await expect(bot.channel.typing!(route)).resolves.toBeUndefined();
  });

  it('classifies connector failures: 5xx and 429 retryable (with Retry-After), 403 and 404 final', async () => {
    const route = await inbound();
    const deliver = () => bot.channel.deliver(route, [{ kind: 'text', text: 'hi' }], ctx).then(
      () => null,
      (e: unknown) => e as DeliveryError,
    );

    connector.reply = () => ({ status: 500, body: { error: { code: 'ServiceError', message: 'upstream exploded' } } });
    let e = await deliver();
    expect(e).toBeInstanceOf(DeliveryError);
    expect(e).toMatchObject({ retryable: true, opts: { status: 500, providerCode: 'ServiceError' } });
    // The SDK's own retries are off: the gateway retries.
    expect(connector.requests).toHaveLength(1);

    connector.requests = [];
    connector.reply = () => ({ status: 429, headers: { 'retry-after': '7' }, body: { error: { code: 'Throttled', message: 'slow down' } } });
    e = await deliver();
    expect(e).toMatchObject({ retryable: true, opts: { status: 429, retryAfterMs: 7000, providerCode: 'Throttled' } });
    expect(connector.requests).toHaveLength(1);

    connector.reply = () => ({ status: 403, body: { error: { code: 'BotNotInConversationRoster', message: 'The bot is not part of the conversation roster.' } } });
    e = await deliver();
    expect(e).toMatchObject({ retryable: false, opts: { status: 403, providerCode: 'BotNotInConversationRoster' } });
    expect(e!.message).toMatch(/not in this conversation/);

    connector.reply = () => ({ status: 404, body: { error: { code: 'ConversationNotFound', message: 'Conversation not found.' } } });
    e = await deliver();
    expect(e).toMatchObject({ retryable: false, opts: { status: 404 } });
    expect(e!.message).toMatch(/no longer exists/);
  });

  it('reports how much of a multi-part message went out before a failure', async () => {
    const route = await inbound();
    connector.reply = () => (connector.requests.length === 1 ? { status: 200, body: { id: 'ok-1' } } : { status: 503, body: {} });
    const e = await bot.channel.deliver(route, [{ kind: 'text', text: 'one' }, { kind: 'image', url: 'https://acme.test/a.gif' }], ctx).then(
      () => null,
      (x: unknown) => x as DeliveryError,
    );
    expect(e).toMatchObject({ retryable: true, opts: { status: 503 } });
    expect(e!.message).toMatch(/1 of 2 activities had been sent/);
  });

  it('a connector that cannot be reached or does not answer is a retryable failure, within the request timeout', async () => {
    const route = await inbound();
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = await bot.channel.deliver({ ...route, ref: { ...route.ref, serviceUrl: deadUrl } as JsonObject }, [{ kind: 'text', text: 'hi' }], ctx).catch((x: unknown) => x);
    expect(unreachable).toBeInstanceOf(DeliveryError);
    expect(unreachable).toMatchObject({ retryable: true });

    connector.reply = () => ({ status: 200, hang: true });
    const started = Date.now();
    const hung = await bot.channel.deliver(route, [{ kind: 'text', text: 'hi' }], ctx).catch((x: unknown) => x);
    expect(hung).toBeInstanceOf(DeliveryError);
    expect(hung).toMatchObject({ retryable: true });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('refuses, without retry, a route that has no conversation reference', async () => {
    const e = await bot.channel.deliver({ channel: 'botframework', address: 'emulator:user-1', lastInboundAt: '2025-01-01T00:00:00Z' }, [{ kind: 'text', text: 'hi' }], ctx).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DeliveryError);
    expect(e).toMatchObject({ retryable: false });
    expect(connector.requests).toEqual([]);
  });

  it('declares what the channel can show', () => {
    expect(bot.channel.name).toBe('botframework');
    expect(bot.channel.title).toBe('Bot Framework (Teams, Web Chat)');
    expect(bot.channel.capabilities).toEqual({ maxTextLength: 7000, maxChoices: 6, maxChoiceTitle: 40, urlButtons: true, images: true, cards: true, markdown: false, typing: true });
  });
});

// ---------------------------------------------------------------------------------------------
// Credential mode: the Authorization header is checked by the SDK

describe('Bot Framework channel, credential mode authentication', () => {
  const openId = new FakeOpenId();
  const APP_ID = '00000000-0000-0000-0000-0000000000aa';
  let bot: Bot;
  const activity = () => ({
    type: 'message',
    id: 'act-9',
    channelId: 'msteams',
    serviceUrl: 'https://smba.trafficmanager.net/amer/',
    from: { id: '29:user', name: 'Grace' },
    recipient: { id: `28:${APP_ID}`, name: 'Acme' },
    conversation: { id: 'a:conv' },
    text: 'hello',
  });

  beforeAll(async () => {
    await openId.start();
    bot = await startBot({ MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'secret' }, { openIdMetadataUrl: openId.metadataUrl });
  });
  afterAll(async () => {
    await stopBot(bot);
    await openId.stop();
  });

  it('answers 401 to a request without Authorization, before anything else and without a turn', async () => {
    const res = await post(bot, activity());
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: { code: 'unauthorized' } });
    expect(bot.sink.received).toEqual([]);
  });

  it('answers 401 to a token that is not a Bot Framework token', async () => {
    const res = await post(bot, activity(), { authorization: 'Bearer not-a-jwt' });
    expect(res.status).toBe(401);
    expect(bot.sink.received).toEqual([]);
  });

  it('accepts a correctly signed channel token for this app and service URL', async () => {
    const token = openId.token({ aud: APP_ID, serviceurl: 'https://smba.trafficmanager.net/amer/' });
    const res = await post(bot, activity(), { authorization: `Bearer ${token}` });
    expect(res).toEqual({ status: 200 });
    expect(bot.sink.received).toHaveLength(1);
    expect(bot.sink.received[0]).toMatchObject({ address: 'msteams:29:user', providerMessageId: 'msteams:a:conv:act-9', text: 'hello' });
    bot.sink.received = [];
  });

  it('answers 401 to a signed token for another app or another service URL, and to a token signed by another key', async () => {
    const otherApp = openId.token({ aud: 'another-app', serviceurl: 'https://smba.trafficmanager.net/amer/' });
    expect((await post(bot, activity(), { authorization: `Bearer ${otherApp}` })).status).toBe(401);
    const otherUrl = openId.token({ aud: APP_ID, serviceurl: 'https://evil.example/' });
    expect((await post(bot, activity(), { authorization: `Bearer ${otherUrl}` })).status).toBe(401);
    // The SDK prints a bad signature with console.error; keep the test output clean.
    const consoleError = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const forged = openId.token({ aud: APP_ID, serviceurl: 'https://smba.trafficmanager.net/amer/' }, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    expect((await post(bot, activity(), { authorization: `Bearer ${forged}` })).status).toBe(401);
    consoleError.mockRestore();
    expect(bot.sink.received).toEqual([]);
  });
});

describe('Bot Framework channel, credential mode without reachable signing keys', () => {
  it('answers 503 (the channel retries) when the OpenID metadata cannot be fetched, without a turn', async () => {
    const dead = http.createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}/.well-known/openidconfiguration`;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const openId = new FakeOpenId(); // only signs; its server is not started
    const bot = await startBot({ MicrosoftAppId: 'app-1', MicrosoftAppPassword: 'secret' }, { openIdMetadataUrl: deadUrl });
    try {
      const token = openId.token({ aud: 'app-1', serviceurl: 'https://smba.trafficmanager.net/amer/' });
      const res = await post(
        bot,
        { type: 'message', id: 'a', channelId: 'msteams', serviceUrl: 'https://smba.trafficmanager.net/amer/', from: { id: 'u' }, recipient: { id: 'b' }, conversation: { id: 'c' }, text: 'hi' },
        { authorization: `Bearer ${token}` },
      );
      expect(res).toMatchObject({ status: 503, json: { error: { code: 'auth_unavailable' } } });
      expect(bot.sink.received).toEqual([]);
    } finally {
      await stopBot(bot);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Settings

describe('createBotFrameworkChannel settings', () => {
  const deps = (env: Record<string, string>) => ({ env, prefix: 'ACME_', botId: 'acme', botName: 'Acme', logger: recordingLogger(), clock: () => new Date() });
  const problems = (env: Record<string, string>) => {
    try {
      readBotFrameworkConfig(env);
    } catch (e) {
      if (e instanceof ChannelConfigError) return e.problems.map((p) => p.variable).sort();
      throw e;
    }
    return 'no error';
  };

  it('is off without MicrosoftAppId and without local mode', () => {
    expect(createBotFrameworkChannel(deps({}))).toBeNull();
    expect(createBotFrameworkChannel(deps({ BATON_BOTFRAMEWORK_LOCAL: 'false', ACME_TWILIO_AUTH_TOKEN: 'x' }))).toBeNull();
  });

  it('reads the credentials under their SDK names, not prefixed', () => {
    expect(readBotFrameworkConfig({ MicrosoftAppId: 'app', MicrosoftAppPassword: 'pw' })).toEqual({ mode: 'credentials', appId: 'app', appPassword: 'pw', appType: 'MultiTenant' });
    expect(readBotFrameworkConfig({ MicrosoftAppId: 'app', MicrosoftAppPassword: 'pw', MicrosoftAppType: 'singletenant', MicrosoftAppTenantId: 'tid' })).toEqual({
      mode: 'credentials',
      appId: 'app',
      appPassword: 'pw',
      appType: 'SingleTenant',
      tenantId: 'tid',
    });
    expect(readBotFrameworkConfig({ MicrosoftAppId: 'app', MicrosoftAppType: 'UserAssignedMSI', MicrosoftAppTenantId: 'tid' })).toEqual({ mode: 'credentials', appId: 'app', appType: 'UserAssignedMSI', tenantId: 'tid' });
    expect(readBotFrameworkConfig({ ACME_MicrosoftAppId: 'app' })).toBeNull();
  });

  it('lists every missing or bad variable', () => {
    expect(problems({ MicrosoftAppId: 'app' })).toEqual(['MicrosoftAppPassword']);
    expect(problems({ MicrosoftAppId: 'app', MicrosoftAppPassword: 'pw', MicrosoftAppType: 'SingleTenant' })).toEqual(['MicrosoftAppTenantId']);
    expect(problems({ MicrosoftAppId: 'app', MicrosoftAppType: 'Personal' })).toEqual(['MicrosoftAppPassword', 'MicrosoftAppType']);
    expect(problems({ MicrosoftAppId: 'app', MicrosoftAppPassword: 'pw', MicrosoftAppType: 'UserAssignedMSI' })).toEqual(['MicrosoftAppPassword', 'MicrosoftAppTenantId']);
    expect(problems({ MicrosoftAppPassword: 'pw', MicrosoftAppTenantId: 'tid' })).toEqual(['MicrosoftAppId']);
    expect(problems({ MicrosoftAppId: 'app', MicrosoftAppPassword: 'pw', BATON_BOTFRAMEWORK_LOCAL: 'true' })).toEqual(['BATON_BOTFRAMEWORK_LOCAL']);
    expect(problems({ BATON_BOTFRAMEWORK_LOCAL: 'yes' })).toEqual(['BATON_BOTFRAMEWORK_LOCAL']);
  });

  it('loads the Bot Framework SDK only when the channel is on', () => {
    const script = `
      const { createBotFrameworkChannel } = require('./src/channels/botframework');
      const logger = { debug() {}, info() {}, warn() {}, error() {} };
      const deps = (env) => ({ env, prefix: 'ACME_', botId: 'acme', botName: 'Acme', logger, clock: () => new Date() });
      const sdkModules = () => Object.keys(require.cache).filter((k) => /node_modules[\\\\/]botbuilder[\\\\/]/.test(k)).length;
      const off = createBotFrameworkChannel(deps({}));
      const before = sdkModules();
      const on = createBotFrameworkChannel(deps({ BATON_BOTFRAMEWORK_LOCAL: 'true' }));
      console.log(JSON.stringify({ off, before, on: on !== null, after: sdkModules() > 0 }));`;
    const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: path.resolve(__dirname, '../..'), encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ off: null, before: 0, on: true, after: true });
  });

  it('refuses local mode in production', () => {
    expect(() => createBotFrameworkChannel(deps({ BATON_BOTFRAMEWORK_LOCAL: 'true', NODE_ENV: 'production' }))).toThrow(ChannelConfigError);
    expect(readBotFrameworkConfig({ BATON_BOTFRAMEWORK_LOCAL: 'TRUE', NODE_ENV: 'development' })).toEqual({ mode: 'local' });
  });
});

// ---------------------------------------------------------------------------------------------
// Pure mapping details

describe('Bot Framework mapping', () => {
  it('reads payloads from object values, JSON strings and plain strings', () => {
    expect(readPayload({ payload: 'A' })).toBe('A');
    expect(readPayload('{"payload":"B"}')).toBe('B');
    expect(readPayload('C')).toBe('C');
    expect(readPayload({ other: 1 })).toBeUndefined();
    expect(readPayload('{"other":1}')).toBeUndefined();
    expect(readPayload(undefined)).toBeUndefined();
  });

  it('cuts long button labels but sends the full title', () => {
    const title = 'A very long choice title that does not fit on one button label';
    expect([...fitTitle(title)].length).toBeLessThanOrEqual(40);
    expect(fitTitle(title)).toMatch(/^A very long choice title that does not…$/);
    const [activity] = toActivities([{ kind: 'text', text: 'x', choices: [{ title, payload: 'P' }] }], 'webchat');
    expect(activity.suggestedActions!.actions[0]).toEqual({ type: 'messageBack', title: fitTitle(title), text: title, displayText: title, value: { payload: 'P' } });
  });

  it('keeps every card button: Teams gets at most 6 per card, the rest on button-only cards', () => {
    const buttons = Array.from({ length: 8 }, (_, i) => ({ title: `B${i + 1}`, payload: `P${i + 1}` }));
    const [activity] = toActivities([{ kind: 'card', title: 'Many', buttons }], 'msteams');
    expect(activity.attachments!.map((a) => (a.content as { buttons: unknown[] }).buttons.length)).toEqual([6, 2]);
  });

  it('splits a text longer than the limit rather than having it refused', () => {
    const text = `${'word '.repeat(2000)}end`;
    const activities = toActivities([{ kind: 'text', text, choices: [{ title: 'OK' }] }], 'webchat');
    expect(activities.length).toBe(2);
    expect(activities.every((a) => [...a.text!].length <= 7000)).toBe(true);
    expect(activities[0].suggestedActions).toBeUndefined();
    expect(activities[1].suggestedActions).toBeDefined();
  });

  it('guesses image media types from the URL', () => {
    expect(imageContentType('https://x.test/a.JPG')).toBe('image/jpeg');
    expect(imageContentType('https://x.test/a.svg?x=1')).toBe('image/svg+xml');
    expect(imageContentType('https://x.test/image')).toBe('image/*');
  });

  it('treats Entra ID credential errors as final and unknown network errors as retryable', () => {
    expect(toDeliveryError(Object.assign(new Error('AADSTS7000215: Invalid client secret'), { errorCode: 'invalid_client' }))).toMatchObject({ retryable: false, opts: { providerCode: 'invalid_client' } });
    expect(toDeliveryError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toMatchObject({ retryable: true });
    expect(toDeliveryError(Object.assign(new Error('precondition'), { statusCode: 412 }))).toMatchObject({ retryable: true, opts: { status: 412 } });
  });
});

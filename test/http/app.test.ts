/**
 * The customer HTTP API over a real socket on 127.0.0.1: conversations, history paging, the one
 * error shape (400/401/403/404/405/413/415/500), CORS, operations endpoints, the OpenAPI document.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Server } from 'http';
import type { AddressInfo } from 'net';
import { createBaton, type Baton } from '../../src/main';
import { createApp } from '../../src/http/app';
import { TokenService } from '../../src/identity/tokens';
import { Metrics } from '../../src/metrics';
import { silentLogger } from '../../src/util/logger';
import type { ConversationStore } from '../../src/store/port';

const BOT = path.join(__dirname, '..', 'cli', 'fixtures', 'shop', 'bots', 'shop');
let baton: Baton;
let server: Server;
let base: string;
let tmp: string;
let metrics: Metrics;

function listen(app: ReturnType<typeof createApp>): Promise<{ server: Server; base: string }> {
  return new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve({ server: s, base: `http://127.0.0.1:${(s.address() as AddressInfo).port}` }));
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-http-'));
  baton = await createBaton({ botDir: BOT, cacheDir: tmp, store: { sqlite: path.join(tmp, 'db.sqlite') }, logger: silentLogger });
  metrics = new Metrics({ defaultMetrics: false });
  baton.service.observe(metrics.turnListener);
  baton.commits.subscribe(metrics.commitListener);
  ({ server, base } = await listen(createApp({ service: baton.service, commits: baton.commits, secret: 'test-secret', logger: silentLogger, metrics, corsOrigins: ['https://shop.example'] })));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await baton.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function call(method: string, url: string, body?: unknown, token?: string, raw?: string, headers: Record<string, string> = {}, at = base) {
  const res = await fetch(at + url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

describe('customer API', () => {
  it('starts a conversation, answers a message and keeps the history in order', async () => {
    const c = await call('POST', '/api/v1/conversations', {});
    expect(c.status).toBe(201);
    expect(c.body).toEqual({ conversationId: expect.any(String), customerToken: expect.any(String), messages: [expect.objectContaining({ from: 'bot', seq: expect.any(Number), createdAt: expect.any(String) })] });
    const { conversationId: id, customerToken: token } = c.body;
    const m1 = await call('POST', `/api/v1/conversations/${id}/messages`, { text: 'where is my order' }, token);
    expect(m1.status).toBe(200);
    expect(m1.body.messages[0]).toMatchObject({ from: 'bot', text: expect.stringContaining('order number') });
    const m2 = await call('POST', `/api/v1/conversations/${id}/messages`, { text: 'AB-123456' }, token);
    expect(m2.body.messages[0].text).toContain('UPS');
    const h = await call('GET', `/api/v1/conversations/${id}/messages`, undefined, token);
    expect(h.body.messages.map((m: any) => `${m.from}: ${m.text}`)).toEqual([
      expect.stringMatching(/^bot: Hi!/),
      'customer: where is my order',
      expect.stringMatching(/^bot: What's your order number\?/),
      'customer: AB-123456',
      'bot: Order AB-123456 is shipped with UPS.',
    ]);
    // A reply is the very same message as in the history: id, seq and time.
    expect(h.body.messages[4]).toEqual(m2.body.messages[0]);
    expect(h.body.messages[0]).toEqual(c.body.messages[0]);
    expect(h.body).toMatchObject({ nextAfter: h.body.messages[4].seq, hasMore: false });
  });

  it('pages through the history with after/limit/nextAfter/hasMore', async () => {
    const { conversationId: id, customerToken: token } = (await call('POST', '/api/v1/conversations', {})).body;
    for (const text of ['where is my order', 'AB-123456', 'where is my order', 'ZZ-000000']) await call('POST', `/api/v1/conversations/${id}/messages`, { text }, token);
    const all = (await call('GET', `/api/v1/conversations/${id}/messages`, undefined, token)).body.messages;
    const paged: any[] = [];
    let after = 0;
    for (let i = 0; i < 20; i++) {
      const p = await call('GET', `/api/v1/conversations/${id}/messages?after=${after}&limit=2`, undefined, token);
      paged.push(...p.body.messages);
      after = p.body.nextAfter;
      if (!p.body.hasMore) break;
    }
    expect(paged).toEqual(all);
    const empty = await call('GET', `/api/v1/conversations/${id}/messages?after=${after}`, undefined, token);
    expect(empty.body).toEqual({ messages: [], nextAfter: after, hasMore: false });
  });

  it('does not process a retried message twice', async () => {
    const { conversationId: id, customerToken: token } = (await call('POST', '/api/v1/conversations', {})).body;
    const a = await call('POST', `/api/v1/conversations/${id}/messages`, { text: 'where is my order', clientMessageId: 'x-1' }, token);
    const b = await call('POST', `/api/v1/conversations/${id}/messages`, { text: 'where is my order', clientMessageId: 'x-1' }, token);
    expect(a.body.duplicate).toBe(false);
    expect(b.body).toEqual({ ...a.body, duplicate: true });
    const h = await call('GET', `/api/v1/conversations/${id}/messages`, undefined, token);
    expect(h.body.messages.filter((m: any) => m.from === 'customer')).toEqual([expect.objectContaining({ text: 'where is my order', clientMessageId: 'x-1' })]);
  });
});

describe('errors', () => {
  let id: string;
  let token: string;
  beforeAll(async () => {
    ({ conversationId: id, customerToken: token } = (await call('POST', '/api/v1/conversations', {})).body);
  });

  const shape = { error: { code: expect.any(String), message: expect.any(String) } };

  it('answers bad requests with one JSON error shape and the right status', async () => {
    const cases: [Promise<{ status: number; body: any; headers: Headers }>, number, string][] = [
      [call('POST', `/api/v1/conversations/${id}/messages`, { text: 'hi' }), 401, 'unauthorized'],
      [call('POST', `/api/v1/conversations/${id}/messages`, { text: 'hi' }, undefined, undefined, { authorization: 'Basic abc' }), 401, 'unauthorized'],
      [call('POST', `/api/v1/conversations/${id}/messages`, { text: 'hi' }, 'not-the-token'), 403, 'forbidden'],
      [call('GET', `/api/v1/conversations/${id}/messages`, undefined, new TokenService('test-secret', 'shop').forConversation('other')), 403, 'forbidden'],
      [call('GET', '/api/v1/conversations/nope/messages', undefined, new TokenService('test-secret', 'shop').forConversation('nope')), 404, 'conversation_not_found'],
      [call('POST', `/api/v1/conversations/${id}/messages`, { text: '  ' }, token), 400, 'invalid_body'],
      [call('POST', `/api/v1/conversations/${id}/messages`, { txt: 'hi' }, token), 400, 'invalid_body'],
      [call('POST', `/api/v1/conversations/${id}/messages`, { text: 'x'.repeat(4001) }, token), 400, 'invalid_body'],
      [call('POST', `/api/v1/conversations/${id}/messages`, undefined, token, '{"text": '), 400, 'invalid_json'],
      [call('POST', `/api/v1/conversations/${id}/messages`, undefined, token, JSON.stringify({ text: 'x'.repeat(70_000) })), 413, 'body_too_large'],
      [call('POST', `/api/v1/conversations/${id}/messages`, undefined, token, 'text=hi', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type'],
      [call('GET', `/api/v1/conversations/${id}/messages?limit=0`, undefined, token), 400, 'invalid_query'],
      [call('GET', `/api/v1/conversations/${id}/messages?after=-1`, undefined, token), 400, 'invalid_query'],
      [call('POST', '/api/v1/conversations', { botId: 'acme' }), 404, 'bot_not_found'],
      [call('POST', '/api/v1/conversations', { profile: { name: 'x' } }), 400, 'invalid_body'],
      [call('GET', '/api/v1/nope'), 404, 'not_found'],
      [call('DELETE', `/api/v1/conversations/${id}/messages`, undefined, token), 405, 'method_not_allowed'],
      [call('GET', '/api/v1/conversations'), 405, 'method_not_allowed'],
      [call('GET', `/api/v1/conversations/${id}/stream?token=${token}`), 426, 'upgrade_required'],
    ];
    for (const [p, status, code] of cases) {
      const r = await p;
      expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
      expect(r.body).toMatchObject(shape);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    }
    const invalid = await call('POST', `/api/v1/conversations/${id}/messages`, { text: '  ' }, token);
    expect(invalid.body.error.details).toEqual([{ path: '', message: 'send "text" or "payload"' }]);
    const method = await call('PUT', '/api/v1/conversations', {});
    expect(method.headers.get('allow')).toBe('POST');
  });

  it('never sends a stack trace: a bug is a 500 "internal" with a generic message, logged with details', async () => {
    const logged: { msg: string; fields?: Record<string, unknown> }[] = [];
    const logger = { ...silentLogger, error: (msg: string, fields?: Record<string, unknown>) => void logged.push({ msg, fields }) };
    const broken = new Proxy(baton.store, {
      get(t, p) {
        if (p === 'events') return async () => Promise.reject(new TypeError('secret internal detail at /srv/baton/x.js:12'));
        const v = Reflect.get(t, p) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    }) as ConversationStore;
    const other = await listen(createApp({ service: baton.service, store: broken, secret: 'test-secret', logger }));
    try {
      const r = await call('GET', `/api/v1/conversations/${id}/messages`, undefined, token, undefined, {}, other.base);
      expect(r.status).toBe(500);
      expect(r.body).toEqual({ error: { code: 'internal', message: 'something went wrong on our side; the request can be retried' } });
      expect(logged).toEqual([{ msg: 'request failed', fields: expect.objectContaining({ conversationId: id, error: expect.any(TypeError) }) }]);
    } finally {
      await new Promise((r) => other.server.close(r));
    }
  });
});

describe('CORS', () => {
  it('lets the configured origins call the API, with a preflight', async () => {
    const pre = await fetch(`${base}/api/v1/conversations`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const other = await fetch(`${base}/api/v1/openapi.json`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('operations', () => {
  it('serves liveness, readiness and the demo page', async () => {
    expect((await call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect(await call('GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready', checks: { database: 'ok' } } });
    const page = await fetch(base + '/');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Shop');
  });

  it('is not ready when the database does not answer', async () => {
    const down = new Proxy(baton.store, {
      get(t, p) {
        if (p === 'load') return () => new Promise(() => undefined);
        const v = Reflect.get(t, p) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    }) as ConversationStore;
    let shutting = false;
    const a = createApp({ service: baton.service, store: down, secret: 's', logger: silentLogger, isShuttingDown: () => shutting, probeTimeoutMs: 100 });
    const other = await listen(a);
    try {
      const r = await call('GET', '/readyz', undefined, undefined, undefined, {}, other.base);
      expect(r).toMatchObject({ status: 503, body: { status: 'not_ready', checks: { database: expect.stringContaining('unreachable') } } });
      shutting = true;
      const s = await call('POST', '/api/v1/conversations', {}, undefined, undefined, {}, other.base);
      expect(s).toMatchObject({ status: 503, body: { error: { code: 'shutting_down' } } });
    } finally {
      await new Promise((r) => other.server.close(r));
    }
  });

  it('exposes Prometheus metrics', async () => {
    const { conversationId: id, customerToken: token } = (await call('POST', '/api/v1/conversations', {})).body;
    await call('POST', `/api/v1/conversations/${id}/messages`, { text: 'where is my order' }, token);
    const other = (await call('POST', '/api/v1/conversations', {})).body;
    await call('POST', `/api/v1/conversations/${other.conversationId}/messages`, { text: 'the weather on mars is cold' }, other.customerToken);
    const m = await fetch(base + '/metrics');
    expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await m.text();
    expect(text).toMatch(/baton_turns_total\{outcome="answered"\} \d+/);
    expect(text).toMatch(/baton_turns_total\{outcome="fallback"\} \d+/);
    expect(text).toMatch(/baton_fallbacks_total \d+/);
    expect(text).toMatch(/baton_turn_duration_seconds_count \d+/);
    expect(text).toMatch(/baton_nlu_confidence_count [1-9]\d*/);
    expect(text).toMatch(/baton_http_requests_total\{method="POST",route="\/api\/v1\/conversations\/:id\/messages",status="200"\} \d+/);
    expect(text).toContain('baton_websockets_open 0');
    expect(text).toContain('baton_handoffs_total');
  });
});

describe('OpenAPI', () => {
  it('documents every route as OpenAPI 3.1, with request bodies from the zod schemas', async () => {
    const r = await call('GET', '/api/v1/openapi.json');
    expect(r.status).toBe(200);
    const doc = r.body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/api/v1/agent/agents',
        '/api/v1/agent/canned',
        '/api/v1/agent/conversations',
        '/api/v1/agent/conversations/{id}',
        '/api/v1/agent/conversations/{id}/accept',
        '/api/v1/agent/conversations/{id}/canned/{cannedId}/render',
        '/api/v1/agent/conversations/{id}/handback',
        '/api/v1/agent/conversations/{id}/messages',
        '/api/v1/agent/conversations/{id}/notes',
        '/api/v1/agent/conversations/{id}/read',
        '/api/v1/agent/conversations/{id}/resolve',
        '/api/v1/agent/conversations/{id}/transfer',
        '/api/v1/agent/login',
        '/api/v1/agent/me',
        '/api/v1/agent/presence',
        '/api/v1/agent/stream',
        '/api/v1/conversations',
        '/api/v1/conversations/{id}/messages',
        '/api/v1/conversations/{id}/stream',
        '/api/v1/customers/token',
        '/api/v1/customers/links',
        '/api/v1/customers/me/conversations',
        '/api/v1/openapi.json',
        '/healthz',
        '/readyz',
        '/metrics',
      ].sort(),
    );
    const send = doc.paths['/api/v1/conversations/{id}/messages'].post;
    expect(send.requestBody.content['application/json'].schema).toMatchObject({
      type: 'object',
      additionalProperties: false,
      properties: { text: { type: 'string', maxLength: 4000 }, payload: { type: 'string' }, clientMessageId: { type: 'string' } },
    });
    expect(send.security).toEqual([{ customerToken: [] }]);
    expect(send.responses['200'].content['application/json'].schema.properties.messages.type).toBe('array');
    expect(doc.components.schemas.Error.properties.error.required).toEqual(['code', 'message']);
    // Every $ref resolves.
    const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
    for (const ref of refs) expect(doc.components.schemas).toHaveProperty(ref.split('/').pop()!.replace('"', ''));
  });
});

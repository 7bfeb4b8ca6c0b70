/**
 * The minimal customer HTTP API, over a real socket on 127.0.0.1.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Server } from 'http';
import type { AddressInfo } from 'net';
import { createBaton, type Baton } from '../../src/main';
import { createApp } from '../../src/http/app';
import { silentLogger } from '../../src/util/logger';

const BOT = path.join(__dirname, '..', 'cli', 'fixtures', 'shop', 'bots', 'shop');
let baton: Baton;
let server: Server;
let base: string;
let tmp: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-http-'));
  baton = await createBaton({ botDir: BOT, cacheDir: tmp, store: { sqlite: path.join(tmp, 'db.sqlite') }, logger: silentLogger });
  const app = createApp({ service: baton.service, secret: 'test-secret', logger: silentLogger });
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await baton.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function call(method: string, url: string, body?: unknown, token?: string, raw?: string) {
  const res = await fetch(base + url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  return { status: res.status, body: (await res.json()) as any };
}

describe('customer API', () => {
  it('starts a conversation, answers a message and keeps the history in order', async () => {
    const c = await call('POST', '/api/v1/conversations', {});
    expect(c.status).toBe(201);
    expect(c.body.conversationId).toEqual(expect.any(String));
    expect(c.body.customerToken).toEqual(expect.any(String));
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
  });

  it('does not process a retried message twice', async () => {
    const { conversationId: id, customerToken: token } = (await call('POST', '/api/v1/conversations', {})).body;
    const a = await call('POST', `/api/v1/conversations/${id}/messages`, { text: 'where is my order', clientMessageId: 'x-1' }, token);
    const b = await call('POST', `/api/v1/conversations/${id}/messages`, { text: 'where is my order', clientMessageId: 'x-1' }, token);
    expect(b.body.duplicate).toBe(true);
    expect(b.body.messages.map((m: any) => m.text)).toEqual(a.body.messages.map((m: any) => m.text));
    const h = await call('GET', `/api/v1/conversations/${id}/messages`, undefined, token);
    expect(h.body.messages.filter((m: any) => m.from === 'customer')).toHaveLength(1);
  });

  it('rejects bad input with one JSON error shape', async () => {
    const { conversationId: id, customerToken: token } = (await call('POST', '/api/v1/conversations', {})).body;
    const noAuth = await call('POST', `/api/v1/conversations/${id}/messages`, { text: 'hi' });
    expect(noAuth.status).toBe(401);
    expect(noAuth.body.error.code).toBe('unauthorized');
    const wrong = await call('POST', `/api/v1/conversations/${id}/messages`, { text: 'hi' }, 'not-the-token');
    expect(wrong.status).toBe(403);
    const empty = await call('POST', `/api/v1/conversations/${id}/messages`, { text: '  ' }, token);
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('invalid_body');
    expect(empty.body.error.details[0].message).toContain('send "text" or "payload"');
    const unknownField = await call('POST', `/api/v1/conversations/${id}/messages`, { txt: 'hi' }, token);
    expect(unknownField.status).toBe(400);
    const badJson = await call('POST', `/api/v1/conversations/${id}/messages`, undefined, token, '{"text": ');
    expect(badJson.status).toBe(400);
    expect(badJson.body.error.code).toBe('invalid_json');
    const nf = await call('GET', '/api/v1/nope');
    expect(nf.status).toBe(404);
    expect(nf.body.error.code).toBe('not_found');
  });

  it('serves the demo page and health checks', async () => {
    const page = await fetch(base + '/');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Shop');
    expect((await call('GET', '/healthz')).body.status).toBe('ok');
  });
});

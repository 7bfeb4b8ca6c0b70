/**
 * Verified identity and customer tokens: a business backend signs the user id; the customer gets
 * a token for their identity, sees all their conversations from any device, and nobody else does.
 * Unsigned or wrongly signed claims are refused. Tokens survive a restart with the same secret.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createHmac } from 'crypto';
import type { Server } from 'http';
import type { AddressInfo } from 'net';
import { createBaton, type Baton } from '../../src/main';
import { createApp, type AppOptions } from '../../src/http/app';
import { TokenService } from '../../src/identity/tokens';
import { signUserId, verifyIdentity } from '../../src/identity/verify';
import { silentLogger } from '../../src/util/logger';

const BOT = path.join(__dirname, '..', 'server', 'fixtures', 'bots', 'relay');
const SECRET = 'token-secret-0123456789';
const IDENTITY = 'identity-secret-0123456789';
let baton: Baton;
let tmp: string;
const servers: Server[] = [];

async function serve(opts: Partial<AppOptions> = {}): Promise<string> {
  const app = createApp({ service: baton.service, commits: baton.commits, secret: SECRET, identitySecret: IDENTITY, logger: silentLogger, ...opts });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let base: string;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-identity-'));
  baton = await createBaton({ botDir: BOT, cacheDir: tmp, store: { sqlite: path.join(tmp, 'db.sqlite') }, logger: silentLogger });
  base = await serve();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await baton.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function call(method: string, url: string, body?: unknown, token?: string, at = base) {
  const res = await fetch(at + url, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const signed = (userId: string, extra: object = {}) => ({ userId, signature: signUserId(userId, IDENTITY), ...extra });

describe('identity signature', () => {
  it('is the hex HMAC-SHA256 of the user id with the identity secret (what a business backend computes)', () => {
    expect(signUserId('user-42', IDENTITY)).toBe(createHmac('sha256', IDENTITY).update('user-42').digest('hex'));
    expect(verifyIdentity({ userId: 'user-42', signature: signUserId('user-42', IDENTITY).toUpperCase() }, IDENTITY)).toEqual({ ok: true, customerId: 'user-42' });
  });
});

describe('verified customers', () => {
  it('binds a conversation to the customer and lists all their conversations from any device', async () => {
    const first = await call('POST', '/api/v1/conversations', { identity: signed('ann', { name: 'Ann', email: 'ann@example.com' }) });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ customerId: 'ann', customerToken: expect.stringMatching(/^u\./) });
    expect((await baton.store.load(first.body.conversationId))?.customerId).toBe('ann');
    expect((await baton.service.state(first.body.conversationId))?.profile).toEqual({ id: 'ann', name: 'Ann', email: 'ann@example.com' });
    await call('POST', `/api/v1/conversations/${first.body.conversationId}/messages`, { text: 'echo Q1' }, first.body.customerToken);
    const second = await call('POST', '/api/v1/conversations', { identity: signed('ann') });
    await call('POST', '/api/v1/conversations', { identity: signed('bob') });
    await call('POST', '/api/v1/conversations', {});

    // Another device: the page's signed identity → the customer's token → their conversations.
    const device2 = await call('POST', '/api/v1/customers/token', { identity: signed('ann') });
    expect(device2).toEqual({ status: 200, body: { customerId: 'ann', customerToken: first.body.customerToken } });
    const list = await call('GET', '/api/v1/customers/me/conversations', undefined, device2.body.customerToken);
    expect(list.status).toBe(200);
    expect(list.body.customerId).toBe('ann');
    expect(list.body.conversations.map((c: any) => c.conversationId).sort()).toEqual([first.body.conversationId, second.body.conversationId].sort());
    expect(list.body.conversations[0]).toEqual({ conversationId: expect.any(String), createdAt: expect.any(String), updatedAt: expect.any(String), status: 'active' });
    // …and reads the whole history there.
    const h = await call('GET', `/api/v1/conversations/${first.body.conversationId}/messages`, undefined, device2.body.customerToken);
    expect(h.body.messages.map((m: any) => m.text)).toEqual(['Relay here.', 'echo Q1', 'A Q1']);
  });

  it("keeps customers out of each other's conversations", async () => {
    const ann = (await call('POST', '/api/v1/conversations', { identity: signed('ann2') })).body;
    const bob = (await call('POST', '/api/v1/conversations', { identity: signed('bob2') })).body;
    const anon = (await call('POST', '/api/v1/conversations', {})).body;
    expect((await call('GET', `/api/v1/conversations/${ann.conversationId}/messages`, undefined, bob.customerToken)).body.error.code).toBe('forbidden');
    expect((await call('POST', `/api/v1/conversations/${ann.conversationId}/messages`, { text: 'hi' }, bob.customerToken)).status).toBe(403);
    expect((await call('GET', `/api/v1/conversations/${anon.conversationId}/messages`, undefined, ann.customerToken)).status).toBe(403);
    expect((await call('GET', `/api/v1/conversations/${ann.conversationId}/messages`, undefined, anon.customerToken)).status).toBe(403);
    // A forged customer token (someone else's id with a token's MAC) is refused.
    const forged = `u.${Buffer.from('ann2').toString('base64url')}.${bob.customerToken.split('.')[2]}`;
    expect((await call('GET', '/api/v1/customers/me/conversations', undefined, forged)).body.error.code).toBe('customer_token_required');
    expect((await call('GET', `/api/v1/conversations/${ann.conversationId}/messages`, undefined, forged)).status).toBe(403);
    // Listing needs a customer token.
    expect((await call('GET', '/api/v1/customers/me/conversations')).status).toBe(401);
    expect((await call('GET', '/api/v1/customers/me/conversations', undefined, anon.customerToken)).body.error.code).toBe('customer_token_required');
  });

  it('refuses unsigned (401) and wrongly signed (403) identities with a clear message', async () => {
    const unsigned = await call('POST', '/api/v1/conversations', { identity: { userId: 'ann' } });
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error).toEqual({ code: 'identity_signature_required', message: expect.stringContaining('HMAC-SHA256') });
    for (const signature of ['00'.repeat(32), signUserId('bob', IDENTITY), signUserId('ann', 'another-secret'), 'not hex']) {
      const r = await call('POST', '/api/v1/conversations', { identity: { userId: 'ann', signature } });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('identity_signature_invalid');
    }
    expect((await call('POST', '/api/v1/customers/token', { identity: { userId: 'ann', signature: signUserId('ann', 'x') } })).status).toBe(403);
    expect((await call('POST', '/api/v1/customers/token', {})).body.error.code).toBe('invalid_body');
  });

  it('refuses verified identity when no identity secret is configured', async () => {
    const noIdentity = await serve({ identitySecret: undefined });
    const r = await call('POST', '/api/v1/conversations', { identity: signed('ann') }, undefined, noIdentity);
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('identity_not_enabled');
    expect((await call('POST', '/api/v1/conversations', {}, undefined, noIdentity)).status).toBe(201);
  });
});

describe('customer tokens', () => {
  it('survive a restart with the same BATON_SECRET and die with another', async () => {
    const anon = (await call('POST', '/api/v1/conversations', {})).body;
    const ann = (await call('POST', '/api/v1/conversations', { identity: signed('ann3') })).body;
    const restarted = await serve({ tokens: new TokenService(SECRET, 'relay') });
    expect((await call('GET', `/api/v1/conversations/${anon.conversationId}/messages`, undefined, anon.customerToken, restarted)).status).toBe(200);
    expect((await call('GET', `/api/v1/conversations/${ann.conversationId}/messages`, undefined, ann.customerToken, restarted)).status).toBe(200);
    const rotated = await serve({ secret: 'a-completely-different-secret' });
    expect((await call('GET', `/api/v1/conversations/${anon.conversationId}/messages`, undefined, anon.customerToken, rotated)).status).toBe(403);
    expect((await call('GET', '/api/v1/customers/me/conversations', undefined, ann.customerToken, rotated)).status).toBe(403);
  });

  it('cannot be turned into one another', () => {
    const t = new TokenService(SECRET, 'relay');
    expect(t.customerOf(t.forConversation('c1'))).toBeNull();
    expect(t.isConversationToken(t.forCustomer('c1'), 'c1')).toBe(false);
    expect(t.customerOf(t.forCustomer('ünïcode id/with.dots'))).toBe('ünïcode id/with.dots');
    expect(new TokenService(SECRET, 'other-bot').customerOf(t.forCustomer('ann'))).toBeNull();
  });
});

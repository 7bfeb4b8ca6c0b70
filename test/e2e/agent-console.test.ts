/**
 * The agent console (/agent) in a real headless Chromium, next to the customer widget (/), against
 * the real server: `startServer` from src/http/serve.ts (the demo bot, a temporary SQLite file),
 * i.e. the app, the customer stream and the agent stream wired exactly as `baton serve` wires them.
 *
 * Needs the Debian package `chromium` (/usr/bin/chromium, or $CHROMIUM_PATH); .ci/run installs it.
 * Without it the suite is skipped with a warning — except on CI (CI=true), where it must run.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config';
import { startServer, type ServerHandle } from '../../src/http/serve';
import { silentLogger } from '../../src/util/logger';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ON_CI = process.env.CI === 'true' || process.env.CI === '1';
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
if (!HAVE_CHROMIUM && !ON_CI) {
  console.warn(
    `\n  SKIPPING the agent console's browser tests (test/e2e): Chromium was not found at ${CHROMIUM}.\n` +
      `  Install it with \`sudo apt-get install -y chromium\` (or set CHROMIUM_PATH). On CI (CI=true) these tests always run.\n`,
  );
}
const suite = HAVE_CHROMIUM || ON_CI ? describe : describe.skip;

const BOT = path.join(__dirname, '..', '..', 'bots', 'acme');
const SCREENSHOT = '/tmp/baton-console.png';
const AGENT = { email: 'agent@acme.example', password: 'e2e-agent-password-1' };
const ADMIN = { email: 'admin@acme.example', password: 'e2e-admin-password-1' };

async function waitUntil(cond: () => boolean | Promise<boolean>, ms = 8000, what = 'a condition') {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

suite('agent console in Chromium', () => {
  let tmp: string;
  let server: ServerHandle;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  const savedEnv: Record<string, string | undefined> = {};
  /** The server's clock runs this far ahead of real time (0 but in the token expiry test). */
  let clockOffsetMs = 0;

  afterEach(() => {
    // No uncaught exception in any page, ever.
    expect(pageErrors.splice(0)).toEqual([]);
  });

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(`CI=true but Chromium is missing at ${CHROMIUM}: .ci/run installs it with apt-get (package "chromium")`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-console-e2e-'));
    // The demo agents' passwords come from the environment, as in production.
    const env: Record<string, string> = {
      PORT: '0',
      HOST: '127.0.0.1',
      BATON_DB: path.join(tmp, 'db.sqlite'),
      BATON_SECRET: 'e2e-secret-e2e-secret-e2e-secret-00',
      BATON_CACHE_DIR: path.join(tmp, 'cache'),
      BATON_SEED_ADMIN_PASSWORD: ADMIN.password,
      BATON_SEED_AGENT_PASSWORD: AGENT.password,
      LOG_LEVEL: 'silent',
    };
    for (const [k, v] of Object.entries(env)) {
      savedEnv[k] = process.env[k];
      process.env[k] = v;
    }
    server = await startServer(loadConfig(process.env, { botDir: BOT }), { logger: silentLogger, defaultMetrics: false, print: () => {}, clock: () => new Date(Date.now() + clockOffsetMs) });
    base = server.url;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.shutdown('test over');
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function newPage(viewport = { width: 1440, height: 900 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // The console runs under a strict Content-Security-Policy: nothing may be refused.
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) pageErrors.push(m.text());
    });
    return page;
  }

  // ------------------------------------------------------------------ helpers: the agent API (node side)
  async function api(method: string, url: string, token?: string, body?: unknown) {
    const res = await fetch(base + url, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const data = (await res.json().catch(() => null)) as any;
    if (!res.ok) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(data)}`);
    return data;
  }
  const login = async (who = AGENT) => (await api('POST', '/api/v1/agent/login', undefined, who)) as { token: string; agent: { id: string; name: string } };

  /** Resolves whatever the agent still carries (a failed test must not fill the next one's capacity). */
  async function freeAgent(token: string) {
    const { conversations } = await api('GET', '/api/v1/agent/conversations?status=mine', token);
    await Promise.all(conversations.map((c: { id: string }) => api('POST', `/api/v1/agent/conversations/${c.id}/resolve`, token)));
  }

  /** A customer (node side, customer API) who asks for a person: a waiting conversation. */
  async function customerHandoff(text = 'talk to a person') {
    const c = await api('POST', '/api/v1/conversations', undefined, {});
    const say = (t: string) => api('POST', `/api/v1/conversations/${c.conversationId}/messages`, c.customerToken, { text: t, clientMessageId: `${c.conversationId}-${t}` });
    await say(text);
    const r = await say('Orders & delivery');
    expect(r.handoff).toMatchObject({ queue: 'orders' });
    return { id: c.conversationId as string, token: c.customerToken as string, say };
  }

  // ------------------------------------------------------------------ helpers: the pages
  async function consoleLogin(page: Page, who = AGENT) {
    await page.goto(base + '/agent');
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password').fill(who.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.conn.live').waitFor();
  }
  const row = (page: Page, id: string) => page.locator(`.item[data-id="${id}"]`);
  const agentLog = (page: Page) => page.locator('.conv .log');
  const widgetBubbles = (page: Page) => page.locator('[data-baton-widget] .log .row .b');
  const widgetInput = (page: Page) => page.getByRole('textbox', { name: 'Message' });
  async function widgetConversation(page: Page): Promise<{ conversationId: string; customerToken: string }> {
    return page.evaluate(() => {
      const ls = (globalThis as any).localStorage;
      const key = Object.keys(ls).find((k: string) => k.startsWith('baton:v1:') && !k.endsWith(':open'))!;
      return JSON.parse(ls.getItem(key));
    });
  }

  it('a customer asks for a person; the agent takes it live, replies, notes, hands back; the customer rates', async () => {
    const agentPage = await newPage();
    await consoleLogin(agentPage);
    const me = await agentPage.evaluate(() => JSON.parse((globalThis as any).sessionStorage.getItem('baton:agent:v1')).agent);

    // The customer, in the widget of the demo shop, asks for a person.
    const customer = await newPage({ width: 1100, height: 800 });
    await customer.goto(base + '/');
    await widgetBubbles(customer).filter({ hasText: 'Acme Store assistant' }).waitFor();
    await customer.getByRole('button', { name: 'Talk to a person' }).click();
    await customer.getByRole('button', { name: 'Orders & delivery' }).click();
    await widgetBubbles(customer).filter({ hasText: /support team|person|message you/i }).last().waitFor();
    const { conversationId } = await widgetConversation(customer);

    // It appears in the console's Waiting list, live (no reload), with its reason, queue and a ticking wait.
    const item = row(agentPage, conversationId);
    await item.waitFor({ timeout: 10_000 });
    await expect(item.locator('.meta').textContent()).resolves.toMatch(/orders.*Asked for a person/);
    const t1 = await item.locator('.since').textContent();
    await waitUntil(async () => (await item.locator('.since').textContent()) !== t1, 3000, 'the waiting time to tick');

    // Open, read the transcript and the context, accept.
    await item.click();
    await agentLog(agentPage).locator('.msg.customer').filter({ hasText: 'Talk to a person' }).waitFor();
    const ctx = agentPage.getByRole('complementary', { name: 'Conversation details' });
    await expect(ctx.textContent()).resolves.toContain('Asked for a person');
    await agentPage.getByRole('button', { name: 'Accept' }).click();
    await agentPage.locator('#tab-mine[aria-selected="true"]').waitFor(); // accepted: the console switches to Mine
    await row(agentPage, conversationId).waitFor();

    // A canned response: "/" in the empty reply box opens the picker, typing filters, Enter inserts
    // the text rendered for this conversation (nothing is sent yet).
    const reply = agentPage.getByRole('textbox', { name: 'Reply to the customer' });
    await reply.click();
    await agentPage.keyboard.type('/greet');
    const options = agentPage.getByRole('listbox', { name: 'Canned responses' }).getByRole('option');
    await waitUntil(async () => (await options.count()) === 1, 5000, 'the picker filtered to one response');
    await expect(options.allTextContents()).resolves.toEqual([expect.stringContaining('Greeting')]);
    await agentPage.keyboard.press('Enter');
    const greeting = `Hi there, this is ${me.name} from Acme support. I'm reading through your conversation now.`;
    await waitUntil(async () => (await reply.inputValue()) === greeting, 5000, 'the rendered canned response');
    // Shift+Enter adds a line; Enter sends. The customer sees it live, with the agent's name.
    await reply.press('End');
    await reply.press('Shift+Enter');
    await agentPage.keyboard.type('What is the order number?');
    await reply.press('Enter');
    const fromAgent = customer.locator('[data-baton-widget] .row.agent');
    await fromAgent.filter({ hasText: 'What is the order number?' }).waitFor({ timeout: 10_000 });
    await expect(fromAgent.locator('.who').first().textContent()).resolves.toBe(`${me.name} · Support team`);
    await expect(fromAgent.locator('.b').first().innerText()).resolves.toMatch(/reading through your conversation now\.\nWhat is the order number\?$/);
    await expect(reply.inputValue()).resolves.toBe('');

    // The customer answers (with markup that must stay text): the console shows it live, inert.
    await widgetInput(customer).fill('It is AB-123456 <img src=x onerror="window.__pwned=1">');
    await widgetInput(customer).press('Enter');
    await agentLog(agentPage).getByText('It is AB-123456 <img src=x onerror="window.__pwned=1">').waitFor({ timeout: 10_000 });
    expect(await agentPage.evaluate(() => (globalThis as any).__pwned)).toBeUndefined();
    await expect(agentLog(agentPage).evaluate((el) => el.innerHTML)).resolves.not.toMatch(/<img/);

    // An internal note (Alt+N switches the box): shown in the console as internal, never in the widget.
    await reply.press('Alt+N');
    const note = agentPage.getByRole('textbox', { name: /Internal note/ });
    await expect(note.evaluate((el) => el === (globalThis as any).document.activeElement)).resolves.toBe(true);
    await note.fill('Customer double-charged last month — check billing.');
    await note.press('Enter');
    const noteEl = agentLog(agentPage).locator('.msg.note').filter({ hasText: 'double-charged' });
    await noteEl.waitFor();
    await expect(noteEl.locator('.tag').textContent()).resolves.toBe('Internal note');
    await agentPage.getByRole('radio', { name: 'Reply' }).click();
    await reply.fill('Thanks! I have fixed it. Anything else?');
    await reply.press('Enter');
    await fromAgent.filter({ hasText: 'I have fixed it' }).waitFor({ timeout: 10_000 });
    await agentPage.screenshot({ path: SCREENSHOT });

    // Hand back to the bot: the bot asks the satisfaction question in the widget; the customer answers.
    await agentPage.getByRole('button', { name: 'Hand back to bot' }).click();
    await agentPage.locator('.conv-head .status.bot').waitFor();
    await widgetBubbles(customer).filter({ hasText: 'How would you rate the help you got' }).waitFor({ timeout: 10_000 });
    await customer.getByRole('button', { name: '5', exact: true }).click();
    await widgetBubbles(customer).filter({ hasText: 'glad we could help' }).waitFor();

    // Stored: a csat event in the conversation's log, shown live in the console's transcript.
    await waitUntil(async () => (await server.baton.store.events(conversationId)).some((e) => e.type === 'csat'), 5000, 'the csat event');
    const csat = (await server.baton.store.events(conversationId)).filter((e) => e.type === 'csat');
    expect(csat.map((e) => e.data)).toEqual([expect.objectContaining({ rating: 5 })]);
    await agentLog(agentPage).locator('.msg.system').filter({ hasText: 'Customer satisfaction: 5/5' }).waitFor({ timeout: 10_000 });

    // The note never reached the customer: not in the widget, not in the customer API's history.
    await customer.reload();
    await widgetBubbles(customer).filter({ hasText: 'I have fixed it' }).waitFor();
    await expect(customer.locator('[data-baton-widget]').evaluate((el) => el.shadowRoot!.textContent)).resolves.not.toContain('double-charged');
    const conv = await widgetConversation(customer);
    const history = await api('GET', `/api/v1/conversations/${conversationId}/messages`, conv.customerToken);
    expect(JSON.stringify(history)).not.toContain('double-charged');
    expect(history.messages.every((m: { from: string }) => ['customer', 'bot', 'agent'].includes(m.from))).toBe(true);
  });

  it('carries 30 open conversations: live unread counts, instant switching, keyboard navigation, capacity', async () => {
    const { token } = await login(AGENT);
    await freeAgent(token);
    // The demo agent carries up to 30 conversations at once.
    const capacity = (await api('GET', '/api/v1/agent/me', token)).agent.capacity as number;
    expect(capacity).toBe(30);
    const customers = await Promise.all(Array.from({ length: capacity + 1 }, () => customerHandoff()));
    // The agent takes 30 (quickly, through the API); the 31st waits.
    const mine = customers.slice(0, capacity), waiting = customers.slice(capacity);
    for (const c of mine) await api('POST', `/api/v1/agent/conversations/${c.id}/accept`, token);

    const page = await newPage();
    await consoleLogin(page);
    await page.getByRole('tab', { name: /^Mine/ }).click();
    await waitUntil(async () => (await page.locator('.item').count()) === capacity, 10_000, `${capacity} conversations in Mine`);
    await expect(page.locator('[data-count="mine"]').textContent()).resolves.toBe(String(capacity));
    await expect(page.locator('[data-count="waiting"]').textContent()).resolves.toBe(String(waiting.length));

    // Customers write while the agent looks elsewhere: unread badges count them, live.
    await mine[3].say('hello? 1');
    await mine[3].say('hello? 2');
    await mine[7].say('are you there');
    await row(page, mine[3].id).locator('.badge').filter({ hasText: /^2$/ }).waitFor({ timeout: 10_000 });
    await row(page, mine[7].id).locator('.badge').filter({ hasText: /^1$/ }).waitFor({ timeout: 10_000 });
    await expect(page.getByRole('tab', { name: /^Mine/ }).getAttribute('aria-label')).resolves.toBe(`Mine, ${capacity} conversations, 3 unread`);
    // Who waits for an answer comes first.
    const firstIds = await page.locator('.item').evaluateAll((els) => els.slice(0, 2).map((e) => (e as any).dataset.id));
    expect(new Set(firstIds)).toEqual(new Set([mine[3].id, mine[7].id]));

    // Open every one of them — the agent's 30 and the waiting one: all kept open.
    const t0 = Date.now();
    for (const c of [...mine, ...waiting]) {
      if (c === waiting[0]) await page.getByRole('tab', { name: /^Waiting/ }).click();
      await row(page, c.id).click();
      await page.locator('.conv .log .msg.customer').first().waitFor(); // loaded
    }
    await expect(page.evaluate(() => (globalThis as any).BatonConsole.state().views)).resolves.toBe(capacity + 1);
    // The agent is at capacity: accepting one more is refused, and the console says why.
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.getByRole('alert').filter({ hasText: 'capacity' }).waitFor();
    expect(Date.now() - t0).toBeLessThan(20_000);

    // Opened conversations were read: their badges are gone, here and on the server.
    await page.getByRole('tab', { name: /^Mine/ }).click();
    await waitUntil(async () => (await page.locator('.item .badge:visible').count()) === 0, 5000, 'no unread badge');
    await waitUntil(async () => (await api('GET', '/api/v1/agent/conversations?status=mine', token)).conversations.every((c: { unread: number }) => c.unread === 0), 5000, 'read marks');

    // Switching between open conversations is instant (no network) and keeps each draft.
    await row(page, mine[3].id).click();
    await page.getByRole('textbox', { name: 'Reply to the customer' }).fill('draft for #3');
    const requests: string[] = [];
    page.on('request', (r) => { if (/\/api\/v1\/agent\/conversations\/[^/?]+$/.test(r.url())) requests.push(r.url()); });
    for (const c of [mine[10], mine[20], mine[7], mine[0], mine[3]]) {
      await row(page, c.id).click();
      await expect(page.locator('.conv h1').textContent()).resolves.toBeTruthy();
      await expect(page.evaluate(() => (globalThis as any).BatonConsole.state().activeId)).resolves.toBe(c.id);
    }
    expect(requests).toEqual([]);
    await expect(page.getByRole('textbox', { name: 'Reply to the customer' }).inputValue()).resolves.toBe('draft for #3');

    // A new message in a conversation in the background bumps its badge; Alt+U jumps to it; Alt+↓/↑ walk the list.
    await mine[15].say('ping from 15');
    await row(page, mine[15].id).locator('.badge').filter({ hasText: /^1$/ }).waitFor({ timeout: 10_000 });
    await page.keyboard.press('Alt+U');
    await expect(page.evaluate(() => (globalThis as any).BatonConsole.state().activeId)).resolves.toBe(mine[15].id);
    await agentLog(page).getByText('ping from 15').waitFor();
    await row(page, mine[15].id).locator('.badge').waitFor({ state: 'hidden' });
    const ids = await page.locator('.item').evaluateAll((els) => els.map((e) => (e as any).dataset.id));
    const at = ids.indexOf(mine[15].id);
    await page.keyboard.press('Alt+ArrowDown');
    await expect(page.evaluate(() => (globalThis as any).BatonConsole.state().activeId)).resolves.toBe(ids[at + 1]);
    await page.keyboard.press('Alt+ArrowUp');
    await expect(page.evaluate(() => (globalThis as any).BatonConsole.state().activeId)).resolves.toBe(mine[15].id);
    await page.screenshot({ path: '/tmp/baton-console-30.png' });

    // Transfer one to another queue (agents pick a queue; only admins see the agent list): it leaves Mine, live.
    await row(page, mine[0].id).click();
    await page.getByRole('button', { name: 'Transfer…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Transfer conversation' });
    await dialog.locator('input[name=kind][value=queue]:checked').waitFor();
    await dialog.locator('input[name=kind][value=agent]:enabled').waitFor(); // agents may pick a colleague too
    await dialog.getByRole('combobox', { name: 'Queue' }).fill('returns');
    await dialog.getByRole('button', { name: 'Transfer' }).click();
    await page.getByRole('status').filter({ hasText: 'Transferred to the returns queue' }).waitFor();
    await row(page, mine[0].id).waitFor({ state: 'detached' });
    await expect(page.locator('[data-count="mine"]').textContent()).resolves.toBe(String(capacity - 1));
    await page.getByRole('tab', { name: /^Waiting/ }).click();
    await expect(row(page, mine[0].id).locator('.q').textContent()).resolves.toBe('returns');
    await page.getByRole('tab', { name: /^Mine/ }).click();

    // Free the agent for the next test.
    await Promise.all(mine.slice(1).map((c) => api('POST', `/api/v1/agent/conversations/${c.id}/resolve`, token)));
    await waitUntil(async () => (await page.locator('.item').count()) === 0, 10_000, 'Mine emptied live');
  });

  it('shows each side when the other is typing; an expired session returns to the sign-in form', async () => {
    const { token } = await login(AGENT);
    await freeAgent(token);
    const agentPage = await newPage();
    await consoleLogin(agentPage);
    const me = await agentPage.evaluate(() => JSON.parse((globalThis as any).sessionStorage.getItem('baton:agent:v1')).agent);

    // A customer in the widget asks for a person; the agent has the conversation open in the console.
    const customer = await newPage({ width: 1100, height: 800 });
    await customer.goto(base + '/');
    await widgetBubbles(customer).filter({ hasText: 'Acme Store assistant' }).waitFor();
    await customer.getByRole('button', { name: 'Talk to a person' }).click();
    await customer.getByRole('button', { name: 'Orders & delivery' }).click();
    await widgetBubbles(customer).filter({ hasText: /support team|person|message you/i }).last().waitFor();
    const { conversationId } = await widgetConversation(customer);
    await api('POST', `/api/v1/agent/conversations/${conversationId}/accept`, token);
    await agentPage.getByRole('tab', { name: /^Mine/ }).click();
    await row(agentPage, conversationId).click();
    const reply = agentPage.getByRole('textbox', { name: 'Reply to the customer' });
    await waitUntil(() => reply.isEnabled(), 10_000, 'the reply box to open');

    // The customer types (without sending): "typing…" in the inbox row and in the open conversation.
    await widgetInput(customer).fill('Hello, is anyone');
    await row(agentPage, conversationId).locator('.typing-dot').filter({ hasText: 'typing…' }).waitFor({ timeout: 10_000 });
    await agentPage.locator('.conv .typing').filter({ hasText: /is typing…$/ }).waitFor({ timeout: 10_000 });

    // The agent types a reply: the customer sees "<name> is typing…", until the reply arrives.
    await reply.fill('Yes, I am here');
    const typing = customer.locator('[data-baton-widget] .typing');
    await typing.filter({ hasText: `${me.name} is typing…` }).waitFor({ timeout: 10_000 });
    await reply.press('Enter');
    await customer.locator('[data-baton-widget] .row.agent').filter({ hasText: 'Yes, I am here' }).waitFor({ timeout: 10_000 });
    await typing.waitFor({ state: 'hidden', timeout: 10_000 });
    await widgetInput(customer).fill('');

    // The token expires while the console is open: the server closes the stream, and the console
    // shows the sign-in form with the reason (it does not keep reconnecting).
    clockOffsetMs = 12 * 3600_000 + 60_000;
    try {
      await agentPage.locator('#login').waitFor({ state: 'visible', timeout: 10_000 });
      await agentPage.getByRole('alert').filter({ hasText: 'Your session has expired' }).waitFor();
      await expect(agentPage.evaluate(() => (globalThis as any).sessionStorage.getItem('baton:agent:v1'))).resolves.toBeNull();
    } finally {
      clockOffsetMs = 0;
    }
    await api('POST', `/api/v1/agent/conversations/${conversationId}/resolve`, token);
  });

  it('signs in and out, stays signed in on reload, and reconnects the stream, catching up on what was said meanwhile', async () => {
    // The page is served under a strict Content-Security-Policy (and the suite fails on any violation).
    const res = await fetch(base + '/agent');
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');

    const page = await newPage();
    await page.goto(base + '/agent');
    // A wrong password is explained, and nothing is stored.
    await page.getByLabel('Email').fill(AGENT.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
    await expect(page.evaluate(() => (globalThis as any).sessionStorage.length)).resolves.toBe(0);

    // The stream goes through a proxy the test can cut.
    const sockets: { close(o?: { code?: number; reason?: string }): Promise<void> }[] = [];
    await page.routeWebSocket(/\/api\/v1\/agent\/stream/, (ws) => {
      ws.connectToServer();
      sockets.push(ws);
    });
    await page.getByLabel('Password').fill(AGENT.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.conn.live').waitFor();
    await page.reload();
    await page.locator('.conn.live').waitFor(); // the session survived the reload
    await expect(page.locator('#login').isHidden()).resolves.toBe(true);

    const { token } = await login(AGENT);
    await freeAgent(token);
    const c = await customerHandoff();
    await api('POST', `/api/v1/agent/conversations/${c.id}/accept`, token);
    await page.getByRole('tab', { name: /^Mine/ }).click();
    await row(page, c.id).click();
    await agentLog(page).locator('.msg.customer').getByText('talk to a person').waitFor();

    // Cut the stream: the console says so, and reconnects (backoff from ~1 s) by itself.
    const n = sockets.length;
    await sockets[n - 1].close({ code: 1001, reason: 'going away' });
    await page.locator('.conn.down').waitFor();
    await c.say('said while the agent was reconnecting');
    await page.locator('.conn.live').waitFor({ timeout: 10_000 });
    expect(sockets.length).toBe(n + 1);
    await agentLog(page).getByText('said while the agent was reconnecting').waitFor({ timeout: 10_000 });
    await expect(agentLog(page).getByText('said while the agent was reconnecting').count()).resolves.toBe(1);

    // Log out: back to the sign-in form, the token forgotten, the agent offline.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await expect(page.evaluate(() => (globalThis as any).sessionStorage.getItem('baton:agent:v1'))).resolves.toBeNull();
    await waitUntil(async () => (await api('GET', '/api/v1/agent/me', token)).agent.presence === 'offline', 5000, 'presence offline');
  });
});

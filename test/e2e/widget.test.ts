/**
 * The web widget in a real headless Chromium, against the real app (demo bot, SQLite store).
 *
 * Needs the Debian package `chromium` (/usr/bin/chromium, or $CHROMIUM_PATH); .ci/run installs it.
 * Without it the suite is skipped with a warning — except on CI (CI=true), where it must run.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as http from 'http';
import type { AddressInfo } from 'net';
import express from 'express';
import { chromium, type Browser, type BrowserContext, type Page, type Request as PwRequest } from 'playwright-core';
import { createBaton, type Baton } from '../../src/main';
import { createApp } from '../../src/http/app';
import { TokenService } from '../../src/identity/tokens';
import { authorizeConversation } from '../../src/identity/access';
import { signUserId } from '../../src/identity/verify';
import { StreamHub } from '../../src/realtime/hub';
import { attachStreams } from '../../src/realtime/ws-server';
import { webRouter } from '../../src/web';
import { silentLogger } from '../../src/util/logger';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ON_CI = process.env.CI === 'true' || process.env.CI === '1';
const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
if (!HAVE_CHROMIUM && !ON_CI) {
  console.warn(
    `\n  SKIPPING the widget's browser tests (test/e2e): Chromium was not found at ${CHROMIUM}.\n` +
      `  Install it with \`sudo apt-get install -y chromium\` (or set CHROMIUM_PATH). On CI (CI=true) these tests always run.\n`,
  );
}
const suite = HAVE_CHROMIUM || ON_CI ? describe : describe.skip;

async function waitUntil(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const BOT = path.join(__dirname, '..', '..', 'bots', 'acme');
const SCREENSHOT = '/tmp/baton-widget.png';
const IDENTITY_SECRET = 'e2e-identity-secret';

suite('web widget in Chromium', () => {
  let baton: Baton;
  let base: string; // the full server: REST + WebSocket stream
  let restOnly: string; // the same app without the stream: the widget must fall back to polling
  let tmp: string;
  const servers: http.Server[] = [];
  const stops: (() => unknown)[] = [];
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  afterEach(() => {
    // No uncaught exception in any page, ever.
    expect(pageErrors.splice(0)).toEqual([]);
  });

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(`CI=true but Chromium is missing at ${CHROMIUM}: .ci/run installs it with apt-get (package "chromium")`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-e2e-'));
    baton = await createBaton({ botDir: BOT, cacheDir: path.join(tmp, 'cache'), store: { sqlite: path.join(tmp, 'db.sqlite') }, logger: silentLogger });
    const web = express.Router();
    web.use(webRouter({ botName: baton.bot.name, botId: baton.bot.id }));
    // A plain host page with the widget closed, a link before it and nothing else (keyboard test).
    web.get('/plain', (_req, res) => {
      res.type('html').send(`<!doctype html><html lang="en"><head><title>Host</title><style>button,div{all:unset;color:red!important;font-size:40px!important}</style></head>
<body><h1>Host page</h1><a href="#top">A link on the host page</a>
<script src="/widget.js" data-bot="acme" data-title="Acme Store" async></script></body></html>`);
    });
    // A signed-in page: the business backend puts the signed identity into window.BatonSettings.
    web.get('/account', (req, res) => {
      const userId = String(req.query.user);
      const signature = req.query.forged ? 'f'.repeat(64) : signUserId(userId, IDENTITY_SECRET);
      const settings = JSON.stringify({ identity: { userId, signature, name: 'Ann' } }).replace(/</g, '\\u003c');
      res.type('html').send(`<!doctype html><html lang="en"><head><title>My account</title></head><body><h1>Your orders</h1>
<script>window.BatonSettings = ${settings};</script>
<script src="/widget.js" data-bot="acme" data-title="Acme Store" data-open="true" async></script></body></html>`);
    });
    // A help page with the conversation inline in the page (data-target).
    web.get('/help', (_req, res) => {
      res.type('html').send(`<!doctype html><html lang="en"><head><title>Help</title></head><body><h1>Help centre</h1>
<div id="support" style="height:520px;max-width:560px"></div>
<script src="/widget.js" data-bot="acme" data-title="Acme Store" data-target="#support" async></script></body></html>`);
    });
    // A shop on another origin (localhost vs 127.0.0.1) with a strict Content-Security-Policy, embedding the widget by absolute URL.
    web.get('/shop', (req, res) => {
      const api = String(req.query.api);
      const ws = api.replace(/^http/, 'ws');
      res.set('Content-Security-Policy', `default-src 'none'; script-src ${api}; connect-src ${api} ${ws}; img-src https:; style-src 'self'`);
      res.type('html').send(`<!doctype html><html lang="en"><head><title>Another shop</title></head><body><h1>Another shop</h1>
<script src="${api}/widget.js" data-bot="acme" data-title="Acme Store" data-color="#0b6e4f" data-open="true" async></script></body></html>`);
    });
    // Wired as src/http/serve.ts wires it: the app (with the widget mounted as `web`), the stream hub fed by commits and turns.
    const tokens = new TokenService('e2e-secret', baton.bot.id);
    const app = createApp({ service: baton.service, store: baton.store, commits: baton.commits, tokens, identitySecret: IDENTITY_SECRET, logger: silentLogger, web });
    const hub = new StreamHub({ store: baton.store, logger: silentLogger });
    stops.push(
      baton.commits.subscribe((id) => hub.notify(id)),
      baton.service.observe({ turnStarted: (id) => hub.typing(id, true), turnEnded: (id) => hub.typing(id, false) }),
    );
    const listen = async (withStreams: boolean) => {
      const server = http.createServer(app);
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      if (withStreams) {
        const streams = attachStreams(server, {
          hub,
          logger: silentLogger,
          authorize: (token, id) => authorizeConversation({ tokens, store: baton.store, botId: baton.bot.id }, token, id),
        });
        stops.unshift(() => streams.close());
      }
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    base = await listen(true);
    restOnly = await listen(false);
    hub.start();
    stops.unshift(() => hub.closeAll(1001, 'test over'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    for (const stop of stops) await stop();
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    await baton?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function newPage(viewport = { width: 1280, height: 800 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    return page;
  }

  /** The widget's messages as "from: text" lines, in order. */
  async function transcript(page: Page): Promise<string[]> {
    return page.locator('[data-baton-widget] .log .row').evaluateAll((rows) =>
      rows.map((r) => {
        const from = r.classList.contains('customer') ? 'customer' : r.classList.contains('agent') ? 'agent' : 'bot';
        const b = r.querySelector('.b');
        const text = b ? (b.textContent ?? '').replace(/^(You|Acme Store): /, '').replace(/\s+/g, ' ').trim() : '';
        return `${from}: ${text}`;
      }),
    );
  }

  const bubbles = (page: Page) => page.locator('[data-baton-widget] .log .row .b');
  const input = (page: Page) => page.getByRole('textbox', { name: 'Message' });

  async function say(page: Page, text: string) {
    await input(page).fill(text);
    await input(page).press('Enter');
  }

  it('tracks an order in the demo shop, shows it on reload, and looks right', async () => {
    const page = await newPage();
    await page.goto(base + '/');
    await expect(page.title()).resolves.toContain('Acme Store');
    // The demo opens the widget by default, with the welcome message and quick replies.
    const dialog = page.getByRole('dialog', { name: 'Acme Store' });
    await dialog.waitFor();
    await bubbles(page).first().filter({ hasText: "I'm the Acme Store assistant" }).waitFor();
    await expect(page.getByRole('group', { name: 'Suggested replies' }).getByRole('button').allTextContents()).resolves.toEqual([
      'Track my order',
      'Start a return',
      'Shipping info',
      'Talk to a person',
    ]);
    await expect(page.getByRole('log').getAttribute('aria-live')).resolves.toBe('polite');

    await say(page, 'where is my order');
    await bubbles(page).filter({ hasText: 'order number' }).waitFor();
    await say(page, 'AB-123456');
    const status = bubbles(page).filter({ hasText: 'UPS' });
    await status.waitFor();
    // The customer's messages are confirmed (not "sending"), and nothing is shown twice.
    await page.waitForFunction(() => !(globalThis as any).document.querySelector('[data-baton-widget]')!.shadowRoot!.querySelector('.pending'));
    const before = await transcript(page);
    expect(before).toEqual([
      expect.stringMatching(/^bot: Hi! I'm the Acme Store assistant/),
      'customer: where is my order',
      expect.stringMatching(/^bot: Sure! What's your order number\?/),
      'customer: AB-123456',
      expect.stringMatching(/^bot: .*AB-123456.*UPS/),
    ]);
    await page.screenshot({ path: SCREENSHOT });

    // Reload: the conversation (id + token in localStorage) and its whole history come back, once.
    await page.reload();
    await bubbles(page).filter({ hasText: 'UPS' }).waitFor();
    await page.waitForTimeout(300);
    expect(await transcript(page)).toEqual(before);
    // Quick replies of an answered message are not offered again.
    await expect(page.getByRole('button', { name: 'Track my order' }).count()).resolves.toBe(0);
  });

  it('sends a quick reply as title + payload and renders a knowledge answer with its source', async () => {
    const page = await newPage();
    const sent: any[] = [];
    page.on('request', (r: PwRequest) => {
      if (r.method() === 'POST' && /\/messages$/.test(r.url())) sent.push(r.postDataJSON());
    });
    await page.goto(base + '/');
    await page.getByRole('button', { name: 'Shipping info' }).click();
    const answer = bubbles(page).filter({ hasText: 'business days' });
    await answer.waitFor();
    expect(sent).toEqual([{ text: 'Shipping info', payload: 'intent:kb.shipping-times', clientMessageId: expect.any(String) }]);
    // Markdown became DOM: bold, a bullet list, and the cited article as a safe link.
    await expect(answer.locator('strong').first().textContent()).resolves.toBe('2pm ET');
    await expect(answer.locator('li').count()).resolves.toBe(3);
    const source = answer.locator('.src');
    await expect(source.textContent()).resolves.toBe('Source: How long does shipping take?');
    const a = source.getByRole('link', { name: 'How long does shipping take?' });
    await expect(a.getAttribute('href')).resolves.toBe('https://acme.example/help/shipping-times');
    await expect(a.getAttribute('target')).resolves.toBe('_blank');
    await expect(a.getAttribute('rel')).resolves.toContain('noopener');
    // The customer's pick is shown as their message; the old quick replies are gone, new ones offered.
    expect((await transcript(page))[1]).toBe('customer: Shipping info');
    await expect(page.getByRole('button', { name: 'Track my order' }).count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Yes' }).waitFor();
  });

  it('works with the keyboard alone: Tab to the launcher, Enter, type, Shift+Tab to a quick reply, Escape', async () => {
    const page = await newPage();
    await page.goto(base + '/plain');
    const launcher = page.getByRole('button', { name: 'Open chat with Acme Store' });
    await launcher.waitFor();
    await expect(page.getByRole('dialog').count()).resolves.toBe(0);
    // The host page's hostile CSS (button,div{all:unset;color:red}) does not reach into the widget.
    await expect(launcher.evaluate((el) => (globalThis as any).getComputedStyle(el).borderRadius)).resolves.toBe('50%');

    const focused = () =>
      page.evaluate(() => {
        const host = (globalThis as any).document.activeElement;
        const inner = host?.shadowRoot?.activeElement;
        if (!inner) return String(host?.tagName.toLowerCase());
        return inner.tagName === 'TEXTAREA' ? 'textarea' : `${inner.tagName.toLowerCase()}:${inner.getAttribute('aria-label') ?? inner.textContent}`;
      });
    await page.keyboard.press('Tab'); // the host page's link
    await page.keyboard.press('Tab'); // the launcher
    expect(await focused()).toBe('button:Open chat with Acme Store');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Acme Store' }).waitFor();
    expect(await focused()).toBe('textarea'); // the labelled message box
    await expect(page.getByRole('button', { name: 'Close chat with Acme Store' }).getAttribute('aria-expanded')).resolves.toBe('true');
    await bubbles(page).filter({ hasText: 'Acme Store assistant' }).waitFor();

    await page.keyboard.type('what are your store hours');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'All stores' }).waitFor();
    await page.keyboard.press('Shift+Tab'); // the last quick reply
    expect(await focused()).toBe('button:All stores');
    await page.keyboard.press('Enter');
    await page.getByRole('list', { name: 'Options' }).waitFor(); // the store cards
    expect(await focused()).toBe('textarea'); // focus went back to the message box
    expect((await transcript(page)).filter((l) => l.startsWith('customer'))).toEqual(['customer: what are your store hours', 'customer: All stores']);

    await page.keyboard.press('Escape');
    await expect(page.getByRole('dialog').count()).resolves.toBe(0);
    expect(await focused()).toBe('button:Open chat with Acme Store');
    await page.keyboard.press('Enter'); // reopens with the conversation intact
    await page.getByRole('list', { name: 'Options' }).waitFor();
  });

  it('renders hostile message content as inert text', async () => {
    const page = await newPage();
    await page.goto(base + '/');
    await bubbles(page).filter({ hasText: 'Acme Store assistant' }).waitFor();
    // A customer typing HTML sees it as text (and the real server stores and returns it as text).
    await say(page, '<img src=x onerror="window.__pwned=1">');
    await page.waitForFunction(() => !(globalThis as any).document.querySelector('[data-baton-widget]')!.shadowRoot!.querySelector('.pending'));

    // A bot/agent reply carrying every kind of attack the renderer must defuse.
    await page.route('**/api/v1/conversations/*/messages', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      await route.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({
          messages: [
            {
              id: 'evil-1',
              from: 'bot',
              text:
                'Hi O&#x27;Brien &amp; co. <img src=x onerror="window.__pwned=2"> &lt;script&gt;window.__pwned=3&lt;/script&gt;\n\n' +
                '[click me](javascript:window.__pwned=4) and [safe](https://acme.example/help) and **bold** *it*\n\n- one\n- two <b>not bold</b>',
              buttons: [{ title: 'Evil button', url: 'javascript:window.__pwned=5' }],
              links: [{ title: 'data link', url: 'data:text/html,<script>parent.__pwned=6</script>' }],
              image: { url: 'javascript:window.__pwned=7', alt: 'x' },
              citation: { articleId: 'a', title: 'Evil &lt;i&gt;source&lt;/i&gt;', url: 'JaVaScRiPt:window.__pwned=8' },
            },
            { id: 'evil-2', from: 'agent', agent: { name: 'Dana <img src=x onerror=window.__pwned=9>' }, text: 'An agent here.' },
          ],
        }),
      });
    });
    await say(page, 'hello');
    const evil = bubbles(page).filter({ hasText: 'click me' });
    await evil.waitFor();
    await page.waitForTimeout(200);
    expect(await page.evaluate(() => (globalThis as any).__pwned)).toBeUndefined();

    const text = (await evil.textContent())!.replace(/\s+/g, ' ');
    expect(text).toContain(`Hi O'Brien & co. <img src=x onerror="window.__pwned=2"> <script>window.__pwned=3</script>`);
    expect(text).toContain('two <b>not bold</b>');
    expect(text).toContain('Source: Evil <i>source</i>');
    await expect(evil.locator('strong').allTextContents()).resolves.toEqual(['bold']);
    await expect(evil.locator('em').allTextContents()).resolves.toEqual(['it']);
    await expect(evil.locator('li').allTextContents()).resolves.toEqual(['one', 'two <b>not bold</b>']);
    // Only the http(s) link is a link; the javascript:/data: targets are plain text or gone.
    const hrefs = await page.locator('[data-baton-widget] .log a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(hrefs).toEqual(['https://acme.example/help']);
    const html = await page.evaluate(() => (globalThis as any).document.querySelector('[data-baton-widget]')!.shadowRoot!.querySelector('.log')!.innerHTML);
    expect(html).not.toMatch(/<(img|script|b|i)[\s>]|javascript:|data:text/i);
    // No element in the widget carries an event-handler attribute.
    const handlers = await page.evaluate(() =>
      [...(globalThis as any).document.querySelector('[data-baton-widget]').shadowRoot.querySelectorAll('*')].flatMap((el: any) =>
        [...el.attributes].map((a: any) => a.name).filter((n: string) => n.startsWith('on')),
      ),
    );
    expect(handlers).toEqual([]);
    expect(html).toContain('&lt;img src=x onerror="window.__pwned=2"&gt;');
    // The agent is shown by name (as text) and distinctly from the bot.
    await expect(page.locator('[data-baton-widget] .row.agent .who').textContent()).resolves.toBe('Dana <img src=x onerror=window.__pwned=9> · Support team');
    // Clicking the defused link and button does nothing.
    await evil.getByText('click me').click();
    await evil.getByText('Evil button').click();
    await page.waitForTimeout(200);
    expect(await page.evaluate(() => (globalThis as any).__pwned)).toBeUndefined();
    expect(page.context().pages()).toHaveLength(1);
    expect((await transcript(page)).filter((l) => l.startsWith('customer'))).toEqual(['customer: <img src=x onerror="window.__pwned=1">', 'customer: hello']);
  });

  it('retries a failed send with the same clientMessageId, shows the error, and never duplicates', async () => {
    const page = await newPage();
    await page.goto(base + '/');
    await bubbles(page).filter({ hasText: 'Acme Store assistant' }).waitFor();
    const ids: string[] = [];
    let failing = true;
    await page.route('**/api/v1/conversations/*/messages', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      ids.push(route.request().postDataJSON().clientMessageId);
      if (failing) return route.abort('failed');
      return route.continue();
    });
    await say(page, 'what are your store hours');
    const retry = page.getByRole('button', { name: 'Retry' });
    await retry.waitFor({ timeout: 10_000 }); // after the automatic retries give up
    await expect(page.getByRole('alert').filter({ hasText: 'Not sent' }).count()).resolves.toBe(1);
    expect(ids.length).toBe(3);
    failing = false;
    await retry.click();
    await page.getByRole('button', { name: 'All stores' }).waitFor();
    expect(ids.length).toBe(4);
    expect(new Set(ids).size).toBe(1);
    await expect(page.getByRole('button', { name: 'Retry' }).count()).resolves.toBe(0);
    await page.unroute('**/api/v1/conversations/*/messages');
    await page.reload();
    await page.getByRole('button', { name: 'All stores' }).waitFor();
    await page.waitForTimeout(300);
    expect((await transcript(page)).filter((l) => l === 'customer: what are your store hours')).toHaveLength(1);
  });

  it.each([
    ['the live WebSocket stream', 'stream'],
    ['polling when the socket cannot connect', 'polling'],
  ])('shows messages sent from another device exactly once, over %s', async (_title, mode) => {
    const origin = mode === 'stream' ? base : restOnly;
    const page = await newPage();
    const sockets: string[] = [];
    const frames: string[] = [];
    let polls = 0;
    page.on('websocket', (ws) => {
      sockets.push(ws.url());
      ws.on('framereceived', (f) => frames.push(String(f.payload)));
    });
    page.on('request', (r) => {
      if (r.method() === 'GET' && /\/messages\?after=/.test(r.url())) polls++;
    });
    await page.goto(origin + '/');
    await bubbles(page).filter({ hasText: 'Acme Store assistant' }).waitFor();
    if (mode === 'stream') await waitUntil(() => frames.some((f) => f.includes('"ready"')));
    const conv = await page.evaluate(() => {
      const key = Object.keys((globalThis as any).localStorage).find((k: string) => k.startsWith('baton:v1:') && !k.endsWith(':open'))!;
      return JSON.parse((globalThis as any).localStorage.getItem(key)!);
    });
    // Over the stream, also while the panel is closed: the launcher counts the unread replies.
    if (mode === 'stream') await page.getByRole('button', { name: 'Close chat', exact: true }).click();
    const res = await fetch(`${origin}/api/v1/conversations/${conv.conversationId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${conv.customerToken}` },
      body: JSON.stringify({ text: 'track order GH-789012', clientMessageId: 'other-device-1' }),
    });
    expect(res.status).toBe(200);
    if (mode === 'stream') {
      const launcher = page.getByRole('button', { name: /^Open chat with Acme Store \(\d+ new messages?\)$/ });
      await launcher.waitFor({ timeout: 10_000 });
      await expect(page.locator('[data-baton-widget] .badge').isVisible()).resolves.toBe(true);
      await launcher.click();
      await expect(page.locator('[data-baton-widget] .badge').isVisible()).resolves.toBe(false);
    }
    await bubbles(page).filter({ hasText: 'FedEx' }).waitFor({ timeout: 10_000 });
    await page.waitForTimeout(300);
    const lines = await transcript(page);
    expect(lines.filter((l) => l === 'customer: track order GH-789012')).toHaveLength(1);
    expect(lines.filter((l) => l.includes('FedEx'))).toHaveLength(1);
    expect(sockets.length).toBeGreaterThan(0);
    expect(sockets[0]).toMatch(/\/api\/v1\/conversations\/[^/]+\/stream\?token=.+&after=\d+$/);
    if (mode === 'stream') {
      expect(frames.some((f) => f.includes('"type":"message"') && f.includes('FedEx'))).toBe(true);
      expect(polls).toBe(0);
    } else expect(polls).toBeGreaterThan(0);
  });

  it('starts a new conversation, and says so, when the stored one is refused (e.g. BATON_SECRET changed)', async () => {
    const page = await newPage();
    await page.goto(base + '/');
    await bubbles(page).filter({ hasText: 'Acme Store assistant' }).waitFor();
    await say(page, 'where is my order');
    await bubbles(page).filter({ hasText: 'order number' }).waitFor();
    const old = await page.evaluate(() => {
      const ls = (globalThis as any).localStorage;
      const key = Object.keys(ls).find((k: string) => k.startsWith('baton:v1:'))!;
      const v = JSON.parse(ls.getItem(key));
      ls.setItem(key, JSON.stringify({ ...v, customerToken: 'a-token-signed-with-an-old-secret' }));
      return v.conversationId;
    });
    await page.reload();
    await page.getByText('Your earlier conversation is no longer available').waitFor();
    await bubbles(page).filter({ hasText: 'Acme Store assistant' }).waitFor();
    expect(await transcript(page)).toEqual([expect.stringMatching(/^bot: Hi! I'm the Acme Store assistant/)]);
    const now = await page.evaluate(() => {
      const ls = (globalThis as any).localStorage;
      return JSON.parse(ls.getItem(Object.keys(ls).find((k: string) => k.startsWith('baton:v1:'))!)).conversationId;
    });
    expect(now).not.toBe(old);
  });

  it('shows a typing indicator while the bot is answering', async () => {
    const page = await newPage();
    await page.goto(base + '/');
    await bubbles(page).filter({ hasText: 'Acme Store assistant' }).waitFor();
    await page.route('**/api/v1/conversations/*/messages', async (route) => {
      if (route.request().method() === 'POST') await new Promise((r) => setTimeout(r, 1000));
      await route.continue();
    });
    await say(page, 'where is my order');
    const typing = page.locator('[data-baton-widget] .typing');
    await typing.waitFor({ state: 'visible' });
    await expect(typing.textContent()).resolves.toBe('Acme Store is typing…');
    await bubbles(page).filter({ hasText: 'order number' }).waitFor();
    await typing.waitFor({ state: 'hidden' });
  });

  it('continues a verified customer’s conversation on another device, and explains a bad signature', async () => {
    const laptop = await newPage();
    await laptop.goto(base + '/account?user=cust-42');
    await bubbles(laptop).filter({ hasText: "Hi Ann! I'm the Acme Store assistant" }).waitFor();
    await say(laptop, 'track order CD-345678');
    await bubbles(laptop).filter({ hasText: 'was delivered on' }).waitFor();
    const before = await transcript(laptop);

    const phone = await newPage({ width: 390, height: 760 }); // a new browser profile: nothing in localStorage
    await phone.goto(base + '/account?user=cust-42');
    await bubbles(phone).filter({ hasText: 'was delivered on' }).waitFor();
    await phone.waitForTimeout(300);
    expect(await transcript(phone)).toEqual(before);

    const forged = await newPage();
    await forged.goto(base + '/account?user=cust-42&forged=1');
    const alert = forged.getByRole('alert');
    await alert.waitFor();
    await expect(alert.textContent()).resolves.toContain('signature');
    await expect(alert.getByRole('button', { name: 'Try again' }).count()).resolves.toBe(1);
  });

  it('embeds on another origin under a strict Content-Security-Policy, with a custom colour', async () => {
    const page = await newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|CORS/i.test(m.text())) violations.push(m.text());
    });
    const shop = base.replace('127.0.0.1', 'localhost');
    await page.goto(`${shop}/shop?api=${encodeURIComponent(base)}`);
    await bubbles(page).filter({ hasText: 'Acme Store assistant' }).waitFor();
    await say(page, 'track order AB-123456');
    await bubbles(page).filter({ hasText: 'UPS' }).waitFor();
    const header = page.locator('[data-baton-widget] header');
    await expect(header.evaluate((el) => (globalThis as any).getComputedStyle(el).backgroundColor)).resolves.toBe('rgb(11, 110, 79)');
    await expect(page.locator('[data-baton-widget] .row.customer .b').evaluate((el) => (globalThis as any).getComputedStyle(el).color)).resolves.toBe('rgb(255, 255, 255)');
    expect(violations).toEqual([]);
  });

  it('renders inline into a page element with data-target', async () => {
    const page = await newPage();
    await page.goto(base + '/help');
    await bubbles(page).filter({ hasText: 'Acme Store assistant' }).waitFor();
    const inside = await page.evaluate(() => !!(globalThis as any).document.querySelector('#support > [data-baton-widget]'));
    expect(inside).toBe(true);
    await expect(page.locator('[data-baton-widget] .launcher').isVisible()).resolves.toBe(false);
    const box = (await page.getByRole('dialog', { name: 'Acme Store' }).boundingBox())!;
    expect([box.width, box.height].map(Math.round)).toEqual([560, 520]);
    await input(page).press('Escape'); // inline: nothing to close
    await expect(page.getByRole('dialog').isVisible()).resolves.toBe(true);
  });

  it('fills a phone screen', async () => {
    const page = await newPage({ width: 390, height: 760 });
    await page.emulateMedia({ reducedMotion: 'reduce' }); // and no opening animation
    await page.goto(base + '/');
    const dialog = page.getByRole('dialog', { name: 'Acme Store' });
    await dialog.waitFor();
    await bubbles(page).filter({ hasText: 'Acme Store assistant' }).waitFor();
    const box = (await dialog.boundingBox())!;
    expect([box.x, box.y, box.width, box.height].map(Math.round)).toEqual([0, 0, 390, 760]);
    await expect(dialog.evaluate((el) => (globalThis as any).getComputedStyle(el).animationName)).resolves.toBe('none');
    await page.screenshot({ path: '/tmp/baton-widget-phone.png' });
  });
});


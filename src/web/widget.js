/*! Baton web widget: one <script> tag adds a support conversation to any page. MIT. Docs: docs/widget.md */
(() => {
'use strict';
const W = window, D = document;
if (W.Baton && W.Baton.version) return;
const SCRIPT = D.currentScript || D.querySelector('script[data-bot][src*="widget"]');

// ---------------------------------------------------------------- safe text
/*@include safe-text.js*/

/** Builds an element; string children become text nodes. */
const h = (tag, attrs, ...kids) => {
  const el = D.createElement(tag);
  for (const k in attrs || {}) {
    const v = attrs[k];
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat()) if (c != null && c !== false) el.append(c);
  return el;
};
const link = (href, kids, cls) => h('a', { href, target: '_blank', rel: 'noopener noreferrer', class: cls }, kids);

// ---------------------------------------------------------------- utilities
const uuid = () => (W.crypto && crypto.randomUUID ? crypto.randomUUID()
  : 'c' + Date.now().toString(36) + Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join(''));
const storage = (kind) => { try { const s = W[kind]; s.setItem('__baton', '1'); s.removeItem('__baton'); return s; } catch (_) { return null; } };
const truthy = (v) => v === true || (typeof v === 'string' && v !== 'false' && v !== '0');

class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}
const retryable = (e) => !e.status || e.status === 408 || e.status === 425 || e.status === 429 || e.status >= 500;
const gone = (e) => e.status === 401 || e.status === 403 || e.status === 404;

async function request(api, method, path, { body, token } = {}) {
  const ctl = new AbortController(), timer = setTimeout(() => ctl.abort(), 20000);
  const headers = {};
  if (body) headers['content-type'] = 'application/json';
  if (token) headers.authorization = 'Bearer ' + token;
  let res, data = null;
  try {
    res = await fetch(api + path, { method, headers, body: body ? JSON.stringify(body) : undefined, signal: ctl.signal, credentials: 'omit' });
  } catch (_) {
    throw new ApiError(0, 'network', navigator.onLine === false ? 'You seem to be offline.' : 'We can’t reach the support server.');
  } finally { clearTimeout(timer); }
  try { data = await res.json(); } catch (_) {}
  const err = data && data.error;
  if (!res.ok) throw new ApiError(res.status, (err && err.code) || 'http_' + res.status, (err && err.message) || 'The server answered ' + res.status + '.');
  return data || {};
}

// ---------------------------------------------------------------- look
const CSS = `
:host{--a:var(--baton-accent,#1d4ed8);--at:var(--baton-accent-text,#fff);--r:var(--baton-radius,16px);--fg:#1b1f24;--mut:#57606a;--bot:#eef1f5;--agent:#e8f6ee;--agent-fg:#0d6633;--link:#1546c0;--err:#b42318}
.root{font:15px/1.45 var(--baton-font,system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif);color:var(--fg);text-align:left;height:100%}
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
.sr{position:absolute;width:1px;height:1px;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
button,textarea{font:inherit;color:inherit}button{cursor:pointer}
:focus-visible{outline:3px solid var(--a);outline-offset:2px}
header :focus-visible{outline-color:currentColor;outline-offset:-3px}.log:focus-visible,textarea:focus-visible{outline-offset:-1px}
.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border:0;border-radius:50%;background:var(--a);color:var(--at);box-shadow:0 6px 20px rgba(0,0,0,.25);display:grid;place-items:center;transition:transform .15s}
.launcher:hover{transform:scale(1.06)}.launcher svg{width:28px;height:28px}
.launcher .x,.open .launcher svg:first-child{display:none}.open .launcher .x{display:block}
.left .launcher,.left .panel{right:auto;left:20px}
.badge{position:absolute;top:-2px;right:-2px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;background:#c4320a;color:#fff;font-size:12px;font-weight:700;line-height:18px;border:2px solid #fff}
.panel{position:fixed;right:20px;bottom:92px;z-index:2147483000;width:380px;height:min(640px,calc(100vh - 112px));display:flex;flex-direction:column;background:#fff;border-radius:var(--r);box-shadow:0 12px 40px rgba(0,0,0,.22),0 0 0 1px rgba(0,0,0,.06);overflow:hidden;animation:in .18s ease-out}
@keyframes in{from{opacity:0;transform:translateY(12px)}}
header{display:flex;align-items:center;gap:12px;padding:14px 14px 14px 16px;background:var(--a);color:var(--at)}
.avatar{flex:none;width:38px;height:38px;border-radius:50%;background:rgba(255,255,255,.2);display:grid;place-items:center;font-weight:700;font-size:17px}
.titles{flex:1;min-width:0}h2{margin:0;font-size:16px;font-weight:650;line-height:1.25}.sub{margin:2px 0 0;font-size:13px}
.sub.off::before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;background:#fbbf24;margin-right:6px}
.close{flex:none;width:36px;height:36px;border:0;border-radius:50%;background:none;font-size:26px;line-height:1}.close:hover{background:rgba(255,255,255,.16)}
.banner{display:flex;align-items:center;gap:10px;padding:10px 14px;background:#fef3f2;color:#912018;border-bottom:1px solid #fecdca;font-size:14px}.banner span{flex:1}
.banner button,.fail button{border:1px solid currentColor;background:#fff;color:var(--err);border-radius:8px;padding:3px 10px;font-size:13px;font-weight:600}
.scroll{flex:1;overflow-y:auto;padding:16px 14px 8px;overscroll-behavior:contain}
.log{display:flex;flex-direction:column;gap:4px}
.row{display:flex;flex-direction:column;align-items:flex-start;max-width:100%}.row.customer{align-items:flex-end}
.who{font-size:12px;color:var(--mut);margin:10px 4px 3px;font-weight:600}.agent .who{color:var(--agent-fg)}
.b{max-width:86%;padding:9px 13px;border-radius:18px 18px 18px 6px;background:var(--bot);overflow-wrap:anywhere}
.customer .b{background:var(--a);color:var(--at);border-radius:18px 18px 6px 18px;white-space:pre-wrap}
.agent .b{background:var(--agent);box-shadow:inset 3px 0 0 var(--agent-fg)}
.b p{margin:0}.b p+*,.b ul+p,.b ol+p{margin-top:8px}.b ul,.b ol{margin:6px 0 0;padding-left:20px}.b li+li{margin-top:3px}
.b a{color:var(--link);text-underline-offset:2px}
.b code{font:13px ui-monospace,Menlo,Consolas,monospace;background:rgba(0,0,0,.06);padding:1px 4px;border-radius:4px}
.b img{display:block;max-width:100%;border-radius:10px;margin:6px 0 2px}
.links{list-style:none;padding:0!important;font-size:14px}
.src{margin-top:8px;padding-top:6px;border-top:1px solid rgba(0,0,0,.08);font-size:13px;color:var(--mut)}
.btns{display:flex;flex-direction:column;gap:6px;margin-top:8px}
.btn{display:block;text-align:center;padding:7px 12px;border-radius:10px;border:1px solid var(--a);background:#fff;color:var(--a);font-size:14px;font-weight:600;text-decoration:none}
.btn:hover,.qr button:hover{background:var(--a);color:var(--at)}
.cards{display:flex;gap:10px;overflow-x:auto;max-width:100%;padding:6px 2px 8px;margin:0;list-style:none;scroll-snap-type:x mandatory}
.card{flex:none;width:210px;scroll-snap-align:start;border:1px solid #d8dde3;border-radius:12px;overflow:hidden;background:#fff;display:flex;flex-direction:column}
.card img{width:100%;height:110px;object-fit:cover;background:#e6e9ee}
.cb{padding:9px 11px 11px;display:flex;flex-direction:column;gap:3px;flex:1}.cb strong{font-size:14px}.cb strong a{color:inherit}
.cb small{font-size:13px;color:var(--mut)}.cb .btns{margin-top:auto;padding-top:6px}
.qr{display:flex;flex-wrap:wrap;justify-content:flex-end;gap:6px;margin:8px 0 4px;align-self:stretch}
.qr button,.qr a{border:1.5px solid var(--a);background:#fff;color:var(--a);border-radius:18px;padding:6px 13px;font-size:14px;font-weight:600;text-decoration:none}
.pending .b{opacity:.75}
.fail{display:flex;align-items:center;gap:8px;font-size:12px;color:var(--err);margin:4px 4px 0}
.note{align-self:center;text-align:center;font-size:13px;color:var(--mut);margin:8px 0}
.typing{display:flex;align-items:center;gap:8px;padding:4px 2px;font-size:12px;color:var(--mut)}
.dots{display:inline-flex;gap:4px;padding:11px 14px;background:var(--bot);border-radius:18px 18px 18px 6px}
.dots i{width:7px;height:7px;border-radius:50%;background:#6b7280;animation:dot 1.2s infinite ease-in-out}
.dots i:nth-child(2){animation-delay:.15s}.dots i:nth-child(3){animation-delay:.3s}
@keyframes dot{30%{transform:translateY(-4px);opacity:1}0%,60%,100%{opacity:.45}}
form{display:flex;align-items:flex-end;gap:8px;padding:10px 12px;border-top:1px solid #e3e6ea}
textarea{flex:1;resize:none;border:1px solid #c9ced6;border-radius:20px;padding:9px 14px;min-height:40px;max-height:120px;background:#fff;line-height:1.35}
textarea:focus{border-color:var(--a)}textarea::placeholder{color:#6b7280}
.send{flex:none;width:40px;height:40px;border:0;border-radius:50%;background:var(--a);color:var(--at);display:grid;place-items:center}.send svg{width:20px;height:20px}
.foot{text-align:center;font-size:11px;color:var(--mut);padding:0 0 8px}
.inline .panel{position:relative;inset:auto;width:100%;height:100%;min-height:420px;z-index:auto;animation:none}
.inline .launcher,.inline .close{display:none}
@media (max-width:520px){.root:not(.inline) .panel{inset:0;width:auto;height:auto;border-radius:0}.open:not(.inline) .launcher{display:none}}
@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}
@media (forced-colors:active){.b,.btn,.qr button,.card{border:1px solid CanvasText}}`;

// The shell's static markup (never any message content).
const SHELL = `<div class="root"><button class="launcher" type="button" aria-expanded="false" aria-controls="bp" aria-haspopup="dialog">
<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20.5l1.4-4.9A8 8 0 1 1 21 12z"/></svg>
<svg class="x" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" aria-hidden="true"><path d="m6 9 6 6 6-6"/></svg><span class="badge" hidden></span></button>
<section class="panel" id="bp" role="dialog" aria-modal="false" aria-labelledby="bt" hidden>
<header><div class="avatar" aria-hidden="true"></div><div class="titles"><h2 id="bt"></h2><p class="sub"></p></div><button class="close" type="button" aria-label="Close chat">×</button></header>
<div class="banner" role="alert" hidden><span></span><button type="button">Try again</button></div>
<div class="scroll"><div class="log" role="log" aria-live="polite" aria-relevant="additions" tabindex="0"></div>
<div class="typing" hidden><span class="dots" aria-hidden="true"><i></i><i></i><i></i></span><span class="tt"></span></div></div>
<form novalidate><label class="sr" for="bi">Message</label><textarea id="bi" rows="1" maxlength="4000" autocomplete="off" enterkeyhint="send"></textarea>
<button class="send" type="submit" aria-label="Send message"><svg viewBox="0 0 24 24" fill="currentColor" aria-hidden="true"><path d="M3.4 20.4 21 12 3.4 3.6v6.6L15 12 3.4 13.8z"/></svg></button></form>
<div class="foot">Powered by Baton</div></section></div>`;

// ---------------------------------------------------------------- the widget
class Widget {
  constructor(cfg) {
    Object.assign(this, { cfg, api: cfg.api, key: 'baton:v1:' + cfg.api + ':' + cfg.bot, ls: storage('localStorage'), ss: storage('sessionStorage') });
    Object.assign(this, { seen: new Set(), lastSeq: 0, echoes: [], queue: [], unread: 0, wsTries: 0, timers: new Set(), stick: true });
    this.build();
    this.conv = this.load();
    if (this.conv) this.resume();
    const remembered = this.ss && this.ss.getItem(this.key + ':open');
    if (cfg.inline || (remembered ? remembered === '1' : cfg.open)) this.open(false);
    this.onOnline = () => this.retryNow();
    this.onVisible = () => D.visibilityState === 'visible' && this.polling && this.poll();
    W.addEventListener('online', this.onOnline);
    D.addEventListener('visibilitychange', this.onVisible);
  }

  build() {
    const cfg = this.cfg, host = (this.host = h('div', { 'data-baton-widget': '' }));
    // Shielded from the host page's CSS: a shadow root, and the host element's inherited styles reset.
    host.style.cssText = 'all:initial;display:block' + (cfg.inline ? ';height:100%' : '');
    const shadow = host.attachShadow({ mode: 'open' }), tpl = D.createElement('template');
    tpl.innerHTML = SHELL;
    // A constructed stylesheet needs no 'unsafe-inline' in the host page's Content-Security-Policy.
    try { const sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); shadow.adoptedStyleSheets = [sheet]; } catch (_) { shadow.append(h('style', null, CSS)); }
    shadow.append(tpl.content);
    const $ = (s) => shadow.querySelector(s);
    Object.assign(this, { root: $('.root'), launcher: $('.launcher'), badge: $('.badge'), panel: $('.panel'), banner: $('.banner'), log: $('.log'), scroller: $('.scroll'), typing: $('.typing'), input: $('textarea'), sub: $('.sub') });
    if (cfg.color) {
      host.style.setProperty('--baton-accent', cfg.color);
      const m = /^#([0-9a-f]{6})$/i.exec(cfg.color), n = m && parseInt(m[1], 16);
      if (m) host.style.setProperty('--baton-accent-text', 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255) > 158 ? '#111' : '#fff');
    }
    this.root.classList.toggle('left', cfg.position === 'left');
    this.root.classList.toggle('inline', cfg.inline);
    $('#bt').textContent = cfg.title;
    $('.avatar').textContent = (cfg.title.trim()[0] || 'S').toUpperCase();
    this.sub.textContent = cfg.subtitle;
    this.log.setAttribute('aria-label', 'Conversation with ' + cfg.title);
    this.input.placeholder = cfg.placeholder;
    this.label();
    this.launcher.onclick = () => (this.isOpen ? this.close() : this.open());
    $('.close').onclick = () => this.close();
    this.banner.querySelector('button').onclick = () => this.retryNow();
    this.panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !cfg.inline) { e.preventDefault(); this.close(); }
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.submit(); }
    });
    this.input.addEventListener('input', () => {
      const t = this.input;
      t.style.height = 'auto';
      t.style.height = Math.min(t.scrollHeight + 2, 120) + 'px';
      this.typed();
    });
    $('form').onsubmit = (e) => { e.preventDefault(); this.submit(); };
    // Follow new messages while the reader is at the bottom; leave them be when they scrolled up to read.
    this.scroller.addEventListener('scroll', () => {
      const s = this.scroller;
      this.stick = s.scrollHeight - s.scrollTop - s.clientHeight < 80;
    }, { passive: true });
    this.log.addEventListener('load', () => this.toBottom(), true);
    const target = cfg.inline && (typeof cfg.target === 'string' ? D.querySelector(cfg.target) : cfg.target);
    (target || D.body).append(host);
  }

  label() {
    const n = this.unread;
    this.launcher.setAttribute('aria-label', (this.isOpen ? 'Close' : 'Open') + ' chat with ' + this.cfg.title + (n ? ` (${n} new message${n > 1 ? 's' : ''})` : ''));
    this.badge.textContent = n > 9 ? '9+' : String(n);
    this.badge.hidden = !n;
  }

  open(focus = true) {
    if (this.isOpen) return;
    this.isOpen = true;
    this.panel.hidden = false;
    this.root.classList.add('open');
    this.launcher.setAttribute('aria-expanded', 'true');
    this.unread = 0;
    this.label();
    if (this.ss && !this.cfg.inline) this.ss.setItem(this.key + ':open', '1');
    this.toBottom(true);
    if (focus) this.input.focus({ preventScroll: true });
    if (!this.conv) this.ensureConversation().catch(() => {});
    else if (this.polling) this.poll();
  }

  close() {
    if (!this.isOpen || this.cfg.inline) return;
    this.isOpen = false;
    this.panel.hidden = true;
    this.root.classList.remove('open');
    this.launcher.setAttribute('aria-expanded', 'false');
    this.label();
    if (this.ss) this.ss.setItem(this.key + ':open', '0');
    this.launcher.focus();
  }

  toBottom(force) {
    if (force || this.stick) { this.scroller.scrollTop = this.scroller.scrollHeight; this.stick = true; }
  }
  showError(text, e) {
    this.banner.firstChild.textContent = text;
    this.banner.hidden = false;
    if (e && W.console) console.warn('[Baton]', e.code, e.message);
  }
  clearError() { this.banner.hidden = true; }
  status(online) {
    this.sub.textContent = online ? this.cfg.subtitle : 'Reconnecting… new messages will arrive when we’re back';
    this.sub.classList.toggle('off', !online);
  }
  later(fn, ms) {
    const t = setTimeout(() => { this.timers.delete(t); fn(); }, ms);
    this.timers.add(t);
    return t;
  }

  // ------------------------------------------------------------ rendering
  render(m) {
    const from = m.from === 'customer' || m.from === 'agent' ? m.from : 'bot', base = this.api + '/';
    const name = from === 'customer' ? 'You' : from === 'agent' ? decode((m.agent && m.agent.name) || m.agentName || 'Support agent') : this.cfg.title;
    const row = h('div', { class: 'row ' + from });
    if (from !== 'customer' && this.lastWho !== from + name) row.append(h('div', { class: 'who', 'aria-hidden': 'true' }, from === 'agent' ? name + ' · Support team' : name));
    this.lastWho = from + name;
    const b = h('div', { class: 'b' }, h('span', { class: 'sr' }, name + (from === 'agent' ? ' (agent): ' : ': ')));
    const t = m.createdAt && new Date(m.createdAt);
    if (t && !isNaN(t)) b.title = t.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
    const n = b.childNodes.length;
    if (typeof m.text === 'string' && m.text) from === 'customer' ? b.append(m.text) : markdown(m.text, b, base);
    const img = m.image && safeUrl(m.image.url, base);
    if (img) {
      const alt = decode(m.image.alt || ''), el = h('img', { src: img, alt, loading: 'lazy' });
      el.onerror = () => el.replaceWith(alt ? h('p', null, '[' + alt + ']') : '');
      b.append(el);
    }
    const cite = m.citation && typeof m.citation === 'object' && m.citation.title ? m.citation : null, citeUrl = cite && safeUrl(cite.url, base);
    const links = (Array.isArray(m.links) ? m.links : []).map((l) => l && [safeUrl(l.url, base, true), l.title]).filter((l) => l && l[0] && l[0] !== citeUrl);
    if (links.length) b.append(h('ul', { class: 'links' }, links.map(([u, title]) => h('li', null, link(u, decode(title || u) + ' ↗')))));
    if (Array.isArray(m.buttons) && m.buttons.length) b.append(this.buttons(m.buttons, base));
    if (cite) b.append(h('div', { class: 'src' }, 'Source: ', citeUrl ? link(citeUrl, decode(cite.title)) : decode(cite.title)));
    const body = b.childNodes.length > n;
    if (body) row.append(b);
    if (Array.isArray(m.cards) && m.cards.length) {
      const list = h('ul', { class: 'cards', 'aria-label': 'Options' }, body ? null : h('li', { class: 'sr' }, name + ':'));
      for (const c of m.cards) {
        if (!c || !c.title) continue;
        const src = safeUrl(c.image, base), url = safeUrl(c.url, base), title = decode(c.title);
        const im = src && h('img', { src, alt: '', loading: 'lazy' });
        if (im) im.onerror = () => im.remove();
        list.append(h('li', { class: 'card' }, im, h('div', { class: 'cb' }, h('strong', null, url ? link(url, title) : title),
          c.subtitle && h('small', null, decode(c.subtitle)), Array.isArray(c.buttons) && c.buttons.length && this.buttons(c.buttons, base))));
      }
      row.append(list);
    }
    if (Array.isArray(m.quickReplies) && m.quickReplies.length) {
      row.append(h('div', { class: 'qr', role: 'group', 'aria-label': 'Suggested replies' }, m.quickReplies.filter((q) => q && q.title).map((q) => {
        const url = safeUrl(q.url, base);
        return url ? link(url, decode(q.title)) : h('button', { type: 'button', onclick: () => this.choose(q) }, decode(q.title));
      })));
    }
    return row;
  }

  buttons(list, base) {
    return h('div', { class: 'btns' }, list.filter((b) => b && b.title).map((b) => {
      const url = safeUrl(b.url, base, true), title = decode(b.title);
      if (b.url) return url ? link(url, title, 'btn') : h('span', { class: 'btn' }, title); // an unsafe link stays inert text
      return h('button', { type: 'button', class: 'btn', onclick: () => this.choose(b) }, title);
    }));
  }

  append(el) {
    this.log.append(el);
    this.toBottom(el.classList.contains('customer'));
  }
  clearQuickReplies() { for (const q of this.log.querySelectorAll('.qr')) q.remove(); }

  /** Shows a server message (POST response, history, poll or socket) exactly once. */
  add(m, quiet) {
    if (!m || typeof m !== 'object') return;
    if (typeof m.seq === 'number' && m.seq > this.lastSeq) this.lastSeq = m.seq;
    const id = m.id != null ? 'i' + m.id : m.seq != null ? 's' + m.seq : null;
    if (id && this.seen.has(id)) return;
    if (id) this.seen.add(id);
    if (m.from === 'customer') {
      // Our own message coming back: matched by clientMessageId (from servers that do not echo it: by text).
      const e = this.echoes.find((x) => (m.clientMessageId ? x.cmid === m.clientMessageId : !x.confirmed && x.text === (m.text || '')));
      if (e) return void (e.confirmed = true);
      this.clearQuickReplies();
    } else this.hideTyping();
    this.append(this.render(m));
    if (m.from !== 'customer' && !quiet && !this.isOpen) { this.unread++; this.label(); }
  }

  /** The customer is typing: tell the server (the agent sees "typing…"), at most once per 2 s, only on a live stream, never for an empty box. */
  typed() {
    const ws = this.ws, now = Date.now();
    if (!ws || !this.live || ws.readyState !== 1 || !this.input.value.trim() || now - (this.typingSentAt || 0) < 2000) return;
    this.typingSentAt = now;
    try { ws.send('{"type":"typing"}'); } catch (_) {}
  }

  showTyping(from, name) {
    this.typing.lastChild.textContent = (from === 'agent' ? decode(name || '') || 'An agent' : this.cfg.title) + ' is typing…';
    this.typing.hidden = false;
    this.toBottom();
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.hideTyping(), 5500);
  }
  hideTyping() { clearTimeout(this.typingTimer); this.typing.hidden = true; }

  // ------------------------------------------------------------ the conversation
  load() {
    try {
      const v = JSON.parse((this.ls && this.ls.getItem(this.key)) || 'null'), id = this.cfg.identity;
      if (v && v.conversationId && v.customerToken && (v.userId || null) === (id ? id.userId : null)) return v;
    } catch (_) {}
    return null;
  }

  ensureConversation() {
    if (this.conv) return Promise.resolve(this.conv);
    if (this.creating) return this.creating;
    const id = this.cfg.identity, body = {};
    if (this.cfg.bot) body.botId = this.cfg.bot;
    if (id) body.identity = id;
    if (this.cfg.language) body.language = this.cfg.language;
    const use = (conversationId, customerToken, messages) => {
      if (this.dead) throw new ApiError(0, 'destroyed', 'closed');
      this.conv = { conversationId, customerToken, userId: id ? id.userId : null };
      if (this.ls) this.ls.setItem(this.key, JSON.stringify(this.conv));
      this.clearError();
      for (const m of messages || []) this.add(m, true);
      return this.conv;
    };
    return (this.creating = (async () => {
      if (id) {
        // A verified customer on a new device continues their latest conversation.
        try {
          const t = await request(this.api, 'POST', '/api/v1/customers/token', { body: { identity: id } });
          const l = await request(this.api, 'GET', '/api/v1/customers/me/conversations?limit=1', { token: t.customerToken });
          const last = l.conversations && l.conversations[0];
          if (last && last.conversationId) {
            use(last.conversationId, t.customerToken);
            await this.catchUp(true);
            return this.conv;
          }
        } catch (_) {
          if (this.conv) return this.conv;
        }
      }
      const r = await request(this.api, 'POST', '/api/v1/conversations', { body });
      return use(r.conversationId, r.customerToken, r.messages);
    })().then((c) => { this.connect(); return c; }, (e) => {
      this.showError(e.status ? 'We couldn’t start the conversation: ' + e.message : e.message + ' Please check your connection.', e);
      throw e;
    }).finally(() => (this.creating = null)));
  }

  /** A stored conversation: read its whole history, then go live. */
  async resume() {
    try {
      await this.catchUp(true);
      this.clearError();
      this.connect();
    } catch (e) {
      if (gone(e)) return this.reset();
      this.showError('We couldn’t load your conversation. ' + e.message, e);
      this.needResume = true;
    }
  }

  async catchUp(quiet) {
    const c = this.conv;
    for (let i = 0; c && i < 50; i++) {
      const r = await request(this.api, 'GET', `/api/v1/conversations/${encodeURIComponent(c.conversationId)}/messages?after=${this.lastSeq}&limit=200`, { token: c.customerToken });
      if (c !== this.conv) return;
      const list = r.messages || [];
      for (const m of list) this.add(m, quiet);
      if (typeof r.nextAfter === 'number' && r.nextAfter > this.lastSeq) this.lastSeq = r.nextAfter;
      if (r.hasMore === false || list.length < 200) return;
    }
  }

  /** The stored conversation cannot be used any more (unknown, or its token is refused): start afresh. */
  reset() {
    this.disconnect();
    if (this.ls) this.ls.removeItem(this.key);
    Object.assign(this, { conv: null, lastSeq: 0, lastWho: null, echoes: this.echoes.filter((e) => this.queue.includes(e)) });
    this.seen.clear();
    this.log.replaceChildren(h('div', { class: 'note', role: 'note' }, 'Your earlier conversation is no longer available, so we’ve started a new one.'), ...this.echoes.map((e) => e.el));
    this.clearError();
    if (this.isOpen || this.queue.length) this.ensureConversation().then(() => this.pump(), () => {});
  }

  // ------------------------------------------------------------ live updates: WebSocket, else polling
  connect() {
    if (!this.conv || this.dead || this.ws) return;
    const c = this.conv, url = new URL(this.api + `/api/v1/conversations/${encodeURIComponent(c.conversationId)}/stream`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.search = new URLSearchParams({ token: c.customerToken, after: String(this.lastSeq) });
    let ws;
    this.live = false;
    try { ws = this.ws = new WebSocket(url.href); } catch (_) { return this.startPolling(); }
    ws.onmessage = (ev) => {
      let f;
      try { f = JSON.parse(ev.data); } catch (_) { return; }
      if (!f || ws !== this.ws) return;
      if (f.type === 'message') this.add(f.message);
      else if (f.type === 'typing') this.showTyping(f.from, f.name);
      else if (f.type === 'ready') {
        this.live = true;
        this.wsTries = 0;
        this.stopPolling();
        this.status(true);
        if (f.lastSeq > this.lastSeq) this.catchUp().catch(() => {});
      }
    };
    ws.onopen = () => (this.pinger = setInterval(() => ws.readyState === 1 && ws.send('{"type":"ping"}'), 25000));
    ws.onclose = (ev) => {
      clearInterval(this.pinger);
      if (ws !== this.ws || this.dead) return;
      this.ws = null;
      this.live = false;
      if (ev.code === 4401 || ev.code === 4404) return this.reset();
      // Reconnect with exponential backoff (1 s … 30 s, jittered) and after=lastSeq; poll over REST meanwhile.
      this.startPolling();
      this.wsTimer = this.later(() => this.connect(), Math.min(30000, 1000 * 2 ** this.wsTries++) * (0.75 + Math.random() / 2));
    };
  }

  disconnect() {
    this.stopPolling();
    clearTimeout(this.wsTimer);
    clearInterval(this.pinger);
    const ws = this.ws;
    this.ws = null;
    this.live = false;
    if (ws) ws.close(1000);
  }

  startPolling() {
    if (this.polling || this.dead) return;
    this.polling = true;
    this.pollLater();
  }
  stopPolling() { this.polling = false; clearTimeout(this.pollTimer); }
  pollLater() {
    clearTimeout(this.pollTimer);
    if (this.polling) this.pollTimer = this.later(() => this.poll(), this.isOpen ? 3000 : 15000);
  }
  async poll() {
    if (!this.polling || !this.conv) return;
    clearTimeout(this.pollTimer);
    if (D.visibilityState !== 'hidden') {
      try {
        await this.catchUp();
        this.status(true);
      } catch (e) {
        if (gone(e)) return this.reset();
        this.status(false);
      }
    }
    this.pollLater();
  }

  retryNow() {
    this.clearError();
    this.paused = false;
    for (const e of this.queue) e.tries = 0;
    if (this.needResume && this.conv) { this.needResume = false; this.resume(); }
    else if (this.conv && !this.ws) { clearTimeout(this.wsTimer); this.wsTries = 0; this.connect(); }
    if (!this.conv && (this.isOpen || this.queue.length)) this.ensureConversation().catch(() => {});
    this.pump();
  }

  // ------------------------------------------------------------ sending
  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    this.input.value = '';
    this.input.style.height = '';
    this.send(text);
  }

  choose(btn) {
    this.send(decode(btn.title), btn.payload);
    this.input.focus({ preventScroll: true });
  }

  send(text, payload) {
    text = String(text || '').trim().slice(0, 4000);
    if (!text && !payload) return;
    const e = { text, payload: payload || undefined, cmid: uuid(), tries: 0 };
    this.lastWho = 'customer';
    e.el = this.render({ from: 'customer', text });
    e.el.dataset.clientMessageId = e.cmid;
    this.echoes.push(e);
    this.clearQuickReplies();
    this.append(e.el);
    this.queue.push(e);
    this.pump();
  }

  mark(e, state, why) {
    e.el.classList.toggle('pending', state === 'sending');
    const old = e.el.querySelector('.fail');
    if (old) old.remove();
    if (state === 'failed') e.el.append(h('div', { class: 'fail', role: 'alert' }, 'Not sent. ' + why + ' ', h('button', { type: 'button', onclick: () => this.retryNow() }, 'Retry')));
    if (state === 'rejected') e.el.append(h('div', { class: 'fail', role: 'alert' }, 'Not sent: ' + why));
  }

  /** Sends queued messages one at a time, in order; a failed send is retried with the same clientMessageId. */
  async pump() {
    if (this.sending || this.paused || !this.queue.length || this.dead) return;
    this.sending = true;
    const e = this.queue[0], typing = setTimeout(() => this.showTyping('bot'), 350);
    let again = 0;
    this.mark(e, 'sending');
    try {
      const c = await this.ensureConversation();
      const r = await request(this.api, 'POST', `/api/v1/conversations/${encodeURIComponent(c.conversationId)}/messages`, { token: c.customerToken, body: { text: e.text || undefined, payload: e.payload, clientMessageId: e.cmid } });
      if (this.queue[0] === e) this.queue.shift();
      this.mark(e, 'sent');
      this.clearError();
      for (const m of r.messages || []) this.add(m);
      if (!this.ws && !this.polling) this.connect();
    } catch (err) {
      if (this.dead) return;
      if (gone(err) && this.conv && !e.reset) {
        e.reset = true;
        this.sending = false;
        return this.reset();
      }
      if (retryable(err) && e.tries < 2) again = 700 * 2 ** e.tries++; // then 1.4 s, then give up and offer Retry
      else if (retryable(err)) { this.paused = true; this.mark(e, 'failed', err.message); }
      else {
        if (this.queue[0] === e) this.queue.shift();
        this.mark(e, 'rejected', err.message);
      }
    } finally {
      clearTimeout(typing);
      this.hideTyping();
    }
    this.sending = false;
    if (again) this.later(() => this.pump(), again);
    else this.pump();
  }

  destroy() {
    this.dead = true;
    this.disconnect();
    for (const t of this.timers) clearTimeout(t);
    W.removeEventListener('online', this.onOnline);
    D.removeEventListener('visibilitychange', this.onVisible);
    this.host.remove();
  }
}

// ---------------------------------------------------------------- configuration and the public API
function config(opts) {
  const d = (SCRIPT && SCRIPT.dataset) || {}, s = Object.assign({}, W.BatonSettings, opts);
  const pick = (k, dflt) => (s[k] !== undefined ? s[k] : d[k] !== undefined ? d[k] : dflt);
  let api = pick('api');
  if (!api) try { api = new URL(SCRIPT.src, location.href).origin; } catch (_) { api = location.origin; }
  const target = pick('target'), id = s.identity;
  return {
    api: String(api).replace(/\/+$/, ''),
    bot: pick('bot', ''),
    title: String(pick('title', 'Support')),
    subtitle: String(pick('subtitle', 'We usually reply in a few minutes')),
    placeholder: String(pick('placeholder', 'Type your message…')),
    color: pick('color', ''),
    position: pick('position', 'right'),
    open: truthy(pick('open')),
    target,
    inline: !!(target && (typeof target !== 'string' || D.querySelector(target))),
    identity: id && id.userId ? { userId: String(id.userId), signature: id.signature, name: id.name, email: id.email } : null,
    // The customer's language for a bot with several languages: `language` setting, else the browser's.
    language: String(pick('language', (W.navigator && W.navigator.language) || '')).slice(0, 35),
  };
}

let widget = null, opts0;
const api = {
  version: '1.0.0',
  /** (Re)starts the widget; e.g. `Baton.init({ identity })` after the customer signs in. */
  init(opts) {
    opts0 = opts;
    const start = () => { if (widget) widget.destroy(); widget = new Widget(config(opts)); };
    D.body ? start() : D.addEventListener('DOMContentLoaded', start, { once: true });
    return api;
  },
  open: () => widget && widget.open(),
  close: () => widget && widget.close(),
  toggle: () => widget && (widget.isOpen ? widget.close() : widget.open()),
  send: (text) => widget && widget.send(text),
  destroy() { if (widget) widget.destroy(); widget = null; },
  /** Forgets the stored conversation (call when the customer signs out), then restarts anonymously. */
  logout() {
    const ls = storage('localStorage');
    if (ls) for (const k of Object.keys(ls)) if (k.startsWith('baton:v1:')) ls.removeItem(k);
    return api.init(Object.assign({}, opts0, { identity: null }));
  },
  /** The safe Markdown renderer, for tests and custom UIs: returns a <div> built from DOM nodes only. */
  markdown(text) { const div = D.createElement('div'); markdown(text, div, location.href); return div; },
};
W.Baton = api;
if (!(W.BatonSettings && W.BatonSettings.manual) && !(SCRIPT && SCRIPT.hasAttribute('data-manual'))) api.init();
})();

/*! Baton agent console: the inbox, many open conversations, replies, notes and the bot's context. MIT. Docs: docs/agent-console.md */
(() => {
'use strict';
const W = window, D = document;
const SESSION_KEY = 'baton:agent:v1';
const BASE = '/api/v1/agent';
const TITLE = (D.body && D.body.dataset.title) || 'Baton';
const MAX_VIEWS = 60; // conversations kept rendered in memory (switching between them is instant)

// ---------------------------------------------------------------- safe text
/*@include safe-text.js*/
/** safeUrl for this page: relative URLs resolve against it. */
const pageUrl = (u, mailto) => safeUrl(u, location.href, mailto);

/** Builds an element; string children become text nodes; `on…` attributes become listeners. */
const h = (tag, attrs, ...kids) => {
  const el = D.createElement(tag);
  for (const k in attrs || {}) {
    const v = attrs[k];
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'style') el.style.cssText = v; // through the CSSOM: allowed by the page's CSP (no inline style attributes)
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of kids.flat(Infinity)) if (c != null && c !== false) el.append(c);
  return el;
};
/** Replaces an element's children, skipping null/false (replaceChildren would print them). */
const fill = (el, ...kids) => { el.replaceChildren(...kids.flat(Infinity).filter((c) => c != null && c !== false)); return el; };
const link = (href, kids) => h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, kids);

/** One line of plain text for previews: entities decoded, Markdown marks dropped. */
const plain = (s) => decode(s).replace(/\[([^\]\n]+)\]\([^)\s]+\)/g, '$1').replace(/\*\*(\S(?:[^\n]*?\S)?)\*\*/g, '$1')
  .replace(/\*([^\s*](?:[^*\n]*?[^\s*])?)\*/g, '$1').replace(/`([^`\n]+)`/g, '$1').replace(/^\s*([-*+•]|\d{1,9}[.)])\s+/gm, '').replace(/\s+/g, ' ').trim();

// ---------------------------------------------------------------- small utilities
const $ = (sel, el) => (el || D).querySelector(sel);
const $$ = (sel, el) => Array.from((el || D).querySelectorAll(sel));
const uuid = () => (W.crypto && crypto.randomUUID ? crypto.randomUUID()
  : 'c' + Date.now().toString(36) + Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join(''));
let idCounter = 0;
const domId = (p) => p + '-' + (++idCounter);
const time = (d) => { const t = new Date(d); return isNaN(t) ? null : t; };
const fmtTime = (t) => t.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
const fmtFull = (t) => t.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
const fmtDay = (t) => {
  const today = new Date(), y = new Date(Date.now() - 864e5);
  if (t.toDateString() === today.toDateString()) return 'Today';
  if (t.toDateString() === y.toDateString()) return 'Yesterday';
  return t.toLocaleDateString([], { weekday: 'short', day: 'numeric', month: 'short', year: t.getFullYear() === today.getFullYear() ? undefined : 'numeric' });
};
/** "12s", "4m", "1h 05m", "3d": short, ticking durations for the inbox. */
function dur(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return s + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm';
  const hr = Math.floor(m / 60);
  if (hr < 24) return hr + 'h ' + String(m % 60).padStart(2, '0') + 'm';
  return Math.floor(hr / 24) + 'd';
}
function durWords(ms) {
  const s = Math.max(0, Math.floor(ms / 1000)), m = Math.floor(s / 60), hr = Math.floor(m / 60);
  if (s < 60) return s + (s === 1 ? ' second' : ' seconds');
  if (m < 60) return m + (m === 1 ? ' minute' : ' minutes');
  if (hr < 24) return hr + (hr === 1 ? ' hour' : ' hours') + (m % 60 ? ' ' + (m % 60) + ' min' : '');
  const d = Math.floor(hr / 24);
  return d + (d === 1 ? ' day' : ' days');
}
const PALETTE = ['#5b6fd6', '#2f8f83', '#b0643a', '#8a5bd6', '#c2417a', '#3d7ea6', '#6f8a2f', '#a8553a'];
const colourOf = (s) => { let n = 0; for (const ch of String(s)) n = (n * 31 + ch.charCodeAt(0)) >>> 0; return PALETTE[n % PALETTE.length]; };
const customerName = (c) => {
  const cu = c && c.customer;
  if (cu && cu.name) return decode(cu.name);
  if (cu && cu.email) return decode(cu.email);
  return 'Visitor ' + String((cu && cu.id) || (c && c.id) || '').replace(/[^a-z0-9]/gi, '').slice(0, 6);
};
const initial = (name) => (String(name).trim()[0] || '?').toUpperCase();
const REASONS = {
  customer_request: 'Asked for a person', repeated_fallback: 'Bot did not understand', low_confidence: 'Bot was not sure',
  negative_sentiment: 'Unhappy customer', answer_not_helpful: 'Answer not helpful', max_attempts: 'Stuck in a flow',
  order_lookup_failed: 'Order lookup failed', address_unverified: 'Address not verified', warranty_claim: 'Warranty claim',
  action_error: 'Bot action failed', transfer: 'Transferred', transferred: 'Transferred', flow: 'Flow handoff',
};
const reasonLabel = (r) => {
  if (!r) return '';
  const k = String(r);
  return REASONS[k] || (k.charAt(0).toUpperCase() + k.slice(1)).replace(/[_-]+/g, ' ');
};
/** Priority: 0–10, higher is served first (0 = normal, not shown). Words (urgent/high/low) are accepted too. */
function prio(p) {
  if (typeof p === 'string' && isNaN(Number(p))) {
    const k = p.toLowerCase(), rank = { urgent: 8, high: 4, normal: 0, low: -1 }[k];
    return { key: rank === undefined ? 'normal' : k, label: p, long: p + ' priority', rank: rank === undefined ? 0 : rank };
  }
  const n = Number(p);
  if (p == null || p === '' || !isFinite(n) || n <= 0) return { key: 'normal', label: 'normal', long: 'Normal priority', rank: isFinite(n) ? n : 0 };
  return { key: n >= 5 ? 'urgent' : 'high', label: 'P' + n, long: 'Priority ' + n, rank: n };
}
const STATUS = { waiting: 'Waiting', assigned: 'Assigned', resolved: 'Resolved', bot: 'With the bot', active: 'With the bot', handed_off: 'With a person' };
const WHO = { customer: 'Customer', bot: 'Bot', agent: 'Agent', note: 'Internal note', system: 'System' };

// ---------------------------------------------------------------- HTTP
class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}
async function request(method, path, body, token) {
  const ctl = new AbortController(), timer = setTimeout(() => ctl.abort(), 20000);
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = 'Bearer ' + token;
  let res, data = null;
  try {
    res = await fetch(path, { method, headers, body: body !== undefined ? JSON.stringify(body) : undefined, signal: ctl.signal, credentials: 'omit', cache: 'no-store' });
  } catch (_) {
    throw new ApiError(0, 'network', navigator.onLine === false ? 'You seem to be offline.' : 'The server cannot be reached.');
  } finally { clearTimeout(timer); }
  try { data = await res.json(); } catch (_) {}
  const err = data && data.error;
  if (!res.ok) throw new ApiError(res.status, (err && err.code) || 'http_' + res.status, (err && err.message) || 'The server answered ' + res.status + '.');
  return data || {};
}

// ---------------------------------------------------------------- state
const S = {
  token: null, agent: null,
  convs: new Map(),   // id → inbox item (the server's list item; `unread` kept current locally)
  rows: new Map(),    // id → its <li> in the inbox
  tab: 'waiting', filter: '',
  activeId: null,
  views: new Map(),   // id → ConvView, least recently shown first
  canned: null, agents: null,
  queues: new Set(),
  ws: null, wsTries: 0, wsTimer: null, pinger: null, live: false, pollTimer: null, ticker: null, refresher: null,
  typing: new Map(),  // id → timer
  generation: 0,      // bumps on logout: late answers of an old session are dropped
};
const EL = {};

function saveSession() { try { sessionStorage.setItem(SESSION_KEY, JSON.stringify({ token: S.token, agent: S.agent })); } catch (_) {} }
function loadSession() { try { const v = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null'); return v && v.token ? v : null; } catch (_) { return null; } }
function clearSession() { try { sessionStorage.removeItem(SESSION_KEY); } catch (_) {} }

/** An agent API call with the session's token; a refused token ends the session. */
async function call(method, path, body) {
  const gen = S.generation;
  try {
    const r = await request(method, BASE + path, body, S.token);
    if (gen !== S.generation) throw new ApiError(0, 'stale', 'signed out');
    return r;
  } catch (e) {
    if (e.status === 401 && gen === S.generation && S.token) sessionEnded('Your session has ended. Please sign in again.');
    throw e;
  }
}

const isMine = (c) => !!(c && c.status === 'assigned' && c.assignedTo && S.agent && c.assignedTo.id === S.agent.id);
const inTab = (c, tab) => (tab === 'all' ? !!c._all || c.status === 'waiting' || isMine(c) : tab === 'waiting' ? c.status === 'waiting' : isMine(c));

// ---------------------------------------------------------------- toasts and announcements
function toast(text, kind) {
  const t = h('div', { class: 'toast' + (kind === 'error' ? ' error' : ''), role: kind === 'error' ? 'alert' : null }, text);
  EL.toasts.append(t);
  while (EL.toasts.children.length > 3) EL.toasts.firstChild.remove();
  setTimeout(() => t.remove(), kind === 'error' ? 7000 : 3500);
}
const errorText = (e, what) => {
  if (e.code === 'already_assigned') return 'Someone else has just accepted this conversation.';
  if (e.code === 'over_capacity') return 'You are at your capacity. Resolve, transfer or hand back a conversation first.';
  return (what ? what + ': ' : '') + e.message;
};

// ---------------------------------------------------------------- login
function showLogin(message) {
  EL.app.hidden = true;
  EL.login.hidden = false;
  D.title = 'Sign in · Agent console · ' + TITLE;
  const err = $('.login-error', EL.login);
  err.textContent = message || '';
  err.hidden = !message;
  const email = $('#login-email');
  (email.value ? $('#login-password') : email).focus();
}

async function onLogin(ev) {
  ev.preventDefault();
  const form = ev.currentTarget, btn = $('button[type=submit]', form), err = $('.login-error', form);
  const email = $('#login-email').value.trim(), password = $('#login-password').value;
  if (!email || !password) { err.textContent = 'Enter your email and password.'; err.hidden = false; return; }
  btn.disabled = true;
  btn.textContent = 'Signing in…';
  try {
    const r = await request('POST', BASE + '/login', { email, password });
    S.token = r.token;
    S.agent = r.agent;
    saveSession();
    $('#login-password').value = '';
    err.hidden = true;
    start();
    const tab = $('[role=tab][aria-selected=true]', EL.tabs);
    if (tab) tab.focus();
  } catch (e) {
    err.textContent = e.code === 'invalid_credentials' || e.status === 401 ? 'That email and password do not match an agent account.' : 'Could not sign in: ' + e.message;
    err.hidden = false;
    $('#login-password').select();
  } finally {
    btn.disabled = false;
    btn.textContent = 'Sign in';
  }
}

function sessionEnded(message) {
  stop();
  clearSession();
  showLogin(message);
}

async function logout() {
  const token = S.token;
  stop();
  clearSession();
  // Signed out agents get no new conversations.
  if (token) request('POST', BASE + '/presence', { presence: 'offline' }, token).catch(() => {});
  showLogin();
}

// ---------------------------------------------------------------- start / stop
function start() {
  S.generation++;
  EL.login.hidden = true;
  EL.app.hidden = false;
  renderMe();
  selectTab(S.tab, false);
  loadLists();
  connect();
  clearInterval(S.ticker);
  S.ticker = setInterval(tick, 1000);
  // A safety net under the stream: the inbox is re-read every 30 s while the tab is visible.
  clearInterval(S.refresher);
  S.refresher = setInterval(() => { if (S.live && D.visibilityState === 'visible') loadLists(); }, 30000);
  call('GET', '/me').then((r) => { if (r.agent) { S.agent = r.agent; saveSession(); renderMe(); renderList(); } }).catch(() => {});
}

function stop() {
  S.generation++;
  disconnect();
  clearInterval(S.ticker);
  clearInterval(S.refresher);
  for (const t of S.typing.values()) clearTimeout(t);
  closePicker();
  Object.assign(S, { token: null, agent: null, activeId: null, canned: null, agents: null, typing: new Map(), wsTries: 0 });
  S.convs.clear();
  S.rows.clear();
  S.views.clear();
  S.queues.clear();
  EL.list.replaceChildren();
  EL.main.replaceChildren(EL.placeholder);
  EL.ctx.replaceChildren(EL.ctxPlaceholder);
  updateCounts();
}

function renderMe() {
  const a = S.agent || {};
  EL.me.textContent = decode(a.name || a.email || '') + (a.role && a.role !== 'agent' ? ' · ' + a.role : '');
  setPresence(a.presence || 'offline');
}
function setPresence(p) {
  EL.presence.value = p;
  EL.presence.closest('.presence').dataset.p = p;
}
async function changePresence() {
  const want = EL.presence.value, was = (S.agent && S.agent.presence) || 'online';
  setPresence(want);
  try {
    const r = await call('POST', '/presence', { presence: want });
    S.agent = r.agent || Object.assign({}, S.agent, { presence: want });
    saveSession();
    setPresence(S.agent.presence || want);
    toast(want === 'online' ? 'You are online: new conversations can be assigned to you.' : want === 'away' ? 'You are away.' : 'You are offline.');
  } catch (e) {
    setPresence(was);
    if (e.status !== 401) toast(errorText(e, 'Could not change your status'), 'error');
  }
}

// ---------------------------------------------------------------- the inbox
async function loadLists() {
  const gen = S.generation, tabs = ['waiting', 'mine'], startedAt = Date.now();
  if (S.tab === 'all') tabs.push('all');
  let results;
  try {
    results = await Promise.all(tabs.map((t) => call('GET', '/conversations?status=' + t)));
  } catch (e) {
    if (e.status !== 401 && gen === S.generation) setConn(false, 'Cannot load the inbox: ' + e.message);
    return;
  }
  if (gen !== S.generation) return;
  const seen = new Set();
  results.forEach((r, i) => {
    for (const c of (r && r.conversations) || []) {
      if (!c || !c.id) continue;
      if (tabs[i] === 'all') c._all = true;
      upsert(c);
      seen.add(c.id);
    }
  });
  // Gone from the lists, unless the stream told us about it after these lists were read.
  for (const [id, c] of Array.from(S.convs)) if (!seen.has(id) && !(c._frameAt > startedAt)) S.convs.delete(id);
  renderList();
  const v = S.activeId && S.views.get(S.activeId);
  if (v) v.maybeRead();
}

function upsert(c) {
  const old = S.convs.get(c.id);
  if (old && old._all && !c._all) c._all = true;
  S.convs.set(c.id, c);
  if (c.queue) S.queues.add(String(c.queue));
  const v = S.views.get(c.id);
  if (v) v.setConversation(c);
  return c;
}

function sortFor(tab) {
  return (a, b) => {
    if (tab === 'waiting') {
      const p = prio(b.priority).rank - prio(a.priority).rank;
      if (p) return p;
      return (time(a.waitingSince) || 0) - (time(b.waitingSince) || 0) || String(a.id).localeCompare(String(b.id));
    }
    // Mine / all: customers waiting for our answer first (longest waiting on top), then the most recently active.
    const wa = needsReply(a), wb = needsReply(b);
    if (wa !== wb) return wa ? -1 : 1;
    const ta = +(time(a.lastMessage && a.lastMessage.createdAt) || time(a.waitingSince) || 0);
    const tb = +(time(b.lastMessage && b.lastMessage.createdAt) || time(b.waitingSince) || 0);
    return (wa ? ta - tb : tb - ta) || String(a.id).localeCompare(String(b.id));
  };
}
const needsReply = (c) => !!(c.lastMessage && c.lastMessage.from === 'customer' && c.status !== 'resolved' && c.status !== 'bot');

function matchesFilter(c) {
  const f = S.filter;
  if (!f) return true;
  const cu = c.customer || {};
  return [customerName(c), cu.email, c.queue, reasonLabel(c.reason), c.reason, c.lastMessage && c.lastMessage.text, c.assignedTo && c.assignedTo.name]
    .some((s) => s && String(s).toLowerCase().includes(f));
}

function renderList() {
  updateCounts();
  const items = Array.from(S.convs.values()).filter((c) => inTab(c, S.tab) && matchesFilter(c)).sort(sortFor(S.tab));
  const focusedId = D.activeElement && D.activeElement.classList.contains('item') ? D.activeElement.dataset.id : null;
  const lis = items.map((c) => {
    let li = S.rows.get(c.id);
    if (!li) S.rows.set(c.id, (li = createRow(c.id)));
    updateRow(li, c);
    return li;
  });
  for (const id of Array.from(S.rows.keys())) if (!S.convs.has(id)) S.rows.delete(id);
  const cur = Array.from(EL.list.children);
  if (cur.length !== lis.length || cur.some((li, i) => li !== lis[i])) EL.list.replaceChildren(...lis);
  // Roving focus: one item is in the Tab order (the open one, else the first).
  const target = lis.find((li) => li.firstChild.dataset.id === S.activeId) || lis[0];
  for (const li of lis) li.firstChild.tabIndex = li === target ? 0 : -1;
  if (focusedId && D.activeElement !== (S.rows.get(focusedId) || {}).firstChild) { const r = S.rows.get(focusedId); if (r && r.isConnected) r.firstChild.focus({ preventScroll: true }); }
  EL.emptyList.hidden = lis.length > 0;
  EL.emptyList.textContent = S.filter ? 'No conversation matches the filter.' : S.tab === 'waiting' ? 'No one is waiting. New handoffs appear here as they arrive.' : S.tab === 'mine' ? 'You have no conversations. Accept one from Waiting.' : 'No conversations.';
  tick();
}

function createRow(id) {
  const btn = h('button', { type: 'button', class: 'item', 'data-id': id, tabindex: '-1' },
    h('span', { class: 'av', 'aria-hidden': 'true' }),
    h('span', { class: 'nm' }),
    h('span', { class: 'since' }),
    h('span', { class: 'meta' }),
    h('span', { class: 'pv' }),
    h('span', { class: 'badge' }));
  btn.addEventListener('click', () => openConversation(id, { focus: 'composer' }));
  return h('li', null, btn);
}

function updateRow(li, c) {
  const btn = li.firstChild, [av, nm, since, meta, pv, badge] = btn.children, name = customerName(c);
  av.textContent = initial(name);
  av.style.background = colourOf((c.customer && c.customer.id) || c.id);
  nm.textContent = name;
  since.dataset.since = c.status === 'waiting' ? c.waitingSince || '' : (c.lastMessage && c.lastMessage.createdAt) || c.waitingSince || '';
  since.dataset.mode = c.status === 'waiting' ? 'wait' : needsReply(c) ? 'reply' : 'ago';
  const p = prio(c.priority);
  fill(meta, 
    p.key !== 'normal' ? h('span', { class: 'pri ' + p.key, title: p.long + ' (0–10, higher is served first)' }, p.label) : null,
    S.tab === 'all' ? h('span', { class: 'status ' + c.status }, STATUS[c.status] || c.status) : null,
    c.queue ? h('span', { class: 'q' }, decode(c.queue)) : null,
    h('span', { class: 'rsn' }, c.status === 'assigned' && !isMine(c) && c.assignedTo ? 'With ' + decode(c.assignedTo.name) : reasonLabel(c.reason)),
  );
  const lm = c.lastMessage, typing = S.typing.has(c.id);
  const who = lm ? (lm.from === 'customer' ? '' : lm.from === 'agent' ? (isMine(c) ? 'You: ' : 'Agent: ') : lm.from === 'note' ? 'Note: ' : lm.from === 'bot' ? 'Bot: ' : '') : '';
  if (typing) pv.replaceChildren(h('span', { class: 'typing-dot' }, 'typing…'));
  else pv.textContent = lm ? who + plain(lm.text) : 'No messages yet';
  const n = c.unread | 0;
  badge.textContent = n > 99 ? '99+' : String(n);
  badge.hidden = !n;
  btn.classList.toggle('unread', n > 0);
  btn.setAttribute('aria-current', c.id === S.activeId ? 'true' : 'false');
  btn.setAttribute('aria-label', [
    name,
    c.status === 'waiting' ? 'waiting ' + durWords(Date.now() - (time(c.waitingSince) || Date.now())) : STATUS[c.status] || c.status,
    p.key !== 'normal' ? p.long : null,
    reasonLabel(c.reason), c.queue ? 'queue ' + decode(c.queue) : null,
    n ? n + ' unread' : null,
    typing ? 'typing' : lm ? 'last message: ' + who + plain(lm.text).slice(0, 120) : null,
  ].filter(Boolean).join(', '));
}

function updateCounts() {
  let waiting = 0, mine = 0, unread = 0;
  for (const c of S.convs.values()) {
    if (c.status === 'waiting') waiting++;
    if (isMine(c)) { mine++; unread += c.unread | 0; }
  }
  const set = (tab, n, u, label) => {
    const el = $(`[data-count="${tab}"]`);
    el.textContent = String(n);
    el.classList.toggle('hot', u > 0);
    $('#tab-' + tab).setAttribute('aria-label', `${label}, ${n} conversation${n === 1 ? '' : 's'}${u ? `, ${u} unread` : ''}`);
  };
  set('waiting', waiting, 0, 'Waiting');
  set('mine', mine, unread, 'Mine');
  D.title = (unread + waiting ? `(${unread + waiting}) ` : '') + 'Agent console · ' + TITLE;
}

/** Once a second: the waiting times in the inbox and the open conversation. */
function tick() {
  const now = Date.now();
  for (const el of $$('.since', EL.list)) {
    const t = time(el.dataset.since);
    if (!t) { el.textContent = ''; continue; }
    const ms = now - t;
    el.textContent = el.dataset.mode === 'ago' && ms < 45e3 ? 'now' : dur(ms);
    el.classList.toggle('late', el.dataset.mode !== 'ago' && ms > 5 * 60e3);
    el.title = (el.dataset.mode === 'wait' ? 'Waiting since ' : el.dataset.mode === 'reply' ? 'Customer waiting for a reply since ' : 'Last message ') + fmtFull(t);
  }
  const v = S.activeId && S.views.get(S.activeId);
  if (v) v.tick(now);
}

function selectTab(tab, load = true) {
  S.tab = tab;
  for (const b of $$('[role=tab]', EL.tabs)) {
    const on = b.dataset.tab === tab;
    b.setAttribute('aria-selected', String(on));
    b.tabIndex = on ? 0 : -1;
  }
  EL.inbox.setAttribute('aria-labelledby', 'tab-' + tab);
  renderList();
  if (load && tab === 'all') loadLists();
}

function visibleIds() { return $$('.item', EL.list).map((b) => b.dataset.id); }

function step(delta) {
  const ids = visibleIds();
  if (!ids.length) return;
  const i = ids.indexOf(S.activeId);
  const next = ids[i < 0 ? (delta > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, i + delta))];
  if (next && next !== S.activeId) openConversation(next, { focus: 'keep' });
}

function nextUnread() {
  const mine = Array.from(S.convs.values()).filter((c) => (c.unread | 0) > 0 && c.id !== S.activeId);
  const pick = mine.filter(isMine).sort(sortFor('mine'))[0] || mine.sort(sortFor('waiting'))[0];
  if (!pick) return toast('No unread messages.');
  if (!inTab(pick, S.tab)) selectTab(isMine(pick) ? 'mine' : pick.status === 'waiting' ? 'waiting' : 'all');
  openConversation(pick.id, { focus: 'composer' });
}

// ---------------------------------------------------------------- conversations
function openConversation(id, opts = {}) {
  const hadFocusInComposer = D.activeElement && D.activeElement.tagName === 'TEXTAREA';
  const prev = S.activeId && S.views.get(S.activeId);
  if (prev && prev.id !== id) prev.hide();
  let v = S.views.get(id);
  if (v) S.views.delete(id); // re-inserted last: most recently shown
  else v = new ConvView(id);
  S.views.set(id, v);
  while (S.views.size > MAX_VIEWS) { const [oldId] = S.views.keys(); if (oldId === id) break; S.views.delete(oldId); }
  S.activeId = id;
  closePicker();
  EL.main.replaceChildren(v.el);
  EL.ctx.replaceChildren(v.ctxEl);
  v.show();
  for (const b of $$('.item', EL.list)) {
    b.setAttribute('aria-current', b.dataset.id === id ? 'true' : 'false');
    b.tabIndex = b.dataset.id === id ? 0 : -1;
  }
  const row = S.rows.get(id);
  if (row && row.isConnected) row.scrollIntoView({ block: 'nearest' });
  const focus = opts.focus === 'keep' ? (hadFocusInComposer ? 'composer' : 'row') : opts.focus;
  if (focus === 'composer') v.focusComposer();
  else if (focus === 'row' && row && row.isConnected) row.firstChild.focus({ preventScroll: true });
}

class ConvView {
  constructor(id) {
    Object.assign(this, { id, msgs: [], seen: new Set(), pending: [], lastSeq: 0, readSeq: 0, mode: 'reply', loaded: false, stale: false, scrollTop: null, stick: true, conv: S.convs.get(id) || null, ctxData: null });
    const titleId = domId('ct');
    this.el = h('section', { class: 'conv', 'aria-labelledby': titleId });
    this.head = h('header', { class: 'conv-head' });
    this.titleEl = h('h1', { id: titleId }, customerName(this.conv || { id }));
    this.subEl = h('div', { class: 'conv-sub' });
    this.actionsEl = h('div', { class: 'actions', role: 'toolbar', 'aria-label': 'Conversation actions' });
    this.head.append(h('div', { class: 'conv-title' }, this.titleEl, this.subEl), this.actionsEl);
    this.banner = h('div', { class: 'banner', role: 'note' });
    this.banner.hidden = true;
    this.log = h('ol', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': 'Transcript', tabindex: '0' });
    this.typingEl = h('div', { class: 'typing', 'aria-live': 'polite' });
    this.scroller = h('div', { class: 'scroll' }, this.log, this.typingEl);
    this.scroller.addEventListener('scroll', () => {
      const s = this.scroller;
      this.stick = s.scrollHeight - s.scrollTop - s.clientHeight < 60;
      if (this.stick) this.maybeRead();
    }, { passive: true });
    this.buildComposer();
    this.el.append(this.head, this.banner, this.scroller, this.composer);
    this.ctxEl = h('div', { class: 'ctx-body' }, h('section', null, h('p', { class: 'muted' }, 'Loading…')));
    this.log.append(h('li', { class: 'msg system' }, h('div', { class: 'bubble' }, 'Loading the conversation…')));
    this.renderHead();
    this.load();
  }

  buildComposer() {
    const taId = domId('reply'), hintId = domId('hint');
    this.modeReply = h('button', { type: 'button', role: 'radio', 'aria-checked': 'true', onclick: () => this.setMode('reply') }, 'Reply');
    this.modeNote = h('button', { type: 'button', role: 'radio', 'aria-checked': 'false', 'aria-keyshortcuts': 'Alt+N', onclick: () => this.setMode('note') }, 'Internal note');
    this.hint = h('span', { class: 'hint', id: hintId }, 'Enter to send · Shift+Enter for a new line · / for canned responses');
    this.disabledNote = h('p', { class: 'disabled-note' });
    this.disabledNote.hidden = true;
    this.taLabel = h('label', { class: 'sr', for: taId }, 'Reply to the customer');
    this.ta = h('textarea', { id: taId, rows: '1', maxlength: '4000', 'aria-describedby': hintId, autocomplete: 'off', spellcheck: 'true' });
    this.cannedBtn = h('button', { type: 'button', class: 'btn', 'aria-haspopup': 'listbox', 'aria-keyshortcuts': 'Alt+C', title: 'Canned responses (/ or Alt+C)', onclick: () => openPicker(this, '') }, 'Canned');
    this.sendBtn = h('button', { type: 'submit', class: 'btn primary send' }, 'Send');
    this.composer = h('form', { class: 'composer', novalidate: true, 'aria-label': 'Reply' },
      h('div', { class: 'modes' }, h('div', { role: 'radiogroup', 'aria-label': 'Message type', class: 'modes' }, this.modeReply, this.modeNote), h('span', { class: 'spacer' }), this.hint),
      this.disabledNote,
      h('div', { class: 'row-input' }, this.cannedBtn, this.taLabel, this.ta, this.sendBtn));
    this.composer.addEventListener('submit', (e) => { e.preventDefault(); this.submit(); });
    this.ta.addEventListener('keydown', (e) => {
      if (picker.open && picker.view === this && ['ArrowDown', 'ArrowUp', 'Enter', 'Escape', 'Tab'].includes(e.key)) return pickerKey(e);
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && !e.altKey && !e.ctrlKey && !e.metaKey) { e.preventDefault(); this.submit(); }
    });
    this.ta.addEventListener('input', () => {
      this.autosize();
      const v = this.ta.value;
      if (/^\/[^\s/]*$/.test(v)) openPicker(this, v.slice(1), true);
      else {
        if (picker.open && picker.view === this && picker.slash) closePicker();
        this.typed();
      }
    });
    for (const r of [this.modeReply, this.modeNote]) r.addEventListener('keydown', (e) => {
      if (['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(e.key)) { e.preventDefault(); this.setMode(this.mode === 'note' ? 'reply' : 'note'); (this.mode === 'note' ? this.modeNote : this.modeReply).focus(); }
    });
  }

  autosize() { const t = this.ta; t.style.height = 'auto'; t.style.height = Math.min(t.scrollHeight + 2, 180) + 'px'; }

  setMode(mode) {
    this.mode = mode;
    this.modeReply.setAttribute('aria-checked', String(mode === 'reply'));
    this.modeNote.setAttribute('aria-checked', String(mode === 'note'));
    this.modeReply.tabIndex = mode === 'reply' ? 0 : -1;
    this.modeNote.tabIndex = mode === 'note' ? 0 : -1;
    this.composer.classList.toggle('note-mode', mode === 'note');
    this.composer.setAttribute('aria-label', mode === 'note' ? 'Internal note' : 'Reply');
    this.renderComposer();
  }

  get canReply() { return isMine(this.conv); }

  /** Writing a reply (never a note) in a conversation of ours: the customer sees "<name> is typing…". At most once per 2 s, only on a live stream. */
  typed() {
    const ws = S.ws, now = Date.now();
    if (this.mode !== 'reply' || !this.canReply || !this.ta.value.trim() || !ws || !S.live || ws.readyState !== 1 || now - (this.typingSentAt || 0) < 2000) return;
    this.typingSentAt = now;
    try { ws.send(JSON.stringify({ type: 'typing', conversationId: this.id })); } catch (_) {}
  }

  renderComposer() {
    const note = this.mode === 'note', can = note || this.canReply;
    this.taLabel.textContent = note ? 'Internal note (only agents see it)' : 'Reply to the customer';
    this.ta.placeholder = note ? 'Internal note — only agents see this' : can ? 'Reply to ' + customerName(this.conv || { id: this.id }) + '…' : '';
    this.sendBtn.textContent = note ? 'Add note' : 'Send';
    this.ta.disabled = !can;
    this.sendBtn.disabled = !can;
    this.cannedBtn.disabled = !can;
    const c = this.conv;
    this.disabledNote.hidden = can;
    this.disabledNote.textContent = !c ? '' : c.status === 'waiting' ? 'Accept the conversation to reply. You can add an internal note now.'
      : c.status === 'assigned' ? 'Assigned to ' + decode((c.assignedTo && c.assignedTo.name) || 'another agent') + '. You can add an internal note.'
      : 'This conversation is not assigned to you. You can add an internal note.';
  }

  focusComposer() {
    if (this.ta.disabled && this.mode === 'reply' && this.conv && this.conv.status === 'waiting') {
      const accept = $('[data-act=accept]', this.actionsEl);
      if (accept) return accept.focus();
    }
    if (!this.ta.disabled) this.ta.focus({ preventScroll: true });
    else EL.main.focus({ preventScroll: true });
  }

  setConversation(c) {
    this.conv = Object.assign({}, this.conv || {}, c);
    this.renderHead();
    this.renderComposer();
  }

  renderHead() {
    const c = this.conv || { id: this.id };
    this.titleEl.textContent = customerName(c);
    const p = prio(c.priority);
    const waitEl = h('span', { class: 'waited' });
    this.waitEl = c.status === 'waiting' && c.waitingSince ? waitEl : null;
    fill(this.subEl, 
      c.status ? h('span', { class: 'status ' + c.status }, STATUS[c.status] || c.status) : null,
      p.key !== 'normal' ? h('span', { class: 'pri ' + p.key }, p.long) : null,
      c.queue ? h('span', { class: 'q', title: 'Queue' }, decode(c.queue)) : null,
      c.reason ? h('span', { title: String(c.reason) }, reasonLabel(c.reason)) : null,
      this.waitEl,
      c.customer && c.customer.email ? h('span', null, '· ' + decode(c.customer.email)) : null,
    );
    const act = (name, label, cls, fn, keys) => h('button', { type: 'button', class: 'btn sm ' + (cls || ''), 'data-act': name, 'aria-keyshortcuts': keys || null, onclick: fn }, label);
    // The assignee works the conversation; an admin may also transfer, hand back or resolve any open one.
    const mine = isMine(c), open = c.status === 'waiting' || c.status === 'assigned';
    const manage = mine || (open && S.agent && S.agent.role === 'admin');
    fill(this.actionsEl,
      c.status === 'waiting' ? act('accept', 'Accept', 'primary', () => this.accept(), 'Alt+A') : null,
      manage ? act('transfer', 'Transfer…', '', () => openTransfer(this)) : null,
      manage ? act('handback', 'Hand back to bot', '', () => this.handback()) : null,
      manage ? act('resolve', 'Resolve', 'ok', () => this.resolve()) : null,
      h('button', { type: 'button', class: 'btn sm ghost ctx-toggle', 'aria-controls': 'ctx', 'aria-expanded': String(EL.app.classList.contains('show-ctx')), onclick: (e) => toggleCtx(e.currentTarget) }, 'Details'),
    );
    let b = '';
    let info = false;
    if (c.status === 'waiting') b = 'Waiting' + (c.queue ? ' in the ' + decode(c.queue) + ' queue' : '') + '. Accept it to reply; the customer sees your name.';
    else if (c.status === 'assigned' && !mine) { b = 'Assigned to ' + decode((c.assignedTo && c.assignedTo.name) || 'another agent') + '.'; info = true; }
    else if (c.status === 'resolved') { b = 'Resolved. If the customer writes again, the bot answers first.'; info = true; }
    else if (c.status === 'bot') { b = 'The bot is handling this conversation.'; info = true; }
    // A messaging channel with a service window (WhatsApp, Messenger): say how a reply will be sent.
    const ch = this.ctxData && this.ctxData.channelInfo;
    if (!b && ch && ch.window && ch.window.state !== 'open') b = ch.title + ': ' + ch.window.note;
    this.banner.textContent = b;
    this.banner.hidden = !b;
    this.banner.classList.toggle('info', info);
    this.tick(Date.now());
  }

  tick(now) {
    if (this.waitEl && this.conv) {
      const t = time(this.conv.waitingSince);
      this.waitEl.textContent = t ? '· waiting ' + durWords(now - t) : '';
    }
  }

  async load() {
    const gen = S.generation;
    try {
      const r = await call('GET', '/conversations/' + encodeURIComponent(this.id));
      if (gen !== S.generation) return;
      const first = !this.loaded;
      this.loaded = true;
      this.stale = false;
      if (r.conversation) {
        this.setConversation(r.conversation);
        if (S.convs.has(this.id)) upsert(Object.assign({}, S.convs.get(this.id), r.conversation, { unread: S.convs.get(this.id).unread }));
      }
      if (this.log.querySelector('.loading-row') || !this.msgs.length) this.log.replaceChildren();
      const list = Array.isArray(r.transcript) ? r.transcript : [];
      const fresh = list.filter((m) => m && !this.seen.has(key(m)));
      if (fresh.length) this.addMany(fresh);
      else if (!this.msgs.length) this.log.replaceChildren(h('li', { class: 'msg system' }, h('div', { class: 'bubble' }, 'No messages yet.')));
      this.ctxData = r.context || null;
      this.renderContext();
      this.renderHead();
      if (S.activeId === this.id) { this.toBottom(first); this.maybeRead(); }
    } catch (e) {
      if (gen !== S.generation || e.status === 401) return;
      this.stale = true;
      if (!this.msgs.length) this.log.replaceChildren(h('li', { class: 'msg system' }, h('div', { class: 'bubble', role: 'alert' }, 'Could not load the conversation: ' + e.message + ' ', h('button', { type: 'button', class: 'btn sm', onclick: () => this.load() }, 'Try again'))));
      else toast(errorText(e, 'Could not refresh the conversation'), 'error');
    }
  }

  show() {
    if (this.stale) this.load();
    requestAnimationFrame(() => {
      if (this.scrollTop == null || this.stick) this.toBottom(true);
      else this.scroller.scrollTop = this.scrollTop;
      this.maybeRead();
    });
  }
  hide() { this.scrollTop = this.scroller.scrollTop; }

  toBottom(force) {
    if (force || this.stick) { this.scroller.scrollTop = this.scroller.scrollHeight; this.stick = true; }
  }

  /** Adds server messages (any order, any repeats): each is shown once, in seq order. */
  addMany(list) {
    let resort = false;
    for (const m of list) {
      const k = key(m);
      if (!k || this.seen.has(k)) continue;
      // Our own message confirmed by the stream before the POST answered: adopt the pending bubble.
      if (m.from === 'agent' && m.agent && S.agent && m.agent.id === S.agent.id) {
        const p = this.pending.find((x) => !x.done && x.text === (m.text || '').trim() && x.kind === 'reply');
        if (p) { this.confirm(p, m); continue; }
      }
      if (m.from === 'note' && m.agent && S.agent && m.agent.id === S.agent.id) {
        const p = this.pending.find((x) => !x.done && x.text === (m.text || '').trim() && x.kind === 'note');
        if (p) { this.confirm(p, m); continue; }
      }
      this.seen.add(k);
      if (typeof m.seq === 'number' && m.seq > this.lastSeq) this.lastSeq = m.seq;
      const last = this.msgs[this.msgs.length - 1];
      if (last && typeof m.seq === 'number' && typeof last.seq === 'number' && m.seq < last.seq) resort = true;
      this.msgs.push(m);
      if (!resort) this.appendEl(m);
    }
    if (resort) this.rerender();
    if (this.pending.some((p) => !p.done)) for (const p of this.pending) if (!p.done) this.log.append(p.el); // unconfirmed stay last
    this.toBottom();
  }
  add(m) {
    const fromCustomer = m && m.from === 'customer';
    this.addMany([m]);
    if (fromCustomer) this.hideTyping();
  }

  rerender() {
    this.msgs.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity));
    this.log.replaceChildren();
    this.prevMsg = null;
    this.lastDay = null;
    for (const m of this.msgs) this.appendEl(m);
  }

  appendEl(m) {
    const t = time(m.createdAt);
    if (t) {
      const day = t.toDateString();
      if (day !== this.lastDay) { this.log.append(h('li', { class: 'day', role: 'separator' }, fmtDay(t))); this.lastDay = day; this.prevMsg = null; }
    }
    const el = renderMessage(m, this.prevMsg);
    if (m.id != null) el.dataset.id = String(m.id);
    if (m.seq != null) el.dataset.seq = String(m.seq);
    this.log.append(el);
    this.prevMsg = m;
  }

  showTyping() {
    this.typingEl.textContent = customerName(this.conv || { id: this.id }) + ' is typing…';
    this.toBottom();
  }
  hideTyping() { this.typingEl.textContent = ''; }

  /** Tell the server what we have read: when this conversation is on screen and scrolled to the end. */
  maybeRead() {
    if (S.activeId !== this.id || D.visibilityState === 'hidden' || !this.loaded || !this.stick) return;
    const c = S.convs.get(this.id);
    const unread = c ? c.unread | 0 : 0;
    if (c && unread) { c.unread = 0; renderList(); }
    if (this.lastSeq > this.readSeq && (unread || isMine(this.conv))) {
      const seq = this.lastSeq;
      this.readSeq = seq;
      call('POST', '/conversations/' + encodeURIComponent(this.id) + '/read', { seq }).catch(() => { this.readSeq = 0; });
    }
  }

  renderContext() {
    const x = this.ctxData || {}, c = this.conv || {}, cu = Object.assign({}, c.customer || {}, x.customer || {});
    const sec = (title, ...kids) => h('section', { 'aria-label': title }, h('h2', null, title), ...kids);
    const dl = (pairs) => {
      const rows = pairs.filter((p) => p[1] != null && p[1] !== '');
      return rows.length ? h('dl', null, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])) : null;
    };
    const name = customerName({ customer: cu, id: this.id });
    const customer = sec('Customer',
      h('div', { class: 'cust' }, h('span', { class: 'av', style: 'background:' + colourOf(cu.id || this.id), 'aria-hidden': 'true' }, initial(name)),
        h('div', null, h('strong', null, name), cu.email ? h('span', null, decode(cu.email)) : null)),
      dl([
        ['Identity', cu.verified === undefined ? null : h('span', { class: 'verified ' + (cu.verified ? 'yes' : 'no') }, cu.verified ? 'Verified' : 'Not verified')],
        ['Customer id', cu.id ? h('code', null, String(cu.id)) : null],
        ['Channel', x.channelInfo ? x.channelInfo.title : x.channel ? fmtValue(x.channel) : null],
        ['Service window', x.channelInfo && x.channelInfo.window ? x.channelInfo.window.note : null],
        ['Not delivered', x.channelInfo && x.channelInfo.undelivered && x.channelInfo.undelivered.length
          ? h('span', { class: 'undelivered', title: x.channelInfo.undelivered.map((d) => d.status + (d.error ? ': ' + d.error : '')).join('\n') },
            x.channelInfo.undelivered.length + (x.channelInfo.undelivered.length === 1 ? ' message' : ' messages') + ' (' + x.channelInfo.undelivered.map((d) => d.status).filter((v, i, a) => a.indexOf(v) === i).join(', ') + ')')
          : null],
      ]));
    const senti = sentiment(x.sentiment);
    const handoff = sec('Handoff', dl([
      ['Reason', x.reason || c.reason ? h('span', { title: String(x.reason || c.reason) }, reasonLabel(x.reason || c.reason)) : null],
      ['Queue', c.queue ? decode(c.queue) : null],
      ['Priority', c.priority != null ? (prio(c.priority).key === 'normal' ? 'Normal' : prio(c.priority).long) : null],
      ['Waiting since', time(c.waitingSince) ? fmtFull(time(c.waitingSince)) : null],
      ['Sentiment', senti],
    ]) || h('p', { class: 'muted' }, 'No handoff details.'));
    const slots = x.slots && typeof x.slots === 'object' ? Object.keys(x.slots).filter((k) => x.slots[k] != null && x.slots[k] !== '') : [];
    const bot = sec('What the bot knows',
      dl([['Flow', x.flow ? h('code', null, fmtValue(x.flow)) : null], ['Step', x.step ? h('code', null, fmtValue(x.step)) : null]]),
      slots.length
        ? [h('h3', { class: 'sub-h' }, 'Details collected'), h('dl', { class: 'slots', 'aria-label': 'Details collected by the bot' }, slots.map((k) => [h('dt', null, k), h('dd', null, fmtValue(x.slots[k]))]))]
        : h('p', { class: 'muted' }, 'No details collected.'));
    const intents = Array.isArray(x.intents) ? x.intents.filter((i) => i && i.intent) : [];
    const intentSec = sec('Recognised intents', intents.length
      ? h('ul', { class: 'intents' }, intents.slice(-8).reverse().map((i) => {
        const conf = typeof i.confidence === 'number' ? Math.max(0, Math.min(1, i.confidence)) : null, at = time(i.at);
        return h('li', null,
          h('div', { class: 'ir' }, h('code', null, String(i.intent)), h('span', null, conf == null ? '' : Math.round(conf * 100) + '%', at ? h('span', { class: 'muted', title: fmtFull(at) }, ' · ' + fmtTime(at)) : null)),
          conf == null ? null : h('div', { class: 'bar' + (conf < 0.5 ? ' low' : ''), role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(conf * 100)), 'aria-label': String(i.intent) + ' confidence' }, h('i', { style: 'width:' + Math.round(conf * 100) + '%' })));
      }))
      : h('p', { class: 'muted' }, 'No intents recognised.'));
    const prev = Array.isArray(cu.previousConversations) ? cu.previousConversations.filter((p) => p && p.id && p.id !== this.id) : [];
    const prevSec = sec('Previous conversations', prev.length
      ? h('ul', { class: 'prev' }, prev.slice(0, 10).map((p) => {
        const t = time(p.createdAt);
        return h('li', null, h('button', { type: 'button', onclick: () => openConversation(p.id, { focus: 'composer' }) }, h('span', null, t ? fmtFull(t) : String(p.id)), h('span', { class: 'muted' }, STATUS[p.status] || String(p.status || ''))));
      }))
      : h('p', { class: 'muted' }, 'None.'));
    fill(this.ctxEl, customer, handoff, bot, intentSec, prevSec);
  }

  // ---------------------------------------------------------- actions
  async act(path, body, done, what) {
    const btns = $$('button', this.actionsEl);
    for (const b of btns) b.disabled = true;
    try {
      const r = await call('POST', '/conversations/' + encodeURIComponent(this.id) + path, body);
      if (r.conversation) {
        const prev = S.convs.get(this.id);
        upsert(Object.assign({}, prev || {}, r.conversation, { unread: prev ? prev.unread | 0 : r.conversation.unread | 0 }));
        if (!S.convs.has(this.id)) this.setConversation(r.conversation);
      }
      renderList();
      if (done) done(r);
      return r;
    } catch (e) {
      if (e.status !== 401) toast(errorText(e, what), 'error');
      if (e.status === 409) { loadLists(); this.load(); }
      return null;
    } finally {
      for (const b of $$('button', this.actionsEl)) b.disabled = false;
    }
  }
  accept() {
    return this.act('/accept', undefined, () => {
      toast('Accepted: ' + customerName(this.conv) + ' is yours.');
      if (S.tab === 'waiting') selectTab('mine');
      this.setMode('reply');
      this.focusComposer();
    }, 'Could not accept');
  }
  resolve() {
    return this.act('/resolve', undefined, () => { toast('Resolved: ' + customerName(this.conv) + '.'); this.leaveMine(); }, 'Could not resolve');
  }
  handback() {
    return this.act('/handback', undefined, () => { toast('Handed back to the bot: ' + customerName(this.conv) + '.'); this.leaveMine(); }, 'Could not hand back');
  }
  leaveMine() {
    const c = S.convs.get(this.id);
    if (c && !isMine(c) && c.status !== 'waiting' && !c._all) S.convs.delete(this.id);
    renderList();
    this.renderComposer();
  }

  // ---------------------------------------------------------- sending
  submit() {
    const text = this.ta.value.trim();
    if (!text || this.ta.disabled) return;
    closePicker();
    this.ta.value = '';
    this.autosize();
    const p = { kind: this.mode === 'note' ? 'note' : 'reply', text: text.slice(0, 4000), cmid: uuid(), done: false };
    p.el = renderMessage({ from: p.kind === 'note' ? 'note' : 'agent', text: p.text, createdAt: new Date().toISOString(), agent: S.agent }, null);
    p.el.classList.add('pending');
    this.pending.push(p);
    this.log.append(p.el);
    this.toBottom(true);
    this.send(p);
  }

  async send(p) {
    const old = $('.fail', p.el);
    if (old) old.remove();
    p.el.classList.add('pending');
    const path = '/conversations/' + encodeURIComponent(this.id) + (p.kind === 'note' ? '/notes' : '/messages');
    let tries = 0;
    for (;;) {
      try {
        const r = await call('POST', path, p.kind === 'note' ? { text: p.text } : { text: p.text, clientMessageId: p.cmid });
        const m = p.kind === 'note' ? r.note : r.message;
        if (!p.done) this.confirm(p, m ? Object.assign({ from: p.kind === 'note' ? 'note' : 'agent' }, m) : null);
        const c = S.convs.get(this.id);
        if (c && m && p.kind === 'reply') { c.lastMessage = { from: 'agent', text: m.text || p.text, createdAt: m.createdAt || new Date().toISOString() }; renderList(); }
        return;
      } catch (e) {
        if (e.status === 401 || p.done) return;
        // Network trouble: retry (same clientMessageId, so nothing is sent twice); a refusal is shown.
        if ((!e.status || e.status >= 500) && tries < 2 && p.kind === 'reply') { await new Promise((r) => setTimeout(r, 800 * 2 ** tries++)); continue; }
        p.el.classList.remove('pending');
        p.el.append(h('div', { class: 'fail', role: 'alert' }, 'Not sent: ' + errorText(e) + ' ', h('button', { type: 'button', onclick: () => this.send(p) }, 'Retry')));
        return;
      }
    }
  }

  confirm(p, m) {
    p.done = true;
    this.pending = this.pending.filter((x) => x !== p);
    if (!m || this.seen.has(key(m))) { p.el.remove(); return; }
    this.seen.add(key(m));
    if (typeof m.seq === 'number' && m.seq > this.lastSeq) this.lastSeq = m.seq;
    p.el.remove();
    this.msgs.push(m);
    const last = this.msgs[this.msgs.length - 2];
    if (last && typeof m.seq === 'number' && typeof last.seq === 'number' && m.seq < last.seq) this.rerender();
    else this.appendEl(m);
    for (const x of this.pending) this.log.append(x.el);
    this.toBottom(true);
    if (S.activeId === this.id) this.readSeq = Math.max(this.readSeq, m.seq || 0);
  }

  /** Inserts text (a rendered canned response) at the caret, replacing a "/query" being typed. */
  insert(text) {
    const t = this.ta;
    if (/^\/[^\s/]*$/.test(t.value)) t.value = '';
    const s = t.selectionStart ?? t.value.length, e = t.selectionEnd ?? t.value.length;
    t.value = t.value.slice(0, s) + text + t.value.slice(e);
    const pos = s + text.length;
    t.focus();
    t.setSelectionRange(pos, pos);
    this.autosize();
  }
}

const key = (m) => (m.id != null ? 'i' + m.id : m.seq != null ? 's' + m.seq : null);

/** Formats a slot value, a channel or a flow name: strings as they are, anything else as compact JSON. */
function fmtValue(v) {
  if (v == null) return '';
  if (typeof v === 'string') return decode(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && !Array.isArray(v)) {
    if (typeof v.name === 'string' && Object.keys(v).length <= 2) return decode(v.name) + (v.type ? ' (' + v.type + ')' : '');
    if (typeof v.type === 'string' && Object.keys(v).length === 1) return v.type;
  }
  try { return JSON.stringify(v); } catch (_) { return String(v); }
}

function sentiment(s) {
  if (s == null) return null;
  let label = null, score = null;
  if (typeof s === 'number') score = s;
  else if (typeof s === 'string') label = s;
  else if (typeof s === 'object') { label = s.vote || s.label || s.sentiment || null; score = typeof s.score === 'number' ? s.score : typeof s.value === 'number' ? s.value : null; }
  if (!label && score != null) label = score <= -0.25 ? 'negative' : score >= 0.25 ? 'positive' : 'neutral';
  if (!label) return null;
  const k = String(label).toLowerCase();
  return h('span', { class: 'senti ' + k }, k.charAt(0).toUpperCase() + k.slice(1) + (score != null ? ' (' + (Math.round(score * 100) / 100) + ')' : ''));
}

/** One transcript entry, built from DOM nodes only. */
function renderMessage(m, prev) {
  const from = WHO[m.from] ? m.from : 'system';
  const t = time(m.createdAt);
  const timeEl = t ? h('time', { datetime: t.toISOString(), title: fmtFull(t) }, fmtTime(t)) : null;
  if (from === 'system') return h('li', { class: 'msg system' }, h('div', { class: 'bubble' }, plain(m.text).replace(/\(([a-z][a-z0-9_]*)\)/g, (x, k) => (REASONS[k] ? '(' + REASONS[k].toLowerCase() + ')' : x)) || 'Event', timeEl));
  const agentName = m.agent && m.agent.name ? decode(m.agent.name) : from === 'agent' ? 'Agent' : '';
  const name = from === 'customer' ? 'Customer' : from === 'bot' ? 'Bot' : from === 'agent' ? agentName : 'Internal note';
  const pt = prev && time(prev.createdAt);
  const cont = prev && prev.from === m.from && from !== 'note' && (!m.agent || !prev.agent || m.agent.id === prev.agent.id) && t && pt && t - pt < 5 * 60e3;
  const li = h('li', { class: 'msg ' + from + (cont ? ' cont' : '') });
  li.append(h('div', { class: 'who' },
    from === 'note' ? h('span', { class: 'tag' }, 'Internal note') : null,
    h('b', null, from === 'note' ? agentName || 'Agent' : name),
    from === 'note' ? h('span', null, 'not shown to the customer') : null,
    timeEl));
  const b = h('div', { class: 'bubble' }, h('span', { class: 'sr' }, (from === 'note' ? 'Internal note by ' + (agentName || 'an agent') : name) + ': '));
  if (typeof m.text === 'string' && m.text) {
    if (from === 'customer') b.append(m.text);
    else markdown(m.text, b, location.href);
  }
  const img = m.image && pageUrl(m.image.url);
  if (img) b.append(h('img', { src: img, alt: decode(m.image.alt || ''), loading: 'lazy' }));
  if (Array.isArray(m.cards) && m.cards.length) b.append(h('div', { class: 'extra' }, 'Cards: ' + m.cards.filter((c) => c && c.title).map((c) => decode(c.title)).join(' · ')));
  if (Array.isArray(m.links) && m.links.length) b.append(h('div', { class: 'extra' }, m.links.filter((l) => l && pageUrl(l.url, true)).map((l) => [link(pageUrl(l.url, true), decode(l.title || l.url)), ' '])));
  if (m.citation && typeof m.citation === 'object' && m.citation.title) {
    const u = pageUrl(m.citation.url);
    b.append(h('div', { class: 'extra' }, 'Source: ', u ? link(u, decode(m.citation.title)) : decode(m.citation.title)));
  }
  li.append(b);
  const choices = [].concat(Array.isArray(m.quickReplies) ? m.quickReplies : [], Array.isArray(m.buttons) ? m.buttons : []).filter((q) => q && (q.title || typeof q === 'string'));
  if (choices.length) li.append(h('div', { class: 'chips', 'aria-label': 'Options offered' }, choices.map((q) => h('span', null, decode(q.title || q)))));
  return li;
}

// ---------------------------------------------------------------- canned responses
const picker = { open: false, view: null, el: null, input: null, list: null, items: [], index: 0, slash: false, activeId: null };

let cannedLoading = null;
function loadCanned() {
  if (S.canned) return Promise.resolve(S.canned);
  // One request, however many keystrokes ask for it meanwhile.
  return (cannedLoading = cannedLoading || call('GET', '/canned').then((r) => {
    S.canned = Array.isArray(r.responses) ? r.responses : [];
    return S.canned;
  }).finally(() => { cannedLoading = null; }));
}

function buildPicker() {
  const listId = domId('canned');
  picker.input = h('input', { type: 'text', role: 'combobox', 'aria-expanded': 'true', 'aria-controls': listId, 'aria-autocomplete': 'list', 'aria-label': 'Search canned responses', placeholder: 'Search canned responses…', autocomplete: 'off' });
  picker.list = h('ul', { id: listId, role: 'listbox', 'aria-label': 'Canned responses' });
  picker.el = h('div', { class: 'picker' }, picker.input, picker.list);
  picker.input.addEventListener('input', () => filterPicker(picker.input.value));
  picker.input.addEventListener('keydown', pickerKey);
  picker.el.addEventListener('focusout', (e) => { if (!picker.el.contains(e.relatedTarget) && !(picker.view && e.relatedTarget === picker.view.ta)) setTimeout(() => { if (picker.open && !picker.el.contains(D.activeElement) && !(picker.view && D.activeElement === picker.view.ta)) closePicker(); }, 0); });
}

async function openPicker(view, query, slash) {
  if (!picker.el) buildPicker();
  if (view.ta.disabled) return;
  const wasOpen = picker.open && picker.view === view;
  picker.open = true;
  picker.view = view;
  picker.slash = !!slash;
  if (!wasOpen) view.composer.append(picker.el);
  picker.input.hidden = !!slash; // "/…" typed in the reply box filters; the picker's own box otherwise
  picker.input.value = slash ? '' : query;
  if (slash) {
    view.ta.setAttribute('aria-controls', picker.list.id);
    view.ta.setAttribute('aria-autocomplete', 'list');
  }
  if (!S.canned) picker.list.replaceChildren(h('li', { class: 'none' }, 'Loading…'));
  try { await loadCanned(); } catch (e) {
    picker.list.replaceChildren(h('li', { class: 'none' }, 'Could not load canned responses: ' + e.message));
    return;
  }
  if (!picker.open || picker.view !== view) return;
  // Filter by what is typed now (more keys may have been pressed while the list was loading).
  filterPicker(picker.slash ? view.ta.value.replace(/^\//, '') : picker.input.value);
  if (!slash) picker.input.focus();
}

function filterPicker(q) {
  q = String(q || '').toLowerCase().trim();
  const all = S.canned || [];
  picker.items = all.filter((c) => !q || String(c.title || '').toLowerCase().includes(q) || String(c.id || '').toLowerCase().includes(q) || String(c.template || '').toLowerCase().includes(q));
  picker.index = 0;
  picker.list.replaceChildren(...(picker.items.length ? picker.items.map((c, i) => h('li', {
    role: 'option', id: picker.list.id + '-' + i, 'aria-selected': i === 0 ? 'true' : 'false',
    onmousedown: (e) => e.preventDefault(), onclick: () => choosePicker(i),
  }, h('b', null, decode(c.title || c.id)), h('span', null, plain(c.template || '')))) : [h('li', { class: 'none' }, all.length ? 'No canned response matches.' : 'No canned responses are set up.')]));
  highlightPicker();
}

function highlightPicker() {
  const opts = $$('[role=option]', picker.list);
  opts.forEach((o, i) => o.setAttribute('aria-selected', String(i === picker.index)));
  const cur = opts[picker.index];
  const owner = picker.slash && picker.view ? picker.view.ta : picker.input;
  if (cur) { owner.setAttribute('aria-activedescendant', cur.id); cur.scrollIntoView({ block: 'nearest' }); }
  else owner.removeAttribute('aria-activedescendant');
}

function pickerKey(e) {
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    const n = picker.items.length;
    if (n) picker.index = (picker.index + (e.key === 'ArrowDown' ? 1 : -1) + n) % n;
    highlightPicker();
  } else if (e.key === 'Enter' || (e.key === 'Tab' && picker.items.length)) {
    e.preventDefault();
    if (picker.items.length) choosePicker(picker.index);
  } else if (e.key === 'Escape') {
    e.preventDefault();
    e.stopPropagation();
    const v = picker.view;
    closePicker();
    if (v) v.ta.focus();
  }
}

async function choosePicker(i) {
  const c = picker.items[i], v = picker.view;
  if (!c || !v) return;
  closePicker();
  try {
    const r = await call('POST', '/conversations/' + encodeURIComponent(v.id) + '/canned/' + encodeURIComponent(c.id) + '/render', {});
    v.insert(decode(r.text || ''));
  } catch (e) {
    if (e.status !== 401) toast(errorText(e, 'Could not use the canned response'), 'error');
    v.ta.focus();
  }
}

function closePicker() {
  if (!picker.open) return;
  picker.open = false;
  if (picker.view) for (const a of ['aria-controls', 'aria-autocomplete', 'aria-activedescendant']) picker.view.ta.removeAttribute(a);
  picker.view = null;
  if (picker.el) picker.el.remove();
}

// ---------------------------------------------------------------- transfer
let transferView = null;
async function openTransfer(view) {
  transferView = view;
  const dlg = EL.transfer, sel = $('#transfer-agent'), err = $('.dlg-error', dlg);
  err.hidden = true;
  sel.replaceChildren(h('option', { value: '' }, 'Loading agents…'));
  const dl = $('#transfer-queues');
  dl.replaceChildren(...Array.from(new Set(['general', ...S.queues])).sort().map((q) => h('option', { value: q })));
  $('#transfer-queue').value = '';
  dlg.showModal();
  (transferKind() === 'queue' ? $('#transfer-queue') : dlg.querySelector('input[name=kind]:checked')).focus();
  const agentRadio = $('input[name=kind][value=agent]', dlg), queueRadio = $('input[name=kind][value=queue]', dlg);
  // Picking a named agent needs the agent list, which the server may keep for admins.
  if (!S.agent || S.agent.role !== 'admin') { queueRadio.checked = true; syncTransferKind(); }
  try {
    const r = await call('GET', '/agents');
    S.agents = Array.isArray(r.agents) ? r.agents : [];
    const others = S.agents.filter((a) => a && a.id && (!S.agent || a.id !== S.agent.id));
    sel.replaceChildren(...(others.length ? others.map((a) => h('option', { value: a.id },
      decode(a.name || a.email || a.id) + (a.presence ? ' · ' + a.presence : '') + (typeof a.load === 'number' && a.capacity ? ` · ${a.load}/${a.capacity}` : '')))
      : [h('option', { value: '' }, 'No other agents')]));
    agentRadio.disabled = false;
  } catch (e) {
    // The agent list may be for admins only: then a conversation goes to a queue.
    sel.replaceChildren(h('option', { value: '' }, e.status === 403 ? 'Only admins can pick an agent' : 'Could not load agents'));
    if (e.status === 403) {
      agentRadio.disabled = true;
      if (!queueRadio.checked) {
        queueRadio.checked = true;
        syncTransferKind();
        if (dlg.open) $('#transfer-queue').focus();
      }
    }
  }
}
function transferKind() { return ($('input[name=kind]:checked', EL.transfer) || {}).value || 'agent'; }
function syncTransferKind() {
  const k = transferKind();
  for (const f of $$('.field[data-kind]', EL.transfer)) f.hidden = f.dataset.kind !== k;
}
async function doTransfer(e) {
  e.preventDefault();
  const v = transferView, err = $('.dlg-error', EL.transfer);
  if (!v) return EL.transfer.close();
  const kind = transferKind();
  const body = kind === 'agent' ? { agentId: $('#transfer-agent').value } : { queue: $('#transfer-queue').value.trim() };
  if (!body.agentId && !body.queue) { err.textContent = kind === 'agent' ? 'Choose an agent.' : 'Enter a queue.'; err.hidden = false; return; }
  const btn = $('#transfer-ok');
  btn.disabled = true;
  try {
    const r = await call('POST', '/conversations/' + encodeURIComponent(v.id) + '/transfer', body);
    const prev = S.convs.get(v.id);
    if (r.conversation) { upsert(Object.assign({}, prev || {}, r.conversation)); v.setConversation(r.conversation); }
    EL.transfer.close();
    const to = kind === 'agent' ? (S.agents || []).find((a) => a.id === body.agentId) : null;
    toast('Transferred to ' + (to ? decode(to.name || to.email) : 'the ' + body.queue + ' queue') + '.');
    v.leaveMine();
  } catch (ex) {
    if (ex.status !== 401) { err.textContent = errorText(ex, 'Could not transfer'); err.hidden = false; }
  } finally { btn.disabled = false; }
}

function toggleCtx(btn) {
  const on = EL.app.classList.toggle('show-ctx');
  if (btn) btn.setAttribute('aria-expanded', String(on));
}

// ---------------------------------------------------------------- real time: the agent stream, else polling
function setConn(live, text) {
  S.live = live;
  EL.conn.classList.toggle('live', live);
  EL.conn.classList.toggle('down', !live);
  EL.connText.textContent = text || (live ? 'Live' : 'Reconnecting…');
}

function connect() {
  clearTimeout(S.wsTimer);
  S.wsTimer = null;
  if (!S.token || S.ws) return;
  const url = new URL(BASE + '/stream', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = new URLSearchParams({ token: S.token }).toString();
  let ws;
  try { ws = S.ws = new WebSocket(url.href); } catch (_) { S.ws = null; return startPolling(); }
  let refused = null;
  ws.onmessage = (ev) => {
    if (ws !== S.ws) return;
    let f;
    try { f = JSON.parse(ev.data); } catch (_) { return; }
    if (!f || typeof f !== 'object') return;
    switch (f.type) {
      case 'ready':
        S.wsTries = 0;
        stopPolling();
        setConn(true);
        resync();
        break;
      case 'queue': if (f.conversation && f.conversation.id) onQueue(f.conversation); break;
      case 'message': if (f.conversationId && f.message) onMessage(f.conversationId, f.message); break;
      case 'typing': if (f.conversationId) onTyping(f.conversationId); break;
      case 'removed': if (f.conversationId) onRemoved(f.conversationId); break;
      // Why the server is about to close the stream (a refused typing frame, `not_assigned`, is not that).
      case 'error': if (!f.error || f.error.code !== 'not_assigned') refused = f.error || {}; break;
      default: break;
    }
  };
  ws.onopen = () => { clearInterval(S.pinger); S.pinger = setInterval(() => ws.readyState === 1 && ws.send('{"type":"ping"}'), 25000); };
  ws.onclose = (ev) => {
    if (ws !== S.ws) return;
    clearInterval(S.pinger);
    S.ws = null;
    if (ev.code === 4401) {
      const code = refused && refused.code;
      return sessionEnded(code === 'token_expired' ? 'Your session has expired. Please sign in again.'
        : code === 'agent_removed' ? 'Your agent account was removed. Ask an admin if this is a mistake.'
        : (refused && refused.message) ? 'Your session has ended (' + refused.message + '). Please sign in again.' : 'Your session has ended. Please sign in again.');
    }
    // 4409: our role changed (e.g. no longer an admin): reconnect at once and re-read who we are with the lists.
    if (ev.code === 4409) {
      S.wsTries = 0;
      call('GET', '/me').then((r) => { if (r.agent) { S.agent = r.agent; saveSession(); renderMe(); renderList(); } }).catch(() => {});
    }
    setConn(false);
    startPolling();
    // Reconnect with exponential backoff (1 s … 30 s, jittered); the REST API is polled meanwhile.
    const delay = Math.min(30000, 1000 * 2 ** S.wsTries++) * (0.75 + Math.random() / 2);
    clearTimeout(S.wsTimer);
    S.wsTimer = setTimeout(connect, delay);
  };
}

function disconnect() {
  stopPolling();
  clearTimeout(S.wsTimer);
  clearInterval(S.pinger);
  const ws = S.ws;
  S.ws = null;
  if (ws) try { ws.close(1000); } catch (_) {}
  setConn(false, 'Offline');
}

/** After (re)connecting: what happened while we were away. */
function resync() {
  loadLists();
  for (const v of S.views.values()) v.stale = true;
  const v = S.activeId && S.views.get(S.activeId);
  if (v) v.load();
}

function startPolling() {
  if (S.pollTimer || !S.token) return;
  S.pollTimer = setInterval(() => { if (D.visibilityState !== 'hidden') resync(); }, 8000);
}
function stopPolling() { clearInterval(S.pollTimer); S.pollTimer = null; }

function onQueue(c) {
  const old = S.convs.get(c.id), wasWaiting = old && old.status === 'waiting';
  if (S.activeId === c.id && D.visibilityState !== 'hidden' && S.views.get(c.id) && S.views.get(c.id).stick) c.unread = 0;
  c._frameAt = Date.now();
  upsert(c);
  renderList();
  if (c.status === 'waiting' && !wasWaiting) announce('New conversation waiting: ' + customerName(c) + (c.queue ? ', ' + decode(c.queue) + ' queue' : ''));
  if (isMine(c) && old && !isMine(old) && S.activeId !== c.id) announce(customerName(c) + ' was assigned to you.');
}

function onMessage(id, m) {
  const c = S.convs.get(id), v = S.views.get(id);
  const showing = S.activeId === id && D.visibilityState !== 'hidden' && v && v.stick;
  const isNew = !v || !v.seen.has(key(m));
  if (c && m.from !== 'note') {
    c.lastMessage = { from: m.from, text: m.text, createdAt: m.createdAt };
    if (m.from === 'customer' && isNew && !showing && !(c._counted && c._counted.has(key(m)))) {
      c.unread = (c.unread | 0) + 1;
      (c._counted || (c._counted = new Set())).add(key(m));
    }
  }
  if (m.from === 'customer') clearTyping(id);
  if (v) {
    v.add(m);
    if (showing) v.maybeRead();
  }
  if (c) renderList();
}

function onTyping(id) {
  clearTimeout(S.typing.get(id));
  S.typing.set(id, setTimeout(() => clearTyping(id), 6000));
  const v = S.views.get(id);
  if (v) v.showTyping();
  const li = S.rows.get(id), c = S.convs.get(id);
  if (li && c) updateRow(li, c);
}
function clearTyping(id) {
  clearTimeout(S.typing.get(id));
  if (!S.typing.delete(id)) return;
  const v = S.views.get(id);
  if (v) v.hideTyping();
  const li = S.rows.get(id), c = S.convs.get(id);
  if (li && c) updateRow(li, c);
}

function onRemoved(id) {
  const c = S.convs.get(id);
  S.convs.delete(id);
  renderList();
  const v = S.views.get(id);
  if (v) v.load(); // shows where it went (taken by someone else, resolved…)
  if (c && c.status === 'waiting' && S.activeId === id) toast(customerName(c) + ' left the queue.');
}

let announcer;
function announce(text) {
  if (!announcer) { announcer = h('div', { class: 'sr', 'aria-live': 'polite' }); D.body.append(announcer); }
  announcer.textContent = '';
  setTimeout(() => { announcer.textContent = text; }, 30);
}

// ---------------------------------------------------------------- keyboard
function inField(el) { return el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable); }

function onKey(e) {
  if (EL.app.hidden) return;
  if (D.querySelector('dialog[open]')) return; // dialogs handle their own keys (Esc closes them)
  const v = S.activeId && S.views.get(S.activeId);
  if (e.altKey && !e.ctrlKey && !e.metaKey) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') { e.preventDefault(); return step(e.key === 'ArrowDown' ? 1 : -1); }
    switch (e.code) {
      case 'KeyU': e.preventDefault(); return nextUnread();
      case 'KeyA': if (v && v.conv && v.conv.status === 'waiting') { e.preventDefault(); v.accept(); } return;
      case 'KeyN': if (v) { e.preventDefault(); v.setMode(v.mode === 'note' ? 'reply' : 'note'); v.focusComposer(); } return;
      case 'KeyC': if (v && !v.ta.disabled) { e.preventDefault(); openPicker(v, ''); } return;
      case 'KeyR': if (v) { e.preventDefault(); v.focusComposer(); } return;
      default: return;
    }
  }
  if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === 'k' || e.key === 'K')) { e.preventDefault(); EL.filter.focus(); EL.filter.select(); return; }
  if (e.key === '?' && !inField(e.target)) { e.preventDefault(); EL.help.showModal(); return; }
  if (e.key === 'Escape' && picker.open) { e.preventDefault(); const pv = picker.view; closePicker(); if (pv) pv.ta.focus(); }
}

function onListKey(e) {
  const items = $$('.item', EL.list), i = items.indexOf(D.activeElement);
  if (i < 0) return;
  let j = null;
  if (e.key === 'ArrowDown') j = Math.min(items.length - 1, i + 1);
  else if (e.key === 'ArrowUp') j = Math.max(0, i - 1);
  else if (e.key === 'Home') j = 0;
  else if (e.key === 'End') j = items.length - 1;
  if (j === null || e.altKey) return;
  e.preventDefault();
  for (const b of items) b.tabIndex = -1;
  items[j].tabIndex = 0;
  items[j].focus();
}

function onTabKey(e) {
  const tabs = $$('[role=tab]', EL.tabs), i = tabs.indexOf(e.target);
  if (i < 0) return;
  let j = null;
  if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
  else if (e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
  else if (e.key === 'Home') j = 0;
  else if (e.key === 'End') j = tabs.length - 1;
  if (j === null) return;
  e.preventDefault();
  selectTab(tabs[j].dataset.tab);
  tabs[j].focus();
}

// ---------------------------------------------------------------- boot
function boot() {
  Object.assign(EL, {
    login: $('#login'), app: $('#app'), me: $('#me'), presence: $('#presence'), conn: $('.conn'), connText: $('.conn-text'),
    tabs: $('.tabs'), inbox: $('#inbox'), list: $('#inbox .list'), emptyList: $('.empty-list'), filter: $('#filter'),
    main: $('#main'), placeholder: $('#main .placeholder'), ctx: $('#ctx'), ctxPlaceholder: $('#ctx .ctx-empty'), transfer: $('#transfer'), help: $('#help'), toasts: $('.toasts'),
  });
  $('form', EL.login).addEventListener('submit', onLogin);
  $('#logout').addEventListener('click', logout);
  EL.presence.addEventListener('change', changePresence);
  $('#help-open').addEventListener('click', () => EL.help.showModal());
  $('#next-unread').addEventListener('click', nextUnread);
  for (const b of $$('[role=tab]', EL.tabs)) b.addEventListener('click', () => selectTab(b.dataset.tab));
  EL.tabs.addEventListener('keydown', onTabKey);
  EL.list.addEventListener('keydown', onListKey);
  EL.filter.addEventListener('input', () => { S.filter = EL.filter.value.toLowerCase().trim(); renderList(); });
  EL.filter.addEventListener('keydown', (e) => { if (e.key === 'Escape' && EL.filter.value) { e.preventDefault(); EL.filter.value = ''; S.filter = ''; renderList(); } });
  for (const d of [EL.transfer, EL.help]) for (const b of $$('[data-close]', d)) b.addEventListener('click', () => d.close());
  $('form', EL.transfer).addEventListener('submit', doTransfer);
  for (const r of $$('input[name=kind]', EL.transfer)) r.addEventListener('change', syncTransferKind);
  EL.transfer.addEventListener('close', () => { const v = transferView; transferView = null; syncTransferKind(); if (v && S.activeId === v.id) v.focusComposer(); });
  D.addEventListener('keydown', onKey);
  D.addEventListener('visibilitychange', () => {
    if (D.visibilityState !== 'visible') return;
    const v = S.activeId && S.views.get(S.activeId);
    if (v) v.maybeRead();
    if (S.token && !S.ws && !S.wsTimer) connect();
  });
  // Keep the open transcript pinned to its end when the window (or the details panel) changes size.
  W.addEventListener('resize', () => { const v = S.activeId && S.views.get(S.activeId); if (v) v.toBottom(); });
  W.addEventListener('online', () => { if (S.token && !S.ws) { clearTimeout(S.wsTimer); S.wsTries = 0; connect(); } });

  const saved = loadSession();
  if (saved) {
    S.token = saved.token;
    S.agent = saved.agent;
    start();
  } else showLogin();
}

// A small test hook (no secrets): the number of rendered views and the active one.
W.BatonConsole = { version: '1.0.0', state: () => ({ activeId: S.activeId, views: S.views.size, live: S.live, tab: S.tab }) };

if (D.readyState === 'loading') D.addEventListener('DOMContentLoaded', boot, { once: true });
else boot();
})();

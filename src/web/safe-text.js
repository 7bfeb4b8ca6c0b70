/*
 * Safe text for Baton's browser scripts (the widget and the agent console). Not served on its own:
 * src/web/assets.ts inlines it where a script has an include comment for it, inside that script's
 * scope, which must define `h(tag, attrs, ...kids)` and `link(href, kids)`.
 */
// Message content never reaches innerHTML: entities are decoded into plain text, and a small Markdown
// subset becomes DOM nodes (text, p, br, strong, em, code, ul/ol/li, and <a> for http(s)/mailto only).
const NAMED = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', copy: '©', reg: '®', trade: '™', euro: '€', pound: '£', times: '×', middot: '·', bull: '•' };
const decode = (s) => String(s == null ? '' : s).replace(/&(#[xX][0-9a-fA-F]{1,6}|#\d{1,7}|[a-zA-Z][a-zA-Z0-9]{1,31});/g, (m, e) => {
  if (e[0] !== '#') return Object.prototype.hasOwnProperty.call(NAMED, e) ? NAMED[e] : m;
  const cp = /x/i.test(e[1]) ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
  return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
});

/** The absolute URL if it is http(s) (or mailto: when allowed); null for javascript:, data: and anything else. */
const safeUrl = (u, base, mailto) => {
  if (typeof u !== 'string' || !u.trim()) return null;
  try {
    const x = new URL(decode(u).trim(), base);
    return /^https?:$/.test(x.protocol) || (mailto && x.protocol === 'mailto:') ? x.href : null;
  } catch (_) { return null; }
};


// [label](url) | **bold** | `code` | *italic* | bare http(s) URL
const INLINE = /\[([^\]\n]+)\]\(\s*<?([^\s()<>]+)>?\s*\)|\*\*(\S(?:[^\n]*?\S)?)\*\*|`([^`\n]+)`|\*([^\s*](?:[^*\n]*?[^\s*])?)\*|(https?:\/\/[^\s<>"]*[^\s<>".,;:!?'")\]}*_])/g;
function inline(text, parent, base, depth, inLink) {
  const re = new RegExp(INLINE.source, 'g');
  const sub = (el, s, a) => (depth < 3 ? inline(s, el, base, depth + 1, inLink || a) : el.append(s), el);
  let last = 0, m;
  while ((m = re.exec(text))) {
    parent.append(text.slice(last, m.index));
    last = re.lastIndex;
    if (m[1] !== undefined) {
      const href = safeUrl(m[2], base, true);
      if (href && !inLink) parent.append(sub(link(href), m[1], true));
      else sub(parent, m[1]); // an unsafe target: keep the words, drop the link
    } else if (m[3] !== undefined) parent.append(sub(h('strong'), m[3]));
    else if (m[4] !== undefined) parent.append(h('code', null, m[4]));
    else if (m[5] !== undefined) parent.append(sub(h('em'), m[5]));
    else parent.append(!inLink && safeUrl(m[6], base) ? link(safeUrl(m[6], base), m[6]) : m[6]);
  }
  parent.append(text.slice(last));
}

/** Paragraphs, line breaks, bullet and numbered lists (and # headings shown bold) around inline(). */
function markdown(src, parent, base) {
  let para = null, list = null, item = null, blank = false;
  for (const raw of decode(src).replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (!line.trim()) { para = item = null; blank = true; continue; }
    const li = /^ {0,3}([-*+•]|\d{1,9}[.)])\s+(.*)$/.exec(line);
    const hd = /^#{1,6}\s+(.*)$/.exec(line);
    if (li) {
      const ordered = /\d/.test(li[1]);
      if (!list || list.ordered !== ordered) {
        parent.append((list = h(ordered ? 'ol' : 'ul')));
        list.ordered = ordered;
        if (ordered && parseInt(li[1], 10) !== 1) list.start = parseInt(li[1], 10);
      }
      list.append((item = h('li')));
      inline(li[2], item, base, 0);
      para = null;
    } else if (item && !blank && /^\s/.test(raw)) {
      item.append(h('br'));
      inline(line.trim(), item, base, 0);
    } else {
      list = item = null;
      if (hd) { para = null; parent.append(h('p', null, sub1(hd[1], base))); }
      else {
        if (para) para.append(h('br'));
        else parent.append((para = h('p')));
        inline(line, para, base, 0);
      }
    }
    blank = false;
  }
}
const sub1 = (s, base) => { const b = h('strong'); inline(s, b, base, 1); return b; };

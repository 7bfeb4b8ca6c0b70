/**
 * Message templates: Handlebars, HTML-escaped by default (`{{{raw}}}` opts out).
 * Templates are compiled once per source and cached; references to variables are
 * checked statically by `templateReferences`.
 */
import Handlebars from 'handlebars';

const hb = Handlebars.create();
const isEmpty = (v: unknown) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
hb.registerHelper('ne', (a: unknown, b: unknown) => a !== b);
hb.registerHelper('upper', (s: unknown) => (typeof s === 'string' ? s.toUpperCase() : s));
hb.registerHelper('lower', (s: unknown) => (typeof s === 'string' ? s.toLowerCase() : s));
hb.registerHelper('default', (v: unknown, d: unknown) => (isEmpty(v) ? d : v));
/** `{{encode vars.query}}`: percent-encode a value for use inside a URL. */
hb.registerHelper('encode', (v: unknown) => (v === undefined || v === null ? '' : encodeURIComponent(String(v))));
hb.registerHelper('join', (v: unknown, sep: unknown) => (Array.isArray(v) ? v.join(typeof sep === 'string' ? sep : ', ') : v));
/** The locale of the message being rendered: US English, or the conversation's language (`renderTemplate(…, language)`). */
const localeOf = (options: unknown): string => {
  const lang = (options as { data?: { lang?: unknown } } | undefined)?.data?.lang;
  return typeof lang === 'string' && lang !== 'en' ? lang : 'en-US';
};
hb.registerHelper('money', (v: unknown, cur: unknown, options?: unknown) => {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) return v;
  const c = typeof cur === 'string' ? cur : 'USD';
  return new Intl.NumberFormat(localeOf(typeof cur === 'string' ? options : cur), { style: 'currency', currency: c }).format(n);
});
/** `{{date vars.when}}` → "Tuesday, December 1, 2026" ("martes, 1 de diciembre de 2026" in Spanish; UTC, no clock read). */
hb.registerHelper('date', (v: unknown, options?: unknown) => {
  if (typeof v !== 'string') return v;
  const d = new Date(v.length === 10 ? v + 'T00:00:00Z' : v);
  if (Number.isNaN(d.getTime())) return v;
  return d.toLocaleDateString(localeOf(options), { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });
});

export const TEMPLATE_HELPERS = ['eq', 'ne', 'upper', 'lower', 'default', 'join', 'money', 'date', 'encode', 'if', 'unless', 'each', 'with', 'lookup', 'log'];
/** The data a template can see. */
export const TEMPLATE_ROOTS = ['slots', 'vars', 'profile', 'bot', 'conversation', 'article'];

const cache = new Map<string, HandlebarsTemplateDelegate>();
const MAX_CACHE = 5000;

export function renderTemplate(source: string, data: Record<string, unknown>, language?: string): string {
  let fn = cache.get(source);
  if (!fn) {
    fn = hb.compile(source, { strict: false, knownHelpersOnly: false });
    if (cache.size >= MAX_CACHE) cache.clear();
    cache.set(source, fn);
  }
  return fn(data, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false, ...(language ? { data: { lang: language } } : {}) });
}

const rawCache = new Map<string, HandlebarsTemplateDelegate>();

/**
 * Render a URL template (links, buttons, images, cards): not HTML-escaped, and only
 * http(s), mailto and tel URLs (or relative paths) are allowed through; anything else
 * (e.g. `javascript:`) becomes an empty string.
 */
export function renderUrl(source: string, data: Record<string, unknown>): string {
  let fn = rawCache.get(source);
  if (!fn) {
    fn = hb.compile(source, { noEscape: true });
    if (rawCache.size >= MAX_CACHE) rawCache.clear();
    rawCache.set(source, fn);
  }
  const url = fn(data, { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false }).trim();
  return /^(https?:|mailto:|tel:|\/|#)/i.test(url) || !/^[a-z][a-z0-9+.-]*:/i.test(url) ? url : '';
}

export interface TemplateRef {
  /** e.g. ['slots','orderId'] */
  path: string[];
  line: number;
  col: number;
}

export class TemplateSyntaxError extends Error {
  constructor(message: string, readonly line: number, readonly col: number) {
    super(message);
  }
}

/** Parse a template and return every variable path it reads outside `#each`/`#with` blocks. Throws TemplateSyntaxError. */
export function templateReferences(source: string): TemplateRef[] {
  let ast: hbs.AST.Program;
  try {
    ast = hb.parse(source);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /line (\d+)/.exec(msg);
    const col = /column (\d+)/.exec(msg);
    const ls = msg.split('\n').filter((l) => l.trim());
    throw new TemplateSyntaxError(ls.length > 1 ? `${ls[0]} ${ls[ls.length - 1]}` : ls[0] ?? msg, m ? Number(m[1]) : 1, col ? Number(col[1]) + 1 : 1);
  }
  const refs: TemplateRef[] = [];
  const visitPath = (p: hbs.AST.PathExpression | hbs.AST.Expression | undefined, isHelperPos = false) => {
    if (!p) return;
    if (p.type === 'SubExpression') {
      const s = p as hbs.AST.SubExpression;
      visitPath(s.path, true);
      s.params.forEach((x) => visitPath(x));
      s.hash?.pairs.forEach((x) => visitPath(x.value));
      return;
    }
    if (p.type !== 'PathExpression') return;
    const pe = p as hbs.AST.PathExpression;
    if (pe.data || pe.depth > 0 || pe.parts.length === 0) return;
    if (isHelperPos && pe.parts.length === 1 && TEMPLATE_HELPERS.includes(pe.parts[0])) return;
    refs.push({ path: [...pe.parts], line: pe.loc?.start.line ?? 1, col: (pe.loc?.start.column ?? 0) + 1 });
  };
  const visit = (node: hbs.AST.Node | undefined): void => {
    if (!node) return;
    switch (node.type) {
      case 'Program':
        (node as hbs.AST.Program).body.forEach(visit);
        return;
      case 'MustacheStatement': {
        const m = node as hbs.AST.MustacheStatement;
        const hasArgs = m.params.length > 0 || (m.hash?.pairs.length ?? 0) > 0;
        visitPath(m.path, hasArgs || (m.path.type === 'PathExpression' && TEMPLATE_HELPERS.includes((m.path as hbs.AST.PathExpression).original)));
        m.params.forEach((x) => visitPath(x));
        m.hash?.pairs.forEach((x) => visitPath(x.value));
        return;
      }
      case 'BlockStatement': {
        const b = node as hbs.AST.BlockStatement;
        visitPath(b.path, true);
        b.params.forEach((x) => visitPath(x));
        b.hash?.pairs.forEach((x) => visitPath(x.value));
        const name = b.path.type === 'PathExpression' ? (b.path as hbs.AST.PathExpression).original : '';
        // Inside each/with the context changes: names there are relative to the item.
        if (name !== 'each' && name !== 'with') visit(b.program);
        visit(b.inverse);
        return;
      }
      default:
        return;
    }
  };
  visit(ast);
  return refs;
}

/**
 * Typed slot values: turn a customer's message into a slot value.
 *
 * Two modes:
 *  - `answer`: the message is the customer's reply to the slot's question. Be lenient
 *    ("it's 42", "yes please", "AB-123456 thanks").
 *  - `scan`: the message was NOT an answer (e.g. the message that triggered the flow).
 *    Only extract when the value is unambiguous; never for `text` or `yes_no`.
 *
 * Pure: no I/O, and no clock — relative dates use the injected `today` ('YYYY-MM-DD'),
 * with all date math in UTC.
 */
import type { JsonValue } from '../util/json';

export type SlotType =
  | { type: 'text'; minLength?: number; maxLength?: number }
  | { type: 'number'; min?: number; max?: number }
  | { type: 'integer'; min?: number; max?: number }
  | { type: 'email' }
  | { type: 'phone' }
  | { type: 'date'; past?: boolean; future?: boolean } // past: only today or earlier allowed; future: only today or later
  | { type: 'yes_no' }
  | { type: 'choice'; options: { value: string; synonyms?: string[]; title?: string; /** The title in a multilingual bot's other languages (also accepted as answers). */ titles?: Record<string, string> }[] }
  | { type: 'pattern'; pattern: string; flags?: string; normalize?: 'upper' | 'lower' | 'none' };

export type ExtractFailure = 'no_value' | 'out_of_range' | 'too_short' | 'too_long' | 'not_allowed';
export type ExtractResult = { ok: true; value: JsonValue; matched: string } | { ok: false; reason: ExtractFailure };

export interface ExtractOptions {
  mode: 'answer' | 'scan';
  /** 'YYYY-MM-DD', injected by the caller; this module never reads the clock. */
  today: string;
  /**
   * The conversation's language: yes/no answers are understood in English and in this language
   * (Spanish, French, German). Numbers, dates and the rest are read the same in every language.
   */
  language?: string;
}

/** Messages longer than this are cut (or, for `text` slots, rejected as too long). */
export const MAX_SLOT_INPUT_LENGTH = 2000;
/** Longest `pattern` a slot may declare. */
export const MAX_PATTERN_LENGTH = 500;

type Candidate = { value: JsonValue; matched: string };

const fail = (reason: ExtractFailure): ExtractResult => ({ ok: false, reason });
const NO_VALUE = fail('no_value');

/** Exactly one distinct value among the candidates → that value; otherwise null (none or ambiguous). */
function single(cands: Candidate[]): Candidate | null {
  const distinct = new Map<string, Candidate>();
  for (const c of cands) if (!distinct.has(JSON.stringify(c.value))) distinct.set(JSON.stringify(c.value), c);
  return distinct.size === 1 ? [...distinct.values()][0] : null;
}

/** Lower-cases char by char so that offsets into the result are offsets into the input. */
function lowerSameLength(s: string): string {
  let out = '';
  for (const ch of s) {
    const l = ch.toLowerCase();
    out += l.length === ch.length ? l : ch;
  }
  return out;
}

const isAlnum = (ch: string | undefined): boolean => ch !== undefined && /[\p{L}\p{N}]/u.test(ch);

/**
 * Extracts a value of the slot's type from `text`. Never throws for odd input or slot
 * definitions (an unusable definition just yields `no_value`); throws a TypeError only
 * when a date slot is given a malformed `opts.today`.
 */
export function extractSlotValue(slot: SlotType, text: string, opts: ExtractOptions): ExtractResult {
  const raw = typeof text === 'string' ? text : '';
  const mode = opts.mode === 'scan' ? 'scan' : 'answer';
  if (slot.type === 'text') return extractText(slot, raw, mode);
  const input = raw.length > MAX_SLOT_INPUT_LENGTH ? raw.slice(0, MAX_SLOT_INPUT_LENGTH) : raw;
  switch (slot.type) {
    case 'number':
    case 'integer':
      return extractNumber(slot, input, mode);
    case 'email':
      return extractEmail(input);
    case 'phone':
      return extractPhone(input, mode);
    case 'date':
      return extractDate(slot, input, mode, parseToday(opts.today));
    case 'yes_no':
      return mode === 'scan' ? NO_VALUE : extractYesNo(input, opts.language);
    case 'choice':
      return extractChoice(slot, input, mode);
    case 'pattern':
      return extractPattern(slot, input, mode);
    default:
      return NO_VALUE;
  }
}

// ---------------------------------------------------------------------------------------
// text
// ---------------------------------------------------------------------------------------

function extractText(slot: Extract<SlotType, { type: 'text' }>, text: string, mode: 'answer' | 'scan'): ExtractResult {
  if (mode === 'scan') return NO_VALUE;
  const value = text.trim();
  if (value === '') return NO_VALUE;
  const length = [...value].length;
  if (length > MAX_SLOT_INPUT_LENGTH) return fail('too_long');
  if (typeof slot.maxLength === 'number' && length > slot.maxLength) return fail('too_long');
  if (typeof slot.minLength === 'number' && length < slot.minLength) return fail('too_short');
  return { ok: true, value, matched: value };
}

// ---------------------------------------------------------------------------------------
// number / integer
// ---------------------------------------------------------------------------------------

const UNITS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9,
};
const TEENS: Record<string, number> = {
  ten: 10, eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18, nineteen: 19,
};
const TENS: Record<string, number> = {
  twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
};
const own = (rec: Record<string, number>, k: string): number | undefined =>
  Object.prototype.hasOwnProperty.call(rec, k) ? rec[k] : undefined;

type Found = { value: number; start: number; end: number };

/**
 * Numbers written as digits: "42", "-2", "3.5", "1,234", "3rd". A number glued to letters
 * ("AB123"), to a hyphen ("AB-123", "555-1234") or to other digits via ".,/:" ("3,5",
 * "10:30", "1/2") is not taken.
 */
const DIGIT_NUMBER_RE =
  /(?<![\p{L}\p{N}_.,\-+/:])([-+]?)(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?:st|nd|rd|th)?(?![\p{L}\p{N}_]|[.,\-/:]\d)/gu;

function digitNumbers(text: string): Found[] {
  const out: Found[] = [];
  for (const m of text.matchAll(DIGIT_NUMBER_RE)) {
    const n = Number(m[2].replace(/,/g, ''));
    if (!Number.isFinite(n)) continue;
    const value = m[1] === '-' ? -n : n;
    out.push({ value: value === 0 ? 0 : value, start: m.index!, end: m.index! + m[0].length });
  }
  return out;
}

/** English number words: "five", "twenty five", "twenty-five", "a hundred and five", "minus three". */
function wordNumbers(text: string): Found[] {
  const low = lowerSameLength(text);
  const toks = [...low.matchAll(/[a-z]+/g)].map((m) => ({ w: m[0], start: m.index!, end: m.index! + m[0].length }));
  const adjacent = (j: number): boolean => j > 0 && j < toks.length && /^[\s-]+$/.test(low.slice(toks[j - 1].end, toks[j].start));
  const isWord = (j: number): boolean =>
    j < toks.length && (own(UNITS, toks[j].w) !== undefined || own(TEENS, toks[j].w) !== undefined || own(TENS, toks[j].w) !== undefined || toks[j].w === 'hundred');
  const small = (j: number): { v: number; next: number } | null => {
    if (j >= toks.length) return null;
    const w = toks[j].w;
    const tens = own(TENS, w);
    if (tens !== undefined) {
      const unit = adjacent(j + 1) ? own(UNITS, toks[j + 1].w) : undefined;
      return unit !== undefined && unit > 0 ? { v: tens + unit, next: j + 2 } : { v: tens, next: j + 1 };
    }
    const v = own(TEENS, w) ?? own(UNITS, w);
    return v === undefined ? null : { v, next: j + 1 };
  };
  const out: Found[] = [];
  let i = 0;
  while (i < toks.length) {
    let j = i;
    let negative = false;
    if ((toks[j].w === 'minus' || toks[j].w === 'negative') && adjacent(j + 1) && isWord(j + 1)) {
      negative = true;
      j++;
    }
    let value: number | null = null;
    let hundreds = false;
    if (toks[j].w === 'a' && adjacent(j + 1) && toks[j + 1].w === 'hundred') {
      value = 100;
      hundreds = true;
      j += 2;
    } else if (toks[j].w === 'hundred') {
      value = 100;
      hundreds = true;
      j++;
    } else {
      const s = small(j);
      if (s) {
        value = s.v;
        j = s.next;
        if (s.v > 0 && adjacent(j) && toks[j].w === 'hundred') {
          value = s.v * 100;
          hundreds = true;
          j++;
        }
      }
    }
    if (value === null) {
      i++;
      continue;
    }
    if (hundreds) {
      let k = j;
      if (adjacent(k) && toks[k].w === 'and') k++;
      const rest = adjacent(k) ? small(k) : null;
      if (rest && rest.v > 0) {
        value += rest.v;
        j = rest.next;
      }
    }
    out.push({ value: negative ? -value : value, start: toks[i].start, end: toks[j - 1].end });
    i = j;
  }
  return out;
}

function extractNumber(slot: Extract<SlotType, { type: 'number' | 'integer' }>, text: string, mode: 'answer' | 'scan'): ExtractResult {
  const digits = digitNumbers(text);
  const words = wordNumbers(text);
  // Answering, digits win over words ("the one with 3" → 3); scanning, any second number makes it ambiguous.
  const found = mode === 'answer' ? (digits.length > 0 ? digits : words) : [...digits, ...words];
  const pick = single(found.map((f) => ({ value: f.value, matched: text.slice(f.start, f.end) })));
  if (!pick) return NO_VALUE;
  const value = pick.value as number;
  if (slot.type === 'integer' && !Number.isInteger(value)) return fail('not_allowed');
  if (typeof slot.min === 'number' && value < slot.min) return fail('out_of_range');
  if (typeof slot.max === 'number' && value > slot.max) return fail('out_of_range');
  return { ok: true, value, matched: pick.matched };
}

// ---------------------------------------------------------------------------------------
// email
// ---------------------------------------------------------------------------------------

const EMAIL_RE =
  /(?<![\p{L}\p{N}._%+\-@])[a-z0-9_%+\-]+(?:\.[a-z0-9_%+\-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}(?![\p{L}\p{N}_\-@]|\.[\p{L}\p{N}])/giu;

function extractEmail(text: string): ExtractResult {
  const cands = [...text.matchAll(EMAIL_RE)].map((m) => ({ value: m[0].toLowerCase(), matched: m[0] }));
  const pick = single(cands);
  return pick ? { ok: true, ...pick } : NO_VALUE;
}

// ---------------------------------------------------------------------------------------
// phone
// ---------------------------------------------------------------------------------------

/** Digits with optional single separators (space, dot, dash) and (area) groups, optional leading +. */
const PHONE_RE = /(?<![\p{L}\p{N}_+\-./])(\+\s?)?(?:\(\d{1,5}\)|\d)(?:[ .\-]?(?:\(\d{1,5}\)|\d))*(?![\p{L}\p{N}_]|[\-./]\d)/gu;

function extractPhone(text: string, mode: 'answer' | 'scan'): ExtractResult {
  const cands: Candidate[] = [];
  for (const m of text.matchAll(PHONE_RE)) {
    const s = m[0];
    const digits = s.replace(/\D/g, '');
    if (digits.length < 7 || digits.length > 15) continue;
    if (/^\d{4}[-.]\d{1,2}[-.]\d{1,2}$/.test(s) || /^\d{1,2}\.\d{1,2}\.\d{2,4}$/.test(s) || /^\d+\.\d+$/.test(s)) continue; // dates, decimals
    const plus = s.startsWith('+');
    // Scanning, a bare run of 7–9 digits is more likely an order or account number than a phone number.
    if (mode === 'scan' && !plus && /^\d+$/.test(s) && digits.length < 10) continue;
    cands.push({ value: plus ? `+${digits}` : digits, matched: s });
  }
  const pick = single(cands);
  return pick ? { ok: true, ...pick } : NO_VALUE;
}

// ---------------------------------------------------------------------------------------
// date
// ---------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 (UTC) for a valid calendar date, else null. */
function dayNumber(y: number, m: number, d: number): number | null {
  if (!Number.isInteger(y) || !Number.isInteger(m) || !Number.isInteger(d) || m < 1 || m > 12 || d < 1 || d > 31) return null;
  const dt = new Date(Date.UTC(2000, m - 1, d));
  dt.setUTCFullYear(y);
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== m - 1 || dt.getUTCDate() !== d) return null;
  return Math.round(dt.getTime() / DAY_MS);
}

function ymd(dn: number): { y: number; m: number; d: number } {
  const dt = new Date(dn * DAY_MS);
  return { y: dt.getUTCFullYear(), m: dt.getUTCMonth() + 1, d: dt.getUTCDate() };
}

function formatDay(dn: number): string {
  const { y, m, d } = ymd(dn);
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** 0 = Sunday … 6 = Saturday. */
function weekday(dn: number): number {
  return (((dn % 7) + 7 + 4) % 7 + 7) % 7; // 1970-01-01 was a Thursday
}

function parseToday(today: string): number {
  const m = typeof today === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(today) : null;
  const dn = m ? dayNumber(Number(m[1]), Number(m[2]), Number(m[3])) : null;
  if (dn === null) throw new TypeError(`extractSlotValue: opts.today must be a date like '2026-12-01', got ${JSON.stringify(today)}`);
  return dn;
}

const MONTHS: Record<string, number> = {
  january: 1, jan: 1, february: 2, feb: 2, march: 3, mar: 3, april: 4, apr: 4, may: 5, june: 6, jun: 6,
  july: 7, jul: 7, august: 8, aug: 8, september: 9, sept: 9, sep: 9, october: 10, oct: 10,
  november: 11, nov: 11, december: 12, dec: 12,
};
const MONTH_ALT =
  'january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec';
const WEEKDAYS: Record<string, number> = {
  sunday: 0, monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6,
  sun: 0, mon: 1, tue: 2, tues: 2, wed: 3, thu: 4, thur: 4, thurs: 4, fri: 5, sat: 6,
};
const WEEKDAY_ALT = 'sunday|monday|tuesday|wednesday|thursday|friday|saturday|tues|thurs|thur|sun|mon|tue|wed|thu|fri|sat';
const ORDINAL_WORDS: Record<string, number> = {
  first: 1, second: 2, third: 3, fourth: 4, fifth: 5, sixth: 6, seventh: 7, eighth: 8, ninth: 9, tenth: 10,
};

type DateSlot = Extract<SlotType, { type: 'date' }>;
/** A resolved day number, 'invalid' for a date-shaped but impossible date, or null for "not a date after all". */
type DateHit = number | 'invalid' | null;
interface DateCtx {
  today: number;
  slot: DateSlot;
  mode: 'answer' | 'scan';
}

const onlyPast = (slot: DateSlot): boolean => slot.past === true && slot.future !== true;
const onlyFuture = (slot: DateSlot): boolean => slot.future === true && slot.past !== true;

/** A month/day without a year: this year, or the nearest year that satisfies past/future. */
function resolveNoYear(m: number, d: number, ctx: DateCtx): DateHit {
  const ty = ymd(ctx.today).y;
  if (!onlyPast(ctx.slot) && !onlyFuture(ctx.slot)) return dayNumber(ty, m, d) ?? 'invalid';
  const step = onlyPast(ctx.slot) ? -1 : 1;
  for (let k = 0; k <= 8; k++) {
    const dn = dayNumber(ty + step * k, m, d);
    if (dn === null) continue;
    if (step < 0 ? dn <= ctx.today : dn >= ctx.today) return dn;
  }
  return 'invalid';
}

/** A bare day of the month ("the 5th"): this month, or the nearest month that satisfies past/future. */
function resolveDayOfMonth(d: number, ctx: DateCtx): DateHit {
  const t = ymd(ctx.today);
  const step = onlyPast(ctx.slot) ? -1 : onlyFuture(ctx.slot) ? 1 : 0;
  for (let k = 0; k <= 12; k++) {
    const idx = t.y * 12 + (t.m - 1) + step * k;
    const dn = dayNumber(Math.floor(idx / 12), (idx % 12) + 1, d);
    if (step === 0) return dn ?? 'invalid';
    if (dn !== null && (step < 0 ? dn <= ctx.today : dn >= ctx.today)) return dn;
  }
  return 'invalid';
}

function fullYear(s: string): number {
  return s.length === 2 ? 2000 + Number(s) : Number(s);
}

/** "3", "a", "an", "three", "twenty one" → number; anything else null. */
function smallCount(s: string): number | null {
  if (/^\d{1,3}$/.test(s)) return Number(s);
  if (s === 'a' || s === 'an') return 1;
  const w = wordNumbers(s);
  return w.length === 1 && w[0].start === 0 && w[0].end === s.length && w[0].value >= 0 ? w[0].value : null;
}

interface DateRule {
  re: RegExp;
  answerOnly?: boolean;
  resolve: (m: RegExpExecArray, ctx: DateCtx) => DateHit;
}

const ORD = '(?:st|nd|rd|th)';

/** Tried in order; each match is blanked out before the next rule runs, so "last monday" is not also "monday". */
const DATE_RULES: DateRule[] = [
  {
    // 2026-12-01, 2026/12/01
    re: /(?<![\w./-])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\w]|[-/.]\d)/g,
    resolve: (m) => dayNumber(Number(m[1]), Number(m[2]), Number(m[3])) ?? 'invalid',
  },
  {
    // 12/01/2026, 12/1/26 (US: month/day/year)
    re: /(?<![\w./-])(\d{1,2})\/(\d{1,2})\/(\d{4}|\d{2})(?![\w]|[/.]\d)/g,
    resolve: (m) => dayNumber(fullYear(m[3]), Number(m[1]), Number(m[2])) ?? 'invalid',
  },
  {
    // 1 December 2026, 1st of Dec, the 3rd of may
    re: new RegExp(`(?<![\\w])(the\\s+)?(\\d{1,2})(${ORD})?(\\s+of)?\\s+(${MONTH_ALT})\\.?(?![a-z])(?:,?\\s+(\\d{4})(?!\\d))?`, 'g'),
    resolve: (m, ctx) => {
      const month = MONTHS[m[5]];
      const day = Number(m[2]);
      if (m[6]) return dayNumber(Number(m[6]), month, day) ?? 'invalid';
      // "I have 2 may…": in scan mode a bare "<n> may" is too weak a signal.
      if (m[5] === 'may' && ctx.mode === 'scan' && !m[1] && !m[3] && !m[4]) return null;
      return resolveNoYear(month, day, ctx);
    },
  },
  {
    // December 1, Dec 1st, Dec. 1st 2026, December the 1st
    re: new RegExp(`(?<![\\w])(${MONTH_ALT})\\.?(?![a-z])\\s+(the\\s+)?(\\d{1,2})(${ORD})?(?![\\w])(?:,?\\s+(\\d{4})(?!\\d))?`, 'g'),
    resolve: (m, ctx) => {
      const month = MONTHS[m[1]];
      const day = Number(m[3]);
      if (m[5]) return dayNumber(Number(m[5]), month, day) ?? 'invalid';
      if (m[1] === 'may' && ctx.mode === 'scan' && !m[2] && !m[4]) return null;
      return resolveNoYear(month, day, ctx);
    },
  },
  {
    re: /\b(the\s+day\s+after\s+tomorrow|day\s+after\s+tomorrow|the\s+day\s+before\s+yesterday|day\s+before\s+yesterday|today|tonight|tomorrow|tmrw|tmr|yesterday)\b/g,
    resolve: (m, ctx) => {
      const w = m[1].replace(/^the\s+/, '').replace(/\s+/g, ' ');
      const delta: Record<string, number> = {
        'day after tomorrow': 2, 'day before yesterday': -2, today: 0, tonight: 0, tomorrow: 1, tmrw: 1, tmr: 1, yesterday: -1,
      };
      return ctx.today + delta[w];
    },
  },
  {
    re: /\b(next|last|previous)\s+week\b/g,
    resolve: (m, ctx) => ctx.today + (m[1] === 'next' ? 7 : -7),
  },
  {
    // in 3 days, in a week, in two weeks
    re: /\bin\s+(\d{1,3}|[a-z]+(?:[\s-][a-z]+)?)\s+(days?|weeks?)\b/g,
    resolve: (m, ctx) => {
      const n = smallCount(m[1]);
      return n === null ? null : ctx.today + n * (m[2].startsWith('week') ? 7 : 1);
    },
  },
  {
    // 3 days ago, a week ago
    re: /(?<![\w])(\d{1,3}|[a-z]+(?:[\s-][a-z]+)?)\s+(days?|weeks?)\s+ago\b/g,
    resolve: (m, ctx) => {
      const n = smallCount(m[1]);
      return n === null ? null : ctx.today - n * (m[2].startsWith('week') ? 7 : 1);
    },
  },
  {
    // monday, next friday, last tuesday, this wed (abbreviations only when answering)
    re: new RegExp(`\\b(?:(next|last|previous|this|coming)\\s+)?(${WEEKDAY_ALT})\\b\\.?`, 'g'),
    resolve: (m, ctx) => {
      const name = m[2];
      if (!name.endsWith('day') && ctx.mode === 'scan') return null;
      const target = WEEKDAYS[name];
      const wd = weekday(ctx.today);
      const ahead = ((target - wd + 7) % 7) || 7; // strictly after today
      const behind = ((wd - target + 7) % 7) || 7; // strictly before today
      if (m[1] === 'last' || m[1] === 'previous') return ctx.today - behind;
      if (m[1] === 'next') return ctx.today + ahead;
      // A bare weekday is the next one — unless only past dates are allowed ("I ordered on monday").
      return onlyPast(ctx.slot) ? ctx.today - behind : ctx.today + ahead;
    },
  },
  {
    // 12/01 (month/day, no year) — only as an answer: in free text it is too easily a fraction.
    re: /(?<![\w./-])(\d{1,2})\/(\d{1,2})(?![\w]|[/.]\d)/g,
    answerOnly: true,
    resolve: (m, ctx) => resolveNoYear(Number(m[1]), Number(m[2]), ctx),
  },
  {
    // the 5th, 21st — day of the month, only as an answer
    re: new RegExp(`(?<![\\w])(?:the\\s+)?(\\d{1,2})${ORD}(?![\\w])`, 'g'),
    answerOnly: true,
    resolve: (m, ctx) => resolveDayOfMonth(Number(m[1]), ctx),
  },
];

function extractDate(slot: DateSlot, text: string, mode: 'answer' | 'scan', today: number): ExtractResult {
  const ctx: DateCtx = { today, slot, mode };
  let low = lowerSameLength(text);
  const hits: { dn: number | 'invalid'; matched: string }[] = [];
  for (const rule of DATE_RULES) {
    if (rule.answerOnly && mode === 'scan') continue;
    rule.re.lastIndex = 0;
    const spans: [number, number][] = [];
    for (const m of low.matchAll(rule.re)) {
      const hit = rule.resolve(m as RegExpExecArray, ctx);
      if (hit === null) continue;
      const start = m.index!;
      const end = start + m[0].length;
      hits.push({ dn: hit, matched: text.slice(start, end).trim() });
      spans.push([start, end]);
    }
    for (const [s, e] of spans) low = low.slice(0, s) + ' '.repeat(e - s) + low.slice(e);
  }
  if (hits.some((h) => h.dn === 'invalid')) return NO_VALUE;
  const pick = single(hits.map((h) => ({ value: h.dn as number, matched: h.matched })));
  if (!pick) return NO_VALUE;
  const dn = pick.value as number;
  if (slot.past === true && dn > today) return fail('out_of_range');
  if (slot.future === true && dn < today) return fail('out_of_range');
  return { ok: true, value: formatDay(dn), matched: pick.matched };
}

// ---------------------------------------------------------------------------------------
// yes / no
// ---------------------------------------------------------------------------------------

type Polarity = 'yes' | 'no' | 'unsure';

const YES_NO_PHRASES: [string, Polarity][] = [
  // At each position the longest phrase wins, so "not sure" is unsure (not "sure") and "no problem" is yes (not "no").
  ['not sure', 'unsure'], ["i'm not sure", 'unsure'], ['im not sure', 'unsure'], ['not certain', 'unsure'], ['unsure', 'unsure'],
  ['maybe', 'unsure'], ['perhaps', 'unsure'], ['possibly', 'unsure'], ['idk', 'unsure'], ['dunno', 'unsure'],
  ["don't know", 'unsure'], ['dont know', 'unsure'], ['do not know', 'unsure'], ['no idea', 'unsure'], ['never mind', 'unsure'],
  ['nevermind', 'unsure'],
  ['yes', 'yes'], ['yeah', 'yes'], ['yea', 'yes'], ['yeh', 'yes'], ['yep', 'yes'], ['yup', 'yes'], ['ya', 'yes'], ['yah', 'yes'],
  ['sure', 'yes'], ['ok', 'yes'], ['okay', 'yes'], ['okey', 'yes'], ['correct', 'yes'], ['right', 'yes'], ['alright', 'yes'],
  ['all right', 'yes'], ['please do', 'yes'], ['of course', 'yes'], ['ofc', 'yes'], ['absolutely', 'yes'], ['definitely', 'yes'],
  ['certainly', 'yes'], ['affirmative', 'yes'], ['indeed', 'yes'], ['sounds good', 'yes'], ['go ahead', 'yes'], ['do it', 'yes'],
  ['no problem', 'yes'], ['why not', 'yes'], ['true', 'yes'], ['fine', 'yes'], ['exactly', 'yes'], ['agreed', 'yes'],
  ['for sure', 'yes'], ['totally', 'yes'], ['yes please', 'yes'], ['👍', 'yes'],
  ['no', 'no'], ['nope', 'no'], ['nah', 'no'], ['naw', 'no'], ['not really', 'no'], ['no thanks', 'no'], ['no thank you', 'no'],
  ['not at all', 'no'], ['no way', 'no'], ['never', 'no'], ['negative', 'no'], ['not now', 'no'], ['not yet', 'no'],
  ['incorrect', 'no'], ['wrong', 'no'], ['false', 'no'], ["don't", 'no'], ['dont', 'no'], ['do not', 'no'], ['please don\'t', 'no'],
  ['👎', 'no'],
];
const PHRASES = new Map<string, Polarity>(YES_NO_PHRASES);
const MAX_PHRASE_WORDS = 4;
const NEGATORS = new Set(['not', "isn't", 'isnt', "wasn't", 'wasnt', "ain't"]);

/** Yes / no / unsure in the other languages Baton speaks, added to the English ones in a conversation in that language. */
const LOCAL_YES_NO: Record<string, { phrases: [string, Polarity][]; negators: string[] }> = {
  es: {
    phrases: [
      ['no sé', 'unsure'], ['no se', 'unsure'], ['no lo sé', 'unsure'], ['no lo se', 'unsure'], ['quizás', 'unsure'], ['quizas', 'unsure'], ['quizá', 'unsure'],
      ['tal vez', 'unsure'], ['a lo mejor', 'unsure'], ['no estoy seguro', 'unsure'], ['no estoy segura', 'unsure'], ['ni idea', 'unsure'],
      ['sí', 'yes'], ['si', 'yes'], ['sip', 'yes'], ['claro', 'yes'], ['claro que sí', 'yes'], ['claro que si', 'yes'], ['vale', 'yes'], ['de acuerdo', 'yes'],
      ['por supuesto', 'yes'], ['correcto', 'yes'], ['exacto', 'yes'], ['perfecto', 'yes'], ['venga', 'yes'], ['dale', 'yes'], ['sí por favor', 'yes'],
      ['si por favor', 'yes'], ['efectivamente', 'yes'], ['sin problema', 'yes'], ['está bien', 'yes'], ['esta bien', 'yes'],
      ['no', 'no'], ['nop', 'no'], ['para nada', 'no'], ['no gracias', 'no'], ['nunca', 'no'], ['de ninguna manera', 'no'], ['todavía no', 'no'],
      ['todavia no', 'no'], ['ahora no', 'no'], ['mejor no', 'no'], ['incorrecto', 'no'], ['en absoluto', 'no'],
    ],
    negators: [],
  },
  fr: {
    phrases: [
      ['je ne sais pas', 'unsure'], ['je sais pas', 'unsure'], ['sais pas', 'unsure'], ['peut être', 'unsure'], ['peut etre', 'unsure'],
      ['aucune idée', 'unsure'], ['aucune idee', 'unsure'], ['pas sûr', 'unsure'], ['pas sur', 'unsure'], ['pas sûre', 'unsure'], ['pas sure', 'unsure'],
      ['oui', 'yes'], ['ouais', 'yes'], ['ouaip', 'yes'], ["d'accord", 'yes'], ['dac', 'yes'], ['bien sûr', 'yes'], ['bien sur', 'yes'],
      ['exactement', 'yes'], ['tout à fait', 'yes'], ['tout a fait', 'yes'], ['volontiers', 'yes'], ['parfait', 'yes'], ['carrément', 'yes'],
      ['oui merci', 'yes'], ['oui svp', 'yes'], ['avec plaisir', 'yes'], ['ça marche', 'yes'], ['ca marche', 'yes'], ['entendu', 'yes'], ['c\'est ça', 'yes'],
      ['non', 'no'], ['nan', 'no'], ['pas du tout', 'no'], ['non merci', 'no'], ['jamais', 'no'], ['pas encore', 'no'], ['pas maintenant', 'no'],
      ['surtout pas', 'no'], ['faux', 'no'],
    ],
    negators: ['pas'],
  },
  de: {
    phrases: [
      ['weiß nicht', 'unsure'], ['weiss nicht', 'unsure'], ['ich weiß nicht', 'unsure'], ['ich weiss nicht', 'unsure'], ['keine ahnung', 'unsure'],
      ['vielleicht', 'unsure'], ['nicht sicher', 'unsure'], ['bin mir nicht sicher', 'unsure'], ['eventuell', 'unsure'],
      ['ja', 'yes'], ['jawohl', 'yes'], ['jap', 'yes'], ['jo', 'yes'], ['genau', 'yes'], ['klar', 'yes'], ['natürlich', 'yes'], ['natuerlich', 'yes'],
      ['gerne', 'yes'], ['gern', 'yes'], ['einverstanden', 'yes'], ['in ordnung', 'yes'], ['richtig', 'yes'], ['stimmt', 'yes'], ['passt', 'yes'],
      ['ja bitte', 'yes'], ['ja gerne', 'yes'], ['auf jeden fall', 'yes'], ['selbstverständlich', 'yes'], ['alles klar', 'yes'],
      ['nein', 'no'], ['nee', 'no'], ['ne', 'no'], ['nö', 'no'], ['auf keinen fall', 'no'], ['nein danke', 'no'], ['niemals', 'no'], ['noch nicht', 'no'],
      ['jetzt nicht', 'no'], ['falsch', 'no'], ['lieber nicht', 'no'], ['gar nicht', 'no'],
    ],
    negators: ['nicht'],
  },
};
const LOCAL_PHRASES = new Map<string, { phrases: Map<string, Polarity>; negators: Set<string> }>(
  Object.entries(LOCAL_YES_NO).map(([l, x]) => [l, { phrases: new Map([...YES_NO_PHRASES, ...x.phrases]), negators: new Set([...NEGATORS, ...x.negators]) }]),
);

/** Squash elongated words: "yesss" → "yes", "nooo" → "no", "okkk" → "ok". */
function canonicalWord(w: string): string {
  if (/^y+e+s+$/.test(w)) return 'yes';
  if (/^n+o+$/.test(w)) return 'no';
  if (/^y+e+a+h*$/.test(w)) return 'yeah';
  if (/^y+u+p+$/.test(w)) return 'yup';
  if (/^n+o+p+e+$/.test(w)) return 'nope';
  if (/^n+a+h+$/.test(w)) return 'nah';
  if (/^o+k+$/.test(w)) return 'ok';
  return w;
}

function extractYesNo(text: string, language?: string): ExtractResult {
  const local = language ? LOCAL_PHRASES.get(language) : undefined;
  const phrases = local?.phrases ?? PHRASES;
  const negators = local?.negators ?? NEGATORS;
  const low = lowerSameLength(text).replace(/[’‘`]/g, "'");
  const toks = [...low.matchAll(/👍|👎|[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu)].map((m) => ({
    w: canonicalWord(m[0]),
    start: m.index!,
    end: m.index! + m[0].length,
  }));
  if (toks.length === 0) return NO_VALUE;
  // Single letters only count when they are the whole reply.
  if (toks.length === 1 && (toks[0].w === 'y' || toks[0].w === 'n' || toks[0].w === 'k')) {
    return { ok: true, value: toks[0].w !== 'n', matched: text.slice(toks[0].start, toks[0].end) };
  }
  const phraseAt = (i: number): { pol: Polarity; len: number } | null => {
    for (let len = Math.min(MAX_PHRASE_WORDS, toks.length - i); len >= 1; len--) {
      const pol = phrases.get(toks.slice(i, i + len).map((t) => t.w).join(' '));
      if (pol) return { pol, len };
    }
    return null;
  };
  const seen = new Set<Polarity>();
  let first: { start: number; end: number } | null = null;
  for (let i = 0; i < toks.length; ) {
    let hit = phraseAt(i);
    // "not right", "isn't correct" → no
    if ((!hit || hit.pol === 'no') && negators.has(toks[i].w) && i + 1 < toks.length) {
      const next = phraseAt(i + 1);
      if (next && next.pol === 'yes') hit = { pol: 'no', len: next.len + 1 };
    }
    if (!hit) {
      i++;
      continue;
    }
    seen.add(hit.pol);
    first ??= { start: toks[i].start, end: toks[i + hit.len - 1].end };
    i += hit.len;
  }
  if (seen.size !== 1 || seen.has('unsure') || !first) return NO_VALUE;
  return { ok: true, value: seen.has('yes'), matched: text.slice(first.start, first.end) };
}

// ---------------------------------------------------------------------------------------
// choice
// ---------------------------------------------------------------------------------------

type ChoiceSlot = Extract<SlotType, { type: 'choice' }>;
type Tok = { w: string; start: number; end: number };

function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase();
}

function tokens(s: string): Tok[] {
  return [...s.matchAll(/[\p{L}\p{N}]+/gu)].map((m) => ({ w: fold(m[0]), start: m.index!, end: m.index! + m[0].length }));
}

/** Same word, allowing a plural "s"/"es" on either side for words of 3+ letters. */
function sameWord(a: string, b: string): boolean {
  if (a === b) return true;
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  return short.length >= 3 && (long === `${short}s` || long === `${short}es`);
}

function optionPhrases(opt: ChoiceSlot['options'][number]): string[][] {
  const titles = opt.titles && typeof opt.titles === 'object' ? Object.values(opt.titles) : [];
  const raw = [opt.value, opt.title, ...titles, ...(Array.isArray(opt.synonyms) ? opt.synonyms : [])];
  const out: string[][] = [];
  for (const r of raw) {
    if (typeof r !== 'string') continue;
    const ws = tokens(r).map((t) => t.w);
    if (ws.length > 0 && !out.some((o) => o.join(' ') === ws.join(' '))) out.push(ws);
  }
  return out;
}

const CHOICE_FILLER = new Set(['the', 'a', 'an', 'one', 'option', 'number', 'no', 'choice', 'please', 'pls', 'i', 'choose', 'pick', 'want', 'd', 'like', 'll', 'take', 'it', 's', 'is', 'thanks', 'thank', 'you']);

/** Option phrases per options list (bots are loaded once; their slot definitions do not change). */
const phraseCache = new WeakMap<object, string[][][]>();

function extractChoice(slot: ChoiceSlot, text: string, mode: 'answer' | 'scan'): ExtractResult {
  const options = Array.isArray(slot.options) ? slot.options.filter((o) => o && typeof o.value === 'string') : [];
  if (options.length === 0) return NO_VALUE;
  let phrases = phraseCache.get(slot.options);
  if (!phrases || phrases.length !== options.length) {
    phrases = options.map(optionPhrases);
    if (Array.isArray(slot.options)) phraseCache.set(slot.options, phrases);
  }
  const msg = tokens(text);
  if (msg.length === 0) return NO_VALUE;
  const ok = (i: number, start: number, end: number): ExtractResult => ({ ok: true, value: options[i].value, matched: text.slice(start, end) });

  if (mode === 'answer') {
    // 1. The whole reply is an option's value, title or synonym.
    const whole = msg.map((t) => t.w).join(' ');
    const exact = phrases.flatMap((ps, i) => (ps.some((p) => p.join(' ') === whole) ? [i] : []));
    if (exact.length === 1) return ok(exact[0], msg[0].start, msg[msg.length - 1].end);
    if (exact.length > 1) return NO_VALUE;

    // 2. The option's number ("2", "#2", "option 2", "the second one"), unless options themselves are numbers.
    const meaningful = msg.filter((t) => !CHOICE_FILLER.has(t.w));
    if (meaningful.length === 1) {
      const w = meaningful[0].w;
      const allWords = new Set(phrases.flat(2));
      const numericOptions = [...allWords].some((x) => /^\d+$/.test(x));
      let index: number | null = null;
      const ord = /^(\d{1,2})(?:st|nd|rd|th)?$/.exec(w);
      if (ord && !numericOptions) index = Number(ord[1]);
      else if (Object.prototype.hasOwnProperty.call(ORDINAL_WORDS, w) && !allWords.has(w)) index = ORDINAL_WORDS[w];
      if (index !== null) {
        if (index < 1 || index > options.length) return fail('out_of_range');
        return ok(index - 1, meaningful[0].start, meaningful[0].end);
      }
    }
  }

  // 3. Option phrases appearing as whole words; a match inside a longer match of another option is dropped
  //    ("gift card" beats "card"). Exactly one option must remain.
  const hits: { opt: number; from: number; to: number }[] = [];
  phrases.forEach((ps, opt) => {
    for (const p of ps) {
      for (let i = 0; i + p.length <= msg.length; i++) {
        if (p.every((w, j) => sameWord(msg[i + j].w, w))) hits.push({ opt, from: i, to: i + p.length });
      }
    }
  });
  const kept = hits.filter(
    (h) => !hits.some((o) => o.opt !== h.opt && o.from <= h.from && h.to <= o.to && o.to - o.from > h.to - h.from),
  );
  const opts = new Set(kept.map((h) => h.opt));
  if (opts.size !== 1) return NO_VALUE;
  // Report the longest (then first) phrase that matched.
  const h = kept.reduce((best, k) => (k.to - k.from > best.to - best.from || (k.to - k.from === best.to - best.from && k.from < best.from) ? k : best));
  return ok(h.opt, msg[h.from].start, msg[h.to - 1].end);
}

// ---------------------------------------------------------------------------------------
// pattern
// ---------------------------------------------------------------------------------------

type PatternSlot = Extract<SlotType, { type: 'pattern' }>;

function cleanFlags(flags: unknown): string {
  return [...new Set(typeof flags === 'string' ? flags.replace(/[^imsu]/g, '') : '')].join('');
}

function compilePattern(slot: PatternSlot): { search: RegExp; whole: RegExp } | null {
  if (typeof slot.pattern !== 'string' || slot.pattern.length === 0 || slot.pattern.length > MAX_PATTERN_LENGTH) return null;
  try {
    const flags = cleanFlags(slot.flags);
    return { search: new RegExp(slot.pattern, `${flags}g`), whole: new RegExp(`^(?:${slot.pattern})$`, flags) };
  } catch {
    return null;
  }
}

/** Words that may surround a pattern answer without making it "not the answer". */
const PATTERN_FILLER = new Set(
  (
    "it it's its is was my the a an number no nr num order code id reference ref tracking here here's heres this that that's thats " +
    "i i'm im think believe thanks thank you thx ty please pls ok okay sure yes yeah yep hi hello hey of course so much sorry " +
    'um uh er oh well should be got have has and for to on in at just again mine our we account customer booking reservation ' +
    "ticket case confirmation postcode zip email phone one"
  ).split(' '),
);

function extractPattern(slot: PatternSlot, text: string, mode: 'answer' | 'scan'): ExtractResult {
  const re = compilePattern(slot);
  if (!re) return NO_VALUE;
  const norm = slot.normalize === 'upper' ? text.toUpperCase() : slot.normalize === 'lower' ? text.toLowerCase() : text;
  const sameLength = norm.length === text.length;
  const spans: { start: number; end: number }[] = [];

  // 1. Matches anywhere, not glued to letters/digits on either side ("\d{6}" must not match inside "1234567").
  for (const m of norm.matchAll(re.search)) {
    const s = m.index!;
    const e = s + m[0].length;
    if (e === s) continue;
    if ((isAlnum(norm[s]) && isAlnum(norm[s - 1])) || (isAlnum(norm[e - 1]) && isAlnum(norm[e]))) continue;
    spans.push({ start: s, end: e });
  }
  // 2. Otherwise (e.g. an anchored "^…$" pattern), runs of 1–4 words, stripped of surrounding punctuation,
  //    that the pattern matches completely.
  if (spans.length === 0) {
    const words = [...norm.matchAll(/\S+/g)].map((m) => {
      const lead = /^[\s"'“”‘’()[\]{}<>,;:!?.]*/.exec(m[0])![0].length;
      const trail = /[\s"'“”‘’()[\]{}<>,;:!?.]*$/.exec(m[0].slice(lead))![0].length;
      return { start: m.index! + lead, end: m.index! + m[0].length - trail, rawStart: m.index!, rawEnd: m.index! + m[0].length };
    });
    for (let i = 0; i < words.length; i++) {
      for (let n = 1; n <= 4 && i + n <= words.length; n++) {
        const variants = [
          { start: words[i].start, end: words[i + n - 1].end },
          { start: words[i].rawStart, end: words[i + n - 1].rawEnd },
        ];
        for (const v of variants) {
          if (v.end > v.start && re.whole.test(norm.slice(v.start, v.end))) {
            spans.push(v);
            break;
          }
        }
      }
    }
  }
  const pick = single(
    spans.map((s) => ({ value: norm.slice(s.start, s.end), matched: sameLength ? text.slice(s.start, s.end) : norm.slice(s.start, s.end) })),
  );
  if (!pick) return NO_VALUE;

  if (mode === 'answer') {
    // The match must be most of the meaningful message: what is left, minus filler words, may not outweigh it.
    const value = pick.value as string;
    let rest = '';
    let last = 0;
    for (const s of spans) {
      if (s.start < last) continue;
      rest += `${norm.slice(last, s.start)} `;
      last = s.end;
    }
    rest += norm.slice(last);
    const leftover = [...rest.toLowerCase().replace(/[’‘]/g, "'").matchAll(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu)]
      .map((m) => m[0])
      .filter((w) => !PATTERN_FILLER.has(w));
    const leftoverChars = leftover.reduce((n, w) => n + [...w].length, 0);
    const valueChars = [...value.replace(/\s+/g, '')].length;
    if (leftoverChars > valueChars) return NO_VALUE;
  }
  return { ok: true, ...pick };
}

// ---------------------------------------------------------------------------------------
// definition checks
// ---------------------------------------------------------------------------------------

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Problems with a slot type definition, as readable sentences (empty when fine). Accepts
 * untrusted input (e.g. straight from YAML) without throwing.
 */
export function validateSlotTypeDefinition(slot: SlotType): string[] {
  const problems: string[] = [];
  if (!slot || typeof slot !== 'object') return ['slot type must be an object with a "type"'];
  const s = slot as unknown as Record<string, unknown>;
  const bound = (lo: string, hi: string, kind: 'integer' | 'number', minValue?: number): void => {
    for (const k of [lo, hi]) {
      const v = s[k];
      if (v === undefined) continue;
      if (!isNum(v)) problems.push(`${k} must be a number, got ${JSON.stringify(v)}`);
      else if (kind === 'integer' && !Number.isInteger(v)) problems.push(`${k} must be a whole number, got ${v}`);
      else if (minValue !== undefined && v < minValue) problems.push(`${k} must be at least ${minValue}, got ${v}`);
    }
    if (isNum(s[lo]) && isNum(s[hi]) && (s[lo] as number) > (s[hi] as number)) {
      problems.push(`${lo} (${s[lo]}) is greater than ${hi} (${s[hi]}), so no value could ever be accepted; swap them`);
    }
  };
  switch (s.type) {
    case 'text':
      bound('minLength', 'maxLength', 'integer', 0);
      if (isNum(s.maxLength) && s.maxLength > MAX_SLOT_INPUT_LENGTH) {
        problems.push(`maxLength ${s.maxLength} is above the ${MAX_SLOT_INPUT_LENGTH}-character limit on messages; use at most ${MAX_SLOT_INPUT_LENGTH}`);
      }
      break;
    case 'number':
      bound('min', 'max', 'number');
      break;
    case 'integer':
      bound('min', 'max', 'number');
      if (isNum(s.min) && isNum(s.max) && s.min <= s.max && Math.ceil(s.min) > Math.floor(s.max)) {
        problems.push(`no whole number lies between min (${s.min}) and max (${s.max})`);
      }
      break;
    case 'email':
    case 'phone':
    case 'yes_no':
      break;
    case 'date':
      for (const k of ['past', 'future']) {
        if (s[k] !== undefined && typeof s[k] !== 'boolean') problems.push(`${k} must be true or false, got ${JSON.stringify(s[k])}`);
      }
      if (s.past === true && s.future === true) {
        problems.push('past and future are both true, so only today would be accepted; keep one of them (or neither)');
      }
      break;
    case 'choice':
      validateChoice(s.options, problems);
      break;
    case 'pattern':
      validatePattern(s, problems);
      break;
    default:
      problems.push(
        `unknown slot type ${JSON.stringify(s.type)}; use one of text, number, integer, email, phone, date, yes_no, choice, pattern`,
      );
  }
  return problems;
}

function validateChoice(options: unknown, problems: string[]): void {
  if (!Array.isArray(options) || options.length === 0) {
    problems.push('a choice slot needs at least one option under "options"');
    return;
  }
  const owner = new Map<string, string>(); // folded phrase → option value
  options.forEach((o: unknown, i) => {
    const opt = o as { value?: unknown; title?: unknown; synonyms?: unknown } | null;
    if (!opt || typeof opt !== 'object' || typeof opt.value !== 'string' || opt.value.trim() === '') {
      problems.push(`option ${i + 1} needs a non-empty "value"`);
      return;
    }
    if (opt.title !== undefined && typeof opt.title !== 'string') problems.push(`option "${opt.value}": title must be text`);
    if (opt.synonyms !== undefined && (!Array.isArray(opt.synonyms) || opt.synonyms.some((x) => typeof x !== 'string' || x.trim() === ''))) {
      problems.push(`option "${opt.value}": synonyms must be a list of non-empty texts`);
    }
    if (options.slice(0, i).some((p) => (p as { value?: unknown })?.value === opt.value)) {
      problems.push(`option value "${opt.value}" appears more than once`);
      return;
    }
    const titles = (opt as { titles?: unknown }).titles;
    const phrases = [opt.value, opt.title, ...(titles && typeof titles === 'object' ? Object.values(titles as Record<string, unknown>) : []), ...(Array.isArray(opt.synonyms) ? opt.synonyms : [])];
    for (const p of phrases) {
      if (typeof p !== 'string') continue;
      const key = tokens(p).map((t) => t.w).join(' ');
      if (key === '') {
        problems.push(`option "${opt.value}": "${p}" has no letters or digits, so a customer could never type it`);
        continue;
      }
      const prev = owner.get(key);
      if (prev !== undefined && prev !== opt.value) {
        problems.push(`"${p}" is used by both option "${prev}" and option "${opt.value}"; a reply "${p}" would be ambiguous`);
      } else owner.set(key, opt.value);
    }
  });
}

function validatePattern(s: Record<string, unknown>, problems: string[]): void {
  const pattern = s.pattern;
  if (typeof pattern !== 'string' || pattern === '') {
    problems.push('a pattern slot needs a non-empty "pattern" (a regular expression)');
    return;
  }
  if (pattern.length > MAX_PATTERN_LENGTH) {
    problems.push(`pattern is ${pattern.length} characters long; the limit is ${MAX_PATTERN_LENGTH}`);
    return;
  }
  const flags = s.flags;
  if (flags !== undefined) {
    if (typeof flags !== 'string' || !/^[imsu]*$/.test(flags)) problems.push(`flags ${JSON.stringify(flags)} are not allowed; use only i, m, s and u`);
    else if (new Set(flags).size !== flags.length) problems.push(`flags "${flags}" repeat a letter`);
  }
  if (s.normalize !== undefined && !['upper', 'lower', 'none'].includes(s.normalize as string)) {
    problems.push(`normalize must be "upper", "lower" or "none", got ${JSON.stringify(s.normalize)}`);
  }
  let re: RegExp;
  try {
    re = new RegExp(pattern, cleanFlags(flags));
  } catch (e) {
    problems.push(`pattern is not a valid regular expression: ${(e as Error).message}`);
    return;
  }
  if (re.test('')) problems.push('pattern matches empty text, so it would accept anything; require at least one character (e.g. use + instead of *)');
  // A quantified group whose body is itself a single quantified atom — (a+)+, (\d*)*, ([a-z]+)+ — can take
  // exponential time on some inputs.
  if (/\((?:\?:)?(?:\\.|\[(?:\\.|[^\]\\])*\]|[^()\\[\]])[+*]\)(?:[+*]|\{\d+,\})/.test(pattern)) {
    problems.push('pattern nests one repetition inside another (like (a+)+), which can be extremely slow; remove the inner or outer repetition');
  }
}

/**
 * A small, safe expression language for flow conditions (`if:`) and `set:` values.
 *
 *   slots.count > 2 && vars.order.status == "shipped"
 *   len(vars.items) == 0 ? 'nothing yet' : 'you have ' + len(vars.items) + ' items'
 *
 * Pure: no I/O, no clock, no eval. Parsing is bounded (source length and nesting depth);
 * evaluation never throws on missing or odd data (a missing path is `null`, arithmetic on
 * non-numbers is `null`, comparisons between different types are `false`), and variable
 * lookups only ever see own enumerable data properties of plain objects and arrays, so
 * `vars.constructor`, `__proto__` and `prototype` are always `null`.
 */
import type { JsonValue } from '../util/json';

export const MAX_EXPRESSION_LENGTH = 2000;
export const MAX_EXPRESSION_DEPTH = 64;

/** A syntax (or, rarely, evaluation) error. `offset` is the 0-based index in the source. */
export class ExpressionError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'ExpressionError';
    this.offset = offset;
  }
}

// ---------------------------------------------------------------------------------------
// AST
// ---------------------------------------------------------------------------------------

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '<' | '<=' | '>' | '>=' | '==' | '!=' | 'in' | 'not in';
export type PathSegment = string | number;

/** The AST: plain, JSON-serialisable objects. `offset` points at the node's defining token. */
export type Expr =
  | { kind: 'literal'; value: string | number | boolean | null; offset: number }
  | { kind: 'list'; items: Expr[]; offset: number }
  | { kind: 'path'; path: PathSegment[]; offset: number }
  | { kind: 'unary'; op: '!' | '-'; operand: Expr; offset: number }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; offset: number }
  | { kind: 'logical'; op: '&&' | '||'; left: Expr; right: Expr; offset: number }
  | { kind: 'conditional'; test: Expr; consequent: Expr; alternate: Expr; offset: number }
  | { kind: 'call'; name: string; args: Expr[]; offset: number };

// ---------------------------------------------------------------------------------------
// Built-in functions
// ---------------------------------------------------------------------------------------

type Fn = { arity: number; impl: (args: JsonValue[]) => JsonValue };

const FUNCTIONS = new Map<string, Fn>([
  ['len', { arity: 1, impl: ([x]) => fnLen(x) }],
  ['lower', { arity: 1, impl: ([x]) => (typeof x === 'string' ? x.toLowerCase() : null) }],
  ['upper', { arity: 1, impl: ([x]) => (typeof x === 'string' ? x.toUpperCase() : null) }],
  ['trim', { arity: 1, impl: ([x]) => (typeof x === 'string' ? x.trim() : null) }],
  ['contains', { arity: 2, impl: ([h, n]) => membership(n, h) }],
  ['startsWith', { arity: 2, impl: ([s, p]) => typeof s === 'string' && typeof p === 'string' && s.startsWith(p) }],
  ['number', { arity: 1, impl: ([x]) => toNumber(x) }],
  ['string', { arity: 1, impl: ([x]) => toText(x) }],
  ['empty', { arity: 1, impl: ([x]) => isEmpty(x) }],
  ['exists', { arity: 1, impl: ([x]) => x !== null }],
  ['round', { arity: 1, impl: ([x]) => (typeof x === 'number' ? num(Math.sign(x) * Math.round(Math.abs(x))) : null) }],
  ['min', { arity: 2, impl: ([a, b]) => (typeof a === 'number' && typeof b === 'number' ? Math.min(a, b) : null) }],
  ['max', { arity: 2, impl: ([a, b]) => (typeof a === 'number' && typeof b === 'number' ? Math.max(a, b) : null) }],
]);

/** Names of the built-in functions, in documentation order. */
export const FUNCTION_NAMES: readonly string[] = [...FUNCTIONS.keys()];

function fnLen(x: JsonValue): JsonValue {
  if (x === null) return 0;
  if (typeof x === 'string') return [...x].length;
  if (Array.isArray(x)) return x.length;
  if (typeof x === 'object') return Object.keys(x).length;
  return null;
}

function toNumber(x: JsonValue): JsonValue {
  if (typeof x === 'number') return x;
  if (typeof x !== 'string') return null;
  const s = x.trim();
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(s)) return null;
  return num(Number(s));
}

/** Text form used by `string()` and by `+` when one side is a string. `null` is ''. */
function toText(x: JsonValue): string {
  if (x === null) return '';
  if (typeof x === 'string') return x;
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  return JSON.stringify(x);
}

function isEmpty(x: JsonValue): boolean {
  if (x === null || x === '') return true;
  if (Array.isArray(x)) return x.length === 0;
  if (typeof x === 'object') return Object.keys(x).length === 0;
  return false;
}

// ---------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------

type Token =
  | { kind: 'number'; value: number; text: string; offset: number }
  | { kind: 'string'; value: string; text: string; offset: number }
  | { kind: 'ident'; value: string; text: string; offset: number }
  | { kind: 'punct'; value: string; text: string; offset: number }
  | { kind: 'eof'; value: ''; text: ''; offset: number };

const PUNCTUATORS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '!', '+', '-', '*', '/', '%', '(', ')', '[', ']', ',', '.', '?', ':'];
const KEYWORDS = new Set(['true', 'false', 'null', 'and', 'or', 'not', 'in']);
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', '0': '\0', '\\': '\\', "'": "'", '"': '"', '/': '/' };

const NUMBER_RE = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const IDENT_RE = /[A-Za-z_][A-Za-z0-9_]*/y;

function col(offset: number): number {
  return offset + 1;
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c)) {
      NUMBER_RE.lastIndex = i;
      const m = NUMBER_RE.exec(src)!;
      i += m[0].length;
      if (i < src.length && /[A-Za-z_0-9.]/.test(src[i])) {
        throw new ExpressionError(
          `invalid number "${src.slice(start, i + 1)}" at column ${col(start)}; numbers look like 42 or 3.5 (use [0] to index a list)`,
          start,
        );
      }
      tokens.push({ kind: 'number', value: Number(m[0]), text: m[0], offset: start });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      IDENT_RE.lastIndex = i;
      const m = IDENT_RE.exec(src)!;
      i += m[0].length;
      tokens.push({ kind: 'ident', value: m[0], text: m[0], offset: start });
      continue;
    }
    if (c === '"' || c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= src.length) {
          throw new ExpressionError(`unterminated string starting at column ${col(start)}; add the closing ${c}`, start);
        }
        const ch = src[i];
        if (ch === c) {
          i++;
          break;
        }
        if (ch === '\\') {
          const e = src[i + 1];
          if (e === undefined) {
            throw new ExpressionError(`unterminated string starting at column ${col(start)}; add the closing ${c}`, start);
          }
          if (e === 'u') {
            const hex = /^[0-9a-fA-F]{4}/.exec(src.slice(i + 2, i + 6));
            if (!hex) {
              throw new ExpressionError(`invalid escape "\\u" at column ${col(i)}; write \\u followed by 4 hex digits, e.g. \\u00e9`, i);
            }
            value += String.fromCharCode(parseInt(hex[0], 16));
            i += 6;
            continue;
          }
          const mapped = ESCAPES[e];
          if (mapped === undefined) {
            throw new ExpressionError(`unknown escape "\\${e}" at column ${col(i)}; write \\\\ for a backslash`, i);
          }
          value += mapped;
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      tokens.push({ kind: 'string', value, text: src.slice(start, i), offset: start });
      continue;
    }
    if (src.startsWith('===', i) || src.startsWith('!==', i)) {
      const op = src.slice(i, i + 3);
      throw new ExpressionError(`unexpected "${op}" at column ${col(i)}; use "${op.slice(0, 2)}" (there is no "${op}")`, i);
    }
    const p = PUNCTUATORS.find((q) => src.startsWith(q, i));
    if (p) {
      i += p.length;
      tokens.push({ kind: 'punct', value: p, text: p, offset: start });
      continue;
    }
    if (c === '=') throw new ExpressionError(`unexpected "=" at column ${col(i)}; use "==" to compare values`, i);
    if (c === '&') throw new ExpressionError(`unexpected "&" at column ${col(i)}; use "&&" (or "and")`, i);
    if (c === '|') throw new ExpressionError(`unexpected "|" at column ${col(i)}; use "||" (or "or")`, i);
    const ch = String.fromCodePoint(src.codePointAt(i)!);
    throw new ExpressionError(`unexpected character "${ch}" at column ${col(i)}; remove it or put it inside quotes`, i);
  }
  tokens.push({ kind: 'eof', value: '', text: '', offset: src.length });
  return tokens;
}

// ---------------------------------------------------------------------------------------
// Parser (precedence climbing, lowest first):
//   ternary  ?:            (right-associative)
//   or       || or
//   and      && and
//   equality == !=          (not chainable)
//   relation < <= > >= in, not in   (not chainable)
//   additive + -
//   multiplicative * / %
//   unary    ! not -
//   primary  literal, [list], (expr), path, fn(args)
// ---------------------------------------------------------------------------------------

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of expression';
  const text = t.text.length > 24 ? `${t.text.slice(0, 21)}...` : t.text;
  return `"${text}"`;
}

class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(n = 0): Token {
    return this.tokens[Math.min(this.pos + n, this.tokens.length - 1)];
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.pos++;
    return t;
  }
  private isPunct(v: string, n = 0): boolean {
    const t = this.peek(n);
    return t.kind === 'punct' && t.value === v;
  }
  private isWord(v: string, n = 0): boolean {
    const t = this.peek(n);
    return t.kind === 'ident' && t.value === v;
  }
  private fail(t: Token, expected: string): never {
    const where = t.kind === 'eof' ? `unexpected end of expression at column ${col(t.offset)}` : `unexpected ${describe(t)} at column ${col(t.offset)}`;
    throw new ExpressionError(`${where}; expected ${expected}`, t.offset);
  }
  /** Runs `f` one nesting level deeper, enforcing MAX_EXPRESSION_DEPTH. */
  private nested<T>(at: Token, f: () => T): T {
    if (++this.depth > MAX_EXPRESSION_DEPTH) {
      throw new ExpressionError(
        `expression is nested too deeply at column ${col(at.offset)} (more than ${MAX_EXPRESSION_DEPTH} levels); simplify it or split it into several steps`,
        at.offset,
      );
    }
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  parseAll(): Expr {
    if (this.peek().kind === 'eof') {
      throw new ExpressionError('expression is empty; write a condition such as slots.orderId != null', 0);
    }
    const e = this.ternary();
    const t = this.peek();
    if (t.kind !== 'eof') {
      if (t.kind === 'punct' && t.value === ')') {
        throw new ExpressionError(`unexpected ")" at column ${col(t.offset)}; there is no matching "(" — remove it`, t.offset);
      }
      this.fail(t, 'an operator (such as ==, &&, +) or the end of the expression');
    }
    return e;
  }

  private ternary(): Expr {
    const test = this.or();
    if (!this.isPunct('?')) return test;
    const q = this.next();
    const consequent = this.nested(q, () => this.ternary());
    if (!this.isPunct(':')) this.fail(this.peek(), `":" to complete the "? :" started at column ${col(q.offset)}`);
    const colon = this.next();
    const alternate = this.nested(colon, () => this.ternary());
    return { kind: 'conditional', test, consequent, alternate, offset: q.offset };
  }

  private or(): Expr {
    let left = this.and();
    while (this.isPunct('||') || this.isWord('or')) {
      const op = this.next();
      const right = this.and();
      left = { kind: 'logical', op: '||', left, right, offset: op.offset };
    }
    return left;
  }

  private and(): Expr {
    let left = this.equality();
    while (this.isPunct('&&') || this.isWord('and')) {
      const op = this.next();
      const right = this.equality();
      left = { kind: 'logical', op: '&&', left, right, offset: op.offset };
    }
    return left;
  }

  private equality(): Expr {
    const left = this.relation();
    if (!(this.isPunct('==') || this.isPunct('!='))) return left;
    const op = this.next();
    const right = this.relation();
    if (this.isPunct('==') || this.isPunct('!=')) {
      const t = this.peek();
      throw new ExpressionError(
        `unexpected ${describe(t)} at column ${col(t.offset)}; comparisons cannot be chained — combine them with && (e.g. a == b && b == c)`,
        t.offset,
      );
    }
    return { kind: 'binary', op: op.value as BinaryOp, left, right, offset: op.offset };
  }

  private relationOp(): BinaryOp | null {
    const t = this.peek();
    if (t.kind === 'punct' && ['<', '<=', '>', '>='].includes(t.value)) return t.value as BinaryOp;
    if (this.isWord('in')) return 'in';
    if (this.isWord('not') && this.isWord('in', 1)) return 'not in';
    return null;
  }

  private relation(): Expr {
    const left = this.additive();
    const op = this.relationOp();
    if (!op) return left;
    const opTok = this.next();
    if (op === 'not in') this.next();
    const right = this.additive();
    if (this.relationOp()) {
      const t = this.peek();
      throw new ExpressionError(
        `unexpected ${describe(t)} at column ${col(t.offset)}; comparisons cannot be chained — combine them with && (e.g. 1 < x && x < 5)`,
        t.offset,
      );
    }
    return { kind: 'binary', op, left, right, offset: opTok.offset };
  }

  private additive(): Expr {
    let left = this.multiplicative();
    while (this.isPunct('+') || this.isPunct('-')) {
      const op = this.next();
      const right = this.multiplicative();
      left = { kind: 'binary', op: op.value as BinaryOp, left, right, offset: op.offset };
    }
    return left;
  }

  private multiplicative(): Expr {
    let left = this.unary();
    while (this.isPunct('*') || this.isPunct('/') || this.isPunct('%')) {
      const op = this.next();
      const right = this.unary();
      left = { kind: 'binary', op: op.value as BinaryOp, left, right, offset: op.offset };
    }
    return left;
  }

  private unary(): Expr {
    if (this.isPunct('!') || this.isWord('not') || this.isPunct('-')) {
      const op = this.next();
      const operand = this.nested(op, () => this.unary());
      return { kind: 'unary', op: op.value === '-' ? '-' : '!', operand, offset: op.offset };
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
        this.next();
        return { kind: 'literal', value: t.value, offset: t.offset };
      case 'string':
        this.next();
        return { kind: 'literal', value: t.value, offset: t.offset };
      case 'ident': {
        if (t.value === 'true' || t.value === 'false') {
          this.next();
          return { kind: 'literal', value: t.value === 'true', offset: t.offset };
        }
        if (t.value === 'null') {
          this.next();
          return { kind: 'literal', value: null, offset: t.offset };
        }
        if (KEYWORDS.has(t.value)) this.fail(t, 'a value');
        if (this.isPunct('(', 1)) return this.call();
        return this.path();
      }
      case 'punct':
        if (t.value === '(') {
          this.next();
          const inner = this.nested(t, () => this.ternary());
          if (!this.isPunct(')')) this.fail(this.peek(), `")" to close the "(" at column ${col(t.offset)}`);
          this.next();
          return inner;
        }
        if (t.value === '[') {
          this.next();
          const items = this.nested(t, () => this.args(']', t));
          return { kind: 'list', items, offset: t.offset };
        }
        return this.fail(t, 'a value (a number, a quoted string, true, false, null, a [list], a variable such as slots.name, or a function call)');
      case 'eof':
        return this.fail(t, 'a value');
    }
  }

  /** Comma-separated expressions up to `close` (already past the opening token). */
  private args(close: ')' | ']', open: Token): Expr[] {
    const items: Expr[] = [];
    if (this.isPunct(close)) {
      this.next();
      return items;
    }
    for (;;) {
      items.push(this.ternary());
      if (this.isPunct(',')) {
        this.next();
        continue;
      }
      if (this.isPunct(close)) {
        this.next();
        return items;
      }
      this.fail(this.peek(), `"," or "${close}" to close the "${open.text}" at column ${col(open.offset)}`);
    }
  }

  private call(): Expr {
    const nameTok = this.next();
    const name = { value: String(nameTok.value), offset: nameTok.offset };
    const open = this.next(); // "("
    const fn = FUNCTIONS.get(name.value);
    if (!fn) {
      const similar = FUNCTION_NAMES.find((f) => f.toLowerCase() === name.value.toLowerCase());
      const hint = similar ? `did you mean ${similar}()?` : `available functions: ${FUNCTION_NAMES.join(', ')}`;
      throw new ExpressionError(`unknown function "${name.value}" at column ${col(name.offset)}; ${hint}`, name.offset);
    }
    const args = this.nested(open, () => this.args(')', open));
    if (args.length !== fn.arity) {
      const plural = fn.arity === 1 ? 'argument' : 'arguments';
      throw new ExpressionError(
        `${name.value}() at column ${col(name.offset)} takes ${fn.arity} ${plural} but was given ${args.length}`,
        name.offset,
      );
    }
    return { kind: 'call', name: name.value, args, offset: name.offset };
  }

  private path(): Expr {
    const first = this.next();
    const path: PathSegment[] = [first.value as string];
    for (;;) {
      if (this.isPunct('.')) {
        const dot = this.next();
        const seg = this.peek();
        if (seg.kind !== 'ident') {
          if (seg.kind === 'number') {
            throw new ExpressionError(
              `unexpected ${describe(seg)} at column ${col(seg.offset)}; to index a list write [${seg.text}] instead of .${seg.text}`,
              seg.offset,
            );
          }
          this.fail(seg, `a property name after the "." at column ${col(dot.offset)}`);
        }
        this.next();
        path.push(seg.value);
        continue;
      }
      if (this.isPunct('[')) {
        const open = this.next();
        const idx = this.peek();
        if (idx.kind === 'number' && Number.isInteger(idx.value)) {
          path.push(idx.value);
        } else if (idx.kind === 'string') {
          path.push(idx.value);
        } else {
          throw new ExpressionError(
            `invalid index ${describe(idx)} at column ${col(idx.offset)}; an index must be a whole number or a quoted string, e.g. [0] or ['status']`,
            idx.offset,
          );
        }
        this.next();
        if (!this.isPunct(']')) this.fail(this.peek(), `"]" to close the "[" at column ${col(open.offset)}`);
        this.next();
        continue;
      }
      if (this.isPunct('(')) {
        const t = this.peek();
        throw new ExpressionError(
          `unexpected "(" at column ${col(t.offset)}; "${path.join('.')}" is a variable, not a function — only built-in functions can be called (${FUNCTION_NAMES.join(', ')})`,
          t.offset,
        );
      }
      return { kind: 'path', path, offset: first.offset };
    }
  }
}

/** Parses `src` into an AST. Throws ExpressionError (with an offset) on any problem. */
export function parseExpression(src: string): Expr {
  if (typeof src !== 'string') throw new ExpressionError('expression must be a string', 0);
  if (src.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionError(
      `expression is ${src.length} characters long; the limit is ${MAX_EXPRESSION_LENGTH} — split it into several steps`,
      MAX_EXPRESSION_LENGTH,
    );
  }
  return new Parser(tokenize(src)).parseAll();
}

// ---------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------

const BLOCKED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** An own, enumerable data property of a plain object or array; `undefined` otherwise. Never runs getters. */
function ownData(container: unknown, key: PathSegment, isRoot: boolean): unknown {
  if (container === null || typeof container !== 'object') return undefined;
  if (Array.isArray(container)) {
    const k = typeof key === 'number' ? key : /^(?:0|[1-9]\d*)$/.test(key) ? Number(key) : -1;
    if (!Number.isSafeInteger(k) || k < 0 || k >= container.length) return undefined;
    const d = Object.getOwnPropertyDescriptor(container, k);
    return d && 'value' in d ? d.value : undefined;
  }
  if (!isRoot && !isPlainObject(container)) return undefined;
  const k = String(key);
  if (BLOCKED_KEYS.has(k)) return undefined;
  const d = Object.getOwnPropertyDescriptor(container, k);
  return d && d.enumerable && 'value' in d ? d.value : undefined;
}

function num(n: number): number | null {
  if (!Number.isFinite(n)) return null;
  return n === 0 ? 0 : n; // no -0
}

/** A JSON-safe deep copy of `v` (own enumerable data only; cycles, functions, class instances → null). */
function toJson(v: unknown, ancestors: object[] = []): JsonValue {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return num(v);
    case 'object':
      break;
    default:
      return null;
  }
  const o = v as object;
  if (ancestors.includes(o) || ancestors.length > 100) return null;
  if (Array.isArray(o)) {
    const out: JsonValue[] = [];
    for (let i = 0; i < o.length; i++) out.push(toJson(ownData(o, i, false), [...ancestors, o]));
    return out;
  }
  if (!isPlainObject(o)) return null;
  const out: { [key: string]: JsonValue } = {};
  for (const k of Object.keys(o)) {
    if (BLOCKED_KEYS.has(k)) continue;
    const d = Object.getOwnPropertyDescriptor(o, k);
    if (!d || !('value' in d) || d.value === undefined || typeof d.value === 'function') continue;
    out[k] = toJson(d.value, [...ancestors, o]);
  }
  return out;
}

function resolvePath(scope: Record<string, unknown>, path: PathSegment[]): JsonValue {
  let cur: unknown = scope;
  for (let i = 0; i < path.length; i++) {
    cur = ownData(cur, path[i], i === 0);
    if (cur === undefined || cur === null) return null;
  }
  return toJson(cur);
}

/** JavaScript truthiness, except that an empty list is falsy too. */
export function isTruthy(v: JsonValue): boolean {
  if (v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

/** Deep equality of JSON values; no coercion between types. */
export function jsonEquals(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEquals(x, b[i]));
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEquals(a[k], b[k]));
}

/** `needle in haystack`: list membership, substring, or own key of an object. */
function membership(needle: JsonValue, haystack: JsonValue): boolean {
  if (Array.isArray(haystack)) return haystack.some((x) => jsonEquals(x, needle));
  if (typeof haystack === 'string') return typeof needle === 'string' && haystack.includes(needle);
  if (haystack !== null && typeof haystack === 'object') {
    return typeof needle === 'string' && !BLOCKED_KEYS.has(needle) && Object.prototype.hasOwnProperty.call(haystack, needle);
  }
  return false;
}

function compare(op: '<' | '<=' | '>' | '>=', a: JsonValue, b: JsonValue): boolean {
  const sameType = (typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string');
  if (!sameType) return false;
  const x = a as number | string;
  const y = b as number | string;
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
  }
}

function arithmetic(op: '+' | '-' | '*' | '/' | '%', a: JsonValue, b: JsonValue): JsonValue {
  if (op === '+') {
    if (typeof a === 'string' || typeof b === 'string') return toText(a) + toText(b);
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  }
  if (typeof a !== 'number' || typeof b !== 'number') return null;
  switch (op) {
    case '+':
      return num(a + b);
    case '-':
      return num(a - b);
    case '*':
      return num(a * b);
    case '/':
      return b === 0 ? null : num(a / b);
    case '%':
      return b === 0 ? null : num(a % b);
  }
}

/**
 * Evaluates a parsed expression against `scope` (e.g. `{ slots, vars, profile }`).
 * Never throws on missing or odd data; throws ExpressionError only for a malformed AST
 * (e.g. a hand-built call to an unknown function).
 */
export function evaluate(expr: Expr, scope: Record<string, unknown>): JsonValue {
  switch (expr.kind) {
    case 'literal':
      return typeof expr.value === 'number' ? num(expr.value) : expr.value;
    case 'list':
      return expr.items.map((e) => evaluate(e, scope));
    case 'path':
      return resolvePath(scope, expr.path);
    case 'unary': {
      const v = evaluate(expr.operand, scope);
      if (expr.op === '!') return !isTruthy(v);
      return typeof v === 'number' ? num(-v) : null;
    }
    case 'logical': {
      const l = isTruthy(evaluate(expr.left, scope));
      if (expr.op === '&&') return l ? isTruthy(evaluate(expr.right, scope)) : false;
      return l ? true : isTruthy(evaluate(expr.right, scope));
    }
    case 'conditional':
      return isTruthy(evaluate(expr.test, scope)) ? evaluate(expr.consequent, scope) : evaluate(expr.alternate, scope);
    case 'binary': {
      const a = evaluate(expr.left, scope);
      const b = evaluate(expr.right, scope);
      switch (expr.op) {
        case '==':
          return jsonEquals(a, b);
        case '!=':
          return !jsonEquals(a, b);
        case 'in':
          return membership(a, b);
        case 'not in':
          return !membership(a, b);
        case '<':
        case '<=':
        case '>':
        case '>=':
          return compare(expr.op, a, b);
        case '+':
        case '-':
        case '*':
        case '/':
        case '%':
          return arithmetic(expr.op, a, b);
      }
      const badOp = expr as unknown as { op: unknown; offset: number };
      throw new ExpressionError(`unknown operator "${String(badOp.op)}"`, badOp.offset);
    }
    case 'call': {
      const fn = FUNCTIONS.get(expr.name);
      if (!fn) throw new ExpressionError(`unknown function "${expr.name}"; available functions: ${FUNCTION_NAMES.join(', ')}`, expr.offset);
      if (expr.args.length !== fn.arity) {
        throw new ExpressionError(`${expr.name}() takes ${fn.arity} argument(s) but was given ${expr.args.length}`, expr.offset);
      }
      return fn.impl(expr.args.map((a) => evaluate(a, scope)));
    }
  }
  const bad = expr as unknown as { kind?: unknown; offset?: unknown };
  const at = Number(bad.offset) || 0;
  throw new ExpressionError(`unknown expression node "${String(bad.kind)}"`, at);
}

/** Parse and evaluate in one go (throws ExpressionError on a syntax error). */
export function evaluateSource(src: string, scope: Record<string, unknown>): JsonValue {
  return evaluate(parseExpression(src), scope);
}

/**
 * Every variable path the expression reads, as string segments, de-duplicated in order of
 * first appearance: `vars.items[0]` → `['vars', 'items', '0']`.
 */
export function referencedPaths(expr: Expr): string[][] {
  const seen = new Set<string>();
  const out: string[][] = [];
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case 'literal':
        return;
      case 'path': {
        const segs = e.path.map(String);
        const key = JSON.stringify(segs);
        if (!seen.has(key)) {
          seen.add(key);
          out.push(segs);
        }
        return;
      }
      case 'list':
        e.items.forEach(visit);
        return;
      case 'unary':
        visit(e.operand);
        return;
      case 'binary':
      case 'logical':
        visit(e.left);
        visit(e.right);
        return;
      case 'conditional':
        visit(e.test);
        visit(e.consequent);
        visit(e.alternate);
        return;
      case 'call':
        e.args.forEach(visit);
        return;
    }
  };
  visit(expr);
  return out;
}

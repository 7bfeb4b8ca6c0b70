import {
  evaluate,
  evaluateSource,
  ExpressionError,
  FUNCTION_NAMES,
  MAX_EXPRESSION_DEPTH,
  MAX_EXPRESSION_LENGTH,
  parseExpression,
  referencedPaths,
  type Expr,
} from '../../src/flow/expressions';

const scope = {
  slots: { orderId: 'AB-123456', count: 3, email: null as string | null, name: 'Ada', zero: 0 },
  vars: {
    order: { status: 'shipped', total: 42.5, items: [{ sku: 'x1', qty: 2 }, { sku: 'y2', qty: 1 }], tags: ['gift', 'rush'] },
    items: [10, 20, 30],
    empty: [] as number[],
    emptyObj: {},
    flag: true,
    text: 'Hello World',
    'odd key': 'spaced',
  },
  profile: { language: 'en' },
};

const ev = (src: string, s: Record<string, unknown> = scope) => evaluateSource(src, s);

function parseError(src: string): ExpressionError {
  try {
    parseExpression(src);
  } catch (e) {
    expect(e).toBeInstanceOf(ExpressionError);
    return e as ExpressionError;
  }
  throw new Error(`expected "${src}" to fail to parse`);
}

describe('literals', () => {
  test.each([
    ['42', 42],
    ['3.25', 3.25],
    ['0', 0],
    ['1e3', 1000],
    ['2.5E-1', 0.25],
    ['-7', -7],
    ['- 7', -7],
    ['-0', 0],
    ['true', true],
    ['false', false],
    ['null', null],
    ["'single'", 'single'],
    ['"double"', 'double'],
    ["''", ''],
    ["'it\\'s'", "it's"],
    ['"say \\"hi\\""', 'say "hi"'],
    ["'a\\nb\\tc\\\\d'", 'a\nb\tc\\d'],
    ["'\\u00e9t\\u00e9'", 'été'],
    ['"it\'s"', "it's"],
    ['[]', []],
    ["[1, 'a', true, null, [2]]", [1, 'a', true, null, [2]]],
  ])('%s', (src, expected) => {
    expect(ev(src)).toEqual(expected);
  });

  test('-0 is normalised to 0', () => {
    expect(Object.is(ev('-0'), 0)).toBe(true);
    expect(Object.is(ev('0 * -1'), 0)).toBe(true);
  });

  test('list literal items are full expressions', () => {
    expect(ev('[slots.count + 1, upper(slots.name), slots.missing]')).toEqual([4, 'ADA', null]);
  });
});

describe('paths', () => {
  test('dotted paths', () => {
    expect(ev('slots.orderId')).toBe('AB-123456');
    expect(ev('vars.order.status')).toBe('shipped');
    expect(ev('profile.language')).toBe('en');
  });

  test('bracket index with numbers and strings', () => {
    expect(ev('vars.items[0]')).toBe(10);
    expect(ev('vars.items[2]')).toBe(30);
    expect(ev("vars.order['status']")).toBe('shipped');
    expect(ev('vars.order["items"][1].sku')).toBe('y2');
    expect(ev("vars['odd key']")).toBe('spaced');
    expect(ev("vars.items['1']")).toBe(20);
  });

  test('whole objects and lists are returned as JSON copies', () => {
    expect(ev('vars.order.tags')).toEqual(['gift', 'rush']);
    const got = ev('vars.order.items[0]');
    expect(got).toEqual({ sku: 'x1', qty: 2 });
    expect(got).not.toBe(scope.vars.order.items[0]);
  });

  test('missing data is null, never an error', () => {
    expect(ev('nothing')).toBeNull();
    expect(ev('slots.missing')).toBeNull();
    expect(ev('slots.missing.deeper.still')).toBeNull();
    expect(ev('slots.email')).toBeNull();
    expect(ev('slots.email.domain')).toBeNull();
    expect(ev('vars.items[3]')).toBeNull();
    expect(ev('vars.items[99][0]')).toBeNull();
    expect(ev('slots.orderId.length')).toBeNull();
    expect(ev('slots.count.foo')).toBeNull();
    expect(ev('slots.orderId[0]')).toBeNull();
    expect(ev('vars.order[0]')).toBeNull();
  });

  test('.length is not special (use len())', () => {
    expect(ev('vars.items.length')).toBeNull();
    expect(ev('len(vars.items)')).toBe(3);
  });

  test('keywords may be used as property names after a dot', () => {
    expect(ev('x.in', { x: { in: 1 } })).toBe(1);
    expect(ev('x.null', { x: { null: 'n' } })).toBe('n');
  });

  test('undefined, functions, NaN and Infinity in the scope become null', () => {
    const s = { v: { u: undefined, f: () => 1, nan: NaN, inf: Infinity, list: [1, undefined, () => 2] } };
    expect(ev('v.u', s)).toBeNull();
    expect(ev('v.f', s)).toBeNull();
    expect(ev('v.nan', s)).toBeNull();
    expect(ev('v.inf', s)).toBeNull();
    expect(ev('v.list', s)).toEqual([1, null, null]);
    expect(ev('v', s)).toEqual({ nan: null, inf: null, list: [1, null, null] });
  });

  test('cyclic data does not hang', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(ev('v.self.self.name', { v: a })).toBe('a');
    expect(ev('v', { v: a })).toEqual({ name: 'a', self: null });
  });
});

describe('prototype safety', () => {
  test.each([
    'vars.constructor',
    'vars.__proto__',
    'vars.prototype',
    'vars.constructor.name',
    'vars.__proto__.toString',
    'vars.toString',
    'vars.hasOwnProperty',
    'vars.items.map',
    'vars.items.constructor',
    'slots.orderId.constructor',
    'slots.orderId.toUpperCase',
    'slots.count.toFixed',
    "vars['constructor']",
    "vars['__proto__']",
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
    'valueOf',
  ])('%s is null', (src) => {
    expect(ev(src)).toBeNull();
  });

  test('an own "__proto__" key (e.g. from JSON.parse) is hidden and never copied', () => {
    const data = JSON.parse('{"__proto__": {"polluted": true}, "constructor": "c", "ok": 1}');
    expect(ev('d.__proto__', { d: data })).toBeNull();
    expect(ev('d.__proto__.polluted', { d: data })).toBeNull();
    expect(ev('d.constructor', { d: data })).toBeNull();
    const copy = ev('d', { d: data }) as Record<string, unknown>;
    expect(copy).toEqual({ ok: 1 });
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('non-plain objects (class instances, Date, Map) are invisible', () => {
    class Secret {
      password = 'hunter2';
    }
    const s = { v: { secret: new Secret(), when: new Date(0), map: new Map([['a', 1]]) } };
    expect(ev('v.secret.password', s)).toBeNull();
    expect(ev('v.secret', s)).toBeNull();
    expect(ev('v.when', s)).toBeNull();
    expect(ev('v.when.getTime', s)).toBeNull();
    expect(ev('v.map.size', s)).toBeNull();
  });

  test('inherited properties are invisible, even on plain-looking objects', () => {
    const base = { inherited: 'no' };
    const child = Object.create(base) as Record<string, unknown>;
    child.own = 'yes';
    expect(ev('v.own', { v: child })).toBeNull(); // prototype is not Object.prototype → not a plain object
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { own: 'yes' });
    expect(ev('v.own', { v: nullProto })).toBe('yes');
  });

  test('non-enumerable properties are invisible', () => {
    const o: Record<string, unknown> = { shown: 1 };
    Object.defineProperty(o, 'hidden', { value: 2, enumerable: false });
    expect(ev('v.shown', { v: o })).toBe(1);
    expect(ev('v.hidden', { v: o })).toBeNull();
  });

  test('getters are never invoked', () => {
    const getter = jest.fn(() => 'secret');
    const o = {};
    Object.defineProperty(o, 'g', { get: getter, enumerable: true });
    expect(ev('v.g', { v: o })).toBeNull();
    expect(ev('v', { v: o })).toEqual({});
    expect(getter).not.toHaveBeenCalled();
  });

  test('"in" on objects only sees own keys', () => {
    expect(ev("'status' in vars.order")).toBe(true);
    expect(ev("'constructor' in vars.order")).toBe(false);
    expect(ev("'toString' in vars.order")).toBe(false);
    expect(ev("'__proto__' in vars.order")).toBe(false);
  });

  test('function names are not looked up on the prototype chain', () => {
    expect(parseError('constructor(1)').message).toMatch(/unknown function "constructor"/);
    expect(parseError('toString(1)').message).toMatch(/unknown function "toString"/);
    expect(parseError('__proto__(1)').message).toMatch(/unknown function "__proto__"/);
  });
});

describe('operators', () => {
  test.each([
    ['1 + 2', 3],
    ['5 - 8', -3],
    ['6 * 7', 42],
    ['7 / 2', 3.5],
    ['7 % 3', 1],
    ['-7 % 3', -1],
    ['0.1 * 3', 0.30000000000000004],
    ["'a' + 'b'", 'ab'],
    ["'n=' + 1", 'n=1'],
    ["1 + '!'", '1!'],
    ["'x' + true", 'xtrue'],
    ["'x' + null", 'x'],
    ["'x' + [1, 2]", 'x[1,2]'],
    ["'order ' + slots.orderId", 'order AB-123456'],
    ['[1] + [2, 3]', [1, 2, 3]],
    ['-slots.count', -3],
    ['--3', 3],
  ])('%s = %j', (src, expected) => {
    expect(ev(src)).toEqual(expected);
  });

  test.each([
    '1 / 0',
    '1 % 0',
    '0 / 0',
    "'a' - 1",
    "'a' * 2",
    '1 + null',
    'null + null',
    'true + 1',
    '[1] - [1]',
    '-"x"',
    '-null',
    'slots.missing * 2',
    '1e308 * 10',
  ])('%s is null (never NaN or Infinity)', (src) => {
    expect(ev(src)).toBeNull();
  });

  test.each([
    ['1 < 2', true],
    ['2 <= 2', true],
    ['3 > 4', false],
    ['4 >= 4', true],
    ["'apple' < 'banana'", true],
    ["'b' >= 'a'", true],
    ["'10' < 9", false],
    ["9 < '10'", false],
    ["9 >= '10'", false],
    ['null < 1', false],
    ['null >= 0', false],
    ['true > false', false],
    ['[1] < [2]', false],
    ['slots.missing > 0', false],
    ['slots.missing <= 0', false],
  ])('%s is %s', (src, expected) => {
    expect(ev(src)).toBe(expected);
  });

  test.each([
    ['1 == 1', true],
    ['1 == 1.0', true],
    ["1 == '1'", false],
    ["'1' != 1", true],
    ['0 == false', false],
    ["'' == null", false],
    ['null == null', true],
    ['slots.missing == null', true],
    ['slots.email == null', true],
    ['slots.orderId != null', true],
    ["[1, 'a', [true]] == [1, 'a', [true]]", true],
    ['[1, 2] == [2, 1]', false],
    ['[1] == [1, 1]', false],
    ['vars.order.items[0] == vars.order.items[0]', true],
    ['vars.order.items[0] == vars.order.items[1]', false],
    ['vars.emptyObj == vars.emptyObj', true],
    ['vars.order.tags == ["gift", "rush"]', true],
  ])('%s is %s', (src, expected) => {
    expect(ev(src)).toBe(expected);
  });

  test('deep equality on objects ignores key order', () => {
    expect(ev('a == b', { a: { x: 1, y: [1, { z: 2 }] }, b: { y: [1, { z: 2 }], x: 1 } })).toBe(true);
    expect(ev('a == b', { a: { x: 1 }, b: { x: 1, y: 2 } })).toBe(false);
    expect(ev('a == b', { a: { x: 1 }, b: [1] })).toBe(false);
  });

  test.each([
    ["'gift' in vars.order.tags", true],
    ["'sale' in vars.order.tags", false],
    ['20 in vars.items', true],
    ["'20' in vars.items", false],
    ["'World' in vars.text", true],
    ["'world' in vars.text", false],
    ["'' in 'abc'", true],
    ["1 in '123'", false],
    ['[1] in [[1], [2]]', true],
    ['null in [null]', true],
    ['1 in null', false],
    ['1 in 1', false],
    ["'gift' not in vars.order.tags", false],
    ["'sale' not in vars.order.tags", true],
    ["slots.orderId not in ['AB-1', 'AB-2']", true],
  ])('%s is %s', (src, expected) => {
    expect(ev(src)).toBe(expected);
  });

  test('logical operators return booleans, with keyword aliases', () => {
    expect(ev('1 && 2')).toBe(true);
    expect(ev("'x' || 0")).toBe(true);
    expect(ev("0 || ''")).toBe(false);
    expect(ev('null && 1')).toBe(false);
    expect(ev('true and false')).toBe(false);
    expect(ev('false or true')).toBe(true);
    expect(ev('!true')).toBe(false);
    expect(ev('not 0')).toBe(true);
    expect(ev('!!slots.orderId')).toBe(true);
    expect(ev('not not slots.missing')).toBe(false);
  });

  test('&& and || short-circuit', () => {
    // The right-hand side would throw if it were evaluated (an unknown function in a hand-built AST).
    const boom: Expr = { kind: 'call', name: 'boom', args: [], offset: 0 };
    const and: Expr = { kind: 'logical', op: '&&', left: { kind: 'literal', value: false, offset: 0 }, right: boom, offset: 0 };
    const or: Expr = { kind: 'logical', op: '||', left: { kind: 'literal', value: 1, offset: 0 }, right: boom, offset: 0 };
    expect(evaluate(and, {})).toBe(false);
    expect(evaluate(or, {})).toBe(true);
    expect(() => evaluate({ ...and, left: { kind: 'literal', value: true, offset: 0 } }, {})).toThrow(ExpressionError);
  });

  test('ternary picks a branch by truthiness and only evaluates that branch', () => {
    expect(ev("slots.count > 2 ? 'many' : 'few'")).toBe('many');
    expect(ev("slots.missing ? 'yes' : 'no'")).toBe('no');
    expect(ev('vars.empty ? 1 : 2')).toBe(2);
    const boom: Expr = { kind: 'call', name: 'boom', args: [], offset: 0 };
    const t: Expr = { kind: 'conditional', test: { kind: 'literal', value: true, offset: 0 }, consequent: { kind: 'literal', value: 'ok', offset: 0 }, alternate: boom, offset: 0 };
    expect(evaluate(t, {})).toBe('ok');
  });

  test('ternaries nest to the right', () => {
    const src = "n == 1 ? 'one' : n == 2 ? 'two' : 'many'";
    expect(ev(src, { n: 1 })).toBe('one');
    expect(ev(src, { n: 2 })).toBe('two');
    expect(ev(src, { n: 3 })).toBe('many');
    expect(ev("true ? false ? 'a' : 'b' : 'c'")).toBe('b');
  });
});

describe('truthiness', () => {
  test.each([
    ['null', false],
    ['false', false],
    ['0', false],
    ["''", false],
    ['[]', false],
    ['vars.emptyObj', true],
    ['1', true],
    ['-1', true],
    ["' '", true],
    ["'0'", true],
    ["'false'", true],
    ['[0]', true],
    ['true', true],
  ])('%s is %s', (src, truthy) => {
    expect(ev(`${src} ? true : false`)).toBe(truthy);
    expect(ev(`!(${src})`)).toBe(!truthy);
  });
});

describe('precedence and grouping', () => {
  test.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['100 / 10 / 5', 2],
    ['2 * 3 % 4', 2],
    ['-2 * 3', -6],
    ['-(2 + 3)', -5],
    ['1 + 2 < 4', true],
    ['1 < 2 == true', true],
    ['2 in [1, 2] == true', true],
    ['true || false && false', true],
    ['(true || false) && false', false],
    ['false && true || true', true],
    ['!false && false', false],
    ['!(false && false)', true],
    ['not 1 == 1', false], // (not 1) == 1
    ['!slots.missing == true', true],
    ['1 + 1 == 2 ? 3 + 4 : 0', 7],
    ['false || true ? 1 : 2', 1],
    ["'a' + 1 + 2", 'a12'],
    ["1 + 2 + 'a'", '3a'],
    ['slots.count * 2 > 5 && vars.order.status == "shipped"', true],
    ["len(vars.items) > 2 and 'rush' in vars.order.tags or false", true],
  ])('%s = %j', (src, expected) => {
    expect(ev(src)).toEqual(expected);
  });

  test('whitespace is insignificant', () => {
    expect(ev('  (1+2)*3==9&&!false  ')).toBe(true);
    expect(ev('\n\tslots.count\n>\t2\n')).toBe(true);
  });
});

describe('functions', () => {
  test.each([
    ["len('abc')", 3],
    ["len('')", 0],
    ["len('héllo 👋')", 7],
    ['len(vars.items)', 3],
    ['len(vars.empty)', 0],
    ['len(null)', 0],
    ['len(slots.missing)', 0],
    ['len(vars.order)', 4],
    ['len(42)', null],
    ["lower('MiXeD')", 'mixed'],
    ["upper('MiXeD')", 'MIXED'],
    ['lower(null)', null],
    ['upper(5)', null],
    ["trim('  x y  ')", 'x y'],
    ['trim(null)', null],
    ['contains(vars.order.tags, "gift")', true],
    ['contains(vars.text, "World")', true],
    ['contains(vars.text, "planet")', false],
    ['contains(null, "x")', false],
    ["startsWith(slots.orderId, 'AB-')", true],
    ["startsWith(slots.orderId, 'CD-')", false],
    ["startsWith(null, 'A')", false],
    ["number('42')", 42],
    ["number(' 3.5 ')", 3.5],
    ["number('-1e2')", -100],
    ['number(7)', 7],
    ["number('12abc')", null],
    ["number('')", null],
    ["number('1,234')", null],
    ['number(true)', null],
    ['number(null)', null],
    ["string(42) + '!'", '42!'],
    ['string(true)', 'true'],
    ['string(null)', ''],
    ["string('x')", 'x'],
    ['string([1, "a"])', '[1,"a"]'],
    ['empty(null)', true],
    ["empty('')", true],
    ['empty([])', true],
    ['empty(vars.emptyObj)', true],
    ["empty(' ')", false],
    ['empty(0)', false],
    ['empty(false)', false],
    ['empty(vars.items)', false],
    ['exists(slots.orderId)', true],
    ['exists(slots.missing)', false],
    ['exists(0)', true],
    ["exists('')", true],
    ['round(2.5)', 3],
    ['round(2.4)', 2],
    ['round(-2.5)', -3],
    ['round(-0.4)', 0],
    ["round('3')", null],
    ['min(3, 7)', 3],
    ['max(3, 7)', 7],
    ['min(-1, null)', null],
    ["max('a', 'b')", null],
    ['len(lower(trim("  ABC ")))', 3],
    ['max(len(vars.items), slots.count + 1)', 4],
  ])('%s = %j', (src, expected) => {
    expect(ev(src)).toEqual(expected);
  });

  test('round never returns -0', () => {
    expect(Object.is(ev('round(-0.4)'), 0)).toBe(true);
  });

  test('the whitelist is exactly the documented functions', () => {
    expect([...FUNCTION_NAMES].sort()).toEqual(
      ['contains', 'empty', 'exists', 'len', 'lower', 'max', 'min', 'number', 'round', 'startsWith', 'string', 'trim', 'upper'].sort(),
    );
  });

  test('unknown functions are rejected by the parser, with the list of available ones', () => {
    const e = parseError('slots.a == foo(1)');
    expect(e.offset).toBe(11);
    expect(e.message).toBe(
      'unknown function "foo" at column 12; available functions: len, lower, upper, trim, contains, startsWith, number, string, empty, exists, round, min, max',
    );
    expect(parseError('eval("1")').message).toMatch(/^unknown function "eval"/);
  });

  test('a wrongly-cased function name gets a suggestion', () => {
    expect(parseError('Len(x)').message).toBe('unknown function "Len" at column 1; did you mean len()?');
    expect(parseError('startswith(a, b)').message).toMatch(/did you mean startsWith\(\)\?/);
  });

  test.each([
    ['len()', 'len() at column 1 takes 1 argument but was given 0'],
    ['len(1, 2)', 'len() at column 1 takes 1 argument but was given 2'],
    ['x && min(1)', 'min() at column 6 takes 2 arguments but was given 1'],
    ["contains('a')", 'contains() at column 1 takes 2 arguments but was given 1'],
  ])('arity is checked at parse time: %s', (src, message) => {
    expect(parseError(src).message).toBe(message);
  });

  test('evaluating a hand-built call to an unknown function throws ExpressionError', () => {
    const bad: Expr = { kind: 'call', name: 'system', args: [], offset: 4 };
    expect(() => evaluate(bad, {})).toThrow(ExpressionError);
    try {
      evaluate(bad, {});
    } catch (e) {
      expect((e as ExpressionError).offset).toBe(4);
      expect((e as Error).message).toMatch(/unknown function "system"/);
    }
    expect(() => evaluate({ kind: 'call', name: 'len', args: [], offset: 0 }, {})).toThrow(/takes 1 argument/);
    expect(() => evaluate({ kind: 'call', name: 'toString', args: [], offset: 0 }, {})).toThrow(ExpressionError);
  });
});

describe('syntax errors', () => {
  test.each([
    ['(1 + )', 5, 'unexpected ")" at column 6; expected a value'],
    ['1 +', 3, 'unexpected end of expression at column 4; expected a value'],
    ['', 0, 'expression is empty'],
    ['   ', 0, 'expression is empty'],
    ['a = 1', 2, 'unexpected "=" at column 3; use "==" to compare values'],
    ['a === 1', 2, 'unexpected "===" at column 3; use "=="'],
    ['a !== 1', 2, 'unexpected "!==" at column 3; use "!="'],
    ['a & b', 2, 'unexpected "&" at column 3; use "&&" (or "and")'],
    ['a | b', 2, 'unexpected "|" at column 3; use "||" (or "or")'],
    ['a @ b', 2, 'unexpected character "@" at column 3'],
    ['((1)', 4, 'unexpected end of expression at column 5; expected ")" to close the "(" at column 1'],
    ['(1))', 3, 'unexpected ")" at column 4; there is no matching "("'],
    ['[1, 2', 5, 'unexpected end of expression at column 6; expected "," or "]" to close the "[" at column 1'],
    ['len(1', 5, 'unexpected end of expression at column 6; expected "," or ")" to close the "(" at column 4'],
    ["'abc", 0, "unterminated string starting at column 1; add the closing '"],
    ['x == "abc', 5, 'unterminated string starting at column 6; add the closing "'],
    ["'a\\qb'", 2, 'unknown escape "\\q" at column 3; write \\\\ for a backslash'],
    ["'\\u12'", 1, 'invalid escape "\\u" at column 2'],
    ['x y', 2, 'unexpected "y" at column 3; expected an operator (such as ==, &&, +) or the end of the expression'],
    ['1 2', 2, 'unexpected "2" at column 3; expected an operator'],
    ['a < b < c', 6, 'unexpected "<" at column 7; comparisons cannot be chained'],
    ['a == b != c', 7, 'unexpected "!=" at column 8; comparisons cannot be chained'],
    ['a in b in c', 7, 'unexpected "in" at column 8; comparisons cannot be chained'],
    ['a ? b', 5, 'unexpected end of expression at column 6; expected ":" to complete the "? :" started at column 3'],
    ['a ? : b', 4, 'unexpected ":" at column 5; expected a value'],
    ['and', 0, 'unexpected "and" at column 1; expected a value'],
    ['x and or y', 6, 'unexpected "or" at column 7; expected a value'],
    ['slots.', 6, 'unexpected end of expression at column 7; expected a property name after the "." at column 6'],
    ['vars.items.0', 11, 'unexpected "0" at column 12; to index a list write [0] instead of .0'],
    ['vars.items[i]', 11, 'invalid index "i" at column 12; an index must be a whole number or a quoted string'],
    ['vars.items[1.5]', 11, 'invalid index "1.5" at column 12'],
    ['vars.items[-1]', 11, 'invalid index "-" at column 12'],
    ['vars.items[0', 12, 'unexpected end of expression at column 13; expected "]" to close the "[" at column 11'],
    ['slots.check(1)', 11, 'unexpected "(" at column 12; "slots.check" is a variable, not a function'],
    ['12abc', 0, 'invalid number "12a" at column 1'],
    ['1.', 0, 'invalid number "1." at column 1'],
    ['[1,]', 3, 'unexpected "]" at column 4; expected a value'],
    [')', 0, 'unexpected ")" at column 1; expected a value'],
  ])('%j → offset %i', (src, offset, message) => {
    const e = parseError(src);
    expect(e.offset).toBe(offset);
    expect(e.message).toContain(message);
    expect(e.name).toBe('ExpressionError');
  });

  test('messages point at the problem and say how to fix it', () => {
    const e = parseError("slots.orderId = 'x'");
    expect(e.message).toMatch(/column 15/);
    expect(e.message).toMatch(/use "=="/);
  });

  test('error tokens are shortened in messages', () => {
    const e = parseError(`1 '${'x'.repeat(100)}'`);
    expect(e.message).toContain('..."');
    expect(e.message.length).toBeLessThan(200);
  });
});

describe('limits', () => {
  test(`source of exactly ${MAX_EXPRESSION_LENGTH} characters is fine, one more is rejected`, () => {
    const ok = `1${' '.repeat(MAX_EXPRESSION_LENGTH - 1)}`;
    expect(ev(ok)).toBe(1);
    const e = parseError(`${ok} `);
    expect(e.offset).toBe(MAX_EXPRESSION_LENGTH);
    expect(e.message).toBe('expression is 2001 characters long; the limit is 2000 — split it into several steps');
  });

  test(`nesting up to ${MAX_EXPRESSION_DEPTH} levels is fine, deeper is rejected`, () => {
    const depth = (n: number) => `${'('.repeat(n)}1${')'.repeat(n)}`;
    expect(ev(depth(MAX_EXPRESSION_DEPTH))).toBe(1);
    const e = parseError(depth(MAX_EXPRESSION_DEPTH + 1));
    expect(e.offset).toBe(MAX_EXPRESSION_DEPTH);
    expect(e.message).toMatch(/nested too deeply at column 65 \(more than 64 levels\)/);
  });

  test('depth counts lists, calls and unary operators too', () => {
    expect(() => parseExpression(`${'['.repeat(65)}${']'.repeat(65)}`)).toThrow(/nested too deeply/);
    expect(() => parseExpression(`${'len('.repeat(65)}1${')'.repeat(65)}`)).toThrow(/nested too deeply/);
    expect(() => parseExpression(`${'!'.repeat(65)}true`)).toThrow(/nested too deeply/);
    expect(() => parseExpression(`${'-'.repeat(65)}1`)).toThrow(/nested too deeply/);
    expect(ev(`${'!'.repeat(64)}true`)).toBe(true);
    expect(ev(`${'[['.repeat(10)}${']]'.repeat(10)}`)).toBeTruthy();
  });

  test('long flat expressions are fine', () => {
    const src = Array.from({ length: 400 }, () => '1').join('+');
    expect(src.length).toBeLessThanOrEqual(MAX_EXPRESSION_LENGTH);
    expect(ev(src)).toBe(400);
    const ors = Array.from({ length: 300 }, (_, i) => `x == ${i}`).join(' || ');
    expect(ev(ors.slice(0, ors.lastIndexOf(' || ', 2000)), { x: 7 })).toBe(true);
  });

  test('non-string source is rejected cleanly', () => {
    expect(() => parseExpression(42 as unknown as string)).toThrow(ExpressionError);
  });
});

describe('AST', () => {
  test('is plain JSON-serialisable data with offsets', () => {
    const ast = parseExpression("slots.count > 2 && vars.order['status'] == 'shipped'");
    expect(JSON.parse(JSON.stringify(ast))).toEqual(ast);
    expect(ast).toEqual({
      kind: 'logical',
      op: '&&',
      offset: 16,
      left: {
        kind: 'binary',
        op: '>',
        offset: 12,
        left: { kind: 'path', path: ['slots', 'count'], offset: 0 },
        right: { kind: 'literal', value: 2, offset: 14 },
      },
      right: {
        kind: 'binary',
        op: '==',
        offset: 40,
        left: { kind: 'path', path: ['vars', 'order', 'status'], offset: 19 },
        right: { kind: 'literal', value: 'shipped', offset: 43 },
      },
    });
  });

  test('keyword operators normalise to their symbols', () => {
    expect(parseExpressionWithoutOffsets('a and b or not c')).toEqual(parseExpressionWithoutOffsets('a && b || !c'));
    expect(parseExpressionWithoutOffsets('x not in y')).toEqual({
      kind: 'binary',
      op: 'not in',
      left: { kind: 'path', path: ['x'] },
      right: { kind: 'path', path: ['y'] },
    });
  });

  test('a parsed AST can be evaluated many times against different scopes', () => {
    const ast = parseExpression('slots.n * 2');
    expect(evaluate(ast, { slots: { n: 2 } })).toBe(4);
    expect(evaluate(ast, { slots: { n: 5 } })).toBe(10);
    expect(evaluate(ast, {})).toBeNull();
  });
});

function stripOffsets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripOffsets);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'offset').map(([k, x]) => [k, stripOffsets(x)]));
  }
  return v;
}
function parseExpressionWithoutOffsets(src: string): unknown {
  return stripOffsets(parseExpression(src));
}

describe('referencedPaths', () => {
  test('lists every variable path, in order, without duplicates', () => {
    const ast = parseExpression(
      "slots.orderId != null && vars.order.status == 'shipped' && len(vars.items[0]) > slots.count ? vars.order['total'] : slots.orderId",
    );
    expect(referencedPaths(ast)).toEqual([
      ['slots', 'orderId'],
      ['vars', 'order', 'status'],
      ['vars', 'items', '0'],
      ['slots', 'count'],
      ['vars', 'order', 'total'],
    ]);
  });

  test('finds paths inside lists, unary operators and function arguments', () => {
    expect(referencedPaths(parseExpression('[a, -b.c, !d] == max(e, f[1])'))).toEqual([['a'], ['b', 'c'], ['d'], ['e'], ['f', '1']]);
  });

  test('literals reference nothing', () => {
    expect(referencedPaths(parseExpression("1 + 2 == 3 && 'slots.x' != null"))).toEqual([]);
  });
});

describe('evaluateSource', () => {
  test('parses and evaluates', () => {
    expect(evaluateSource('1 + 1', {})).toBe(2);
  });
  test('throws ExpressionError for syntax errors', () => {
    expect(() => evaluateSource('1 +', {})).toThrow(ExpressionError);
  });
});

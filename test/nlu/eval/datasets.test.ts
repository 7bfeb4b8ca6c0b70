import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatasetError, loadDataset, parseCsv, parseDataset, stratifiedSplit, toIntents } from '../../../src/nlu/eval/datasets';
import { computeMetrics } from '../../../src/nlu/eval/metrics';

describe('parseCsv', () => {
  it('handles quotes, commas, escaped quotes, CRLF, newlines in quotes and a BOM', () => {
    const text = '\uFEFFtext,intent\r\n"hi, there",greet\r\n"she said ""no""",deny\n"two\nlines",multi\n\nplain,x';
    const recs = parseCsv(text);
    expect(recs.map((r) => r.fields)).toEqual([
      ['text', 'intent'],
      ['hi, there', 'greet'],
      ['she said "no"', 'deny'],
      ['two\nlines', 'multi'],
      ['plain', 'x'],
    ]);
    expect(recs.map((r) => r.line)).toEqual([1, 2, 3, 4, 7]);
  });

  it('reports unterminated quotes and stray quotes with line numbers', () => {
    expect(() => parseCsv('text,intent\nok,a\n"never closed,b\n', 'f.csv')).toThrow(/f\.csv:3: .*never closed/);
    expect(() => parseCsv('text,intent\n"a"b,c\n', 'f.csv')).toThrow(/f\.csv:2: .*after a closing quote/);
    expect(() => parseCsv('text,intent\nsay "hi",c\n', 'f.csv')).toThrow(/f\.csv:2: .*quote inside an unquoted field/);
  });
});

describe('parseDataset', () => {
  it('reads CSV by column name, in any order, ignoring extra columns', () => {
    const d = parseDataset('id,category,text\n1,card_arrival,"Where is my card, please?"\n2,OOS,what is the weather\n', 'b.csv');
    expect(d.examples).toEqual([
      { text: 'Where is my card, please?', intent: 'card_arrival', line: 2 },
      { text: 'what is the weather', intent: 'oos', line: 3 },
    ]);
  });

  it('rejects empty files, header-only files and unknown columns', () => {
    expect(() => parseDataset('', 'e.csv')).toThrow(/e\.csv: the file is empty/);
    expect(() => parseDataset('  \n\n', 'e.csv')).toThrow(DatasetError);
    expect(() => parseDataset('text,intent\n', 'h.csv')).toThrow(/no examples/);
    expect(() => parseDataset('sentence,foo\nhello,bar\n', 'u.csv')).toThrow(/u\.csv:1: unknown columns "sentence", "foo".*intent column/);
    expect(() => parseDataset('hello there,greet\nbye,leave\n', 'n.csv')).toThrow(/must be a header/);
  });

  it('reports short rows and empty fields with their line', () => {
    expect(() => parseDataset('text,intent\nhello\n', 's.csv')).toThrow(/s\.csv:2: expected at least 2 columns/);
    expect(() => parseDataset('text,intent\nhello,\n', 's.csv')).toThrow(/s\.csv:2: the intent is empty/);
    expect(() => parseDataset('text,intent\n ,greet\n', 's.csv')).toThrow(/s\.csv:2: the text is empty/);
  });

  it('reads JSON pairs and objects, and selects keys of an object', () => {
    const pairs = parseDataset('[\n  ["hi", "greet"],\n  ["bye", "leave"]\n]', 'p.json');
    expect(pairs.examples).toEqual([
      { text: 'hi', intent: 'greet', line: 2 },
      { text: 'bye', intent: 'leave', line: 3 },
    ]);
    const objs = parseDataset('[{"text":"hi","intent":"greet"}]', 'o.json');
    expect(objs.examples[0]).toMatchObject({ text: 'hi', intent: 'greet' });
    const clinc = '{\n "train": [["a b", "x"]],\n "oos_train": [["c d", "oos"]],\n "val": [["e", "x"]]\n}';
    expect(parseDataset(clinc, 'c.json', 'train+oos_train').examples.map((e) => [e.text, e.intent, e.line])).toEqual([
      ['a b', 'x', 2],
      ['c d', 'oos', 3],
    ]);
    expect(() => parseDataset(clinc, 'c.json')).toThrow(/several arrays \(train, oos_train, val\).*c\.json#train/);
    expect(() => parseDataset(clinc, 'c.json', 'test')).toThrow(/no array "test"/);
  });

  it('reports malformed JSON with line and column, and bad items with their line', () => {
    expect(() => parseDataset('[\n ["a", "b"],\n ["c" "d"]\n]', 'm.json')).toThrow(/m\.json:3:\d+: malformed JSON/);
    expect(() => parseDataset('[\n ["a", "b"],\n ["c"]\n]', 'm.json')).toThrow(/m\.json:3 \(item 1\): expected a \[text, intent\] pair/);
    expect(() => parseDataset('"just a string"', 'm.json')).toThrow(/m\.json:1:1: malformed JSON: expected an array/);
    expect(() => parseDataset('{"a": 1}', 'm.json')).toThrow(/no arrays/);
  });

  it('warns about single-example intents in training data, errors on a single intent', () => {
    const d = parseDataset('text,intent\na,x\nb,x\nc,y\n', 't.csv', undefined, { training: true });
    expect(d.warnings).toHaveLength(1);
    expect(d.warnings[0]).toMatch(/t\.csv:4: intent "y" has only one example/);
    expect(parseDataset('text,intent\na,x\nc,y\n', 't.csv').warnings).toEqual([]);
    expect(() => parseDataset('text,intent\na,x\nb,oos\n', 't.csv', undefined, { training: true })).toThrow(/at least 2 intents/);
  });

  it('loads files, with a #selector, and says when a file is missing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-ds-'));
    const file = path.join(dir, 'd.json');
    fs.writeFileSync(file, JSON.stringify({ a: [['x y', 'i']], b: [['z', 'j']] }));
    expect(loadDataset(`${file}#a+b`).examples.map((e) => e.intent)).toEqual(['i', 'j']);
    expect(() => loadDataset(path.join(dir, 'nope.csv'))).toThrow(/no such file/);
    expect(() => loadDataset(dir)).toThrow(/is a directory/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('helpers', () => {
  it('stratifiedSplit holds out a fraction of each intent, deterministically', () => {
    const items = [...Array(20)].map((_, i) => ({ text: `t${i}`, intent: i < 10 ? 'a' : i < 19 ? 'b' : 'c' }));
    const s = stratifiedSplit(items, 0.2, 1);
    expect(s.held.filter((x) => x.intent === 'a')).toHaveLength(2);
    expect(s.held.filter((x) => x.intent === 'b')).toHaveLength(2);
    expect(s.held.filter((x) => x.intent === 'c')).toHaveLength(0);
    expect(s.kept.length + s.held.length).toBe(20);
    expect(stratifiedSplit(items, 0.2, 1)).toEqual(s);
  });

  it('toIntents groups examples', () => {
    expect(toIntents([{ text: 'a', intent: 'x', line: 1 }, { text: 'b', intent: 'x', line: 2 }])).toEqual([{ intent: 'x', examples: ['a', 'b'] }]);
  });

  it('computeMetrics counts answers, wrong answers and out-of-scope recall', () => {
    const m = computeMetrics(
      [
        { text: '1', gold: 'a', predicted: 'a', topAny: 'a', confidence: 0.9, answered: true },
        { text: '2', gold: 'a', predicted: 'b', topAny: 'b', confidence: 0.8, answered: true },
        { text: '3', gold: 'b', predicted: 'b', topAny: 'b', confidence: 0.2, answered: false },
        { text: '4', gold: 'oos', predicted: 'a', topAny: 'oos', confidence: 0.3, answered: false },
        { text: '5', gold: 'oos', predicted: 'b', topAny: 'b', confidence: 0.7, answered: true },
      ],
      0.5,
    );
    expect(m.accuracy).toBeCloseTo(3 / 5);
    expect(m.inScopeAccuracy).toBeCloseTo(2 / 3);
    expect(m.answeredCorrectRate).toBeCloseTo(1 / 3);
    expect(m.wrongAnswerRate).toBeCloseTo(2 / 3);
    expect(m.wrongPerQuery).toBeCloseTo(2 / 5);
    expect(m.oosRecall).toBeCloseTo(1 / 2);
    expect(m.answers).toBe(3);
    // F1: a = P 1/1 R 1/2 → 2/3; b = P 1/3 R 1/1 → 1/2; oos = P 1/1 R 1/2 → 2/3.
    expect(m.macroF1).toBeCloseTo((2 / 3 + 1 / 2 + 2 / 3) / 3);
  });
});

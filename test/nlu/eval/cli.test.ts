import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nluCommand } from '../../../src/cli/nlu';
import { SMALL_CORPUS } from '../linear/fixtures';

let dir: string;
let stdout: string;
let stderr: string;
let spies: jest.SpyInstance[];

function csv(rows: [string, string][]): string {
  return 'text,intent\n' + rows.map(([t, i]) => `"${t.replace(/"/g, '""')}",${i}`).join('\n') + '\n';
}

const TRAIN = SMALL_CORPUS.intents.flatMap((i) => i.examples.map((e) => [e, i.intent] as [string, string]));
const TEST: [string, string][] = [
  ['where is my parcel', 'order.track'],
  ['i want my money back', 'order.refund'],
  ['reset my password please', 'account.password'],
  ['are you open on saturday', 'store.hours'],
  ['who is the president of brazil', 'oos'],
  ['sing me a song', 'oos'],
];

async function run(...argv: string[]): Promise<number> {
  stdout = '';
  stderr = '';
  return nluCommand(argv);
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-nlu-cli-'));
  fs.writeFileSync(path.join(dir, 'train.csv'), csv(TRAIN));
  fs.writeFileSync(path.join(dir, 'test.json'), JSON.stringify(TEST));
  fs.writeFileSync(path.join(dir, 'val.json'), JSON.stringify({ val: TEST.slice(0, 3), oos_val: TEST.slice(4, 5) }));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true)),
    jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true)),
  ];
});
afterEach(() => spies.forEach((s) => s.mockRestore()));

const f = (name: string): string => path.join(dir, name);

describe('baton nlu eval', () => {
  it('prints a table, writes predictions and exits 0', async () => {
    const out = f('pred.jsonl');
    expect(await run('eval', '--train', f('train.csv'), '--test', f('test.json'), '--predictions', out)).toBe(0);
    expect(stdout).toMatch(/baton-linear/);
    expect(stdout).toMatch(/answered-correct rate/);
    expect(stdout).toMatch(/wrong-answer rate/);
    expect(stdout).toMatch(/cross-validation/);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(TEST.length);
    for (const [k, l] of lines.entries()) {
      expect(Object.keys(l).sort()).toEqual(['answered', 'confidence', 'gold', 'predicted', 'text']);
      expect(l.text).toBe(TEST[k]![0]);
      expect(l.gold).toBe(TEST[k]![1]);
      expect(l.predicted).not.toBe('oos');
      expect(l.confidence).toBeGreaterThanOrEqual(0);
      expect(l.confidence).toBeLessThanOrEqual(1);
      expect(typeof l.answered).toBe('boolean');
    }
    expect(lines[0].predicted).toBe('order.track');
  });

  it('--json prints one JSON object with a fixed shape; --val and the node-nlp baseline', async () => {
    const code = await run('eval', '--train', f('train.csv'), '--test', f('test.json'), `--val=${f('val.json')}#val+oos_val`, '--json', '--baseline', 'node-nlp', '--target-wrong-rate', '0.1');
    expect(code).toBe(0);
    const j = JSON.parse(stdout);
    expect(j.train).toEqual({ file: f('train.csv'), examples: 40, intents: 4, outOfScope: 8 });
    expect(j.test.outOfScope).toBe(2);
    expect(j.val.examples).toBe(4);
    expect(j.targetWrongRate).toBe(0.1);
    expect(j.results.map((r: { matcher: string }) => r.matcher)).toEqual(['baton-linear', 'nlpjs']);
    for (const r of j.results) {
      expect(r.thresholdSource).toBe('validation');
      for (const k of ['accuracy', 'macroF1', 'inScopeAccuracy', 'oosRecall', 'answeredCorrectRate', 'wrongAnswerRate']) {
        expect(typeof r.metrics[k]).toBe('number');
      }
      expect(r.trainSeconds).toBeGreaterThanOrEqual(0);
      expect(r.latencyMs.p50).toBeGreaterThanOrEqual(0);
      expect(r.latencyMs.p99).toBeGreaterThanOrEqual(r.latencyMs.p50);
      expect(r.peakRssMiB).toBeGreaterThan(0);
      expect(r.predictions).toBeUndefined();
    }
  });

  it('exits 2 on usage errors, with a clear message', async () => {
    expect(await run('eval', '--train', f('train.csv'))).toBe(2);
    expect(stderr).toMatch(/--test FILE is required/);
    expect(await run('eval', '--train', f('train.csv'), '--test', f('test.json'), '--frobnicate')).toBe(2);
    expect(stderr).toMatch(/unknown option --frobnicate/);
    expect(await run('eval', '--train', f('train.csv'), '--test', f('test.json'), '--target-wrong-rate', '5')).toBe(2);
    expect(stderr).toMatch(/must be a number in \[0, 1\)/);
    expect(await run('eval', '--train', f('train.csv'), '--test', f('test.json'), '--baseline', 'rasa')).toBe(2);
    expect(await run('eval', '--train')).toBe(2);
    expect(stderr).toMatch(/--train needs a value/);
    expect(await run('frob')).toBe(2);
    expect(stderr).toMatch(/unknown subcommand "frob"/);
    expect(await run()).toBe(2);
    expect(await run('eval', '--help')).toBe(0);
    expect(stdout).toMatch(/Usage: baton nlu eval/);
  });

  it('exits 1 on bad data files, naming the file and line', async () => {
    fs.writeFileSync(f('empty.csv'), '');
    fs.writeFileSync(f('cols.csv'), 'foo,bar\na,b\n');
    fs.writeFileSync(f('bad.json'), '[\n ["a", "b"],\n ["c", "d",]\n]');
    expect(await run('eval', '--train', f('empty.csv'), '--test', f('test.json'))).toBe(1);
    expect(stderr).toMatch(/empty\.csv: the file is empty/);
    expect(await run('eval', '--train', f('cols.csv'), '--test', f('test.json'))).toBe(1);
    expect(stderr).toMatch(/cols\.csv:1: unknown columns "foo", "bar"/);
    expect(await run('eval', '--train', f('train.csv'), '--test', f('bad.json'))).toBe(1);
    expect(stderr).toMatch(/bad\.json:3:\d+: malformed JSON/);
    expect(await run('eval', '--train', f('missing.csv'), '--test', f('test.json'))).toBe(1);
    expect(stderr).toMatch(/missing\.csv: no such file/);
  });

  it('warns about single-example intents and test intents unknown to training', async () => {
    fs.writeFileSync(f('one.csv'), csv([...TRAIN, ['do you sell gift cards', 'gift.card']]));
    fs.writeFileSync(f('test2.json'), JSON.stringify([...TEST, ['can I pay with crypto', 'payment.crypto']]));
    expect(await run('eval', '--train', f('one.csv'), '--test', f('test2.json'), '--json')).toBe(0);
    expect(stderr).toMatch(/intent "gift\.card" has only one example/);
    expect(stderr).toMatch(/never seen in training \(payment\.crypto\)/);
    expect(JSON.parse(stdout).warnings).toHaveLength(2);
  });
});

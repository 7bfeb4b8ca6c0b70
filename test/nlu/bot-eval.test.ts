/**
 * `baton eval <bot-dir>`: the evaluation's shape on a tiny bot, its agreement with training, and
 * the command (printed summary, report.html with an inline SVG chart, report.json, exit codes).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBot } from '../../src/flow/loader';
import { trainBot } from '../../src/main';
import { evaluateBot, type BotEvaluation } from '../../src/nlu/eval/bot';
import { renderEvalHtml } from '../../src/nlu/eval/report-html';
import { evalCommand, formatEvaluation } from '../../src/cli/eval';
import { main } from '../../src/cli/main';
import { writeBot } from './bot-fixture';

let root: string;
let botDir: string;
let evaluation: BotEvaluation;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-eval-'));
  botDir = writeBot({}, root);
  const { bot } = loadBot(botDir);
  evaluation = await evaluateBot(bot!, { relativeTo: root });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('evaluateBot', () => {
  it('cross-validates every example of the bot, the built-ins and the out-of-scope class', () => {
    const e = evaluation;
    expect(e).toMatchObject({ bot: { id: 'bikes', name: 'Spokes Bike Shop', language: 'en' }, matcher: 'linear', folds: 5, targetWrongRate: 0.1 });
    expect(e.intents).toBe(4 + 6);
    expect(e.predictions).toHaveLength(e.examples);
    expect(e.outOfScopeExamples).toBe(e.predictions.filter((p) => p.gold === 'oos').length);
    expect(e.outOfScopeExamples).toBeGreaterThan(50);
    expect(e.accuracy).toBeGreaterThan(0.5);
    expect(e.accuracy).toBeLessThanOrEqual(1);
  });

  it('recommends the threshold training chooses, with the coverage and wrong-answer rate it gives', async () => {
    const { bot } = loadBot(botDir);
    const trained = await trainBot(bot!, { cacheDir: path.join(root, 'cache') });
    expect(evaluation.recommended.threshold).toBeCloseTo(trained.thresholds.threshold, 5);
    expect(evaluation.recommended.source).toBe('auto');
    const cv = evaluation.recommended.cv!;
    expect(cv.answeredCorrectRate).toBeGreaterThan(0);
    expect(cv.wrongRate).toBeLessThanOrEqual(0.1 + 1e-9);
    expect(evaluation.configured).toBeNull();
  });

  it('lists every intent once, worst F1 first, with where its examples are', () => {
    const p = evaluation.perIntent;
    expect(p.map((i) => i.intent).sort()).toEqual(
      ['book_repair', 'track_repair', 'kb.opening-hours', 'kb.rentals', 'oos', ...['cancel', 'goodbye', 'greeting', 'human', 'restart', 'thanks'].map((b) => `builtin.${b}`)].sort(),
    );
    for (let i = 1; i < p.length; i++) expect(p[i]!.f1).toBeGreaterThanOrEqual(p[i - 1]!.f1);
    for (const i of p) {
      expect(i.precision === null || Number.isNaN(i.precision) || (i.precision >= 0 && i.precision <= 1)).toBe(true);
      expect(i.recall).toBeGreaterThanOrEqual(0);
      expect(i.recall).toBeLessThanOrEqual(1);
    }
    const repair = p.find((i) => i.intent === 'book_repair')!;
    expect(repair).toMatchObject({ kind: 'flow', examples: 12, where: path.join('bikes', 'flows', 'book_repair.yaml') + ':4' });
    expect(p.find((i) => i.intent === 'kb.rentals')).toMatchObject({ kind: 'article', examples: 10 });
    expect(p.find((i) => i.intent === 'builtin.human')).toMatchObject({ kind: 'builtin', where: '(built-in)' });
    expect(p.find((i) => i.intent === 'oos')).toMatchObject({ kind: 'out-of-scope', where: '(Baton out-of-scope list)' });
  });

  it('pairs confused intents with the examples that were taken for the other', () => {
    expect(evaluation.confusions.length).toBeGreaterThan(0);
    const total = evaluation.predictions.filter((p) => p.top !== null && p.top !== p.gold).length;
    expect(evaluation.confusions.reduce((n, c) => n + c.count, 0)).toBe(total);
    for (const c of evaluation.confusions) {
      expect(c.a.localeCompare(c.b)).toBeLessThan(0);
      expect(c.aAsB + c.bAsA).toBe(c.count);
      expect(c.examples).toHaveLength(c.count);
      for (const x of c.examples) expect([c.a, c.b]).toEqual(expect.arrayContaining([x.gold, x.predicted]));
    }
    for (let i = 1; i < evaluation.confusions.length; i++) expect(evaluation.confusions[i]!.count).toBeLessThanOrEqual(evaluation.confusions[i - 1]!.count);
  });

  it('traces coverage and wrong-answer rate over thresholds', () => {
    const c = evaluation.curve;
    expect(c[0]!.threshold).toBe(0);
    expect(c[c.length - 1]!.threshold).toBe(1);
    expect(c.some((p) => p.threshold === evaluation.recommended.threshold)).toBe(true);
    for (let i = 1; i < c.length; i++) expect(c[i]!.answeredRate).toBeLessThanOrEqual(c[i - 1]!.answeredRate);
  });

  it('renders a self-contained HTML page with the charts and tables', () => {
    const html = renderEvalHtml(evaluation, new Date('2026-01-02T03:04:05Z'));
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain('<polyline points="');
    expect(html).toContain('recommended ' + evaluation.recommended.threshold.toFixed(3));
    expect(html).not.toMatch(/<script|<link |src="http/);
    for (const i of evaluation.perIntent) expect(html).toContain(`<strong>${i.intent}</strong>`);
    expect(html).not.toContain('NaN');
    expect(html).not.toContain('undefined');
  });

  it('prints a summary with the worst intents, the confusions and the threshold', () => {
    const text = formatEvaluation(evaluation, 3);
    expect(text).toContain('Spokes Bike Shop (bikes): linear matcher, 5-fold cross-validation of');
    expect(text).toContain(`recommended threshold for ≤ 10.0% wrong answers: ${evaluation.recommended.threshold.toFixed(3)}`);
    expect(text).toMatch(/it answers \d+\.\d% of the in-scope examples correctly; \d+\.\d% of its answers are wrong/);
    expect(text).toContain('Intents, worst first');
    expect(text).toContain(`… ${evaluation.perIntent.length - 3} more in the report`);
    expect(text).toContain('Intents most often confused:');
  });
});

describe('baton eval', () => {
  let stdout: string;
  let stderr: string;
  let spies: jest.SpyInstance[];
  beforeEach(() => {
    stdout = '';
    stderr = '';
    spies = [
      jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true)),
      jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true)),
    ];
  });
  afterEach(() => spies.forEach((s) => s.mockRestore()));

  it('writes report.html and report.json to --out and prints the JSON with --json', async () => {
    const out = path.join(root, 'report');
    expect(await main(['eval', botDir, '--out', out, '--json', '--folds', '3'])).toBe(0);
    const printed = JSON.parse(stdout) as BotEvaluation;
    const saved = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as BotEvaluation;
    expect(saved).toEqual(printed);
    expect(Object.keys(saved).sort()).toEqual(
      ['accuracy', 'bot', 'configured', 'confusions', 'curve', 'examples', 'folds', 'intents', 'matcher', 'outOfScopeExamples', 'perIntent', 'predictions', 'recommended', 'seconds', 'targetWrongRate'].sort(),
    );
    expect(saved.folds).toBe(3);
    expect(saved.recommended.cv!.folds).toBe(3);
    expect(saved.predictions[0]).toEqual({
      text: expect.any(String),
      gold: expect.any(String),
      predicted: expect.anything(),
      top: expect.anything(),
      confidence: expect.any(Number),
      correct: expect.any(Boolean),
      outOfScope: expect.any(Boolean),
      fold: expect.any(Number),
      where: expect.any(String),
    });
    expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('<svg ');
  });

  it('defaults to <bot-dir>/.cache/eval and prints the summary', async () => {
    expect(await evalCommand([botDir, '--target-wrong-rate', '0.2', '--folds=3'])).toBe(0);
    expect(stdout).toContain('recommended threshold for ≤ 20.0% wrong answers');
    expect(stdout).toContain(`Report: ${path.relative(process.cwd(), path.join(botDir, '.cache', 'eval', 'report.html'))}`);
    expect(fs.existsSync(path.join(botDir, '.cache', 'eval', 'report.json'))).toBe(true);
  });

  it('exits 2 on a bad command line and 1 when the bot does not load', async () => {
    expect(await evalCommand([])).toBe(2);
    expect(stderr).toContain('which bot?');
    expect(await evalCommand([botDir, '--folds', '1'])).toBe(2);
    expect(await evalCommand([botDir, '--target-wrong-rate', '2'])).toBe(2);
    expect(await evalCommand([botDir, '--frobnicate'])).toBe(2);
    expect(await evalCommand([path.join(root, 'nope')])).toBe(1);
    expect(stderr).toContain('bot_file_missing');
  });
});

/**
 * The engine as the composition root uses it: trainBot picks the matcher from bot.yaml, resolves
 * `threshold: auto` by cross-validation, stores it with the cached model (a cache hit gives the
 * same thresholds), and an off-topic question gets the fallback with the linear matcher.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBot } from '../../src/flow/loader';
import type { Bot } from '../../src/flow/model';
import { createBaton, trainBot } from '../../src/main';
import { LinearIntentMatcher } from '../../src/nlu/linear/matcher';
import { NlpjsIntentMatcher } from '../../src/nlu/nlpjs';
import { autoThreshold, describeResolution, resolveThresholds, trainingCorpus } from '../../src/nlu/engine';
import { OUT_OF_SCOPE_EXAMPLES } from '../../src/nlu/out-of-scope';
import { AUTO_THRESHOLD_INFEASIBLE, AUTO_THRESHOLD_MIN } from '../../src/nlu/settings';
import { silentLogger } from '../../src/util/logger';
import { writeBot } from './bot-fixture';

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-engine-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function botAt(nlu?: string[], id = 'bikes'): Bot {
  const dir = writeBot({ id, ...(nlu ? { nlu } : {}) }, fs.mkdtempSync(path.join(root, 'b-')));
  const r = loadBot(dir);
  if (!r.bot) throw new Error(r.problems.map((p) => p.message).join('\n'));
  return r.bot;
}

describe('trainBot with the default settings (linear, threshold: auto)', () => {
  let bot: Bot;
  let cacheDir: string;
  let first: Awaited<ReturnType<typeof trainBot>>;
  beforeAll(async () => {
    bot = botAt();
    cacheDir = path.join(root, 'cache-default');
    first = await trainBot(bot, { cacheDir });
  });

  it('trains the linear matcher on the bot, the built-ins and the generic out-of-scope class', () => {
    expect(first.fromCache).toBe(false);
    expect(first.matcher).toBeInstanceOf(LinearIntentMatcher);
    const intents = (first.matcher as LinearIntentMatcher).intents;
    expect(intents).toEqual(expect.arrayContaining(['book_repair', 'track_repair', 'kb.opening-hours', 'kb.rentals', 'builtin.human', 'oos']));
  });

  it('chooses the threshold by cross-validation and writes it into the bot config', () => {
    const t = first.thresholds;
    expect(t.source).toBe('auto');
    expect(t.targetWrongRate).toBe(0.1);
    expect(t.threshold).toBeGreaterThanOrEqual(AUTO_THRESHOLD_MIN);
    expect(t.threshold).toBeLessThan(1);
    expect(t.cv).toMatchObject({ folds: 5 });
    expect(t.cv!.examples).toBe(trainingCorpus(bot).intents.reduce((n, i) => n + i.examples.length, 0));
    if (t.adjusted === null) expect(t.cv!.wrongRate).toBeLessThanOrEqual(0.1 + 1e-9);
    expect(bot.config.nlu.threshold).toBe(t.threshold);
    expect(bot.config.nlu.digressionThreshold).toBeCloseTo(t.threshold + (1 - t.threshold) / 2, 12);
    expect(bot.config.nlu.ambiguityMargin).toBe(0.3);
    // The matcher's own threshold agrees.
    expect((first.matcher as LinearIntentMatcher).threshold).toBe(t.threshold);
  });

  it('a cache hit returns the same thresholds without retraining', async () => {
    const again = botAt();
    const second = await trainBot(again, { cacheDir });
    expect(second.fromCache).toBe(true);
    expect(second.file).toBe(first.file);
    expect(second.thresholds).toEqual(first.thresholds);
    expect(again.config.nlu.threshold).toBe(first.thresholds.threshold);
    expect((second.matcher as LinearIntentMatcher).threshold).toBe(first.thresholds.threshold);
    const stored = JSON.parse(fs.readFileSync(second.file, 'utf8')) as { meta: { resolved: { threshold: number }; predictions: unknown[] } };
    expect(stored.meta.resolved.threshold).toBe(first.thresholds.threshold);
    expect(stored.meta.predictions).toHaveLength(first.thresholds.cv!.examples);
  });

  it('a new target or a fixed threshold is applied to the cached model, without retraining', async () => {
    const strict = botAt(['targetWrongRate: 0.02']);
    const r = await trainBot(strict, { cacheDir });
    expect(r.fromCache).toBe(true);
    expect(r.thresholds.targetWrongRate).toBe(0.02);
    expect(r.thresholds.threshold).toBeGreaterThanOrEqual(first.thresholds.threshold);

    const fixed = botAt(['threshold: 0.7', 'digressionThreshold: 0.9', 'ambiguityMargin: 0.15']);
    const f = await trainBot(fixed, { cacheDir });
    expect(f.fromCache).toBe(true);
    expect(f.thresholds).toMatchObject({ threshold: 0.7, digressionThreshold: 0.9, ambiguityMargin: 0.15, source: 'fixed', chosen: null });
    expect(f.thresholds.cv!.examples).toBe(first.thresholds.cv!.examples);
    expect(fixed.config.nlu).toMatchObject({ threshold: 0.7, digressionThreshold: 0.9, ambiguityMargin: 0.15 });
  });

  it('outOfScope: false trains without the generic class (another model)', async () => {
    const bare = botAt(['outOfScope: false']);
    expect(trainingCorpus(bare).intents.map((i) => i.intent)).not.toContain('oos');
    const r = await trainBot(bare, { cacheDir });
    expect(r.fromCache).toBe(false);
    expect((r.matcher as LinearIntentMatcher).intents).not.toContain('oos');
  });
});

describe('trainBot with too few examples to cross-validate', () => {
  it('uses the pre-calibration default threshold and says so, and the cache still hits', async () => {
    // Dutch: no built-in intents or generic out-of-scope examples, so the corpus is just this flow.
    const spec = { id: 'klein', language: 'nl', flows: [{ id: 'hallo', title: 'Hallo', examples: ['goedendag', 'hallo allemaal', 'hoi'] }], articles: [] };
    const cacheDir = path.join(root, 'cache-small');
    const load = (): Bot => loadBot(writeBot(spec, fs.mkdtempSync(path.join(root, 'small-')))).bot!;
    const r = await trainBot(load(), { cacheDir });
    expect(r.thresholds).toMatchObject({ threshold: 0.65, source: 'auto', adjusted: 'no-data', chosen: null, cv: null });
    expect(describeResolution(r.thresholds)).toContain('too few examples to cross-validate');
    const again = await trainBot(load(), { cacheDir });
    expect(again.fromCache).toBe(true);
    expect(again.thresholds).toEqual(r.thresholds);
  });
});

describe('trainBot with matcher: nlpjs', () => {
  it('threshold auto runs its own cross-validation; the result is cached too', async () => {
    const cacheDir = path.join(root, 'cache-nlpjs');
    const bot = botAt(['matcher: nlpjs']);
    const r = await trainBot(bot, { cacheDir });
    expect(r.matcher).toBeInstanceOf(NlpjsIntentMatcher);
    expect(trainingCorpus(bot).intents.map((i) => i.intent)).not.toContain('oos');
    expect(r.thresholds).toMatchObject({ source: 'auto', ambiguityMargin: 0.1 });
    expect(r.thresholds.cv!.folds).toBe(5);
    const again = await trainBot(botAt(['matcher: nlpjs']), { cacheDir });
    expect(again.fromCache).toBe(true);
    expect(again.thresholds).toEqual(r.thresholds);
  });
});

describe('resolving thresholds', () => {
  const base = { threshold: 0.65, ambiguityMargin: 0.1, digressionThreshold: 0.8, suggestions: 3, suggestionThreshold: 0.2 };
  const engine = { matcher: 'linear' as const, autoThreshold: true, autoDigressionThreshold: true, autoAmbiguityMargin: true, targetWrongRate: 0.1, outOfScope: true };
  const answer = (confidence: number, correct: boolean) => ({ confidence, correct });

  it('never goes below the minimum, even when cross-validation finds no mistakes', () => {
    const preds = [answer(0.3, true), answer(0.4, true), answer(0.9, true)];
    expect(autoThreshold(preds, 0.1)).toEqual({ threshold: AUTO_THRESHOLD_MIN, chosen: 0.3, adjusted: 'min' });
  });

  it('falls back to a high threshold (and says so) when no threshold reaches the target', () => {
    const preds = [answer(0.99, false), answer(0.98, true), answer(0.6, false)];
    const r = resolveThresholds({ ...base, engine }, preds, 3);
    expect(r).toMatchObject({ threshold: AUTO_THRESHOLD_INFEASIBLE, adjusted: 'infeasible', chosen: null, source: 'auto' });
  });

  it('picks the lowest threshold meeting the target and reports its rates', () => {
    // 10 right answers from 0.95 down to 0.62, then wrong ones at 0.6 (1 in 11: 9%) and 0.55 (2 in 12: 17%).
    const preds = [...Array.from({ length: 10 }, (_, i) => answer(0.95 - i * 0.037, true)), answer(0.6, false), answer(0.55, false)];
    const r = resolveThresholds({ ...base, engine }, preds, 5);
    expect(r.threshold).toBe(0.6);
    expect(r.cv).toEqual({ folds: 5, examples: 12, wrongRate: 1 / 11, answeredRate: 11 / 12, answeredCorrectRate: 10 / 12 });
    expect(r.digressionThreshold).toBeCloseTo(0.8);
    expect(r.ambiguityMargin).toBe(0.3);
  });
});

describe('the engine answers what it knows and declines what it does not', () => {
  it('an off-topic question gets the fallback; an in-scope one an answer', async () => {
    const dir = writeBot({ id: 'shop' }, fs.mkdtempSync(path.join(root, 'svc-')));
    const baton = await createBaton({ botDir: dir, cacheDir: path.join(root, 'cache-svc'), logger: silentLogger });
    try {
      expect(baton.matcher).toBeInstanceOf(LinearIntentMatcher);
      const offTopic = ['what is the capital of peru', 'who won the match last night', 'do you sell cars'];
      // None of these is one of Baton's generic out-of-scope examples: the class generalises.
      for (const t of offTopic) expect(OUT_OF_SCOPE_EXAMPLES.en).not.toContain(t);
      for (const text of offTopic) {
        const { conversationId } = await baton.service.create({ channel: 'test' });
        const r = await baton.service.send(conversationId, { text });
        expect({ text, fallback: r.fallback, intent: r.intent }).toEqual({ text, fallback: true, intent: null });
      }
      const { conversationId } = await baton.service.create({ channel: 'test' });
      const r = await baton.service.send(conversationId, { text: 'what are your opening hours on saturday' });
      expect(r.fallback).toBe(false);
      expect(r.intent?.intent).toBe('kb.opening-hours');
      expect(r.intent!.confidence).toBeGreaterThanOrEqual(baton.bot.config.nlu.threshold);
    } finally {
      await baton.close();
    }
  });
});

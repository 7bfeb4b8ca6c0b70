import { LinearIntentMatcher, LinearIntentMatcherFactory } from '../../../src/nlu/linear/matcher';
import { crossValidate } from '../../../src/nlu/linear/crossval';
import { chooseThreshold } from '../../../src/nlu/linear/threshold';
import type { TrainingCorpus } from '../../../src/nlu/port';
import { SMALL_CORPUS } from './fixtures';

describe('LinearIntentMatcher', () => {
  let matcher: LinearIntentMatcher;
  beforeAll(async () => {
    matcher = new LinearIntentMatcher('en', { seed: 3 });
    await matcher.train(SMALL_CORPUS);
  });

  it('has a name, a version and reports its classes', () => {
    expect(matcher.name).toBe('baton-linear');
    expect(matcher.version).toMatch(/^linear\d+;/);
    expect(matcher.intents).toEqual(['account.password', 'oos', 'order.refund', 'order.track', 'store.hours']);
    expect(matcher.isTrained).toBe(true);
  });

  it('classifies its training examples', async () => {
    for (const { intent, examples } of SMALL_CORPUS.intents) {
      if (intent === 'oos') continue;
      for (const ex of examples) expect((await matcher.classify(ex)).top?.intent).toBe(intent);
    }
  });

  it('generalises to paraphrases, with inflections and typos', async () => {
    const cases: [string, string][] = [
      ['where has my parcel got to', 'order.track'],
      ['I would like my money refunded', 'order.refund'],
      ['forgot the pasword to my account', 'account.password'],
      ['what hours are you opened on sundays', 'store.hours'],
      ['Refunds?!', 'order.refund'],
    ];
    for (const [text, intent] of cases) expect((await matcher.classify(text)).top?.intent).toBe(intent);
  });

  it('returns sorted probabilities in [0, 1] summing to at most 1', async () => {
    const c = await matcher.classify('where is my refund');
    expect(c.intents.length).toBe(5);
    const sum = c.intents.reduce((s, i) => s + i.score, 0);
    expect(sum).toBeLessThanOrEqual(1 + 1e-9);
    expect(sum).toBeGreaterThan(0.999);
    for (let i = 1; i < c.intents.length; i++) expect(c.intents[i - 1]!.score).toBeGreaterThanOrEqual(c.intents[i]!.score);
    for (const i of c.intents) expect(i.score).toBeGreaterThanOrEqual(0);
    expect(c.text).toBe('where is my refund');
    expect(c.language).toBe('en');
  });

  it('never returns the rejection class as top, and declines out-of-scope questions', async () => {
    const c = await matcher.classify('tell me a funny joke about the weather');
    expect(c.intents[0]!.intent).toBe('oos');
    expect(c.top?.intent).not.toBe('oos');
    expect(matcher.answers(c)).toBe(false);
    const inScope = await matcher.classify('I want a refund for my order');
    expect(inScope.top!.score).toBeGreaterThan(c.top!.score);
  });

  it('returns no top for empty text or text with no known feature', async () => {
    expect((await matcher.classify('')).top).toBeNull();
    expect((await matcher.classify('   ')).intents).toEqual([]);
    expect((await matcher.classify('zzqx')).top).toBeNull();
  });

  it('fits a temperature and a threshold on its calibration folds', () => {
    const report = matcher.calibrationReport!;
    expect(report.folds).toBe(3);
    expect(report.predictions.length).toBe(40);
    expect(matcher.temperature).toBeGreaterThan(0);
    expect(report.threshold).not.toBeNull();
    expect(matcher.threshold).toBe(report.threshold!.threshold);
  });

  it('export → import gives identical outputs and a compact JSON string', async () => {
    const model = matcher.exportModel();
    expect(typeof model).toBe('string');
    expect(JSON.parse(model).format).toBe('baton.linear-model');
    const copy = new LinearIntentMatcher('en', { seed: 3 });
    copy.importModel(model);
    for (const text of ['where is my order', 'reset password', 'what is the weather', 'open sunday?']) {
      expect(await copy.classify(text)).toEqual(await matcher.classify(text));
    }
    expect(copy.threshold).toBe(matcher.threshold);
    expect(copy.exportModel()).toBe(model);
  });

  it('rejects foreign, stale or corrupt models, keeping its own', async () => {
    const copy = new LinearIntentMatcher('en', { seed: 3 });
    expect(() => copy.importModel('not json')).toThrow(/not valid JSON/);
    expect(() => copy.importModel('{"format":"x"}')).toThrow(/not a linear model/);
    const other = new LinearIntentMatcher('en', { l2: 1e-3 });
    expect(() => other.importModel(matcher.exportModel())).toThrow(/retrain/);
    const broken = JSON.parse(matcher.exportModel());
    broken.members[0].bias = "";
    expect(() => copy.importModel(JSON.stringify(broken))).toThrow(/could not be loaded/);
    expect(copy.isTrained).toBe(false);
  });

  it('is deterministic for a seed', async () => {
    const a = new LinearIntentMatcher('en', { seed: 5 });
    const b = new LinearIntentMatcher('en', { seed: 5 });
    await a.train(SMALL_CORPUS);
    // Intent order in the corpus must not matter either.
    await b.train({ ...SMALL_CORPUS, intents: [...SMALL_CORPUS.intents].reverse() });
    expect(b.exportModel()).toBe(a.exportModel());
  });

  it('errors clearly on misuse', async () => {
    const fresh = new LinearIntentMatcher('en');
    await expect(fresh.classify('hi')).rejects.toThrow(/before train/);
    expect(() => fresh.exportModel()).toThrow(/nothing to export/);
    expect(() => new LinearIntentMatcher('english')).toThrow(/language code/);
    await expect(fresh.train({ language: 'fr', intents: [] })).rejects.toThrow(/created for "en"/);
  });

  it('works without stemming and without calibration folds', async () => {
    const m = new LinearIntentMatcher('en-GB', { stemming: false, calibrationFolds: 0, fallbackThreshold: 0.3 });
    await m.train(SMALL_CORPUS);
    expect(m.version).toContain(';none;');
    expect(m.temperature).toBe(1);
    expect(m.threshold).toBe(0.3);
    expect((await m.classify('track my parcel')).top?.intent).toBe('order.track');
  });

  it('trains on a corpus with a single-example intent', async () => {
    const corpus: TrainingCorpus = {
      language: 'en',
      intents: [...SMALL_CORPUS.intents, { intent: 'gift.card', examples: ['do you sell gift cards'] }],
    };
    const m = new LinearIntentMatcher('en');
    await m.train(corpus);
    expect((await m.classify('do you sell gift cards')).top?.intent).toBe('gift.card');
  });

  it('reports progress', async () => {
    const phases: string[] = [];
    await new LinearIntentMatcher('en', { epochs: 2 }).train(SMALL_CORPUS, { onProgress: (p) => phases.push(p.phase) });
    expect(phases[0]).toBe('prepare');
    expect(phases).toContain('train');
    expect(phases[phases.length - 1]).toBe('done');
  });
});

describe('crossValidate', () => {
  it('gives out-of-fold predictions for any matcher, usable for a threshold', async () => {
    const factory = new LinearIntentMatcherFactory({ calibrationFolds: 0 });
    const preds = await crossValidate(SMALL_CORPUS, () => factory.create('en'), { folds: 4, seed: 2 });
    expect(preds.length).toBe(40);
    expect(new Set(preds.map((p) => p.fold))).toEqual(new Set([0, 1, 2, 3]));
    const oos = preds.filter((p) => p.outOfScope);
    expect(oos.length).toBe(8);
    expect(oos.every((p) => !p.correct)).toBe(true);
    const accuracy = preds.filter((p) => !p.outOfScope && p.correct).length / 32;
    expect(accuracy).toBeGreaterThan(0.6);
    const choice = chooseThreshold(preds, { targetWrongRate: 0.1 });
    expect(choice.n).toBe(40);
  });
});

import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { corpusHash, loadOrTrain } from '../../src/nlu/cache';
import { NlpjsIntentMatcher } from '../../src/nlu/nlpjs';
import { builtinIntentsFor } from '../../src/nlu/builtin-intents';
import type { Classification, IntentMatcher, TrainingCorpus, TrainProgress } from '../../src/nlu/port';

const CORPUS: TrainingCorpus = {
  language: 'en',
  intents: [
    {
      intent: 'order.track',
      examples: ['where is my order', 'track my package', 'has my order shipped', 'when will my parcel arrive', 'my delivery is late'],
    },
    {
      intent: 'order.refund',
      examples: ['I want a refund', 'give me my money back', 'refund my purchase', 'how long does a refund take', 'return this for a refund'],
    },
    {
      intent: 'account.reset_password',
      examples: ['I forgot my password', 'reset my password', 'cant log in', 'locked out of my account', 'password reset link broken'],
    },
    ...builtinIntentsFor('en'),
  ],
};

function withExample(corpus: TrainingCorpus, intentIndex: number, exampleIndex: number, text: string): TrainingCorpus {
  return {
    language: corpus.language,
    intents: corpus.intents.map((i, n) =>
      n === intentIndex ? { intent: i.intent, examples: i.examples.map((e, k) => (k === exampleIndex ? text : e)) } : i,
    ),
  };
}

/** A trivial matcher (no nlp.js) for tests about files rather than models. */
class FakeMatcher implements IntentMatcher {
  readonly name = 'fake';
  readonly version = '1';
  private intents: string[] = [];
  async train(corpus: TrainingCorpus): Promise<void> {
    this.intents = corpus.intents.map((i) => i.intent);
  }
  async classify(text: string): Promise<Classification> {
    const intents = this.intents.map((intent) => ({ intent, score: 1 / this.intents.length }));
    return { text, language: 'en', intents, top: intents[0] ?? null };
  }
  exportModel(): string {
    return JSON.stringify(this.intents);
  }
  importModel(model: string): void {
    const parsed = JSON.parse(model) as unknown;
    if (!Array.isArray(parsed)) throw new Error('bad model');
    this.intents = parsed.map(String);
  }
}

let tmpRoot: string;
let cacheDir: string;

beforeAll(async () => {
  tmpRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'baton-nlu-cache-'));
});
afterAll(async () => {
  await fs.rm(tmpRoot, { recursive: true, force: true });
});
beforeEach(async () => {
  cacheDir = await fs.mkdtemp(path.join(tmpRoot, 'case-'));
  cacheDir = path.join(cacheDir, 'nested', 'models'); // loadOrTrain must create it
});

async function listDir(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).sort();
}

describe('corpusHash', () => {
  it('is a sha256 hex digest that ignores intent order but not example order', () => {
    const h = corpusHash(CORPUS, 'nlpjs', 'v1');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(corpusHash({ language: 'en', intents: [...CORPUS.intents].reverse() }, 'nlpjs', 'v1')).toBe(h);
    const swapped = { language: 'en', intents: CORPUS.intents.map((i, n) => (n === 0 ? { ...i, examples: [...i.examples].reverse() } : i)) };
    expect(corpusHash(swapped, 'nlpjs', 'v1')).not.toBe(h);
  });

  it('changes with any example, the language, the matcher name or its version', () => {
    const h = corpusHash(CORPUS, 'nlpjs', 'v1');
    expect(corpusHash(withExample(CORPUS, 0, 0, 'where is my order?'), 'nlpjs', 'v1')).not.toBe(h);
    expect(corpusHash({ ...CORPUS, language: 'fr' }, 'nlpjs', 'v1')).not.toBe(h);
    expect(corpusHash(CORPUS, 'other', 'v1')).not.toBe(h);
    expect(corpusHash(CORPUS, 'nlpjs', 'v2')).not.toBe(h);
    // No ambiguity from concatenation.
    const a = { language: 'en', intents: [{ intent: 'a', examples: ['b c'] }] };
    const b = { language: 'en', intents: [{ intent: 'a', examples: ['b', 'c'] }] };
    expect(corpusHash(a, 'm', 'v')).not.toBe(corpusHash(b, 'm', 'v'));
  });
});

describe('loadOrTrain', () => {
  it('trains and caches, then loads from cache without training', async () => {
    const logs: string[] = [];
    const progress: TrainProgress[] = [];
    const first = new NlpjsIntentMatcher('en');
    const r1 = await loadOrTrain({ corpus: CORPUS, matcher: first, cacheDir, log: (m) => logs.push(m), onProgress: (p) => progress.push(p) });
    expect(r1.fromCache).toBe(false);
    expect(r1.matcher).toBe(first);
    expect(r1.hash).toBe(corpusHash(CORPUS, first.name, first.version));
    expect(r1.file).toBe(path.join(cacheDir, `model-${r1.hash.slice(0, 16)}.json`));
    expect(r1.trainMs).toBeGreaterThanOrEqual(0);
    expect(await listDir(cacheDir)).toEqual([path.basename(r1.file)]); // no temp file left behind
    expect(progress.map((p) => p.phase)).toContain('done');

    const second = new NlpjsIntentMatcher('en');
    const trainSpy = jest.spyOn(second, 'train');
    const r2 = await loadOrTrain({ corpus: CORPUS, matcher: second, cacheDir, log: (m) => logs.push(m) });
    expect(r2.fromCache).toBe(true);
    expect(r2.hash).toBe(r1.hash);
    expect(r2.file).toBe(r1.file);
    expect(trainSpy).not.toHaveBeenCalled();
    for (const text of ['where is my parcel', 'I want my money back', 'forgot password', 'get me a human', 'the weather']) {
      expect(await second.classify(text)).toEqual(await first.classify(text));
    }
    expect(logs.some((m) => /warning/i.test(m))).toBe(false);
  });

  it('retrains when one example changes', async () => {
    await loadOrTrain({ corpus: CORPUS, matcher: new NlpjsIntentMatcher('en'), cacheDir });
    const changed = withExample(CORPUS, 1, 2, 'please refund what I bought');
    const matcher = new NlpjsIntentMatcher('en');
    const trainSpy = jest.spyOn(matcher, 'train');
    const r = await loadOrTrain({ corpus: changed, matcher, cacheDir });
    expect(r.fromCache).toBe(false);
    expect(trainSpy).toHaveBeenCalledTimes(1);
    expect(r.hash).not.toBe(corpusHash(CORPUS, matcher.name, matcher.version));
    expect((await listDir(cacheDir)).length).toBe(2);
  });

  it('recovers from a corrupt cache file: warns, retrains, overwrites', async () => {
    const r1 = await loadOrTrain({ corpus: CORPUS, matcher: new NlpjsIntentMatcher('en'), cacheDir });
    const good = await fs.readFile(r1.file, 'utf8');
    for (const garbage of [good.slice(0, good.length / 2), '', 'null', '{"format":"baton.nlu-model-cache"}']) {
      await fs.writeFile(r1.file, garbage);
      const logs: string[] = [];
      const matcher = new NlpjsIntentMatcher('en');
      const trainSpy = jest.spyOn(matcher, 'train');
      const r = await loadOrTrain({ corpus: CORPUS, matcher, cacheDir, log: (m) => logs.push(m) });
      expect(r.fromCache).toBe(false);
      expect(trainSpy).toHaveBeenCalledTimes(1);
      expect(logs.some((m) => /warning/i.test(m) && m.includes(r1.file))).toBe(true);
      expect((await matcher.classify('where is my order')).top?.intent).toBe('order.track');
      expect(JSON.parse(await fs.readFile(r1.file, 'utf8'))).toMatchObject({ hash: r1.hash });
    }
    const again = await loadOrTrain({ corpus: CORPUS, matcher: new NlpjsIntentMatcher('en'), cacheDir });
    expect(again.fromCache).toBe(true);
  });

  it('retrains when the cached model is well-formed JSON that the matcher rejects', async () => {
    const r1 = await loadOrTrain({ corpus: CORPUS, matcher: new NlpjsIntentMatcher('en'), cacheDir });
    const entry = JSON.parse(await fs.readFile(r1.file, 'utf8')) as { model: string };
    entry.model = JSON.stringify({ format: 'something else' });
    await fs.writeFile(r1.file, JSON.stringify(entry));
    const logs: string[] = [];
    const r = await loadOrTrain({ corpus: CORPUS, matcher: new NlpjsIntentMatcher('en'), cacheDir, log: (m) => logs.push(m) });
    expect(r.fromCache).toBe(false);
    expect(logs.some((m) => /warning.*unusable/i.test(m))).toBe(true);
  });

  it('keys the cache on the matcher version (explicit or the matcher own)', async () => {
    const a = await loadOrTrain({ corpus: CORPUS, matcher: new FakeMatcher(), cacheDir });
    expect(a.hash).toBe(corpusHash(CORPUS, 'fake', '1'));
    const b = await loadOrTrain({ corpus: CORPUS, matcher: new FakeMatcher(), cacheDir, version: '2' });
    expect(b.fromCache).toBe(false);
    expect(b.hash).toBe(corpusHash(CORPUS, 'fake', '2'));
    expect((await loadOrTrain({ corpus: CORPUS, matcher: new FakeMatcher(), cacheDir, version: '2' })).fromCache).toBe(true);
  });

  it('keeps only the 3 most recently used model files', async () => {
    const corpora = [0, 1, 2, 3, 4].map((n) => withExample(CORPUS, 0, 0, `where is my order number ${n}`));
    const files: string[] = [];
    let t = Date.now() / 1000 - 1000;
    for (const corpus of corpora) {
      const r = await loadOrTrain({ corpus, matcher: new FakeMatcher(), cacheDir });
      files.push(r.file);
      await fs.utimes(r.file, t, t); // distinct, increasing mtimes
      t += 10;
    }
    expect(await listDir(cacheDir)).toEqual(files.slice(2).map((f) => path.basename(f)).sort());

    // Using an old model makes it recent again; an unrelated file is never touched.
    await fs.writeFile(path.join(cacheDir, 'README.txt'), 'not a model');
    const hit = await loadOrTrain({ corpus: corpora[2]!, matcher: new FakeMatcher(), cacheDir });
    expect(hit.fromCache).toBe(true);
    const r = await loadOrTrain({ corpus: withExample(CORPUS, 0, 0, 'brand new'), matcher: new FakeMatcher(), cacheDir });
    expect(await listDir(cacheDir)).toEqual(
      ['README.txt', ...[files[2]!, files[4]!, r.file].map((f) => path.basename(f))].sort(),
    );
  });

  it('does not crash when the cache directory cannot be created', async () => {
    const blocker = path.join(tmpRoot, 'a-file');
    await fs.writeFile(blocker, 'x');
    const logs: string[] = [];
    const r = await loadOrTrain({ corpus: CORPUS, matcher: new FakeMatcher(), cacheDir: path.join(blocker, 'models'), log: (m) => logs.push(m) });
    expect(r.fromCache).toBe(false);
    expect((await r.matcher.classify('hi')).top).not.toBeNull();
    expect(logs.some((m) => /warning: could not write/.test(m))).toBe(true);
  });
});

describe('loadOrTrain with meta (what was computed after training, e.g. the threshold)', () => {
  it('stores it with the model and returns it on a cache hit without computing it again', async () => {
    const meta = jest.fn(async (m: IntentMatcher) => ({ threshold: 0.71, matcher: m.name }));
    const r1 = await loadOrTrain({ corpus: CORPUS, matcher: new FakeMatcher(), cacheDir, meta });
    expect(r1.meta).toEqual({ threshold: 0.71, matcher: 'fake' });
    expect(meta).toHaveBeenCalledTimes(1);
    expect(JSON.parse(await fs.readFile(r1.file, 'utf8')).meta).toEqual({ threshold: 0.71, matcher: 'fake' });

    const r2 = await loadOrTrain({ corpus: CORPUS, matcher: new FakeMatcher(), cacheDir, meta });
    expect(r2.fromCache).toBe(true);
    expect(r2.meta).toEqual(r1.meta);
    expect(meta).toHaveBeenCalledTimes(1);
  });

  it('retrains when the cached model has no meta, or meta the caller rejects', async () => {
    const logs: string[] = [];
    await loadOrTrain({ corpus: CORPUS, matcher: new FakeMatcher(), cacheDir });
    const r = await loadOrTrain({ corpus: CORPUS, matcher: new FakeMatcher(), cacheDir, meta: () => ({ v: 1 }), log: (m) => logs.push(m) });
    expect(r.fromCache).toBe(false);
    expect(r.meta).toEqual({ v: 1 });
    expect(logs.some((m) => /no usable stored settings/.test(m))).toBe(true);
    const again = await loadOrTrain({ corpus: CORPUS, matcher: new FakeMatcher(), cacheDir, meta: () => ({ v: 2 }), isMeta: (x) => (x as { v: number }).v === 2 });
    expect(again.fromCache).toBe(false);
    expect(again.meta).toEqual({ v: 2 });
    const hit = await loadOrTrain({ corpus: CORPUS, matcher: new FakeMatcher(), cacheDir, meta: () => ({ v: 3 }), isMeta: (x) => (x as { v: number }).v === 2 });
    expect(hit.fromCache).toBe(true);
    expect(hit.meta).toEqual({ v: 2 });
  });
});

import { NlpjsIntentMatcher, NlpjsIntentMatcherFactory, createNlpjsMatcherFactory } from '../../src/nlu/nlpjs';
import { BUILTIN_INTENTS, builtinIntentsFor } from '../../src/nlu/builtin-intents';
import type { TrainingCorpus, TrainProgress } from '../../src/nlu/port';

/** A small, realistic e-commerce support corpus: 5 intents × 10 examples, plus the built-ins. */
const SUPPORT_INTENTS = [
  {
    intent: 'order.track',
    examples: [
      'where is my order',
      'track my package',
      'has my order shipped yet?',
      'when will my parcel arrive',
      'my delivery is late',
      'can you give me the tracking number',
      'what is the status of my order',
      'I still have not received my order',
      'is my package on its way',
      'order hasnt arrived',
    ],
  },
  {
    intent: 'order.refund',
    examples: [
      'I want a refund',
      'give me my money back',
      'how do I get reimbursed',
      'refund my purchase please',
      'can I return this for a refund',
      'I was charged but want the money returned',
      'how long does a refund take',
      'request a refund for my order',
      'I want to send this back and get refunded',
      'when will I see the refund on my card',
    ],
  },
  {
    intent: 'account.reset_password',
    examples: [
      'I forgot my password',
      'reset my password',
      'cant log in to my account',
      'how do I change my password',
      'password reset link not working',
      'locked out of my account',
      'I need a new password',
      'login says wrong password',
      'help me recover my account',
      'forgotten password email never came',
    ],
  },
  {
    intent: 'delivery.change_address',
    examples: [
      'change my delivery address',
      'I moved, update my shipping address',
      'can I ship to a different address',
      'wrong address on my order',
      'update the address for delivery',
      'send it to my work address instead',
      'edit shipping address',
      'I typed the wrong street name',
      'deliver to another address please',
      'how do I change where my parcel goes',
    ],
  },
  {
    intent: 'billing.payment_methods',
    examples: [
      'what payment methods do you accept',
      'can I pay with paypal',
      'do you take credit cards',
      'is apple pay supported',
      'can I pay by bank transfer',
      'pay in installments',
      'which cards can I use',
      'do you accept cash on delivery',
      'my card was declined, how else can I pay',
      'can i use klarna',
    ],
  },
];

const SUPPORT_CORPUS: TrainingCorpus = {
  language: 'en',
  intents: [...SUPPORT_INTENTS, ...builtinIntentsFor('en')],
};

/** Paraphrases that appear nowhere in the training data. */
const PARAPHRASES: [string, string][] = [
  ['where is my parcel right now', 'order.track'],
  ['any update on when my package arrives?', 'order.track'],
  ['I would like my money back', 'order.refund'],
  ['please refund me', 'order.refund'],
  ['I forgot the password for my account', 'account.reset_password'],
  ['i cant remember my password', 'account.reset_password'],
  ['please change the delivery address on my order', 'delivery.change_address'],
  ['ship it to my new address', 'delivery.change_address'],
  ['do you accept paypal or credit cards', 'billing.payment_methods'],
  ['can I pay with my visa card', 'billing.payment_methods'],
  ['hey hello', 'builtin.greeting'],
  ['thanks so much for the help', 'builtin.thanks'],
  ['ok bye, have a good day', 'builtin.goodbye'],
  ['let me speak to a real person', 'builtin.human'],
  ['your bot is useless, I want an agent', 'builtin.human'],
  ['can we start over', 'builtin.restart'],
  ['never mind, cancel it', 'builtin.cancel'],
];

describe('NlpjsIntentMatcher', () => {
  let matcher: NlpjsIntentMatcher;
  const progress: TrainProgress[] = [];

  beforeAll(async () => {
    matcher = new NlpjsIntentMatcher('en');
    await matcher.train(SUPPORT_CORPUS, { onProgress: (p) => progress.push({ ...p }) });
  });

  it('classifies paraphrases that are not in the training data', async () => {
    const wrong: string[] = [];
    for (const [text, expected] of PARAPHRASES) {
      const result = await matcher.classify(text);
      if (result.top?.intent !== expected) wrong.push(`${text} → ${result.top?.intent} (expected ${expected})`);
    }
    expect(wrong).toEqual([]);
  });

  it('returns scores in [0,1], sorted descending, with at least 5 intents', async () => {
    for (const text of ['where is my order', 'the weather is nice today', 'refund', 'I want to talk to someone about my refund']) {
      const result = await matcher.classify(text);
      expect(result.text).toBe(text);
      expect(result.language).toBe('en');
      expect(result.intents.length).toBeGreaterThanOrEqual(5);
      expect(result.intents.length).toBeLessThanOrEqual(10);
      for (let i = 0; i < result.intents.length; i++) {
        const { score } = result.intents[i]!;
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(1);
        if (i > 0) expect(score).toBeLessThanOrEqual(result.intents[i - 1]!.score);
      }
      expect(new Set(result.intents.map((s) => s.intent)).size).toBe(result.intents.length);
    }
  });

  it('never reports None as top', async () => {
    // Unknown words only: nlp.js says None; top is then null (nothing else scored above 0).
    const gibberish = await matcher.classify('qwzx plorf vlemb');
    expect(gibberish.top).toBeNull();
    expect(gibberish.intents[0]).toEqual({ intent: 'None', score: 1 });
    for (const text of ['the weather is nice today', 'my cat likes fish', 'order']) {
      const result = await matcher.classify(text);
      expect(result.top?.intent).not.toBe('None');
      if (result.top) expect(result.top.score).toBeGreaterThan(0);
    }
  });

  it('returns no intents and top null for empty or blank text', async () => {
    for (const text of ['', '   ', '\n\t']) {
      const result = await matcher.classify(text);
      expect(result).toEqual({ text, language: 'en', intents: [], top: null });
    }
  });

  it('omits sentiment when the language package has no lexicon (lang-en-min)', async () => {
    const result = await matcher.classify('this is terrible, I hate it');
    expect(result.sentiment).toBeUndefined();
  });

  it('reports progress: prepare (0 of the example count), train, done', () => {
    const total = SUPPORT_CORPUS.intents.reduce((n, i) => n + i.examples.length, 0);
    expect(progress[0]).toMatchObject({ phase: 'prepare', done: 0, total });
    expect(progress.some((p) => p.phase === 'train')).toBe(true);
    expect(progress[progress.length - 1]).toMatchObject({ phase: 'done', done: total, total });
    const phases = progress.map((p) => p.phase);
    expect(phases.indexOf('train')).toBeGreaterThan(phases.lastIndexOf('prepare'));
  });

  it('round-trips through exportModel/importModel without training', async () => {
    const model = matcher.exportModel();
    expect(() => JSON.parse(model)).not.toThrow();
    const fresh = new NlpjsIntentMatcher('en');
    const trainSpy = jest.spyOn(fresh, 'train');
    fresh.importModel(model);
    expect(trainSpy).not.toHaveBeenCalled();
    const texts = [...PARAPHRASES.map(([t]) => t), 'the weather is nice today', 'qwzx plorf', '', 'hello'];
    for (const text of texts) {
      expect(await fresh.classify(text)).toEqual(await matcher.classify(text));
    }
    // The exporting instance still works after export.
    expect((await matcher.classify('where is my order')).top?.intent).toBe('order.track');
  });

  it('is deterministic: same corpus (in any intent order) gives the same scores', async () => {
    const other = new NlpjsIntentMatcher('en');
    await other.train({ language: 'en', intents: [...SUPPORT_CORPUS.intents].reverse() });
    for (const [text] of PARAPHRASES.slice(0, 6)) {
      expect(await other.classify(text)).toEqual(await matcher.classify(text));
    }
  });

  it('rejects a bad model without losing the current one', async () => {
    const m = new NlpjsIntentMatcher('en');
    await m.train({ language: 'en', intents: SUPPORT_INTENTS });
    expect(() => m.importModel('{not json')).toThrow(/not valid JSON/);
    expect(() => m.importModel(JSON.stringify({ hello: 'world' }))).toThrow(/not an nlp\.js model/);
    const tampered = JSON.parse(m.exportModel()) as { version: string };
    tampered.version = 'something-else';
    expect(() => m.importModel(JSON.stringify(tampered))).toThrow(/version/);
    expect((await m.classify('where is my order')).top?.intent).toBe('order.track');
  });

  it('handles an empty corpus: no intents, top null, and the model still round-trips', async () => {
    const m = new NlpjsIntentMatcher('en');
    await m.train({ language: 'en', intents: [{ intent: 'blank', examples: ['  ', ''] }] });
    expect(await m.classify('hello')).toEqual({ text: 'hello', language: 'en', intents: [], top: null });
    const fresh = new NlpjsIntentMatcher('en');
    fresh.importModel(m.exportModel());
    expect((await fresh.classify('hello')).top).toBeNull();
  });

  it('throws when classifying or exporting before training', async () => {
    const m = new NlpjsIntentMatcher('en');
    await expect(m.classify('hi')).rejects.toThrow(/before train/);
    expect(() => m.exportModel()).toThrow(/train/);
  });

  it('rejects a corpus in another language and the reserved None intent', async () => {
    const m = new NlpjsIntentMatcher('en');
    await expect(m.train({ language: 'fr', intents: [] })).rejects.toThrow(/created for "en"/);
    await expect(m.train({ language: 'en', intents: [{ intent: 'None', examples: ['x'] }] })).rejects.toThrow(/reserved/);
  });

  it('gives a clear error naming the npm package for a language that is not installed', () => {
    // (lang-es, lang-fr and lang-de are dependencies since bots can be multilingual: use languages that are not.)
    expect(() => new NlpjsIntentMatcher('it')).toThrow(/@nlpjs\/lang-it/);
    expect(() => new NlpjsIntentMatcherFactory().create('nl')).toThrow(/npm install @nlpjs\/lang-nl/);
    expect(() => new NlpjsIntentMatcher('english')).toThrow(/two-letter/);
  });

  it('accepts region-tagged languages and a factory', () => {
    const m = createNlpjsMatcherFactory().create('en-GB');
    expect(m.language).toBe('en');
    expect(m.name).toBe('nlpjs');
    expect(m.version).toMatch(/@nlpjs\/nlp@/);
  });

  it('returns sentiment with the full English package', async () => {
    const m = new NlpjsIntentMatcher('en', { sentiment: true });
    await m.train({ language: 'en', intents: SUPPORT_INTENTS });
    expect((await m.classify('this is terrible, I hate it')).sentiment?.vote).toBe('negative');
    expect((await m.classify('great service, wonderful, thank you')).sentiment?.vote).toBe('positive');
  });

  it('writes nothing to the console', async () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((k) => jest.spyOn(console, k));
    try {
      const m = new NlpjsIntentMatcher('en');
      // nlp.js console.warns 'This utterance: "?!" contains only stop words' through its logger.
      await m.train({ language: 'en', intents: [...SUPPORT_INTENTS, { intent: 'odd', examples: ['?!', 'hmm ok'] }] });
      await m.classify('where is my order');
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});

describe('built-in intents', () => {
  const names = ['builtin.greeting', 'builtin.thanks', 'builtin.goodbye', 'builtin.human', 'builtin.restart', 'builtin.cancel'];

  it('has the six intents with ≥ 15 distinct examples each, none shared between intents', () => {
    expect(BUILTIN_INTENTS.en.map((i) => i.intent).sort()).toEqual([...names].sort());
    const seen = new Map<string, string>();
    for (const { intent, examples } of BUILTIN_INTENTS.en) {
      expect(examples.length).toBeGreaterThanOrEqual(15);
      for (const ex of examples) {
        const key = ex.toLowerCase().trim();
        expect(seen.get(key) ?? intent).toBe(intent);
        expect(seen.has(key)).toBe(false);
        seen.set(key, intent);
      }
    }
  });

  it('builtinIntentsFor returns copies for known languages and [] for unknown ones', () => {
    const en = builtinIntentsFor('en-US');
    expect(en.map((i) => i.intent)).toEqual(BUILTIN_INTENTS.en.map((i) => i.intent));
    en[0]!.examples.push('mutated');
    expect(BUILTIN_INTENTS.en[0]!.examples).not.toContain('mutated');
    expect(builtinIntentsFor('xx')).toEqual([]);
    expect(builtinIntentsFor('')).toEqual([]);
    expect(builtinIntentsFor(undefined as unknown as string)).toEqual([]);
  });
});

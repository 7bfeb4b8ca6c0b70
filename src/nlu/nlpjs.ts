/// <reference path="./nlpjs.d.ts" />
// ^ Required: tsc skips nlpjs.d.ts on its own because this file has the same base name.

import type { Container } from '@nlpjs/core';
import type { Nlp, NlpSettings, NeuralTrainStatus, NlpProcessResult } from '@nlpjs/nlp';
import type {
  Classification,
  IntentMatcher,
  IntentMatcherFactory,
  IntentScore,
  TrainingCorpus,
  TrainProgress,
} from './port';

/**
 * Settings of nlp.js's neural network (one single-layer perceptron per intent, leaky-ReLU output,
 * weights start at zero so training is deterministic). Omitted values use nlp.js's defaults, shown.
 */
export interface NlpjsNeuralSettings {
  /** Maximum epochs (20000). Training normally stops far earlier, on errorThresh/deltaErrorThresh. */
  iterations?: number;
  /** Stop when the mean squared error falls below this (0.00005). */
  errorThresh?: number;
  /** Stop when the error changes less than this between epochs (0.000001). */
  deltaErrorThresh?: number;
  /** Initial learning rate, decayed as lr / (1 + 0.001 * epoch) (0.6). */
  learningRate?: number;
  momentum?: number; // 0.5
  /** Leaky-ReLU slope, also the output scale (0.07). */
  alpha?: number;
}

export interface NlpjsMatcherOptions {
  /** How many ranked intents classify() returns (default 10, at least 5). */
  maxIntents?: number;
  /**
   * nlp.js's "None feature" (default true): trains an extra "None" output on a synthetic feature
   * that fires for words never seen in training. Without it, text made of unknown words plus one
   * known word ("the weather is nice") scores ~1.0 for whichever intent owns that word.
   */
  useNoneFeature?: boolean;
  /**
   * Load the full language package (with a sentiment lexicon) instead of the minimal one
   * (default false). For English this means @nlpjs/lang-en instead of @nlpjs/lang-en-min; other
   * languages only have the full package. Without a lexicon, Classification.sentiment is omitted.
   */
  sentiment?: boolean;
  /**
   * nlp.js spell check (default false): before classifying, replace each unknown word by a
   * training word within Levenshtein distance 1 ("pasword" → "password"), when one exists.
   */
  spellCheck?: boolean;
  neural?: NlpjsNeuralSettings;
}

/** Bump when this adapter changes in a way that makes previously exported models stale. */
const ADAPTER_VERSION = 1;
const MODEL_FORMAT = 'baton.nlpjs-model';
const NONE_INTENT = 'None';
const DEFAULT_MAX_INTENTS = 10;
const MIN_MAX_INTENTS = 5;
const DEFAULT_MAX_ITERATIONS = 20000;
const PROGRESS_INTERVAL_MS = 50;

/** nlp.js v4 language packages (https://github.com/axa-group/nlp.js/tree/master/packages), used only to word error messages. */
const KNOWN_NLPJS_LANGUAGES = new Set(
  ('ar bn ca cs da de el en es eu fa fi fr ga gl hi hu hy id it ja ko lt ms ne nl no pl pt ro ru sl sr sv ta th tl tr uk zh').split(' '),
);

const SILENT_LOGGER = {
  name: 'logger',
  debug(): void {},
  info(): void {},
  warn(): void {},
  error(): void {},
  log(): void {},
  trace(): void {},
  fatal(): void {},
};

// ---------------------------------------------------------------------------------------------
// Lazy module loading: nothing from nlp.js is required until a matcher is actually created.

type CoreModule = typeof import('@nlpjs/core');
type NlpModule = typeof import('@nlpjs/nlp');

interface LanguagePackage {
  pkg: string;
  version: string;
  /** The LangXx plugin class; container.use() instantiates it and calls its register(). */
  plugin: unknown;
}

let coreModule: CoreModule | undefined;
let nlpModule: NlpModule | undefined;
const languagePackages = new Map<string, LanguagePackage>();

function loadCore(): CoreModule {
  return (coreModule ??= require('@nlpjs/core') as CoreModule);
}

function loadNlp(): NlpModule {
  return (nlpModule ??= require('@nlpjs/nlp') as NlpModule);
}

function packageVersion(pkg: string): string {
  try {
    return String((require(`${pkg}/package.json`) as { version?: unknown }).version ?? '?');
  } catch {
    return '?';
  }
}

function isMissingPackage(err: unknown, pkg: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return !!e && e.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(`'${pkg}'`);
}

/** "en", "EN", "en-GB", "en_US" → "en". Throws on anything that is not an ISO 639-1 code. */
export function normalizeNlpjsLanguage(language: string): string {
  const code = (typeof language === 'string' ? language : '').trim().toLowerCase().split(/[-_]/)[0] ?? '';
  if (!/^[a-z]{2}$/.test(code)) {
    throw new Error(`nlp.js intent matcher: "${String(language)}" is not a language code; use a two-letter ISO 639-1 code such as "en".`);
  }
  return code;
}

function loadLanguagePackage(language: string, wantSentiment: boolean): LanguagePackage {
  const candidates =
    language === 'en' && !wantSentiment ? ['@nlpjs/lang-en-min', '@nlpjs/lang-en'] : [`@nlpjs/lang-${language}`];
  for (const pkg of candidates) {
    const cached = languagePackages.get(pkg);
    if (cached) return cached;
    let mod: Record<string, unknown>;
    try {
      mod = require(pkg) as Record<string, unknown>;
    } catch (err) {
      if (isMissingPackage(err, pkg)) continue;
      throw err;
    }
    const exportName = `Lang${language[0]!.toUpperCase()}${language.slice(1)}`;
    const plugin =
      mod[exportName] ?? Object.entries(mod).find(([k, v]) => /^Lang[A-Z]/.test(k) && typeof v === 'function')?.[1];
    if (typeof plugin !== 'function') {
      throw new Error(`nlp.js intent matcher: ${pkg} does not export a language plugin (${exportName}).`);
    }
    const loaded: LanguagePackage = { pkg, version: packageVersion(pkg), plugin };
    languagePackages.set(pkg, loaded);
    return loaded;
  }
  const pkg = candidates[0]!;
  const why = KNOWN_NLPJS_LANGUAGES.has(language)
    ? `its nlp.js language package is not installed`
    : `nlp.js has no known language package for it`;
  throw new Error(
    `nlp.js intent matcher: language "${language}" is not available: ${why}. ` +
      `Add the npm package ${pkg} (npm install ${pkg}) and restart.`,
  );
}

// ---------------------------------------------------------------------------------------------

interface ModelEnvelope {
  format: typeof MODEL_FORMAT;
  matcher: string;
  version: string;
  language: string;
  intents: string[];
  examples: number;
  model: Record<string, unknown>;
}

function clamp01(x: unknown): number {
  const n = typeof x === 'number' ? x : Number(x);
  if (!Number.isFinite(n) || n <= 0) return 0;
  return n >= 1 ? 1 : n;
}

/** Merge duplicate intent names, trim examples, drop empty ones, order intents by name (so training does not depend on corpus order). */
function cleanCorpus(corpus: TrainingCorpus): { intent: string; examples: string[] }[] {
  if (!corpus || !Array.isArray(corpus.intents)) {
    throw new Error('nlp.js intent matcher: corpus.intents must be an array.');
  }
  const byName = new Map<string, string[]>();
  for (const item of corpus.intents) {
    const name = typeof item?.intent === 'string' ? item.intent.trim() : '';
    if (!name) throw new Error('nlp.js intent matcher: every intent needs a non-empty name.');
    if (name === NONE_INTENT) {
      throw new Error(`nlp.js intent matcher: "${NONE_INTENT}" is reserved by nlp.js (it means "no intent"); rename that intent.`);
    }
    const examples = byName.get(name) ?? [];
    for (const ex of Array.isArray(item.examples) ? item.examples : []) {
      if (typeof ex !== 'string') continue;
      const text = ex.trim();
      if (text) examples.push(text);
    }
    byName.set(name, examples);
  }
  return [...byName.entries()]
    .filter(([, examples]) => examples.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([intent, examples]) => ({ intent, examples }));
}

/**
 * Works around an nlp.js import bug. A freshly trained Nlu lazily builds `intentsArr` (the
 * intents it reports) as its intents plus "None"; Nlu.fromJSON sets it to the intents only, so an
 * imported model silently drops the None output and renormalises the other scores: it classifies
 * differently from the model that was exported. Clearing `intentsArr` restores the lazy path.
 */
function restoreNoneIntent(nlp: Nlp, language: string): void {
  type NluInternals = { intents?: Record<string, unknown>; intentsArr?: string[] };
  const internals = nlp as unknown as {
    nluManager?: { domainManagers?: Record<string, { domains?: Record<string, NluInternals> } | undefined> };
  };
  const domains = internals.nluManager?.domainManagers?.[language]?.domains ?? {};
  for (const nlu of Object.values(domains)) {
    if (nlu && nlu.intents && Array.isArray(nlu.intentsArr)) nlu.intentsArr = undefined;
  }
}

/**
 * {@link IntentMatcher} backed by nlp.js v4 (the engine of node-nlp 4): per language, a bag of
 * stemmed words fed to one perceptron per intent, plus an exact "stem dictionary" shortcut.
 *
 * About the scores — read before thresholding on them:
 * node-nlp's score is NOT a calibrated probability. It is each intent's perceptron output,
 * squared and normalised so that the intents nlp.js considers "activated" (those sharing at
 * least one stemmed word with the text) sum to 1. Consequences:
 *  - one shared word with a single intent can yield ~1.0 (e.g. an unrelated sentence that
 *    happens to contain "order");
 *  - a text whose stems exactly equal a training example's gets 1.0 and every other intent 0,
 *    bypassing the network;
 *  - intents sharing no word with the text score exactly 0;
 *  - with useNoneFeature (default) unknown words push mass onto "None".
 * A better-calibrated matcher (or an ensemble) is expected to replace this one; keep callers on
 * the {@link IntentMatcher} port.
 *
 * Training runs synchronously inside nlp.js (it blocks the event loop for its duration). Training
 * is deterministic for a given corpus and options.
 */
export class NlpjsIntentMatcher implements IntentMatcher {
  readonly name = 'nlpjs';
  readonly version: string;
  /** ISO 639-1 code this matcher was created for. */
  readonly language: string;

  private readonly maxIntents: number;
  private readonly useNoneFeature: boolean;
  private readonly spellCheck: boolean;
  private readonly neural: NlpjsNeuralSettings;
  private readonly lang: LanguagePackage;
  private nlp: Nlp | null = null;
  private intentNames: string[] = [];
  private exampleCount = 0;

  /** Throws (with the npm package to add) if the language package is not installed. */
  constructor(language: string, options: NlpjsMatcherOptions = {}) {
    this.language = normalizeNlpjsLanguage(language);
    this.maxIntents = Math.max(MIN_MAX_INTENTS, Math.floor(options.maxIntents ?? DEFAULT_MAX_INTENTS));
    this.useNoneFeature = options.useNoneFeature ?? true;
    this.spellCheck = options.spellCheck ?? false;
    this.neural = { ...(options.neural ?? {}) };
    this.lang = loadLanguagePackage(this.language, options.sentiment ?? false);
    const neuralKeys = Object.keys(this.neural).sort() as (keyof NlpjsNeuralSettings)[];
    const neuralDesc = neuralKeys
      .filter((k) => this.neural[k] !== undefined)
      .map((k) => `${k}=${this.neural[k]}`)
      .join(',');
    this.version = [
      `adapter${ADAPTER_VERSION}`,
      `@nlpjs/nlp@${packageVersion('@nlpjs/nlp')}`,
      `${this.lang.pkg}@${this.lang.version}`,
      `none=${this.useNoneFeature ? 1 : 0}`,
      `spell=${this.spellCheck ? 1 : 0}`,
      `nn={${neuralDesc}}`,
    ].join(';');
  }

  /** Intents of the trained (or imported) model, sorted by name. */
  get intents(): readonly string[] {
    return this.intentNames;
  }

  get isTrained(): boolean {
    return this.nlp !== null;
  }

  private createNlp(onEpoch?: (status: NeuralTrainStatus, epochMs: number) => void): Nlp {
    const { containerBootstrap } = loadCore();
    const { Nlp: NlpClass } = loadNlp();
    const container: Container = containerBootstrap();
    container.register('logger', SILENT_LOGGER); // nlp.js warns on console, e.g. about stop-word-only examples
    container.use(this.lang.plugin);
    // Registering the domain-manager configuration for our locale replaces the "domain-manager-??"
    // defaults wholesale, so restate them (notably useStemDict, the exact-match shortcut).
    container.registerConfiguration(
      `domain-manager-${this.language}`,
      {
        nluByDomain: { default: { className: 'NeuralNlu', settings: { ...this.neural } } },
        trainByDomain: false,
        useStemDict: true,
      },
      true,
    );
    const settings: NlpSettings = {
      container,
      languages: [this.language],
      autoLoad: false,
      autoSave: false,
      // We read `classifications`, not nlp.js's thresholded `intent`.
      threshold: 0.5,
      forceNER: false,
      calculateSentiment: true,
      // Entities are not used; an impossible marker stops words like "@acme" in examples from
      // being taken for entity slots (nlp.js's default marker is "@"), which would switch on NER.
      ner: { entityPreffix: '\u0000\u0001', entitySuffix: '\u0001\u0000' },
      // `log` must be false or a function: true prints every epoch to the console.
      nlu: { log: onEpoch ?? false, useNoneFeature: this.useNoneFeature, spellCheck: this.spellCheck, spellCheckDistance: 1 },
    };
    return new NlpClass(settings);
  }

  async train(corpus: TrainingCorpus, opts: { onProgress?: (p: TrainProgress) => void } = {}): Promise<void> {
    const language = normalizeNlpjsLanguage(corpus?.language);
    if (language !== this.language) {
      throw new Error(
        `nlp.js intent matcher: this matcher was created for "${this.language}" but the corpus is "${corpus.language}".`,
      );
    }
    const intents = cleanCorpus(corpus);
    const total = intents.reduce((n, i) => n + i.examples.length, 0);
    const report = opts.onProgress ?? ((): void => {});
    report({ phase: 'prepare', done: 0, total, message: `${intents.length} intents, ${total} examples` });

    const maxEpochs = this.neural.iterations ?? DEFAULT_MAX_ITERATIONS;
    let epochs = 0;
    let loss = NaN;
    let lastReport = 0;
    const onEpoch = (status: NeuralTrainStatus): void => {
      epochs = status.iterations;
      loss = status.error;
      const now = Date.now();
      if (epochs === 1 || now - lastReport >= PROGRESS_INTERVAL_MS) {
        lastReport = now;
        report({ phase: 'train', done: epochs, total: maxEpochs, message: `epoch ${epochs}, loss ${loss.toExponential(3)}` });
      }
    };

    const started = Date.now();
    const nlp = this.createNlp(onEpoch);
    for (const { intent, examples } of intents) {
      for (const example of examples) nlp.addDocument(this.language, example, intent);
    }
    report({ phase: 'prepare', done: total, total });
    report({ phase: 'train', done: 0, total: maxEpochs, message: 'training' });
    if (total > 0) await nlp.train();

    this.nlp = nlp;
    this.intentNames = intents.map((i) => i.intent);
    this.exampleCount = total;
    const ms = Date.now() - started;
    report({
      phase: 'done',
      done: total,
      total,
      message:
        `trained ${intents.length} intents on ${total} examples in ${ms} ms` +
        (epochs ? ` (${epochs} epochs, loss ${loss.toExponential(3)})` : ''),
    });
  }

  async classify(text: string): Promise<Classification> {
    const nlp = this.nlp;
    if (!nlp) throw new Error('nlp.js intent matcher: classify() called before train() or importModel().');
    const input = typeof text === 'string' ? text : '';
    const empty: Classification = { text: input, language: this.language, intents: [], top: null };
    if (!input.trim() || this.exampleCount === 0) return empty;

    const result: NlpProcessResult = await nlp.process(this.language, input);
    const ranked: IntentScore[] = (Array.isArray(result.classifications) ? result.classifications : [])
      .map((c) => ({ intent: String(c.intent), score: clamp01(c.score) }))
      .sort((a, b) => b.score - a.score); // stable: nlp.js's order breaks ties
    // nlp.js drops some zero-scored intents (and keeps others); pad with the model's remaining
    // intents at 0 so callers always see up to maxIntents entries.
    if (ranked.length < this.maxIntents) {
      const seen = new Set(ranked.map((c) => c.intent));
      for (const intent of this.intentNames) {
        if (ranked.length >= this.maxIntents) break;
        if (!seen.has(intent)) ranked.push({ intent, score: 0 });
      }
    }
    const best = ranked.find((c) => c.intent !== NONE_INTENT && c.score > 0);
    const classification: Classification = {
      text: input,
      language: this.language,
      intents: ranked.slice(0, this.maxIntents),
      top: best ? { ...best } : null,
    };
    const s = result.sentiment;
    // Without a lexicon (lang-en-min) nlp.js still returns a sentiment, always neutral, with no type.
    if (s && s.type && typeof s.score === 'number' && Number.isFinite(s.score)) {
      classification.sentiment = { score: s.score, vote: s.vote };
    }
    return classification;
  }

  exportModel(): string {
    if (!this.nlp) throw new Error('nlp.js intent matcher: nothing to export, train() or importModel() first.');
    const envelope: ModelEnvelope = {
      format: MODEL_FORMAT,
      matcher: this.name,
      version: this.version,
      language: this.language,
      intents: this.intentNames,
      examples: this.exampleCount,
      model: this.nlp.toJSON(),
    };
    return JSON.stringify(envelope);
  }

  /** Restores a model from exportModel(). Throws (leaving the current model in place) if it is not one this matcher can use. */
  importModel(model: string): void {
    let envelope: Partial<ModelEnvelope>;
    try {
      envelope = JSON.parse(model) as Partial<ModelEnvelope>;
    } catch (err) {
      throw new Error(`nlp.js intent matcher: model is not valid JSON (${(err as Error).message}).`);
    }
    if (!envelope || typeof envelope !== 'object' || envelope.format !== MODEL_FORMAT || envelope.matcher !== this.name) {
      throw new Error('nlp.js intent matcher: not an nlp.js model exported by Baton.');
    }
    if (envelope.version !== this.version) {
      throw new Error(
        `nlp.js intent matcher: model was exported by matcher version "${envelope.version}", this is "${this.version}"; retrain.`,
      );
    }
    if (envelope.language !== this.language) {
      throw new Error(`nlp.js intent matcher: model is for "${envelope.language}", this matcher is for "${this.language}".`);
    }
    const inner = envelope.model as { nluManager?: { domainManagers?: Record<string, unknown> } } | undefined;
    if (!inner || typeof inner !== 'object' || !inner.nluManager?.domainManagers?.[this.language] || !Array.isArray(envelope.intents)) {
      throw new Error('nlp.js intent matcher: model is incomplete.');
    }
    const nlp = this.createNlp();
    try {
      // An empty corpus leaves nlp.js untrained, and its untrained export does not import.
      if (envelope.examples !== 0) {
        nlp.fromJSON(envelope.model as Record<string, unknown>);
        restoreNoneIntent(nlp, this.language);
      }
    } catch (err) {
      throw new Error(`nlp.js intent matcher: model could not be loaded (${(err as Error).message}).`);
    }
    this.nlp = nlp;
    this.intentNames = envelope.intents.map(String);
    this.exampleCount = typeof envelope.examples === 'number' ? envelope.examples : this.intentNames.length;
  }
}

/** Creates {@link NlpjsIntentMatcher}s sharing one set of options. */
export class NlpjsIntentMatcherFactory implements IntentMatcherFactory {
  constructor(private readonly options: NlpjsMatcherOptions = {}) {}

  create(language: string): NlpjsIntentMatcher {
    return new NlpjsIntentMatcher(language, this.options);
  }
}

export function createNlpjsMatcherFactory(options: NlpjsMatcherOptions = {}): NlpjsIntentMatcherFactory {
  return new NlpjsIntentMatcherFactory(options);
}

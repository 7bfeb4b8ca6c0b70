/**
 * {@link LinearIntentMatcher}: TF-IDF features (word, stemmed-word and character n-grams) and a
 * multinomial logistic regression trained to convergence, with temperature-scaled probabilities
 * fitted on cross-validation folds, so that `top.score` estimates "the probability this answer is
 * right", and a decision threshold chosen on the same folds for a target wrong-answer rate.
 *
 * Out-of-scope: intents named "oos" (any case) or "None" (or those in `rejectIntents`) are
 * rejection classes: trained like any intent, listed in `intents` with their probability, never
 * returned as `top`. Their probability mass is what the top intent's probability does not get.
 */
import type { Classification, IntentMatcher, IntentMatcherFactory, IntentScore, TrainingCorpus, TrainProgress } from '../port';
import { fitTemperature } from './calibration';
import {
  base64DeflatedToInt8,
  base64ToF32,
  dequantizeRows,
  f32ToBase64,
  int8ToBase64Deflated,
  quantizeRows,
} from './codec';
import { stratifiedFolds } from './crossval';
import { Vectorizer, type FeatureOptions, type VectorizerJson, resolveFeatureOptions, toCsr } from './features';
import { logitsInto, logitsMatrix, trainSoftmax, type SoftmaxModel } from './softmax';
import { languageSupport, normalizeLanguage, type LanguageSupport } from './text';
import { chooseThreshold, type ScoredAnswer, type ThresholdChoice } from './threshold';

export interface LinearMatcherOptions {
  features?: FeatureOptions;
  /**
   * Ensemble of feature views: one softmax model per feature set, logits averaged (then one
   * temperature). Default: a single model on `features`.
   */
  members?: FeatureOptions[];
  /** L2 strength (default 1e-5). */
  l2?: number;
  /** SGD epochs (default 12). */
  epochs?: number;
  /** Initial SGD learning rate (default 1.5). */
  learningRate?: number;
  /** Seed of the SGD shuffles and of the calibration folds (default 1). */
  seed?: number;
  /**
   * Cross-validation folds used to fit the temperature and the default threshold (default 3;
   * 0 or 1 = no calibration: temperature 1, threshold from `fallbackThreshold`). Each fold trains
   * a model on the other folds, so training costs about (1 + folds·(folds−1)/folds) single fits.
   */
  calibrationFolds?: number;
  /** Target wrong-answer rate (wrong answers / answers given) for the default threshold (default 0.02). */
  targetWrongRate?: number;
  /** Threshold when it cannot be estimated (no calibration folds, too little data). Default 0.5. */
  fallbackThreshold?: number;
  /** Intent names treated as rejection classes (in addition to "oos"/"OOS"/"None"). */
  rejectIntents?: string[];
  /**
   * Weight of rejection-class examples relative to intent examples: a number, or 'balanced'
   * (default) = (average examples per real intent) / (rejection examples), capped to [1, 5], so
   * a handful of out-of-scope examples is not drowned by large intents.
   */
  rejectWeight?: number | 'balanced';
  /** How many ranked intents classify() returns (default 10, at least 5). */
  maxIntents?: number;
  /** 'auto' (default): stemmed view when an @nlpjs/lang-xx stemmer is installed; false: none. */
  stemming?: 'auto' | false;
}

/** Bump when the algorithm or model format changes. */
const ALGORITHM_VERSION = 1;
const MODEL_FORMAT = 'baton.linear-model';

interface ModelJson {
  format: typeof MODEL_FORMAT;
  matcher: string;
  version: string;
  language: string;
  classes: string[];
  reject: string[];
  temperature: number;
  /** null = never answer (no threshold met the target). */
  threshold: number | null;
  targetWrongRate: number;
  members: {
    vectorizer: VectorizerJson;
    /** Int8 weights (deflated, base64), feature-major, with one float32 scale per feature row. */
    weights: { scales: string; q: string };
    bias: string;
  }[];
  examples: number;
}

interface TrainedState {
  classes: string[];
  rejectMask: Uint8Array;
  members: Member[];
  temperature: number;
  threshold: number;
  examples: number;
}

interface Member {
  vectorizer: Vectorizer;
  model: SoftmaxModel;
}

export interface CalibrationReport {
  folds: number;
  temperature: number;
  /**
   * Out-of-fold predictions (confidence after temperature scaling), fold by fold: `predicted` is
   * the best non-rejection intent, `top` the best class including rejection classes.
   */
  predictions: (ScoredAnswer & { text: string; gold: string; predicted: string | null; top: string | null; fold: number })[];
  threshold: ThresholdChoice | null;
}

const DEFAULT_REJECT = (name: string): boolean => name.toLowerCase() === 'oos' || name === 'None';

export class LinearIntentMatcher implements IntentMatcher {
  readonly name = 'baton-linear';
  readonly version: string;
  readonly language: string;
  private readonly options: LinearMatcherOptions;
  private readonly lang: LanguageSupport;
  private readonly maxIntents: number;
  private state: TrainedState | null = null;
  private calibration: CalibrationReport | null = null;

  constructor(language: string, options: LinearMatcherOptions = {}) {
    this.language = normalizeLanguage(language);
    this.options = { ...options };
    this.lang = languageSupport(this.language, { stemming: options.stemming ?? 'auto' });
    this.maxIntents = Math.max(5, Math.floor(options.maxIntents ?? 10));
    const f = (options.members ?? [options.features]).map((m) => resolveFeatureOptions(m));
    const settings = {
      f,
      l2: options.l2 ?? 1e-5,
      ep: options.epochs ?? 12,
      lr: options.learningRate ?? 1.5,
      seed: options.seed ?? 1,
      cv: options.calibrationFolds ?? 3,
      tw: options.targetWrongRate ?? 0.02,
      rw: options.rejectWeight ?? 'balanced',
      rj: [...(options.rejectIntents ?? [])].sort(),
    };
    this.version = `linear${ALGORITHM_VERSION};${this.lang.stemmer};${hashString(JSON.stringify(settings))}`;
  }

  get isTrained(): boolean {
    return this.state !== null;
  }

  /** All classes of the model (rejection classes included), sorted by name. */
  get intents(): readonly string[] {
    return this.state?.classes ?? [];
  }

  /** Softmax temperature fitted on the calibration folds (1 when uncalibrated). */
  get temperature(): number {
    return this.state?.temperature ?? 1;
  }

  /** Answer iff top.score ≥ threshold. Infinity = never answer. */
  get threshold(): number {
    return this.state?.threshold ?? this.options.fallbackThreshold ?? 0.5;
  }

  /** Replaces the decision threshold (e.g. one chosen on a validation set with chooseThreshold). */
  setThreshold(threshold: number): void {
    if (!this.state) throw new Error('linear intent matcher: setThreshold() before train() or importModel().');
    if (Number.isNaN(threshold)) throw new RangeError('threshold must be a number');
    this.state.threshold = threshold;
  }

  /** Whether the matcher would answer this classification (its top intent clears the threshold). */
  answers(c: Classification): boolean {
    return !!c.top && c.top.score >= this.threshold;
  }

  /** Out-of-fold predictions and the threshold estimated during the last train() (null after importModel()). */
  get calibrationReport(): CalibrationReport | null {
    return this.calibration;
  }

  private isReject(name: string): boolean {
    return DEFAULT_REJECT(name) || (this.options.rejectIntents ?? []).includes(name);
  }

  async train(corpus: TrainingCorpus, opts: { onProgress?: (p: TrainProgress) => void } = {}): Promise<void> {
    const language = normalizeLanguage(corpus?.language);
    if (language !== this.language) {
      throw new Error(`linear intent matcher: this matcher was created for "${this.language}" but the corpus is "${corpus.language}".`);
    }
    const report = opts.onProgress ?? ((): void => {});
    const intents = cleanCorpus(corpus);
    const classes = intents.map((i) => i.intent);
    const texts: string[] = [];
    const labels: number[] = [];
    intents.forEach((it, c) => it.examples.forEach((t) => (texts.push(t), labels.push(c))));
    const total = texts.length;
    const rejectMask = Uint8Array.from(classes, (c) => (this.isReject(c) ? 1 : 0));
    report({ phase: 'prepare', done: 0, total, message: `${classes.length} intents, ${total} examples` });

    const weights = this.exampleWeights(intents, rejectMask, labels);
    const folds = Math.floor(this.options.calibrationFolds ?? 3);
    const canCalibrate = folds >= 2 && classes.length >= 2 && total >= 2 * folds;
    let fitNo = 0;
    const memberOptions = this.options.members ?? [this.options.features ?? {}];
    const fits = ((canCalibrate ? folds : 0) + 1) * memberOptions.length;
    const fitOnce = async (idx: number[]): Promise<Member[]> => {
      const sub = idx.map((i) => texts[i]!);
      const members: Member[] = [];
      for (const features of memberOptions) {
        await new Promise<void>((r) => setImmediate(r)); // let the event loop breathe between fits
        const vectorizer = Vectorizer.fit(sub, this.lang, features);
        const x = toCsr(sub.map((t) => vectorizer.transform(t, this.lang)), vectorizer.size);
        const model = trainSoftmax(
          x,
          Int32Array.from(idx, (i) => labels[i]!),
          classes.length,
          {
            l2: this.options.l2 ?? 1e-5,
            epochs: this.options.epochs ?? 12,
            learningRate: this.options.learningRate ?? 1.5,
            seed: this.options.seed ?? 1,
            onEpoch: (e, n) => report({ phase: 'train', done: fitNo * n + e, total: fits * n, message: `fit ${fitNo + 1}/${fits}, epoch ${e}/${n}` }),
          },
          Float32Array.from(idx, (i) => weights[i]!),
        );
        fitNo++;
        members.push({ vectorizer, model });
      }
      return members;
    };

    let temperature = 1;
    let threshold = this.options.fallbackThreshold ?? 0.5;
    let calibration: CalibrationReport | null = null;
    if (canCalibrate && total > 0) {
      const foldOf = stratifiedFolds(labels, folds, (this.options.seed ?? 1) + 7919);
      const C = classes.length;
      const oofLogits = new Float64Array(total * C);
      const held: number[] = [];
      for (let f = 0; f < folds; f++) {
        const trainIdx: number[] = [];
        const heldIdx: number[] = [];
        for (let i = 0; i < total; i++) (foldOf[i] === f ? heldIdx : trainIdx).push(i);
        if (!heldIdx.length) {
          fitNo += memberOptions.length;
          continue;
        }
        const members = await fitOnce(trainIdx);
        const z = new Float64Array(heldIdx.length * C);
        for (const { vectorizer, model } of members) {
          const zm = logitsMatrix(model, toCsr(heldIdx.map((i) => vectorizer.transform(texts[i]!, this.lang)), vectorizer.size));
          for (let j = 0; j < z.length; j++) z[j]! += zm[j]! / members.length;
        }
        heldIdx.forEach((i, k) => oofLogits.set(z.subarray(k * C, (k + 1) * C), held.length * C + k * C));
        held.push(...heldIdx);
      }
      const heldLogits = oofLogits.subarray(0, held.length * C);
      const heldLabels = Int32Array.from(held, (i) => labels[i]!);
      temperature = fitTemperature(heldLogits, heldLabels, C);
      const predictions: CalibrationReport['predictions'] = [];
      const row = new Float64Array(C);
      for (let k = 0; k < held.length; k++) {
        row.set(heldLogits.subarray(k * C, (k + 1) * C));
        const probs = softmaxT(row, temperature);
        const best = bestAllowed(probs, rejectMask);
        const argmax = topK(probs, 1)[0] ?? -1;
        const gold = heldLabels[k]!;
        const outOfScope = rejectMask[gold] === 1;
        predictions.push({
          text: texts[held[k]!]!,
          gold: classes[gold]!,
          predicted: best >= 0 ? classes[best]! : null,
          top: argmax >= 0 ? classes[argmax]! : null,
          fold: foldOf[held[k]!]!,
          confidence: best >= 0 ? probs[best]! : 0,
          correct: !outOfScope && best === gold,
          outOfScope,
        });
      }
      const choice = chooseThreshold(predictions, { targetWrongRate: this.options.targetWrongRate ?? 0.02 });
      threshold = choice.threshold;
      calibration = { folds, temperature, predictions, threshold: choice };
    }

    const all = Array.from({ length: total }, (_, i) => i);
    const members = total
      ? await fitOnce(all)
      : memberOptions.map((f) => ({ vectorizer: Vectorizer.fit([], this.lang, f), model: emptyModel(classes.length) }));
    // Quantise now so that the model in memory is exactly what exportModel() → importModel() restores.
    for (const { model } of members) model.weights = quantizeRows(model.weights, model.classes).dequantized;
    this.state = { classes, rejectMask, members, temperature, threshold, examples: total };
    this.calibration = calibration;
    report({
      phase: 'done',
      done: total,
      total,
      message: `trained ${classes.length} intents on ${total} examples (${members.reduce((n, m) => n + m.vectorizer.size, 0)} features, T=${temperature.toFixed(3)}, threshold=${threshold.toFixed(3)})`,
    });
  }

  private exampleWeights(intents: { intent: string; examples: string[] }[], rejectMask: Uint8Array, labels: number[]): Float32Array {
    const w = new Float32Array(labels.length).fill(1);
    const rejectN = intents.reduce((n, it, c) => n + (rejectMask[c] ? it.examples.length : 0), 0);
    const realIntents = intents.filter((_, c) => !rejectMask[c]);
    if (!rejectN || !realIntents.length) return w;
    const opt = this.options.rejectWeight ?? 'balanced';
    const avg = realIntents.reduce((n, it) => n + it.examples.length, 0) / realIntents.length;
    const rw = opt === 'balanced' ? Math.min(5, Math.max(1, avg / rejectN)) : opt;
    labels.forEach((c, i) => {
      if (rejectMask[c]) w[i] = rw;
    });
    return w;
  }

  /** Probabilities of all classes (same order as `intents`), synchronously. */
  probabilities(text: string): Float64Array | null {
    const st = this.state;
    if (!st) throw new Error('linear intent matcher: classify() called before train() or importModel().');
    if (!st.examples) return null;
    return softmaxT(this.logits(st, text).z, st.temperature);
  }

  /** Synchronous classify(). */
  classifySync(text: string): Classification {
    const st = this.state;
    if (!st) throw new Error('linear intent matcher: classify() called before train() or importModel().');
    const input = typeof text === 'string' ? text : '';
    const empty: Classification = { text: input, language: this.language, intents: [], top: null };
    if (!input.trim() || !st.examples || !st.classes.length) return empty;
    const { z, known } = this.logits(st, input);
    const probs = softmaxT(z, st.temperature);
    // Nothing known in the text: the model only has its biases to go on; report them, but no top.
    const order = topK(probs, this.maxIntents);
    const ranked: IntentScore[] = order.map((c) => ({ intent: st.classes[c]!, score: probs[c]! }));
    const best = known ? bestAllowed(probs, st.rejectMask) : -1;
    return {
      text: input,
      language: this.language,
      intents: ranked,
      top: best >= 0 ? { intent: st.classes[best]!, score: probs[best]! } : null,
    };
  }

  /** Averaged member logits, and whether the text had any known feature. */
  private logits(st: TrainedState, text: string): { z: Float64Array; known: boolean } {
    const C = st.classes.length;
    const z = new Float64Array(C);
    const tmp = new Float64Array(C);
    let known = false;
    for (const { vectorizer, model } of st.members) {
      const x = vectorizer.transform(text, this.lang);
      if (x.indices.length) known = true;
      logitsInto(model, x, tmp);
      for (let c = 0; c < C; c++) z[c]! += tmp[c]! / st.members.length;
    }
    return { z, known };
  }

  async classify(text: string): Promise<Classification> {
    return this.classifySync(text);
  }

  exportModel(): string {
    const st = this.state;
    if (!st) throw new Error('linear intent matcher: nothing to export, train() or importModel() first.');
    const json: ModelJson = {
      format: MODEL_FORMAT,
      matcher: this.name,
      version: this.version,
      language: this.language,
      classes: st.classes,
      reject: st.classes.filter((_, c) => st.rejectMask[c]),
      temperature: st.temperature,
      threshold: Number.isFinite(st.threshold) ? st.threshold : null,
      targetWrongRate: this.options.targetWrongRate ?? 0.02,
      members: st.members.map(({ vectorizer, model }) => {
        const { scales, q } = quantizeRows(model.weights, model.classes);
        return {
          vectorizer: vectorizer.toJSON(),
          weights: { scales: f32ToBase64(scales), q: int8ToBase64Deflated(q) },
          bias: f32ToBase64(model.bias),
        };
      }),
      examples: st.examples,
    };
    return JSON.stringify(json);
  }

  /** Restores a model from exportModel(). Throws (leaving the current model in place) if it is not one this matcher can use. */
  importModel(model: string): void {
    let json: Partial<ModelJson>;
    try {
      json = JSON.parse(model) as Partial<ModelJson>;
    } catch (err) {
      throw new Error(`linear intent matcher: model is not valid JSON (${(err as Error).message}).`);
    }
    if (!json || typeof json !== 'object' || json.format !== MODEL_FORMAT || json.matcher !== this.name) {
      throw new Error('linear intent matcher: not a linear model exported by Baton.');
    }
    if (json.version !== this.version) {
      throw new Error(`linear intent matcher: model was exported by matcher version "${json.version}", this is "${this.version}"; retrain.`);
    }
    if (json.language !== this.language) {
      throw new Error(`linear intent matcher: model is for "${json.language}", this matcher is for "${this.language}".`);
    }
    try {
      const classes = (json.classes ?? []).map(String);
      const C = classes.length;
      if (!Array.isArray(json.members) || !json.members.length) throw new Error('no model members');
      const members: Member[] = json.members.map((m) => {
        const vectorizer = Vectorizer.fromJSON(m.vectorizer);
        const scales = base64ToF32(m.weights.scales);
        const q = base64DeflatedToInt8(m.weights.q);
        const bias = base64ToF32(m.bias);
        if (scales.length !== vectorizer.size || q.length !== vectorizer.size * C || bias.length !== C) {
          throw new Error('weights do not match the vocabulary');
        }
        return { vectorizer, model: { classes: C, features: vectorizer.size, weights: dequantizeRows(scales, q, C), bias } };
      });
      const reject = new Set((json.reject ?? []).map(String));
      this.state = {
        classes,
        rejectMask: Uint8Array.from(classes, (c) => (reject.has(c) ? 1 : 0)),
        members,
        temperature: Number(json.temperature) || 1,
        threshold: json.threshold === null ? Infinity : Number(json.threshold),
        examples: Number(json.examples) || 0,
      };
      this.calibration = null;
    } catch (err) {
      throw new Error(`linear intent matcher: model could not be loaded (${(err as Error).message}).`);
    }
  }
}

export class LinearIntentMatcherFactory implements IntentMatcherFactory {
  constructor(private readonly options: LinearMatcherOptions = {}) {}
  create(language: string): LinearIntentMatcher {
    return new LinearIntentMatcher(language, this.options);
  }
}

// ---------------------------------------------------------------------------------------------

function emptyModel(classes: number): SoftmaxModel {
  return { classes, features: 0, weights: new Float32Array(0), bias: new Float32Array(classes) };
}

function softmaxT(z: Float64Array, t: number): Float64Array {
  let max = -Infinity;
  for (let c = 0; c < z.length; c++) if (z[c]! > max) max = z[c]!;
  let sum = 0;
  for (let c = 0; c < z.length; c++) sum += (z[c] = Math.exp((z[c]! - max) / t));
  for (let c = 0; c < z.length; c++) z[c]! /= sum;
  return z;
}

/** Index of the most probable non-rejection class, or -1. Ties: the lower index (intent name order). */
function bestAllowed(probs: Float64Array, rejectMask: Uint8Array): number {
  let best = -1;
  for (let c = 0; c < probs.length; c++) if (!rejectMask[c] && (best < 0 || probs[c]! > probs[best]!)) best = c;
  return best;
}

function topK(probs: Float64Array, k: number): number[] {
  const idx = Array.from({ length: probs.length }, (_, i) => i);
  idx.sort((a, b) => probs[b]! - probs[a]! || a - b);
  return idx.slice(0, k);
}

/** Merges duplicate intents, trims examples, drops empty ones, sorts intents by name. */
function cleanCorpus(corpus: TrainingCorpus): { intent: string; examples: string[] }[] {
  if (!corpus || !Array.isArray(corpus.intents)) throw new Error('linear intent matcher: corpus.intents must be an array.');
  const byName = new Map<string, string[]>();
  for (const item of corpus.intents) {
    const name = typeof item?.intent === 'string' ? item.intent.trim() : '';
    if (!name) throw new Error('linear intent matcher: every intent needs a non-empty name.');
    const list = byName.get(name) ?? [];
    for (const ex of Array.isArray(item.examples) ? item.examples : []) {
      if (typeof ex === 'string' && ex.trim()) list.push(ex.trim());
    }
    byName.set(name, list);
  }
  return [...byName.entries()]
    .filter(([, ex]) => ex.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([intent, examples]) => ({ intent, examples }));
}

function hashString(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * The NLU engine of a bot: which matcher it uses, what it is trained on, and how the decision
 * thresholds of bot.yaml's `nlu:` block are resolved into numbers for the interpreter.
 *
 *  - matcher `linear` (default): {@link LinearIntentMatcher}, calibrated probabilities; its own
 *    calibration folds double as the cross-validation that chooses `threshold: auto`, so the
 *    threshold costs no extra training.
 *  - matcher `nlpjs`: node-nlp; `threshold: auto` runs a separate k-fold cross-validation.
 *
 * Everything here is deterministic for a given corpus and settings, so the result can be cached
 * with the model (see trainBot in src/main.ts).
 */
import type { Bot, BotConfig, NluEngineConfig } from '../flow/model';
import type { IntentMatcher, TrainingCorpus } from './port';
import { buildCorpus } from './corpus';
import { outOfScopeFor, OUT_OF_SCOPE_INTENT } from './out-of-scope';
import { LinearIntentMatcher } from './linear/matcher';
import { crossValidate } from './linear/crossval';
import { chooseThreshold, rateAtThreshold, type ScoredAnswer } from './linear/threshold';
import { NlpjsIntentMatcher } from './nlpjs';
import {
  AUTO_AMBIGUITY_MARGIN,
  AUTO_THRESHOLD_INFEASIBLE,
  AUTO_THRESHOLD_MIN,
  autoDigressionThreshold,
  engineConfigOf,
  UNRESOLVED_THRESHOLD,
} from './settings';

/** Cross-validation folds: 5 for bots (more of each intent's few examples stay in training), 3 from 2,000 examples on (cost). */
export function defaultFolds(examples: number): number {
  return examples < 2000 ? 5 : 3;
}

/** Bump when the way thresholds are resolved changes (part of the model cache key). */
const ENGINE_VERSION = 2;

/** The bot's training corpus in one language (default: the bot's default language): built-ins, flow triggers, article questions, and (linear matcher, `outOfScope`) the generic off-topic class. */
export function trainingCorpus(bot: Bot, engine: NluEngineConfig = engineConfigOf(bot.config.nlu), language: string = bot.language): TrainingCorpus {
  const corpus = buildCorpus(bot, language);
  if (engine.matcher !== 'linear' || !engine.outOfScope) return corpus;
  const own = new Set(corpus.intents.map((i) => i.intent));
  // A bot that defines an intent named like the rejection class keeps it as it is.
  if (own.has(OUT_OF_SCOPE_INTENT)) return corpus;
  return { language: corpus.language, intents: [...corpus.intents, ...outOfScopeFor(corpus.language)] };
}

export function exampleCount(corpus: TrainingCorpus): number {
  return corpus.intents.reduce((n, i) => n + i.examples.length, 0);
}

/** A fresh, untrained matcher for these settings. */
export function createIntentMatcher(engine: NluEngineConfig, language: string, corpus: TrainingCorpus, folds = defaultFolds(exampleCount(corpus))): IntentMatcher {
  if (engine.matcher === 'nlpjs') return new NlpjsIntentMatcher(language);
  // The matcher's own threshold is replaced by the resolved one (trainBot), so its target is not
  // passed: changing the target then re-chooses the threshold from the cached predictions, no retraining.
  return new LinearIntentMatcher(language, { calibrationFolds: folds });
}

/** Everything besides the corpus that the cached model and its stored held-out predictions depend on. */
export function engineCacheVersion(matcher: IntentMatcher, folds: number): string {
  return [matcher.version ?? '0', `engine${ENGINE_VERSION}`, `k=${folds}`].join(';');
}

/** One held-out prediction of cross-validation on the bot's own examples. */
export interface HeldOutPrediction extends ScoredAnswer {
  text: string;
  gold: string;
  /** Best answerable intent (never the rejection class), or null. */
  predicted: string | null;
  /** Best class including the rejection class ("oos"), or null. */
  top: string | null;
  fold: number;
}

/**
 * Cross-validated predictions of the bot's own examples. For the linear matcher these are the
 * out-of-fold predictions of its calibration (so `matcher` must be the one just trained on
 * `corpus`, not imported from a cache); for other matchers, a k-fold cross-validation with fresh
 * matchers from `create`.
 */
export async function heldOutPredictions(
  matcher: IntentMatcher,
  corpus: TrainingCorpus,
  create: () => IntentMatcher,
  folds: number,
  onFold?: (fold: number, folds: number) => void,
): Promise<HeldOutPrediction[]> {
  if (matcher instanceof LinearIntentMatcher) {
    // No report: too few examples to hold any out (fewer than 2 per fold, or a single intent).
    return (matcher.calibrationReport?.predictions ?? []).map((p) => ({ ...p }));
  }
  const preds = await crossValidate(corpus, create, { folds, ...(onFold ? { onFold } : {}) });
  return preds.map((p) => ({ text: p.text, gold: p.gold, predicted: p.predicted, top: p.top, confidence: p.confidence, correct: p.correct, outOfScope: p.outOfScope, fold: p.fold }));
}

/**
 * What trainBot stores with the cached model: the held-out predictions, reduced to what choosing a
 * threshold needs, and the threshold they gave at training time (for the record; the thresholds are
 * re-resolved from the predictions on every load, so editing bot.yaml's numbers needs no retraining).
 */
export interface StoredHeldOut {
  format: 'baton.held-out/1';
  folds: number;
  /**
   * [confidence, correct 0/1, out-of-scope 0/1] per held-out example; [] when there were too few
   * examples to cross-validate; null when not computed (node-nlp with a fixed threshold).
   */
  predictions: [number, 0 | 1, 0 | 1][] | null;
  /** The resolution at training time. */
  resolved: ThresholdResolution;
}

/** The predictions in stored form (confidences rounded to 6 decimals: resolve from `unpackHeldOut` of this, so a cache hit gives the very same numbers). */
export function packHeldOut(preds: ScoredAnswer[] | null, folds: number): Omit<StoredHeldOut, 'resolved'> {
  return {
    format: 'baton.held-out/1',
    folds,
    predictions: preds ? preds.map((p) => [Number(p.confidence.toFixed(6)), p.correct ? 1 : 0, p.outOfScope ? 1 : 0]) : null,
  };
}

export function isStoredHeldOut(x: unknown): x is StoredHeldOut {
  const s = x as Partial<StoredHeldOut> | null;
  return (
    !!s &&
    s.format === 'baton.held-out/1' &&
    typeof s.folds === 'number' &&
    (s.predictions === null || (Array.isArray(s.predictions) && s.predictions.every((p) => Array.isArray(p) && p.length === 3 && p.every((v) => typeof v === 'number'))))
  );
}

export function unpackHeldOut(s: Pick<StoredHeldOut, 'predictions'>): ScoredAnswer[] | null {
  return s.predictions ? s.predictions.map(([confidence, correct, oos]) => ({ confidence, correct: correct === 1, outOfScope: oos === 1 })) : null;
}

/** How the thresholds of a bot were resolved (`baton train` prints it). */
export interface ThresholdResolution {
  /** The answer threshold the interpreter uses. */
  threshold: number;
  digressionThreshold: number;
  ambiguityMargin: number;
  source: 'auto' | 'fixed';
  targetWrongRate: number;
  /** What cross-validation chose for the target before the bounds (null: no threshold reaches it, or not computed). */
  chosen: number | null;
  /**
   * 'min': raised to AUTO_THRESHOLD_MIN; 'infeasible': no threshold reaches the target,
   * AUTO_THRESHOLD_INFEASIBLE used; 'no-data': too few examples to cross-validate, UNRESOLVED_THRESHOLD used.
   */
  adjusted: 'min' | 'infeasible' | 'no-data' | null;
  /** On the cross-validated predictions, at `threshold` (null when not computed: fixed threshold with node-nlp). */
  cv: {
    folds: number;
    examples: number;
    /** Wrong answers / answers given. */
    wrongRate: number;
    /** Answers given / held-out examples. */
    answeredRate: number;
    /** Right answers / in-scope held-out examples ("coverage"). */
    answeredCorrectRate: number;
  } | null;
}

/** Chooses the threshold for `targetWrongRate` on held-out predictions, within the bounds of `auto`. */
export function autoThreshold(preds: ScoredAnswer[], targetWrongRate: number): { threshold: number; chosen: number | null; adjusted: ThresholdResolution['adjusted'] } {
  const choice = chooseThreshold(preds, { targetWrongRate });
  if (!choice.feasible || !Number.isFinite(choice.threshold)) return { threshold: AUTO_THRESHOLD_INFEASIBLE, chosen: null, adjusted: 'infeasible' };
  if (choice.threshold < AUTO_THRESHOLD_MIN) return { threshold: AUTO_THRESHOLD_MIN, chosen: choice.threshold, adjusted: 'min' };
  return { threshold: choice.threshold, chosen: choice.threshold, adjusted: null };
}

/**
 * Resolves the bot's thresholds: a fixed `threshold` stays; `auto` is chosen on `preds` (required
 * then). `digressionThreshold: auto` becomes halfway between the threshold and 1.
 */
export function resolveThresholds(config: BotConfig['nlu'], preds: ScoredAnswer[] | null, folds: number): ThresholdResolution {
  const engine = engineConfigOf(config);
  let threshold = config.threshold;
  let chosen: number | null = null;
  let adjusted: ThresholdResolution['adjusted'] = null;
  if (engine.autoThreshold) {
    if (!preds) throw new Error('threshold: auto needs cross-validated predictions');
    if (preds.length) ({ threshold, chosen, adjusted } = autoThreshold(preds, engine.targetWrongRate));
    else ({ threshold, chosen, adjusted } = { threshold: UNRESOLVED_THRESHOLD, chosen: null, adjusted: 'no-data' as const });
  }
  let cv: ThresholdResolution['cv'] = null;
  if (preds && preds.length) {
    const r = rateAtThreshold(preds, threshold);
    cv = { folds, examples: preds.length, wrongRate: r.wrongRate, answeredRate: r.answeredRate, answeredCorrectRate: r.answeredCorrectRate };
  }
  return {
    threshold,
    digressionThreshold: engine.autoDigressionThreshold ? autoDigressionThreshold(threshold) : config.digressionThreshold,
    ambiguityMargin: engine.autoAmbiguityMargin ? AUTO_AMBIGUITY_MARGIN[engine.matcher] : config.ambiguityMargin,
    source: engine.autoThreshold ? 'auto' : 'fixed',
    targetWrongRate: engine.targetWrongRate,
    chosen,
    adjusted,
    cv,
  };
}

/** One line for logs and `baton train`: the threshold and what it gives on cross-validation. */
export function describeResolution(r: ThresholdResolution): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const parts = [`threshold ${r.threshold.toFixed(3)}`];
  if (r.source === 'auto') {
    parts[0] += ` (auto, target ≤ ${pct(r.targetWrongRate)} wrong answers`;
    if (r.adjusted === 'min') parts[0] += `; cross-validation allowed ${r.chosen!.toFixed(3)}, raised to the minimum ${AUTO_THRESHOLD_MIN}`;
    if (r.adjusted === 'infeasible') parts[0] += `; NOT reachable: no threshold gets there on cross-validation, using ${AUTO_THRESHOLD_INFEASIBLE} — run \`baton eval\` to see which intents are confused`;
    if (r.adjusted === 'no-data') parts[0] += `; too few examples to cross-validate, using ${UNRESOLVED_THRESHOLD}`;
    parts[0] += ')';
  } else parts[0] += ' (fixed in bot.yaml)';
  if (r.cv) {
    parts.push(
      `on ${r.cv.folds}-fold cross-validation of ${r.cv.examples} examples it answers ${pct(r.cv.answeredCorrectRate)} of the held-out in-scope examples correctly, ${pct(r.cv.wrongRate)} of its answers are wrong`,
    );
  }
  parts.push(`digression threshold ${r.digressionThreshold.toFixed(3)}, ambiguity margin ${r.ambiguityMargin}`);
  return parts.join('; ');
}

/**
 * Writes the resolved thresholds into `config` (the loaded bot's `config.nlu`), so the interpreter,
 * which only reads numbers, uses them. The `auto` flags stay, so retraining resolves again.
 */
export function applyThresholds(config: BotConfig['nlu'], r: ThresholdResolution): void {
  config.threshold = r.threshold;
  config.digressionThreshold = r.digressionThreshold;
  config.ambiguityMargin = r.ambiguityMargin;
}

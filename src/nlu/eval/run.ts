/**
 * Runs one matcher through train → threshold → test, measuring quality and cost.
 * The threshold comes from a validation set when one is given, otherwise from cross-validation
 * on the training data (the linear matcher's own calibration folds, or k-fold for others); it is
 * never chosen on the test data.
 */
import type { Classification, IntentMatcher, TrainingCorpus } from '../port';
import { crossValidate } from '../linear/crossval';
import { LinearIntentMatcher } from '../linear/matcher';
import { chooseThreshold, type ScoredAnswer, type ThresholdChoice } from '../linear/threshold';
import { isOutOfScope, toIntents, type LabelledExample } from './datasets';
import { computeMetrics, percentile, type EvalMetrics, type EvalPrediction } from './metrics';

export interface EvalOptions {
  train: LabelledExample[];
  test: LabelledExample[];
  /** Threshold-selection data; when absent, cross-validation on `train`. */
  val?: LabelledExample[];
  targetWrongRate: number;
  language?: string;
  /** Folds for threshold cross-validation of matchers without their own (default 3). */
  cvFolds?: number;
  /** Use this threshold instead of choosing one (source "fixed"); for callers that choose it themselves. */
  fixedThreshold?: number;
  log?: (msg: string) => void;
}

export interface MatcherEvaluation {
  matcher: string;
  version: string;
  thresholdSource: 'validation' | 'cross-validation' | 'fixed';
  /** The threshold as chosen on the validation / cross-validation predictions (with its rates there). */
  thresholdChoice: ThresholdChoice;
  /** Test figures at that threshold. */
  metrics: EvalMetrics;
  trainSeconds: number;
  /** Seconds spent on threshold selection outside train() (validation classification or CV). */
  thresholdSeconds: number;
  latencyMs: { p50: number; p99: number; mean: number };
  /** Process peak RSS (MiB) after this evaluation (cumulative over the process). */
  peakRssMiB: number;
  modelBytes: number;
  temperature?: number;
  predictions: EvalPrediction[];
}

export interface Scored {
  predicted: string | null;
  topAny: string | null;
  confidence: number;
}

/** Best non-rejection intent and its score, from any matcher's classification. */
export function scoreOf(c: Classification): Scored {
  const topAny = c.intents[0]?.intent ?? c.top?.intent ?? null;
  if (!c.top) return { predicted: null, topAny, confidence: 0 };
  if (!isOutOfScope(c.top.intent)) return { predicted: c.top.intent, topAny, confidence: c.top.score };
  const alt = c.intents.find((i) => !isOutOfScope(i.intent) && i.score > 0);
  return alt ? { predicted: alt.intent, topAny, confidence: alt.score } : { predicted: null, topAny, confidence: 0 };
}

/** Held-out answers of evaluation predictions (for chooseThreshold). */
export function answersOf(preds: EvalPrediction[]): ScoredAnswer[] {
  return preds.map((p) => ({ confidence: p.predicted ? p.confidence : 0, correct: !isOutOfScope(p.gold) && p.predicted === p.gold, outOfScope: isOutOfScope(p.gold) }));
}

/** The same predictions decided at another threshold. */
export function rethreshold(preds: EvalPrediction[], threshold: number): EvalPrediction[] {
  return preds.map((p) => ({ ...p, answered: p.predicted !== null && p.confidence >= threshold }));
}

export function corpusOf(examples: LabelledExample[], language = 'en'): TrainingCorpus {
  return { language, intents: toIntents(examples) };
}

function toAnswer(s: Scored, gold: string): ScoredAnswer {
  const outOfScope = isOutOfScope(gold);
  return { confidence: s.predicted ? s.confidence : 0, correct: !outOfScope && s.predicted === gold, outOfScope };
}

export async function evaluateMatcher(create: () => IntentMatcher, opts: EvalOptions): Promise<MatcherEvaluation> {
  const log = opts.log ?? ((): void => {});
  const language = opts.language ?? 'en';
  const corpus = corpusOf(opts.train, language);
  const matcher = create();

  log(`${matcher.name}: training on ${opts.train.length} examples…`);
  const t0 = process.hrtime.bigint();
  await matcher.train(corpus);
  const trainSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

  const t1 = process.hrtime.bigint();
  let heldOut: ScoredAnswer[];
  let thresholdSource: MatcherEvaluation['thresholdSource'];
  if (opts.fixedThreshold !== undefined) {
    thresholdSource = 'fixed';
    heldOut = [];
  } else if (opts.val && opts.val.length) {
    thresholdSource = 'validation';
    heldOut = [];
    for (const ex of opts.val) heldOut.push(toAnswer(scoreOf(await matcher.classify(ex.text)), ex.intent));
  } else {
    thresholdSource = 'cross-validation';
    const own = matcher instanceof LinearIntentMatcher ? matcher.calibrationReport : null;
    if (own && own.predictions.length) heldOut = own.predictions;
    else {
      log(`${matcher.name}: ${opts.cvFolds ?? 3}-fold cross-validation for the threshold…`);
      heldOut = await crossValidate(corpus, create, { folds: opts.cvFolds ?? 3 });
    }
  }
  const thresholdChoice =
    opts.fixedThreshold !== undefined
      ? { ...chooseThreshold([], { targetWrongRate: opts.targetWrongRate }), threshold: opts.fixedThreshold, feasible: true }
      : chooseThreshold(heldOut, { targetWrongRate: opts.targetWrongRate });
  const threshold = thresholdChoice.threshold;
  if (matcher instanceof LinearIntentMatcher) matcher.setThreshold(threshold);
  const thresholdSeconds = Number(process.hrtime.bigint() - t1) / 1e9;

  log(`${matcher.name}: classifying ${opts.test.length} test examples…`);
  const predictions: EvalPrediction[] = [];
  const times: number[] = [];
  for (const ex of opts.test) {
    const s0 = process.hrtime.bigint();
    const c = await matcher.classify(ex.text);
    times.push(Number(process.hrtime.bigint() - s0) / 1e6);
    const s = scoreOf(c);
    predictions.push({
      text: ex.text,
      gold: ex.intent,
      predicted: s.predicted,
      topAny: s.topAny,
      confidence: s.confidence,
      answered: s.predicted !== null && s.confidence >= threshold,
    });
  }
  let modelBytes = 0;
  try {
    modelBytes = Buffer.byteLength(matcher.exportModel(), 'utf8');
  } catch {
    modelBytes = 0;
  }
  return {
    matcher: matcher.name,
    version: matcher.version ?? '',
    thresholdSource,
    thresholdChoice,
    metrics: computeMetrics(predictions, threshold),
    trainSeconds,
    thresholdSeconds,
    latencyMs: { p50: percentile(times, 50), p99: percentile(times, 99), mean: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length) },
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    modelBytes,
    temperature: matcher instanceof LinearIntentMatcher ? matcher.temperature : undefined,
    predictions,
  };
}

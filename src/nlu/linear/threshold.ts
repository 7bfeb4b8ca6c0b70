/**
 * Choosing the decision threshold ("answer when confidence ≥ threshold, else hand over") for a
 * target wrong-answer rate, from held-out predictions (a validation set or cross-validation).
 */

/** One held-out prediction: the matcher's confidence in its best answer and whether that answer is right. */
export interface ScoredAnswer {
  confidence: number;
  /** True when answering would have been right (the gold intent is in scope and equals the prediction). */
  correct: boolean;
  /** True for an out-of-scope query (any answer is wrong). Only used by `oosRate` reweighting. */
  outOfScope?: boolean;
}

export interface ThresholdOptions {
  /** Largest acceptable wrong-answer rate, in [0, 1). E.g. 0.02. */
  targetWrongRate: number;
  /**
   * What the rate is relative to: 'answers' (default; wrong answers / answers given: "how often
   * an answer is wrong") or 'queries' (wrong answers / all queries).
   */
  basis?: 'answers' | 'queries';
  /**
   * Expected share of out-of-scope queries in production. When given (and the held-out set has
   * both kinds), out-of-scope predictions are reweighted to that prevalence. Default: as observed.
   */
  oosRate?: number;
}

export interface ThresholdChoice {
  /** Answer iff confidence ≥ threshold. Infinity when no threshold meets the target (never answer). */
  threshold: number;
  /** False when even the most confident answers exceed the target rate. */
  feasible: boolean;
  targetWrongRate: number;
  basis: 'answers' | 'queries';
  /** On the held-out predictions, at the chosen threshold (weighted when oosRate is given): */
  wrongRate: number;
  /** Answers given / queries. */
  answeredRate: number;
  /** Right answers / in-scope queries (in-scope = not outOfScope). */
  answeredCorrectRate: number;
  /** Number of held-out predictions used. */
  n: number;
}

/**
 * The lowest threshold (hence the most answers) whose held-out wrong-answer rate is ≤ the target.
 * Predictions with equal confidence are answered or declined together. Among thresholds meeting
 * the target, the one answering the most queries wins (ties: the higher threshold).
 */
export function chooseThreshold(preds: ScoredAnswer[], options: ThresholdOptions): ThresholdChoice {
  const target = options.targetWrongRate;
  if (!(target >= 0 && target < 1)) throw new RangeError(`targetWrongRate must be in [0, 1), got ${target}`);
  const basis = options.basis ?? 'answers';
  const items = preds.filter((p) => Number.isFinite(p.confidence));
  const n = items.length;
  // Example weights for oosRate reweighting.
  let wOos = 1;
  let wIn = 1;
  const nOos = items.filter((p) => p.outOfScope).length;
  if (options.oosRate !== undefined && nOos > 0 && nOos < n) {
    const r = Math.min(0.999, Math.max(0.001, options.oosRate));
    wOos = (r * n) / nOos;
    wIn = ((1 - r) * n) / (n - nOos);
  }
  const weight = (p: ScoredAnswer): number => (p.outOfScope ? wOos : wIn);
  const totalW = items.reduce((s, p) => s + weight(p), 0);
  const inScopeW = items.reduce((s, p) => s + (p.outOfScope ? 0 : weight(p)), 0);
  const sorted = [...items].sort((a, b) => b.confidence - a.confidence);

  let best: { threshold: number; answered: number; wrong: number; right: number } | null = null;
  let answered = 0;
  let wrong = 0;
  let right = 0;
  for (let i = 0; i < sorted.length; ) {
    const conf = sorted[i]!.confidence;
    // Take the whole group of equal confidence.
    while (i < sorted.length && sorted[i]!.confidence === conf) {
      const p = sorted[i]!;
      const w = weight(p);
      answered += w;
      if (p.correct && !p.outOfScope) right += w;
      else wrong += w;
      i++;
    }
    const denom = basis === 'answers' ? answered : totalW;
    const rate = denom > 0 ? wrong / denom : 0;
    // A tiny tolerance keeps "exactly the target" (e.g. 1 wrong in 50 at 2%) feasible despite rounding.
    if (rate <= target + 1e-12) best = { threshold: conf, answered, wrong, right };
  }
  if (!best) {
    return {
      threshold: Infinity,
      feasible: false,
      targetWrongRate: target,
      basis,
      wrongRate: 0,
      answeredRate: 0,
      answeredCorrectRate: 0,
      n,
    };
  }
  const denom = basis === 'answers' ? best.answered : totalW;
  return {
    threshold: best.threshold,
    feasible: true,
    targetWrongRate: target,
    basis,
    wrongRate: denom > 0 ? best.wrong / denom : 0,
    answeredRate: totalW > 0 ? best.answered / totalW : 0,
    answeredCorrectRate: inScopeW > 0 ? best.right / inScopeW : 0,
    n,
  };
}

/** Wrong-answer rate, answered rate and answered-correct rate of predictions at a given threshold. */
export function rateAtThreshold(
  preds: ScoredAnswer[],
  threshold: number,
  basis: 'answers' | 'queries' = 'answers',
): { wrongRate: number; answeredRate: number; answeredCorrectRate: number; answered: number; wrong: number } {
  let answered = 0;
  let wrong = 0;
  let right = 0;
  let inScope = 0;
  for (const p of preds) {
    if (!p.outOfScope) inScope++;
    if (!(p.confidence >= threshold)) continue;
    answered++;
    if (p.correct && !p.outOfScope) right++;
    else wrong++;
  }
  const denom = basis === 'answers' ? answered : preds.length;
  return {
    wrongRate: denom ? wrong / denom : 0,
    answeredRate: preds.length ? answered / preds.length : 0,
    answeredCorrectRate: inScope ? right / inScope : 0,
    answered,
    wrong,
  };
}

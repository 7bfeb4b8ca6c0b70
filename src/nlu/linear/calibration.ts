/**
 * Probability calibration and its diagnostics.
 *
 * Temperature scaling (Guo et al., 2017): p = softmax(z / T) with one scalar T > 0 fitted to
 * minimise the negative log-likelihood of held-out logits. It keeps the ranking (argmax) and fixes
 * over- (T > 1) or under-confidence (T < 1).
 */

/** Mean NLL of `labels` under softmax(logits / t); logits are row-major N × C. */
export function temperatureNll(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number, t: number): number {
  const n = labels.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const off = i * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[off + c]! / t);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[off + c]! / t - max);
    total += Math.log(sum) + max - logits[off + labels[i]!]! / t;
  }
  return n ? total / n : 0;
}

/**
 * The temperature minimising held-out NLL, searched over [0.05, 20] (golden section on log T; the
 * NLL is unimodal in T). Returns 1 when there is nothing to fit.
 */
export function fitTemperature(logits: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number {
  if (!labels.length || classes < 2) return 1;
  let lo = Math.log(0.05);
  let hi = Math.log(20);
  const f = (u: number): number => temperatureNll(logits, labels, classes, Math.exp(u));
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = f(a);
  let fb = f(b);
  for (let it = 0; it < 40; it++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = f(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = f(b);
    }
  }
  return Math.exp((lo + hi) / 2);
}

/**
 * Expected calibration error: the confidence-weighted gap |accuracy − confidence| over `bins`
 * equal-width confidence bins. `correct[i]` says whether the answer with confidence[i] was right.
 */
export function expectedCalibrationError(confidence: ArrayLike<number>, correct: ArrayLike<boolean>, bins = 15): number {
  const n = confidence.length;
  if (!n) return 0;
  const sumConf = new Float64Array(bins);
  const sumAcc = new Float64Array(bins);
  const count = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const p = Math.min(1, Math.max(0, confidence[i]!));
    const b = Math.min(bins - 1, Math.floor(p * bins));
    sumConf[b]! += p;
    sumAcc[b]! += correct[i] ? 1 : 0;
    count[b]! += 1;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]) ece += Math.abs(sumAcc[b]! - sumConf[b]!) / n;
  return ece;
}

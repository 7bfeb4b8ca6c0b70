import { expectedCalibrationError, fitTemperature, temperatureNll } from '../../../src/nlu/linear/calibration';
import { mulberry32 } from '../../../src/nlu/linear/random';

/** Synthetic classifier: true logits z, labels drawn from softmax(z), reported logits = k·z (overconfident when k > 1). */
function synthetic(n: number, classes: number, k: number, seed: number): { logits: Float64Array; labels: Int32Array } {
  const rand = mulberry32(seed);
  const logits = new Float64Array(n * classes);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: classes }, () => (rand() - 0.5) * 4);
    const max = Math.max(...z);
    const e = z.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    let u = rand() * sum;
    let y = 0;
    while (y < classes - 1 && u > e[y]!) u -= e[y++]!;
    labels[i] = y;
    z.forEach((v, c) => (logits[i * classes + c] = k * v));
  }
  return { logits, labels };
}

function confidences(logits: Float64Array, labels: Int32Array, classes: number, t: number): { conf: number[]; correct: boolean[] } {
  const conf: number[] = [];
  const correct: boolean[] = [];
  for (let i = 0; i < labels.length; i++) {
    const row = Array.from(logits.subarray(i * classes, (i + 1) * classes), (v) => v / t);
    const max = Math.max(...row);
    const e = row.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    const best = row.indexOf(max);
    conf.push(e[best]! / sum);
    correct.push(best === labels[i]);
  }
  return { conf, correct };
}

describe('temperature scaling', () => {
  const C = 5;
  const fit = synthetic(3000, C, 3, 1);
  const held = synthetic(3000, C, 3, 2);

  it('finds T > 1 for an overconfident model (close to the true factor 3)', () => {
    const t = fitTemperature(fit.logits, fit.labels, C);
    expect(t).toBeGreaterThan(2.4);
    expect(t).toBeLessThan(3.6);
  });

  it('lowers NLL and ECE on a held-out set', () => {
    const t = fitTemperature(fit.logits, fit.labels, C);
    expect(temperatureNll(held.logits, held.labels, C, t)).toBeLessThan(temperatureNll(held.logits, held.labels, C, 1));
    const before = confidences(held.logits, held.labels, C, 1);
    const after = confidences(held.logits, held.labels, C, t);
    const eceBefore = expectedCalibrationError(before.conf, before.correct);
    const eceAfter = expectedCalibrationError(after.conf, after.correct);
    expect(eceAfter).toBeLessThan(eceBefore / 2);
    // Scaling never changes the argmax.
    expect(after.correct).toEqual(before.correct);
  });

  it('finds T < 1 for an underconfident model', () => {
    const under = synthetic(2000, C, 0.4, 3);
    expect(fitTemperature(under.logits, under.labels, C)).toBeLessThan(0.6);
  });

  it('returns 1 when there is nothing to fit', () => {
    expect(fitTemperature(new Float64Array(0), new Int32Array(0), 3)).toBe(1);
  });

  it('ECE is 0 for a perfectly calibrated bin and the gap otherwise', () => {
    expect(expectedCalibrationError([0.5, 0.5], [true, false])).toBeCloseTo(0);
    expect(expectedCalibrationError([0.9, 0.9], [false, false])).toBeCloseTo(0.9);
    expect(expectedCalibrationError([], [])).toBe(0);
  });
});

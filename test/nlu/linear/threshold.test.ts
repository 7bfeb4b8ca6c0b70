import { chooseThreshold, rateAtThreshold, type ScoredAnswer } from '../../../src/nlu/linear/threshold';
import { stratifiedFolds } from '../../../src/nlu/linear/crossval';

/** 100 predictions with confidence 1.00, 0.99, …, 0.01; wrong where `wrongAt` says. */
function ladder(wrongAt: (rank: number) => boolean): ScoredAnswer[] {
  return Array.from({ length: 100 }, (_, r) => ({ confidence: (100 - r) / 100, correct: !wrongAt(r) }));
}

describe('chooseThreshold', () => {
  it('answers the largest set whose wrong-answer rate meets the target', () => {
    // Wrong answers at ranks 10, 30, 50, 70, 90.
    const preds = ladder((r) => r % 20 === 10);
    const c = chooseThreshold(preds, { targetWrongRate: 0.02 });
    // The first wrong answer (rank 10) makes any larger prefix ≥ 1/30 wrong until 50 answers, where it is 2/50 = 4%;
    // so only ranks 0..9 (confidence ≥ 0.91) can be answered at ≤ 2%.
    expect(c.feasible).toBe(true);
    expect(c.threshold).toBeCloseTo(0.91);
    expect(c.wrongRate).toBe(0);
    const at = rateAtThreshold(preds, c.threshold);
    expect(at.answered).toBe(10);
    expect(at.wrongRate).toBeLessThanOrEqual(0.02);
  });

  it('hits the target rate when errors are spread thinly', () => {
    // One wrong answer every 50: ranks 49 and 99.
    const preds = ladder((r) => r % 50 === 49);
    const c = chooseThreshold(preds, { targetWrongRate: 0.02 });
    expect(c.threshold).toBeCloseTo(0.01); // 2 wrong in 100 = exactly 2%
    expect(c.wrongRate).toBeCloseTo(0.02);
    expect(c.answeredRate).toBe(1);
    const strict = chooseThreshold(preds, { targetWrongRate: 0.01 });
    expect(strict.threshold).toBeCloseTo(0.52); // ranks 0..48, no wrong answer
    expect(strict.wrongRate).toBe(0);
  });

  it('counts out-of-scope answers as wrong and can reweight them to a production rate', () => {
    const preds: ScoredAnswer[] = [
      ...Array.from({ length: 90 }, (_, i) => ({ confidence: 0.9 - i * 0.001, correct: true })),
      ...Array.from({ length: 10 }, (_, i) => ({ confidence: 0.5 - i * 0.01, correct: false, outOfScope: true })),
    ];
    const c = chooseThreshold(preds, { targetWrongRate: 0.05 });
    expect(c.threshold).toBeGreaterThan(0.45);
    expect(c.answeredCorrectRate).toBe(1);
    // Everything answered would be 10% wrong; weighted to 1% out-of-scope it is 1%.
    const w = chooseThreshold(preds, { targetWrongRate: 0.05, oosRate: 0.01 });
    expect(w.threshold).toBeCloseTo(0.41);
  });

  it('supports wrong answers per query as the basis', () => {
    const preds = ladder((r) => r < 3); // the 3 most confident are wrong
    expect(chooseThreshold(preds, { targetWrongRate: 0.02 }).feasible).toBe(false);
    const q = chooseThreshold(preds, { targetWrongRate: 0.03, basis: 'queries' });
    expect(q.threshold).toBeCloseTo(0.01);
  });

  it('returns Infinity (never answer) when no threshold meets the target', () => {
    const c = chooseThreshold([{ confidence: 0.9, correct: false }, { confidence: 0.8, correct: true }], { targetWrongRate: 0.1 });
    expect(c.feasible).toBe(false);
    expect(c.threshold).toBe(Infinity);
    expect(rateAtThreshold([{ confidence: 1, correct: true }], c.threshold).answered).toBe(0);
  });

  it('keeps ties together', () => {
    const preds: ScoredAnswer[] = [
      { confidence: 0.9, correct: true },
      { confidence: 0.7, correct: true },
      { confidence: 0.7, correct: false },
      { confidence: 0.5, correct: true },
    ];
    expect(chooseThreshold(preds, { targetWrongRate: 0.2 }).threshold).toBe(0.9);
    expect(chooseThreshold(preds, { targetWrongRate: 0.25 }).threshold).toBe(0.5);
  });

  it('handles empty input and a zero target', () => {
    expect(chooseThreshold([], { targetWrongRate: 0.02 }).feasible).toBe(false);
    const c = chooseThreshold(ladder((r) => r === 5), { targetWrongRate: 0 });
    expect(c.threshold).toBeCloseTo(0.96);
  });

  it('rejects a target outside [0, 1)', () => {
    expect(() => chooseThreshold([], { targetWrongRate: 1 })).toThrow(RangeError);
    expect(() => chooseThreshold([], { targetWrongRate: -0.1 })).toThrow(RangeError);
  });
});

describe('stratifiedFolds', () => {
  it('spreads each label over the folds and never holds out a singleton', () => {
    const labels = [...Array(9).fill('a'), ...Array(6).fill('b'), 'c'];
    const folds = stratifiedFolds(labels, 3, 7);
    for (const l of ['a', 'b']) {
      const counts = [0, 0, 0];
      labels.forEach((x, i) => x === l && counts[folds[i]!]!++);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
    expect(folds[labels.indexOf('c')]).toBe(-1);
    expect(Array.from(stratifiedFolds(labels, 3, 7))).toEqual(Array.from(folds));
  });
});

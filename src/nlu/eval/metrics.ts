/**
 * Evaluation metrics for intent matchers, at two levels:
 *  - ranking (no threshold): is the matcher's best guess right?
 *  - decisions at a threshold: the bot answers when confidence ≥ threshold and hands over
 *    otherwise. What matters for deflection: how many questions get a right answer, and how
 *    often an answer given is wrong (an out-of-scope query that gets an answer is a wrong answer).
 */
import { OOS_INTENT } from './datasets';

export interface EvalPrediction {
  text: string;
  gold: string;
  /** Best non-rejection intent (null when the matcher had none). */
  predicted: string | null;
  /** The matcher's best class overall, rejection classes included (e.g. "oos"), or null. */
  topAny: string | null;
  confidence: number;
  /** The decision at the threshold: true = the bot answers with `predicted`. */
  answered: boolean;
}

export interface EvalMetrics {
  n: number;
  inScope: number;
  outOfScope: number;
  /** Ranking level (no threshold). Top-1 accuracy over all items; an out-of-scope item counts as right when the best class is a rejection class. */
  accuracy: number;
  /** Macro-averaged F1 over the gold classes, of the same top-1 labels (rejection classes → "oos"). */
  macroF1: number;
  /** Share of in-scope items whose best non-rejection intent is right. */
  inScopeAccuracy: number;
  /** Decisions at the threshold: */
  threshold: number;
  /** Declined out-of-scope items / out-of-scope items (NaN without any). */
  oosRecall: number;
  /** Right answers / in-scope items. */
  answeredCorrectRate: number;
  /** Wrong answers / answers given (0 when nothing was answered). */
  wrongAnswerRate: number;
  /** Wrong answers / all items. */
  wrongPerQuery: number;
  /** Answers given / all items. */
  answeredRate: number;
  answers: number;
  wrongAnswers: number;
}

const isOos = (s: string | null): boolean => s === null || s.toLowerCase() === OOS_INTENT || s === 'None';

export function computeMetrics(preds: EvalPrediction[], threshold: number): EvalMetrics {
  const n = preds.length;
  let inScope = 0;
  let inScopeRight = 0;
  let top1Right = 0;
  let oos = 0;
  let oosDeclined = 0;
  let answers = 0;
  let wrong = 0;
  let right = 0;
  const tp = new Map<string, number>();
  const fp = new Map<string, number>();
  const fn = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  const golds = new Set<string>();
  for (const p of preds) {
    const goldOos = isOos(p.gold);
    const gold = goldOos ? OOS_INTENT : p.gold;
    golds.add(gold);
    const top1 = isOos(p.topAny) ? OOS_INTENT : p.topAny!;
    if (top1 === gold) {
      top1Right++;
      inc(tp, gold);
    } else {
      inc(fp, top1);
      inc(fn, gold);
    }
    if (goldOos) {
      oos++;
      if (!p.answered) oosDeclined++;
    } else {
      inScope++;
      if (p.predicted === p.gold) inScopeRight++;
    }
    if (p.answered) {
      answers++;
      if (!goldOos && p.predicted === p.gold) right++;
      else wrong++;
    }
  }
  let f1Sum = 0;
  for (const g of golds) {
    const t = tp.get(g) ?? 0;
    const prec = t + (fp.get(g) ?? 0) ? t / (t + (fp.get(g) ?? 0)) : 0;
    const rec = t + (fn.get(g) ?? 0) ? t / (t + (fn.get(g) ?? 0)) : 0;
    f1Sum += prec + rec ? (2 * prec * rec) / (prec + rec) : 0;
  }
  return {
    n,
    inScope,
    outOfScope: oos,
    accuracy: n ? top1Right / n : 0,
    macroF1: golds.size ? f1Sum / golds.size : 0,
    inScopeAccuracy: inScope ? inScopeRight / inScope : 0,
    threshold,
    oosRecall: oos ? oosDeclined / oos : NaN,
    answeredCorrectRate: inScope ? right / inScope : 0,
    wrongAnswerRate: answers ? wrong / answers : 0,
    wrongPerQuery: n ? wrong / n : 0,
    answeredRate: n ? answers / n : 0,
    answers,
    wrongAnswers: wrong,
  };
}

/** Percentile (nearest rank) of a list of numbers. */
export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

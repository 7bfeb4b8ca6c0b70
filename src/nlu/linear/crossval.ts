/**
 * k-fold cross-validation: lets a bot that has only its training examples estimate how its
 * matcher does on unseen questions, and choose a decision threshold from those estimates.
 */
import type { IntentMatcher, TrainingCorpus } from '../port';
import { mulberry32, shuffleInPlace } from './random';
import type { ScoredAnswer } from './threshold';

/**
 * Stratified fold ids (0..k-1) for `labels`: each label's examples are shuffled (seeded) and dealt
 * round-robin, with the starting fold rotating between labels so small labels do not pile into
 * fold 0. A label with a single example gets fold -1: it is never held out (a model cannot
 * predict an intent it never saw, so holding it out measures nothing).
 */
export function stratifiedFolds(labels: ArrayLike<string | number>, k: number, seed = 1): Int32Array {
  if (!(k >= 2)) throw new RangeError(`cross-validation needs at least 2 folds, got ${k}`);
  const rand = mulberry32(seed);
  const byLabel = new Map<string, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const key = String(labels[i]);
    const list = byLabel.get(key) ?? [];
    list.push(i);
    byLabel.set(key, list);
  }
  const folds = new Int32Array(labels.length).fill(-1);
  let offset = 0;
  for (const key of [...byLabel.keys()].sort()) {
    const idx = shuffleInPlace(byLabel.get(key)!, rand);
    if (idx.length < 2) continue;
    idx.forEach((i, j) => (folds[i] = (offset + j) % k));
    offset = (offset + idx.length) % k;
  }
  return folds;
}

export interface CrossValidatedPrediction extends ScoredAnswer {
  text: string;
  gold: string;
  /** Best non-rejection intent, or null when the matcher returned none. */
  predicted: string | null;
  /** The matcher's best class including rejection classes ("oos"), or null. */
  top: string | null;
  fold: number;
}

export interface CrossValidateOptions {
  folds?: number;
  seed?: number;
  /** Intents that mean "out of scope" (default: oos in any case, and None). */
  isRejection?: (intent: string) => boolean;
  onFold?: (fold: number, folds: number) => void;
}

const defaultIsRejection = (intent: string): boolean => intent.toLowerCase() === 'oos' || intent === 'None';

/**
 * Out-of-fold predictions of any {@link IntentMatcher}: for each fold, a fresh matcher (from
 * `create`) is trained on the other folds and classifies the held-out examples. Feed the result to
 * {@link chooseThreshold} to pick a threshold without a separate validation set.
 */
export async function crossValidate(
  corpus: TrainingCorpus,
  create: () => IntentMatcher,
  options: CrossValidateOptions = {},
): Promise<CrossValidatedPrediction[]> {
  const k = options.folds ?? 5;
  const isRejection = options.isRejection ?? defaultIsRejection;
  const items: { text: string; intent: string }[] = [];
  for (const it of corpus.intents) for (const text of it.examples) items.push({ text, intent: it.intent });
  const folds = stratifiedFolds(items.map((i) => i.intent), k, options.seed ?? 1);
  const out: CrossValidatedPrediction[] = [];
  for (let f = 0; f < k; f++) {
    const trainItems = items.filter((_, i) => folds[i] !== f);
    const heldIdx = items.map((_, i) => i).filter((i) => folds[i] === f);
    if (!heldIdx.length) continue;
    const byIntent = new Map<string, string[]>();
    for (const it of trainItems) {
      const l = byIntent.get(it.intent) ?? [];
      l.push(it.text);
      byIntent.set(it.intent, l);
    }
    const matcher = create();
    await matcher.train({ language: corpus.language, intents: [...byIntent.entries()].map(([intent, examples]) => ({ intent, examples })) });
    for (const i of heldIdx) {
      const { text, intent } = items[i]!;
      const c = await matcher.classify(text);
      const predicted = c.top && !isRejection(c.top.intent) ? c.top.intent : null;
      const outOfScope = isRejection(intent);
      out.push({
        text,
        gold: intent,
        predicted,
        top: c.intents[0]?.intent ?? c.top?.intent ?? null,
        confidence: predicted ? c.top!.score : 0,
        correct: !outOfScope && predicted === intent,
        outOfScope,
        fold: f,
      });
    }
    options.onFold?.(f + 1, k);
  }
  return out;
}

/**
 * The intent-matcher port: what the rest of Baton knows about "understanding" a user message.
 *
 * Adapters (node-nlp / nlp.js today, others later) implement {@link IntentMatcher}; nothing outside
 * `src/nlu` should depend on a concrete adapter.
 */

/** One intent and the example utterances that teach it. */
export interface TrainingIntent {
  intent: string;
  examples: string[];
}

/** Everything a matcher is trained on, for one language. */
export interface TrainingCorpus {
  /** ISO 639-1 code ("en"); a region suffix ("en-GB") is tolerated and ignored by the nlp.js adapter. */
  language: string;
  intents: TrainingIntent[];
}

/** An intent with the matcher's score for it. */
export interface IntentScore {
  intent: string;
  /** In [0, 1]. Lists of scores are sorted descending. Not necessarily a calibrated probability: see the adapter. */
  score: number;
}

export interface Classification {
  /** The text as given to classify(). */
  text: string;
  language: string;
  /** Ranked intents, best first: the matcher's top N (≥ 5 when the model has that many). May include the adapter's "None" intent. */
  intents: IntentScore[];
  /** Best real intent (never "None"), or null when nothing matched at all (e.g. empty text). */
  top: IntentScore | null;
  /** Present only when the language package provides a sentiment lexicon. */
  sentiment?: { score: number; vote: 'positive' | 'neutral' | 'negative' };
}

export interface TrainProgress {
  phase: 'prepare' | 'train' | 'done';
  done: number;
  total: number;
  message?: string;
}

export interface IntentMatcher {
  readonly name: string;
  /**
   * Changes whenever the algorithm or its settings change (library version, options), so that
   * cached models trained by an older matcher are not reused. Optional; caches fall back to a default.
   */
  readonly version?: string;
  train(corpus: TrainingCorpus, opts?: { onProgress?: (p: TrainProgress) => void }): Promise<void>;
  classify(text: string): Promise<Classification>;
  /** Serialise the trained model (string, JSON) so it can be cached on disk; importModel restores it without training. */
  exportModel(): string;
  importModel(model: string): void;
}

export interface IntentMatcherFactory {
  create(language: string): IntentMatcher;
}

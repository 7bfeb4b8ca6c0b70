export type {
  Classification,
  IntentMatcher,
  IntentMatcherFactory,
  IntentScore,
  TrainingCorpus,
  TrainingIntent,
  TrainProgress,
} from './port';
export {
  NlpjsIntentMatcher,
  NlpjsIntentMatcherFactory,
  createNlpjsMatcherFactory,
  normalizeNlpjsLanguage,
} from './nlpjs';
export type { NlpjsMatcherOptions, NlpjsNeuralSettings } from './nlpjs';
export { corpusHash, loadOrTrain } from './cache';
export type { LoadOrTrainOptions, LoadOrTrainResult } from './cache';
export { BUILTIN_INTENTS, builtinIntentsFor } from './builtin-intents';

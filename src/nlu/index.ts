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
export { LinearIntentMatcher, LinearIntentMatcherFactory } from './linear';
export type { LinearMatcherOptions } from './linear';
export { OUT_OF_SCOPE_EXAMPLES, OUT_OF_SCOPE_INTENT, outOfScopeFor } from './out-of-scope';
export { DEFAULT_TARGET_WRONG_RATE, engineConfigOf, nluConfigFromFile } from './settings';
export {
  createIntentMatcher,
  describeResolution,
  heldOutPredictions,
  resolveThresholds,
  trainingCorpus,
} from './engine';
export type { HeldOutPrediction, ThresholdResolution } from './engine';
export { findOverlappingExamples, overlappingExampleProblems, DEFAULT_OVERLAP_THRESHOLD } from './overlap';
export type { ExampleRef, Overlap } from './overlap';
export { evaluateBot } from './eval/bot';
export type { BotEvaluation } from './eval/bot';

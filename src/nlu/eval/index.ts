/** Evaluation of intent matchers on labelled files (used by `baton nlu eval` and bench/nlu.ts). */
export { loadDataset, parseDataset, parseCsv, stratifiedSplit, toIntents, isOutOfScope, DatasetError, OOS_INTENT } from './datasets';
export type { Dataset, LabelledExample } from './datasets';
export { computeMetrics, percentile } from './metrics';
export type { EvalMetrics, EvalPrediction } from './metrics';
export { evaluateMatcher, scoreOf, corpusOf, answersOf, rethreshold } from './run';
export type { EvalOptions, MatcherEvaluation } from './run';

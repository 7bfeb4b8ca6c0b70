/** The linear (TF-IDF + calibrated softmax regression) intent matcher and its tools. */
export { LinearIntentMatcher, LinearIntentMatcherFactory } from './matcher';
export type { LinearMatcherOptions, CalibrationReport } from './matcher';
export { chooseThreshold, rateAtThreshold } from './threshold';
export type { ScoredAnswer, ThresholdOptions, ThresholdChoice } from './threshold';
export { crossValidate, stratifiedFolds } from './crossval';
export type { CrossValidatedPrediction, CrossValidateOptions } from './crossval';
export { fitTemperature, temperatureNll, expectedCalibrationError } from './calibration';
export { Vectorizer } from './features';
export type { FeatureOptions } from './features';
export { languageSupport, normalizeText } from './text';
export type { LanguageSupport } from './text';

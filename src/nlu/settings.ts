/**
 * The bot.yaml `nlu:` block as the engine sees it: which matcher, and how the decision thresholds
 * are resolved. See docs/nlu.md for what the numbers mean to customers.
 */
import type { BotConfig, NluEngineConfig } from '../flow/model';
import type { BotFile } from '../flow/schema';

/**
 * Default target for `threshold: auto`: at most 10% of the answers the bot gives may be wrong, as
 * measured by cross-validation on the bot's own examples. Chosen for small bots (tens of intents,
 * 10–30 examples each), which is what Baton bots are:
 *  - their held-out examples are hard: every example is a deliberately different phrasing, so
 *    cross-validation holds out the unusual ones, and intents of one bot share vocabulary. The demo
 *    bot's cross-validated top-1 accuracy is ~66–68% (BANKING77's is 92%). A 5% target there needs a
 *    threshold of ~0.95, which hands over three quarters of new phrasings, and the threshold jumps
 *    between 0.89 and 0.96 with the fold seed, because it is decided by the handful of held-out
 *    examples that are confidently wrong (overlapping content such as "cancel" vs "cancel my order").
 *    At 10% it is ~0.7–0.85 and answers ~40% of held-out phrasings correctly (docs/nlu-benchmark.md).
 *  - a wrong answer is recoverable: an article asks "Did that answer your question?" and offers a
 *    person; a flow can be cancelled. 10% means answering where the marginal answer is right about
 *    3 times in 4, i.e. a wrong answer is treated as about three times as bad as a handover.
 * Large bots (thousands of examples, cross-validated accuracy above ~85%) can afford 0.05 or 0.02.
 */
export const DEFAULT_TARGET_WRONG_RATE = 0.1;

/**
 * Bounds of an automatically chosen threshold. Below 0.5 the matcher itself says the answer is
 * more likely wrong than right, so `auto` never goes lower, even when cross-validation finds no
 * mistakes (tiny bots). When no threshold reaches the target at all, `auto` uses
 * {@link AUTO_THRESHOLD_INFEASIBLE} (and says so) rather than never answering.
 */
export const AUTO_THRESHOLD_MIN = 0.5;
export const AUTO_THRESHOLD_INFEASIBLE = 0.95;

/** Placeholders in bot.config.nlu before trainBot() resolves `auto` (the pre-calibration defaults). */
export const UNRESOLVED_THRESHOLD = 0.65;
export const UNRESOLVED_DIGRESSION_THRESHOLD = 0.8;
export const UNRESOLVED_AMBIGUITY_MARGIN = 0.1;

/**
 * `ambiguityMargin: auto`. Calibrated probabilities of competing intents add up to at most 1, so
 * two intents are only ever "close" well below certainty: with 0.3 the bot asks "Did you mean…?"
 * for splits like 0.64 / 0.36 or 0.5 / 0.3 / 0.2 (when together they reach the threshold), and
 * never overrides an answer above a threshold of 0.65 or more. node-nlp keeps its old 0.1.
 */
export const AUTO_AMBIGUITY_MARGIN = { linear: 0.3, nlpjs: 0.1 } as const;

export const DEFAULT_ENGINE: NluEngineConfig = {
  matcher: 'linear',
  autoThreshold: true,
  autoDigressionThreshold: true,
  autoAmbiguityMargin: true,
  targetWrongRate: DEFAULT_TARGET_WRONG_RATE,
  outOfScope: true,
};

/** bot.yaml's parsed `nlu:` block → the compiled bot's config.nlu (loader plumbing). */
export function nluConfigFromFile(nlu: BotFile['nlu']): BotConfig['nlu'] {
  return {
    threshold: nlu.threshold ?? UNRESOLVED_THRESHOLD,
    ambiguityMargin: nlu.ambiguityMargin ?? UNRESOLVED_AMBIGUITY_MARGIN,
    digressionThreshold: nlu.digressionThreshold ?? UNRESOLVED_DIGRESSION_THRESHOLD,
    suggestions: nlu.suggestions,
    suggestionThreshold: nlu.suggestionThreshold,
    engine: {
      matcher: nlu.matcher,
      autoThreshold: nlu.threshold === undefined,
      autoDigressionThreshold: nlu.digressionThreshold === undefined,
      autoAmbiguityMargin: nlu.ambiguityMargin === undefined,
      targetWrongRate: nlu.targetWrongRate,
      outOfScope: nlu.outOfScope,
    },
  };
}

/**
 * The engine settings of a bot. A config without them (a Bot built by hand rather than loaded
 * from bot.yaml) gets the default matcher and keeps its thresholds as they are.
 */
export function engineConfigOf(config: BotConfig['nlu']): NluEngineConfig {
  return config.engine ? { ...DEFAULT_ENGINE, ...config.engine } : { ...DEFAULT_ENGINE, autoThreshold: false, autoDigressionThreshold: false, autoAmbiguityMargin: false };
}

/** `digressionThreshold: auto`: halfway between the answer threshold and certainty (half the doubt an answer may have). */
export function autoDigressionThreshold(threshold: number): number {
  return Math.min(1, threshold + (1 - threshold) / 2);
}

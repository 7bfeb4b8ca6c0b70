/**
 * `baton eval`: how well a bot's own intent examples teach its matcher, measured by k-fold
 * cross-validation (each example is classified by a model trained without it), with the same
 * matcher, corpus and folds as training, so the recommended threshold is the one `threshold: auto`
 * gives. Pure computation; the CLI (src/cli/eval.ts) prints it and writes the reports.
 */
import * as path from 'node:path';
import type { Bot, SourcePos } from '../../flow/model';
import type { TrainProgress } from '../port';
import {
  createIntentMatcher,
  defaultFolds,
  exampleCount,
  heldOutPredictions,
  resolveThresholds,
  trainingCorpus,
  type HeldOutPrediction,
  type ThresholdResolution,
} from '../engine';
import { engineConfigOf } from '../settings';
import { OUT_OF_SCOPE_INTENT } from '../out-of-scope';
import { rateAtThreshold } from '../linear/threshold';

export interface IntentScores {
  intent: string;
  kind: 'flow' | 'article' | 'builtin' | 'out-of-scope';
  /** Where the intent's first example is written ("(built-in)" for Baton's own). */
  where: string;
  examples: number;
  /** Top-1 labels (the best class, the out-of-scope class included), no threshold. NaN when undefined (never predicted). */
  precision: number;
  recall: number;
  f1: number;
  /** At the recommended threshold: share of this intent's examples answered with it (out-of-scope: share declined). */
  answeredCorrect: number;
  /** At the recommended threshold: wrong answers that named this intent. */
  wrongAnswers: number;
}

export interface ConfusionExample {
  text: string;
  gold: string;
  predicted: string;
  confidence: number;
  /** file:line of the example. */
  where: string;
}

export interface Confusion {
  /** The pair, in name order. */
  a: string;
  b: string;
  count: number;
  /** a's examples taken for b, and b's for a. */
  aAsB: number;
  bAsA: number;
  /** Most confident mistakes first. */
  examples: ConfusionExample[];
}

export interface CurvePoint {
  threshold: number;
  /** Right answers / in-scope examples. */
  answeredCorrectRate: number;
  /** Wrong answers / answers given. */
  wrongRate: number;
  /** Answers given / all examples. */
  answeredRate: number;
}

export interface BotEvaluation {
  bot: { id: string; name: string; language: string };
  matcher: 'linear' | 'nlpjs';
  folds: number;
  examples: number;
  /** Intents of the bot (built-ins included), without the out-of-scope class. */
  intents: number;
  outOfScopeExamples: number;
  targetWrongRate: number;
  /** In-scope examples whose best answerable intent is right (no threshold). */
  accuracy: number;
  /** The threshold `auto` chooses for `targetWrongRate`, with its cross-validated rates. */
  recommended: ThresholdResolution;
  /** The bot's fixed threshold from bot.yaml (absent when it is `auto`), with its rates. */
  configured: { threshold: number; answeredCorrectRate: number; wrongRate: number; answeredRate: number } | null;
  curve: CurvePoint[];
  /** Worst first. */
  perIntent: IntentScores[];
  /** Most confused pairs first. */
  confusions: Confusion[];
  predictions: (HeldOutPrediction & { where: string })[];
  seconds: number;
}

export interface EvaluateBotOptions {
  /** Default: what training uses (5 below 2,000 examples, else 3). */
  folds?: number;
  /** Default: the bot's nlu.targetWrongRate. */
  targetWrongRate?: number;
  onProgress?: (p: TrainProgress) => void;
  /** Write example locations relative to this folder (e.g. the working directory). Default: absolute. */
  relativeTo?: string;
}

/** Cross-validates the bot's examples with its configured matcher. */
export async function evaluateBot(bot: Bot, options: EvaluateBotOptions = {}): Promise<BotEvaluation> {
  const started = Date.now();
  const config = bot.config.nlu;
  const engine = engineConfigOf(config);
  const target = options.targetWrongRate ?? engine.targetWrongRate;
  const corpus = trainingCorpus(bot, engine);
  const folds = options.folds ?? defaultFolds(exampleCount(corpus));
  const create = () => createIntentMatcher(engine, bot.language, corpus, folds);
  const matcher = create();
  const onProgress = options.onProgress;
  if (engine.matcher === 'linear') await matcher.train(corpus, onProgress ? { onProgress } : undefined);
  const preds = await heldOutPredictions(matcher, corpus, create, folds, (f, k) => onProgress?.({ phase: 'train', done: f, total: k, message: `fold ${f}/${k}` }));
  // What `threshold: auto` gives for the target, whatever bot.yaml says.
  const recommended = resolveThresholds({ ...config, engine: { ...engine, autoThreshold: true, targetWrongRate: target } }, preds, folds);
  const configured = engine.autoThreshold ? null : { threshold: config.threshold, ...pick(rateAtThreshold(preds, config.threshold)) };
  const where = exampleLocations(bot, options.relativeTo);
  const located = preds.map((p) => ({ ...p, where: where.get(key(p.gold, p.text)) ?? '' }));
  return {
    bot: { id: bot.id, name: bot.name, language: bot.language },
    matcher: engine.matcher,
    folds,
    examples: preds.length,
    intents: corpus.intents.filter((i) => i.intent !== OUT_OF_SCOPE_INTENT || bot.intents[i.intent]).length,
    outOfScopeExamples: preds.filter((p) => p.outOfScope).length,
    targetWrongRate: target,
    accuracy: ratio(preds.filter((p) => !p.outOfScope && p.correct).length, preds.filter((p) => !p.outOfScope).length),
    recommended,
    configured,
    curve: thresholdCurve(preds, recommended.threshold),
    perIntent: intentScores(bot, located, recommended.threshold, options.relativeTo),
    confusions: confusions(located),
    predictions: located,
    seconds: (Date.now() - started) / 1000,
  };
}

function pick(r: ReturnType<typeof rateAtThreshold>): { answeredCorrectRate: number; wrongRate: number; answeredRate: number } {
  return { answeredCorrectRate: r.answeredCorrectRate, wrongRate: r.wrongRate, answeredRate: r.answeredRate };
}

const ratio = (a: number, b: number): number => (b ? a / b : NaN);
const key = (intent: string, text: string): string => `${intent}\u0000${text.trim()}`;

function posText(pos: SourcePos | undefined, relativeTo: string | undefined): string {
  if (!pos) return '';
  return `${relativeTo ? path.relative(relativeTo, pos.file) || pos.file : pos.file}:${pos.line}`;
}

/** file:line of every example of the bot, by intent and text (paths relative to `relativeTo` when given). */
export function exampleLocations(bot: Bot, relativeTo?: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of Object.values(bot.flows)) f.examples.forEach((ex, i) => m.set(key(f.intent, ex), posText(f.examplePos?.[i] ?? f.pos, relativeTo)));
  for (const a of Object.values(bot.articles)) a.questions.forEach((q, i) => m.set(key(a.intent, q), posText(a.questionPos?.[i] ?? a.pos, relativeTo)));
  return m;
}

function kindOf(bot: Bot, intent: string): IntentScores['kind'] {
  const t = bot.intents[intent];
  if (t?.kind === 'flow') return 'flow';
  if (t?.kind === 'article') return 'article';
  if (intent.startsWith('builtin.')) return 'builtin';
  return 'out-of-scope';
}

/** Coverage and wrong-answer rate at thresholds 0, 0.01, …, 1 (and at `extra`). */
export function thresholdCurve(preds: HeldOutPrediction[], extra?: number): CurvePoint[] {
  const ts = Array.from({ length: 101 }, (_, i) => i / 100);
  if (extra !== undefined && Number.isFinite(extra) && !ts.includes(extra)) ts.push(extra);
  ts.sort((a, b) => a - b);
  return ts.map((threshold) => ({ threshold, ...pick(rateAtThreshold(preds, threshold)) }));
}

function intentScores(bot: Bot, preds: (HeldOutPrediction & { where: string })[], threshold: number, relativeTo?: string): IntentScores[] {
  const names = [...new Set(preds.map((p) => p.gold))];
  // Where each intent's first example is written.
  const firstWhere = new Map<string, string>();
  for (const f of Object.values(bot.flows)) if (f.examples.length) firstWhere.set(f.intent, posText(f.examplePos?.[0] ?? f.pos, relativeTo));
  for (const a of Object.values(bot.articles)) if (a.questions.length) firstWhere.set(a.intent, posText(a.questionPos?.[0] ?? a.pos, relativeTo));
  const out: IntentScores[] = [];
  for (const intent of names) {
    const gold = preds.filter((p) => p.gold === intent);
    const predictedAs = preds.filter((p) => p.top === intent);
    const tp = gold.filter((p) => p.top === intent).length;
    const precision = ratio(tp, predictedAs.length);
    const recall = ratio(tp, gold.length);
    // Never predicted (precision undefined) means nothing found either: F1 0.
    const f1 = precision > 0 && recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    const answered = (p: HeldOutPrediction): boolean => p.predicted !== null && p.confidence >= threshold;
    const isOos = gold[0]?.outOfScope === true;
    out.push({
      intent,
      kind: kindOf(bot, intent),
      where: isOos ? '(Baton out-of-scope list)' : (firstWhere.get(intent) ?? (intent.startsWith('builtin.') ? '(built-in)' : '')),
      examples: gold.length,
      precision,
      recall,
      f1,
      answeredCorrect: ratio(isOos ? gold.filter((p) => !answered(p)).length : gold.filter((p) => answered(p) && p.correct).length, gold.length),
      wrongAnswers: preds.filter((p) => answered(p) && p.predicted === intent && !p.correct).length,
    });
  }
  const num = (x: number): number => (Number.isNaN(x) ? -1 : x);
  return out.sort((a, b) => num(a.f1) - num(b.f1) || num(a.recall) - num(b.recall) || a.intent.localeCompare(b.intent));
}

function confusions(preds: (HeldOutPrediction & { where: string })[]): Confusion[] {
  const pairs = new Map<string, Confusion>();
  for (const p of preds) {
    if (!p.top || p.top === p.gold) continue;
    const [a, b] = [p.gold, p.top].sort((x, y) => x.localeCompare(y)) as [string, string];
    const k = `${a}\u0000${b}`;
    const c = pairs.get(k) ?? { a, b, count: 0, aAsB: 0, bAsA: 0, examples: [] };
    c.count++;
    if (p.gold === a) c.aAsB++;
    else c.bAsA++;
    c.examples.push({ text: p.text, gold: p.gold, predicted: p.top, confidence: p.top === p.predicted ? p.confidence : NaN, where: p.where });
    pairs.set(k, c);
  }
  const conf = (x: number): number => (Number.isNaN(x) ? -1 : x);
  for (const c of pairs.values()) c.examples.sort((x, y) => conf(y.confidence) - conf(x.confidence) || x.text.localeCompare(y.text));
  return [...pairs.values()].sort((x, y) => y.count - x.count || x.a.localeCompare(y.a) || x.b.localeCompare(y.b));
}

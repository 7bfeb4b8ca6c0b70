/**
 * `baton eval <bot-dir>`: k-fold cross-validation of a bot's own intent examples (flow triggers,
 * article questions, built-ins, and the generic out-of-scope class when the bot uses it), with the
 * matcher, corpus and folds that training uses. Prints per-intent precision/recall/F1 (worst
 * first), the most confused intent pairs with examples, and the threshold for the bot's target
 * wrong-answer rate with the coverage and wrong-answer rate it gives; writes report.html
 * (self-contained, inline SVG) and report.json to --out (default <bot-dir>/.cache/eval).
 *
 * Exit codes: 0 done (whatever the scores); 1 the bot does not load or the report cannot be
 * written; 2 bad command line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadBot } from '../flow/loader';
import { formatProblem } from '../flow/problems';
import { evaluateBot, type BotEvaluation } from '../nlu/eval/bot';
import { renderEvalHtml } from '../nlu/eval/report-html';
import { AUTO_THRESHOLD_INFEASIBLE, AUTO_THRESHOLD_MIN, UNRESOLVED_THRESHOLD } from '../nlu/settings';

export const EVAL_USAGE = `Usage: baton eval <bot-dir> [options]

Cross-validates the bot's intent examples: each example is classified by a model trained
without it. Prints the intents that are recognised worst, the pairs of intents that get
confused (with the examples), and the threshold for the bot's target wrong-answer rate.

Options:
  --out DIR                  where to write report.html and report.json
                             (default: <bot-dir>/.cache/eval)
  --folds K                  cross-validation folds, 2–20 (default: as training, 5 for bots
                             under 2,000 examples)
  --target-wrong-rate R      acceptable share of wrong answers, 0 < R < 1 (default: the bot's
                             nlu.targetWrongRate)
  --top N                    rows of the printed tables (default 10; the report has them all)
  --json                     print the report JSON instead of the summary`;

interface EvalFlags {
  botDir: string;
  out?: string;
  folds?: number;
  targetWrongRate?: number;
  top: number;
  json: boolean;
}

class UsageError extends Error {}

function parseFlags(argv: string[]): EvalFlags | 'help' {
  const values: Record<string, string> = {};
  const positional: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') return 'help';
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const k = a.slice(2, eq > 0 ? eq : undefined);
    if (k === 'json') {
      json = true;
      continue;
    }
    if (!['out', 'folds', 'target-wrong-rate', 'top'].includes(k)) throw new UsageError(`unknown option --${k}`);
    const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new UsageError(`--${k} needs a value`);
    values[k] = v;
  }
  if (positional.length !== 1) throw new UsageError(positional.length ? `one bot folder, please (got ${positional.join(', ')})` : 'which bot? Pass its folder, e.g. `baton eval bots/acme`');
  const flags: EvalFlags = { botDir: positional[0]!, top: 10, json };
  if (values.out !== undefined) flags.out = values.out;
  if (values.folds !== undefined) {
    const k = Number(values.folds);
    if (!Number.isInteger(k) || k < 2 || k > 20) throw new UsageError(`--folds must be an integer from 2 to 20; got "${values.folds}"`);
    flags.folds = k;
  }
  if (values['target-wrong-rate'] !== undefined) {
    const r = Number(values['target-wrong-rate']);
    if (!(r > 0 && r < 1)) throw new UsageError(`--target-wrong-rate must be a number between 0 and 1, e.g. 0.1 for 10%; got "${values['target-wrong-rate']}"`);
    flags.targetWrongRate = r;
  }
  if (values.top !== undefined) {
    const n = Number(values.top);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--top must be a positive integer; got "${values.top}"`);
    flags.top = n;
  }
  return flags;
}

const pct = (x: number, d = 1): string => (Number.isFinite(x) ? `${(100 * x).toFixed(d)}%` : '—');

function table(header: string[], rows: string[][], right: number[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (right.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].map((l) => '  ' + l).join('\n');
}

/** The printed summary. */
export function formatEvaluation(e: BotEvaluation, top = 10): string {
  const rec = e.recommended;
  const lines: string[] = [];
  lines.push(
    `${e.bot.name} (${e.bot.id}): ${e.matcher} matcher, ${e.folds}-fold cross-validation of ${e.examples} examples ` +
      `(${e.intents} intents${e.outOfScopeExamples ? ` + ${e.outOfScopeExamples} generic out-of-scope examples` : ''}) in ${e.seconds.toFixed(1)} s`,
  );
  lines.push(`top-1 accuracy on in-scope examples: ${pct(e.accuracy)}`);
  lines.push('');
  let thr = `recommended threshold for ≤ ${pct(e.targetWrongRate)} wrong answers: ${rec.threshold.toFixed(3)}`;
  if (rec.adjusted === 'min') thr += ` (cross-validation allows ${rec.chosen!.toFixed(3)}; auto never goes below ${AUTO_THRESHOLD_MIN})`;
  if (rec.adjusted === 'infeasible') thr += ` (NO threshold reaches the target; auto uses ${AUTO_THRESHOLD_INFEASIBLE}: fix the confusions below)`;
  if (rec.adjusted === 'no-data') thr += ` (too few examples to cross-validate; auto uses ${UNRESOLVED_THRESHOLD}: give every intent at least 2 examples)`;
  lines.push(thr);
  if (rec.cv) {
    lines.push(
      `  it answers ${pct(rec.cv.answeredCorrectRate)} of the in-scope examples correctly; ${pct(rec.cv.wrongRate)} of its answers are wrong; it answers ${pct(rec.cv.answeredRate)} of all examples`,
    );
  }
  if (e.configured) {
    lines.push(
      `bot.yaml fixes the threshold at ${e.configured.threshold}: ${pct(e.configured.answeredCorrectRate)} answered correctly, ${pct(e.configured.wrongRate)} of answers wrong (use \`threshold: auto\` for the recommended one)`,
    );
  }
  lines.push('');
  lines.push(`Intents, worst first (top-1 labels, no threshold; "answered ✓" at the recommended threshold):`);
  const worst = e.perIntent.slice(0, top);
  lines.push(
    table(
      ['intent', 'examples', 'precision', 'recall', 'F1', 'answered ✓', 'wrong', 'where'],
      worst.map((i) => [i.intent, String(i.examples), pct(i.precision, 0), pct(i.recall, 0), pct(i.f1, 0), pct(i.answeredCorrect, 0), String(i.wrongAnswers), i.where]),
      [1, 2, 3, 4, 5, 6],
    ),
  );
  if (e.perIntent.length > top) lines.push(`  … ${e.perIntent.length - top} more in the report`);
  lines.push('');
  if (!e.confusions.length) lines.push('No intents were confused.');
  else {
    lines.push('Intents most often confused:');
    for (const c of e.confusions.slice(0, top)) {
      lines.push(`  ${c.a} ↔ ${c.b}: ${c.count} (${c.aAsB} taken for ${c.b}, ${c.bAsA} for ${c.a})`);
      for (const x of c.examples.slice(0, 3)) {
        const conf = Number.isFinite(x.confidence) ? `, ${pct(x.confidence, 0)}` : '';
        lines.push(`      "${x.text}" (${x.gold} → ${x.predicted}${conf})${x.where ? `  ${x.where}` : ''}`);
      }
    }
    if (e.confusions.length > top) lines.push(`  … ${e.confusions.length - top} more pairs in the report`);
  }
  return lines.join('\n');
}

/** The JSON report: everything, with non-finite numbers as null. */
export function evaluationJson(e: BotEvaluation): string {
  return JSON.stringify(e, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
}

export async function evalCommand(argv: string[]): Promise<number> {
  const out = (s: string): void => void process.stdout.write(s + '\n');
  const err = (s: string): void => void process.stderr.write(s + '\n');
  let flags: EvalFlags | 'help';
  try {
    flags = parseFlags(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`baton eval: ${e.message}\n\n${EVAL_USAGE}`);
      return 2;
    }
    throw e;
  }
  if (flags === 'help') {
    out(EVAL_USAGE);
    return 0;
  }
  const { bot, problems } = loadBot(flags.botDir);
  if (!bot) {
    for (const p of problems.filter((x) => x.severity === 'error')) err(formatProblem(p, process.cwd()));
    err('baton eval: the bot does not load; fix the problems above (`baton validate` shows them all).');
    return 1;
  }
  const tty = process.stderr.isTTY;
  const evaluation = await evaluateBot(bot, {
    folds: flags.folds,
    targetWrongRate: flags.targetWrongRate,
    relativeTo: process.cwd(),
    onProgress: tty
      ? (p) => {
          if (p.phase === 'train') process.stderr.write(`\rcross-validating… ${p.message ?? ''}`.padEnd(60));
        }
      : undefined,
  });
  if (tty) process.stderr.write('\r'.padEnd(60) + '\r');
  const dir = path.resolve(flags.out ?? path.join(bot.dir, '.cache', 'eval'));
  const json = evaluationJson(evaluation);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'report.json'), json + '\n', 'utf8');
    fs.writeFileSync(path.join(dir, 'report.html'), renderEvalHtml(evaluation), 'utf8');
  } catch (e) {
    err(`baton eval: cannot write the report to ${dir} (${(e as Error).message})`);
    return 1;
  }
  const rel = path.relative(process.cwd(), dir) || '.';
  if (flags.json) out(json);
  else {
    out(formatEvaluation(evaluation, flags.top));
    out(`\nReport: ${path.join(rel, 'report.html')} (and report.json)`);
  }
  if (flags.json) err(`report written to ${path.join(rel, 'report.html')} and report.json`);
  return 0;
}

/**
 * The `baton` command.
 *
 *   baton validate <bot-dir>      check flows, articles and tests; print every problem
 *   baton train <bot-dir>         train and cache the NLU model
 *   baton chat <bot-dir>          talk to the bot in the terminal (reads lines from stdin when piped)
 *   baton test <bot-dir>          run the bot's conversation tests
 *   baton eval <bot-dir>          cross-validate the bot's intent examples (report.html, report.json)
 *   baton serve <bot-dir>         serve the bot over HTTP
 */
import * as path from 'path';
import * as readline from 'readline';
import { loadBot } from '../flow/loader';
import { formatProblem, hasErrors, BotValidationError, type Problem } from '../flow/problems';
import { validateActions } from '../flow/validate';
import { loadActionsModule } from '../conversation/actions';
import { createBaton, trainBot } from '../main';
import { renderForTerminal } from './render';
import { loadConversationTests, runConversationTest, type TestResult } from '../testing/conversation-tests';
import { jsonLogger, silentLogger } from '../util/logger';
import type { OutButton } from '../flow/interpreter';
import { nluCommand } from './nlu';
import { evalCommand } from './eval';
import { describeResolution } from '../nlu/engine';
import { serve } from '../http/serve';

const USAGE = `Usage: baton <command> <bot-dir> [options]

Commands:
  validate <bot-dir> [--json]     check bot.yaml, flows, knowledge and tests; prints every problem
  train <bot-dir>                 train the intent model (cached by content hash)
  chat <bot-dir> [--db FILE]      talk to the bot; with piped stdin, one customer message per line
  test <bot-dir> [--filter TEXT]  run the bot's conversation tests (bots/<id>/tests/*.yaml)
  serve [bot-dir] [--port N] [--db FILE] [--workers N|auto]
                                  serve the bot over HTTP + WebSocket (default bot $BATON_BOT or
                                  bots/acme, port $PORT or 3978, db $BATON_DB or data/baton.sqlite,
                                  workers $BATON_WORKERS or 1: processes sharing the port)
  eval <bot-dir> [--out DIR] [--folds K] [--target-wrong-rate R] [--json]
                                  cross-validate the bot's intent examples: per-intent scores,
                                  confused intents, the threshold for the target wrong-answer rate;
                                  writes report.html + report.json (default <bot-dir>/.cache/eval)
  nlu eval --train FILE --test FILE [--val FILE] [--target-wrong-rate 0.02] [--baseline node-nlp]
           [--predictions OUT.jsonl] [--json]
                                  benchmark the intent matcher on a labelled data set

Examples:
  npx baton validate bots/acme
  printf 'where is my order\\nAB-123456\\n' | npx baton chat bots/acme`;

interface Args {
  cmd: string;
  botDir: string;
  flags: Record<string, string | boolean>;
}

function parseArgs(argv: string[]): Args | string {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') return USAGE;
  const flags: Record<string, string | boolean> = {};
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2);
      if (v !== undefined) flags[k] = v;
      else if (rest[i + 1] !== undefined && !rest[i + 1].startsWith('--') && ['db', 'port', 'filter', 'workers'].includes(k)) flags[k] = rest[++i];
      else flags[k] = true;
    } else positional.push(a);
  }
  return { cmd, botDir: positional[0] ?? '', flags };
}

const out = (s: string) => process.stdout.write(s + '\n');
const err = (s: string) => process.stderr.write(s + '\n');

function printProblems(problems: Problem[]) {
  for (const p of problems) out(formatProblem(p, process.cwd()));
}

export async function validateCommand(botDir: string, json: boolean): Promise<number> {
  const { bot, problems } = loadBot(botDir);
  if (bot) {
    try {
      validateActions(bot, Object.keys(loadActionsModule(bot.actionsModule)), problems);
    } catch (e) {
      problems.push({ severity: 'error', code: 'actions_load_failed', message: `the actions module failed to load: ${(e as Error).message}`, hint: 'fix the error in the module; it must load without side effects', file: bot.actionsModule ?? botDir, line: 1, col: 1 });
    }
    loadConversationTests(bot.testsDir, problems);
  }
  if (json) out(JSON.stringify({ ok: !hasErrors(problems), problems }, null, 2));
  else {
    printProblems(problems);
    const errors = problems.filter((p) => p.severity === 'error').length;
    const warnings = problems.length - errors;
    if (bot && !errors)
      err(`✓ ${bot.name}: ${Object.keys(bot.flows).length} flows, ${Object.keys(bot.articles).length} articles — valid${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}`);
    else err(`✗ ${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings > 1 ? 's' : ''}` : ''}`);
  }
  return hasErrors(problems) ? 1 : 0;
}

async function trainCommand(botDir: string): Promise<number> {
  const { bot, problems } = loadBot(botDir);
  if (!bot) {
    printProblems(problems);
    return 1;
  }
  const tty = process.stderr.isTTY;
  const started = Date.now();
  const r = await trainBot(bot, {
    onProgress: (p) => {
      if (!tty) return;
      const width = 30;
      const frac = p.total ? Math.min(1, p.done / p.total) : p.phase === 'done' ? 1 : 0;
      const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
      process.stderr.write(`\r${p.phase.padEnd(8)} ${bar} ${String(Math.round(frac * 100)).padStart(3)}% ${p.message ?? ''}`.padEnd(80));
      if (p.phase === 'done') process.stderr.write('\n');
    },
  });
  const intents = new Set([...Object.keys(bot.intents)]).size;
  out(
    r.fromCache
      ? `model for ${bot.id} is up to date (${path.relative(process.cwd(), r.file)}), loaded in ${Date.now() - started} ms`
      : `trained ${bot.id}: ${intents} intents in ${(r.trainMs / 1000).toFixed(1)} s → ${path.relative(process.cwd(), r.file)}`,
  );
  if (r.languages) for (const [l, x] of Object.entries(r.languages)) out(`${x.matcher.name} (${l}): ${describeResolution(x.thresholds)}`);
  else out(`${r.matcher.name}: ${describeResolution(r.thresholds)}`);
  return 0;
}

async function chatCommand(botDir: string, flags: Args['flags']): Promise<number> {
  const tty = Boolean(process.stdin.isTTY);
  const color = Boolean(process.stdout.isTTY);
  if (tty) err('Loading the bot…');
  const baton = await createBaton({
    botDir,
    store: typeof flags.db === 'string' ? { sqlite: flags.db } : 'memory',
    logger: jsonLogger({ level: 'warn' }),
  });
  const prefix = color ? '\x1b[36mbot>\x1b[0m ' : 'bot> ';
  let options: OutButton[] = [];
  const show = (replies: import('../flow/interpreter').OutMessage[]) => {
    options = [];
    for (const m of replies) {
      const r = renderForTerminal(m, color);
      const offset = options.length;
      options.push(...r.options);
      const text = offset ? r.text.replace(/^(\s+)(\d+)\)/gm, (_, s: string, n: string) => `${s}${Number(n) + offset})`) : r.text;
      out(prefix + text.split('\n').join('\n     '));
    }
  };
  const { conversationId, replies } = await baton.service.create({ channel: 'terminal' });
  show(replies);
  const rl = readline.createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty });
  if (tty) {
    rl.setPrompt(color ? '\x1b[33myou>\x1b[0m ' : 'you> ');
    rl.prompt();
  }
  for await (const line of rl) {
    const text = line.trim();
    if (!text) {
      if (tty) rl.prompt();
      continue;
    }
    if (tty && (text === '/quit' || text === '/exit')) break;
    if (!tty) out(`you> ${text}`);
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    const chosen = Number.isInteger(n) && n >= 1 && n <= options.length ? options[n - 1] : undefined;
    const res = await baton.service.send(conversationId, chosen ? { text: chosen.title, payload: chosen.payload } : { text });
    show(res.replies);
    if (res.handoff) out(color ? `\x1b[2m[handed off to a person: queue ${res.handoff.queue}, reason ${res.handoff.reason}]\x1b[0m` : `[handed off to a person: queue ${res.handoff.queue}, reason ${res.handoff.reason}]`);
    if (tty) rl.prompt();
  }
  rl.close();
  await baton.close();
  return 0;
}

export function formatTestResult(r: TestResult, color: boolean): string {
  const green = (s: string) => (color ? `\x1b[32m${s}\x1b[0m` : s);
  const red = (s: string) => (color ? `\x1b[31m${s}\x1b[0m` : s);
  const file = path.relative(process.cwd(), r.test.file);
  if (r.passed) return `${green('✓')} ${r.test.suite} › ${r.test.name} (${r.ms} ms)`;
  const lines = [`${red('✗')} ${r.test.suite} › ${r.test.name}`];
  for (const f of r.failures) {
    lines.push(`    ${file}:${f.line}  ${f.message}`);
    if (f.expected) lines.push(`      ${green('- expected:')} ${f.expected}`);
    if (f.actual) lines.push(`      ${red('+ actual:')}   ${f.actual.split('\n').join('\n                  ')}`);
  }
  return lines.join('\n');
}

async function testCommand(botDir: string, flags: Args['flags']): Promise<number> {
  const color = Boolean(process.stdout.isTTY);
  const { bot, problems } = loadBot(botDir);
  if (!bot) {
    printProblems(problems);
    return 1;
  }
  const testProblems: Problem[] = [];
  let tests = loadConversationTests(bot.testsDir, testProblems);
  if (hasErrors(testProblems)) {
    printProblems(testProblems);
    return 1;
  }
  if (typeof flags.filter === 'string') tests = tests.filter((t) => `${t.suite} ${t.name}`.toLowerCase().includes(String(flags.filter).toLowerCase()));
  if (!tests.length) {
    err(`no conversation tests found in ${path.relative(process.cwd(), bot.testsDir)}`);
    return 1;
  }
  const trained = await trainBot(bot, { logger: silentLogger });
  const actions = loadActionsModule(bot.actionsModule);
  let failed = 0;
  for (const t of tests) {
    const r = await runConversationTest(t, { bot, matcher: trained.matcher, actions });
    if (!r.passed) failed++;
    out(formatTestResult(r, color));
  }
  out(`\n${tests.length - failed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

async function serveCommand(botDir: string, flags: Args['flags']): Promise<number> {
  // Runs until SIGTERM/SIGINT (graceful shutdown); the bot defaults to $BATON_BOT, then bots/acme.
  // `--workers` without a value is passed on as it is, so the configuration check says what it wants.
  const workers = flags.workers === undefined ? undefined : String(flags.workers);
  return serve({ botDir: botDir || undefined, port: typeof flags.port === 'string' ? flags.port : undefined, db: typeof flags.db === 'string' ? flags.db : undefined, workers });
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'nlu') {
    return nluCommand(argv.slice(1));
  }
  const a = parseArgs(argv);
  if (typeof a === 'string') {
    out(a);
    return argv.length ? 0 : 2;
  }
  if (!a.botDir && a.cmd !== 'serve') {
    err(`baton ${a.cmd}: which bot? Pass its folder, e.g. \`baton ${a.cmd} bots/acme\`\n\n${USAGE}`);
    return 2;
  }
  try {
    switch (a.cmd) {
      case 'validate':
        return await validateCommand(a.botDir, a.flags.json === true);
      case 'train':
        return await trainCommand(a.botDir);
      case 'chat':
        return await chatCommand(a.botDir, a.flags);
      case 'test':
        return await testCommand(a.botDir, a.flags);
      case 'serve':
        return await serveCommand(a.botDir, a.flags);
      case 'eval':
        return await evalCommand(argv.slice(1));
      default:
        err(`baton: unknown command "${a.cmd}"\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof BotValidationError) {
      printProblems(e.problems.filter((p) => p.severity === 'error'));
      err(`✗ ${bot_errors(e)}: fix the problems above and run again`);
      return 1;
    }
    throw e;
  }
}

function bot_errors(e: BotValidationError): string {
  const n = e.problems.filter((p) => p.severity === 'error').length;
  return `the bot has ${n} error${n === 1 ? '' : 's'}`;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      err(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exitCode = 2;
    },
  );
}

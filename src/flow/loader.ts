/**
 * Load a bot folder: bot.yaml, its flows and its knowledge articles.
 * Returns the compiled bot (when there are no errors) and every problem found.
 */
import * as fs from 'fs';
import * as path from 'path';
import { botFileSchema } from './schema';
import type { Bot, Flow, IntentTarget } from './model';
import { BUILTIN_NAMES } from './model';
import { BotValidationError, hasErrors, sortProblems, type Problem } from './problems';
import { keyPosAt, parseYaml, posAt } from './yaml';
import { zodProblems } from './zod-problems';
import { closestName, compileFlow } from './compile';
import { defaultMessagesFor, MESSAGE_KEYS, normalizeMessages } from './messages';
import { BATON_LANGUAGES, languageName, languagePackage, languagePackageInstalled, SUPPORTED_LANGUAGES, uiWords, type LocaleContext } from './i18n';
import { loadArticles } from '../knowledge/loader';
import { validateBot } from './validate';
import { nluConfigFromFile } from '../nlu/settings';

export const BOT_FILE = 'bot.yaml';

export interface LoadResult {
  bot: Bot | null;
  problems: Problem[];
}

function readText(file: string, problems: Problem[]): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    problems.push({ severity: 'error', code: 'unreadable_file', message: `cannot read file: ${(e as Error).message}`, file, line: 1, col: 1 });
    return null;
  }
}

export function loadBot(botDirInput: string): LoadResult {
  const problems: Problem[] = [];
  const botDir = path.resolve(botDirInput);
  let botFile = path.join(botDir, BOT_FILE);
  if (!fs.existsSync(botFile) && fs.existsSync(path.join(botDir, 'bot.yml'))) botFile = path.join(botDir, 'bot.yml');
  if (!fs.existsSync(botFile)) {
    problems.push({
      severity: 'error',
      code: 'bot_file_missing',
      message: `no ${BOT_FILE} in ${botDir}`,
      hint: 'pass the folder of a bot (e.g. bots/acme) or create bot.yaml there; see docs/flows.md',
      file: botFile,
      line: 1,
      col: 1,
    });
    return { bot: null, problems };
  }
  const text = readText(botFile, problems);
  if (text === null) return { bot: null, problems };
  const y = parseYaml(botFile, text, problems);
  if (!y.doc) return { bot: null, problems };
  let parsed = botFileSchema.safeParse(y.data ?? {});
  if (!parsed.success) {
    problems.push(...zodProblems(y, parsed.error));
    // Keep going without the settings that are wrong, so the flows and articles are checked too
    // and the author sees every problem at once (the bot is not loaded either way).
    const raw: Record<string, unknown> = y.data && typeof y.data === 'object' && !Array.isArray(y.data) ? { ...(y.data as Record<string, unknown>) } : {};
    for (const issue of parsed.error.issues) {
      if (issue.path.length) delete raw[String(issue.path[0])];
      else if (issue.code === 'unrecognized_keys') for (const k of issue.keys) delete raw[k];
    }
    parsed = botFileSchema.safeParse({ ...raw, name: typeof raw.name === 'string' && raw.name ? raw.name : path.basename(botDir) });
    if (!parsed.success) return { bot: null, problems: sortProblems(problems) };
  }
  const cfg = parsed.data;
  const languages = botLanguages(cfg, y, botFile, problems);
  const lc: LocaleContext = { languages, y, problems };
  const id = cfg.id ?? path.basename(botDir);
  const root = path.resolve(botDir, '..', '..');
  const flowsDir = cfg.flows ? path.resolve(botDir, cfg.flows) : path.join(root, 'flows', id);
  const knowledgeDir = cfg.knowledge ? path.resolve(botDir, cfg.knowledge) : path.join(root, 'knowledge', id);
  const testsDir = cfg.tests ? path.resolve(botDir, cfg.tests) : path.join(botDir, 'tests');
  let actionsModule: string | undefined;
  if (cfg.actions) {
    actionsModule = path.resolve(botDir, cfg.actions);
    if (!fs.existsSync(actionsModule)) {
      const pos = posAt(y, ['actions']);
      problems.push({
        severity: 'error',
        code: 'actions_missing',
        message: `actions module ${cfg.actions} does not exist`,
        hint: 'give the path of a .ts or .js file relative to bot.yaml',
        file: botFile,
        line: pos.line,
        col: pos.col,
      });
      actionsModule = undefined;
    }
  }
  for (const key of Object.keys(cfg.messages ?? {})) {
    if (!MESSAGE_KEYS.includes(key)) {
      const pos = keyPosAt(y, ['messages'], key);
      problems.push({
        severity: 'error',
        code: 'unknown_message',
        message: `"${key}" is not a bot message`,
        hint: closestName(key, MESSAGE_KEYS) ? `did you mean "${closestName(key, MESSAGE_KEYS)}"?` : `known messages: ${MESSAGE_KEYS.join(', ')}`,
        file: botFile,
        line: pos.line,
        col: pos.col,
      });
    }
  }
  if (!fs.existsSync(flowsDir)) {
    const pos = posAt(y, cfg.flows ? ['flows'] : []);
    problems.push({
      severity: 'error',
      code: 'flows_dir_missing',
      message: `flows folder ${path.relative(process.cwd(), flowsDir) || flowsDir} does not exist`,
      hint: `create it, or set "flows:" in ${BOT_FILE} to the folder that holds this bot's flows`,
      file: botFile,
      line: pos.line,
      col: pos.col,
    });
  }

  // Flows
  const flows: Record<string, Flow> = {};
  const flowFiles = fs.existsSync(flowsDir)
    ? fs
        .readdirSync(flowsDir)
        .filter((f) => /\.ya?ml$/i.test(f))
        .sort()
    : [];
  for (const f of flowFiles) {
    const file = path.join(flowsDir, f);
    const t = readText(file, problems);
    if (t === null) continue;
    const fy = parseYaml(file, t, problems);
    if (!fy.doc) continue;
    const flow = compileFlow({ y: fy, flowId: f.replace(/\.ya?ml$/i, ''), problems, languages }, fy.data, f.replace(/\.ya?ml$/i, ''));
    if (!flow) continue;
    if (flows[flow.id]) {
      problems.push({
        severity: 'error',
        code: 'duplicate_flow_id',
        message: `flow id "${flow.id}" is also used by ${path.basename(flows[flow.id].file)}`,
        hint: 'flow ids must be unique within a bot; rename one (the id defaults to the file name)',
        file,
        line: flow.pos.line,
        col: flow.pos.col,
        flow: flow.id,
      });
      continue;
    }
    flows[flow.id] = flow;
  }

  // Knowledge
  const articleList = loadArticles(knowledgeDir, problems, { askFeedback: cfg.answers.askFeedback, languages });
  const articles: Bot['articles'] = {};
  for (const a of articleList) {
    if (articles[a.id]) {
      problems.push({
        severity: 'error',
        code: 'duplicate_article_id',
        message: `article id "${a.id}" is also used by ${path.basename(articles[a.id].file)}`,
        hint: 'article ids must be unique; rename one (the id defaults to the file name)',
        file: a.file,
        line: a.pos.line,
        col: a.pos.col,
      });
      continue;
    }
    articles[a.id] = a;
  }

  // Intents, payloads, keywords
  const intents: Record<string, IntentTarget> = {};
  const titles: Record<string, string> = {};
  const localTitles: Record<string, Record<string, string>> = Object.fromEntries(languages.slice(1).map((l) => [l, {}]));
  for (const name of BUILTIN_NAMES) {
    intents[`builtin.${name}`] = { kind: 'builtin', name };
    titles[`builtin.${name}`] = uiWords(languages[0]).builtinTitles[name];
    for (const l of languages.slice(1)) localTitles[l]![`builtin.${name}`] = uiWords(l).builtinTitles[name];
  }
  const localKeywords: Record<string, Record<string, string>> = {};
  const payloads: Record<string, string> = {};
  const keywords: Record<string, string> = {};
  for (const flow of Object.values(flows)) {
    const existing = intents[flow.intent];
    if (existing && existing.kind !== 'builtin') {
      problems.push({
        severity: 'error',
        code: 'duplicate_intent',
        message: `intent "${flow.intent}" already starts flow "${existing.kind === 'flow' ? existing.flowId : ''}"`,
        hint: 'each intent starts one flow; give this flow another trigger intent',
        file: flow.file,
        line: flow.pos.line,
        col: flow.pos.col,
        flow: flow.id,
      });
      continue;
    }
    intents[flow.intent] = { kind: 'flow', flowId: flow.id };
    titles[flow.intent] = flow.title;
    for (const l of languages.slice(1)) localTitles[l]![flow.intent] = flow.titles?.[l] ?? flow.title;
    for (const p of flow.payloads) payloads[p] = flow.intent;
    for (const k of flow.keywords) keywords[k.toLowerCase().trim()] = flow.intent;
    for (const [l, list] of Object.entries(flow.localKeywords ?? {})) for (const k of list) (localKeywords[l] ??= {})[k.toLowerCase().trim()] = flow.intent;
  }
  for (const a of Object.values(articles)) {
    intents[a.intent] = { kind: 'article', articleId: a.id };
    titles[a.intent] = a.title;
    for (const l of languages.slice(1)) localTitles[l]![a.intent] = a.translations?.[l]?.title ?? a.title;
  }

  const messages: Bot['messages'] = defaultMessagesFor(languages);
  for (const [k, v] of Object.entries(cfg.messages ?? {})) if (MESSAGE_KEYS.includes(k)) messages[k] = normalizeMessages(v as never, lc, ['messages', k]);

  const knownVars = new Set<string>();
  for (const flow of Object.values(flows))
    for (const s of flow.steps) {
      if (s.kind === 'set') s.assignments.forEach((a) => knownVars.add(a.name));
      if (s.kind === 'call' && s.result) knownVars.add(s.result);
    }

  const bot: Bot = {
    id,
    name: cfg.name,
    language: languages[0]!,
    languages,
    dir: botDir,
    flowsDir,
    knowledgeDir,
    testsDir,
    actionsModule,
    welcomeFlow: cfg.welcomeFlow,
    profileFields: ['id', 'name', 'email', 'phone', ...(cfg.profile ?? [])],
    config: { nlu: nluConfigFromFile(cfg.nlu), fallback: cfg.fallback, handoff: cfg.handoff, answers: cfg.answers, conversation: { resumeAfterMs: durationMs(cfg.conversation.resumeAfter) } },
    messages,
    flows,
    articles,
    intents,
    payloads,
    keywords,
    titles,
    ...(languages.length > 1 ? { localTitles } : {}),
    ...(Object.keys(localKeywords).length ? { localKeywords } : {}),
    knownVars: [...knownVars].sort(),
  };
  if (cfg.welcomeFlow && !flows[cfg.welcomeFlow]) {
    const pos = posAt(y, ['welcomeFlow']);
    problems.push({ severity: 'error', code: 'unknown_flow', message: `welcomeFlow "${cfg.welcomeFlow}" does not exist`, hint: `flows: ${Object.keys(flows).join(', ')}`, file: botFile, line: pos.line, col: pos.col });
  }
  const messagePos = Object.fromEntries(Object.keys(cfg.messages ?? {}).map((k) => [k, posAt(y, ['messages', k])]));
  validateBot(bot, problems, { botFile, messagePos });
  const sorted = sortProblems(problems);
  return { bot: hasErrors(sorted) ? null : bot, problems: sorted };
}

/**
 * The bot's languages, default first: `languages:` (checked: supported, installed, no duplicates)
 * or `language:` (one language, default `en`, as it always was).
 */
function botLanguages(cfg: { language?: string; languages?: string[] }, y: Parameters<typeof posAt>[0], botFile: string, problems: Problem[]): string[] {
  const at = (p: (string | number)[]) => {
    const pos = posAt(y, p);
    return { file: botFile, line: pos.line, col: pos.col };
  };
  if (cfg.languages === undefined) return [cfg.language ?? 'en'];
  if (cfg.language !== undefined)
    problems.push({
      severity: 'error',
      code: 'conflicting_languages',
      message: `bot.yaml sets both language (${cfg.language}) and languages (${cfg.languages.join(', ')})`,
      hint: 'keep only `languages:` (the first one is the default language), or only `language:` for a bot with one language',
      ...at(['language']),
    });
  const out: string[] = [];
  const supported = Object.keys(SUPPORTED_LANGUAGES);
  cfg.languages.forEach((code, i) => {
    const where = at(['languages', i]);
    if (!/^[a-z]{2}$/.test(code)) {
      const base = code.trim().toLowerCase().split(/[-_]/)[0] ?? '';
      problems.push({
        severity: 'error',
        code: 'invalid_language',
        message: `"${code}" is not a language code`,
        hint: /^[a-z]{2}$/.test(base) ? `write "${base}": languages are two lower-case letters (ISO 639-1), without a region` : 'write two-letter ISO 639-1 codes such as en, es, fr, de',
        ...where,
      });
    } else if (!SUPPORTED_LANGUAGES[code]) {
      problems.push({
        severity: 'error',
        code: 'unsupported_language',
        message: `"${code}" is not a language Baton supports`,
        hint: `supported (an @nlpjs/lang-xx package exists): ${supported.join(', ')}`,
        ...where,
      });
    } else if (out.includes(code)) {
      problems.push({ severity: 'error', code: 'duplicate_language', message: `${languageName(code)} (${code}) is listed twice`, hint: 'list each language once; the first one is the default', ...where });
    } else if (!languagePackageInstalled(code)) {
      problems.push({
        severity: 'error',
        code: 'language_not_installed',
        message: `${languageName(code)} (${code}) needs the package ${languagePackage(code)}, which is not installed`,
        hint: `run \`npm install ${languagePackage(code)}\` (it holds the stemmer and the language detector's model)`,
        ...where,
      });
    } else {
      out.push(code);
      if (!(BATON_LANGUAGES as readonly string[]).includes(code))
        problems.push({
          severity: 'warning',
          code: 'language_without_defaults',
          message: `Baton has no built-in intents, default wording or yes/no words in ${languageName(code)} (${code})`,
          hint: 'write every message of `messages:` in it, and teach greetings, thanks, "talk to a person", cancel and start over as flows',
          ...where,
        });
    }
  });
  return out.length ? out : ['en'];
}

/** A bot.yaml duration ("90s", "30m", "24h", "7d") in milliseconds; `0`, "0" and "never" → null (off). The schema has checked the form. */
export function durationMs(d: string | number): number | null {
  const m = /^\s*(\d+)\s*([smhd])\s*$/i.exec(String(d));
  if (!m) return null;
  const ms = Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2].toLowerCase() as 's' | 'm' | 'h' | 'd'];
  return ms > 0 ? ms : null;
}

/** Load a bot or throw BotValidationError with every problem (the server refuses to start this way). */
export function loadBotOrThrow(botDir: string): { bot: Bot; warnings: Problem[] } {
  const r = loadBot(botDir);
  if (!r.bot) throw new BotValidationError(r.problems, process.cwd());
  return { bot: r.bot, warnings: r.problems };
}

/** Build the NLU training corpus of a bot: flow triggers, article questions and built-ins, per language. */
import type { Article, Bot, Flow, SourcePos } from '../flow/model';
import type { TrainingCorpus, TrainingIntent } from './port';
import { builtinIntentsFor } from './builtin-intents';

/** The bot's languages, default first (bots built by hand have only `language`). */
export function botLanguages(bot: Pick<Bot, 'language' | 'languages'>): string[] {
  return bot.languages?.length ? bot.languages : [bot.language];
}

/** A flow's trigger examples in `language`, with where each is written. */
export function flowExamples(bot: Pick<Bot, 'language' | 'languages'>, f: Flow, language: string = bot.language): { text: string; pos: SourcePos }[] {
  if (language === botLanguages(bot)[0]) return f.examples.map((text, i) => ({ text, pos: f.examplePos?.[i] ?? f.pos }));
  const l = f.localExamples?.[language];
  return l ? l.examples.map((text, i) => ({ text, pos: l.pos[i] ?? f.pos })) : [];
}

/** An article's questions in `language` (from its translation for the bot's other languages). */
export function articleQuestions(bot: Pick<Bot, 'language' | 'languages'>, a: Article, language: string = bot.language): { text: string; pos: SourcePos }[] {
  if (language === botLanguages(bot)[0]) return a.questions.map((text, i) => ({ text, pos: a.questionPos?.[i] ?? a.pos }));
  const t = a.translations?.[language];
  return t ? t.questions.map((text, i) => ({ text, pos: t.questionPos?.[i] ?? t.pos })) : [];
}

/** The corpus of one language of the bot (default: its default language). */
export function buildCorpus(bot: Bot, language: string = bot.language): TrainingCorpus {
  const byIntent = new Map<string, string[]>();
  const add = (intent: string, examples: string[]) => {
    const list = byIntent.get(intent) ?? [];
    for (const e of examples) if (!list.includes(e)) list.push(e);
    byIntent.set(intent, list);
  };
  for (const b of builtinIntentsFor(language)) add(b.intent, b.examples);
  for (const f of Object.values(bot.flows)) {
    const ex = flowExamples(bot, f, language).map((e) => e.text);
    if (ex.length) add(f.intent, ex);
  }
  for (const a of Object.values(bot.articles)) add(a.intent, articleQuestions(bot, a, language).map((q) => q.text));
  const intents: TrainingIntent[] = [...byIntent.entries()]
    .filter(([, ex]) => ex.length > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([intent, examples]) => ({ intent, examples }));
  return { language, intents };
}

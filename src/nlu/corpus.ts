/** Build the NLU training corpus of a bot: flow triggers, article questions and built-ins. */
import type { Bot } from '../flow/model';
import type { TrainingCorpus, TrainingIntent } from './port';
import { builtinIntentsFor } from './builtin-intents';

export function buildCorpus(bot: Bot): TrainingCorpus {
  const byIntent = new Map<string, string[]>();
  const add = (intent: string, examples: string[]) => {
    const list = byIntent.get(intent) ?? [];
    for (const e of examples) if (!list.includes(e)) list.push(e);
    byIntent.set(intent, list);
  };
  for (const b of builtinIntentsFor(bot.language)) add(b.intent, b.examples);
  for (const f of Object.values(bot.flows)) if (f.examples.length) add(f.intent, f.examples);
  for (const a of Object.values(bot.articles)) add(a.intent, a.questions);
  const intents: TrainingIntent[] = [...byIntent.entries()]
    .filter(([, ex]) => ex.length > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([intent, examples]) => ({ intent, examples }));
  return { language: bot.language, intents };
}

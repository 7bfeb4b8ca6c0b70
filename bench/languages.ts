/**
 * Language detection and per-language training, measured on the polyglot fixture bot
 * (test/fixtures/bots/polyglot: en, es, fr, de) and the held-out customer messages of
 * test/nlu/language-sentences.ts. Prints the figures quoted in docs/nlu.md.
 *
 *   npx tsx bench/languages.ts
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadBot } from '../src/flow/loader';
import { trainBot } from '../src/main';
import { LanguageDetector, decideLanguage } from '../src/nlu/language';
import { builtinIntentsFor } from '../src/nlu/builtin-intents';
import { trainingCorpus } from '../src/nlu/engine';
import { MultilingualMatcher } from '../src/nlu/multilingual';
import { LANGUAGE_SENTENCES, NEUTRAL_MESSAGES } from '../test/nlu/language-sentences';

const LANGS = ['en', 'es', 'fr', 'de'] as const;

async function main(): Promise<void> {
  const bot = loadBot(path.join(__dirname, '..', 'test', 'fixtures', 'bots', 'polyglot')).bot!;
  const builtinVocab = Object.fromEntries(LANGS.map((l) => [l, builtinIntentsFor(l).flatMap((i) => i.examples)]));
  const botVocab = Object.fromEntries(LANGS.map((l) => [l, trainingCorpus(bot, undefined, l).intents.filter((i) => i.intent !== 'oos').flatMap((i) => i.examples)]));
  const detectors = {
    'function words only': new LanguageDetector([...LANGS]),
    'built-in intents': new LanguageDetector([...LANGS], builtinVocab),
    'the bot\'s examples': new LanguageDetector([...LANGS], botVocab),
  };
  const trigram = detectors['function words only'];
  const row = (name: string, f: (s: string) => string | null) => {
    const per = LANGS.map((l) => LANGUAGE_SENTENCES[l].filter((s) => f(s) === l).length);
    const short = LANGS.flatMap((l) => LANGUAGE_SENTENCES[l].filter((s) => s.replace(/[^\p{L}]/gu, '').length < 20).map((s) => f(s) === l));
    console.log(`| ${name} | ${per.map((n, i) => `${n}/${LANGUAGE_SENTENCES[LANGS[i]!].length}`).join(' | ')} | ${per.reduce((a, b) => a + b, 0)}/120 | ${short.filter(Boolean).length}/${short.length} |`);
  };
  console.log('| detector | en | es | fr | de | all | under 20 letters |\n|---|---|---|---|---|---|---|');
  row('nlp.js trigram guesser alone', (s) => trigram.trigramOnly(s));
  for (const [name, d] of Object.entries(detectors)) row(`trigrams + words (${name})`, (s) => d.guess(s).scores[0]!.language);

  // Switches: each held-out message as the first message (assumed language) and in a conversation in another language.
  const d = detectors['the bot\'s examples'];
  let firstOk = 0;
  let strong = 0;
  let n = 0;
  for (const l of LANGS)
    for (const s of LANGUAGE_SENTENCES[l]) {
      n++;
      const other = l === 'en' ? 'es' : 'en';
      if ((decideLanguage({ language: other, source: 'default' }, { guess: d.guess(s) }).state.language) === l) firstOk++;
      if (decideLanguage({ language: other, source: 'detected' }, { guess: d.guess(s) }).switched?.reason === 'strong') strong++;
    }
  let flips = 0;
  for (const m of NEUTRAL_MESSAGES) for (const l of LANGS) if (decideLanguage({ language: l, source: 'default' }, { guess: d.guess(m) }).switched) flips++;
  console.log(`\nfirst message switches to the right language (detection only, no model): ${firstOk}/${n}`);
  console.log(`a message in another language switches a confirmed language at once (strong): ${strong}/${n}; the rest need a second message`);
  console.log(`neutral messages (${NEUTRAL_MESSAGES.length} × 4 languages) that switch: ${flips}`);

  // Training time per language, cold (empty cache), then from the cache.
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-bench-lang-'));
  try {
    const t0 = Date.now();
    const cold = await trainBot(loadBot(bot.dir).bot!, { cacheDir });
    const total = Date.now() - t0;
    console.log('\n| language | examples | intents | training (cold) | threshold |\n|---|---|---|---|---|');
    for (const l of LANGS) {
      const r = cold.languages![l]!;
      console.log(`| ${l} | ${r.thresholds.cv?.examples ?? '?'} | ${trainingCorpus(bot, undefined, l).intents.length} | ${r.trainMs} ms | ${r.thresholds.threshold.toFixed(3)} |`);
    }
    console.log(`all four, cold: ${total} ms`);
    const t1 = Date.now();
    const warm = await trainBot(loadBot(bot.dir).bot!, { cacheDir });
    console.log(`all four, from the cache: ${Date.now() - t1} ms (fromCache: ${warm.fromCache})`);
    // NLU cost per message: every language's model plus the detector.
    const m = warm.matcher as MultilingualMatcher;
    const msgs = LANGS.flatMap((l) => LANGUAGE_SENTENCES[l]);
    const t2 = process.hrtime.bigint();
    for (let k = 0; k < 5; k++) for (const s of msgs) { m.detector.guess(s); await Promise.all(LANGS.map((l) => m.classifyIn(l, s))); }
    console.log(`NLU per message (detector + 4 models): ${(Number(process.hrtime.bigint() - t2) / 1e6 / (5 * msgs.length)).toFixed(2)} ms`);
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

/**
 * Language detection (trigrams + words, restricted to the bot's languages) and the rule that keeps a
 * conversation in its language unless a message is confidently another one.
 */
import { decideLanguage, detectionTokens, LanguageDetector, type LanguageGuess, type LanguageState } from '../../src/nlu/language';
import { BUILTIN_INTENTS, builtinIntentsFor } from '../../src/nlu/builtin-intents';
import { OUT_OF_SCOPE_EXAMPLES } from '../../src/nlu/out-of-scope';
import { LANGUAGE_SENTENCES, NEUTRAL_MESSAGES } from './language-sentences';

const LANGS = ['en', 'es', 'fr', 'de'] as const;
const vocabulary = Object.fromEntries(LANGS.map((l) => [l, builtinIntentsFor(l).flatMap((i) => i.examples)]));
const detector = new LanguageDetector([...LANGS], vocabulary);

describe('LanguageDetector', () => {
  it('recognises realistic customer messages in English, Spanish, French and German', () => {
    const wrong: string[] = [];
    let n = 0;
    for (const l of LANGS)
      for (const s of LANGUAGE_SENTENCES[l]) {
        n++;
        const best = detector.guess(s).scores[0]!.language;
        if (best !== l) wrong.push(`${l}: "${s}" → ${best}`);
      }
    expect(n).toBe(120);
    // Measured: 120/120 (docs/nlu.md). Allow for a couple of misses if the word lists change.
    expect(wrong.length).toBeLessThanOrEqual(2);
  });

  it('does better than nlp.js\'s trigram guesser alone, which confuses short French with Spanish', () => {
    let trigram = 0;
    let combined = 0;
    for (const l of LANGS)
      for (const s of LANGUAGE_SENTENCES[l]) {
        if (detector.trigramOnly(s) === l) trigram++;
        if (detector.guess(s).scores[0]!.language === l) combined++;
      }
    expect(combined).toBeGreaterThan(trigram);
    expect(detector.trigramOnly('Où est ma commande ?')).toBe('es');
    expect(detector.guess('Où est ma commande ?').scores[0]!.language).toBe('fr');
  });

  it('only ever answers with the bot\'s languages', () => {
    const two = new LanguageDetector(['en', 'de']);
    for (const s of [...LANGUAGE_SENTENCES.es, ...LANGUAGE_SENTENCES.fr]) expect(['en', 'de']).toContain(two.guess(s).scores[0]!.language);
  });

  it('counts letters and words, ignoring digits and punctuation', () => {
    expect(detector.guess('AB-123456')).toMatchObject({ letters: 2, words: 1 });
    expect(detector.guess('2')).toMatchObject({ letters: 0, words: 0 });
    expect(detectionTokens("l'adresse d'Ana, ¿sí?")).toEqual(['l', 'adresse', 'd', 'ana', 'si']);
  });

  it("a bot's own words make short messages recognisable", () => {
    const plain = new LanguageDetector(['en', 'es']);
    const taught = new LanguageDetector(['en', 'es'], { es: ['¿dónde está mi pedido?'], en: ['where is my order'] });
    expect(taught.guess('pedido').scores[0]!.language).toBe('es');
    expect(plain.guess('pedido').scores[0]!.score).toBeLessThan(taught.guess('pedido').scores[0]!.score);
  });
});

describe('decideLanguage', () => {
  const guess = (text: string): LanguageGuess => detector.guess(text);
  const state = (language: string, source: LanguageState['source'] = 'detected', vote?: LanguageState['vote']): LanguageState => ({ language, source, ...(vote ? { vote } : {}) });

  it('never switches on messages without language ("ok", "2", an order number, an email)', () => {
    for (const source of ['default', 'preferred', 'detected'] as const)
      for (const from of LANGS)
        for (const m of NEUTRAL_MESSAGES) {
          const d = decideLanguage(state(from, source), { guess: guess(m) });
          expect([m, d.state.language]).toEqual([m, from]);
          expect(d.switched).toBeUndefined();
        }
  });

  it('switches at once on a sentence clearly in another language', () => {
    const d = decideLanguage(state('en'), { guess: guess('Ich möchte diese Schuhe zurückschicken, sie sind zu klein') });
    expect(d).toMatchObject({ state: { language: 'de', source: 'detected' }, switched: { from: 'en', to: 'de', reason: 'strong' } });
  });

  it('takes a short message as enough while the language is only assumed', () => {
    const d = decideLanguage(state('en', 'default'), { guess: guess('hola') });
    expect(d.switched).toMatchObject({ to: 'es' });
  });

  it('needs two short messages in a row once the customer has used or asked for a language', () => {
    const first = decideLanguage(state('en', 'preferred'), { guess: guess('hola') });
    expect(first.state).toEqual({ language: 'en', source: 'preferred', vote: { language: 'es', count: 1 } });
    const neutral = decideLanguage(first.state, { guess: guess('2') });
    expect(neutral.state.vote).toEqual({ language: 'es', count: 1 });
    const second = decideLanguage(neutral.state, { guess: guess('gracias') });
    expect(second).toMatchObject({ state: { language: 'es', source: 'detected' }, switched: { reason: 'votes' } });
  });

  it('an English message clears a vote for another language', () => {
    const voted = state('en', 'detected', { language: 'es', count: 1 });
    expect(decideLanguage(voted, { guess: guess('where is my parcel, it is late') }).state).toEqual(state('en', 'detected'));
  });

  it('stays when the current language\'s model understands the message and the other does no better', () => {
    const g = guess('bonjour');
    expect(g.scores[0]!.language).toBe('fr');
    const keep = decideLanguage(state('en', 'default'), { guess: g, understood: { en: { confidence: 0.9, confident: true }, fr: { confidence: 0.6, confident: true } } });
    expect(keep.switched).toBeUndefined();
    const go = decideLanguage(state('en', 'default'), { guess: g, understood: { en: { confidence: 0.9, confident: true }, fr: { confidence: 0.99, confident: true } } });
    expect(go.switched).toMatchObject({ to: 'fr' });
  });

  it('a short message only another language\'s model understands counts as evidence', () => {
    const g = guess('danke');
    const understood = { en: { confidence: 0.3, confident: false }, de: { confidence: 0.95, confident: true }, es: { confidence: 0.2, confident: false }, fr: { confidence: 0.2, confident: false } };
    expect(decideLanguage(state('en', 'default'), { guess: g, understood }).switched).toMatchObject({ to: 'de' });
    expect(decideLanguage(state('en', 'detected'), { guess: g, understood }).state.vote).toEqual({ language: 'de', count: 1 });
  });
});

describe('built-in intents and off-topic examples per language', () => {
  it('exist for en, es, fr and de, with no sentence in two intents of one language', () => {
    for (const l of LANGS) {
      const intents = BUILTIN_INTENTS[l];
      expect(intents.map((i) => i.intent)).toEqual(['builtin.greeting', 'builtin.thanks', 'builtin.goodbye', 'builtin.human', 'builtin.restart', 'builtin.cancel']);
      const seen = new Map<string, string>();
      for (const i of intents)
        for (const e of i.examples) {
          const k = e.toLowerCase();
          expect([l, e, seen.get(k) ?? i.intent]).toEqual([l, e, i.intent]);
          seen.set(k, i.intent);
        }
      expect(intents.every((i) => i.examples.length >= 15)).toBe(true);
      expect(OUT_OF_SCOPE_EXAMPLES[l].length).toBeGreaterThanOrEqual(30);
    }
    expect(builtinIntentsFor('es-MX')[3]!.examples).toContain('quiero hablar con una persona');
    expect(builtinIntentsFor('nl')).toEqual([]);
  });
});

/**
 * Which language a customer writes in, for bots with several languages.
 *
 * Two kinds of evidence, restricted to the bot's languages:
 *  - **trigrams**: nlp.js's language guesser (`@nlpjs/language-min`) with the trigram model of each
 *    language's `@nlpjs/lang-xx` package. Reliable on a sentence, unreliable on a few words
 *    ("Où est ma commande ?" reads as Spanish to it);
 *  - **words**: the share of the message's words that belong to a language — its function words
 *    (articles, pronouns, prepositions: a fixed list below) and every word of the bot's own examples
 *    in that language (built-ins, trigger examples, article questions). A word of several languages
 *    counts for each in part. This is what makes short messages work ("gracias", "wo ist mein Paket").
 *
 * {@link LanguageDetector.guess} is stateless; {@link decideLanguage} is the pure rule that keeps a
 * conversation in its language unless a message is confidently another one (see docs/nlu.md).
 */

/** Function words per language (lower case, accents removed), split on apostrophes like the messages are. */
const FUNCTION_WORDS: Record<string, string> = {
  en:
    'the a an and or but is are was were be been am im i you he she it we they my your his her its our their me him us them this that these those ' +
    'what where when why how who which do does did dont didnt doesnt have has had not no yes can cant could would should will wont to of in on at ' +
    'for with from by about as if so just please there here want need get got any some still yet s t ll ve re d m hi hello thanks thank',
  es:
    'el la los las un una unos unas y o pero es son era esta estan estoy estas ser estar yo tu usted ustedes el ella nosotros ellos mi mis su sus ' +
    'nuestro nuestra este esto ese esa eso que donde cuando por porque como quien cual cuales hace hacer tengo tiene tienen no si puedo puede ' +
    'puedes quiero quisiera necesito de del en con para sin sobre al lo le les me te se ya muy mas hay todavia aun todo nada algo favor hola gracias ' +
    'pero tambien ahora hoy ayer manana aqui alli mucho poco buenas buenos',
  fr:
    'le la les un une des et ou mais est sont etait etre suis es avoir ai as a ont je tu il elle nous vous ils elles mon ma mes ton ta tes son sa ses ' +
    'notre votre vos leur ce cette ces cet quoi que qui ou quand pourquoi comment quel quelle quels ne pas plus oui non peux peut veux voudrais dois ' +
    'de du en dans avec pour sans sur au aux chez y tres deja encore tout rien merci bonjour plait svp c j l d n qu m s toujours aujourd hui hier ' +
    'demain ici beaucoup peu aussi',
  de:
    'der die das den dem des ein eine einen einem einer und oder aber ist sind war waren bin bist sein haben habe hast hat ich du er sie es wir ihr ' +
    'mein meine meinen meinem mir mich dein deine ihre ihren unser unsere was wo wann warum wie wer welche welcher nicht kein keine keinen ja nein kann ' +
    'konnen kannst mochte mochten will muss von zu zum zur im in mit fur ohne auf an bei aus nach noch schon sehr auch nur bitte danke hallo gibt ' +
    'heute gestern morgen hier dort viel wenig jetzt immer',
};

/** Words of every language (chat words that say nothing about the language): shared equally, so they are neutral. */
const UNIVERSAL_WORDS = 'ok okay oki k super top cool ciao bye lol xd jaja haha';

/** Lower case, accents removed, split on anything that is not a letter (apostrophes too: "l'adresse" → l, adresse); without e-mail addresses, links and codes. */
export function detectionTokens(text: string): string[] {
  return text
    // E-mail addresses, links and codes (AB-123456, 3rd) say nothing about the language.
    .replace(/\S+@\S+|\b(?:https?:\/\/|www\.)\S+|[\p{L}\p{N}]*\p{N}[\p{L}\p{N}-]*/gu, ' ')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^\p{L}]+/u)
    .filter(Boolean);
}

export interface LanguageScore {
  language: string;
  /** 0–1: trigram and word evidence combined (not a probability). */
  score: number;
}

export interface LanguageGuess {
  /** The bot's languages, best first. */
  scores: LanguageScore[];
  /** Letters in the message (a message with few letters says little about its language). */
  letters: number;
  /** Words of two or more letters. */
  words: number;
}

type Guesser = { guess(text: string, allow: string[], limit?: number): { alpha2: string; score: number }[] };
let guesser: Guesser | null = null;
const modelsLoaded = new Set<string>();

/** The nlp.js guesser with the trigram models of `languages` (from their @nlpjs/lang-xx packages). */
function guesserFor(languages: readonly string[]): Guesser {
  if (!guesser) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Language } = require('@nlpjs/language-min') as { Language: new () => Guesser };
    guesser = new Language();
  }
  const g = guesser;
  for (const l of languages) {
    if (modelsLoaded.has(l)) continue;
    modelsLoaded.add(l);
    for (const pkg of l === 'en' ? ['@nlpjs/lang-en-min', '@nlpjs/lang-en'] : [`@nlpjs/lang-${l}`]) {
      let register: ((container: { get(name: string): unknown }) => void) | undefined;
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        register = require(`${pkg}/src/trigrams`) as typeof register;
      } catch {
        continue;
      }
      register?.({ get: (name: string) => (name === 'Language' ? g : undefined) });
      break;
    }
  }
  return g;
}

/** Weight of the trigram evidence; the word evidence gets the rest. */
const TRIGRAM_WEIGHT = 0.4;
/** Letters from which the trigram evidence counts fully. */
const TRIGRAM_FULL = 15;

export class LanguageDetector {
  readonly languages: string[];
  /** word → languages it belongs to. */
  private readonly lexicon = new Map<string, string[]>();

  /**
   * @param languages the bot's languages
   * @param vocabulary texts of each language (the bot's examples in it); their words count as that language's
   */
  constructor(languages: readonly string[], vocabulary: Record<string, Iterable<string>> = {}) {
    this.languages = [...languages];
    for (const l of this.languages) {
      const words = new Set<string>(detectionTokens(`${FUNCTION_WORDS[l] ?? ''} ${UNIVERSAL_WORDS}`));
      for (const text of vocabulary[l] ?? []) for (const w of detectionTokens(text)) words.add(w);
      for (const w of words) {
        const list = this.lexicon.get(w);
        if (list) list.push(l);
        else this.lexicon.set(w, [l]);
      }
    }
    if (this.languages.length > 1) guesserFor(this.languages);
  }

  guess(text: string): LanguageGuess {
    const tokens = detectionTokens(text);
    const letters = tokens.reduce((n, t) => n + t.length, 0);
    const words = tokens.filter((t) => t.length >= 2).length;
    const score = new Map<string, number>(this.languages.map((l) => [l, 0]));
    if (this.languages.length > 1 && tokens.length) {
      // Words: each known word is shared among the languages it belongs to; unknown words dilute.
      for (const t of tokens) {
        const ls = this.lexicon.get(t);
        if (ls) for (const l of ls) score.set(l, score.get(l)! + (1 - TRIGRAM_WEIGHT) / ls.length / tokens.length);
      }
      // Trigrams: the guesser scores 1 for the closest language and less for the others. A few
      // letters make few trigrams, so their weight grows with the length (full from TRIGRAM_FULL letters).
      if (letters >= 3) {
        const g = guesserFor(this.languages).guess(text, this.languages);
        const best = Math.max(...g.map((x) => x.score), 0);
        const w = TRIGRAM_WEIGHT * Math.min(1, letters / TRIGRAM_FULL);
        if (best > 0) for (const x of g) if (score.has(x.alpha2)) score.set(x.alpha2, score.get(x.alpha2)! + (w * x.score) / best);
      }
    }
    const scores = this.languages
      .map((language, i) => ({ language, score: Math.round(score.get(language)! * 1000) / 1000, i }))
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .map(({ language, score: s }) => ({ language, score: s }));
    return { scores, letters, words };
  }

  /** The trigram guesser alone (for measurements). */
  trigramOnly(text: string): string | null {
    const g = guesserFor(this.languages).guess(text, this.languages);
    return g.length && g[0]!.score > 0 ? g[0]!.alpha2 : null;
  }
}

// ------------------------------------------------------------------ the conversation's language

/** What the conversation knows about its language (kept in ConversationState). */
export interface LanguageState {
  language: string;
  /**
   * `default`: assumed (nobody said anything yet); `preferred`: from the profile, the channel or the
   * browser; `detected`: from the customer's messages.
   */
  source: 'default' | 'preferred' | 'detected';
  /** Weak evidence for another language so far, in a row (two switch). */
  vote?: { language: string; count: number };
}

/** Tuning of {@link decideLanguage}; docs/nlu.md explains the numbers. */
export const LANGUAGE_RULES = {
  /** Fewer letters than this: no evidence at all ("ok", "2", "AB-123456", "no"). */
  minLetters: 4,
  /** Strong evidence: at least this many letters and this margin over the current language. */
  strongLetters: 12,
  strongMargin: 0.25,
  /** Weak evidence: this margin (with at least minLetters). */
  weakMargin: 0.15,
  /** Weak votes in a row that switch a language the customer has already used or asked for. */
  votes: 2,
};

export interface LanguageEvidence {
  guess: LanguageGuess;
  /** Per language: the best intent's confidence and whether it reaches that language's threshold. */
  understood?: Record<string, { confidence: number; confident: boolean }>;
}

export interface LanguageDecision {
  state: LanguageState;
  /** Set when the language changed with this message. */
  switched?: { from: string; to: string; reason: 'strong' | 'votes' | 'first' | 'understood' };
}

/**
 * The conversation's language after a message. Stays in the current language unless the message is
 * confidently another one:
 *  - no evidence under `minLetters` letters: "ok", "2", an order number never switch;
 *  - when the current language's matcher understands the message (its best intent reaches the
 *    threshold) and the other language's does not do better, it stays ("ok gracias" in Spanish);
 *  - strong evidence (a sentence clearly in another language) switches at once;
 *  - weak evidence (a short message, a small margin) switches at once while the language is only
 *    assumed (the conversation's first messages), otherwise after `votes` such messages in a row;
 *  - a short message that only another language's matcher understands ("gracias" in an English
 *    conversation) counts as weak evidence, and as strong while the language is only assumed.
 */
export function decideLanguage(current: LanguageState, evidence: LanguageEvidence, rules = LANGUAGE_RULES): LanguageDecision {
  const { guess, understood } = evidence;
  const cur = current.language;
  const scoreOf = (l: string) => guess.scores.find((s) => s.language === l)?.score ?? 0;
  const best = guess.scores[0];
  const keepWith = (vote: LanguageState['vote']): LanguageDecision => ({ state: { language: cur, source: current.source, ...(vote ? { vote } : {}) } });
  const keep = (): LanguageDecision => keepWith(current.vote);
  if (!best || guess.scores.length < 2 || guess.letters < rules.minLetters) return keep();
  const curUnderstood = understood?.[cur];
  // The best other language, and how it compares.
  const other = best.language !== cur ? best : guess.scores[1]!;
  const margin = scoreOf(other.language) - scoreOf(cur);
  let strength: 'none' | 'weak' | 'strong' = 'none';
  if (best.language !== cur) {
    if (guess.letters >= rules.strongLetters && margin >= rules.strongMargin) strength = 'strong';
    else if (margin >= rules.weakMargin) strength = 'weak';
  }
  const otherUnderstood = understood?.[other.language];
  if (curUnderstood?.confident && !(otherUnderstood && otherUnderstood.confidence > curUnderstood.confidence)) strength = 'none';
  else if (strength !== 'strong' && otherUnderstood?.confident && !curUnderstood?.confident && margin > 0) strength = current.source === 'default' ? 'strong' : 'weak';
  // Evidence for the current language clears votes for another.
  if (best.language === cur && scoreOf(cur) - scoreOf(guess.scores[1]!.language) >= rules.weakMargin) return keepWith(undefined);
  if (strength === 'none') return keep();
  const to = other.language;
  const switchTo = (reason: NonNullable<LanguageDecision['switched']>['reason']): LanguageDecision => ({
    state: { language: to, source: 'detected' },
    switched: { from: cur, to, reason },
  });
  if (strength === 'strong') return switchTo(otherUnderstood?.confident && !curUnderstood?.confident && guess.letters < rules.strongLetters ? 'understood' : 'strong');
  if (current.source === 'default') return switchTo('first');
  const count = current.vote?.language === to ? current.vote.count + 1 : 1;
  if (count >= rules.votes) return switchTo('votes');
  return keepWith({ language: to, count });
}

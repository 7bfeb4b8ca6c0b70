/**
 * Languages of a bot: which codes Baton supports, Baton's own words per language (button titles it
 * makes up itself), and turning authored per-language values (`{ en: …, es: … }`) into the compiled
 * form, with a problem for every language code that is not the bot's and every missing translation.
 *
 * Authoring rules (docs/flows.md, "Languages"):
 *  - a customer-visible text is a plain text (the same in every language) or a map of language → text;
 *  - trigger examples are a list (the default language's) or a map of language → list;
 *  - keywords and choice synonyms are a list (every language) or a map of language → list.
 */
import type { Problem } from './problems';
import type { SourcePos } from './model';
import { posAt, type YamlFile } from './yaml';

/**
 * Languages with an nlp.js language package (`@nlpjs/lang-<code>`) on npm: the Snowball stemmer of
 * the intent matcher and the trigram model of the language detector come from it. A bot may declare
 * these (the package must be installed: `npm install @nlpjs/lang-<code>`).
 */
export const SUPPORTED_LANGUAGES: Record<string, string> = {
  ar: 'Arabic', bn: 'Bengali', ca: 'Catalan', cs: 'Czech', da: 'Danish', de: 'German', el: 'Greek', en: 'English', es: 'Spanish',
  eu: 'Basque', fa: 'Persian', fi: 'Finnish', fr: 'French', ga: 'Irish', gl: 'Galician', hi: 'Hindi', hu: 'Hungarian', hy: 'Armenian',
  id: 'Indonesian', it: 'Italian', ja: 'Japanese', ko: 'Korean', lt: 'Lithuanian', ms: 'Malay', ne: 'Nepali', nl: 'Dutch', no: 'Norwegian',
  pl: 'Polish', pt: 'Portuguese', ro: 'Romanian', ru: 'Russian', sl: 'Slovenian', sr: 'Serbian', sv: 'Swedish', ta: 'Tamil', th: 'Thai',
  tl: 'Tagalog', tr: 'Turkish', uk: 'Ukrainian', zh: 'Chinese',
};

/** Languages Baton has built-in intents, default wording and yes/no words for. */
export const BATON_LANGUAGES = ['en', 'es', 'fr', 'de'] as const;
export type BatonLanguage = (typeof BATON_LANGUAGES)[number];

export function languageName(code: string): string {
  return SUPPORTED_LANGUAGES[code] ?? code;
}

/** "es", "ES", "es-MX", "es_MX" → "es"; anything else → null. */
export function baseLanguage(code: unknown): string | null {
  if (typeof code !== 'string') return null;
  const c = code.trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return /^[a-z]{2}$/.test(c) ? c : null;
}

/** The bot's language among `languages` that a preference ("es-MX", "de") names, or null. */
export function matchLanguage(preference: unknown, languages: readonly string[]): string | null {
  const c = baseLanguage(preference);
  return c && languages.includes(c) ? c : null;
}

/** The npm package whose stemmer and trigram model a language uses. */
export function languagePackage(code: string): string {
  return `@nlpjs/lang-${code}`;
}

/** Whether the nlp.js package of a language is installed (English: lang-en-min or lang-en). */
export function languagePackageInstalled(code: string): boolean {
  for (const pkg of code === 'en' ? ['@nlpjs/lang-en-min', '@nlpjs/lang-en'] : [languagePackage(code)]) {
    try {
      require.resolve(pkg);
      return true;
    } catch {
      /* not installed */
    }
  }
  return false;
}

/** Words Baton writes itself (buttons it adds), per language. */
export interface UiWords {
  yes: string;
  no: string;
  talkToPerson: string;
  continue: string;
  startOver: string;
  /** Titles of the built-in intents on "Did you mean…?" buttons. */
  builtinTitles: Record<'greeting' | 'thanks' | 'goodbye' | 'human' | 'restart' | 'cancel', string>;
}

export const UI_WORDS: Record<BatonLanguage, UiWords> = {
  en: {
    yes: 'Yes',
    no: 'No',
    talkToPerson: 'Talk to a person',
    continue: 'Continue',
    startOver: 'Start over',
    // The English titles are the intents' names (as they always were), except for the person.
    builtinTitles: { greeting: 'greeting', thanks: 'thanks', goodbye: 'goodbye', human: 'Talk to a person', restart: 'restart', cancel: 'cancel' },
  },
  es: {
    yes: 'Sí',
    no: 'No',
    talkToPerson: 'Hablar con una persona',
    continue: 'Continuar',
    startOver: 'Empezar de nuevo',
    builtinTitles: { greeting: 'Saludo', thanks: 'Agradecimiento', goodbye: 'Despedida', human: 'Hablar con una persona', restart: 'Empezar de nuevo', cancel: 'Cancelar' },
  },
  fr: {
    yes: 'Oui',
    no: 'Non',
    talkToPerson: 'Parler à un conseiller',
    continue: 'Continuer',
    startOver: 'Recommencer',
    builtinTitles: { greeting: 'Salutation', thanks: 'Remerciement', goodbye: 'Au revoir', human: 'Parler à un conseiller', restart: 'Recommencer', cancel: 'Annuler' },
  },
  de: {
    yes: 'Ja',
    no: 'Nein',
    talkToPerson: 'Mit einem Mitarbeiter sprechen',
    continue: 'Weitermachen',
    startOver: 'Neu beginnen',
    builtinTitles: { greeting: 'Begrüßung', thanks: 'Dank', goodbye: 'Verabschiedung', human: 'Mit einem Mitarbeiter sprechen', restart: 'Neu beginnen', cancel: 'Abbrechen' },
  },
};

/** Baton's own words in a language (English for languages it has none for). */
export function uiWords(language: string | undefined): UiWords {
  return Object.prototype.hasOwnProperty.call(UI_WORDS, language ?? '') ? UI_WORDS[language as BatonLanguage] : UI_WORDS.en;
}

// ------------------------------------------------------------------ authored per-language values

/** Where localized values are read: the bot's languages, and where to report problems. */
export interface LocaleContext {
  /** The bot's languages, default first. */
  languages: string[];
  y: YamlFile;
  problems: Problem[];
  flow?: string;
  step?: string;
}

export function isLanguageMapValue(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 && Object.keys(v).every((k) => /^[a-z]{2}$/.test(k));
}

function problemAt(lc: LocaleContext, path: (string | number)[], p: Omit<Problem, 'file' | 'line' | 'col'>): void {
  const pos: SourcePos = posAt(lc.y, path);
  lc.problems.push({ ...p, file: pos.file, line: pos.line, col: pos.col, ...(lc.flow ? { flow: lc.flow } : {}), ...(lc.step ? { step: lc.step } : {}) });
}

/** A likely meant language for a wrong code: one sharing a letter with it ("sp" → es, "ge" → de). */
function closestLanguage(code: string, languages: string[]): string | undefined {
  return languages.find((l) => l[0] === code[0] || l[1] === code[1]) ?? languages.find((l) => [...code].some((c) => l.includes(c)));
}

/** Report keys of a language map that are not the bot's languages; returns the map without them. */
function knownKeys<T>(map: Record<string, T>, path: (string | number)[], lc: LocaleContext, what: string): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(map)) {
    if (lc.languages.includes(k)) {
      out[k] = v;
      continue;
    }
    const guess = closestLanguage(k, lc.languages);
    problemAt(lc, [...path, k], {
      severity: 'error',
      code: 'unknown_language',
      message: `${what} has a "${k}" version, but the bot's language${lc.languages.length > 1 ? 's are' : ' is'} ${lc.languages.join(', ')}`,
      hint: guess ? `did you mean "${guess}"? Declare every language under \`languages:\` in bot.yaml` : 'declare every language under `languages:` in bot.yaml',
    });
  }
  return out;
}

function missing(map: Record<string, unknown>, path: (string | number)[], lc: LocaleContext, what: string, consequence: (lang: string) => string): void {
  const absent = lc.languages.filter((l) => !(l in map));
  if (!absent.length) return;
  problemAt(lc, path, {
    severity: 'warning',
    code: 'missing_translation',
    message: `${what} has no ${absent.map((l) => `${languageName(l)} (${l})`).join(', ')} version: ${consequence(absent[0]!)}`,
    hint: `add ${absent.map((l) => `${l}: …`).join(', ')} to the map`,
  });
}

/** Words of a text outside `{{…}}` and URLs: a text without two of them (a code, a name, an emoji) needs no translation. */
function wordCount(text: string): number {
  const bare = text.replace(/\{\{[\s\S]*?\}\}/g, ' ').replace(/\b(?:https?|mailto|tel):\S+/gi, ' ');
  return (bare.match(/\p{L}{2,}/gu) ?? []).length;
}

/**
 * A customer-visible text: the text in every language of the bot. A plain text is the same in every
 * language; a map gives each language its own (a missing language gets the default language's,
 * with a `missing_translation` warning). In a multilingual bot a plain text of two or more words
 * gets an `untranslated_text` warning.
 */
export function localizeText(raw: unknown, path: (string | number)[], lc: LocaleContext | undefined, what = 'this text'): { text: string; local?: Record<string, string> } {
  if (typeof raw === 'string' || !isLanguageMapValue(raw)) {
    const text = typeof raw === 'string' ? raw : String(raw ?? '');
    if (lc && lc.languages.length > 1 && wordCount(text) >= 2)
      problemAt(lc, path, {
        severity: 'warning',
        code: 'untranslated_text',
        message: `"${text.length > 50 ? `${text.slice(0, 50)}…` : text}" is one text for every language (${lc.languages.join(', ')})`,
        hint: `write it as a map, e.g. { ${lc.languages.map((l) => `${l}: "…"`).join(', ')} }, unless it is the same in every language`,
      });
    return { text };
  }
  const languages = lc?.languages ?? [];
  const map = lc ? knownKeys(raw as Record<string, string>, path, lc, what) : (raw as Record<string, string>);
  if (lc) missing(map, path, lc, what, (l) => `customers writing ${languageName(l)} see the ${languageName(languages.find((x) => x in map) ?? languages[0]!)} text`);
  const def = languages.find((l) => l in map) ?? Object.keys(map)[0];
  const text = def !== undefined ? String(map[def] ?? '') : '';
  const local: Record<string, string> = {};
  for (const l of languages.slice(1)) if (l in map && map[l] !== text) local[l] = String(map[l]);
  return Object.keys(local).length ? { text, local } : { text };
}

/** The text in `language` from a localizeText result. */
export function textIn(t: { text: string; local?: Record<string, string> }, language: string): string {
  return t.local?.[language] ?? t.text;
}

/**
 * A list per language. `plainIs`: what a plain list means — `default` (trigger examples: they are
 * written in the default language) or `every` (keywords, synonyms). Returns the default language's
 * list as `list` and the other languages' in `local`.
 */
export function localizeList(
  raw: unknown,
  path: (string | number)[],
  lc: LocaleContext | undefined,
  plainIs: 'default' | 'every',
  what: string,
  consequence?: (lang: string) => string,
): { list: string[]; local?: Record<string, string[]>; pos: (lang: string, i: number) => (string | number)[] } {
  if (raw === undefined || Array.isArray(raw) || !isLanguageMapValue(raw)) {
    const list = Array.isArray(raw) ? raw.map(String) : [];
    if (lc && plainIs === 'default' && list.length && lc.languages.length > 1 && consequence)
      missing({ [lc.languages[0]!]: list }, path, lc, what, consequence);
    return { list, pos: (_l, i) => [...path, i] };
  }
  const map = lc ? knownKeys(raw as Record<string, string[]>, path, lc, what) : (raw as Record<string, string[]>);
  if (lc && consequence) missing(map, path, lc, what, consequence);
  const languages = lc?.languages ?? Object.keys(map);
  const def = languages[0]!;
  const local: Record<string, string[]> = {};
  for (const l of languages.slice(1)) if (map[l]?.length) local[l] = map[l]!.map(String);
  return { list: (map[def] ?? []).map(String), ...(Object.keys(local).length ? { local } : {}), pos: (l, i) => [...path, l, i] };
}

/**
 * Language hooks of the linear matcher: normalisation, tokenisation and (optional) stemming.
 *
 * Tokenising and normalising are language-neutral (Unicode letters/digits, lower case, accents
 * stripped). Stemming uses nlp.js's Snowball stemmers from the `@nlpjs/lang-xx` packages, loaded
 * lazily on first use: `@nlpjs/lang-en-min` (or `@nlpjs/lang-en`) for English, `@nlpjs/lang-<code>`
 * otherwise. A language without an installed package simply gets no stemmed view (the character
 * n-grams already cover most of what stemming buys); {@link LanguageSupport.stemmer} says which.
 */

export interface LanguageSupport {
  /** ISO 639-1 code. */
  language: string;
  /** Lower-cased, accent-free text with collapsed whitespace. */
  normalize(text: string): string;
  /** Word tokens of a normalised text. */
  tokenize(normalized: string): string[];
  /** Stem of one token (identity when no stemmer is available). */
  stem(token: string): string;
  /** "package@version" of the stemmer in use, or "none". Part of the matcher's version string. */
  stemmer: string;
}

/** "en", "EN", "en-GB", "en_US" → "en". Throws on anything that is not an ISO 639-1 code. */
export function normalizeLanguage(language: string, who = 'linear intent matcher'): string {
  const code = (typeof language === 'string' ? language : '').trim().toLowerCase().split(/[-_]/)[0] ?? '';
  if (!/^[a-z]{2}$/.test(code)) {
    throw new Error(`${who}: "${String(language)}" is not a language code; use a two-letter ISO 639-1 code such as "en".`);
  }
  return code;
}

const COMBINING_MARKS = /[\u0300-\u036f]/g;
const APOSTROPHES = /['’‘`´]/g;
const NON_WORD = /[^\p{L}\p{N}]+/gu;

/** Lower case, NFKD without combining marks, apostrophes dropped ("isn't" → "isnt"), other punctuation → space. */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(COMBINING_MARKS, '')
    .toLowerCase()
    .replace(APOSTROPHES, '')
    .replace(NON_WORD, ' ')
    .trim();
}

export function tokenizeNormalized(normalized: string): string[] {
  return normalized ? normalized.split(' ') : [];
}

interface StemmerLike {
  stemWord(word: string): string;
}

type StemmerCtor = new () => StemmerLike;

const stemmerCache = new Map<string, { ctor: StemmerCtor; id: string } | null>();

function packageVersion(pkg: string): string {
  try {
    return String((require(`${pkg}/package.json`) as { version?: unknown }).version ?? '?');
  } catch {
    return '?';
  }
}

function isMissingPackage(err: unknown, pkg: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return !!e && e.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(`'${pkg}'`);
}

/** The Snowball stemmer class of an installed @nlpjs/lang-xx package, or null. */
function loadStemmer(language: string): { ctor: StemmerCtor; id: string } | null {
  if (stemmerCache.has(language)) return stemmerCache.get(language)!;
  const candidates = language === 'en' ? ['@nlpjs/lang-en-min', '@nlpjs/lang-en'] : [`@nlpjs/lang-${language}`];
  let found: { ctor: StemmerCtor; id: string } | null = null;
  for (const pkg of candidates) {
    let mod: Record<string, unknown>;
    try {
      mod = require(pkg) as Record<string, unknown>;
    } catch (err) {
      if (isMissingPackage(err, pkg)) continue;
      throw err;
    }
    const name = `Stemmer${language[0]!.toUpperCase()}${language.slice(1)}`;
    const ctor = mod[name];
    if (typeof ctor === 'function') {
      found = { ctor: ctor as StemmerCtor, id: `${pkg}@${packageVersion(pkg)}` };
      break;
    }
  }
  stemmerCache.set(language, found);
  return found;
}

export interface LanguageOptions {
  /** 'auto' (default): stem when an nlp.js package for the language is installed; false: never. */
  stemming?: 'auto' | false;
}

/** Language hooks for `language`. Stemming results are memoised per instance. */
export function languageSupport(language: string, options: LanguageOptions = {}): LanguageSupport {
  const code = normalizeLanguage(language);
  const loaded = options.stemming === false ? null : loadStemmer(code);
  const memo = new Map<string, string>();
  let stem: (t: string) => string = (t) => t;
  if (loaded) {
    const stemmer = new loaded.ctor();
    stem = (t: string): string => {
      let s = memo.get(t);
      if (s === undefined) {
        // Stemming digits or single letters is pointless and Snowball may mangle them.
        s = t.length < 3 || /\d/.test(t) ? t : String(stemmer.stemWord(t) || t);
        if (memo.size < 200_000) memo.set(t, s);
      }
      return s;
    };
  }
  return {
    language: code,
    normalize: normalizeText,
    tokenize: tokenizeNormalized,
    stem,
    stemmer: loaded ? loaded.id : 'none',
  };
}

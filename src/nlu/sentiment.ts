/**
 * Sentiment of a customer message, for bots whose intent matcher gives none (the linear matcher):
 * nlp.js's SentimentAnalyzer (@nlpjs/sentiment) with the language package's lexicon (English:
 * Senticon, from @nlpjs/lang-en). Scores are sums over the words found in the lexicon (roughly -1
 * to +1 per strongly coloured word, negations flip the sign); `vote` is its sign.
 *
 * Loaded lazily on first use; a language without a lexicon yields undefined.
 */
export interface Sentiment {
  score: number;
  vote: 'positive' | 'neutral' | 'negative';
}

type Analyzer = { process(input: { locale: string; text: string }): Promise<{ sentiment?: { score: number; vote: string; type?: string } }> };

const analyzers = new Map<string, Promise<Analyzer | null>>();

async function analyzerFor(language: string): Promise<Analyzer | null> {
  let p = analyzers.get(language);
  if (!p) {
    p = (async () => {
      let lang: { LangEn?: unknown } & Record<string, unknown>;
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        lang = require(`@nlpjs/lang-${language}`);
      } catch {
        return null;
      }
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { containerBootstrap } = require('@nlpjs/core') as { containerBootstrap: () => Promise<{ use(x: unknown): void }> };
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { SentimentAnalyzer } = require('@nlpjs/sentiment') as { SentimentAnalyzer: new (o: { container: unknown }) => Analyzer };
      const container = await containerBootstrap();
      const Lang = Object.values(lang).find((v) => typeof v === 'function');
      if (!Lang) return null;
      container.use(Lang);
      return new SentimentAnalyzer({ container });
    })();
    analyzers.set(language, p);
  }
  return p;
}

export function sentimentAnalyzer(language: string): (text: string) => Promise<Sentiment | undefined> {
  return async (text: string) => {
    const a = await analyzerFor(language);
    if (!a) return undefined;
    const r = await a.process({ locale: language, text });
    const s = r.sentiment;
    if (!s || !s.type) return undefined; // no lexicon for this language
    const score = Math.round(s.score * 1000) / 1000;
    return { score, vote: score > 0 ? 'positive' : score < 0 ? 'negative' : 'neutral' };
  };
}

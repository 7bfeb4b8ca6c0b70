/**
 * The intent matcher of a bot with several languages: one trained matcher per language (each with
 * its own model, cache entry and resolved thresholds) and the language detector. As an
 * {@link IntentMatcher} it classifies in the default language, so code that knows nothing of
 * languages keeps working; the conversation service uses {@link MultilingualMatcher.classifyIn} and
 * {@link MultilingualMatcher.detector}.
 */
import type { Classification, IntentMatcher, TrainingCorpus } from './port';
import type { LanguageDetector } from './language';

const FORMAT = 'baton.multilingual-model';

export class MultilingualMatcher implements IntentMatcher {
  readonly name = 'baton-multilingual';
  readonly version: string;

  /**
   * @param languages the bot's languages, default first
   * @param matchers a trained matcher per language
   */
  constructor(
    readonly languages: string[],
    readonly matchers: Record<string, IntentMatcher>,
    readonly detector: LanguageDetector,
  ) {
    if (!languages.length || languages.some((l) => !matchers[l])) throw new Error('MultilingualMatcher: a matcher is needed for every language');
    this.version = languages.map((l) => `${l}:${matchers[l]!.name}@${matchers[l]!.version ?? '0'}`).join(',');
  }

  get defaultLanguage(): string {
    return this.languages[0]!;
  }

  /** Each language's matcher is trained on its own corpus (see trainBot in src/main.ts). */
  async train(_corpus: TrainingCorpus): Promise<void> {
    throw new Error('MultilingualMatcher: train each language\'s matcher on its own corpus (trainBot does)');
  }

  classify(text: string): Promise<Classification> {
    return this.classifyIn(this.defaultLanguage, text);
  }

  classifyIn(language: string, text: string): Promise<Classification> {
    const m = this.matchers[language] ?? this.matchers[this.defaultLanguage]!;
    return m.classify(text);
  }

  exportModel(): string {
    return JSON.stringify({ format: FORMAT, languages: this.languages, models: Object.fromEntries(this.languages.map((l) => [l, this.matchers[l]!.exportModel()])) });
  }

  importModel(model: string): void {
    const m = JSON.parse(model) as { format?: string; models?: Record<string, string> };
    if (m.format !== FORMAT || !m.models) throw new Error('not a multilingual Baton model');
    for (const l of this.languages) {
      const x = m.models[l];
      if (typeof x !== 'string') throw new Error(`the model has no ${l} matcher`);
      this.matchers[l]!.importModel(x);
    }
  }
}

/**
 * Minimal ambient types for the parts of nlp.js v4 (the modular packages behind node-nlp 4) that
 * Baton uses. The packages ship no typings.
 *
 * NOTE: because `nlpjs.ts` sits next to this file, `tsc`'s include globs skip this file on their
 * own (a `.ts` file shadows the `.d.ts` of the same base name); `nlpjs.ts` pulls it in with a
 * `/// <reference path="./nlpjs.d.ts" />`. Keep that reference.
 */

declare module '@nlpjs/core' {
  export interface NlpjsLogger {
    debug(...args: unknown[]): void;
    info(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
    log(...args: unknown[]): void;
    trace(...args: unknown[]): void;
    fatal(...args: unknown[]): void;
  }

  /** The nlp.js dependency-injection container. */
  export interface Container {
    /** Registers a plugin (class or instance; its `register(container)` is called). Returns the name used. */
    use(item: unknown, name?: string, isSingleton?: boolean, onlyIfNotExists?: boolean): string;
    /** Registers a class (factory) or an instance (singleton) under a name; replaces any previous one. */
    register(name: string, clazz: unknown, isSingleton?: boolean): void;
    get(name: string, settings?: unknown): unknown;
    registerConfiguration(tag: string, configuration: Record<string, unknown>, overwrite?: boolean): void;
    getConfiguration(tag: string): Record<string, unknown> | undefined;
  }

  /** Creates a fresh container with the core plugins (normalizer, tokenizer, stemmer, logger, mock fs…). */
  export function containerBootstrap(
    settings?: Record<string, unknown>,
    mustLoadEnv?: boolean,
    container?: Container,
  ): Container;
}

declare module '@nlpjs/nlp' {
  import type { Container } from '@nlpjs/core';

  export interface NlpSettings {
    container?: Container;
    languages?: string[];
    /** Score below which process() reports intent "None" (default 0.5). Does not touch `classifications`. */
    threshold?: number;
    autoLoad?: boolean;
    autoSave?: boolean;
    modelFileName?: string;
    forceNER?: boolean;
    calculateSentiment?: boolean;
    /** NLU manager settings. `log` is forwarded to the neural network: true = console per epoch, function = callback. */
    nlu?: {
      log?: boolean | ((status: NeuralTrainStatus, epochMs: number) => void);
      useNoneFeature?: boolean;
      [key: string]: unknown;
    };
    [key: string]: unknown;
  }

  export interface NeuralTrainStatus {
    iterations: number;
    error: number;
    deltaError: number;
  }

  export interface NlpClassification {
    intent: string;
    score: number;
  }

  export interface NlpSentimentResult {
    score: number;
    numWords: number;
    numHits: number;
    average: number;
    /** 'senticon' | 'afinn' | 'pattern', or undefined when the language package has no lexicon. */
    type?: string;
    locale: string;
    vote: 'positive' | 'neutral' | 'negative';
  }

  export interface NlpProcessResult {
    locale: string;
    utterance: string;
    intent: string;
    score: number;
    domain?: string;
    classifications: NlpClassification[];
    entities: unknown[];
    sentiment?: NlpSentimentResult;
    answer?: string;
    [key: string]: unknown;
  }

  export class Nlp {
    constructor(settings?: NlpSettings, container?: Container);
    settings: NlpSettings;
    container: Container;
    addLanguage(locales: string | string[]): void;
    addDocument(locale: string, utterance: string, intent: string): void;
    /** Registers the NLU class and its settings (e.g. neural network settings) for a locale/domain. */
    useNlu(clazz: string | (new (...args: unknown[]) => unknown), locale?: string, domain?: string, settings?: Record<string, unknown>): void;
    train(): Promise<unknown>;
    process(locale: string, utterance: string, context?: Record<string, unknown>, settings?: Record<string, unknown>): Promise<NlpProcessResult>;
    export(minified?: boolean): string;
    import(data: string | Record<string, unknown>): void;
    toJSON(): Record<string, unknown>;
    fromJSON(json: Record<string, unknown>): void;
  }
}

declare module '@nlpjs/lang-en-min' {
  import type { Container } from '@nlpjs/core';
  /** Registers the English tokenizer, stemmer, stopwords, normalizer and an empty sentiment lexicon. */
  export class LangEn {
    register(container: Container): void;
  }
}

declare module '@nlpjs/lang-en' {
  import type { Container } from '@nlpjs/core';
  /** As @nlpjs/lang-en-min, plus the Senticon sentiment lexicon. */
  export class LangEn {
    register(container: Container): void;
  }
}

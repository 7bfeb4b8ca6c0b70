/**
 * The compiled, validated bot: plain data the pure interpreter runs.
 * Produced by `loader.ts` + `compile.ts`; never mutated after loading.
 */
import type { SlotType } from './slot-types';
import type { Expr } from './expressions';
import type { HandoffConfig, Outcome } from './schema';
import type { JsonValue } from '../util/json';

export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

export interface Button {
  title: string;
  payload?: string;
  url?: string;
}
export interface Card {
  title: string;
  subtitle?: string;
  image?: string;
  url?: string;
  buttons?: Button[];
}
/** A channel-neutral message template (texts are Handlebars sources until rendered). */
export interface MessageTemplate {
  text?: string;
  quickReplies?: Button[];
  buttons?: Button[];
  image?: { url: string; alt?: string };
  cards?: Card[];
  links?: { title: string; url: string }[];
  /**
   * Multilingual bots: this message in the bot's other languages — the same message with its texts
   * (text, titles, subtitles, alt texts) in that language. Absent: the same in every language.
   */
  translations?: Record<string, MessageTemplate>;
}

export type SlotDef = SlotType & {
  name: string;
  prompt: MessageTemplate[];
  reprompt?: MessageTemplate[];
  maxAttempts: number;
  /** Step id to continue at when attempts run out; undefined = offer a person. */
  onMaxAttempts?: string;
  fromTrigger: boolean;
  pos: SourcePos;
};

interface StepBase {
  /** Stable id: author-given, or derived from the step's path in the file (e.g. `steps[2].then[0]`). */
  id: string;
  pos: SourcePos;
}
export type Step =
  | (StepBase & { kind: 'say'; messages: MessageTemplate[] })
  | (StepBase & {
      kind: 'collect';
      slot: string;
      prompt?: MessageTemplate[];
      reprompt?: MessageTemplate[];
      digressions: boolean;
    })
  /** Jump to `target` when `cond` is false (compiled form of if/then/else). */
  | (StepBase & { kind: 'branch'; source: string; cond: Expr; whenFalse: number; negate?: false })
  | (StepBase & { kind: 'jump'; target: number })
  | (StepBase & { kind: 'set'; assignments: { name: string; source: string; expr: Expr | null; literal?: JsonValue }[] })
  | (StepBase & {
      kind: 'call';
      action: string;
      args: { name: string; source: string; expr: Expr | null; literal?: JsonValue }[];
      result?: string;
      timeoutMs: number;
      /** Index to continue at when the action fails; -1 = offer a person. */
      onError: number;
    })
  | (StepBase & { kind: 'flow'; flow: string })
  | (StepBase & { kind: 'handoff'; reason: string; queue?: string; priority?: number; messages?: MessageTemplate[] })
  /** Record an analytics event of the bot's own (e.g. `csat`), with values evaluated as expressions. */
  | (StepBase & { kind: 'record'; event: string; data: { name: string; source: string; expr: Expr | null; literal?: JsonValue }[] })
  | (StepBase & { kind: 'end'; outcome: Outcome })
  /** Implicit end of a flow's step list: return to the calling flow, or finish. */
  | (StepBase & { kind: 'return' });

export interface Flow {
  id: string;
  title: string;
  /** Multilingual bots: the title in the bot's other languages (absent: `title` everywhere). */
  titles?: Record<string, string>;
  description?: string;
  intent: string;
  examples: string[];
  keywords: string[];
  payloads: string[];
  /** Where each of `examples` is written, for problems about one example. */
  examplePos?: SourcePos[];
  /** Multilingual bots: trigger examples in the bot's other languages (`examples` are the default language's), with their positions. */
  localExamples?: Record<string, { examples: string[]; pos: SourcePos[] }>;
  /** Keywords that only count in one language (`trigger.keywords: { es: [...] }`); `keywords` count in every language. */
  localKeywords?: Record<string, string[]>;
  slots: Record<string, SlotDef>;
  steps: Step[];
  stepIndex: Record<string, number>;
  file: string;
  pos: SourcePos;
}

export interface Article {
  id: string;
  title: string;
  intent: string;
  questions: string[];
  /** Where each of `questions` is written, for problems about one question. */
  questionPos?: SourcePos[];
  tags: string[];
  link?: string;
  body: string;
  askFeedback: boolean;
  file: string;
  pos: SourcePos;
  /** Multilingual bots: the article in the bot's other languages, from `<id>.<lang>.md`. */
  translations?: Record<string, ArticleTranslation>;
}

/** An article in another language (`<id>.<lang>.md`): its own title, questions, answer and link. */
export interface ArticleTranslation {
  title: string;
  questions: string[];
  questionPos?: SourcePos[];
  body: string;
  link?: string;
  file: string;
  pos: SourcePos;
}

export type IntentTarget =
  | { kind: 'flow'; flowId: string }
  | { kind: 'article'; articleId: string }
  | { kind: 'builtin'; name: BuiltinName };

export const BUILTIN_NAMES = ['greeting', 'thanks', 'goodbye', 'human', 'restart', 'cancel'] as const;
export type BuiltinName = (typeof BUILTIN_NAMES)[number];

/** bot.yaml `nlu:` settings that choose and tune the intent matcher (see docs/nlu.md). */
export interface NluEngineConfig {
  matcher: 'linear' | 'nlpjs';
  /** `threshold: auto` (the default): chosen at training time by cross-validation for `targetWrongRate`. */
  autoThreshold: boolean;
  /** `digressionThreshold: auto` (the default): halfway between the threshold and 1. */
  autoDigressionThreshold: boolean;
  /** `ambiguityMargin: auto` (the default): a margin suited to the matcher's scores. */
  autoAmbiguityMargin: boolean;
  /** Largest acceptable share of wrong answers among answers given, for `threshold: auto`. */
  targetWrongRate: number;
  /** Train Baton's generic off-topic questions as a rejection class (linear matcher only). */
  outOfScope: boolean;
}

export interface BotConfig {
  nlu: {
    /** Answer when the top intent's confidence is at least this. With `threshold: auto` a placeholder until trainBot() resolves it. */
    threshold: number;
    /** With `ambiguityMargin: auto` a placeholder until trainBot() resolves it. */
    ambiguityMargin: number;
    /** With `digressionThreshold: auto` a placeholder until trainBot() resolves it. */
    digressionThreshold: number;
    suggestions: number;
    suggestionThreshold: number;
    /** Engine settings, read by src/nlu and src/main.ts (the interpreter reads only the numbers above). Absent = defaults. */
    engine?: NluEngineConfig;
    /**
     * Multilingual bots: the resolved numbers of each language's matcher (each language has its own
     * model and `auto` threshold). The numbers above are the default language's.
     */
    languages?: Record<string, { threshold: number; ambiguityMargin: number; digressionThreshold: number }>;
  };
  fallback: { offerHandoffAfter: number };
  /** bot.yaml `handoff:` (queues, hours, triggers, afterFlow; see docs/handoff.md). */
  handoff: HandoffConfig;
  answers: { askFeedback: boolean };
  /** `resumeAfterMs`: bot.yaml `conversation.resumeAfter` in milliseconds; null = never ask "continue or start over?". */
  conversation: { resumeAfterMs: number | null };
}

export interface Bot {
  id: string;
  name: string;
  /** The default language (bot.yaml `language`, or the first of `languages`). */
  language: string;
  /** Every language of the bot, the default first (one entry for a single-language bot; absent in bots built by hand). */
  languages?: string[];
  dir: string;
  flowsDir: string;
  knowledgeDir: string;
  testsDir: string;
  actionsModule?: string;
  welcomeFlow?: string;
  profileFields: string[];
  config: BotConfig;
  /** Bot-wide messages (fallback, handoff, …) as templates, defaults merged in. */
  messages: Record<string, MessageTemplate[]>;
  flows: Record<string, Flow>;
  articles: Record<string, Article>;
  /** intent name -> what it triggers */
  intents: Record<string, IntentTarget>;
  /** exact payload -> intent name */
  payloads: Record<string, string>;
  /** lower-cased keyword/phrase -> intent name */
  keywords: Record<string, string>;
  /** Human title of an intent (used in suggestions and "Did you mean…?"). */
  titles: Record<string, string>;
  /** Multilingual bots: titles in the other languages, by language then intent (missing: `titles`). */
  localTitles?: Record<string, Record<string, string>>;
  /** Multilingual bots: keywords that only count in one language, by language then lower-cased keyword. */
  localKeywords?: Record<string, Record<string, string>>;
  /** Variables assigned anywhere (set steps and action results), for template checks. */
  knownVars: string[];
}

/**
 * The authoring format, as zod schemas. These describe what an author writes in
 * YAML; `compile.ts` turns a parsed flow into the flat program the interpreter runs.
 * Step objects are validated one kind at a time (see `STEP_KINDS`), so an unknown
 * or misspelt step kind gets its own clear error instead of a union mismatch.
 */
import { z } from 'zod';
import { DEFAULT_TARGET_WRONG_RATE } from '../nlu/settings';

const id = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'use letters, digits, "_", "-" or "." and start with a letter');

/** A language code as a key of a per-language map (`{ en: …, es: … }`); the loader checks it is one of the bot's languages. */
export const LANGUAGE_KEY = /^[a-z]{2}$/;

/**
 * A per-language map, `{ en: …, es: … }`: a non-empty map whose keys all look like language codes
 * and whose values all fit `item`. Written as a custom type (not a record) so that a message map
 * with a misspelt key (`{ txet: … }`) still gets "unknown key" rather than a union error.
 */
export function languageMap<T extends z.ZodType>(item: T) {
  return z.custom<Record<string, z.infer<T>>>(
    (v) =>
      !!v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      Object.keys(v).length > 0 &&
      Object.entries(v as Record<string, unknown>).every(([k, x]) => LANGUAGE_KEY.test(k) && item.safeParse(x).success),
    { message: 'expected a text, or a map of language code to text such as { en: "Hello", es: "Hola" }' },
  );
}

/** A customer-visible text: one text for every language, or one per language (`{ en: …, es: … }`). */
export const localizedText = z.union([z.string(), languageMap(z.string())]);
const localizedTitle = z.union([z.string().min(1), languageMap(z.string().min(1))]);
/** A list of phrases (examples, keywords, synonyms): one list, or one list per language. */
const localizedList = z.union([z.array(z.string().min(1)), languageMap(z.array(z.string().min(1)))]);

export const buttonSchema = z.union([
  localizedTitle,
  z.strictObject({
    title: localizedTitle,
    payload: z.string().min(1).optional(),
    url: z.string().url().optional(),
  }),
]);

export const cardSchema = z.strictObject({
  title: localizedTitle,
  subtitle: localizedText.optional(),
  image: z.string().optional(),
  url: z.string().optional(),
  buttons: z.array(buttonSchema).optional(),
});

export const messageObjectSchema = z.strictObject({
  text: localizedText.optional(),
  quickReplies: z.array(buttonSchema).optional(),
  buttons: z.array(buttonSchema).optional(),
  image: z.union([z.string(), z.strictObject({ url: z.string(), alt: localizedText.optional() })]).optional(),
  cards: z.array(cardSchema).optional(),
  links: z.array(z.strictObject({ title: localizedText, url: z.string() })).optional(),
});

/** A message: a text (or per-language texts), or a message map. */
export const messageSchema = z.union([localizedText, messageObjectSchema]);
/** `say:` takes one message or a list of messages. */
export const saySchema = z.union([messageSchema, z.array(messageSchema).min(1)]);

const choiceOption = z.union([
  z.string().min(1),
  z.strictObject({
    value: z.string().min(1),
    title: localizedText.optional(),
    synonyms: localizedList.optional(),
  }),
]);

const slotCommon = {
  prompt: saySchema,
  reprompt: saySchema.optional(),
  maxAttempts: z.number().int().min(1).max(10).optional(),
  onMaxAttempts: z.string().optional(),
  fromTrigger: z.boolean().optional(),
  description: z.string().optional(),
};

export const slotSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), minLength: z.number().int().min(0).optional(), maxLength: z.number().int().min(1).optional(), ...slotCommon }),
  z.strictObject({ type: z.literal('number'), min: z.number().optional(), max: z.number().optional(), ...slotCommon }),
  z.strictObject({ type: z.literal('integer'), min: z.number().optional(), max: z.number().optional(), ...slotCommon }),
  z.strictObject({ type: z.literal('email'), ...slotCommon }),
  z.strictObject({ type: z.literal('phone'), ...slotCommon }),
  z.strictObject({ type: z.literal('date'), past: z.boolean().optional(), future: z.boolean().optional(), ...slotCommon }),
  z.strictObject({ type: z.literal('yes_no'), ...slotCommon }),
  z.strictObject({ type: z.literal('choice'), options: z.array(choiceOption).min(1), ...slotCommon }),
  z.strictObject({
    type: z.literal('pattern'),
    pattern: z.string().min(1),
    flags: z.string().regex(/^[imsu]*$/, 'allowed regex flags are i, m, s and u').optional(),
    normalize: z.enum(['upper', 'lower', 'none']).optional(),
    ...slotCommon,
  }),
]);

export const triggerSchema = z.strictObject({
  intent: id.optional(),
  /** A list (the bot's default language) or one list per language. */
  examples: localizedList.optional(),
  /** A list (every language) or one list per language. */
  keywords: localizedList.optional(),
  payloads: z.array(z.string().min(1)).optional(),
});

export const OUTCOMES = ['resolved', 'handed_off', 'abandoned', 'cancelled', 'unresolved'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** A `then:`/`else:`/`onError:` target: a step id to jump to, or a nested list of steps. */
const target = z.union([z.string().min(1), z.array(z.unknown())]);
const common = { id: id.optional(), digressions: z.boolean().optional() };
const literal = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const STEP_SCHEMAS = {
  say: z.strictObject({ ...common, say: saySchema }),
  collect: z.strictObject({ ...common, collect: id, prompt: saySchema.optional(), reprompt: saySchema.optional() }),
  if: z.strictObject({ ...common, if: z.string().min(1), then: target, else: target.optional() }),
  set: z.strictObject({ ...common, set: z.record(id, z.union([literal, z.array(z.unknown()), z.record(z.string(), z.unknown())])) }),
  call: z.strictObject({
    ...common,
    call: id,
    args: z.record(z.string(), z.union([literal, z.array(z.unknown()), z.record(z.string(), z.unknown())])).optional(),
    result: id.optional(),
    timeout: z.number().int().min(10).max(120000).optional(),
    onError: target.optional(),
  }),
  flow: z.strictObject({ ...common, flow: id }),
  goto: z.strictObject({ ...common, goto: z.string().min(1) }),
  handoff: z.strictObject({
    ...common,
    handoff: z.union([
      z.literal(true),
      z.strictObject({
        reason: z.string().min(1).optional(),
        queue: z.string().min(1).optional(),
        priority: z.number().int().min(0).max(10).optional(),
        say: saySchema.optional(),
      }),
    ]),
  }),
  end: z.strictObject({ ...common, end: z.enum(OUTCOMES) }),
  /** Record an analytics event (e.g. `csat { rating }`): `record: csat`, `data: { rating: slots.rating }` (values are expressions). */
  record: z.strictObject({
    ...common,
    record: id,
    data: z.record(z.string(), z.union([literal, z.array(z.unknown()), z.record(z.string(), z.unknown())])).optional(),
  }),
} as const;
export type StepKind = keyof typeof STEP_SCHEMAS;
export const STEP_KINDS = Object.keys(STEP_SCHEMAS) as StepKind[];

export const flowFileSchema = z.strictObject({
  id: id.optional(),
  title: localizedTitle.optional(),
  description: z.string().optional(),
  trigger: triggerSchema.optional(),
  slots: z.record(id, z.unknown()).optional(),
  steps: z.array(z.unknown()).min(1),
  /** Digressions are allowed by default in every collect step; `false` switches them off for the whole flow. */
  digressions: z.boolean().optional(),
});

export const articleFrontMatterSchema = z.strictObject({
  id: id.optional(),
  title: z.string().min(1),
  /** Missing is reported like an empty list (article_no_questions). */
  questions: z.array(z.string().min(1)).default([]),
  tags: z.array(z.string()).optional(),
  link: z.string().optional(),
  askFeedback: z.boolean().optional(),
});

/** Front matter of an article's translation, `<id>.<lang>.md`: the rest (id, tags, askFeedback) comes from `<id>.md`. */
export const articleTranslationFrontMatterSchema = z.strictObject({
  title: z.string().min(1),
  questions: z.array(z.string().min(1)).default([]),
  /** A help-centre page in this language (default: the main article's `link`). */
  link: z.string().optional(),
});

// ------------------------------------------------------------------------------ handoff (bot.yaml `handoff:`)

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'write opening hours as "HH:MM-HH:MM", e.g. "08:00-20:00"');
const DAY_KEY = /^(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?$/;
/** Opening hours in an IANA time zone: `weekly` maps days (`mon`, `mon-fri`, `sat-sun`) to one or more "HH:MM-HH:MM" ranges. */
export const hoursSchema = z.strictObject({
  timezone: z.string().min(1).refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'not an IANA time zone such as "America/New_York" or "Europe/Paris"'),
  weekly: z.record(
    z.string().regex(DAY_KEY, 'use day names mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri'),
    z.union([clock, z.array(clock), z.literal('closed')]),
  ),
  /** Whole days closed ('YYYY-MM-DD', in the time zone). */
  closed: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'write dates as YYYY-MM-DD')).optional(),
});
export type HoursConfig = z.infer<typeof hoursSchema>;

const triggerRouting = { queue: z.string().min(1).optional(), priority: z.number().int().min(0).max(10).optional() };
const triggerAction = z.enum(['offer', 'handoff']);

export const handoffConfigSchema = z.strictObject({
  /** The queue a handoff goes to when neither the step nor the trigger names one. */
  queue: z.string().min(1).default('general'),
  /** The flow the bot starts when an agent hands the conversation back (e.g. a satisfaction question). */
  afterFlow: id.optional(),
  /** `auto`: waiting conversations are assigned to the least-loaded online agent with the skill; `manual`: agents pick them. */
  assignment: z.enum(['auto', 'manual']).default('auto'),
  /** Opening hours of every queue (a queue's own `hours` wins). Absent: always open. */
  hours: hoursSchema.optional(),
  /** Queues (skills) with their priority (higher is served first) and opening hours. */
  queues: z.record(id, z.strictObject({ title: z.string().optional(), priority: z.number().int().min(0).max(10).default(0), hours: hoursSchema.optional() })).optional(),
  /** Canned responses for agents (a YAML file, relative to the bot folder). Default: canned.yaml if present. */
  canned: z.string().optional(),
  triggers: z
    .strictObject({
      /** Asked for a person (built-in intent). Always on; routing only. */
      customerRequest: z.strictObject({ ...triggerRouting }).optional(),
      /** N misunderstandings in a row. `after` defaults to `fallback.offerHandoffAfter`. */
      fallbacks: z.strictObject({ after: z.number().int().min(1).max(10).optional(), action: triggerAction.default('offer'), ...triggerRouting }).optional(),
      /** N routed messages in a row whose best intent scored below `below`. Off unless set. */
      lowConfidence: z.strictObject({ below: z.number().min(0).max(1), after: z.number().int().min(1).max(10).default(3), action: triggerAction.default('offer'), ...triggerRouting }).optional(),
      /** N messages in a row with a sentiment score at or below `below` (nlp.js Senticon scores, about -1 per strongly negative word). Off unless set. */
      negativeSentiment: z.strictObject({ below: z.number().max(0).default(-0.75), after: z.number().int().min(1).max(10).default(1), action: triggerAction.default('offer'), ...triggerRouting }).optional(),
      /** A question's attempts ran out (without `onMaxAttempts`). */
      maxAttempts: z.strictObject({ action: triggerAction.default('offer'), ...triggerRouting }).optional(),
      /** A custom action failed (without `onError`). */
      actionFailure: z.strictObject({ action: triggerAction.default('offer'), ...triggerRouting }).optional(),
      /** A `handoff` step in a flow. */
      flowStep: z.strictObject({ ...triggerRouting }).optional(),
    })
    .prefault({}),
});
export type HandoffConfig = z.infer<typeof handoffConfigSchema>;

/** A number in [0, 1] or "auto"; "auto" (and absence) parse to undefined. */
const autoOrUnit = z.preprocess((v) => (v === 'auto' ? undefined : v), z.number().min(0).max(1).optional());

export const botFileSchema = z.strictObject({
  id: id.optional(),
  name: z.string().min(1),
  /** The bot's one language (default `en`). */
  language: z.string().min(2).max(5).optional(),
  /** Several languages, the first being the default: an alternative to `language` (see docs/flows.md). */
  languages: z.array(z.string()).min(1).optional(),
  description: z.string().optional(),
  flows: z.string().optional(),
  knowledge: z.string().optional(),
  tests: z.string().optional(),
  actions: z.string().optional(),
  welcomeFlow: id.optional(),
  profile: z.array(id).optional(),
  nlu: z
    .strictObject({
      /** The intent matcher: `linear` (calibrated TF-IDF + softmax regression) or `nlpjs` (node-nlp). See docs/nlu.md. */
      matcher: z.enum(['linear', 'nlpjs']).default('linear'),
      /**
       * Minimum confidence to act on an intent; below it the bot says it is not sure. A number, or
       * `auto` (the default, also when absent: undefined here): chosen when the model is trained,
       * by cross-validation on the bot's examples, for `targetWrongRate`.
       */
      threshold: autoOrUnit,
      /** For `threshold: auto`: the largest acceptable share of wrong answers among the answers given. */
      targetWrongRate: z.number().min(0.005).max(0.5).default(DEFAULT_TARGET_WRONG_RATE),
      /** Train Baton's generic off-topic questions ("tell me a joke") as a class the bot declines. */
      outOfScope: z.boolean().default(true),
      /**
       * If the second-best intent is within this margin of the best (and together they reach the
       * threshold), the bot asks which one was meant. `auto` (default): 0.3 with the linear matcher, 0.1 with nlpjs.
       */
      ambiguityMargin: autoOrUnit,
      /** Minimum confidence for leaving a question half-way to handle another topic; `auto` (default): halfway between the threshold and 1. */
      digressionThreshold: autoOrUnit,
      /** Number of suggestions offered when the bot is not sure. */
      suggestions: z.number().int().min(0).max(5).default(3),
      /** Minimum confidence for an intent to be offered as a suggestion. */
      suggestionThreshold: z.number().min(0).max(1).default(0.2),
    })
    .prefault({}),
  fallback: z
    .strictObject({
      /** After this many misunderstandings in a row the bot offers a person. */
      offerHandoffAfter: z.number().int().min(1).max(10).default(2),
    })
    .prefault({}),
  handoff: handoffConfigSchema.prefault({}),
  answers: z
    .strictObject({
      /** Ask "Did that help?" after a knowledge answer and record the reply as feedback. */
      askFeedback: z.boolean().default(true),
    })
    .prefault({}),
  conversation: z
    .strictObject({
      /**
       * A customer who comes back in the middle of a question after more than this long without
       * writing is asked whether to continue or start over. A whole number with s, m, h or d
       * ("30m", "24h", "7d"); `0` or "never" switches the question off.
       */
      resumeAfter: z
        .custom<string | number>((v) => v === 0 || (typeof v === 'string' && /^\s*(?:never|0|\d+\s*[smhd])\s*$/i.test(v)), {
          message: 'write a duration with its unit, like "30m", "24h" or "7d" (s, m, h, d), or "never" to switch it off',
        })
        .default('24h'),
    })
    .prefault({}),
  messages: z.record(z.string(), saySchema).optional(),
});
export type BotFile = z.infer<typeof botFileSchema>;

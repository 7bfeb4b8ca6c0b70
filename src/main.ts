/**
 * The composition root: configuration → adapters → service. Every entry point (CLI,
 * HTTP server, tests, benchmarks) builds Baton through `createBaton`.
 */
import * as path from 'path';
import type { Bot } from './flow/model';
import type { Problem } from './flow/problems';
import { loadBotOrThrow } from './flow/loader';
import { ConversationService } from './conversation/service';
import { loadActionsModule, type Actions } from './conversation/actions';
import type { ConversationStore } from './store/port';
import { MemoryStore } from './store/memory';
import { SqliteStore } from './store/sqlite';
import type { IntentMatcher, TrainProgress } from './nlu/port';
import { LinearIntentMatcher } from './nlu/linear/matcher';
import { loadOrTrain, type LoadOrTrainResult } from './nlu/cache';
import {
  applyThresholds,
  createIntentMatcher,
  defaultFolds,
  describeResolution,
  engineCacheVersion,
  exampleCount,
  heldOutPredictions,
  isStoredHeldOut,
  packHeldOut,
  resolveThresholds,
  trainingCorpus,
  unpackHeldOut,
  type StoredHeldOut,
  type ThresholdResolution,
} from './nlu/engine';
import { engineConfigOf } from './nlu/settings';
import { botLanguages } from './nlu/corpus';
import { LanguageDetector } from './nlu/language';
import { MultilingualMatcher } from './nlu/multilingual';
import { jsonLogger, type Logger } from './util/logger';
import { CommitFeed, observeStore } from './realtime/commit-feed';
import { HandoffService } from './handoff/service';
import type { HandoffStore } from './handoff/store/port';
import { MemoryHandoffStore } from './handoff/store/memory';
import { SqliteHandoffStore } from './handoff/store/sqlite';
import { loadCanned } from './handoff/canned';
import { sentimentAnalyzer } from './nlu/sentiment';
import type { ChannelAdapter } from './channels/port';
import { ChannelGateway, type RetryPolicy } from './channels/gateway';
import { createChannelAdapters, envPrefix } from './channels';
import type { ChannelStore } from './channels/store/port';
import { MemoryChannelStore } from './channels/store/memory';
import { SqliteChannelStore } from './channels/store/sqlite';

export interface BatonOptions {
  /** Folder of the bot (holds bot.yaml). */
  botDir: string;
  /** Overrides bot.yaml `conversation.resumeAfter` (milliseconds; 0 = never ask). From BATON_RESUME_AFTER. */
  resumeAfterMs?: number;
  /**
   * 'memory', a SQLite file path, a MongoDB URL (`{ mongo: 'mongodb://…' }`, e.g. from
   * BATON_DATABASE_URL), or an existing store. Default: memory.
   */
  store?: 'memory' | { sqlite: string } | { mongo: string } | ConversationStore;
  /** Where trained models are cached. Default: `<botDir>/.cache` or $BATON_CACHE_DIR. */
  cacheDir?: string;
  logger?: Logger;
  clock?: () => Date;
  newId?: () => string;
  onTrainProgress?: (p: TrainProgress) => void;
  /** Replace the actions module (tests). */
  actions?: Actions;
  /**
   * Agents and the handoff queue. Default: next to the conversations (the same SQLite file or
   * MongoDB database; memory for memory). MongoDB without transactions (not a replica set) falls
   * back to memory, with a warning — not shared between processes.
   */
  handoffStore?: HandoffStore;
  /** bcrypt cost for agent passwords (≥ 10; default 10). */
  bcryptCost?: number;
  /**
   * Messaging channels (SMS, WhatsApp, Messenger, Bot Framework). `env`: the channels whose
   * variables are set are on (docs/channels.md); `adapters`: exactly these (tests, embedding).
   * Absent: no channels.
   */
  channels?: { env?: Record<string, string | undefined>; publicUrl?: string; adapters?: ChannelAdapter[]; retry?: Partial<RetryPolicy>; store?: ChannelStore };
}

export interface Baton {
  bot: Bot;
  warnings: Problem[];
  service: ConversationService;
  /** The store; every create/commit through it is announced on `commits`. */
  store: ConversationStore;
  /** Commits made in this process (through `store` or the service), for real-time delivery and metrics. */
  commits: CommitFeed;
  matcher: IntentMatcher;
  model: { hash: string; fromCache: boolean; trainMs: number; file: string };
  /** Human handoff: queue, routing, agents (see docs/handoff.md). */
  handoff: HandoffService;
  /** Messaging channels (null when none is on). */
  channels: ChannelGateway | null;
  close(): Promise<void>;
}

export function defaultCacheDir(bot: Bot): string {
  return process.env.BATON_CACHE_DIR ? path.resolve(process.env.BATON_CACHE_DIR, bot.id) : path.join(bot.dir, '.cache');
}

export interface TrainedBot extends LoadOrTrainResult {
  /** The thresholds now in `bot.config.nlu` (`auto` resolved), and what they give on cross-validation (the default language's). */
  thresholds: ThresholdResolution;
  /**
   * Bots with several languages: each language's matcher, cache entry and thresholds (`matcher` is
   * then a {@link MultilingualMatcher}; `hash`/`file` are the default language's, `fromCache` is
   * true when every language came from the cache, `trainMs` the sum).
   */
  languages?: Record<string, LoadOrTrainResult & { thresholds: ThresholdResolution }>;
}

/** Train (or load) the matcher of one language and resolve its thresholds (without applying them). */
async function trainLanguage(
  bot: Bot,
  language: string,
  opts: { cacheDir?: string; logger?: Logger; onProgress?: (p: TrainProgress) => void; keep?: number },
): Promise<LoadOrTrainResult & { thresholds: ThresholdResolution }> {
  const engine = engineConfigOf(bot.config.nlu);
  const corpus = trainingCorpus(bot, engine, language);
  const folds = defaultFolds(exampleCount(corpus));
  const create = (): IntentMatcher => createIntentMatcher(engine, language, corpus, folds);
  const matcher = create();
  const log = opts.logger;
  const config = { ...bot.config.nlu };
  const r = await loadOrTrain({
    corpus,
    matcher,
    cacheDir: opts.cacheDir ?? defaultCacheDir(bot),
    version: engineCacheVersion(matcher, folds),
    onProgress: opts.onProgress,
    log: log ? (m: string) => log.info(m, { bot: bot.id, ...(bot.languages && bot.languages.length > 1 ? { language } : {}) }) : undefined,
    // The held-out predictions are stored with the model. The linear matcher's calibration folds
    // are the cross-validation (free); node-nlp runs its own, only when the threshold is `auto`.
    meta: async (m) => {
      const needCv = m instanceof LinearIntentMatcher || engine.autoThreshold;
      const preds = needCv ? await heldOutPredictions(m, corpus, create, folds) : null;
      const packed = packHeldOut(preds, folds);
      return { ...packed, resolved: resolveThresholds(config, unpackHeldOut(packed), folds) };
    },
    isMeta: (x) => isStoredHeldOut(x) && x.folds === folds && (x.predictions !== null || !engine.autoThreshold),
    ...(opts.keep ? { keep: opts.keep } : {}),
  });
  const stored = r.meta as StoredHeldOut;
  const thresholds = resolveThresholds(bot.config.nlu, unpackHeldOut(stored), stored.folds);
  if (r.matcher instanceof LinearIntentMatcher) r.matcher.setThreshold(thresholds.threshold);
  const line = `nlu: ${engine.matcher} matcher${bot.languages && bot.languages.length > 1 ? ` (${language})` : ''}, ${describeResolution(thresholds)}`;
  // An `auto` that could not reach its target (or had nothing to measure) is worth a warning.
  if (thresholds.adjusted === 'infeasible' || thresholds.adjusted === 'no-data') log?.warn(line, { bot: bot.id });
  else log?.info(line, { bot: bot.id });
  return { ...r, thresholds };
}

/**
 * Trains (or loads from the cache) the bot's intent matcher, as chosen by bot.yaml's `nlu:` block,
 * and resolves the `auto` settings (threshold, digressionThreshold, ambiguityMargin) into numbers,
 * which it writes into `bot.config.nlu` so that the interpreter (built afterwards) uses them. The
 * cross-validated predictions behind `threshold: auto` (and the threshold they gave) are stored
 * with the cached model: a cache hit gives the same thresholds without retraining, and a changed
 * target or fixed threshold is re-resolved from them.
 *
 * A bot with several languages gets one matcher per language, each trained on that language's
 * examples (its own cache entry, its own `auto` thresholds, written to `bot.config.nlu.languages`),
 * combined with the language detector in a {@link MultilingualMatcher}.
 */
export async function trainBot(bot: Bot, opts: { cacheDir?: string; logger?: Logger; onProgress?: (p: TrainProgress) => void } = {}): Promise<TrainedBot> {
  const languages = botLanguages(bot);
  if (languages.length === 1) {
    const r = await trainLanguage(bot, bot.language, opts);
    applyThresholds(bot.config.nlu, r.thresholds);
    return r;
  }
  const engine = engineConfigOf(bot.config.nlu);
  const per: Record<string, LoadOrTrainResult & { thresholds: ThresholdResolution }> = {};
  for (const language of languages) per[language] = await trainLanguage(bot, language, { ...opts, keep: 3 * languages.length });
  const def = per[languages[0]!]!;
  applyThresholds(bot.config.nlu, def.thresholds);
  bot.config.nlu.languages = Object.fromEntries(
    languages.map((l) => [l, { threshold: per[l]!.thresholds.threshold, ambiguityMargin: per[l]!.thresholds.ambiguityMargin, digressionThreshold: per[l]!.thresholds.digressionThreshold }]),
  );
  const vocabulary = Object.fromEntries(languages.map((l) => [l, trainingCorpus(bot, { ...engine, outOfScope: false }, l).intents.flatMap((i) => i.examples)]));
  const matcher = new MultilingualMatcher(
    languages,
    Object.fromEntries(languages.map((l) => [l, per[l]!.matcher])),
    new LanguageDetector(languages, vocabulary),
  );
  return {
    matcher,
    hash: def.hash,
    file: def.file,
    fromCache: languages.every((l) => per[l]!.fromCache),
    trainMs: languages.reduce((n, l) => n + per[l]!.trainMs, 0),
    thresholds: def.thresholds,
    languages: per,
  };
}

export async function createBaton(opts: BatonOptions): Promise<Baton> {
  const logger = opts.logger ?? jsonLogger({ level: 'info' });
  const { bot, warnings } = loadBotOrThrow(opts.botDir);
  if (opts.resumeAfterMs !== undefined) bot.config.conversation = { ...bot.config.conversation, resumeAfterMs: opts.resumeAfterMs > 0 ? opts.resumeAfterMs : null };
  const actions = opts.actions ?? loadActionsModule(bot.actionsModule);
  // Channels are checked before anything slow: a half-configured channel stops the start at once.
  const c0 = opts.channels;
  const adapters = !c0
    ? []
    : (c0.adapters ?? createChannelAdapters({ env: c0.env ?? {}, prefix: envPrefix(bot.id), botId: bot.id, botName: bot.name, publicUrl: c0.publicUrl, logger, clock: opts.clock ?? (() => new Date()) }));
  const trained = await trainBot(bot, { cacheDir: opts.cacheDir, logger, onProgress: opts.onTrainProgress });
  const rawStore: ConversationStore =
    opts.store === undefined || opts.store === 'memory'
      ? new MemoryStore()
      : 'sqlite' in (opts.store as object)
        ? new SqliteStore({ filename: (opts.store as { sqlite: string }).sqlite })
        : 'mongo' in (opts.store as object)
          ? // Loaded only when used: mongoose is not needed (nor loaded) for the other stores.
            new (await import('./store/mongo')).MongoStore({ url: (opts.store as { mongo: string }).mongo })
          : (opts.store as ConversationStore);
  const commits = new CommitFeed();
  const store = observeStore(rawStore, commits);
  let handoffStore = opts.handoffStore;
  if (!handoffStore) {
    if (opts.store === undefined || opts.store === 'memory') handoffStore = new MemoryHandoffStore();
    else if ('sqlite' in (opts.store as object)) handoffStore = new SqliteHandoffStore({ filename: (opts.store as { sqlite: string }).sqlite });
    else if ('mongo' in (opts.store as object)) {
      // MongoDB: the queue's claim is a multi-document transaction, which needs a replica set.
      const { MongoHandoffStore, TransactionsRequiredError } = await import('./handoff/store/mongo');
      const mh = new MongoHandoffStore({ url: (opts.store as { mongo: string }).mongo });
      try {
        await mh.open();
        handoffStore = mh;
      } catch (e) {
        if (!(e instanceof TransactionsRequiredError)) throw e;
        logger.warn(`${e.message}: agents and the handoff queue are kept in memory (lost on restart, not shared between processes); run MongoDB as a replica set (one node is enough)`);
        await mh.close();
        handoffStore = new MemoryHandoffStore();
      }
    } else handoffStore = new MemoryHandoffStore();
  }
  let closeChannels = async (): Promise<void> => {};
  let handoff: HandoffService | undefined;
  let gateway: ChannelGateway | null = null;
  const service = new ConversationService({
    bot,
    store,
    matcher: trained.matcher,
    actions,
    logger,
    clock: opts.clock,
    newId: opts.newId,
    sentiment: sentimentFor(botLanguages(bot)),
    availability: (queue) => (handoff ? handoff.availability(queue) : Promise.resolve(undefined)),
  });
  handoff = new HandoffService({
    bot,
    store: handoffStore,
    conversations: service,
    conversationStore: store,
    commits,
    clock: opts.clock,
    newId: opts.newId,
    logger,
    canned: loadCanned(bot.dir, bot.config.handoff.canned),
    bcryptCost: opts.bcryptCost,
    channelInfo: async (id, state) => {
      const g = gateway;
      const ch = g?.channelOf(state);
      if (!g || !ch) return null;
      const w = g.window(state, 'agent');
      const undelivered = (await g.undelivered(id)).map((d) => ({ seq: d.seq, status: d.status, ...(d.error ? { error: d.error } : {}) }));
      return { ...ch, ...(w ? { window: { state: w.state, note: w.note, ...(w.until ? { until: w.until } : {}) } } : {}), undelivered };
    },
  });
  if (opts.channels) {
    const c = opts.channels;
    if (adapters.length) {
      let channelStore = c.store;
      if (!channelStore) {
        const db = opts.store !== undefined && opts.store !== 'memory' ? (opts.store as object) : {};
        if ('sqlite' in db) channelStore = new SqliteChannelStore({ filename: (db as { sqlite: string }).sqlite });
        else if ('mongo' in db) channelStore = new (await import('./channels/store/mongo')).MongoChannelStore({ url: (db as { mongo: string }).mongo });
        else channelStore = new MemoryChannelStore();
      }
      gateway = new ChannelGateway({ botId: bot.id, service, store, channelStore, adapters, logger, clock: opts.clock, retry: c.retry });
      const g = gateway;
      const unsubscribe = commits.subscribe(g.onCommit);
      closeChannels = async () => {
        unsubscribe();
        await g.close();
        await channelStore!.close();
      };
    }
  }
  const hs = handoffStore;
  const h = handoff;
  return {
    bot,
    warnings,
    service,
    store,
    commits,
    matcher: trained.matcher,
    model: { hash: trained.hash, fromCache: trained.fromCache, trainMs: trained.trainMs, file: trained.file },
    handoff: h,
    channels: gateway,
    close: async () => {
      h.stop();
      await h.idle();
      await closeChannels();
      await store.close();
      await hs.close();
    },
  };
}

/** Sentiment in the message's language (the conversation's, as the service decides it). */
function sentimentFor(languages: string[]): (text: string, language?: string) => Promise<{ score: number; vote: string } | undefined> {
  const analyzers = new Map(languages.map((l) => [l, sentimentAnalyzer(l)]));
  return (text, language) => (analyzers.get(language ?? languages[0]!) ?? analyzers.get(languages[0]!)!)(text);
}

export { loadBot, loadBotOrThrow } from './flow/loader';

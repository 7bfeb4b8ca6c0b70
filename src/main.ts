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
import { NlpjsIntentMatcher } from './nlu/nlpjs';
import { loadOrTrain } from './nlu/cache';
import { buildCorpus } from './nlu/corpus';
import { jsonLogger, type Logger } from './util/logger';

export interface BatonOptions {
  /** Folder of the bot (holds bot.yaml). */
  botDir: string;
  /** 'memory', a SQLite file path, or an existing store. Default: memory. */
  store?: 'memory' | { sqlite: string } | ConversationStore;
  /** Where trained models are cached. Default: `<botDir>/.cache` or $BATON_CACHE_DIR. */
  cacheDir?: string;
  logger?: Logger;
  clock?: () => Date;
  newId?: () => string;
  onTrainProgress?: (p: TrainProgress) => void;
  /** Replace the actions module (tests). */
  actions?: Actions;
}

export interface Baton {
  bot: Bot;
  warnings: Problem[];
  service: ConversationService;
  store: ConversationStore;
  matcher: IntentMatcher;
  model: { hash: string; fromCache: boolean; trainMs: number; file: string };
  close(): Promise<void>;
}

export function defaultCacheDir(bot: Bot): string {
  return process.env.BATON_CACHE_DIR ? path.resolve(process.env.BATON_CACHE_DIR, bot.id) : path.join(bot.dir, '.cache');
}

export async function trainBot(bot: Bot, opts: { cacheDir?: string; logger?: Logger; onProgress?: (p: TrainProgress) => void } = {}) {
  const matcher = new NlpjsIntentMatcher(bot.language);
  const log = opts.logger;
  return loadOrTrain({
    corpus: buildCorpus(bot),
    matcher,
    cacheDir: opts.cacheDir ?? defaultCacheDir(bot),
    onProgress: opts.onProgress,
    log: log ? (m: string) => log.info(m, { bot: bot.id }) : undefined,
  });
}

export async function createBaton(opts: BatonOptions): Promise<Baton> {
  const logger = opts.logger ?? jsonLogger({ level: 'info' });
  const { bot, warnings } = loadBotOrThrow(opts.botDir);
  const actions = opts.actions ?? loadActionsModule(bot.actionsModule);
  const trained = await trainBot(bot, { cacheDir: opts.cacheDir, logger, onProgress: opts.onTrainProgress });
  const store: ConversationStore =
    opts.store === undefined || opts.store === 'memory'
      ? new MemoryStore()
      : 'sqlite' in (opts.store as object)
        ? new SqliteStore({ filename: (opts.store as { sqlite: string }).sqlite })
        : (opts.store as ConversationStore);
  const service = new ConversationService({ bot, store, matcher: trained.matcher, actions, logger, clock: opts.clock, newId: opts.newId });
  return {
    bot,
    warnings,
    service,
    store,
    matcher: trained.matcher,
    model: { hash: trained.hash, fromCache: trained.fromCache, trainMs: trained.trainMs, file: trained.file },
    close: () => store.close(),
  };
}

export { loadBot, loadBotOrThrow } from './flow/loader';

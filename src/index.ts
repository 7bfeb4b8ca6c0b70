/** Public API for embedding Baton. */
export { createBaton, trainBot, type Baton, type BatonOptions } from './main';
export { loadBot, loadBotOrThrow } from './flow/loader';
export { interpret, RunawayFlowError, type Input, type Context, type OutMessage, type Effect, type TurnResult, type Understanding } from './flow/interpreter';
export type { Bot, Flow, Article, Step, SlotDef } from './flow/model';
export { formatProblem, BotValidationError, type Problem } from './flow/problems';
export { initialState, type ConversationState } from './flow/state';
export { ConversationService, ConversationNotFound, InvalidMessageError, type TurnOutcome, type IncomingMessage } from './conversation/service';
export { ActionError, type ActionContext, type ActionFn, type Actions } from './conversation/actions';
export type { ConversationStore, StoredEvent } from './store/port';
export { MemoryStore } from './store/memory';
export { SqliteStore } from './store/sqlite';
export type { IntentMatcher, TrainingCorpus, Classification } from './nlu/port';
export { NlpjsIntentMatcher } from './nlu/nlpjs';
export { createApp } from './http/app';
export { startServer, type ServerHandle } from './http/serve';
export { signUserId, verifyIdentity } from './identity/verify';
export { webRouter, webAssets } from './web';
export { jsonLogger, silentLogger, type Logger } from './util/logger';

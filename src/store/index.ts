export type {
  CommitInput,
  CommitResult,
  ConversationRecord,
  ConversationStore,
  CreateInput,
  EventsOptions,
  ListOptions,
  NewEvent,
  StoredEvent,
  StoreErrorCode,
} from './port';
export {
  ConversationExistsError,
  ConversationNotFoundError,
  DuplicateIdempotencyKeyError,
  StaleVersionError,
  StoreClosedError,
  StoreError,
} from './port';
export { MemoryStore } from './memory';
export { SqliteStore, SQLITE_SCHEMA_VERSION } from './sqlite';
export type { SqliteStoreOptions } from './sqlite';
// MongoStore is imported from './mongo' directly (not re-exported here), so that loading the store
// index does not load mongoose for deployments that do not use MongoDB.
export type { MongoStoreOptions, MongoStoreTuning } from './mongo';

/**
 * The conversation store port.
 *
 * A conversation is persisted as an append-only event log plus a state snapshot. Conversations
 * never expire. Every change goes through `commit`, which is an optimistic-concurrency
 * compare-and-swap on `version`: it writes events, snapshot and (optionally) an idempotency key
 * in one atomic step, or writes nothing.
 *
 * Three adapters implement this port (`MemoryStore`, `SqliteStore`, `MongoStore`); all are held to
 * the same contract suite (test/store/contract.ts).
 *
 * Conventions shared by all adapters:
 * - Everything that goes in or comes out is a deep copy made by a JSON round trip: a caller
 *   mutating an object it passed in or got back never changes what is stored. Values that are not
 *   JSON come back the way `JSON.parse(JSON.stringify(x))` would make them (`undefined`, functions
 *   and symbols inside arrays become `null` and are dropped from objects, `NaN`/`Infinity` become
 *   `null`, a `Date` becomes its ISO string). A value JSON cannot encode at all (a BigInt, a cyclic
 *   structure) is rejected with a `TypeError` before anything is written.
 * - Timestamps (`at`) are supplied by the caller and must be in the canonical UTC form produced by
 *   `Date.prototype.toISOString()` (e.g. `2024-05-01T12:00:00.000Z`). That form sorts as text,
 *   which is what `list` ordering relies on; anything else is rejected with a `TypeError`.
 * - When `commit` fails, checks are reported in this order: the conversation does not exist
 *   (`ConversationNotFoundError`), the idempotency key was already used
 *   (`DuplicateIdempotencyKeyError`), the version is stale (`StaleVersionError`).
 */
import type { JsonObject, JsonValue } from '../util/json';

export interface StoredEvent {
  /** 1, 2, 3, … per conversation, without gaps. */
  seq: number;
  conversationId: string;
  type: string;
  /** ISO time, supplied by caller. */
  at: string;
  data: JsonObject;
}

export interface NewEvent {
  type: string;
  at: string;
  data: JsonObject;
}

export interface ConversationRecord {
  id: string;
  botId: string;
  /** The verified customer this conversation belongs to, or null for an anonymous conversation. */
  customerId: string | null;
  version: number;
  state: JsonObject;
  createdAt: string;
  updatedAt: string;
}

export interface CommitResult {
  /** The conversation's version after the write. */
  version: number;
  /** The events written, with their assigned seq. */
  events: StoredEvent[];
}

export interface CreateInput {
  id: string;
  botId: string;
  /**
   * The verified customer this conversation belongs to (a non-empty string), so the customer can
   * list their conversations from any device. Omitted (or null) for an anonymous conversation.
   */
  customerId?: string | null;
  state: JsonObject;
  at: string;
  events?: NewEvent[];
}

export interface CommitInput {
  id: string;
  expectedVersion: number;
  state: JsonObject;
  events: NewEvent[];
  at: string;
  /**
   * Stored in the same transaction as the commit. If `key` was already stored for this
   * conversation the commit throws `DuplicateIdempotencyKeyError` and writes nothing.
   */
  idempotency?: { key: string; value: JsonValue };
}

export interface EventsOptions {
  /** Exclusive lower bound on seq; default 0 (from the start). */
  afterSeq?: number;
  /** Default 1000; values above 10000 are clamped to 10000; must be a positive integer. */
  limit?: number;
  /** Only events of these types. `undefined` means all types; `[]` matches nothing. */
  types?: string[];
}

export interface ListOptions {
  botId?: string;
  /** Only the conversations of this customer (see CreateInput.customerId). Combines with botId. */
  customerId?: string;
  /** Default 100; values above 10000 are clamped to 10000; must be a positive integer. */
  limit?: number;
}

export interface ConversationStore {
  /** Create a conversation at version 1 with an initial state; throws ConversationExistsError if the id is taken. */
  create(input: CreateInput): Promise<CommitResult>;
  /** The conversation, or null if there is none with that id. */
  load(id: string): Promise<ConversationRecord | null>;
  /**
   * Atomically: check version === expectedVersion (else throw StaleVersionError, writing nothing),
   * append events (seq increasing per conversation, starting at 1), replace the snapshot,
   * version+1, and store the idempotency key if one is given.
   * Throws ConversationNotFoundError for an unknown id.
   */
  commit(input: CommitInput): Promise<CommitResult>;
  /** Events in seq order; afterSeq exclusive; limit default 1000 (max 10000). Unknown id → []. */
  events(id: string, opts?: EventsOptions): Promise<StoredEvent[]>;
  /**
   * Conversations, optionally only those of a bot and/or a customer, most recently updated first
   * (ties: id ascending, in code point order).
   */
  list(opts?: ListOptions): Promise<ConversationRecord[]>;
  /**
   * The value stored with idempotency key `key` for the conversation (see CommitInput.idempotency),
   * or undefined if the key was never stored. Used so a retried message is not processed twice.
   */
  getIdempotent(conversationId: string, key: string): Promise<JsonValue | undefined>;
  /** Release resources. Idempotent; any other call afterwards throws StoreClosedError. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

export type StoreErrorCode =
  | 'stale_version'
  | 'conversation_exists'
  | 'conversation_not_found'
  | 'duplicate_idempotency_key'
  | 'store_closed';

/** Base class of the errors the store throws on purpose. */
export abstract class StoreError extends Error {
  abstract readonly code: StoreErrorCode;
  /** True if reloading and trying again can succeed. */
  abstract readonly retryable: boolean;
}

/** Optimistic-concurrency conflict: somebody else committed first. Reload and retry. */
export class StaleVersionError extends StoreError {
  override readonly name = 'StaleVersionError';
  readonly code = 'stale_version';
  readonly retryable = true;
  constructor(
    readonly conversationId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(
      `Stale version for conversation "${conversationId}": expected version ${expectedVersion} ` +
        `but the stored version is ${actualVersion}; another writer committed first. ` +
        `Reload the conversation and retry.`,
    );
  }
}

export class ConversationExistsError extends StoreError {
  override readonly name = 'ConversationExistsError';
  readonly code = 'conversation_exists';
  readonly retryable = false;
  constructor(readonly conversationId: string) {
    super(`Conversation "${conversationId}" already exists.`);
  }
}

export class ConversationNotFoundError extends StoreError {
  override readonly name = 'ConversationNotFoundError';
  readonly code = 'conversation_not_found';
  readonly retryable = false;
  constructor(readonly conversationId: string) {
    super(`Conversation "${conversationId}" does not exist.`);
  }
}

/** The operation identified by this key was already committed; do not process it again. */
export class DuplicateIdempotencyKeyError extends StoreError {
  override readonly name = 'DuplicateIdempotencyKeyError';
  readonly code = 'duplicate_idempotency_key';
  readonly retryable = false;
  constructor(
    readonly conversationId: string,
    readonly key: string,
  ) {
    super(
      `Idempotency key "${key}" was already used for conversation "${conversationId}"; ` +
        `nothing was written. Use getIdempotent() to read the stored result.`,
    );
  }
}

export class StoreClosedError extends StoreError {
  override readonly name = 'StoreClosedError';
  readonly code = 'store_closed';
  readonly retryable = false;
  constructor() {
    super('The conversation store is closed.');
  }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers for adapters (not part of the public API; not re-exported from index.ts)
// ---------------------------------------------------------------------------------------------

export const EVENTS_DEFAULT_LIMIT = 1000;
export const EVENTS_MAX_LIMIT = 10000;
export const LIST_DEFAULT_LIMIT = 100;
export const LIST_MAX_LIMIT = 10000;

/** JSON text of `value`, or a TypeError naming `what` if JSON cannot encode it. */
export function toJsonText(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new TypeError(`${what} is not JSON-serialisable: ${(err as Error).message}`);
  }
  if (text === undefined) throw new TypeError(`${what} is not JSON-serialisable (got ${typeof value})`);
  return text;
}

/** Like toJsonText, but the value must encode as a JSON object. */
export function toJsonObjectText(value: unknown, what: string): string {
  const text = toJsonText(value, what);
  if (text[0] !== '{') throw new TypeError(`${what} must be a JSON object`);
  return text;
}

export function assertNonEmptyString(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${what} must be a non-empty string`);
  }
}

/** `at` must be exactly what Date.prototype.toISOString() produces (UTC, milliseconds, 'Z'). */
export function assertIsoTime(value: unknown, what: string): asserts value is string {
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms) && new Date(ms).toISOString() === value) return;
  }
  throw new TypeError(
    `${what} must be an ISO-8601 UTC timestamp as produced by Date.prototype.toISOString() ` +
      `(e.g. "2024-05-01T12:00:00.000Z"), got ${JSON.stringify(value)}`,
  );
}

export function assertVersion(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`${what} must be a positive integer, got ${String(value)}`);
  }
}

/** Resolve an optional page size: default if undefined, clamped to max, positive integer. */
export function resolveLimit(limit: number | undefined, def: number, max: number): number {
  if (limit === undefined) return def;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`limit must be a positive integer, got ${String(limit)}`);
  }
  return Math.min(limit, max);
}

/** Validated list filters (each undefined = no filter). */
export interface ListFilter {
  botId?: string;
  customerId?: string;
  limit: number;
}

export function resolveListOptions(opts: ListOptions | undefined): ListFilter {
  if (opts === undefined || opts === null) opts = {};
  if (typeof opts !== 'object') throw new TypeError('list options must be an object');
  if (opts.botId !== undefined) assertNonEmptyString(opts.botId, 'botId');
  if (opts.customerId !== undefined) assertNonEmptyString(opts.customerId, 'customerId');
  return {
    botId: opts.botId,
    customerId: opts.customerId,
    limit: resolveLimit(opts.limit, LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT),
  };
}

export function resolveAfterSeq(afterSeq: number | undefined): number {
  if (afterSeq === undefined) return 0;
  if (typeof afterSeq !== 'number' || !Number.isSafeInteger(afterSeq) || afterSeq < 0) {
    throw new RangeError(`afterSeq must be a non-negative integer, got ${String(afterSeq)}`);
  }
  return afterSeq;
}

export function resolveTypes(types: string[] | undefined): string[] | undefined {
  if (types === undefined) return undefined;
  if (!Array.isArray(types) || types.some((t) => typeof t !== 'string')) {
    throw new TypeError('types must be an array of strings');
  }
  return types;
}

/** A new event validated and serialised, ready to be written. */
export interface PreparedEvent {
  type: string;
  at: string;
  dataText: string;
}

export function prepareEvents(events: unknown, what: string): PreparedEvent[] {
  if (events === undefined) return [];
  if (!Array.isArray(events)) throw new TypeError(`${what} must be an array`);
  return events.map((e: unknown, i) => {
    const label = `${what}[${i}]`;
    if (e === null || typeof e !== 'object') throw new TypeError(`${label} must be an object`);
    const { type, at, data } = e as Partial<NewEvent>;
    assertNonEmptyString(type, `${label}.type`);
    assertIsoTime(at, `${label}.at`);
    return { type, at, dataText: toJsonObjectText(data, `${label}.data`) };
  });
}

/** Validated and serialised create input. */
export interface PreparedCreate {
  id: string;
  botId: string;
  customerId: string | null;
  at: string;
  stateText: string;
  events: PreparedEvent[];
}

export function prepareCreate(input: CreateInput): PreparedCreate {
  if (input === null || typeof input !== 'object') throw new TypeError('create input must be an object');
  assertNonEmptyString(input.id, 'id');
  assertNonEmptyString(input.botId, 'botId');
  const customerId = input.customerId ?? null;
  if (customerId !== null) assertNonEmptyString(customerId, 'customerId');
  assertIsoTime(input.at, 'at');
  return {
    id: input.id,
    botId: input.botId,
    customerId,
    at: input.at,
    stateText: toJsonObjectText(input.state, 'state'),
    events: prepareEvents(input.events, 'events'),
  };
}

/** Validated and serialised commit input. */
export interface PreparedCommit {
  id: string;
  expectedVersion: number;
  at: string;
  stateText: string;
  events: PreparedEvent[];
  idempotency?: { key: string; valueText: string };
}

export function prepareCommit(input: CommitInput): PreparedCommit {
  if (input === null || typeof input !== 'object') throw new TypeError('commit input must be an object');
  assertNonEmptyString(input.id, 'id');
  assertVersion(input.expectedVersion, 'expectedVersion');
  assertIsoTime(input.at, 'at');
  if (!Array.isArray(input.events)) throw new TypeError('events must be an array');
  const prepared: PreparedCommit = {
    id: input.id,
    expectedVersion: input.expectedVersion,
    at: input.at,
    stateText: toJsonObjectText(input.state, 'state'),
    events: prepareEvents(input.events, 'events'),
  };
  if (input.idempotency !== undefined) {
    const { key, value } = input.idempotency;
    assertNonEmptyString(key, 'idempotency.key');
    prepared.idempotency = { key, valueText: toJsonText(value, 'idempotency.value') };
  }
  return prepared;
}

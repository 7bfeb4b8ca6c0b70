/**
 * MongoDB ConversationStore (mongoose).
 *
 * Collections (names fixed; one set per database):
 * - `conversations` { _id: id, botId, customerId, version, state, createdAt, updatedAt,
 *                     lastSeq, rev, lastTxn, lastIdemKey, pendingTxn, pendingSince }
 *   indexes: (updatedAt -1, _id 1), (botId 1, updatedAt -1, _id 1), (customerId 1, updatedAt -1, _id 1)
 *   — one per `list` filter, each also giving the order, so `list` never sorts in memory.
 * - `events`        { conversationId, seq, type, at, data, rev, txn, writtenAt }
 *   unique index (conversationId 1, seq 1): paging, type filters and orphan clean-up all use it.
 * - `idempotency`   { conversationId, key, value, rev, txn, committed, writtenAt }
 *   unique index (conversationId 1, key 1).
 * Collections and indexes are created on first use (before any write), so the unique indexes that
 * the algorithms below rely on always exist.
 *
 * State, event data and idempotency values are stored as JSON *text* (a string field), not as
 * BSON sub-documents. That keeps the JSON round-trip rules of port.ts exact and identical to the
 * other adapters: BSON cannot hold lone UTF-16 surrogates (JSON.stringify escapes them), field
 * names containing NUL, or some `$`/`.` keys, and mongoose would drop empty objects (`minimize`).
 * Timestamps are the canonical ISO strings (they sort as text, like in the other adapters); ids
 * sort by UTF-8 bytes (MongoDB's default binary string order = SQLite's BINARY collation).
 *
 * Visibility rules (every reader follows them, in both write modes):
 * - A conversation exists iff its document has `version >= 1`. A document with `version: 0` is a
 *   *reservation* by a `create` in progress (or an abandoned one) and is invisible.
 * - The committed events are exactly those with `seq <= conversation.lastSeq`. `events()` reads the
 *   conversation first and never returns anything above its `lastSeq`.
 * - An idempotency document is committed iff `committed: true`, or its `txn` equals the
 *   conversation's `lastTxn` (the latest commit, not yet marked). Every commit marks the previous
 *   commit's key (`lastIdemKey`/`lastTxn`) as committed *before* its own compare-and-swap moves
 *   `lastTxn` on, so a committed key can never lose its committed status.
 *
 * Write modes (`transactions` option; 'auto' asks the server with `hello`):
 *
 * 1. Transactions (replica set or sharded cluster): `session.withTransaction` with snapshot read
 *    concern and majority writes. Inside it: read the conversation, check not-found / duplicate
 *    key / stale version (in that order), delete uncommitted leftovers above `lastSeq` (left by an
 *    interrupted compare-and-swap writer, see 2), insert the events and the (committed) key, and
 *    update the conversation with the filter `{ _id, rev }`. MongoDB commits all of it or nothing;
 *    concurrent transactions conflict on the conversation document (WriteConflict, retried by
 *    withTransaction, and the retry then sees the new version → StaleVersionError).
 *
 * 2. Compare-and-swap (standalone server, no multi-document transactions). The commit point is a
 *    single-document compare-and-swap on the conversation, and everything else is arranged so
 *    that nothing written before it is visible, and nothing can make it visible except it:
 *      a. Read the conversation: `version`, `rev` (R), `lastSeq` (L). Check not found, duplicate
 *         key (a *committed* idempotency doc), stale version.
 *      b. Mark the previous commit's idempotency key as committed (roll-forward, see above).
 *      c. Insert the events with seq L+1…L+n and the idempotency doc (committed: false), each
 *         tagged with `rev: R` and a random `txn`. They are invisible: seq > lastSeq, and the key
 *         is neither marked nor `lastTxn`. The unique indexes make this an implicit lock: two
 *         writers based on the same state collide on seq L+1 (or on the key).
 *      d. Commit point: `updateOne({ _id, rev: R }, { $set: { version: v+1, rev: R+1,
 *         lastSeq: L+n, lastTxn: txn, lastIdemKey, state, updatedAt } })`. One atomic document
 *         write publishes the state, the events (lastSeq) and the key (lastTxn) together.
 *         If it matched nothing, somebody else moved `rev`: delete our own docs (by txn) and start
 *         again from a (the re-read then reports StaleVersionError, or simply retries when only a
 *         fence moved `rev`, see below).
 *    Why a failure cannot leave half a commit visible: before d nothing we wrote is visible; d is
 *    one document write; after d everything is visible. A crash anywhere leaves at most invisible
 *    *orphans* (docs above lastSeq, or unmarked keys that are not lastTxn).
 *    Orphans and stalled writers. Every change of a conversation document increments `rev`, and a
 *    writer can only commit with the `rev` it read. So a doc tagged with `rev < current rev` can
 *    never become committed (its writer's compare-and-swap must fail) and is deleted by whoever
 *    trips over it. A doc tagged with the *current* rev belongs to a writer that may still be
 *    about to commit: the colliding writer waits (polling the conversation, backing off) for it to
 *    commit (→ StaleVersionError) or fail. If the doc is older than `orphanGraceMs` (default 10 s)
 *    its writer is presumed dead and is *fenced*: `updateOne({ _id, rev: R }, { rev: R+1 })` —
 *    from then on that writer's compare-and-swap cannot succeed, whenever it wakes up — and only
 *    then are the docs tagged ≤ R above lastSeq deleted. Time is only used for liveness (how long
 *    to wait before fencing); safety never depends on clocks: a writer that was fenced by mistake
 *    (a long GC pause, clock skew) just fails its compare-and-swap and retries.
 *    `create` works the same way: it first inserts a reservation (`version: 0`, `pendingTxn`),
 *    inserts the initial events tagged with the reservation's rev, then compare-and-swaps the
 *    reservation to version 1. A reservation older than the grace period (its creator died) is
 *    taken over with a fencing compare-and-swap; conversation documents are never deleted, so
 *    `rev` only ever grows.
 *    Failures with an unknown outcome (a network error during d) are re-thrown without clean-up:
 *    the commit may have happened; if it did not, its docs are orphans as above.
 *
 * Errors are those of port.ts, reported in the same order as the other adapters; a duplicate-key
 * error (code 11000) on the conversation is ConversationExistsError, on an idempotency key that is
 * committed DuplicateIdempotencyKeyError. Reads use the primary; durability is the connection's
 * write concern (MongoDB's default is majority on replica sets).
 */
import { randomUUID } from 'node:crypto';
import mongoose, { Schema } from 'mongoose';
import type { ClientSession, ConnectOptions, Connection, Model } from 'mongoose';
import type { JsonValue } from '../util/json';
import {
  CommitInput,
  CommitResult,
  ConversationExistsError,
  ConversationNotFoundError,
  ConversationRecord,
  ConversationStore,
  CreateInput,
  DuplicateIdempotencyKeyError,
  EVENTS_DEFAULT_LIMIT,
  EVENTS_MAX_LIMIT,
  EventsOptions,
  ListOptions,
  PreparedCommit,
  PreparedCreate,
  StaleVersionError,
  StoreClosedError,
  StoredEvent,
  assertNonEmptyString,
  prepareCommit,
  prepareCreate,
  resolveAfterSeq,
  resolveLimit,
  resolveListOptions,
  resolveTypes,
} from './port';

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

export interface MongoStoreTuning {
  /**
   * 'auto' (default): transactions when the server supports them (replica set / sharded cluster),
   * compare-and-swap otherwise. 'always' / 'never' force one mode.
   */
  transactions?: 'auto' | 'always' | 'never';
  /** How long an uncommitted write must be idle before its writer is presumed dead and fenced. Default 10000. */
  orphanGraceMs?: number;
  /** For tests: the clock (ms since epoch) used to stamp and age uncommitted writes. */
  clock?: () => number;
  /** For tests: how to wait between polls. */
  sleep?: (ms: number) => Promise<void>;
}

export interface MongoStoreOptions extends MongoStoreTuning {
  /** A MongoDB connection string: mongodb://… or mongodb+srv://… */
  url: string;
  /** Database name; default: the one in the URL path, else "baton". */
  dbName?: string;
  /** Extra options for mongoose's openUri (pool size, timeouts, TLS, …). */
  connectOptions?: ConnectOptions;
}

const DEFAULT_DB_NAME = 'baton';
const DEFAULT_ORPHAN_GRACE_MS = 10_000;
const MAX_POLL_MS = 50;

/**
 * Validate a MongoDB URL and dbName: a clear TypeError for anything else (credentials are never
 * echoed). Returns the database name to use.
 */
export function resolveMongoTarget(url: unknown, dbName?: unknown): { url: string; dbName: string } {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new TypeError('MongoStore: url must be a MongoDB connection string (mongodb://host:27017/db)');
  }
  const match = /^(mongodb(?:\+srv)?):\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/.exec(url);
  if (!match) {
    throw new TypeError(
      `MongoStore: "${redactUrl(url)}" is not a MongoDB connection string; ` +
        `expected mongodb://host[:port][/database][?options] or mongodb+srv://host[/database][?options]`,
    );
  }
  const hosts = match[2].includes('@') ? match[2].slice(match[2].lastIndexOf('@') + 1) : match[2];
  if (hosts === '') throw new TypeError(`MongoStore: "${redactUrl(url)}" names no host`);
  let name: string;
  if (dbName !== undefined) {
    if (typeof dbName !== 'string') throw new TypeError('MongoStore: dbName must be a string');
    name = dbName;
  } else {
    let fromPath: string;
    try {
      fromPath = decodeURIComponent((match[3] ?? '').slice(1));
    } catch {
      throw new TypeError(`MongoStore: the database name in "${redactUrl(url)}" is not valid percent-encoding`);
    }
    name = fromPath === '' ? DEFAULT_DB_NAME : fromPath;
  }
  if (name === '' || /[/\\. "$*<>:|?\0]/.test(name) || Buffer.byteLength(name) > 63) {
    throw new TypeError(
      `MongoStore: invalid database name ${JSON.stringify(name)} (1–63 bytes, none of / \\ . " $ * < > : | ? space)`,
    );
  }
  return { url, dbName: name };
}

/** The URL without its password (for messages). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i, (_, scheme: string, userinfo: string) => {
    const user = userinfo.split(':')[0];
    return `${scheme}${user}${userinfo.includes(':') ? ':***' : ''}@`;
  });
}

// ---------------------------------------------------------------------------------------------
// Documents, schemas, mapping
// ---------------------------------------------------------------------------------------------

export interface ConversationDoc {
  _id: string;
  botId: string;
  customerId: string | null;
  /** 0 = reservation of a create in progress (invisible); ≥ 1 = the conversation's version. */
  version: number;
  /** JSON text of the state object. */
  state: string;
  createdAt: string;
  updatedAt: string;
  /** Highest committed event seq. */
  lastSeq: number;
  /** Incremented by every change of this document (commits and fences). */
  rev: number;
  /** txn of the latest commit (its idempotency key is committed even if not yet marked). */
  lastTxn: string | null;
  /** Idempotency key stored by the latest commit, if any. */
  lastIdemKey: string | null;
  /** For a reservation: the txn of the create that holds it (null once abandoned or created). */
  pendingTxn: string | null;
  pendingSince: Date | null;
}

export interface EventDoc {
  conversationId: string;
  seq: number;
  type: string;
  at: string;
  /** JSON text of the data object. */
  data: string;
  /** The conversation rev the writer based this write on. */
  rev: number;
  txn: string;
  writtenAt: Date;
}

export interface IdempotencyDoc {
  conversationId: string;
  key: string;
  /** JSON text of the value. */
  value: string;
  rev: number;
  txn: string;
  committed: boolean;
  writtenAt: Date;
}

const SCHEMA_OPTIONS = {
  versionKey: false,
  minimize: false,
  autoIndex: false, // created explicitly (and awaited) before the first operation
  autoCreate: false,
  strict: true,
} as const;

export const conversationSchema = new Schema(
  {
    _id: { type: String, required: true },
    botId: { type: String, required: true },
    customerId: { type: String, default: null },
    version: { type: Number, required: true },
    state: { type: String, required: true },
    createdAt: { type: String, required: true },
    updatedAt: { type: String, required: true },
    lastSeq: { type: Number, required: true },
    rev: { type: Number, required: true },
    lastTxn: { type: String, default: null },
    lastIdemKey: { type: String, default: null },
    pendingTxn: { type: String, default: null },
    pendingSince: { type: Date, default: null },
  },
  { ...SCHEMA_OPTIONS, collection: 'conversations' },
);
conversationSchema.index({ updatedAt: -1, _id: 1 }, { name: 'conversations_by_updated' });
conversationSchema.index({ botId: 1, updatedAt: -1, _id: 1 }, { name: 'conversations_by_bot_updated' });
conversationSchema.index({ customerId: 1, updatedAt: -1, _id: 1 }, { name: 'conversations_by_customer_updated' });

export const eventSchema = new Schema(
  {
    conversationId: { type: String, required: true },
    seq: { type: Number, required: true },
    type: { type: String, required: true },
    at: { type: String, required: true },
    data: { type: String, required: true },
    rev: { type: Number, required: true },
    txn: { type: String, required: true },
    writtenAt: { type: Date, required: true },
  },
  { ...SCHEMA_OPTIONS, collection: 'events' },
);
eventSchema.index({ conversationId: 1, seq: 1 }, { unique: true, name: 'events_by_conversation_seq' });

export const idempotencySchema = new Schema(
  {
    conversationId: { type: String, required: true },
    key: { type: String, required: true },
    value: { type: String, required: true },
    rev: { type: Number, required: true },
    txn: { type: String, required: true },
    committed: { type: Boolean, required: true },
    writtenAt: { type: Date, required: true },
  },
  { ...SCHEMA_OPTIONS, collection: 'idempotency' },
);
idempotencySchema.index({ conversationId: 1, key: 1 }, { unique: true, name: 'idempotency_by_conversation_key' });

/** Model names on the connection (collections are fixed by the schemas). */
export const MODEL_NAMES = {
  conversations: 'BatonConversation',
  events: 'BatonEvent',
  idempotency: 'BatonIdempotency',
} as const;

export function conversationDocToRecord(doc: ConversationDoc): ConversationRecord {
  return {
    id: doc._id,
    botId: doc.botId,
    customerId: doc.customerId ?? null,
    version: doc.version,
    state: JSON.parse(doc.state),
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

export function eventDocToStoredEvent(doc: Pick<EventDoc, 'conversationId' | 'seq' | 'type' | 'at' | 'data'>): StoredEvent {
  return { seq: doc.seq, conversationId: doc.conversationId, type: doc.type, at: doc.at, data: JSON.parse(doc.data) };
}

/** Is this idempotency doc committed, given a conversation document read no earlier than it? */
export function isIdempotencyCommitted(doc: IdempotencyDoc, conv: ConversationDoc | null): boolean {
  return doc.committed || (conv !== null && conv.version >= 1 && conv.lastTxn !== null && doc.txn === conv.lastTxn);
}

// ---------------------------------------------------------------------------------------------
// Errors from the driver
// ---------------------------------------------------------------------------------------------

const DUPLICATE_KEY_CODES = new Set([11000, 11001, 12582]);

/**
 * If `err` is a MongoDB duplicate-key error (code 11000; also from a bulk/insertMany write
 * error), the index of the failed document within its batch (0 if unknown); otherwise null.
 */
export function duplicateKeyIndex(err: unknown, depth = 0): number | null {
  if (err === null || typeof err !== 'object' || depth > 4) return null;
  const e = err as { code?: unknown; writeErrors?: unknown; errorResponse?: unknown; cause?: unknown; index?: unknown };
  const writeErrors = Array.isArray(e.writeErrors) ? e.writeErrors : e.writeErrors ? [e.writeErrors] : [];
  for (const we of writeErrors as { code?: unknown; index?: unknown; err?: { code?: unknown } }[]) {
    if (we && DUPLICATE_KEY_CODES.has(Number(we.code ?? we.err?.code))) {
      return typeof we.index === 'number' ? we.index : 0;
    }
  }
  if (DUPLICATE_KEY_CODES.has(Number(e.code))) return typeof e.index === 'number' ? e.index : 0;
  return duplicateKeyIndex(e.errorResponse, depth + 1) ?? duplicateKeyIndex(e.cause, depth + 1);
}

/** A unique index refused a document (what a backend throws instead of the driver's error). */
export class DuplicateKeyConflict extends Error {
  override readonly name = 'DuplicateKeyConflict';
  constructor(
    readonly collection: 'conversations' | 'events' | 'idempotency',
    /** Index of the refused document in the batch that was being inserted. */
    readonly index: number,
    override readonly cause?: unknown,
  ) {
    super(`duplicate key in ${collection} (document ${index} of the batch)`);
  }
}

/**
 * Map an error from a *transactional* commit or create (where no orphan resolution is needed) to
 * the store's errors: duplicate conversation → ConversationExistsError, duplicate idempotency key
 * → DuplicateIdempotencyKeyError. Anything else is returned unchanged.
 */
export function mapTransactionError(err: unknown, id: string, idempotencyKey?: string): unknown {
  const conflict = err instanceof DuplicateKeyConflict ? err : null;
  const index = conflict ? conflict.index : duplicateKeyIndex(err);
  if (index === null) return err;
  const collection = conflict?.collection ?? collectionOfDuplicate(err);
  if (collection === 'conversations') return new ConversationExistsError(id);
  if (collection === 'idempotency' && idempotencyKey !== undefined) {
    return new DuplicateIdempotencyKeyError(id, idempotencyKey);
  }
  return err;
}

/** Which of our collections a raw duplicate-key error is about (from its message / keyPattern). */
function collectionOfDuplicate(err: unknown): 'conversations' | 'events' | 'idempotency' | null {
  const text = String((err as { message?: unknown })?.message ?? '');
  const keyPattern = (err as { keyPattern?: Record<string, unknown> })?.keyPattern ?? {};
  if (/collection: \S+\.idempotency\b/.test(text) || 'key' in keyPattern) return 'idempotency';
  if (/collection: \S+\.events\b/.test(text) || 'seq' in keyPattern) return 'events';
  if (/collection: \S+\.conversations\b/.test(text) || '_id' in keyPattern) return 'conversations';
  return null;
}

// ---------------------------------------------------------------------------------------------
// Backend: the few collection operations the algorithms use
// ---------------------------------------------------------------------------------------------

/** Opaque transaction handle (a mongoose ClientSession for the real backend). */
export type TxSession = ClientSession | { readonly fake: true };

export interface EventDeleteFilter {
  conversationId: string;
  /** Only seq > afterSeq (always given, so the delete is an index range above the committed log). */
  afterSeq: number;
  txn?: string;
  /** Only docs tagged with rev < revBelow. */
  revBelow?: number;
}

/** Exactly one of `txn` (a writer's own doc) or `deadBefore` (leftovers that can never commit). */
export type IdempotencyDeleteFilter =
  | { conversationId: string; key: string; txn: string; deadBefore?: undefined }
  | {
      conversationId: string;
      key: string;
      txn?: undefined;
      /** Uncommitted docs tagged with a rev below `rev` whose txn is not the conversation's lastTxn. */
      deadBefore: { rev: number; lastTxn: string | null };
    };

export interface ListQuery {
  botId?: string;
  customerId?: string;
  limit: number;
}

/** What `findEvents` returns (a projection of EventDoc). */
export type EventView = Pick<EventDoc, 'conversationId' | 'seq' | 'type' | 'at' | 'data'>;

export interface EventQuery {
  conversationId: string;
  afterSeq: number;
  maxSeq: number;
  types?: string[];
  limit: number;
}

/**
 * The collection operations MongoStore needs. `MongooseBackend` implements them on MongoDB;
 * tests use an in-memory double to check the algorithms (ordering, crashes) without a server.
 * Inserts throw DuplicateKeyConflict when a unique index refuses a document; inserting a batch is
 * ordered (stops at the first refused document).
 */
export interface MongoBackend {
  open(): Promise<void>;
  supportsTransactions(): Promise<boolean>;
  withTransaction<T>(fn: (session: TxSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;

  getConversation(id: string, session?: TxSession): Promise<ConversationDoc | null>;
  insertConversation(doc: ConversationDoc, session?: TxSession): Promise<void>;
  /** updateOne({ _id: id, rev }, { $set: set }); true if it matched. */
  casConversation(id: string, rev: number, set: Partial<ConversationDoc>, session?: TxSession): Promise<boolean>;
  listConversations(query: ListQuery): Promise<ConversationDoc[]>;

  insertEvents(docs: EventDoc[], session?: TxSession): Promise<void>;
  findEvents(query: EventQuery): Promise<EventView[]>;
  findEvent(conversationId: string, seq: number): Promise<EventDoc | null>;
  deleteEvents(filter: EventDeleteFilter, session?: TxSession): Promise<void>;

  insertIdempotency(doc: IdempotencyDoc, session?: TxSession): Promise<void>;
  findIdempotency(conversationId: string, key: string, session?: TxSession): Promise<IdempotencyDoc | null>;
  markIdempotencyCommitted(conversationId: string, key: string, txn: string, session?: TxSession): Promise<void>;
  deleteIdempotency(filter: IdempotencyDeleteFilter, session?: TxSession): Promise<void>;
}

/** True if a `hello` reply comes from a deployment with multi-document transactions. */
export function helloSupportsTransactions(hello: Record<string, unknown>): boolean {
  const clustered = typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
  return clustered && hello.logicalSessionTimeoutMinutes !== undefined && hello.logicalSessionTimeoutMinutes !== null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyModel = Model<any>;

/** A mongoose Connection (also one from another copy of mongoose: duck-typed). */
export function isConnection(x: unknown): x is Connection {
  return (
    x instanceof mongoose.Connection ||
    (x !== null && typeof x === 'object' && typeof (x as Connection).model === 'function' && typeof (x as Connection).startSession === 'function')
  );
}

/**
 * The connection a store works on: a new one opened from `target` when it has none (closed again
 * if opening fails), or the one it was given, once that is open (a closed one is an error).
 */
export async function openConnection(conn: Connection | null, target: { url: string; dbName: string; connectOptions?: ConnectOptions }, label: string): Promise<Connection> {
  if (conn === null) {
    const fresh = mongoose.createConnection();
    try {
      await fresh.openUri(target.url, { ...target.connectOptions, dbName: target.dbName, autoIndex: false, autoCreate: false });
    } catch (err) {
      await fresh.close().catch(() => undefined);
      throw err;
    }
    return fresh;
  }
  if (conn.readyState === mongoose.ConnectionStates.connected) return conn;
  if (conn.readyState === mongoose.ConnectionStates.connecting) return conn.asPromise();
  throw new Error(`${label}: the mongoose connection it was given is not open (call openUri first)`);
}

/** Transaction options: a snapshot of majority-committed data, majority writes, on the primary. */
export const TRANSACTION_OPTIONS = { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' }, readPreference: 'primary' } as const;

/** Whether the server behind `conn` has multi-document transactions (replica set or sharded cluster). */
export async function connectionSupportsTransactions(conn: Connection | null): Promise<boolean> {
  const db = conn?.db;
  if (!db) return false;
  let hello: Record<string, unknown>;
  try {
    hello = await db.command({ hello: 1 });
  } catch {
    hello = await db.command({ isMaster: 1 }); // servers before 4.4.2
  }
  return helloSupportsTransactions(hello);
}

/**
 * Run `fn` in a transaction (TRANSACTION_OPTIONS) on a new session of `conn`. The driver runs it
 * again on a transient error (a write conflict) and retries an unknown commit result, so `fn`
 * must only compute from what it reads in the session.
 */
export async function runTransaction<T>(conn: Connection, fn: (session: ClientSession) => Promise<T>): Promise<T> {
  const session = await conn.startSession();
  try {
    let result!: T;
    await session.withTransaction(async () => {
      result = await fn(session);
    }, TRANSACTION_OPTIONS);
    return result;
  } finally {
    await session.endSession();
  }
}

/** The real backend: mongoose models on a connection it opens (from a URL) or is given. */
export class MongooseBackend implements MongoBackend {
  private conn: Connection | null;
  private readonly ownsConnection: boolean;
  private models: { conversations: AnyModel; events: AnyModel; idempotency: AnyModel } | null = null;

  constructor(private readonly source: { url: string; dbName: string; connectOptions?: ConnectOptions } | Connection) {
    this.ownsConnection = !isConnection(source);
    this.conn = isConnection(source) ? source : null;
  }

  async open(): Promise<void> {
    this.conn = await openConnection(this.conn, this.source as { url: string; dbName: string; connectOptions?: ConnectOptions }, 'MongoStore');
    const conn = this.conn;
    const model = (name: string, schema: Schema): AnyModel => (conn.models[name] as AnyModel | undefined) ?? conn.model(name, schema);
    const models = {
      conversations: model(MODEL_NAMES.conversations, conversationSchema),
      events: model(MODEL_NAMES.events, eventSchema),
      idempotency: model(MODEL_NAMES.idempotency, idempotencySchema),
    };
    // Collections first (a transaction cannot create one on MongoDB < 4.4), then the indexes.
    for (const m of Object.values(models)) await m.createCollection();
    for (const m of Object.values(models)) await m.createIndexes();
    this.models = models;
  }

  private get m(): { conversations: AnyModel; events: AnyModel; idempotency: AnyModel } {
    if (!this.models) throw new Error('MongoStore: backend used before open()');
    return this.models;
  }

  supportsTransactions(): Promise<boolean> {
    return connectionSupportsTransactions(this.conn);
  }

  async withTransaction<T>(fn: (session: TxSession) => Promise<T>): Promise<T> {
    if (!this.conn) throw new Error('MongoStore: backend used before open()');
    return runTransaction(this.conn, fn);
  }

  async close(): Promise<void> {
    if (this.ownsConnection && this.conn) await this.conn.close();
  }

  async getConversation(id: string, session?: TxSession): Promise<ConversationDoc | null> {
    return (await this.m.conversations.findOne({ _id: id }, null, opt(session)).lean().exec()) as ConversationDoc | null;
  }

  async insertConversation(doc: ConversationDoc, session?: TxSession): Promise<void> {
    await insert(this.m.conversations, 'conversations', [doc], session);
  }

  async casConversation(id: string, rev: number, set: Partial<ConversationDoc>, session?: TxSession): Promise<boolean> {
    const res = await this.m.conversations.updateOne({ _id: id, rev }, { $set: set }, opt(session)).exec();
    return res.matchedCount === 1;
  }

  async listConversations(q: ListQuery): Promise<ConversationDoc[]> {
    const filter: Record<string, unknown> = { version: { $gte: 1 } };
    if (q.botId !== undefined) filter.botId = q.botId;
    if (q.customerId !== undefined) filter.customerId = q.customerId;
    const hint =
      q.customerId !== undefined
        ? 'conversations_by_customer_updated'
        : q.botId !== undefined
          ? 'conversations_by_bot_updated'
          : 'conversations_by_updated';
    return (await this.m.conversations
      .find(filter)
      .sort({ updatedAt: -1, _id: 1 })
      .limit(q.limit)
      .hint(hint)
      .lean()
      .exec()) as ConversationDoc[];
  }

  async insertEvents(docs: EventDoc[], session?: TxSession): Promise<void> {
    if (docs.length > 0) await insert(this.m.events, 'events', docs, session);
  }

  async findEvents(q: EventQuery): Promise<EventView[]> {
    const filter: Record<string, unknown> = { conversationId: q.conversationId, seq: { $gt: q.afterSeq, $lte: q.maxSeq } };
    if (q.types) filter.type = { $in: q.types };
    return (await this.m.events
      .find(filter, { _id: 0, conversationId: 1, seq: 1, type: 1, at: 1, data: 1 })
      .sort({ seq: 1 })
      .limit(q.limit)
      .lean()
      .exec()) as unknown as EventView[];
  }

  async findEvent(conversationId: string, seq: number): Promise<EventDoc | null> {
    return (await this.m.events.findOne({ conversationId, seq }).lean().exec()) as EventDoc | null;
  }

  async deleteEvents(f: EventDeleteFilter, session?: TxSession): Promise<void> {
    await this.m.events.deleteMany(eventDeleteQuery(f), opt(session)).exec();
  }

  async insertIdempotency(doc: IdempotencyDoc, session?: TxSession): Promise<void> {
    await insert(this.m.idempotency, 'idempotency', [doc], session);
  }

  async findIdempotency(conversationId: string, key: string, session?: TxSession): Promise<IdempotencyDoc | null> {
    return (await this.m.idempotency.findOne({ conversationId, key }, null, opt(session)).lean().exec()) as IdempotencyDoc | null;
  }

  async markIdempotencyCommitted(conversationId: string, key: string, txn: string, session?: TxSession): Promise<void> {
    await this.m.idempotency.updateOne({ conversationId, key, txn }, { $set: { committed: true } }, opt(session)).exec();
  }

  async deleteIdempotency(f: IdempotencyDeleteFilter, session?: TxSession): Promise<void> {
    await this.m.idempotency.deleteMany(idempotencyDeleteQuery(f), opt(session)).exec();
  }
}

/** The MongoDB filter for EventDeleteFilter (exported for tests). */
export function eventDeleteQuery(f: EventDeleteFilter): Record<string, unknown> {
  const q: Record<string, unknown> = { conversationId: f.conversationId, seq: { $gt: f.afterSeq } };
  if (f.txn !== undefined) q.txn = f.txn;
  if (f.revBelow !== undefined) q.rev = { $lt: f.revBelow };
  return q;
}

/** The MongoDB filter for IdempotencyDeleteFilter (exported for tests). */
export function idempotencyDeleteQuery(f: IdempotencyDeleteFilter): Record<string, unknown> {
  const q: Record<string, unknown> = { conversationId: f.conversationId, key: f.key };
  if (f.deadBefore) {
    q.rev = { $lt: f.deadBefore.rev };
    q.committed = false;
    if (f.deadBefore.lastTxn !== null) q.txn = { $ne: f.deadBefore.lastTxn };
  } else {
    q.txn = f.txn;
  }
  return q;
}

function opt(session: TxSession | undefined): { session?: ClientSession } {
  return session ? { session: session as ClientSession } : {};
}

async function insert(model: AnyModel, collection: DuplicateKeyConflict['collection'], docs: object[], session?: TxSession): Promise<void> {
  try {
    await model.insertMany(docs, { ordered: true, lean: true, ...opt(session) });
  } catch (err) {
    const index = duplicateKeyIndex(err);
    if (index !== null) throw new DuplicateKeyConflict(collection, index, err);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

type Conflict = { collection: 'events'; seq: number } | { collection: 'idempotency'; key: string };

/** Internal: run a transactional commit again. */
class TransactionRetry extends Error {}

export class MongoStore implements ConversationStore {
  private readonly backend: MongoBackend;
  private readonly mode: 'auto' | 'always' | 'never';
  private readonly graceMs: number;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private closed = false;
  private opening: Promise<boolean> | null = null;
  /** Database name (when built from a URL). */
  readonly dbName: string | undefined;

  /**
   * `new MongoStore({ url, dbName })` opens (lazily, on first use) its own connection and closes
   * it on close(); `new MongoStore(connection)` uses an open mongoose Connection it does not own
   * (close() leaves it open). `{ backend }` runs the same algorithms on another MongoBackend
   * (tests use an in-memory one).
   */
  constructor(target: MongoStoreOptions | Connection | { backend: MongoBackend }, tuning: MongoStoreTuning = {}) {
    let backend: MongoBackend;
    if (isConnection(target)) {
      backend = new MongooseBackend(target);
    } else if (target !== null && typeof target === 'object' && 'backend' in target) {
      backend = target.backend;
    } else {
      if (target === null || typeof target !== 'object') {
        throw new TypeError('MongoStore: expected { url, dbName? } or a mongoose Connection');
      }
      const { url, dbName } = resolveMongoTarget(target.url, target.dbName);
      backend = new MongooseBackend({ url, dbName, connectOptions: target.connectOptions });
      this.dbName = dbName;
      tuning = { ...target, ...tuning };
    }
    this.backend = backend;
    const mode = tuning.transactions ?? 'auto';
    if (mode !== 'auto' && mode !== 'always' && mode !== 'never') {
      throw new TypeError(`MongoStore: transactions must be 'auto', 'always' or 'never', got ${JSON.stringify(mode)}`);
    }
    this.mode = mode;
    const grace = tuning.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
    if (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0) {
      throw new TypeError(`MongoStore: orphanGraceMs must be a non-negative number, got ${String(grace)}`);
    }
    this.graceMs = grace;
    this.clock = tuning.clock ?? Date.now;
    this.sleep = tuning.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Whether commits use multi-document transactions (connects if needed). */
  async usesTransactions(): Promise<boolean> {
    return this.ready();
  }

  async create(input: CreateInput): Promise<CommitResult> {
    this.assertOpen();
    const p = prepareCreate(input);
    const tx = await this.ready();
    return tx ? this.createInTransaction(p) : this.createWithCas(p);
  }

  async load(id: string): Promise<ConversationRecord | null> {
    this.assertOpen();
    assertNonEmptyString(id, 'id');
    await this.ready();
    const doc = await this.backend.getConversation(id);
    return doc && doc.version >= 1 ? conversationDocToRecord(doc) : null;
  }

  async commit(input: CommitInput): Promise<CommitResult> {
    this.assertOpen();
    const p = prepareCommit(input);
    const tx = await this.ready();
    return tx ? this.commitInTransaction(p) : this.commitWithCas(p);
  }

  async events(id: string, opts: EventsOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    assertNonEmptyString(id, 'id');
    const afterSeq = resolveAfterSeq(opts.afterSeq);
    const limit = resolveLimit(opts.limit, EVENTS_DEFAULT_LIMIT, EVENTS_MAX_LIMIT);
    const types = resolveTypes(opts.types);
    await this.ready();
    if (types?.length === 0) return [];
    // Read the conversation first: only events up to its committed lastSeq are visible.
    const conv = await this.backend.getConversation(id);
    if (!conv || conv.version < 1 || afterSeq >= conv.lastSeq) return [];
    const docs = await this.backend.findEvents({ conversationId: id, afterSeq, maxSeq: conv.lastSeq, types, limit });
    return docs.map((d) => eventDocToStoredEvent({ ...d, conversationId: id }));
  }

  async list(opts: ListOptions = {}): Promise<ConversationRecord[]> {
    this.assertOpen();
    const filter = resolveListOptions(opts);
    await this.ready();
    const docs = await this.backend.listConversations(filter);
    return docs.map(conversationDocToRecord);
  }

  async getIdempotent(conversationId: string, key: string): Promise<JsonValue | undefined> {
    this.assertOpen();
    assertNonEmptyString(conversationId, 'conversationId');
    assertNonEmptyString(key, 'key');
    await this.ready();
    const doc = await this.committedIdempotency(conversationId, key);
    return doc ? (JSON.parse(doc.value) as JsonValue) : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const opening = this.opening;
    if (opening) await opening.catch(() => undefined);
    await this.backend.close();
  }

  // -------------------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  /** Connect, create collections and indexes, and decide the write mode (once; retried after a failure). */
  private async ready(): Promise<boolean> {
    if (!this.opening) {
      const opening = (async () => {
        await this.backend.open();
        if (this.mode === 'never') return false;
        if (this.mode === 'always') return true;
        return this.backend.supportsTransactions();
      })();
      this.opening = opening;
      opening.catch(() => {
        if (this.opening === opening) this.opening = null;
      });
    }
    const tx = await this.opening;
    this.assertOpen();
    return tx;
  }

  private now(): Date {
    return new Date(this.clock());
  }

  /** The committed idempotency doc for (conversationId, key), or null. */
  private async committedIdempotency(conversationId: string, key: string): Promise<IdempotencyDoc | null> {
    const doc = await this.backend.findIdempotency(conversationId, key);
    if (!doc) return null;
    if (doc.committed) return doc;
    const conv = await this.backend.getConversation(conversationId);
    if (isIdempotencyCommitted(doc, conv)) return doc;
    // It may have been committed and then marked before we read the conversation (marking always
    // precedes the commit that moves lastTxn on), so look once more.
    const again = await this.backend.findIdempotency(conversationId, key);
    return again && again.committed ? again : null;
  }

  private eventDocs(id: string, lastSeq: number, p: { events: PreparedCommit['events'] }, rev: number, txn: string): EventDoc[] {
    const writtenAt = this.now();
    return p.events.map((e, i) => ({
      conversationId: id,
      seq: lastSeq + 1 + i,
      type: e.type,
      at: e.at,
      data: e.dataText,
      rev,
      txn,
      writtenAt,
    }));
  }

  private result(id: string, version: number, docs: EventDoc[]): CommitResult {
    return { version, events: docs.map(eventDocToStoredEvent) };
  }

  private async backoff(round: number): Promise<void> {
    await this.sleep(Math.min(MAX_POLL_MS, 2 ** Math.min(round, 6)));
  }

  /** Give up (rather than spin) if a commit makes no progress for far longer than the grace period. */
  private checkDeadline(started: number, id: string): void {
    if (this.clock() - started > this.graceMs * 3 + 30_000) {
      throw new Error(`MongoStore: gave up writing conversation "${id}": no progress under contention; retry later`);
    }
  }

  // ----- compare-and-swap mode -----------------------------------------------------------------

  private async commitWithCas(p: PreparedCommit): Promise<CommitResult> {
    const txn = randomUUID();
    const key = p.idempotency?.key;
    const started = this.clock();
    for (let round = 0; ; round++) {
      this.checkDeadline(started, p.id);
      // a. Read and check, in the port's order: not found, duplicate key, stale version.
      const conv = await this.backend.getConversation(p.id);
      if (!conv || conv.version < 1) throw new ConversationNotFoundError(p.id);
      if (key !== undefined && (await this.committedIdempotency(p.id, key))) {
        throw new DuplicateIdempotencyKeyError(p.id, key);
      }
      if (conv.version !== p.expectedVersion) throw new StaleVersionError(p.id, p.expectedVersion, conv.version);
      const { rev, lastSeq } = conv;

      // b. Roll forward: the previous commit's key becomes permanently committed.
      if (conv.lastIdemKey !== null && conv.lastTxn !== null) {
        await this.backend.markIdempotencyCommitted(p.id, conv.lastIdemKey, conv.lastTxn);
      }

      // c. Invisible writes, tagged with the rev they are based on.
      const docs = this.eventDocs(p.id, lastSeq, p, rev, txn);
      try {
        await this.backend.insertEvents(docs);
        if (p.idempotency) {
          await this.backend.insertIdempotency({
            conversationId: p.id,
            key: p.idempotency.key,
            value: p.idempotency.valueText,
            rev,
            txn,
            committed: false,
            writtenAt: this.now(),
          });
        }
      } catch (err) {
        await this.deleteOwn(p.id, lastSeq, txn, key);
        if (!(err instanceof DuplicateKeyConflict)) throw err;
        const conflict: Conflict =
          err.collection === 'events' ? { collection: 'events', seq: docs[err.index].seq } : { collection: 'idempotency', key: key! };
        await this.resolveConflict(p.id, conv, conflict, round);
        continue;
      }

      // d. The commit point.
      const committed = await this.backend.casConversation(p.id, rev, {
        version: p.expectedVersion + 1,
        rev: rev + 1,
        lastSeq: lastSeq + docs.length,
        lastTxn: txn,
        lastIdemKey: key ?? null,
        state: p.stateText,
        updatedAt: p.at,
      });
      if (committed) return this.result(p.id, p.expectedVersion + 1, docs);
      await this.deleteOwn(p.id, lastSeq, txn, key);
      // Re-read: a commit by someone else → stale; only a fence → try again.
    }
  }

  private async createWithCas(p: PreparedCreate): Promise<CommitResult> {
    const txn = randomUUID();
    const started = this.clock();
    for (let round = 0; ; round++) {
      this.checkDeadline(started, p.id);
      const conv = await this.backend.getConversation(p.id);
      if (conv && conv.version >= 1) throw new ConversationExistsError(p.id);
      const fields = {
        botId: p.botId,
        customerId: p.customerId,
        state: p.stateText,
        createdAt: p.at,
        updatedAt: p.at,
        pendingTxn: txn,
        pendingSince: this.now(),
      };
      let rev: number;
      if (!conv) {
        // Reserve the id.
        try {
          await this.backend.insertConversation({
            _id: p.id,
            version: 0,
            lastSeq: 0,
            rev: 1,
            lastTxn: null,
            lastIdemKey: null,
            ...fields,
          });
        } catch (err) {
          if (err instanceof DuplicateKeyConflict) continue; // someone reserved it first: look again
          throw err;
        }
        rev = 1;
      } else if (conv.pendingTxn === txn) {
        rev = conv.rev; // our own reservation (we are back after cleaning up dead events)
      } else {
        // Somebody else's reservation: a create in progress, or an abandoned/dead one.
        const since = conv.pendingSince ? conv.pendingSince.getTime() : 0;
        if (conv.pendingTxn !== null && this.clock() - since < this.graceMs) {
          await this.backoff(round);
          continue;
        }
        if (!(await this.backend.casConversation(p.id, conv.rev, { rev: conv.rev + 1, ...fields }))) continue;
        rev = conv.rev + 1;
      }

      const docs = this.eventDocs(p.id, 0, p, rev, txn);
      try {
        await this.backend.insertEvents(docs);
      } catch (err) {
        await this.deleteOwn(p.id, 0, txn, undefined);
        if (err instanceof DuplicateKeyConflict) {
          // Left by an earlier creator of this id, whose reservation we now hold: it can no longer commit.
          await this.backend.deleteEvents({ conversationId: p.id, afterSeq: 0, revBelow: rev });
          continue;
        }
        await this.abandonReservation(p.id, rev);
        throw err;
      }

      const created = await this.backend.casConversation(p.id, rev, {
        version: 1,
        rev: rev + 1,
        lastSeq: docs.length,
        lastTxn: txn,
        lastIdemKey: null,
        pendingTxn: null,
        pendingSince: null,
      });
      if (created) return this.result(p.id, 1, docs);
      await this.deleteOwn(p.id, 0, txn, undefined);
      // Our reservation was taken over (we were too slow): look again.
    }
  }

  /**
   * Our insert collided with a doc at the same seq (or key). Decide what it is and make progress:
   * return to let the caller re-read and retry.
   */
  private async resolveConflict(id: string, seen: ConversationDoc, conflict: Conflict, round: number): Promise<void> {
    const cur = await this.backend.getConversation(id);
    if (!cur || cur.rev !== seen.rev) return; // the conversation moved on: the re-read decides
    const doc =
      conflict.collection === 'events'
        ? await this.backend.findEvent(id, conflict.seq)
        : await this.backend.findIdempotency(id, conflict.key);
    if (!doc) return; // gone meanwhile
    if (conflict.collection === 'idempotency' && isIdempotencyCommitted(doc as IdempotencyDoc, cur)) return; // → duplicate
    if (doc.rev < cur.rev) {
      // Based on an older rev: its writer can never commit it. Delete such leftovers.
      await this.deleteDead(id, cur, conflict);
      return;
    }
    // Based on the current rev: its writer may be about to commit. Wait for it …
    if (this.clock() - new Date(doc.writtenAt).getTime() < this.graceMs) {
      await this.backoff(round);
      return;
    }
    // … unless it has been idle for too long: fence it (its compare-and-swap can no longer
    // succeed), then its leftovers are dead.
    if (await this.backend.casConversation(id, cur.rev, { rev: cur.rev + 1 })) {
      await this.deleteDead(id, { ...cur, rev: cur.rev + 1 }, conflict);
    }
  }

  private async deleteDead(id: string, cur: ConversationDoc, conflict: Conflict): Promise<void> {
    if (conflict.collection === 'events') {
      await this.backend.deleteEvents({ conversationId: id, afterSeq: cur.lastSeq, revBelow: cur.rev });
    } else {
      await this.backend.deleteIdempotency({
        conversationId: id,
        key: conflict.key,
        deadBefore: { rev: cur.rev, lastTxn: cur.lastTxn },
      });
    }
  }

  /** Best effort: remove our own uncommitted docs (only called when our commit point was not reached). */
  private async deleteOwn(id: string, lastSeq: number, txn: string, key: string | undefined): Promise<void> {
    try {
      await this.backend.deleteEvents({ conversationId: id, afterSeq: lastSeq, txn });
      if (key !== undefined) await this.backend.deleteIdempotency({ conversationId: id, key, txn });
    } catch {
      // Left as orphans: invisible, and removed by the next writer that trips over them.
    }
  }

  /** Best effort: let other creators take over our reservation at once instead of after the grace period. */
  private async abandonReservation(id: string, rev: number): Promise<void> {
    try {
      await this.backend.casConversation(id, rev, { rev: rev + 1, pendingTxn: null, pendingSince: null });
    } catch {
      // It will be taken over after the grace period.
    }
  }

  // ----- transaction mode ----------------------------------------------------------------------

  private async commitInTransaction(p: PreparedCommit): Promise<CommitResult> {
    const txn = randomUUID();
    const key = p.idempotency?.key;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.backend.withTransaction(async (s) => {
          const conv = await this.backend.getConversation(p.id, s);
          if (!conv || conv.version < 1) throw new ConversationNotFoundError(p.id);
          const existing = key !== undefined ? await this.backend.findIdempotency(p.id, key, s) : null;
          if (existing && isIdempotencyCommitted(existing, conv)) throw new DuplicateIdempotencyKeyError(p.id, key!);
          if (conv.version !== p.expectedVersion) throw new StaleVersionError(p.id, p.expectedVersion, conv.version);
          const { rev, lastSeq } = conv;
          if (conv.lastIdemKey !== null && conv.lastTxn !== null) {
            await this.backend.markIdempotencyCommitted(p.id, conv.lastIdemKey, conv.lastTxn, s);
          }
          // Leftovers of interrupted compare-and-swap writers (our rev bump fences them).
          await this.backend.deleteEvents({ conversationId: p.id, afterSeq: lastSeq }, s);
          if (existing) await this.backend.deleteIdempotency({ conversationId: p.id, key: key!, txn: existing.txn }, s);
          const docs = this.eventDocs(p.id, lastSeq, p, rev, txn);
          await this.backend.insertEvents(docs, s);
          if (p.idempotency) {
            await this.backend.insertIdempotency(
              {
                conversationId: p.id,
                key: p.idempotency.key,
                value: p.idempotency.valueText,
                rev,
                txn,
                committed: true,
                writtenAt: this.now(),
              },
              s,
            );
          }
          const ok = await this.backend.casConversation(
            p.id,
            rev,
            {
              version: p.expectedVersion + 1,
              rev: rev + 1,
              lastSeq: lastSeq + docs.length,
              lastTxn: txn,
              lastIdemKey: key ?? null,
              state: p.stateText,
              updatedAt: p.at,
            },
            s,
          );
          // (Within the snapshot a concurrent change surfaces as a WriteConflict, which
          // withTransaction retries; a non-matching update is only a belt-and-braces check.)
          if (!ok) throw new TransactionRetry();
          return this.result(p.id, p.expectedVersion + 1, docs);
        });
      } catch (err) {
        // A concurrent writer won a unique index or the document: run again (it then reports
        // stale or duplicate from a fresh snapshot), a few times at most.
        if ((err instanceof DuplicateKeyConflict || err instanceof TransactionRetry) && attempt < 3) continue;
        if (err instanceof TransactionRetry) {
          throw new Error(`MongoStore: commit of conversation "${p.id}" kept conflicting; retry later`);
        }
        throw mapTransactionError(err, p.id, key);
      }
    }
  }

  private async createInTransaction(p: PreparedCreate): Promise<CommitResult> {
    const txn = randomUUID();
    try {
      return await this.backend.withTransaction(async (s) => {
        const conv = await this.backend.getConversation(p.id, s);
        if (conv && conv.version >= 1) throw new ConversationExistsError(p.id);
        const base = conv ? conv.rev : 0; // an abandoned reservation is replaced (and fenced)
        const doc: ConversationDoc = {
          _id: p.id,
          botId: p.botId,
          customerId: p.customerId,
          version: 1,
          state: p.stateText,
          createdAt: p.at,
          updatedAt: p.at,
          lastSeq: p.events.length,
          rev: base + 1,
          lastTxn: txn,
          lastIdemKey: null,
          pendingTxn: null,
          pendingSince: null,
        };
        if (conv) {
          await this.backend.deleteEvents({ conversationId: p.id, afterSeq: 0 }, s);
          const { _id, ...rest } = doc;
          if (!(await this.backend.casConversation(_id, conv.rev, rest, s))) throw new ConversationExistsError(p.id);
        } else {
          await this.backend.insertConversation(doc, s);
        }
        const docs = this.eventDocs(p.id, 0, p, base, txn);
        await this.backend.insertEvents(docs, s);
        return this.result(p.id, 1, docs);
      });
    } catch (err) {
      if (err instanceof DuplicateKeyConflict && err.collection === 'events') {
        // Only possible if a concurrent create inserted the same id: it exists now.
        throw new ConversationExistsError(p.id);
      }
      throw mapTransactionError(err, p.id);
    }
  }
}

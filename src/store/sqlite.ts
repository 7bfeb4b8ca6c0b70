/**
 * SQLite ConversationStore (better-sqlite3).
 *
 * - WAL journal, synchronous=NORMAL (a commit is durable against process crashes; a power loss
 *   can lose the last few commits but never corrupts the database), busy_timeout=5000 ms,
 *   foreign keys on.
 * - Several processes may open the same file. Every write runs in a `BEGIN IMMEDIATE`
 *   transaction, so writers queue on SQLite's write lock (waiting up to busy_timeout) instead of
 *   failing with SQLITE_BUSY on a read-to-write lock upgrade; the optimistic version check inside
 *   the transaction (`UPDATE … WHERE id = ? AND version = ?`, then `changes`) decides who wins.
 * - Group commit. The first commit of an event-loop iteration is written at once, and so is a
 *   conversation's next commit within the same iteration; commits of other conversations that
 *   arrive in the same iteration are queued and written together when it ends (`setImmediate`),
 *   each in its own savepoint inside one `BEGIN IMMEDIATE` transaction, so one commit's stale
 *   version or duplicate key rolls back only that commit. A commit's promise settles after its
 *   COMMIT, so "resolved" still means "committed". Why: a commit dirties ~15 pages (the row, three
 *   `updated_at` indexes, the events and idempotency tables and their keys), each written to the
 *   WAL; concurrent conversations share most of those pages (the right-hand edges of the indexes
 *   and tables), so N commits in one transaction write far fewer than N × 15 pages. At saturation
 *   this cut the HTTP server's CPU per turn by about 30% (docs/performance.md). A commit waits only
 *   behind other conversations' work in the same iteration: under light load, or with a single
 *   busy conversation (the case in which two processes race on it: StaleVersionError, the turn is
 *   retried), nothing waits and that race window does not grow. Reads are not held back: a read that runs before a queued commit is
 *   flushed does not see it (that commit has not resolved yet either). `close()` flushes the queue.
 * - State, event data and idempotency values are stored as JSON text; see port.ts for the JSON
 *   round-trip rules and timestamp format shared with MemoryStore.
 * - Schema is versioned with `PRAGMA user_version`; migrations run once, in an immediate
 *   transaction, and are safe to race from several processes. An existing database is migrated
 *   in place when it is opened (version 1 → 2 adds `customer_id` and its index).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
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
  PreparedEvent,
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

export interface SqliteStoreOptions {
  /** Path of the database file (its parent directory is created if missing), or ':memory:'. */
  filename: string;
}

type Db = Database.Database;
type Stmt = Database.Statement;

/** Migration i brings the schema from user_version i to i + 1. Never edit a shipped migration; append. */
const MIGRATIONS: ReadonlyArray<(db: Db) => void> = [
  (db) => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS conversations (
        id          TEXT    NOT NULL PRIMARY KEY,
        bot_id      TEXT    NOT NULL,
        version     INTEGER NOT NULL CHECK (version >= 1),
        state       TEXT    NOT NULL, -- JSON object
        created_at  TEXT    NOT NULL, -- ISO-8601 UTC (toISOString form), sorts as text
        updated_at  TEXT    NOT NULL
      ) STRICT;
      CREATE INDEX IF NOT EXISTS conversations_by_updated
        ON conversations (updated_at DESC, id ASC);
      CREATE INDEX IF NOT EXISTS conversations_by_bot_updated
        ON conversations (bot_id, updated_at DESC, id ASC);

      CREATE TABLE IF NOT EXISTS events (
        conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        seq             INTEGER NOT NULL CHECK (seq >= 1),
        type            TEXT    NOT NULL,
        at              TEXT    NOT NULL,
        data            TEXT    NOT NULL, -- JSON object
        PRIMARY KEY (conversation_id, seq)
      ) STRICT;

      CREATE TABLE IF NOT EXISTS idempotency (
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        key             TEXT NOT NULL,
        value           TEXT NOT NULL, -- JSON value
        PRIMARY KEY (conversation_id, key)
      ) STRICT;
    `);
  },
  // 1 → 2: customer identity. Existing conversations are anonymous (NULL).
  (db) => {
    db.exec(`
      ALTER TABLE conversations ADD COLUMN customer_id TEXT;
      CREATE INDEX IF NOT EXISTS conversations_by_customer_updated
        ON conversations (customer_id, updated_at DESC, id ASC);
    `);
  },
];

/** The schema version this code writes (PRAGMA user_version). */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

interface ConversationRow {
  id: string;
  bot_id: string;
  customer_id: string | null;
  version: number;
  state: string;
  created_at: string;
  updated_at: string;
}

interface EventRow {
  seq: number;
  type: string;
  at: string;
  data: string;
}

interface QueuedCommit {
  prepared: PreparedCommit;
  resolve(result: { version: number; events: EventRow[] }): void;
  reject(error: unknown): void;
}

const CONVERSATION_COLUMNS = 'id, bot_id, customer_id, version, state, created_at, updated_at';

export class SqliteStore implements ConversationStore {
  readonly filename: string;
  private readonly db: Db;
  private closed = false;

  // Prepared statements, created once.
  private readonly stmt: {
    insertConversation: Stmt;
    selectConversation: Stmt;
    selectVersion: Stmt;
    bumpVersion: Stmt;
    maxSeq: Stmt;
    insertEvent: Stmt;
    selectEvents: Stmt;
    selectEventsOfTypes: Stmt;
    listAll: Stmt;
    listByBot: Stmt;
    listByCustomer: Stmt;
    listByBotAndCustomer: Stmt;
    selectIdempotency: Stmt;
    insertIdempotency: Stmt;
  };

  private readonly createTx: (p: PreparedCreate) => EventRow[];
  private readonly commitTx: (p: PreparedCommit) => { version: number; events: EventRow[] };
  /** Several commits in one transaction, each in a savepoint (a nested transaction); per-commit outcome. */
  private readonly groupTx: (batch: QueuedCommit[]) => Array<{ result: { version: number; events: EventRow[] } } | { error: unknown }>;
  /** Commits waiting for the next flush (group commit, see the file comment). */
  private queue: QueuedCommit[] = [];
  /**
   * Conversations committed at once in this event-loop iteration (null: none yet). While set, other
   * conversations' commits are queued until the flush.
   */
  private grouping: Set<string> | null = null;

  constructor(opts: SqliteStoreOptions) {
    if (!opts || typeof opts.filename !== 'string' || opts.filename === '') {
      throw new TypeError('SqliteStore: opts.filename must be a file path or ":memory:"');
    }
    this.filename = opts.filename;
    if (opts.filename !== ':memory:') {
      fs.mkdirSync(path.dirname(path.resolve(opts.filename)), { recursive: true });
    }

    const db = new Database(opts.filename, { timeout: 5000 });
    try {
      db.pragma('busy_timeout = 5000');
      // Two processes opening a new database file at the same instant can briefly see it locked
      // while the other switches it to WAL; wait a little and retry instead of failing to start.
      for (let attempt = 0; ; attempt++) {
        try {
          db.pragma('journal_mode = WAL');
          break;
        } catch (e) {
          const code = (e as { code?: string }).code ?? '';
          if (!code.startsWith('SQLITE_BUSY') || attempt >= 50) throw e;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20 + Math.floor(Math.random() * 30));
        }
      }
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;

    this.stmt = {
      insertConversation: db.prepare(
        `INSERT INTO conversations (id, bot_id, customer_id, version, state, created_at, updated_at)
         VALUES (?, ?, ?, 1, ?, ?, ?)`,
      ),
      selectConversation: db.prepare(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE id = ?`),
      selectVersion: db.prepare('SELECT version FROM conversations WHERE id = ?').pluck(),
      bumpVersion: db.prepare(
        `UPDATE conversations SET version = version + 1, state = ?, updated_at = ?
         WHERE id = ? AND version = ?`,
      ),
      maxSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) FROM events WHERE conversation_id = ?').pluck(),
      insertEvent: db.prepare('INSERT INTO events (conversation_id, seq, type, at, data) VALUES (?, ?, ?, ?, ?)'),
      selectEvents: db.prepare(
        `SELECT seq, type, at, data FROM events
         WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      ),
      selectEventsOfTypes: db.prepare(
        `SELECT seq, type, at, data FROM events
         WHERE conversation_id = ? AND seq > ? AND type IN (SELECT value FROM json_each(?))
         ORDER BY seq LIMIT ?`,
      ),
      listAll: db.prepare(
        `SELECT ${CONVERSATION_COLUMNS} FROM conversations ORDER BY updated_at DESC, id ASC LIMIT ?`,
      ),
      listByBot: db.prepare(
        `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE bot_id = ?
         ORDER BY updated_at DESC, id ASC LIMIT ?`,
      ),
      listByCustomer: db.prepare(
        `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE customer_id = ?
         ORDER BY updated_at DESC, id ASC LIMIT ?`,
      ),
      // A customer has few conversations: walk the customer index and filter on the bot.
      listByBotAndCustomer: db.prepare(
        `SELECT ${CONVERSATION_COLUMNS} FROM conversations INDEXED BY conversations_by_customer_updated
         WHERE customer_id = ? AND bot_id = ?
         ORDER BY updated_at DESC, id ASC LIMIT ?`,
      ),
      selectIdempotency: db.prepare('SELECT value FROM idempotency WHERE conversation_id = ? AND key = ?').pluck(),
      insertIdempotency: db.prepare('INSERT INTO idempotency (conversation_id, key, value) VALUES (?, ?, ?)'),
    };

    // Transactions are run with .immediate(): take the write lock up front (see header comment).
    this.createTx = db.transaction((p: PreparedCreate): EventRow[] => {
      try {
        this.stmt.insertConversation.run(p.id, p.botId, p.customerId, p.stateText, p.at, p.at);
      } catch (err) {
        if (isConstraint(err, 'SQLITE_CONSTRAINT_PRIMARYKEY')) throw new ConversationExistsError(p.id);
        throw err;
      }
      return this.insertEvents(p.id, 0, p.events);
    }).immediate;

    this.commitTx = db.transaction((p: PreparedCommit) => {
      const { id, idempotency } = p;
      if (idempotency && this.stmt.selectIdempotency.get(id, idempotency.key) !== undefined) {
        // Only possible if the conversation exists (foreign key), so not-found is still reported first.
        throw new DuplicateIdempotencyKeyError(id, idempotency.key);
      }
      const { changes } = this.stmt.bumpVersion.run(p.stateText, p.at, id, p.expectedVersion);
      if (changes !== 1) {
        const actual = this.stmt.selectVersion.get(id) as number | undefined;
        if (actual === undefined) throw new ConversationNotFoundError(id);
        throw new StaleVersionError(id, p.expectedVersion, actual);
      }
      const lastSeq = this.stmt.maxSeq.get(id) as number;
      const events = this.insertEvents(id, lastSeq, p.events);
      if (idempotency) {
        try {
          this.stmt.insertIdempotency.run(id, idempotency.key, idempotency.valueText);
        } catch (err) {
          if (isConstraint(err, 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
            throw new DuplicateIdempotencyKeyError(id, idempotency.key);
          }
          throw err;
        }
      }
      return { version: p.expectedVersion + 1, events };
    }).immediate;

    this.groupTx = db.transaction((batch: QueuedCommit[]) =>
      batch.map((c) => {
        try {
          return { result: this.commitTx(c.prepared) };
        } catch (error) {
          // A failure that ended the whole transaction (I/O error, busy timeout…) fails the batch.
          if (!db.inTransaction) throw error;
          return { error };
        }
      }),
    ).immediate;
  }

  async create(input: CreateInput): Promise<CommitResult> {
    this.assertOpen();
    const p = prepareCreate(input);
    const rows = this.createTx(p);
    return { version: 1, events: rows.map((r) => toStoredEvent(p.id, r)) };
  }

  async load(id: string): Promise<ConversationRecord | null> {
    this.assertOpen();
    assertNonEmptyString(id, 'id');
    const row = this.stmt.selectConversation.get(id) as ConversationRow | undefined;
    return row ? toRecord(row) : null;
  }

  async commit(input: CommitInput): Promise<CommitResult> {
    this.assertOpen();
    const p = prepareCommit(input);
    let written: { version: number; events: EventRow[] };
    if (!this.grouping || this.grouping.has(p.id)) {
      // The first commit of an event-loop iteration is written at once, and so is a conversation's
      // next commit in the same iteration (its turns follow each other; holding it back would only
      // widen the window in which another process can commit to it first). Other conversations'
      // commits in the same iteration wait for the flush at its end and are written together.
      if (!this.grouping) {
        this.grouping = new Set();
        setImmediate(() => this.flush());
      }
      this.grouping.add(p.id);
      written = this.commitTx(p);
    } else {
      written = await new Promise((resolve, reject) => this.queue.push({ prepared: p, resolve, reject }));
    }
    return { version: written.version, events: written.events.map((r) => toStoredEvent(p.id, r)) };
  }

  /** Write the queued commits (group commit): one alone directly, several in one transaction. */
  private flush(): void {
    this.grouping = null;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    if (batch.length === 1) {
      const [c] = batch;
      try {
        c.resolve(this.commitTx(c.prepared));
      } catch (error) {
        c.reject(error);
      }
      return;
    }
    let outcomes: ReturnType<SqliteStore['groupTx']>;
    try {
      outcomes = this.groupTx(batch);
    } catch (error) {
      for (const c of batch) c.reject(error);
      return;
    }
    outcomes.forEach((o, i) => ('error' in o ? batch[i].reject(o.error) : batch[i].resolve(o.result)));
  }

  async events(id: string, opts: EventsOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    assertNonEmptyString(id, 'id');
    const afterSeq = resolveAfterSeq(opts.afterSeq);
    const limit = resolveLimit(opts.limit, EVENTS_DEFAULT_LIMIT, EVENTS_MAX_LIMIT);
    const types = resolveTypes(opts.types);
    if (types?.length === 0) return [];
    const rows = (
      types
        ? this.stmt.selectEventsOfTypes.all(id, afterSeq, JSON.stringify(types), limit)
        : this.stmt.selectEvents.all(id, afterSeq, limit)
    ) as EventRow[];
    return rows.map((r) => toStoredEvent(id, r));
  }

  async list(opts: ListOptions = {}): Promise<ConversationRecord[]> {
    this.assertOpen();
    const { botId, customerId, limit } = resolveListOptions(opts);
    const rows = (
      customerId !== undefined
        ? botId !== undefined
          ? this.stmt.listByBotAndCustomer.all(customerId, botId, limit)
          : this.stmt.listByCustomer.all(customerId, limit)
        : botId !== undefined
          ? this.stmt.listByBot.all(botId, limit)
          : this.stmt.listAll.all(limit)
    ) as ConversationRow[];
    return rows.map(toRecord);
  }

  async getIdempotent(conversationId: string, key: string): Promise<JsonValue | undefined> {
    this.assertOpen();
    assertNonEmptyString(conversationId, 'conversationId');
    assertNonEmptyString(key, 'key');
    const text = this.stmt.selectIdempotency.get(conversationId, key) as string | undefined;
    return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }

  /** Insert events with seq lastSeq+1, lastSeq+2, …; must run inside a transaction. */
  private insertEvents(id: string, lastSeq: number, events: PreparedEvent[]): EventRow[] {
    const rows: EventRow[] = [];
    let seq = lastSeq;
    for (const e of events) {
      seq += 1;
      this.stmt.insertEvent.run(id, seq, e.type, e.at, e.dataText);
      rows.push({ seq, type: e.type, at: e.at, data: e.dataText });
    }
    return rows;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

function migrate(db: Db): void {
  const target = MIGRATIONS.length;
  const readVersion = () => db.pragma('user_version', { simple: true }) as number;
  const check = (current: number) => {
    if (current > target) {
      throw new Error(
        `SqliteStore: database schema version ${current} is newer than this code supports (${target}); ` +
          `upgrade Baton before opening this database.`,
      );
    }
  };
  const before = readVersion();
  check(before);
  if (before === target) return;
  db.transaction(() => {
    // Re-read under the write lock: another process may have migrated meanwhile.
    const current = readVersion();
    check(current);
    for (let v = current; v < target; v++) MIGRATIONS[v](db);
    db.pragma(`user_version = ${target}`);
  }).immediate();
}

function isConstraint(err: unknown, code: string): boolean {
  // Not `instanceof Database.SqliteError` (nor `instanceof Error`): better-sqlite3's native addon
  // keeps the SqliteError class of the first copy of the module loaded in the process, so errors
  // seen by a second copy (jest loads one per test file, each in its own realm; bundlers may too)
  // are not instances of that copy's classes.
  if (err === null || typeof err !== 'object') return false;
  const { name, code: actual } = err as { name?: unknown; code?: unknown };
  return name === 'SqliteError' && actual === code;
}

function toStoredEvent(conversationId: string, row: EventRow): StoredEvent {
  return { seq: row.seq, conversationId, type: row.type, at: row.at, data: JSON.parse(row.data) };
}

function toRecord(row: ConversationRow): ConversationRecord {
  return {
    id: row.id,
    botId: row.bot_id,
    customerId: row.customer_id,
    version: row.version,
    state: JSON.parse(row.state),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

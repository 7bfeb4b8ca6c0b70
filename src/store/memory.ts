/**
 * In-memory ConversationStore, for tests and single-process development.
 *
 * It behaves like the real (SQLite) store, held to the same contract suite:
 * - Deep copies via a JSON round trip on the way in and on the way out. State, event data and
 *   idempotency values are kept as JSON text, exactly as SqliteStore keeps them, and parsed
 *   afresh for every read — so a caller mutating an object it passed in or got back never changes
 *   the store. A non-JSON value comes back as JSON would make it: `undefined`/functions inside
 *   arrays become `null` (and are dropped from objects), `NaN`/`Infinity` become `null`, a `Date`
 *   becomes its ISO string. BigInts and cycles are rejected with a TypeError, writing nothing.
 * - Stale versions are rejected; seq numbering, list filters (botId, customerId) and list ordering
 *   follow the same rules.
 * - Every operation runs synchronously inside its async method (no await between the version
 *   check and the write), so concurrent commits against one instance are serialised and exactly
 *   one of several commits with the same expectedVersion wins.
 */
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

interface StoredEventRow {
  seq: number;
  type: string;
  at: string;
  dataText: string;
}

interface ConversationEntry {
  id: string;
  botId: string;
  customerId: string | null;
  version: number;
  stateText: string;
  createdAt: string;
  updatedAt: string;
  /** events[i].seq === i + 1 */
  events: StoredEventRow[];
  /** key → JSON text of the value */
  idempotency: Map<string, string>;
}

export class MemoryStore implements ConversationStore {
  private readonly conversations = new Map<string, ConversationEntry>();
  private closed = false;

  async create(input: CreateInput): Promise<CommitResult> {
    this.assertOpen();
    const p = prepareCreate(input);
    if (this.conversations.has(p.id)) throw new ConversationExistsError(p.id);
    const entry: ConversationEntry = {
      id: p.id,
      botId: p.botId,
      customerId: p.customerId,
      version: 1,
      stateText: p.stateText,
      createdAt: p.at,
      updatedAt: p.at,
      events: [],
      idempotency: new Map(),
    };
    const written = appendEvents(entry, p.events);
    this.conversations.set(p.id, entry);
    return { version: 1, events: written.map((row) => toStoredEvent(entry.id, row)) };
  }

  async load(id: string): Promise<ConversationRecord | null> {
    this.assertOpen();
    assertNonEmptyString(id, 'id');
    const entry = this.conversations.get(id);
    return entry ? toRecord(entry) : null;
  }

  async commit(input: CommitInput): Promise<CommitResult> {
    this.assertOpen();
    // Validate and serialise everything before touching the entry, so a failure writes nothing.
    const p = prepareCommit(input);
    const entry = this.conversations.get(p.id);
    if (!entry) throw new ConversationNotFoundError(p.id);
    if (p.idempotency && entry.idempotency.has(p.idempotency.key)) {
      throw new DuplicateIdempotencyKeyError(p.id, p.idempotency.key);
    }
    if (entry.version !== p.expectedVersion) {
      throw new StaleVersionError(p.id, p.expectedVersion, entry.version);
    }
    // Nothing below can throw.
    const written = appendEvents(entry, p.events);
    entry.version += 1;
    entry.stateText = p.stateText;
    entry.updatedAt = p.at;
    if (p.idempotency) entry.idempotency.set(p.idempotency.key, p.idempotency.valueText);
    return { version: entry.version, events: written.map((row) => toStoredEvent(entry.id, row)) };
  }

  async events(id: string, opts: EventsOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    assertNonEmptyString(id, 'id');
    const afterSeq = resolveAfterSeq(opts.afterSeq);
    const limit = resolveLimit(opts.limit, EVENTS_DEFAULT_LIMIT, EVENTS_MAX_LIMIT);
    const types = resolveTypes(opts.types);
    const entry = this.conversations.get(id);
    if (!entry || types?.length === 0) return [];
    const typeSet = types && new Set(types);
    const out: StoredEvent[] = [];
    // seq === index + 1, so the first event after afterSeq is at index afterSeq.
    for (let i = afterSeq; i < entry.events.length && out.length < limit; i++) {
      const row = entry.events[i];
      if (!typeSet || typeSet.has(row.type)) out.push(toStoredEvent(id, row));
    }
    return out;
  }

  async list(opts: ListOptions = {}): Promise<ConversationRecord[]> {
    this.assertOpen();
    const { botId, customerId, limit } = resolveListOptions(opts);
    const matching: ConversationEntry[] = [];
    for (const entry of this.conversations.values()) {
      if (botId !== undefined && entry.botId !== botId) continue;
      if (customerId !== undefined && entry.customerId !== customerId) continue;
      matching.push(entry);
    }
    // Canonical ISO timestamps sort as text; same order as SqliteStore (updated_at DESC, id ASC).
    // (updatedAt is ASCII, so code-unit comparison is byte order; ids may not be.)
    matching.sort((a, b) => compareAscii(b.updatedAt, a.updatedAt) || compareUtf8(a.id, b.id));
    return matching.slice(0, limit).map(toRecord);
  }

  async getIdempotent(conversationId: string, key: string): Promise<JsonValue | undefined> {
    this.assertOpen();
    assertNonEmptyString(conversationId, 'conversationId');
    assertNonEmptyString(key, 'key');
    const text = this.conversations.get(conversationId)?.idempotency.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as JsonValue);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

function appendEvents(entry: ConversationEntry, events: PreparedEvent[]): StoredEventRow[] {
  const written: StoredEventRow[] = [];
  for (const e of events) {
    const row: StoredEventRow = { seq: entry.events.length + 1, type: e.type, at: e.at, dataText: e.dataText };
    entry.events.push(row);
    written.push(row);
  }
  return written;
}

function toStoredEvent(conversationId: string, row: StoredEventRow): StoredEvent {
  return { seq: row.seq, conversationId, type: row.type, at: row.at, data: JSON.parse(row.dataText) };
}

function toRecord(entry: ConversationEntry): ConversationRecord {
  return {
    id: entry.id,
    botId: entry.botId,
    customerId: entry.customerId,
    version: entry.version,
    state: JSON.parse(entry.stateText),
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
  };
}

function compareAscii(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Order of the UTF-8 bytes (= code point order), which is what SQLite's default BINARY collation does. */
function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * An in-memory double of the few MongoDB collection operations MongoStore uses (MongoBackend), so
 * its algorithms can be tested without a server: the contract suite, the order of writes, crashes
 * and stalls at every step.
 *
 * Semantics it copies from MongoDB: every operation is atomic on its own (single-document updates,
 * each document of an ordered insert), unique indexes on conversations._id, events
 * (conversationId, seq) and idempotency (conversationId, key) refuse duplicates with
 * DuplicateKeyConflict (an ordered insert stops at the first), and concurrent operations interleave
 * (each one waits a macrotask first, and an insert yields between documents). Transactions (when
 * enabled) are serialisable: one at a time, rolled back on error, and other operations wait for
 * them. Documents are copied on the way in and out.
 *
 * Several clients (`db.client()`) share one database, like several processes. A client's `gate`
 * is awaited before each of its operations is applied: return a promise that never settles to
 * simulate a crash at that point, or one that settles later to simulate a stall.
 */
import {
  ConversationDoc,
  DuplicateKeyConflict,
  EventDeleteFilter,
  EventDoc,
  EventQuery,
  EventView,
  IdempotencyDeleteFilter,
  IdempotencyDoc,
  ListQuery,
  MongoBackend,
  TxSession,
} from '../../src/store/mongo';

export type OpName =
  | 'getConversation'
  | 'insertConversation'
  | 'casConversation'
  | 'listConversations'
  | 'insertEvents'
  | 'findEvents'
  | 'findEvent'
  | 'deleteEvents'
  | 'insertIdempotency'
  | 'findIdempotency'
  | 'markIdempotencyCommitted'
  | 'deleteIdempotency';

export interface OpRecord {
  client: string;
  op: OpName;
  /** A short description of the arguments (for ordering assertions). */
  detail: string;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const clone = <T>(x: T): T => structuredClone(x);

function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

interface Data {
  conversations: Map<string, ConversationDoc>;
  /** conversationId → seq → doc */
  events: Map<string, Map<number, EventDoc>>;
  /** conversationId → key → doc */
  idempotency: Map<string, Map<string, IdempotencyDoc>>;
}

export class FakeMongo {
  data: Data = { conversations: new Map(), events: new Map(), idempotency: new Map() };
  readonly log: OpRecord[] = [];
  /** Whether clients report transaction support. */
  transactions = false;
  private txTail: Promise<void> = Promise.resolve();
  private txActive = false;
  private txIdle: Promise<void> = Promise.resolve();

  client(name = 'client', gate?: (op: OpName, detail: string) => Promise<void> | void): FakeBackend {
    return new FakeBackend(this, name, gate);
  }

  // ----- inspection helpers for tests --------------------------------------------------------

  conversation(id: string): ConversationDoc | undefined {
    return clone(this.data.conversations.get(id));
  }

  eventDocs(id: string): EventDoc[] {
    return [...(this.data.events.get(id)?.values() ?? [])].sort((a, b) => a.seq - b.seq).map(clone);
  }

  idempotencyDocs(id: string): IdempotencyDoc[] {
    return [...(this.data.idempotency.get(id)?.values() ?? [])].map(clone);
  }

  // ----- internals used by FakeBackend ---------------------------------------------------------

  /** Wait until no transaction is running (for operations outside transactions). */
  async outsideTransactions(): Promise<void> {
    while (this.txActive) await this.txIdle;
  }

  async runTransaction<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.txTail;
    let release!: () => void;
    this.txTail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.txActive = true;
    let idle!: () => void;
    this.txIdle = new Promise<void>((resolve) => (idle = resolve));
    const snapshot: Data = {
      conversations: clone(this.data.conversations),
      events: clone(this.data.events),
      idempotency: clone(this.data.idempotency),
    };
    try {
      return await fn();
    } catch (err) {
      this.data = snapshot;
      throw err;
    } finally {
      this.txActive = false;
      idle();
      release();
    }
  }
}

export class FakeBackend implements MongoBackend {
  /** Number of operations this client has applied. */
  applied = 0;

  /**
   * Awaited right after an operation was applied, before its result is returned: throw to
   * simulate a reply lost on the network (the write happened, the caller does not know).
   */
  after?: (op: OpName, detail: string) => Promise<void> | void;

  constructor(
    readonly db: FakeMongo,
    readonly name: string,
    public gate?: (op: OpName, detail: string) => Promise<void> | void,
  ) {}

  private async before(op: OpName, detail: string, session?: TxSession): Promise<void> {
    await tick();
    if (this.gate) await this.gate(op, detail);
    if (!session) await this.db.outsideTransactions();
    this.db.log.push({ client: this.name, op, detail });
    this.applied++;
  }

  private async done(op: OpName, detail: string): Promise<void> {
    if (this.after) await this.after(op, detail);
  }

  async open(): Promise<void> {}

  async supportsTransactions(): Promise<boolean> {
    return this.db.transactions;
  }

  async withTransaction<T>(fn: (session: TxSession) => Promise<T>): Promise<T> {
    return this.db.runTransaction(() => fn({ fake: true }));
  }

  async close(): Promise<void> {}

  async getConversation(id: string, session?: TxSession): Promise<ConversationDoc | null> {
    await this.before('getConversation', id, session);
    return clone(this.db.data.conversations.get(id) ?? null);
  }

  async insertConversation(doc: ConversationDoc, session?: TxSession): Promise<void> {
    await this.before('insertConversation', `${doc._id} v${doc.version} rev${doc.rev}`, session);
    if (this.db.data.conversations.has(doc._id)) throw new DuplicateKeyConflict('conversations', 0);
    this.db.data.conversations.set(doc._id, clone(doc));
    await this.done('insertConversation', doc._id);
  }

  async casConversation(id: string, rev: number, set: Partial<ConversationDoc>, session?: TxSession): Promise<boolean> {
    await this.before('casConversation', `${id} rev${rev}→${set.rev}${set.version !== undefined ? ` v${set.version}` : ''}`, session);
    const doc = this.db.data.conversations.get(id);
    if (!doc || doc.rev !== rev) return false;
    Object.assign(doc, clone(set));
    await this.done('casConversation', id);
    return true;
  }

  async listConversations(q: ListQuery): Promise<ConversationDoc[]> {
    await this.before('listConversations', JSON.stringify(q));
    return [...this.db.data.conversations.values()]
      .filter((d) => d.version >= 1)
      .filter((d) => q.botId === undefined || d.botId === q.botId)
      .filter((d) => q.customerId === undefined || d.customerId === q.customerId)
      .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : compareUtf8(a._id, b._id)))
      .slice(0, q.limit)
      .map(clone);
  }

  async insertEvents(docs: EventDoc[], session?: TxSession): Promise<void> {
    if (docs.length === 0) return;
    await this.before('insertEvents', `${docs[0].conversationId} seq${docs[0].seq}..${docs[docs.length - 1].seq} rev${docs[0].rev}`, session);
    const id = docs[0].conversationId;
    for (let i = 0; i < docs.length; i++) {
      // Other operations may run between the documents of one ordered insert.
      if (i > 0 && !session && i % 64 === 0) {
        await tick();
        await this.db.outsideTransactions();
      }
      let byId = this.db.data.events.get(id);
      if (!byId) this.db.data.events.set(id, (byId = new Map()));
      if (byId.has(docs[i].seq)) throw new DuplicateKeyConflict('events', i);
      byId.set(docs[i].seq, clone(docs[i]));
    }
    await this.done('insertEvents', id);
  }

  async findEvents(q: EventQuery): Promise<EventView[]> {
    await this.before('findEvents', `${q.conversationId} (${q.afterSeq}, ${q.maxSeq}]`);
    const types = q.types && new Set(q.types);
    return [...(this.db.data.events.get(q.conversationId)?.values() ?? [])]
      .filter((e) => e.seq > q.afterSeq && e.seq <= q.maxSeq && (!types || types.has(e.type)))
      .sort((a, b) => a.seq - b.seq)
      .slice(0, q.limit)
      .map((e) => ({ conversationId: e.conversationId, seq: e.seq, type: e.type, at: e.at, data: e.data }));
  }

  async findEvent(conversationId: string, seq: number): Promise<EventDoc | null> {
    await this.before('findEvent', `${conversationId} seq${seq}`);
    return clone(this.db.data.events.get(conversationId)?.get(seq) ?? null);
  }

  async deleteEvents(f: EventDeleteFilter, session?: TxSession): Promise<void> {
    await this.before('deleteEvents', JSON.stringify(f), session);
    const byId = this.db.data.events.get(f.conversationId);
    if (!byId) return;
    for (const [seq, e] of byId) {
      if (seq <= f.afterSeq) continue;
      if (f.txn !== undefined && e.txn !== f.txn) continue;
      if (f.revBelow !== undefined && !(e.rev < f.revBelow)) continue;
      byId.delete(seq);
    }
  }

  async insertIdempotency(doc: IdempotencyDoc, session?: TxSession): Promise<void> {
    await this.before('insertIdempotency', `${doc.conversationId} ${doc.key} rev${doc.rev}`, session);
    let byId = this.db.data.idempotency.get(doc.conversationId);
    if (!byId) this.db.data.idempotency.set(doc.conversationId, (byId = new Map()));
    if (byId.has(doc.key)) throw new DuplicateKeyConflict('idempotency', 0);
    byId.set(doc.key, clone(doc));
    await this.done('insertIdempotency', doc.conversationId);
  }

  async findIdempotency(conversationId: string, key: string, session?: TxSession): Promise<IdempotencyDoc | null> {
    await this.before('findIdempotency', `${conversationId} ${key}`, session);
    return clone(this.db.data.idempotency.get(conversationId)?.get(key) ?? null);
  }

  async markIdempotencyCommitted(conversationId: string, key: string, txn: string, session?: TxSession): Promise<void> {
    await this.before('markIdempotencyCommitted', `${conversationId} ${key}`, session);
    const doc = this.db.data.idempotency.get(conversationId)?.get(key);
    if (doc && doc.txn === txn) doc.committed = true;
  }

  async deleteIdempotency(f: IdempotencyDeleteFilter, session?: TxSession): Promise<void> {
    await this.before('deleteIdempotency', JSON.stringify(f), session);
    const byId = this.db.data.idempotency.get(f.conversationId);
    const doc = byId?.get(f.key);
    if (!byId || !doc) return;
    if (f.deadBefore) {
      if (doc.rev < f.deadBefore.rev && !doc.committed && doc.txn !== f.deadBefore.lastTxn) byId.delete(f.key);
    } else if (doc.txn === f.txn) {
      byId.delete(f.key);
    }
  }
}

/** A virtual clock: `sleep` advances it instead of waiting (so grace periods pass instantly). */
export function virtualTime(start = Date.UTC(2024, 0, 1)) {
  const time = { now: start, slept: 0 };
  return {
    time,
    clock: () => time.now,
    sleep: async (ms: number) => {
      time.now += ms;
      time.slept += ms;
      await tick();
    },
  };
}

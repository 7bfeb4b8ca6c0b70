/**
 * MongoDB HandoffStore (mongoose), normally in the same database as the conversations
 * (collections prefixed `handoff_`, like the SQLite tables).
 *
 * Collections and indexes (declared in the schemas below; created and awaited on first use):
 * - `handoff_agents`      { _id: id, email, name, role, passwordHash, capacity, skills: [string],
 *                           presence, lastAssignedAt, createdAt, updatedAt }
 *   unique (email 1) `handoff_agents_by_email`: one agent per (lower-cased) e-mail, getAgentByEmail.
 *   (createdAt 1, _id 1) `handoff_agents_by_created`: listAgents' order.
 * - `handoff_assignments` { _id: conversationId, botId, status, queue, priority, reason,
 *                           waitingSince, sinceSeq, agentId, assignedAt, closedBy, closedAt,
 *                           customer (JSON text), lastMessage (JSON text), rev, updatedAt }
 *   unique (rev 1) `handoff_assignments_by_rev`: changes(afterRev) (rev range, ascending) and the
 *   unfiltered list (descending); unique because every change gets its own rev.
 *   (agentId 1, status 1, rev -1) `handoff_assignments_by_agent`: claim's capacity count
 *   (agentId, status 'assigned') and an agent's list, newest change first.
 *   (status 1, rev -1) `handoff_assignments_by_status`: the waiting line / lists by status, newest
 *   change first, and loads() (status 'assigned').
 * - `handoff_reads`       { agentId, conversationId, seq }
 *   unique (agentId 1, conversationId 1) `handoff_reads_by_agent_conversation`: markRead (upsert
 *   with $max, so a mark never moves back), readMarks.
 * - `handoff_meta`        { _id: 'rev', value }: the store-wide change counter.
 *
 * Concurrency (several processes may share the database):
 * - Every change of an entry (enqueue, claim, requeue, finish, setLastMessage) runs in one
 *   multi-document transaction (snapshot reads, majority writes) that reads what it checks, bumps
 *   the counter document with `$inc` and writes the entry with the new value as its `rev`.
 *   Because every one of these transactions writes the same counter document, MongoDB's write
 *   conflict rule (first writer wins: a transaction that writes a document another transaction
 *   changed after its snapshot — or is changing — is aborted, then re-run by the driver) lets no
 *   two of them overlap and both commit: they are serialisable, like SQLite's `BEGIN IMMEDIATE`.
 *   So `claim`'s checks (the entry is still waiting — or held by `takeFrom` — and the agent carries
 *   fewer than `capacity` conversations) hold when it commits: two processes can never both assign
 *   one conversation nor push an agent over capacity. Within a process these transactions are
 *   also queued one after the other, to spare the server needless conflicts.
 * - For the same reason revs are given out in commit order, and a rolled-back transaction gives
 *   its rev back. `changes(afterRev)` reads in a snapshot transaction, so it always sees a prefix
 *   of the rev sequence: a poller that has seen rev n never misses a change ≤ n later.
 * - Agents (createAgent, updateAgent) and read marks are single-document writes (atomic on their
 *   own); the unique e-mail index makes a second agent with the same e-mail fail (EmailTakenError).
 *
 * Therefore the store needs multi-document transactions: a replica set (a single-node one is
 * enough) or a sharded cluster. On a standalone server it refuses to start (see open()), rather
 * than give up the guarantees above: no single-document compare-and-set can check an agent's
 * capacity (a count over several entries) and assign an entry in one atomic step.
 *
 * Customer snapshots and last messages are stored as JSON text (exact round trip, as in the
 * conversation store); the other fields as plain BSON values.
 */
import { Schema } from 'mongoose';
import type { ClientSession, Connection } from 'mongoose';
import { duplicateKeyIndex } from '../../store/mongo';
import { MongoModels, STORE_SCHEMA_OPTIONS, type MongoUrlTarget } from '../../store/mongo-connection';
import {
  ASSIGNMENTS_DEFAULT_LIMIT,
  ASSIGNMENTS_MAX_LIMIT,
  AgentNotFoundError,
  AlreadyAssignedError,
  AssignmentNotFoundError,
  EmailTakenError,
  NotOpenError,
  OverCapacityError,
  copy,
  normalizeEmail,
  type AgentPatch,
  type AgentRecord,
  type Assignment,
  type AssignmentFilter,
  type EnqueueInput,
  type HandoffStore,
  type LastMessage,
  type NewAgent,
} from './port';

export type MongoHandoffStoreOptions = MongoUrlTarget;

/** The server has no multi-document transactions (a standalone mongod): the handoff store cannot run on it. */
export class TransactionsRequiredError extends Error {
  override readonly name = 'TransactionsRequiredError';
  readonly code = 'transactions_required';
  constructor() {
    super(
      'MongoHandoffStore needs multi-document transactions: run MongoDB as a replica set (a single-node one is enough: ' +
        'start mongod with --replSet rs0 and run rs.initiate() once) or a sharded cluster; this server is standalone',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Documents, schemas, mapping
// ---------------------------------------------------------------------------------------------

export interface AgentDoc {
  _id: string;
  email: string;
  name: string;
  role: AgentRecord['role'];
  passwordHash: string;
  capacity: number;
  skills: string[];
  presence: AgentRecord['presence'];
  lastAssignedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface AssignmentDoc {
  _id: string;
  botId: string;
  status: Assignment['status'];
  queue: string;
  priority: number;
  reason: string;
  waitingSince: string;
  sinceSeq: number;
  agentId: string | null;
  assignedAt: string | null;
  closedBy: Assignment['closedBy'];
  closedAt: string | null;
  /** JSON text of the customer snapshot, or null. */
  customer: string | null;
  /** JSON text of the last message, or null. */
  lastMessage: string | null;
  rev: number;
  updatedAt: string;
}

export interface ReadMarkDoc {
  agentId: string;
  conversationId: string;
  seq: number;
}

export interface MetaDoc {
  _id: string;
  value: number;
}

export const agentSchema = new Schema(
  {
    _id: { type: String, required: true },
    email: { type: String, required: true },
    name: { type: String, required: true },
    role: { type: String, required: true },
    passwordHash: { type: String, required: true },
    capacity: { type: Number, required: true },
    skills: { type: [String], default: undefined },
    presence: { type: String, required: true },
    lastAssignedAt: { type: String, default: null },
    createdAt: { type: String, required: true },
    updatedAt: { type: String, required: true },
  },
  { ...STORE_SCHEMA_OPTIONS, collection: 'handoff_agents' },
);
agentSchema.index({ email: 1 }, { unique: true, name: 'handoff_agents_by_email' });
agentSchema.index({ createdAt: 1, _id: 1 }, { name: 'handoff_agents_by_created' });

export const assignmentSchema = new Schema(
  {
    _id: { type: String, required: true },
    botId: { type: String, required: true },
    status: { type: String, required: true },
    queue: { type: String, required: true },
    priority: { type: Number, required: true },
    reason: { type: String, required: true },
    waitingSince: { type: String, required: true },
    sinceSeq: { type: Number, required: true },
    agentId: { type: String, default: null },
    assignedAt: { type: String, default: null },
    closedBy: { type: String, default: null },
    closedAt: { type: String, default: null },
    customer: { type: String, default: null },
    lastMessage: { type: String, default: null },
    rev: { type: Number, required: true },
    updatedAt: { type: String, required: true },
  },
  { ...STORE_SCHEMA_OPTIONS, collection: 'handoff_assignments' },
);
assignmentSchema.index({ rev: 1 }, { unique: true, name: 'handoff_assignments_by_rev' });
assignmentSchema.index({ agentId: 1, status: 1, rev: -1 }, { name: 'handoff_assignments_by_agent' });
assignmentSchema.index({ status: 1, rev: -1 }, { name: 'handoff_assignments_by_status' });

export const readMarkSchema = new Schema(
  {
    agentId: { type: String, required: true },
    conversationId: { type: String, required: true },
    seq: { type: Number, required: true },
  },
  { ...STORE_SCHEMA_OPTIONS, collection: 'handoff_reads' },
);
readMarkSchema.index({ agentId: 1, conversationId: 1 }, { unique: true, name: 'handoff_reads_by_agent_conversation' });

export const metaSchema = new Schema(
  {
    _id: { type: String, required: true },
    value: { type: Number, required: true },
  },
  { ...STORE_SCHEMA_OPTIONS, collection: 'handoff_meta' },
);

/** Model names on the connection (collections are fixed by the schemas). */
export const HANDOFF_MODEL_NAMES = {
  agents: 'BatonHandoffAgent',
  assignments: 'BatonHandoffAssignment',
  reads: 'BatonHandoffRead',
  meta: 'BatonHandoffMeta',
} as const;

const SCHEMAS = {
  agents: { model: HANDOFF_MODEL_NAMES.agents, schema: agentSchema },
  assignments: { model: HANDOFF_MODEL_NAMES.assignments, schema: assignmentSchema },
  reads: { model: HANDOFF_MODEL_NAMES.reads, schema: readMarkSchema },
  meta: { model: HANDOFF_MODEL_NAMES.meta, schema: metaSchema },
};

/** The counter document's id in `handoff_meta`. */
export const REV_COUNTER_ID = 'rev';

export function agentDocToRecord(doc: AgentDoc): AgentRecord {
  return {
    id: doc._id,
    email: doc.email,
    name: doc.name,
    role: doc.role,
    passwordHash: doc.passwordHash,
    capacity: doc.capacity,
    skills: [...(doc.skills ?? [])],
    presence: doc.presence,
    lastAssignedAt: doc.lastAssignedAt ?? null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

export function agentRecordToDoc(a: AgentRecord): AgentDoc {
  return {
    _id: a.id,
    email: a.email,
    name: a.name,
    role: a.role,
    passwordHash: a.passwordHash,
    capacity: a.capacity,
    skills: [...a.skills],
    presence: a.presence,
    lastAssignedAt: a.lastAssignedAt,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}

export function assignmentDocToRecord(doc: AssignmentDoc): Assignment {
  return {
    conversationId: doc._id,
    botId: doc.botId,
    status: doc.status,
    queue: doc.queue,
    priority: doc.priority,
    reason: doc.reason,
    waitingSince: doc.waitingSince,
    sinceSeq: doc.sinceSeq,
    agentId: doc.agentId ?? null,
    assignedAt: doc.assignedAt ?? null,
    closedBy: doc.closedBy ?? null,
    closedAt: doc.closedAt ?? null,
    customer: doc.customer ? JSON.parse(doc.customer) : null,
    lastMessage: doc.lastMessage ? JSON.parse(doc.lastMessage) : null,
    rev: doc.rev,
    updatedAt: doc.updatedAt,
  };
}

export function assignmentRecordToDoc(e: Assignment): AssignmentDoc {
  return {
    _id: e.conversationId,
    botId: e.botId,
    status: e.status,
    queue: e.queue,
    priority: e.priority,
    reason: e.reason,
    waitingSince: e.waitingSince,
    sinceSeq: e.sinceSeq,
    agentId: e.agentId,
    assignedAt: e.assignedAt,
    closedBy: e.closedBy,
    closedAt: e.closedAt,
    customer: e.customer ? JSON.stringify(e.customer) : null,
    lastMessage: e.lastMessage ? JSON.stringify(e.lastMessage) : null,
    rev: e.rev,
    updatedAt: e.updatedAt,
  };
}

/** The fields an AgentPatch may change (anything else in a patch is ignored). */
export const AGENT_PATCH_FIELDS = ['name', 'role', 'passwordHash', 'capacity', 'skills', 'presence'] as const;

/** The `$set` of updateAgent: the patch's known fields (JSON copies, undefined dropped) and updatedAt. */
export function agentPatchUpdate(patch: AgentPatch, at: string): Record<string, unknown> {
  const p = copy(patch ?? {}) as Record<string, unknown>;
  const set: Record<string, unknown> = {};
  for (const k of AGENT_PATCH_FIELDS) if (p[k] !== undefined) set[k] = p[k];
  set.updatedAt = at;
  return set;
}

/** The MongoDB filter for listAssignments (exported for tests). */
export function assignmentFilterQuery(filter: AssignmentFilter): Record<string, unknown> {
  const q: Record<string, unknown> = {};
  if (filter.status) q.status = { $in: [...filter.status] };
  if (filter.agentId !== undefined) q.agentId = filter.agentId;
  if (filter.queues) q.queue = { $in: [...filter.queues] };
  return q;
}

/**
 * Map an error from inserting an agent: a duplicate key (the unique e-mail index, or an id that is
 * taken — as in the other adapters) → EmailTakenError; anything else unchanged.
 */
export function mapAgentInsertError(err: unknown, email: string): unknown {
  return duplicateKeyIndex(err) !== null ? new EmailTakenError(email) : err;
}

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

export class MongoHandoffStore implements HandoffStore {
  private readonly db: MongoModels<keyof typeof SCHEMAS>;
  private closed = false;
  private opening: Promise<void> | null = null;
  /** This process's entry changes, one after the other (see the header). */
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * `new MongoHandoffStore({ url, dbName?, connectOptions? })` opens its own connection lazily
   * and closes it on close(); `new MongoHandoffStore(connection)` uses an open mongoose Connection
   * (e.g. the one shared with MongoStore) and leaves it open on close().
   */
  constructor(target: MongoHandoffStoreOptions | Connection) {
    this.db = new MongoModels('MongoHandoffStore', target, SCHEMAS, () => new TransactionsRequiredError());
  }

  /** Database name (when built from a URL). */
  get dbName(): string | undefined {
    return this.db.dbName;
  }

  /**
   * Connect, create collections and indexes, check that the server has transactions (else
   * TransactionsRequiredError) and create the change counter. Done on first use anyway; call it at
   * start-up to fail fast. A failure is not cached: the next call tries again.
   */
  async open(): Promise<void> {
    this.assertOpen();
    if (!this.opening) {
      const opening = (async () => {
        const m = await this.db.open(); // (refuses a server without transactions before creating anything)
        // The counter starts above any rev already stored (should the counter document be lost).
        const top = (await m.assignments.findOne({}, { rev: 1 }).sort({ rev: -1 }).lean().exec()) as { rev: number } | null;
        try {
          await m.meta.updateOne({ _id: REV_COUNTER_ID }, { $setOnInsert: { value: top?.rev ?? 0 } }, { upsert: true }).exec();
        } catch (err) {
          if (duplicateKeyIndex(err) === null) throw err; // another process created it first
        }
      })();
      this.opening = opening;
      opening.catch(() => {
        if (this.opening === opening) this.opening = null;
      });
    }
    await this.opening;
    this.assertOpen();
  }

  private async ready() {
    await this.open();
    return this.db.m;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the handoff store is closed');
  }

  /** Run an entry change in a transaction, after this process's previous ones. */
  private change<T>(fn: (s: ClientSession) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      await this.ready();
      return this.db.withTransaction(fn);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Bump the store-wide counter in the transaction; the new value is the change's rev. */
  private async nextRev(s: ClientSession): Promise<number> {
    const doc = (await this.db.m.meta
      .findOneAndUpdate({ _id: REV_COUNTER_ID }, { $inc: { value: 1 } }, { returnDocument: 'after', session: s })
      .lean()
      .exec()) as MetaDoc | null;
    if (!doc) throw new Error('MongoHandoffStore: the change counter (handoff_meta "rev") is missing');
    return doc.value;
  }

  private async entry(id: string, s: ClientSession): Promise<Assignment | null> {
    const doc = (await this.db.m.assignments.findOne({ _id: id }).session(s).lean().exec()) as AssignmentDoc | null;
    return doc ? assignmentDocToRecord(doc) : null;
  }

  /** Give `e` the next rev and `at`, and store it (insert or replace). */
  private async touch(e: Assignment, at: string, s: ClientSession): Promise<Assignment> {
    e.rev = await this.nextRev(s);
    e.updatedAt = at;
    const { _id, ...fields } = assignmentRecordToDoc(e);
    await this.db.m.assignments.updateOne({ _id }, { $set: fields }, { upsert: true, session: s }).exec();
    return e;
  }

  // ----- agents --------------------------------------------------------------------------------

  async createAgent(agent: NewAgent, at: string): Promise<AgentRecord> {
    const m = await this.ready();
    const rec: AgentRecord = {
      id: agent.id,
      email: normalizeEmail(agent.email),
      name: agent.name,
      role: agent.role,
      passwordHash: agent.passwordHash,
      capacity: agent.capacity,
      skills: copy(agent.skills),
      presence: agent.presence ?? 'offline',
      lastAssignedAt: null,
      createdAt: at,
      updatedAt: at,
    };
    try {
      await m.agents.insertMany([agentRecordToDoc(rec)], { lean: true });
    } catch (err) {
      throw mapAgentInsertError(err, rec.email);
    }
    return copy(rec);
  }

  async getAgent(id: string): Promise<AgentRecord | null> {
    const m = await this.ready();
    const doc = (await m.agents.findOne({ _id: id }).lean().exec()) as AgentDoc | null;
    return doc ? agentDocToRecord(doc) : null;
  }

  async getAgentByEmail(email: string): Promise<AgentRecord | null> {
    const m = await this.ready();
    const doc = (await m.agents.findOne({ email: normalizeEmail(email) }).lean().exec()) as AgentDoc | null;
    return doc ? agentDocToRecord(doc) : null;
  }

  async listAgents(): Promise<AgentRecord[]> {
    const m = await this.ready();
    const docs = (await m.agents.find({}).sort({ createdAt: 1, _id: 1 }).lean().exec()) as unknown as AgentDoc[];
    return docs.map(agentDocToRecord);
  }

  async updateAgent(id: string, patch: AgentPatch, at: string): Promise<AgentRecord> {
    const m = await this.ready();
    const doc = (await m.agents
      .findOneAndUpdate({ _id: id }, { $set: agentPatchUpdate(patch, at) }, { returnDocument: 'after' })
      .lean()
      .exec()) as AgentDoc | null;
    if (!doc) throw new AgentNotFoundError(id);
    return agentDocToRecord(doc);
  }

  // ----- the queue -----------------------------------------------------------------------------

  async enqueue(input: EnqueueInput, at: string): Promise<{ entry: Assignment; created: boolean }> {
    this.assertOpen();
    return this.change(async (s) => {
      const cur = await this.entry(input.conversationId, s);
      if (cur && cur.status !== 'resolved') return { entry: cur, created: false };
      const i = copy(input);
      const e: Assignment = {
        conversationId: i.conversationId,
        botId: i.botId,
        status: 'waiting',
        queue: i.queue,
        priority: i.priority,
        reason: i.reason,
        waitingSince: i.waitingSince,
        sinceSeq: i.sinceSeq,
        agentId: null,
        assignedAt: null,
        closedBy: null,
        closedAt: null,
        customer: i.customer ?? null,
        lastMessage: cur?.lastMessage ?? null,
        rev: 0,
        updatedAt: at,
      };
      return { entry: await this.touch(e, at, s), created: true };
    });
  }

  async getAssignment(id: string): Promise<Assignment | null> {
    const m = await this.ready();
    const doc = (await m.assignments.findOne({ _id: id }).lean().exec()) as AssignmentDoc | null;
    return doc ? assignmentDocToRecord(doc) : null;
  }

  async listAssignments(filter: AssignmentFilter = {}): Promise<Assignment[]> {
    const m = await this.ready();
    const limit = Math.min(filter.limit ?? ASSIGNMENTS_DEFAULT_LIMIT, ASSIGNMENTS_MAX_LIMIT);
    if (!(limit >= 1)) return []; // (MongoDB reads limit 0 as "no limit")
    const docs = (await m.assignments.find(assignmentFilterQuery(filter)).sort({ rev: -1 }).limit(Math.floor(limit)).lean().exec()) as unknown as AssignmentDoc[];
    return docs.map(assignmentDocToRecord);
  }

  async claim(id: string, agentId: string, opts: { capacity: number; at: string; takeFrom?: string }): Promise<{ entry: Assignment; changed: boolean }> {
    this.assertOpen();
    return this.change(async (s) => {
      const e = await this.entry(id, s);
      if (!e) throw new AssignmentNotFoundError(id);
      if (e.status === 'resolved') throw new NotOpenError(id);
      if (e.status === 'assigned' && e.agentId === agentId) return { entry: e, changed: false };
      if (e.status === 'assigned' && (opts.takeFrom === undefined || e.agentId !== opts.takeFrom)) throw new AlreadyAssignedError(id, e.agentId);
      const load = await this.db.m.assignments.countDocuments({ agentId, status: 'assigned' }).session(s).exec();
      if (load >= opts.capacity) throw new OverCapacityError(agentId, opts.capacity);
      e.status = 'assigned';
      e.agentId = agentId;
      e.assignedAt = opts.at;
      const entry = await this.touch(e, opts.at, s);
      await this.db.m.agents.updateOne({ _id: agentId }, { $set: { lastAssignedAt: opts.at } }, { session: s }).exec();
      return { entry, changed: true };
    });
  }

  async requeue(id: string, opts: { queue: string; at: string }): Promise<Assignment> {
    this.assertOpen();
    return this.change(async (s) => {
      const e = await this.entry(id, s);
      if (!e) throw new AssignmentNotFoundError(id);
      if (e.status === 'resolved') throw new NotOpenError(id);
      Object.assign(e, { status: 'waiting', agentId: null, assignedAt: null, queue: opts.queue });
      return this.touch(e, opts.at, s);
    });
  }

  async finish(id: string, opts: { by: 'resolve' | 'handback'; at: string }): Promise<Assignment> {
    this.assertOpen();
    return this.change(async (s) => {
      const e = await this.entry(id, s);
      if (!e) throw new AssignmentNotFoundError(id);
      if (e.status === 'resolved') throw new NotOpenError(id);
      Object.assign(e, { status: 'resolved', closedBy: opts.by, closedAt: opts.at });
      return this.touch(e, opts.at, s);
    });
  }

  async setLastMessage(id: string, message: LastMessage, at: string): Promise<Assignment | null> {
    this.assertOpen();
    return this.change(async (s) => {
      const e = await this.entry(id, s);
      if (!e) return null;
      if (e.lastMessage && e.lastMessage.seq >= message.seq) return e;
      e.lastMessage = copy(message);
      return this.touch(e, at, s);
    });
  }

  async changes(afterRev: number, limit = 1000): Promise<Assignment[]> {
    await this.ready();
    if (!(limit >= 1)) return [];
    // A snapshot (a read-only transaction): it sees a prefix of the rev sequence, never a gap.
    return this.db.withTransaction(async (s) => {
      const docs = (await this.db.m.assignments
        .find({ rev: { $gt: afterRev } })
        .sort({ rev: 1 })
        .limit(Math.floor(limit))
        .session(s)
        .lean()
        .exec()) as unknown as AssignmentDoc[];
      return docs.map(assignmentDocToRecord);
    });
  }

  async loads(): Promise<Record<string, number>> {
    const m = await this.ready();
    const rows = (await m.assignments
      .aggregate([{ $match: { status: 'assigned', agentId: { $ne: null } } }, { $group: { _id: '$agentId', n: { $sum: 1 } } }])
      .exec()) as { _id: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r._id, r.n]));
  }

  // ----- read marks ----------------------------------------------------------------------------

  async markRead(agentId: string, conversationId: string, seq: number): Promise<void> {
    const m = await this.ready();
    const write = () => m.reads.updateOne({ agentId, conversationId }, { $max: { seq } }, { upsert: true }).exec();
    try {
      await write();
    } catch (err) {
      if (duplicateKeyIndex(err) === null) throw err;
      await write(); // a concurrent first mark inserted it: now it updates
    }
  }

  async readMarks(agentId: string, conversationIds: string[]): Promise<Record<string, number>> {
    const m = await this.ready();
    if (!conversationIds.length) return {};
    const docs = (await m.reads
      .find({ agentId, conversationId: { $in: [...conversationIds] } }, { _id: 0, conversationId: 1, seq: 1 })
      .lean()
      .exec()) as unknown as Pick<ReadMarkDoc, 'conversationId' | 'seq'>[];
    return Object.fromEntries(docs.map((d) => [d.conversationId, d.seq]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.catch(() => undefined);
    const opening = this.opening;
    if (opening) await opening.catch(() => undefined);
    await this.db.close();
  }
}

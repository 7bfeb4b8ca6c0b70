/**
 * SQLite HandoffStore (better-sqlite3), normally in the same database file as the conversations
 * (its own tables, prefixed `handoff_`; its own schema version in `handoff_meta`, so it never
 * touches the conversation store's `PRAGMA user_version`).
 *
 * Every write runs in a `BEGIN IMMEDIATE` transaction, so several processes on one file queue on
 * SQLite's write lock; the checks of `claim` (entry still waiting, agent below capacity) are made
 * inside that transaction, so two processes can never both assign one conversation or push an
 * agent over capacity. `rev` is a store-wide counter bumped in the same transaction as each change.
 *
 * Agents and loads are cached in process (they are read on every handoff, every agent request and
 * every stream frame). The cache is checked against a second counter, `routing` in
 * `handoff_meta`, which SQLite triggers bump on every change to an agent and every change of an
 * entry's status or agent — whoever makes it (this process, another process on the same file, an
 * older Baton, a manual UPDATE). A read compares the counter (one indexed row) with the cached
 * one and reloads on any difference; this store's own writes update the cache in the same step
 * when the counter shows no other change in between, else drop it. The cache only serves reads:
 * `claim` (and an `enqueue` that assigns) still counts the agent's conversations inside its
 * transaction, so capacity is enforced by the database whatever a cache says.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  ASSIGNMENTS_DEFAULT_LIMIT,
  ASSIGNMENTS_MAX_LIMIT,
  AgentNotFoundError,
  AlreadyAssignedError,
  AssignmentNotFoundError,
  EmailTakenError,
  NotOpenError,
  OverCapacityError,
  normalizeEmail,
  type AgentPatch,
  type AgentRecord,
  type Assignment,
  type AssignmentFilter,
  type EnqueueInput,
  type EnqueueOptions,
  type HandoffStore,
  type LastMessage,
  type NewAgent,
} from './port';

type Db = Database.Database;

const MIGRATIONS: ReadonlyArray<(db: Db) => void> = [
  (db) =>
    db.exec(`
      CREATE TABLE IF NOT EXISTS handoff_agents (
        id TEXT NOT NULL PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        capacity INTEGER NOT NULL,
        skills TEXT NOT NULL, -- JSON array
        presence TEXT NOT NULL,
        last_assigned_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
      CREATE TABLE IF NOT EXISTS handoff_assignments (
        conversation_id TEXT NOT NULL PRIMARY KEY,
        bot_id TEXT NOT NULL,
        status TEXT NOT NULL,
        queue TEXT NOT NULL,
        priority INTEGER NOT NULL,
        reason TEXT NOT NULL,
        waiting_since TEXT NOT NULL,
        since_seq INTEGER NOT NULL,
        agent_id TEXT,
        assigned_at TEXT,
        closed_by TEXT,
        closed_at TEXT,
        customer TEXT, -- JSON
        last_message TEXT, -- JSON
        rev INTEGER NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX IF NOT EXISTS handoff_assignments_by_rev ON handoff_assignments (rev);
      CREATE INDEX IF NOT EXISTS handoff_assignments_by_agent ON handoff_assignments (agent_id, status);
      CREATE INDEX IF NOT EXISTS handoff_assignments_by_status ON handoff_assignments (status, queue);
      CREATE TABLE IF NOT EXISTS handoff_reads (
        agent_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (agent_id, conversation_id)
      ) STRICT;
    `),
  // 1 → 2: the `routing` counter (validates the in-process cache of agents and loads; see the file
  // comment), bumped by triggers so that every writer bumps it, and the read marks of one
  // conversation by agent (stream fan-out).
  (db) =>
    db.exec(`
      INSERT OR IGNORE INTO handoff_meta (key, value) VALUES ('routing', 0);
      CREATE TRIGGER IF NOT EXISTS handoff_agents_routing_ins AFTER INSERT ON handoff_agents
        BEGIN UPDATE handoff_meta SET value = value + 1 WHERE key = 'routing'; END;
      CREATE TRIGGER IF NOT EXISTS handoff_agents_routing_upd AFTER UPDATE ON handoff_agents
        BEGIN UPDATE handoff_meta SET value = value + 1 WHERE key = 'routing'; END;
      CREATE TRIGGER IF NOT EXISTS handoff_agents_routing_del AFTER DELETE ON handoff_agents
        BEGIN UPDATE handoff_meta SET value = value + 1 WHERE key = 'routing'; END;
      CREATE TRIGGER IF NOT EXISTS handoff_assignments_routing_ins AFTER INSERT ON handoff_assignments
        WHEN new.status = 'assigned'
        BEGIN UPDATE handoff_meta SET value = value + 1 WHERE key = 'routing'; END;
      CREATE TRIGGER IF NOT EXISTS handoff_assignments_routing_upd AFTER UPDATE OF status, agent_id ON handoff_assignments
        WHEN old.status IS NOT new.status OR old.agent_id IS NOT new.agent_id
        BEGIN UPDATE handoff_meta SET value = value + 1 WHERE key = 'routing'; END;
      CREATE TRIGGER IF NOT EXISTS handoff_assignments_routing_del AFTER DELETE ON handoff_assignments
        WHEN old.status = 'assigned'
        BEGIN UPDATE handoff_meta SET value = value + 1 WHERE key = 'routing'; END;
      CREATE INDEX IF NOT EXISTS handoff_reads_by_conversation ON handoff_reads (conversation_id, agent_id);
    `),
];

interface AgentRow {
  id: string;
  email: string;
  name: string;
  role: string;
  password_hash: string;
  capacity: number;
  skills: string;
  presence: string;
  last_assigned_at: string | null;
  created_at: string;
  updated_at: string;
}
interface EntryRow {
  conversation_id: string;
  bot_id: string;
  status: string;
  queue: string;
  priority: number;
  reason: string;
  waiting_since: string;
  since_seq: number;
  agent_id: string | null;
  assigned_at: string | null;
  closed_by: string | null;
  closed_at: string | null;
  customer: string | null;
  last_message: string | null;
  rev: number;
  updated_at: string;
}

const toAgent = (r: AgentRow): AgentRecord => ({
  id: r.id,
  email: r.email,
  name: r.name,
  role: r.role as AgentRecord['role'],
  passwordHash: r.password_hash,
  capacity: r.capacity,
  skills: JSON.parse(r.skills),
  presence: r.presence as AgentRecord['presence'],
  lastAssignedAt: r.last_assigned_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toEntry = (r: EntryRow): Assignment => ({
  conversationId: r.conversation_id,
  botId: r.bot_id,
  status: r.status as Assignment['status'],
  queue: r.queue,
  priority: r.priority,
  reason: r.reason,
  waitingSince: r.waiting_since,
  sinceSeq: r.since_seq,
  agentId: r.agent_id,
  assignedAt: r.assigned_at,
  closedBy: r.closed_by as Assignment['closedBy'],
  closedAt: r.closed_at,
  customer: r.customer ? JSON.parse(r.customer) : null,
  lastMessage: r.last_message ? JSON.parse(r.last_message) : null,
  rev: r.rev,
  updatedAt: r.updated_at,
});

/** A copy of an agent record (all fields are primitives but `skills`). */
const copyAgent = (a: AgentRecord): AgentRecord => ({ ...a, skills: [...a.skills] });

/** Agents (in `listAgents` order) and loads, as of `routing` counter value `gen`. */
interface RoutingCache {
  gen: number;
  agents: AgentRecord[];
  byId: Map<string, AgentRecord>;
  loads: Map<string, number>;
}

function isUnique(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  return !!e && e.name === 'SqliteError' && (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY');
}

export class SqliteHandoffStore implements HandoffStore {
  /** Prepared statements, compiled once per SQL text (this store is on the hot path of every commit). */
  private readonly statements = new Map<string, Database.Statement>();
  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  private readonly db: Db;
  private closed = false;
  private readonly tx: <T>(fn: () => T) => T;
  /** See the file comment; null: not loaded (or dropped). */
  private cache: RoutingCache | null = null;

  constructor(opts: { filename: string }) {
    if (opts.filename !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(opts.filename)), { recursive: true });
    const db = new Database(opts.filename, { timeout: 5000 });
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    this.db = db;
    this.tx = <T>(fn: () => T): T => db.transaction(fn).immediate();
    this.tx(() => {
      db.exec('CREATE TABLE IF NOT EXISTS handoff_meta (key TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL) STRICT');
      db.prepare("INSERT OR IGNORE INTO handoff_meta (key, value) VALUES ('schema', 0), ('rev', 0)").run();
      const v = db.prepare("SELECT value FROM handoff_meta WHERE key = 'schema'").pluck().get() as number;
      if (v > MIGRATIONS.length) throw new Error(`SqliteHandoffStore: handoff schema version ${v} is newer than this code supports (${MIGRATIONS.length}); upgrade Baton`);
      for (let i = v; i < MIGRATIONS.length; i++) MIGRATIONS[i](db);
      db.prepare("UPDATE handoff_meta SET value = ? WHERE key = 'schema'").run(MIGRATIONS.length);
    });
  }

  private open() {
    if (this.closed) throw new Error('the handoff store is closed');
  }

  private nextRev(): number {
    return this.stmt("UPDATE handoff_meta SET value = value + 1 WHERE key = 'rev' RETURNING value").pluck().get() as number;
  }

  private routingGen(): number {
    return this.stmt("SELECT value FROM handoff_meta WHERE key = 'routing'").pluck().get() as number;
  }

  /** The cache if it is current (the `routing` counter has not moved since), else null. */
  private current(): RoutingCache | null {
    const c = this.cache;
    return c && c.gen === this.routingGen() ? c : null;
  }

  /** The cache, reloaded when the `routing` counter moved (a change made by anyone). */
  private routing(): RoutingCache {
    const current = this.current();
    if (current) return current;
    // One read transaction: the counter and the rows it stands for are one snapshot.
    const cache = this.db.transaction((): RoutingCache => {
      const g = this.routingGen();
      const agents = (this.stmt('SELECT * FROM handoff_agents ORDER BY created_at, id').all() as AgentRow[]).map(toAgent);
      const rows = this.stmt("SELECT agent_id AS id, COUNT(*) AS n FROM handoff_assignments WHERE status = 'assigned' AND agent_id IS NOT NULL GROUP BY agent_id").all() as { id: string; n: number }[];
      return { gen: g, agents, byId: new Map(agents.map((a) => [a.id, a])), loads: new Map(rows.map((r) => [r.id, r.n])) };
    })();
    this.cache = cache;
    return cache;
  }

  /**
   * Run a write transaction; when it moved the `routing` counter and the cache was current just
   * before it (nobody else changed anything), `apply` brings the cache up to date, else the cache
   * is dropped (the next read reloads it).
   */
  private write<T>(fn: () => T, apply?: (cache: RoutingCache, result: T) => void): T {
    let before = 0;
    let after = 0;
    const result = this.tx(() => {
      before = this.routingGen();
      const r = fn();
      after = this.routingGen();
      return r;
    });
    // Committed. (No other code of this process can run between the COMMIT and here.)
    if (after !== before) {
      const c = this.cache;
      if (c && c.gen === before && apply) {
        try {
          apply(c, result);
          c.gen = after;
        } catch {
          this.cache = null;
        }
      } else this.cache = null;
    }
    return result;
  }

  private static addLoad(c: RoutingCache, agentId: string | null, d: number) {
    if (!agentId) return;
    const n = (c.loads.get(agentId) ?? 0) + d;
    if (n > 0) c.loads.set(agentId, n);
    else c.loads.delete(agentId);
  }

  private entry(id: string): Assignment | null {
    const r = this.stmt('SELECT * FROM handoff_assignments WHERE conversation_id = ?').get(id) as EntryRow | undefined;
    return r ? toEntry(r) : null;
  }

  private upsert(e: Assignment) {
    this.stmt(
        `INSERT INTO handoff_assignments (conversation_id, bot_id, status, queue, priority, reason, waiting_since, since_seq, agent_id, assigned_at, closed_by, closed_at, customer, last_message, rev, updated_at)
         VALUES (@conversationId, @botId, @status, @queue, @priority, @reason, @waitingSince, @sinceSeq, @agentId, @assignedAt, @closedBy, @closedAt, @customer, @lastMessage, @rev, @updatedAt)
         ON CONFLICT (conversation_id) DO UPDATE SET bot_id = excluded.bot_id, status = excluded.status, queue = excluded.queue, priority = excluded.priority,
           reason = excluded.reason, waiting_since = excluded.waiting_since, since_seq = excluded.since_seq, agent_id = excluded.agent_id,
           assigned_at = excluded.assigned_at, closed_by = excluded.closed_by, closed_at = excluded.closed_at, customer = excluded.customer,
           last_message = excluded.last_message, rev = excluded.rev, updated_at = excluded.updated_at`,
      ).run({ ...e, customer: e.customer ? JSON.stringify(e.customer) : null, lastMessage: e.lastMessage ? JSON.stringify(e.lastMessage) : null });
  }

  private touch(e: Assignment, at: string) {
    e.rev = this.nextRev();
    e.updatedAt = at;
    this.upsert(e);
    return e;
  }

  async createAgent(agent: NewAgent, at: string): Promise<AgentRecord> {
    this.open();
    const rec: AgentRecord = { ...agent, email: normalizeEmail(agent.email), presence: agent.presence ?? 'offline', lastAssignedAt: null, createdAt: at, updatedAt: at };
    try {
      this.write(() =>
        this.stmt(
          `INSERT INTO handoff_agents (id, email, name, role, password_hash, capacity, skills, presence, last_assigned_at, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
        ).run(rec.id, rec.email, rec.name, rec.role, rec.passwordHash, rec.capacity, JSON.stringify(rec.skills), rec.presence, at, at),
      ); // a new agent: the cache is reloaded (rare; keeps the listing order in one place)
    } catch (e) {
      if (isUnique(e)) throw new EmailTakenError(rec.email);
      throw e;
    }
    return rec;
  }

  async getAgent(id: string) {
    this.open();
    const c = this.current();
    if (c) {
      const a = c.byId.get(id);
      return a ? copyAgent(a) : null;
    }
    // Stale (someone changed agents or loads): one row, rather than reloading everything for it.
    const r = this.stmt('SELECT * FROM handoff_agents WHERE id = ?').get(id) as AgentRow | undefined;
    return r ? toAgent(r) : null;
  }

  async getAgentByEmail(email: string) {
    this.open();
    const r = this.stmt('SELECT * FROM handoff_agents WHERE email = ?').get(normalizeEmail(email)) as AgentRow | undefined;
    return r ? toAgent(r) : null;
  }

  async listAgents() {
    this.open();
    return this.routing().agents.map(copyAgent);
  }

  async updateAgent(id: string, patch: AgentPatch, at: string) {
    this.open();
    const a = this.write(
      () => {
        const r = this.stmt('SELECT * FROM handoff_agents WHERE id = ?').get(id) as AgentRow | undefined;
        if (!r) throw new AgentNotFoundError(id);
        const a = { ...toAgent(r), ...JSON.parse(JSON.stringify(patch)), updatedAt: at } as AgentRecord;
        this.stmt('UPDATE handoff_agents SET name = ?, role = ?, password_hash = ?, capacity = ?, skills = ?, presence = ?, updated_at = ? WHERE id = ?').run(
          a.name,
          a.role,
          a.passwordHash,
          a.capacity,
          JSON.stringify(a.skills),
          a.presence,
          at,
          id,
        );
        return a;
      },
      (c, a) => {
        const cached = c.byId.get(a.id);
        if (!cached) throw new Error('agent missing from the cache');
        Object.assign(cached, copyAgent(a));
      },
    );
    return copyAgent(a);
  }

  async enqueue(input: EnqueueInput, at: string, opts: EnqueueOptions = {}) {
    this.open();
    const r = this.write(
      () => {
        const cur = this.entry(input.conversationId);
        if (cur && cur.status !== 'resolved') return { entry: cur, created: false };
        const e: Assignment = {
          ...JSON.parse(JSON.stringify(input)),
          status: 'waiting',
          agentId: null,
          assignedAt: null,
          closedBy: null,
          closedAt: null,
          lastMessage: cur?.lastMessage ?? null,
          rev: 0,
          updatedAt: at,
        };
        const to = opts.assignTo;
        if (to && this.loadOf(to.agentId) < to.capacity && this.stmt('UPDATE handoff_agents SET last_assigned_at = ? WHERE id = ?').run(at, to.agentId).changes === 1) {
          e.status = 'assigned';
          e.agentId = to.agentId;
          e.assignedAt = at;
        }
        return { entry: this.touch(e, at), created: true };
      },
      (c, { entry: e, created }) => {
        if (!created || e.status !== 'assigned') return; // a reopened entry waits: loads unchanged
        SqliteHandoffStore.addLoad(c, e.agentId, 1);
        const a = c.byId.get(e.agentId!);
        if (!a) throw new Error('agent missing from the cache');
        a.lastAssignedAt = at;
      },
    );
    return { entry: r.entry, created: r.created };
  }

  private loadOf(agentId: string): number {
    return this.stmt("SELECT COUNT(*) FROM handoff_assignments WHERE agent_id = ? AND status = 'assigned'").pluck().get(agentId) as number;
  }

  async getAssignment(id: string) {
    this.open();
    return this.entry(id);
  }

  async listAssignments(filter: AssignmentFilter = {}) {
    this.open();
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status) {
      where.push(`status IN (SELECT value FROM json_each(?))`);
      args.push(JSON.stringify(filter.status));
    }
    if (filter.agentId !== undefined) {
      where.push('agent_id = ?');
      args.push(filter.agentId);
    }
    if (filter.queues) {
      where.push(`queue IN (SELECT value FROM json_each(?))`);
      args.push(JSON.stringify(filter.queues));
    }
    const limit = Math.min(filter.limit ?? ASSIGNMENTS_DEFAULT_LIMIT, ASSIGNMENTS_MAX_LIMIT);
    const sql = `SELECT * FROM handoff_assignments ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY rev DESC LIMIT ?`;
    return (this.stmt(sql).all(...args, limit) as EntryRow[]).map(toEntry);
  }

  async claim(id: string, agentId: string, opts: { capacity: number; at: string; takeFrom?: string }) {
    this.open();
    let previous: string | null = null;
    return this.write(
      () => {
        const e = this.entry(id);
        if (!e) throw new AssignmentNotFoundError(id);
        if (e.status === 'resolved') throw new NotOpenError(id);
        if (e.status === 'assigned' && e.agentId === agentId) return { entry: e, changed: false };
        if (e.status === 'assigned' && (opts.takeFrom === undefined || e.agentId !== opts.takeFrom)) throw new AlreadyAssignedError(id, e.agentId);
        if (this.loadOf(agentId) >= opts.capacity) throw new OverCapacityError(agentId, opts.capacity);
        previous = e.status === 'assigned' ? e.agentId : null;
        e.status = 'assigned';
        e.agentId = agentId;
        e.assignedAt = opts.at;
        this.stmt('UPDATE handoff_agents SET last_assigned_at = ? WHERE id = ?').run(opts.at, agentId);
        return { entry: this.touch(e, opts.at), changed: true };
      },
      (c) => {
        SqliteHandoffStore.addLoad(c, previous, -1);
        SqliteHandoffStore.addLoad(c, agentId, 1);
        // An id without an agent row (claims do not require one) just has no lastAssignedAt to keep.
        const a = c.byId.get(agentId);
        if (a) a.lastAssignedAt = opts.at;
      },
    );
  }

  /** A status change of an open entry that takes it from its agent (if any): requeue, finish. */
  private release(id: string, change: (e: Assignment) => void, at: string): Assignment {
    let previous: string | null = null;
    return this.write(
      () => {
        const e = this.entry(id);
        if (!e) throw new AssignmentNotFoundError(id);
        if (e.status === 'resolved') throw new NotOpenError(id);
        previous = e.status === 'assigned' ? e.agentId : null;
        change(e);
        return this.touch(e, at);
      },
      (c) => SqliteHandoffStore.addLoad(c, previous, -1),
    );
  }

  async requeue(id: string, opts: { queue: string; at: string }) {
    this.open();
    return this.release(id, (e) => Object.assign(e, { status: 'waiting', agentId: null, assignedAt: null, queue: opts.queue }), opts.at);
  }

  async finish(id: string, opts: { by: 'resolve' | 'handback'; at: string }) {
    this.open();
    return this.release(id, (e) => Object.assign(e, { status: 'resolved', closedBy: opts.by, closedAt: opts.at }), opts.at);
  }

  async setLastMessage(id: string, message: LastMessage, at: string) {
    this.open();
    // Nothing to write (no entry, or a newer message already recorded): no write lock taken.
    const cur = this.entry(id);
    if (!cur || (cur.lastMessage && cur.lastMessage.seq >= message.seq)) return cur;
    return this.tx(() => {
      const e = this.entry(id);
      if (!e) return null;
      if (e.lastMessage && e.lastMessage.seq >= message.seq) return e;
      e.lastMessage = JSON.parse(JSON.stringify(message));
      e.rev = this.nextRev();
      e.updatedAt = at;
      // Only what changed (the row's other columns stay as they are).
      this.stmt('UPDATE handoff_assignments SET last_message = ?, rev = ?, updated_at = ? WHERE conversation_id = ?').run(JSON.stringify(e.lastMessage), e.rev, at, id);
      return e;
    });
  }

  async changes(afterRev: number, limit = 1000) {
    this.open();
    return (this.stmt('SELECT * FROM handoff_assignments WHERE rev > ? ORDER BY rev LIMIT ?').all(afterRev, limit) as EntryRow[]).map(toEntry);
  }

  async loads() {
    this.open();
    return Object.fromEntries(this.routing().loads);
  }

  async markRead(agentId: string, conversationId: string, seq: number) {
    this.open();
    this.tx(() =>
      this.stmt('INSERT INTO handoff_reads (agent_id, conversation_id, seq) VALUES (?, ?, ?) ON CONFLICT (agent_id, conversation_id) DO UPDATE SET seq = MAX(seq, excluded.seq)').run(
        agentId,
        conversationId,
        seq,
      ),
    );
  }

  async readMarks(agentId: string, ids: string[]) {
    this.open();
    if (!ids.length) return {};
    const rows = this.stmt('SELECT conversation_id AS id, seq FROM handoff_reads WHERE agent_id = ? AND conversation_id IN (SELECT value FROM json_each(?))').all(agentId, JSON.stringify(ids)) as {
      id: string;
      seq: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.id, r.seq]));
  }

  async readMarksOf(conversationId: string, agentIds: string[]) {
    this.open();
    if (!agentIds.length) return {};
    const rows = this.stmt('SELECT agent_id AS id, seq FROM handoff_reads WHERE conversation_id = ? AND agent_id IN (SELECT value FROM json_each(?))').all(conversationId, JSON.stringify(agentIds)) as {
      id: string;
      seq: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.id, r.seq]));
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    this.cache = null;
    this.db.close();
  }
}

/** In-memory HandoffStore (tests, `memory` database): maps, JSON copies in and out, the same rules as the SQLite adapter. */
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
  type EnqueueOptions,
  type HandoffStore,
  type LastMessage,
  type NewAgent,
} from './port';

export class MemoryHandoffStore implements HandoffStore {
  private readonly agents = new Map<string, AgentRecord>();
  private readonly entries = new Map<string, Assignment>();
  private readonly reads = new Map<string, number>();
  private rev = 0;
  private closed = false;

  private open() {
    if (this.closed) throw new Error('the handoff store is closed');
  }

  async createAgent(agent: NewAgent, at: string): Promise<AgentRecord> {
    this.open();
    const email = normalizeEmail(agent.email);
    for (const a of this.agents.values()) if (a.email === email) throw new EmailTakenError(email);
    if (this.agents.has(agent.id)) throw new EmailTakenError(email);
    const rec: AgentRecord = { ...copy(agent), email, presence: agent.presence ?? 'offline', lastAssignedAt: null, createdAt: at, updatedAt: at };
    this.agents.set(rec.id, rec);
    return copy(rec);
  }

  async getAgent(id: string) {
    this.open();
    const a = this.agents.get(id);
    return a ? copy(a) : null;
  }

  async getAgentByEmail(email: string) {
    this.open();
    const e = normalizeEmail(email);
    for (const a of this.agents.values()) if (a.email === e) return copy(a);
    return null;
  }

  async listAgents() {
    this.open();
    return [...this.agents.values()].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1)).map(copy);
  }

  async updateAgent(id: string, patch: AgentPatch, at: string) {
    this.open();
    const a = this.agents.get(id);
    if (!a) throw new AgentNotFoundError(id);
    Object.assign(a, copy(patch), { updatedAt: at });
    return copy(a);
  }

  private touch(e: Assignment, at: string) {
    e.rev = ++this.rev;
    e.updatedAt = at;
  }

  async enqueue(input: EnqueueInput, at: string, opts: EnqueueOptions = {}) {
    this.open();
    const cur = this.entries.get(input.conversationId);
    if (cur && cur.status !== 'resolved') return { entry: copy(cur), created: false };
    const e: Assignment = {
      ...copy(input),
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
    const agent = to ? this.agents.get(to.agentId) : undefined;
    if (to && agent && this.load(to.agentId) < to.capacity) {
      e.status = 'assigned';
      e.agentId = to.agentId;
      e.assignedAt = at;
      agent.lastAssignedAt = at;
    }
    this.touch(e, at);
    this.entries.set(e.conversationId, e);
    return { entry: copy(e), created: true };
  }

  async getAssignment(id: string) {
    this.open();
    const e = this.entries.get(id);
    return e ? copy(e) : null;
  }

  async listAssignments(filter: AssignmentFilter = {}) {
    this.open();
    const limit = Math.min(filter.limit ?? ASSIGNMENTS_DEFAULT_LIMIT, ASSIGNMENTS_MAX_LIMIT);
    return [...this.entries.values()]
      .filter((e) => (!filter.status || filter.status.includes(e.status)) && (filter.agentId === undefined || e.agentId === filter.agentId) && (!filter.queues || filter.queues.includes(e.queue)))
      .sort((a, b) => b.rev - a.rev)
      .slice(0, limit)
      .map(copy);
  }

  private load(agentId: string) {
    let n = 0;
    for (const e of this.entries.values()) if (e.status === 'assigned' && e.agentId === agentId) n++;
    return n;
  }

  async claim(id: string, agentId: string, opts: { capacity: number; at: string; takeFrom?: string }) {
    this.open();
    const e = this.entries.get(id);
    if (!e) throw new AssignmentNotFoundError(id);
    if (e.status === 'resolved') throw new NotOpenError(id);
    if (e.status === 'assigned' && e.agentId === agentId) return { entry: copy(e), changed: false };
    if (e.status === 'assigned' && (opts.takeFrom === undefined || e.agentId !== opts.takeFrom)) throw new AlreadyAssignedError(id, e.agentId);
    if (this.load(agentId) >= opts.capacity) throw new OverCapacityError(agentId, opts.capacity);
    e.status = 'assigned';
    e.agentId = agentId;
    e.assignedAt = opts.at;
    this.touch(e, opts.at);
    const a = this.agents.get(agentId);
    if (a) a.lastAssignedAt = opts.at;
    return { entry: copy(e), changed: true };
  }

  async requeue(id: string, opts: { queue: string; at: string }) {
    this.open();
    const e = this.entries.get(id);
    if (!e) throw new AssignmentNotFoundError(id);
    if (e.status === 'resolved') throw new NotOpenError(id);
    e.status = 'waiting';
    e.agentId = null;
    e.assignedAt = null;
    e.queue = opts.queue;
    this.touch(e, opts.at);
    return copy(e);
  }

  async finish(id: string, opts: { by: 'resolve' | 'handback'; at: string }) {
    this.open();
    const e = this.entries.get(id);
    if (!e) throw new AssignmentNotFoundError(id);
    if (e.status === 'resolved') throw new NotOpenError(id);
    e.status = 'resolved';
    e.closedBy = opts.by;
    e.closedAt = opts.at;
    this.touch(e, opts.at);
    return copy(e);
  }

  async setLastMessage(id: string, message: LastMessage, at: string) {
    this.open();
    const e = this.entries.get(id);
    if (!e) return null;
    if (e.lastMessage && e.lastMessage.seq >= message.seq) return copy(e);
    e.lastMessage = copy(message);
    this.touch(e, at);
    return copy(e);
  }

  async changes(afterRev: number, limit = 1000) {
    this.open();
    return [...this.entries.values()]
      .filter((e) => e.rev > afterRev)
      .sort((a, b) => a.rev - b.rev)
      .slice(0, limit)
      .map(copy);
  }

  async loads() {
    this.open();
    const out: Record<string, number> = {};
    for (const e of this.entries.values()) if (e.status === 'assigned' && e.agentId) out[e.agentId] = (out[e.agentId] ?? 0) + 1;
    return out;
  }

  async markRead(agentId: string, conversationId: string, seq: number) {
    this.open();
    const k = `${agentId}\u0000${conversationId}`;
    this.reads.set(k, Math.max(this.reads.get(k) ?? 0, seq));
  }

  async readMarks(agentId: string, ids: string[]) {
    this.open();
    const out: Record<string, number> = {};
    for (const id of ids) {
      const v = this.reads.get(`${agentId}\u0000${id}`);
      if (v !== undefined) out[id] = v;
    }
    return out;
  }

  async readMarksOf(conversationId: string, agentIds: string[]) {
    this.open();
    const out: Record<string, number> = {};
    for (const id of agentIds) {
      const v = this.reads.get(`${id}\u0000${conversationId}`);
      if (v !== undefined) out[id] = v;
    }
    return out;
  }

  async close() {
    this.closed = true;
  }
}

/**
 * Human handoff: the waiting line, routing, agents' work on conversations, and the data the
 * agent API and console show. Built on two stores: the conversation store (what was said — agent
 * messages and notes are events in the conversation's log, committed through the
 * ConversationService so they interleave in order with customer messages) and the handoff store
 * (agents, and one queue/assignment entry per handed-off conversation).
 *
 * Flow of a handoff:
 * 1. A turn commits a `handoff` event. This service sees the commit (commit feed: only committed
 *    events are acted on) and puts the conversation in the waiting line (`enqueue`, idempotent).
 * 2. With `handoff.assignment: auto` (default) it is assigned to the least-loaded online agent
 *    with the queue's skill (routing.ts); the agent "joins" (the customer sees "<name> joined").
 *    Otherwise it waits until an agent accepts it, comes online, or frees capacity.
 * 3. The agent replies, adds notes, transfers, resolves, or hands it back to the bot (which then
 *    runs `handoff.afterFlow`, e.g. a satisfaction question).
 *
 * The order of two-store writes: a claim in the handoff store comes first (that is the atomic
 * decision of who gets the conversation), then the conversation commit; on failure the claim is
 * undone. If a process dies between a handoff commit and its enqueue, `recover()` (run at start)
 * re-queues handed-off conversations that have no open entry.
 */
import { randomBytes, randomUUID } from 'crypto';
import type { Bot } from '../flow/model';
import type { QueueAvailability } from '../flow/interpreter';
import { readState, type ConversationState } from '../flow/state';
import type { ConversationService } from '../conversation/service';
import { ConversationNotFound, NotHandedOffError } from '../conversation/service';
import type { ConversationRecord, ConversationStore, StoredEvent } from '../store/port';
import type { CommitFeed } from '../realtime/commit-feed';
import { silentLogger, type Logger } from '../util/logger';
import { AgentTokens, dummyHash, hashPassword, verifyPassword } from './auth';
import { renderCanned, type CannedResponse } from './canned';
import { describeOpening, isOpen, nextOpening } from './hours';
import { compareWaiting, hasSkill, nextFor, pickAgent, sortWaiting, type Presence } from './routing';
import {
  AgentNotFoundError,
  AlreadyAssignedError,
  AssignmentNotFoundError,
  HandoffError,
  NotOpenError,
  OverCapacityError,
  type AgentRecord,
  type Assignment,
  type CustomerSnapshot,
  type HandoffStore,
  type Role,
} from './store/port';
import { TRANSCRIPT_EVENT_TYPES, lastMessageOf, toTranscriptItem, type TranscriptItem } from './transcript';

export const DEFAULT_CAPACITY = 25;

export class NotAssignedError extends HandoffError {
  readonly code = 'not_assigned';
  constructor(id: string) {
    super(`conversation ${id} is not assigned to you; accept it first`);
  }
}
export class CannedNotFoundError extends HandoffError {
  readonly code = 'canned_not_found';
  constructor(id: string) {
    super(`there is no canned response "${id}"`);
  }
}

/** An agent as the API shows it (never the password hash). */
export interface PublicAgent {
  id: string;
  email: string;
  name: string;
  role: Role;
  capacity: number;
  presence: Presence;
  skills: string[];
}

export type ListStatus = 'waiting' | 'assigned' | 'resolved' | 'bot';

export interface ConversationItem {
  id: string;
  status: ListStatus;
  reason: string | null;
  queue: string | null;
  priority: number;
  waitingSince: string | null;
  assignedTo: { id: string; name: string } | null;
  customer: CustomerSnapshot | null;
  lastMessage: { from: string; text: string; createdAt: string } | null;
  unread: number;
}

export interface ConversationDetail {
  conversation: ConversationItem;
  transcript: TranscriptItem[];
  context: {
    reason: string | null;
    flow: string | null;
    step: string | null;
    slots: Record<string, unknown>;
    intents: { intent: string; confidence: number; at: string }[];
    sentiment: { score: number; vote: string } | null;
    customer: { id: string | null; name: string | null; email: string | null; verified: boolean; previousConversations: { id: string; createdAt: string; status: string }[] };
    channel: string;
    /** The messaging channel the customer last wrote from (absent: the web widget or the API). */
    channelInfo?: ChannelInfo;
  };
}

/** What an agent should know about the customer's messaging channel. */
export interface ChannelInfo {
  name: string;
  title: string;
  /** The channel's service window now (absent: the channel has none). */
  window?: { state: 'open' | 'template' | 'tag' | 'closed'; until?: string; note: string };
  /** Messages of this conversation that could not be delivered (failed) or wait for the customer (held). */
  undelivered: { seq: number; status: string; error?: string }[];
}

export interface HandoffServiceOptions {
  bot: Bot;
  store: HandoffStore;
  conversations: ConversationService;
  conversationStore: ConversationStore;
  commits?: CommitFeed;
  clock?: () => Date;
  newId?: () => string;
  logger?: Logger;
  canned?: CannedResponse[];
  /** Capacity of new agents (default 25). */
  defaultCapacity?: number;
  /** bcrypt cost (at least 10). */
  bcryptCost?: number;
  /** The customer's messaging channel, for the context panel (wired to the channel gateway). */
  channelInfo?: (conversationId: string, state: ConversationState) => Promise<ChannelInfo | null>;
}

/** Something changed about a conversation's entry (queue frames). `previousAgentId`: who had it before. */
export type ChangeListener = (entry: Assignment, previousAgentId: string | null, info?: ChangeInfo) => void;
export interface ChangeInfo {
  /** The entry was created already assigned (automatic assignment in the enqueue's atomic step): nobody ever saw it waiting. */
  unseen?: boolean;
  /** Only its last message or a read mark changed — not its status, queue or agent, so not who sees it. */
  activity?: boolean;
}
/** New transcript items were committed to a conversation that has an entry (message frames). */
export type ActivityListener = (entry: Assignment, items: TranscriptItem[]) => void;

const MESSAGE_TYPES = new Set(['customer_message', 'bot_message', 'agent_message', 'agent_note']);

export function publicAgent(a: AgentRecord): PublicAgent {
  return { id: a.id, email: a.email, name: a.name, role: a.role, capacity: a.capacity, presence: a.presence, skills: a.skills };
}

export class HandoffService {
  readonly bot: Bot;
  readonly store: HandoffStore;
  readonly canned: CannedResponse[];
  private readonly conversations: ConversationService;
  private readonly convStore: ConversationStore;
  private readonly clock: () => Date;
  private readonly newId: () => string;
  private readonly log: Logger;
  private readonly changeListeners = new Set<ChangeListener>();
  private readonly activityListeners = new Set<ActivityListener>();
  private readonly pending = new Set<Promise<unknown>>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly opts: HandoffServiceOptions) {
    this.bot = opts.bot;
    this.store = opts.store;
    this.canned = opts.canned ?? [];
    this.conversations = opts.conversations;
    this.convStore = opts.conversationStore;
    this.clock = opts.clock ?? (() => new Date());
    this.newId = opts.newId ?? randomUUID;
    this.log = opts.logger ?? silentLogger;
    if (opts.commits) this.unsubscribe = opts.commits.subscribe((id, events) => this.onCommit(id, events));
  }

  private now(): string {
    return this.clock().toISOString();
  }

  get autoAssign(): boolean {
    return (this.bot.config.handoff.assignment ?? 'auto') === 'auto';
  }

  onChange(l: ChangeListener): () => void {
    this.changeListeners.add(l);
    return () => void this.changeListeners.delete(l);
  }

  onActivity(l: ActivityListener): () => void {
    this.activityListeners.add(l);
    return () => void this.activityListeners.delete(l);
  }

  private changed(entry: Assignment, previousAgentId: string | null = null, info?: ChangeInfo) {
    for (const l of this.changeListeners) {
      try {
        l(entry, previousAgentId, info);
      } catch (e) {
        this.log.error('handoff change listener failed', { error: e as Error });
      }
    }
  }

  /** Resolves when the work started by commits (enqueue, auto-assignment) is done (tests, shutdown). */
  async idle(): Promise<void> {
    for (let i = 0; i < 100 && this.pending.size; i++) await Promise.allSettled([...this.pending]);
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private track<T>(p: Promise<T>): void {
    this.pending.add(p);
    const done = () => void this.pending.delete(p);
    p.then(done, done);
  }

  // ------------------------------------------------------------------------ commits

  /** A commit of this process: queue handoffs, keep the list's last message, tell agent streams. */
  private onCommit(conversationId: string, events: StoredEvent[]): void {
    const handoff = [...events].reverse().find((e) => e.type === 'handoff');
    const items = events.filter((e) => MESSAGE_TYPES.has(e.type) || TRANSCRIPT_EVENT_TYPES.includes(e.type));
    if (!handoff && !items.length) return;
    this.track(
      (async () => {
        if (handoff) await this.enqueueFromEvent(conversationId, handoff);
        if (items.length) await this.recordActivity(conversationId, events);
      })().catch((e) => this.log.error('handoff bookkeeping failed', { conversationId, error: e as Error })),
    );
  }

  private async recordActivity(conversationId: string, events: StoredEvent[]): Promise<void> {
    let entry = await this.store.getAssignment(conversationId);
    if (!entry) return;
    const items = events.map(toTranscriptItem).filter((x): x is TranscriptItem => x !== null);
    // The new items go out first (they are committed; who sees them depends only on the entry's
    // status and agent, which the last-message write below does not change).
    for (const l of this.activityListeners) {
      try {
        l(entry, items);
      } catch (e) {
        this.log.error('handoff activity listener failed', { error: e as Error });
      }
    }
    const last = [...items].reverse().find((i) => i.from === 'customer' || i.from === 'bot' || i.from === 'agent');
    if (!last) return;
    const updated = await this.store.setLastMessage(conversationId, lastMessageOf(last), this.now());
    // Unchanged (a newer message was recorded first): its change already went out, counting these.
    if (!updated || updated.rev === entry.rev) return;
    this.changed(updated, updated.agentId, updated.status === entry.status && updated.agentId === entry.agentId && updated.queue === entry.queue ? { activity: true } : undefined);
  }

  private customerOf(record: ConversationRecord, state: ConversationState): CustomerSnapshot | null {
    const p = state.profile ?? {};
    const s = (v: unknown) => (typeof v === 'string' && v ? v : null);
    const c = { id: record.customerId ?? s(p.id), name: s(p.name), email: s(p.email) };
    return c.id || c.name || c.email ? c : null;
  }

  private async enqueueFromEvent(conversationId: string, e: StoredEvent): Promise<void> {
    const record = await this.convStore.load(conversationId);
    if (!record) return;
    const state = readState(record.state);
    if (state.status !== 'handed_off') return; // handed back or resolved since
    const d = e.data as { reason?: string; queue?: string; priority?: number };
    const input = {
      conversationId,
      botId: record.botId,
      queue: String(d.queue ?? state.handoff?.queue ?? this.bot.config.handoff.queue),
      priority: Number(d.priority ?? state.handoff?.priority ?? 0),
      reason: String(d.reason ?? state.handoff?.reason ?? 'unknown'),
      waitingSince: e.at,
      sinceSeq: e.seq,
      customer: this.customerOf(record, state),
    };
    // Automatic assignment: the agent is picked first and the entry created already assigned to
    // them, in one atomic step (capacity checked by the store, as in `claim`): nobody sees it
    // waiting, and agents without it are told nothing. When that cannot be done (the agent filled
    // up meanwhile, an adapter without it) it waits and is assigned as usual.
    const pick = this.autoAssign && this.queueOpen(input.queue) ? pickAgent(input, await this.routable()) : null;
    const { entry, created } = await this.store.enqueue(input, this.now(), pick ? { assignTo: { agentId: pick.id, capacity: pick.capacity } } : undefined);
    if (!created) return;
    if (pick && entry.status === 'assigned' && entry.agentId === pick.id) {
      // Decided and stored: the agent is told now; the join commit follows (see `assign`).
      this.changed(entry, null, { unseen: true });
      try {
        await this.join(conversationId, pick);
      } catch (err) {
        if (err instanceof NotOpenError) return; // handed back meanwhile: the entry was closed (and that change announced)
        throw err;
      }
      return;
    }
    this.changed(entry);
    if (this.autoAssign) await this.assignOne(entry);
  }

  private queueOpen(queue: string): boolean {
    const hours = this.bot.config.handoff.queues?.[queue]?.hours ?? this.bot.config.handoff.hours;
    return isOpen(hours, this.clock());
  }

  /** Re-queue handed-off conversations without an open entry (a process died between the handoff commit and the enqueue). */
  async recover(limit = 10_000): Promise<number> {
    let n = 0;
    const records = await this.convStore.list({ botId: this.bot.id, limit });
    for (const r of records) {
      let state: ConversationState;
      try {
        state = readState(r.state);
      } catch {
        continue;
      }
      if (state.status !== 'handed_off' || !state.handoff) continue;
      const cur = await this.store.getAssignment(r.id);
      if (cur && cur.status !== 'resolved') continue;
      const { entry, created } = await this.store.enqueue(
        { conversationId: r.id, botId: r.botId, queue: state.handoff.queue, priority: state.handoff.priority ?? 0, reason: state.handoff.reason, waitingSince: state.handoff.at, sinceSeq: 0, customer: this.customerOf(r, state) },
        this.now(),
      );
      if (created) {
        n++;
        this.changed(entry);
      }
    }
    if (n) this.log.warn('re-queued handed-off conversations that were missing from the queue', { count: n });
    return n;
  }

  // ------------------------------------------------------------------------ routing

  /** Whether a queue can answer now: opening hours (queue's own, else the bot's) and agents online with the skill. */
  async availability(queue: string): Promise<QueueAvailability | undefined> {
    const cfg = this.bot.config.handoff;
    const hours = cfg.queues?.[queue]?.hours ?? cfg.hours;
    const now = this.clock();
    const open = isOpen(hours, now);
    const agents = await this.store.listAgents();
    // No agents at all: people are handled elsewhere (another tool); only opening hours are known.
    if (!agents.length && open) return undefined;
    const agentsOnline = agents.filter((a) => a.presence === 'online' && hasSkill(a, queue)).length;
    let opensAt: string | null = null;
    if (!open && hours) {
      const next = nextOpening(hours, now);
      opensAt = next ? describeOpening(next, now, hours.timezone) : null;
    }
    return { open, agentsOnline, opensAt };
  }

  private async routable(exclude?: string) {
    const [agents, loads] = await Promise.all([this.store.listAgents(), this.store.loads()]);
    return agents.filter((a) => a.id !== exclude).map((a) => ({ ...a, load: loads[a.id] ?? 0 }));
  }

  /** Assign one waiting conversation automatically, if an agent can take it. Bounded retries on races. */
  private async assignOne(entry: Assignment, exclude?: string): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (!this.queueOpen(entry.queue)) return false;
      const agent = pickAgent(entry, await this.routable(exclude));
      if (!agent) return false;
      try {
        await this.assign(entry.conversationId, agent);
        return true;
      } catch (e) {
        if (e instanceof OverCapacityError) continue; // someone else filled that agent: pick again
        if (e instanceof HandoffError || e instanceof NotHandedOffError) return false; // taken or closed meanwhile
        throw e;
      }
    }
    return false;
  }

  /** Give an agent with free capacity the longest-waiting conversations they have the skill for. */
  async fillAgent(agentId: string): Promise<number> {
    if (!this.autoAssign) return 0;
    let n = 0;
    for (let i = 0; i < 200; i++) {
      const agent = await this.store.getAgent(agentId);
      if (!agent || agent.presence !== 'online') return n;
      const load = (await this.store.loads())[agentId] ?? 0;
      if (load >= agent.capacity) return n;
      const now = this.clock();
      const waiting = (await this.store.listAssignments({ status: ['waiting'], limit: 10_000 })).filter((w) => {
        const hours = this.bot.config.handoff.queues?.[w.queue]?.hours ?? this.bot.config.handoff.hours;
        return isOpen(hours, now);
      });
      const next = nextFor(agent, waiting);
      if (!next) return n;
      try {
        await this.assign(next.conversationId, agent);
        n++;
      } catch (e) {
        if (e instanceof OverCapacityError) return n;
        if (!(e instanceof HandoffError || e instanceof NotHandedOffError)) throw e;
      }
    }
    return n;
  }

  /** Assign every waiting conversation that an online agent can take (periodic sweep: other processes' changes, opening hours starting). */
  async sweep(): Promise<number> {
    if (!this.autoAssign) return 0;
    let n = 0;
    const waiting = sortWaiting(await this.store.listAssignments({ status: ['waiting'], limit: 10_000 }));
    for (const w of waiting.slice(0, 1000)) if (await this.assignOne(w)) n++;
    return n;
  }

  /** Claim (atomic) then join (conversation commit); the claim is undone when the conversation is no longer with a person. */
  private async assign(conversationId: string, agent: AgentRecord, takeFrom?: string): Promise<Assignment> {
    const { entry, changed } = await this.store.claim(conversationId, agent.id, { capacity: agent.capacity, at: this.now(), takeFrom });
    if (!changed) return entry;
    // The claim is the decision, and it is stored: the agent's stream is told at once rather than
    // after the join commit (which follows in this conversation's queue; the "joined" line comes
    // as a message frame). Should the join fail (the conversation left the person meanwhile), the
    // entry is closed and that change is announced in turn.
    this.changed(entry, takeFrom ?? null);
    await this.join(conversationId, agent);
    return entry;
  }

  /** The join commit after a claim; when the conversation is no longer with a person the entry is closed (NotOpenError). */
  private async join(conversationId: string, agent: Pick<AgentRecord, 'id' | 'name'>): Promise<void> {
    try {
      await this.conversations.agentAction(conversationId, { type: 'agent', action: 'join', agent: { id: agent.id, name: agent.name } });
    } catch (e) {
      if (e instanceof NotHandedOffError || e instanceof ConversationNotFound) {
        const closed = await this.store.finish(conversationId, { by: 'handback', at: this.now() }).catch(() => null);
        if (closed) this.changed(closed, agent.id);
        throw new NotOpenError(conversationId);
      }
      throw e;
    }
  }

  // ------------------------------------------------------------------------ agents

  async login(email: string, password: string, tokens: AgentTokens): Promise<{ token: string; expiresAt: string; agent: PublicAgent } | null> {
    const agent = await this.store.getAgentByEmail(email);
    const ok = await verifyPassword(password, agent?.passwordHash ?? (await dummyHash()));
    if (!agent || !ok) return null;
    return { ...tokens.issue(agent.id), agent: publicAgent(agent) };
  }

  async createAgent(input: { email: string; name: string; password: string; role?: Role; capacity?: number; skills?: string[] }): Promise<AgentRecord> {
    return this.store.createAgent(
      {
        id: this.newId(),
        email: input.email,
        name: input.name,
        role: input.role ?? 'agent',
        passwordHash: await hashPassword(input.password, this.opts.bcryptCost),
        capacity: input.capacity ?? this.opts.defaultCapacity ?? DEFAULT_CAPACITY,
        skills: input.skills ?? ['*'],
      },
      this.now(),
    );
  }

  async setPresence(agent: AgentRecord, presence: Presence): Promise<AgentRecord> {
    const a = await this.store.updateAgent(agent.id, { presence }, this.now());
    if (presence === 'online') await this.fillAgent(a.id);
    return a;
  }

  /**
   * First start of a database without agents: an admin and an agent for the bot
   * (`admin@<bot>.example`, `agent@<bot>.example`), with the given passwords or generated ones.
   * Returns what was created (with the generated passwords, to print once); [] when agents exist.
   */
  async seed(passwords: { admin?: string; agent?: string } = {}): Promise<{ email: string; role: Role; password: string; generated: boolean }[]> {
    if ((await this.store.listAgents()).length) return [];
    const out: { email: string; role: Role; password: string; generated: boolean }[] = [];
    const gen = () => randomBytes(12).toString('base64url');
    const people: { role: Role; email: string; name: string; password?: string; capacity?: number }[] = [
      { role: 'admin', email: `admin@${this.bot.id}.example`, name: 'Alex (admin)', password: passwords.admin },
      // The demo agent carries up to 30 conversations (messaging: one agent holds 20–30 at once).
      { role: 'agent', email: `agent@${this.bot.id}.example`, name: 'Sam', password: passwords.agent, capacity: 30 },
    ];
    for (const p of people) {
      const password = p.password || gen();
      try {
        await this.createAgent({ email: p.email, name: p.name, password, role: p.role, skills: ['*'], ...(p.capacity ? { capacity: p.capacity } : {}) });
        out.push({ email: p.email, role: p.role, password, generated: !p.password });
      } catch (e) {
        if ((e as { code?: string }).code !== 'email_taken') throw e; // another process seeded at the same time
      }
    }
    return out;
  }

  // ------------------------------------------------------------------------ views

  /** Can this agent see this entry in lists (and get its frames)? Admins see everything; agents their queues and their own conversations. */
  visibleTo(agent: Pick<AgentRecord, 'id' | 'role' | 'skills'>, e: Assignment): boolean {
    if (agent.role === 'admin') return true;
    if (e.agentId === agent.id) return true;
    return e.status === 'waiting' && hasSkill(agent, e.queue);
  }

  async items(agent: AgentRecord, entries: Assignment[]): Promise<ConversationItem[]> {
    if (!entries.length) return [];
    const agents = new Map((await this.store.listAgents()).map((a) => [a.id, a]));
    const marks = await this.store.readMarks(agent.id, entries.map((e) => e.conversationId));
    return Promise.all(
      entries.map(async (e) => {
        const mark = Math.max(marks[e.conversationId] ?? 0, e.sinceSeq);
        const unread = (await this.convStore.events(e.conversationId, { afterSeq: mark, types: ['customer_message'], limit: 1000 })).length;
        return this.item(e, agents, unread);
      }),
    );
  }

  /**
   * One entry's list item as each of several agents sees it (only `unread` differs): the read
   * marks of all of them in one read (when the store can), one count per distinct mark. Agents with
   * the same count share one item object (so a stream can serialise it once). For stream fan-out.
   */
  async itemsForAgents(entry: Assignment, viewers: Pick<AgentRecord, 'id'>[]): Promise<Map<string, ConversationItem>> {
    const out = new Map<string, ConversationItem>();
    if (!viewers.length) return out;
    const id = entry.conversationId;
    let marks: Record<string, number>;
    if (this.store.readMarksOf) marks = await this.store.readMarksOf(id, viewers.map((v) => v.id));
    else {
      marks = {};
      for (const v of viewers) {
        const m = (await this.store.readMarks(v.id, [id]))[id];
        if (m !== undefined) marks[v.id] = m;
      }
    }
    const assignee = entry.status === 'assigned' && entry.agentId ? await this.store.getAgent(entry.agentId) : null;
    const agents = new Map(assignee ? [[assignee.id, assignee]] : []);
    const byMark = new Map<number, ConversationItem>();
    for (const v of viewers) {
      const mark = Math.max(marks[v.id] ?? 0, entry.sinceSeq);
      let item = byMark.get(mark);
      if (!item) {
        const unread = (await this.convStore.events(id, { afterSeq: mark, types: ['customer_message'], limit: 1000 })).length;
        item = this.item(entry, agents, unread);
        byMark.set(mark, item);
      }
      out.set(v.id, item);
    }
    return out;
  }

  private item(e: Assignment, agents: Map<string, AgentRecord>, unread: number): ConversationItem {
    const a = e.agentId ? agents.get(e.agentId) : undefined;
    return {
      id: e.conversationId,
      status: e.status === 'resolved' && e.closedBy === 'handback' ? 'bot' : e.status,
      reason: e.reason,
      queue: e.queue,
      priority: e.priority,
      waitingSince: e.waitingSince,
      assignedTo: e.status === 'assigned' && e.agentId ? { id: e.agentId, name: a?.name ?? 'Unknown agent' } : null,
      customer: e.customer,
      lastMessage: e.lastMessage ? { from: e.lastMessage.from, text: e.lastMessage.text, createdAt: e.lastMessage.createdAt } : null,
      unread,
    };
  }

  async list(agent: AgentRecord, status: 'waiting' | 'mine' | 'all'): Promise<ConversationItem[]> {
    let entries: Assignment[];
    if (status === 'waiting') {
      entries = (await this.store.listAssignments({ status: ['waiting'], limit: 10_000 })).filter((e) => this.visibleTo(agent, e)).sort(compareWaiting);
    } else if (status === 'mine') {
      entries = (await this.store.listAssignments({ status: ['assigned'], agentId: agent.id, limit: 10_000 })).sort((a, b) =>
        (b.lastMessage?.createdAt ?? b.updatedAt).localeCompare(a.lastMessage?.createdAt ?? a.updatedAt),
      );
    } else {
      entries = (await this.store.listAssignments({ limit: 1000 })).filter((e) => agent.role === 'admin' || e.agentId === agent.id || hasSkill(agent, e.queue)).slice(0, 200);
    }
    return this.items(agent, entries);
  }

  async item1(agent: AgentRecord, id: string): Promise<ConversationItem> {
    const e = await this.store.getAssignment(id);
    if (e) return (await this.items(agent, [e]))[0];
    const rec = await this.convStore.load(id);
    if (!rec || rec.botId !== this.bot.id) throw new ConversationNotFound(id);
    const state = readState(rec.state);
    return { id, status: 'bot', reason: null, queue: null, priority: 0, waitingSince: null, assignedTo: null, customer: this.customerOf(rec, state), lastMessage: null, unread: 0 };
  }

  async detail(agent: AgentRecord, id: string): Promise<ConversationDetail> {
    const rec = await this.convStore.load(id);
    if (!rec || rec.botId !== this.bot.id) throw new ConversationNotFound(id);
    const state = readState(rec.state);
    const transcript: TranscriptItem[] = [];
    const intents: { intent: string; confidence: number; at: string }[] = [];
    let sentiment: { score: number; vote: string } | null = null;
    let lastHandoff: Record<string, unknown> | null = null;
    for (let after = 0, page = 0; page < 100; page++) {
      const events = await this.convStore.events(id, { afterSeq: after, limit: 10_000, types: [...TRANSCRIPT_EVENT_TYPES, 'nlu'] });
      for (const e of events) {
        if (e.type === 'nlu') {
          if (typeof e.data.intent === 'string') intents.push({ intent: e.data.intent, confidence: Number(e.data.confidence ?? 0), at: e.at });
          const s = e.data.sentiment as { score?: unknown; vote?: unknown } | undefined;
          if (s && typeof s.score === 'number') sentiment = { score: s.score, vote: String(s.vote ?? '') };
          continue;
        }
        if (e.type === 'handoff') lastHandoff = e.data;
        const item = toTranscriptItem(e);
        if (item) transcript.push(item);
      }
      if (events.length < 10_000) break;
      after = events[events.length - 1].seq;
    }
    const customer = this.customerOf(rec, state);
    const previous = rec.customerId ? (await this.convStore.list({ customerId: rec.customerId, botId: rec.botId, limit: 21 })).filter((r) => r.id !== id).slice(0, 20) : [];
    const h = state.handoff;
    let channelInfo: ChannelInfo | null = null;
    try {
      channelInfo = (await this.opts.channelInfo?.(id, state)) ?? null;
    } catch (e) {
      this.log.warn('could not read the channel status', { conversationId: id, error: e as Error });
    }
    return {
      conversation: await this.item1(agent, id),
      transcript,
      context: {
        reason: h?.reason ?? (lastHandoff ? String(lastHandoff.reason ?? '') || null : null),
        flow: h?.flow ?? (lastHandoff?.flow as string | undefined) ?? null,
        step: h?.step ?? (lastHandoff?.step as string | undefined) ?? null,
        slots: state.slots,
        intents: intents.slice(-20),
        sentiment,
        customer: {
          id: customer?.id ?? null,
          name: customer?.name ?? null,
          email: customer?.email ?? null,
          verified: rec.customerId !== null,
          previousConversations: previous.map((r) => ({ id: r.id, createdAt: r.createdAt, status: safeStatus(r.state) })),
        },
        channel: state.channel,
        ...(channelInfo ? { channelInfo } : {}),
      },
    };
  }

  // ------------------------------------------------------------------------ agent actions

  private async entryOrThrow(id: string): Promise<Assignment> {
    const e = await this.store.getAssignment(id);
    if (!e) {
      const rec = await this.convStore.load(id);
      if (!rec || rec.botId !== this.bot.id) throw new ConversationNotFound(id);
      throw new AssignmentNotFoundError(id);
    }
    return e;
  }

  /** The entry, if `agent` has the conversation (an admin may act on any open conversation). */
  private async owned(agent: AgentRecord, id: string, adminToo = true): Promise<Assignment> {
    const e = await this.entryOrThrow(id);
    if (e.status === 'assigned' && e.agentId === agent.id) return e;
    if (adminToo && agent.role === 'admin' && e.status !== 'resolved') return e;
    throw new NotAssignedError(id);
  }

  async accept(agent: AgentRecord, id: string): Promise<ConversationItem> {
    const e = await this.entryOrThrow(id);
    if (e.status === 'resolved') throw new NotOpenError(id);
    if (e.status === 'assigned' && e.agentId !== agent.id) throw new AlreadyAssignedError(id, e.agentId);
    await this.assign(id, agent);
    return this.item1(agent, id);
  }

  async sendMessage(agent: AgentRecord, id: string, text: string, clientMessageId?: string): Promise<TranscriptItem> {
    await this.owned(agent, id, false);
    const out = await this.conversations.agentAction(id, { type: 'agent', action: 'message', agent: { id: agent.id, name: agent.name }, text, clientMessageId });
    const e = out.events.find((x) => x.type === 'agent_message');
    if (!e) throw new Error('the agent message was not committed');
    return toTranscriptItem(e)!;
  }

  async addNote(agent: AgentRecord, id: string, text: string): Promise<TranscriptItem> {
    const rec = await this.convStore.load(id);
    if (!rec || rec.botId !== this.bot.id) throw new ConversationNotFound(id);
    const out = await this.conversations.agentAction(id, { type: 'agent', action: 'note', agent: { id: agent.id, name: agent.name }, text });
    return toTranscriptItem(out.events.find((x) => x.type === 'agent_note')!)!;
  }

  async markRead(agent: AgentRecord, id: string, seq: number): Promise<void> {
    const rec = await this.convStore.load(id);
    if (!rec || rec.botId !== this.bot.id) throw new ConversationNotFound(id);
    await this.store.markRead(agent.id, id, seq);
    const e = await this.store.getAssignment(id);
    if (e) this.changed(e, e.agentId, { activity: true });
  }

  async transfer(agent: AgentRecord, id: string, to: { agentId: string } | { queue: string }): Promise<ConversationItem> {
    const e = await this.owned(agent, id);
    const me = { id: agent.id, name: agent.name };
    if ('agentId' in to) {
      const target = await this.store.getAgent(to.agentId);
      if (!target) throw new AgentNotFoundError(to.agentId);
      if (e.status === 'assigned' && e.agentId === target.id) return this.item1(agent, id);
      const { entry } = await this.store.claim(id, target.id, { capacity: target.capacity, at: this.now(), takeFrom: e.agentId ?? undefined });
      try {
        await this.conversations.agentAction(id, { type: 'agent', action: 'transfer', agent: me, to: { id: target.id, name: target.name } });
      } catch (err) {
        if (e.status === 'assigned' && e.agentId) await this.store.claim(id, e.agentId, { capacity: Number.MAX_SAFE_INTEGER, at: this.now(), takeFrom: target.id }).catch(() => undefined);
        else await this.store.requeue(id, { queue: e.queue, at: this.now() }).catch(() => undefined);
        throw err;
      }
      this.changed(entry, e.agentId);
      if (e.agentId) this.track(this.fillAgent(e.agentId).catch(() => 0));
      return this.item1(agent, id);
    }
    await this.conversations.agentAction(id, { type: 'agent', action: 'transfer', agent: me, queue: to.queue });
    const entry = await this.store.requeue(id, { queue: to.queue, at: this.now() });
    this.changed(entry, e.agentId);
    if (this.autoAssign) await this.assignOne(entry, e.agentId ?? undefined);
    if (e.agentId) this.track(this.fillAgent(e.agentId).catch(() => 0));
    return this.item1(agent, id);
  }

  async resolve(agent: AgentRecord, id: string): Promise<ConversationItem> {
    return this.close(agent, id, 'resolve');
  }

  async handback(agent: AgentRecord, id: string, flow?: string | null): Promise<ConversationItem> {
    return this.close(agent, id, 'handback', flow);
  }

  private async close(agent: AgentRecord, id: string, by: 'resolve' | 'handback', flow?: string | null): Promise<ConversationItem> {
    const e = await this.owned(agent, id);
    try {
      await this.conversations.agentAction(id, { type: 'agent', action: by === 'resolve' ? 'resolve' : 'handback', agent: { id: agent.id, name: agent.name }, ...(flow !== undefined ? { flow } : {}) });
    } catch (err) {
      if (!(err instanceof NotHandedOffError)) throw err; // already with the bot: just close the entry
    }
    const entry = await this.store.finish(id, { by, at: this.now() });
    this.changed(entry, e.agentId);
    if (e.agentId) this.track(this.fillAgent(e.agentId).catch(() => 0));
    return this.item1(agent, id);
  }

  // ------------------------------------------------------------------------ canned responses

  async renderCanned(agent: AgentRecord, id: string, cannedId: string): Promise<string> {
    const c = this.canned.find((x) => x.id === cannedId);
    if (!c) throw new CannedNotFoundError(cannedId);
    const rec = await this.convStore.load(id);
    if (!rec || rec.botId !== this.bot.id) throw new ConversationNotFound(id);
    const state = readState(rec.state);
    const customer = this.customerOf(rec, state) ?? { id: null, name: null, email: null };
    return renderCanned(c, { customer: { ...customer }, slots: state.slots, agent: { id: agent.id, name: agent.name } });
  }
}

function safeStatus(state: unknown): string {
  try {
    return readState(state).status;
  } catch {
    return 'unknown';
  }
}

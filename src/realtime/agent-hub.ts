/**
 * The agent stream hub: live updates for the agent console (`/api/v1/agent/stream`).
 *
 * Frames (server → client):
 * - `{ type: 'ready' }` once connected;
 * - `{ type: 'queue', conversation: <list item> }` whenever a conversation visible to the agent
 *   changes (new waiting conversation in their queues, assigned to them, transferred, resolved,
 *   handed back, a new last message, read);
 * - `{ type: 'removed', conversationId }` when a conversation stops being visible to the agent
 *   (taken by someone else, transferred away);
 * - `{ type: 'message', conversationId, message }` for each new transcript item (customer, bot,
 *   agent, note, system) of a conversation assigned to the agent, or waiting in their queues.
 * - `{ type: 'typing', conversationId, from: 'customer' }` when the customer of a conversation that
 *   is with a person (waiting or assigned) is writing, to the agents who see it (`customerTyping`,
 *   fed by the customer streams of this process and, in a cluster, of the other workers).
 *
 * Sources: this process's handoff service (immediately), and — for other processes sharing the
 * store — a poll of the handoff store's change counter (`changes(afterRev)`) every
 * `pollIntervalMs`, reading new transcript items from the conversation store by seq.
 */
import { hasSkill } from '../handoff/routing';
import type { ChangeInfo, HandoffService } from '../handoff/service';
import type { AgentRecord, Assignment } from '../handoff/store/port';
import { TRANSCRIPT_EVENT_TYPES, toTranscriptItem, type TranscriptItem } from '../handoff/transcript';
import type { ConversationStore } from '../store/port';
import type { Logger } from '../util/logger';

export type AgentServerFrame =
  | { type: 'ready' }
  | { type: 'queue'; conversation: unknown }
  | { type: 'removed'; conversationId: string }
  | { type: 'message'; conversationId: string; message: TranscriptItem }
  | { type: 'typing'; conversationId: string; from: 'customer' }
  | { type: 'pong' }
  | { type: 'error'; error: { code: string; message: string } };

export interface AgentStreamClient {
  agent: AgentRecord;
  send(frame: AgentServerFrame): void;
  isOpen(): boolean;
  close(code: number, reason: string): void;
  /** Conversations this client was told about with a `queue` frame (for `removed`). */
  visible: Set<string>;
}

export interface AgentHubOptions {
  handoff: HandoffService;
  conversationStore: ConversationStore;
  logger: Logger;
  /** How often other processes' changes are looked for; 0 = never. */
  pollIntervalMs?: number;
}

export class AgentHub {
  private readonly clients = new Set<AgentStreamClient>();
  /** Highest seq delivered per conversation (messages are never sent twice). */
  private readonly cursors = new Map<string, number>();
  /** Highest rev handled per conversation (a polled change already pushed in-process is skipped). */
  private readonly revs = new Map<string, number>();
  private rev = 0;
  private poller: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(private readonly opts: AgentHubOptions) {}

  get size(): number {
    return this.clients.size;
  }

  async start(): Promise<void> {
    const { handoff } = this.opts;
    this.rev = (await handoff.store.listAssignments({ limit: 1 }))[0]?.rev ?? 0;
    this.unsubscribe.push(
      handoff.onChange((e, prev, info) => void this.onChange(e, prev, info).catch((err) => this.opts.logger.warn('agent stream update failed', { error: err as Error }))),
      handoff.onActivity((e, items) => this.deliver(e, items)),
    );
    const every = this.opts.pollIntervalMs ?? 1000;
    if (every > 0) {
      this.poller = setInterval(() => {
        if (!this.polling && this.clients.size) this.polling = this.poll().finally(() => (this.polling = null));
      }, every);
      this.poller.unref();
    }
  }

  join(client: AgentStreamClient): void {
    this.clients.add(client);
    client.send({ type: 'ready' });
  }

  leave(client: AgentStreamClient): void {
    this.clients.delete(client);
  }

  closeAll(code: number, reason: string): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
    for (const u of this.unsubscribe.splice(0)) u();
    for (const c of this.clients) c.close(code, reason);
    this.clients.clear();
  }

  /**
   * The customer of a conversation is typing (a throttled frame from their stream). Relayed only
   * while the conversation is with a person (an open entry: waiting or assigned), to the streams
   * of the agents who see it — its assignee, admins, and while it waits the agents with its skill.
   */
  async customerTyping(conversationId: string): Promise<void> {
    if (!this.clients.size) return;
    const entry = await this.opts.handoff.store.getAssignment(conversationId);
    if (!entry || entry.status === 'resolved') return;
    let frame: AgentServerFrame | undefined; // one object for every stream (serialised once)
    for (const c of this.clients) {
      if (!c.isOpen() || !this.opts.handoff.visibleTo(c.agent, entry)) continue;
      c.send((frame ??= { type: 'typing', conversationId, from: 'customer' }));
    }
  }

  /** Waits for a poll in progress (tests, shutdown). */
  async idle(): Promise<void> {
    await this.polling;
  }

  private async onChange(entry: Assignment, previousAgentId: string | null, info?: ChangeInfo): Promise<void> {
    const id = entry.conversationId;
    this.revs.set(id, Math.max(this.revs.get(id) ?? 0, entry.rev));
    if (!this.cursors.has(id)) this.cursors.set(id, entry.lastMessage?.seq ?? entry.sinceSeq);
    const clients: AgentStreamClient[] = [];
    const viewers = new Set<AgentStreamClient>();
    const agents = new Map<string, AgentRecord>();
    for (const c of this.clients) {
      if (!c.isOpen()) continue;
      clients.push(c);
      if (!this.sees(c.agent, entry, previousAgentId)) continue;
      viewers.add(c);
      agents.set(c.agent.id, c.agent);
    }
    const items = await this.opts.handoff.itemsForAgents(entry, [...agents.values()]);
    // One frame object per distinct item (agents with the same unread count share it), so that
    // each is serialised once however many streams it goes to.
    const frames = new Map<unknown, AgentServerFrame>();
    let removed: AgentServerFrame | undefined;
    for (const c of clients) {
      if (!c.isOpen()) continue;
      const item = viewers.has(c) ? items.get(c.agent.id) : undefined;
      if (item) {
        let frame = frames.get(item);
        if (!frame) frames.set(item, (frame = { type: 'queue', conversation: item }));
        c.visible.add(id);
        c.send(frame);
        if (entry.status === 'resolved') c.visible.delete(id);
      } else {
        // Also for lists loaded over REST before this socket saw the conversation: anyone who could
        // have seen it waiting in their queue (or had it) is told it is gone — when who sees it may
        // have changed: not for an entry created already assigned (`unseen`: it was never in
        // anyone's waiting list), nor for new activity on it (they were told when it left them).
        const couldHaveSeen = c.visible.delete(id) || previousAgentId === c.agent.id || (!info?.unseen && !info?.activity && hasSkill(c.agent, entry.queue));
        if (couldHaveSeen) c.send((removed ??= { type: 'removed', conversationId: id }));
      }
    }
  }

  private sees(agent: AgentRecord, entry: Assignment, previousAgentId: string | null): boolean {
    return this.opts.handoff.visibleTo(agent, entry) || (entry.status === 'resolved' && previousAgentId === agent.id);
  }

  /** New transcript items of a conversation: to every agent who has it or can take it. */
  private deliver(entry: Assignment, items: TranscriptItem[]): void {
    const cursor = this.cursors.get(entry.conversationId) ?? 0;
    const fresh = items.filter((i) => i.seq > cursor);
    if (!fresh.length) return;
    this.cursors.set(entry.conversationId, fresh[fresh.length - 1].seq);
    let frames: AgentServerFrame[] | undefined; // built once, for all the streams they go to
    for (const c of this.clients) {
      if (!c.isOpen() || !this.opts.handoff.visibleTo(c.agent, entry)) continue;
      frames ??= fresh.map((message) => ({ type: 'message', conversationId: entry.conversationId, message }));
      for (const f of frames) c.send(f);
    }
  }

  private async poll(): Promise<void> {
    const { handoff, conversationStore } = this.opts;
    try {
      // Agents' presence, skills and roles may have changed (another process, an admin).
      const agents = new Map((await handoff.store.listAgents()).map((a) => [a.id, a]));
      // A removed agent loses their streams; a changed role changes what they may see, so their
      // console is asked to reconnect (and re-read its lists).
      for (const c of this.clients) {
        const a = agents.get(c.agent.id);
        if (!a) {
          this.leave(c);
          c.send({ type: 'error', error: { code: 'agent_removed', message: 'this agent account was removed' } });
          c.close(4401, 'agent removed');
        } else if (a.role !== c.agent.role) {
          this.leave(c);
          c.send({ type: 'error', error: { code: 'role_changed', message: `your role changed to ${a.role}; reconnect` } });
          c.close(4409, 'role changed');
        } else c.agent = a;
      }
      for (let page = 0; page < 100; page++) {
        const changes = await handoff.store.changes(this.rev, 500);
        for (const e of changes) {
          this.rev = Math.max(this.rev, e.rev);
          if ((this.revs.get(e.conversationId) ?? 0) >= e.rev) continue;
          const cursor = this.cursors.get(e.conversationId);
          if (cursor !== undefined && e.lastMessage && e.lastMessage.seq > cursor) {
            const events = await conversationStore.events(e.conversationId, { afterSeq: cursor, limit: 1000, types: TRANSCRIPT_EVENT_TYPES });
            this.deliver(e, events.map(toTranscriptItem).filter((x): x is TranscriptItem => x !== null));
          }
          await this.onChange(e, null);
        }
        if (changes.length < 500) break;
      }
    } catch (e) {
      this.opts.logger.warn('agent stream poll failed; will retry', { error: e as Error });
    }
  }
}

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
 *
 * Sources: this process's handoff service (immediately), and — for other processes sharing the
 * store — a poll of the handoff store's change counter (`changes(afterRev)`) every
 * `pollIntervalMs`, reading new transcript items from the conversation store by seq.
 */
import { hasSkill } from '../handoff/routing';
import type { HandoffService } from '../handoff/service';
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
      handoff.onChange((e, prev) => void this.onChange(e, prev).catch((err) => this.opts.logger.warn('agent stream update failed', { error: err as Error }))),
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

  /** Waits for a poll in progress (tests, shutdown). */
  async idle(): Promise<void> {
    await this.polling;
  }

  private async onChange(entry: Assignment, previousAgentId: string | null): Promise<void> {
    this.revs.set(entry.conversationId, Math.max(this.revs.get(entry.conversationId) ?? 0, entry.rev));
    if (!this.cursors.has(entry.conversationId)) this.cursors.set(entry.conversationId, entry.lastMessage?.seq ?? entry.sinceSeq);
    const clients = [...this.clients].filter((c) => c.isOpen());
    const sees = (c: AgentStreamClient) => this.opts.handoff.visibleTo(c.agent, entry) || (entry.status === 'resolved' && previousAgentId === c.agent.id);
    const viewers = clients.filter(sees);
    const items = await this.opts.handoff.itemsForAgents(entry, [...new Map(viewers.map((c) => [c.agent.id, c.agent])).values()]);
    for (const c of clients) {
      if (!c.isOpen()) continue;
      const item = viewers.includes(c) ? items.get(c.agent.id) : undefined;
      if (item) {
        c.visible.add(entry.conversationId);
        c.send({ type: 'queue', conversation: item });
        if (entry.status === 'resolved') c.visible.delete(entry.conversationId);
      } else {
        // Also for lists loaded over REST before this socket saw the conversation: anyone who could
        // have seen it waiting in their queue (or had it) is told it is gone.
        const couldHaveSeen = c.visible.delete(entry.conversationId) || hasSkill(c.agent, entry.queue) || previousAgentId === c.agent.id;
        if (couldHaveSeen) c.send({ type: 'removed', conversationId: entry.conversationId });
      }
    }
  }

  /** New transcript items of a conversation: to every agent who has it or can take it. */
  private deliver(entry: Assignment, items: TranscriptItem[]): void {
    const cursor = this.cursors.get(entry.conversationId) ?? 0;
    const fresh = items.filter((i) => i.seq > cursor);
    if (!fresh.length) return;
    this.cursors.set(entry.conversationId, fresh[fresh.length - 1].seq);
    for (const c of this.clients) {
      if (!c.isOpen() || !this.opts.handoff.visibleTo(c.agent, entry)) continue;
      for (const message of fresh) c.send({ type: 'message', conversationId: entry.conversationId, message });
    }
  }

  private async poll(): Promise<void> {
    const { handoff, conversationStore } = this.opts;
    try {
      // Agents' presence, skills and roles may have changed (another process, an admin).
      const agents = new Map((await handoff.store.listAgents()).map((a) => [a.id, a]));
      for (const c of this.clients) {
        const a = agents.get(c.agent.id);
        if (a) c.agent = a;
        else c.close(4401, 'agent removed');
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

/**
 * The channel gateway: one inbound path and one outbound path for every messaging channel.
 *
 * Inbound (`receive`, called by an adapter after it checked the provider's signature):
 *   address → customer (a link made by the business, else "<channel>:<address>") → the customer's
 *   most recently updated conversation (or a new one, with a deterministic id so two processes
 *   receiving the same first message make one) → a numeric reply to a numbered list becomes the
 *   choice it names → the ordinary turn, with the provider's message id as idempotency key (a
 *   webhook delivered twice makes one turn and one set of replies).
 *
 * Outbound (`onCommit`, fed by the commit feed): every customer-visible message committed in this
 * process (bot replies, an agent's reply hours later, the bot after a hand-back) goes to the
 * channel the customer last wrote from (`state.route`), rendered for that channel's capabilities,
 * in commit order per conversation. Retryable failures (5xx, 429, network) are retried with
 * exponential backoff and jitter, honouring Retry-After; the outcome of each message is recorded
 * (sent / failed / held / suppressed). The message is in the transcript before delivery starts,
 * so a failed delivery never loses it. While an address is opted out (SMS STOP) nothing is sent.
 */
import { createHash } from 'crypto';
import { Router } from 'express';
import type { ConversationService } from '../conversation/service';
import { KeyedQueue } from '../conversation/keyed-queue';
import type { OutMessage } from '../flow/interpreter';
import { readState, type ConversationState } from '../flow/state';
import { ConversationExistsError, type ConversationStore, type StoredEvent } from '../store/port';
import type { Logger } from '../util/logger';
import {
  DeliveryError,
  type ChannelAdapter,
  type ChannelRoute,
  type DeliveryReceipt,
  type DeliveryStatusUpdate,
  type InboundMessage,
  type InboundResult,
  type InboundSink,
  type WindowStatus,
} from './port';
import { pickNumbered, renderForChannel } from './render';
import type { ChannelStore, DeliveryRecord } from './store/port';

export interface RetryPolicy {
  /** Tries in all, the first included (default 5). */
  attempts: number;
  /** First pause (default 500 ms); doubles each time, with ±50% jitter. */
  baseMs: number;
  /** Longest pause, Retry-After included (default 30 s). */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 500, maxMs: 30_000 };

export interface GatewayOptions {
  botId: string;
  service: ConversationService;
  /** The (observed) conversation store. */
  store: ConversationStore;
  channelStore: ChannelStore;
  adapters: ChannelAdapter[];
  logger: Logger;
  clock?: () => Date;
  retry?: Partial<RetryPolicy>;
}

const MESSAGE_TYPES = new Set(['bot_message', 'agent_message']);

/** A conversation id derived from the customer, so concurrent first messages (several processes) make one conversation. */
export function channelConversationId(botId: string, customerId: string): string {
  return `ch-${createHash('sha256').update(`${botId}\n${customerId}`).digest('base64url').slice(0, 26)}`;
}

/** The message an event carries, as the bot or agent sent it. */
function messageOf(e: StoredEvent): OutMessage | null {
  const d = e.data as Record<string, unknown>;
  if (e.type === 'bot_message' && d.message && typeof d.message === 'object') return d.message as unknown as OutMessage;
  if (e.type === 'agent_message') {
    const m = d.message;
    if (m && typeof m === 'object') return { id: `a${e.seq}`, ...(m as object) } as OutMessage;
    const text = typeof m === 'string' ? m : typeof d.text === 'string' ? d.text : undefined;
    return text !== undefined ? { id: `a${e.seq}`, text } : null;
  }
  return null;
}

export class ChannelGateway implements InboundSink {
  private readonly adapters = new Map<string, ChannelAdapter>();
  private readonly inbound = new KeyedQueue();
  private readonly outbound = new KeyedQueue();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly clock: () => Date;
  private readonly retry: RetryPolicy;
  private readonly log: Logger;
  private closed = false;
  private readonly outcomeListeners = new Set<(channel: string, status: DeliveryRecord['status']) => void>();
  /** Timers of backoff pauses, so close() can cut them short. */
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  constructor(private readonly opts: GatewayOptions) {
    for (const a of opts.adapters) this.adapters.set(a.name, a);
    this.clock = opts.clock ?? (() => new Date());
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.log = opts.logger;
  }

  /** The enabled channels. */
  get channels(): ChannelAdapter[] {
    return [...this.adapters.values()];
  }

  /** Every adapter's webhooks, to be mounted before the JSON body parser. */
  router(): Router {
    const r = Router();
    for (const a of this.adapters.values()) r.use(a.router(this));
    return r;
  }

  // ------------------------------------------------------------------ inbound

  async receive(msg: InboundMessage): Promise<InboundResult> {
    const { botId, service, store, channelStore } = this.opts;
    const customerId = (await channelStore.linkedCustomer(botId, msg.channel, msg.address)) ?? `${msg.channel}:${msg.address}`;
    // One customer's messages are looked up and started one at a time (the turn queue orders the rest).
    const adapter = this.adapters.get(msg.channel);
    const conversationId = await this.inbound.run(`${msg.channel}\u0000${msg.address}`, async () => {
      const [latest] = await store.list({ botId, customerId, limit: 1 });
      if (latest) {
        // "Typing…" while the bot works on it (not while a person has the conversation: the bot is silent then).
        if (adapter?.typing && (latest.state as { status?: unknown }).status !== 'handed_off')
          adapter.typing({ channel: msg.channel, address: msg.address, ...(msg.ref ? { ref: msg.ref } : {}), lastInboundAt: this.clock().toISOString() }).catch(() => undefined);
        return latest.id;
      }
      const id = channelConversationId(botId, customerId);
      try {
        await service.create({ id, channel: msg.channel, customerId, profile: { id: customerId, ...(msg.name ? { name: msg.name } : {}) }, route: { address: msg.address, ...(msg.ref ? { ref: msg.ref } : {}) } });
      } catch (e) {
        if (!(e instanceof ConversationExistsError)) throw e;
      }
      return id;
    });
    let text = msg.text;
    let payload = msg.payload;
    if (payload === undefined) {
      // "2" after a numbered list picks the second choice of the last message the customer got.
      const last = await channelStore.lastDelivery(conversationId);
      const choice = last?.numbered ? pickNumbered(text, last.numbered) : null;
      if (choice) {
        text = choice.title;
        payload = choice.payload;
      }
    }
    // Messages held for a closed service window go out first, now that the customer wrote.
    this.flushHeld(conversationId, { channel: msg.channel, address: msg.address, ...(msg.ref ? { ref: msg.ref } : {}), lastInboundAt: this.clock().toISOString() });
    const outcome = await service.send(conversationId, {
      text,
      payload,
      clientMessageId: `${msg.channel}:${msg.providerMessageId}`,
      channel: { name: msg.channel, address: msg.address, ...(msg.ref ? { ref: msg.ref } : {}) },
    });
    return { conversationId, duplicate: outcome.duplicate };
  }

  async setOptOut(channel: string, address: string, optedOut: boolean): Promise<void> {
    await this.opts.channelStore.setOptOut(this.opts.botId, channel, address, optedOut, this.clock().toISOString());
    this.log.info(optedOut ? 'customer opted out of messages' : 'customer opted back in', { channel, address: mask(address) });
  }

  isOptedOut(channel: string, address: string): Promise<boolean> {
    return this.opts.channelStore.isOptedOut(this.opts.botId, channel, address);
  }

  async deliveryStatus(u: DeliveryStatusUpdate): Promise<void> {
    const known = await this.opts.channelStore.updateDeliveryStatus(u.channel, u.providerMessageId, u.status, u.error, u.at ?? this.clock().toISOString());
    if (!known) this.log.debug('status report for a message this server did not send', { channel: u.channel, providerMessageId: u.providerMessageId });
    else if (u.status === 'failed') this.log.warn('the provider could not deliver a message', { channel: u.channel, providerMessageId: u.providerMessageId, error: u.error });
  }

  /** Link a channel address to a verified customer: from then on its messages join that customer's conversations. */
  async link(channel: string, address: string, customerId: string): Promise<void> {
    await this.opts.channelStore.link(this.opts.botId, channel, address, customerId, this.clock().toISOString());
  }

  async unlink(channel: string, address: string): Promise<boolean> {
    return this.opts.channelStore.unlink(this.opts.botId, channel, address);
  }

  // ------------------------------------------------------------------ outbound

  /** Commit feed listener: deliver the customer-visible messages of a commit. */
  onCommit = (conversationId: string, events: StoredEvent[]): void => {
    if (this.closed || !this.adapters.size) return;
    const messages = events.filter((e) => MESSAGE_TYPES.has(e.type));
    if (!messages.length) return;
    // Cheap skip for conversations on Baton's own API: the commit says which channel the customer used.
    const said = events.find((e) => e.type === 'customer_message' || e.type === 'conversation_started')?.data.channel;
    if (typeof said === 'string' && !this.adapters.has(said)) return;
    this.track(this.outbound.run(conversationId, () => this.deliverAll(conversationId, messages)));
  };

  /** The service window of the channel a conversation is on, for the agent console (null: none). */
  window(state: ConversationState, from: 'bot' | 'agent' = 'agent'): (WindowStatus & { channel: string }) | null {
    const route = state.route;
    const adapter = route && this.adapters.get(route.channel);
    if (!route || !adapter?.window) return null;
    return { channel: route.channel, ...adapter.window(route, this.clock(), from) };
  }

  /** The channel a conversation is on, with its title (null: Baton's own API / widget). */
  channelOf(state: ConversationState): { name: string; title: string } | null {
    const a = state.route && this.adapters.get(state.route.channel);
    return a ? { name: a.name, title: a.title } : null;
  }

  /** Be told the outcome of each delivery (metrics). Returns the unsubscribe function. */
  onDeliveryOutcome(listener: (channel: string, status: DeliveryRecord['status']) => void): () => void {
    this.outcomeListeners.add(listener);
    return () => void this.outcomeListeners.delete(listener);
  }

  /** Messages of a conversation that failed to be delivered or wait for the customer to write (held). */
  undelivered(conversationId: string): Promise<DeliveryRecord[]> {
    return this.opts.channelStore.deliveries(conversationId, { statuses: ['failed', 'held', 'suppressed'] });
  }

  /** Every delivery of a conversation, in message order. */
  deliveries(conversationId: string): Promise<DeliveryRecord[]> {
    return this.opts.channelStore.deliveries(conversationId);
  }

  /** Resolves when deliveries in progress are done (graceful shutdown). */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /** Stop: no new deliveries; backoff pauses end now (their deliveries are recorded as failed). */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sleepers) {
      clearTimeout(s.timer);
      s.resolve();
    }
    await this.idle();
    for (const a of this.adapters.values()) await a.close?.();
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    const done = () => void this.pending.delete(p);
    p.then(done, (e) => {
      done();
      this.log.error('channel delivery failed unexpectedly', { error: e as Error });
    });
  }

  /**
   * Deliver what a stopped process committed but never sent (it died between the commit and the
   * provider call): for the most recently updated conversations on a messaging channel, the bot and
   * agent messages after the customer's last message on that channel that have no delivery record.
   * Only messages older than `minAgeMs` are taken, so a delivery another live process is making
   * right now (retries included) is not made twice. Run at start. Returns how many were sent again.
   */
  async recover(opts: { minAgeMs?: number; maxAgeMs?: number; limit?: number } = {}): Promise<number> {
    const { botId, store, channelStore } = this.opts;
    const now = this.clock().getTime();
    const minAge = opts.minAgeMs ?? 120_000;
    const maxAge = opts.maxAgeMs ?? 24 * 3600_000;
    let resent = 0;
    for (const rec of await store.list({ botId, limit: opts.limit ?? 1000 })) {
      if (now - Date.parse(rec.updatedAt) > maxAge) break; // most recently updated first
      const route = (rec.state as { route?: ChannelRoute }).route;
      const adapter = route && this.adapters.get(route.channel);
      if (!route || !adapter) continue;
      const last = await channelStore.lastDelivery(rec.id);
      const events: StoredEvent[] = [];
      for (let after = last?.seq ?? 0; ; ) {
        const page = await store.events(rec.id, { afterSeq: after, limit: 1000, types: ['customer_message', 'bot_message', 'agent_message'] });
        events.push(...page);
        if (page.length < 1000) break;
        after = page[page.length - 1].seq;
      }
      // Only what followed the customer's last message on this channel was meant for it.
      let from = 0;
      for (let i = events.length - 1; i >= 0; i--)
        if (events[i].type === 'customer_message' && events[i].data.channel === route.channel) {
          from = i + 1;
          break;
        }
      if (from === 0 && !last) continue; // never written from this channel since the last delivery
      const missing = events.slice(from).filter((e) => MESSAGE_TYPES.has(e.type) && now - Date.parse(e.at) >= minAge && now - Date.parse(e.at) <= maxAge);
      if (!missing.length) continue;
      const known = new Set((await channelStore.deliveries(rec.id)).map((d) => d.seq));
      const todo = missing.filter((e) => !known.has(e.seq));
      if (!todo.length) continue;
      this.log.warn('delivering messages committed but never sent (the process stopped before sending them)', { conversationId: rec.id, channel: route.channel, messages: todo.length });
      resent += todo.length;
      this.track(this.outbound.run(rec.id, () => this.deliverAll(rec.id, todo)));
    }
    await this.idle();
    return resent;
  }

  private async deliverAll(conversationId: string, events: StoredEvent[]): Promise<void> {
    const rec = await this.opts.store.load(conversationId);
    if (!rec) return;
    const route = readState(rec.state).route;
    const adapter = route && this.adapters.get(route.channel);
    if (!route || !adapter) return;
    for (const e of events) {
      const message = messageOf(e);
      if (message) await this.deliverOne(conversationId, e.seq, e.type === 'agent_message' ? 'agent' : 'bot', message, route, adapter);
    }
  }

  private flushHeld(conversationId: string, route: ChannelRoute): void {
    const adapter = this.adapters.get(route.channel);
    if (!adapter) return;
    this.track(
      this.outbound.run(conversationId, async () => {
        const held = await this.opts.channelStore.deliveries(conversationId, { statuses: ['held'] });
        if (!held.length) return;
        const byseq = new Map<number, StoredEvent>();
        for (const d of held) {
          const [e] = await this.opts.store.events(conversationId, { afterSeq: d.seq - 1, limit: 1 });
          if (e && e.seq === d.seq) byseq.set(d.seq, e);
        }
        for (const d of held) {
          const e = byseq.get(d.seq);
          const message = e && messageOf(e);
          if (message) await this.deliverOne(conversationId, d.seq, e.type === 'agent_message' ? 'agent' : 'bot', message, route, adapter, d.attempts);
        }
      }),
    );
  }

  private async deliverOne(conversationId: string, seq: number, from: 'bot' | 'agent', message: OutMessage, route: ChannelRoute, adapter: ChannelAdapter, previousAttempts = 0): Promise<void> {
    const { botId, channelStore } = this.opts;
    const rendered = renderForChannel(message, adapter.capabilities);
    const base: DeliveryRecord = {
      conversationId,
      seq,
      messageId: message.id,
      channel: route.channel,
      address: route.address,
      status: 'pending',
      attempts: previousAttempts,
      providerMessageIds: [],
      ...(rendered.numbered.length ? { numbered: rendered.numbered } : {}),
      updatedAt: this.clock().toISOString(),
    };
    const save = async (d: DeliveryRecord) => {
      await channelStore.saveDelivery({ ...d, updatedAt: this.clock().toISOString() });
      for (const l of this.outcomeListeners) l(d.channel, d.status);
    };
    if (!rendered.parts.length) return;
    if (await channelStore.isOptedOut(botId, route.channel, route.address)) {
      await save({ ...base, status: 'suppressed', error: 'the customer opted out of messages on this channel (STOP)' });
      return;
    }
    let attempt = 0;
    for (;;) {
      attempt++;
      try {
        const receipt: DeliveryReceipt = await adapter.deliver(route, rendered.parts, { conversationId, messageId: message.id, from, now: this.clock() });
        await save({
          ...base,
          status: receipt.held ? 'held' : 'sent',
          attempts: previousAttempts + attempt,
          providerMessageIds: receipt.providerMessageIds,
          ...(receipt.note ? { note: receipt.note } : {}),
        });
        return;
      } catch (e) {
        const err = e instanceof DeliveryError ? e : new DeliveryError((e as Error).message ?? String(e), false);
        const last = !err.retryable || attempt >= this.retry.attempts || this.closed;
        this.log[last ? 'error' : 'warn'](last ? 'could not deliver a message' : 'delivery failed; retrying', {
          conversationId,
          channel: route.channel,
          seq,
          attempt,
          retryable: err.retryable,
          error: err.message,
        });
        if (last) {
          await save({ ...base, status: 'failed', attempts: previousAttempts + attempt, error: err.message });
          return;
        }
        await this.sleep(this.backoff(attempt, err.opts.retryAfterMs));
      }
    }
  }

  private backoff(attempt: number, retryAfterMs?: number): number {
    const exp = this.retry.baseMs * 2 ** (attempt - 1);
    const jittered = exp * (0.5 + Math.random());
    return Math.min(this.retry.maxMs, Math.max(retryAfterMs ?? 0, jittered));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const s = { timer: setTimeout(() => (this.sleepers.delete(s), resolve()), ms), resolve };
      this.sleepers.add(s);
    });
  }
}

/** Log addresses without the whole phone number. */
function mask(address: string): string {
  return address.length > 6 ? `${address.slice(0, 4)}…${address.slice(-2)}` : '…';
}


/**
 * The stream hub: delivers a conversation's committed messages to its open streams, in seq order,
 * without gaps or duplicates.
 *
 * Every delivery reads the **store** (never an in-memory copy of a turn's replies), so a stream
 * only ever sees committed messages, and backlog, live messages and other processes' messages
 * all go through one code path:
 *
 * - each stream has a cursor (the last seq it was sent); a conversation's streams share one
 *   "pump" that reads `events(afterSeq = smallest cursor, types = message types)` and sends each
 *   stream what is past its cursor; pumps of one conversation never overlap, and a pump requested
 *   while one runs makes it run again (so a message committed while a backlog is being sent is
 *   picked up right after, never skipped, never sent twice);
 * - a pump runs when a stream joins (backlog, then `ready`), when this process commits to the
 *   conversation (the commit feed: immediate), and every `pollIntervalMs` for conversations with
 *   open streams (commits made by other processes: at most that late). The polls are spread over
 *   the interval (each conversation has its slot in it): a thousand streams polled in one go
 *   would hold the event loop for tens of milliseconds once per interval, a stall every live
 *   delivery of that moment would wait behind.
 */
import type { ConversationStore, StoredEvent } from '../store/port';
import type { Logger } from '../util/logger';
import { MESSAGE_EVENT_TYPES, toPublicMessage } from './messages';
import type { ServerFrame } from './protocol';

/** One open stream (a WebSocket, or a fake in tests). */
export interface StreamClient {
  readonly conversationId: string;
  /** Seq of the last message sent (starts at the client's `after`). */
  cursor: number;
  /** True once the backlog was sent and `ready` went out. */
  ready: boolean;
  send(frame: ServerFrame): void;
  isOpen(): boolean;
  /** Bytes queued but not yet written to the network. */
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}

interface Room {
  id: string;
  /** Which of the poll ticks of an interval polls this conversation. */
  slot: number;
  clients: Set<StreamClient>;
  running: boolean;
  again: boolean;
  done: Promise<void> | null;
  typingTurns: number;
  typingTimer: NodeJS.Timeout | null;
}

export interface HubOptions {
  store: ConversationStore;
  logger: Logger;
  /** How often conversations with open streams are checked for other processes' commits; 0 = never. */
  pollIntervalMs?: number;
  /** Events read per store call. */
  pageSize?: number;
  /** A typing frame is repeated this often while a turn runs (clients hide it after ~5 s without one). */
  typingRepeatMs?: number;
  /** A client with more than this many bytes unsent is too slow and is disconnected (it reconnects and catches up). */
  maxBufferedBytes?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll ticks are at least this far apart (an interval is split into at most interval / this ticks). */
const POLL_TICK_MS = 50;

export class StreamHub {
  private readonly rooms = new Map<string, Room>();
  private readonly store: ConversationStore;
  private readonly log: Logger;
  private readonly pageSize: number;
  private readonly typingRepeatMs: number;
  private readonly maxBuffered: number;
  private poller: NodeJS.Timeout | null = null;
  private closed = false;
  /** Poll ticks per interval, and the next room's slot among them. */
  private slots = 1;
  private nextSlot = 0;

  constructor(private readonly opts: HubOptions) {
    this.store = opts.store;
    this.log = opts.logger;
    this.pageSize = opts.pageSize ?? 200;
    this.typingRepeatMs = opts.typingRepeatMs ?? 2500;
    this.maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
  }

  /** Number of open streams. */
  get size(): number {
    let n = 0;
    for (const r of this.rooms.values()) n += r.clients.size;
    return n;
  }

  start(): void {
    const every = this.opts.pollIntervalMs ?? 1000;
    if (every > 0 && !this.poller) {
      this.slots = Math.max(1, Math.floor(every / POLL_TICK_MS));
      let tick = 0;
      this.poller = setInterval(() => {
        const slot = tick++ % this.slots;
        for (const room of this.rooms.values()) if (room.slot === slot && room.clients.size) this.schedule(room);
      }, every / this.slots);
      this.poller.unref();
    }
  }

  /** Start delivering to a stream: its backlog after `client.cursor`, then `ready`, then live messages. */
  join(client: StreamClient): void {
    if (this.closed) return client.close(1001, 'server is shutting down');
    let room = this.rooms.get(client.conversationId);
    if (!room) {
      room = { id: client.conversationId, slot: this.nextSlot++ % this.slots, clients: new Set(), running: false, again: false, done: null, typingTurns: 0, typingTimer: null };
      this.rooms.set(room.id, room);
    }
    room.clients.add(client);
    this.schedule(room);
  }

  leave(client: StreamClient): void {
    const room = this.rooms.get(client.conversationId);
    if (!room) return;
    room.clients.delete(client);
    this.gc(room);
  }

  /** Something was committed to this conversation: deliver it to its streams now. */
  notify(conversationId: string): void {
    const room = this.rooms.get(conversationId);
    if (room?.clients.size) this.schedule(room);
  }

  /** A turn started or ended for this conversation (typing indicator for ready streams). */
  typing(conversationId: string, active: boolean): void {
    const room = this.rooms.get(conversationId);
    if (!room) return;
    room.typingTurns = Math.max(0, room.typingTurns + (active ? 1 : -1));
    if (room.typingTurns > 0 && !room.typingTimer) {
      const tick = () => {
        for (const c of room.clients) if (c.ready && c.isOpen()) c.send({ type: 'typing', from: 'bot' });
      };
      tick();
      room.typingTimer = setInterval(tick, this.typingRepeatMs);
      room.typingTimer.unref();
    } else if (room.typingTurns === 0 && room.typingTimer) {
      clearInterval(room.typingTimer);
      room.typingTimer = null;
      this.gc(room);
    }
  }

  /**
   * The agent who has this conversation is writing a reply (one call per relayed agent typing
   * frame; the console repeats it every ~2 s while the agent types, so clients hide the indicator
   * ~5 s after the last one). To the conversation's ready streams, once; nothing is kept.
   */
  agentTyping(conversationId: string, name: string): void {
    const room = this.rooms.get(conversationId);
    if (!room) return;
    const frame: ServerFrame = { type: 'typing', from: 'agent', name };
    for (const c of room.clients) if (c.ready && c.isOpen()) c.send(frame);
  }

  /** Resolves when no delivery is in progress (used before closing streams at shutdown, and in tests). */
  async idle(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const busy = [...this.rooms.values()].filter((r) => r.done).map((r) => r.done);
      if (!busy.length) return;
      await Promise.allSettled(busy);
    }
  }

  /** Stop polling and close every stream with `code` (1001 "going away" at shutdown). */
  closeAll(code: number, reason: string): void {
    this.closed = true;
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
    for (const room of this.rooms.values()) {
      if (room.typingTimer) clearInterval(room.typingTimer);
      room.typingTimer = null;
      for (const c of room.clients) c.close(code, reason);
      room.clients.clear();
    }
    this.rooms.clear();
  }

  private gc(room: Room): void {
    if (!room.clients.size && !room.running && !room.typingTimer && this.rooms.get(room.id) === room) this.rooms.delete(room.id);
  }

  private schedule(room: Room): void {
    if (room.running) {
      room.again = true;
      return;
    }
    room.running = true;
    room.done = this.run(room);
  }

  private async run(room: Room): Promise<void> {
    try {
      // Bounded: a conversation that is written to without pause still yields every 1000 rounds
      // (the next commit or poll starts it again).
      for (let round = 0; round < 1000; round++) {
        room.again = false;
        await this.pumpOnce(room);
        if (!room.again) break;
      }
    } catch (e) {
      // The store is unreachable or closed: the next poll or commit tries again.
      this.log.warn('could not deliver messages to streams; will retry', { conversationId: room.id, error: e as Error });
    } finally {
      // No await between the last `again` check and here: a notify can't slip through unseen.
      room.running = false;
      room.done = null;
      this.gc(room);
    }
  }

  private async pumpOnce(room: Room): Promise<void> {
    const clients = [...room.clients].filter((c) => c.isOpen());
    if (!clients.length) return;
    let after = Math.min(...clients.map((c) => c.cursor));
    for (let page = 0; page < 10_000; page++) {
      const events: StoredEvent[] = await this.store.events(room.id, { afterSeq: after, limit: this.pageSize, types: MESSAGE_EVENT_TYPES });
      for (const e of events) {
        const message = toPublicMessage(e);
        for (const c of clients) {
          if (e.seq <= c.cursor || !c.isOpen()) continue;
          if (message) c.send({ type: 'message', message });
          c.cursor = e.seq;
        }
      }
      if (events.length) after = events[events.length - 1].seq;
      await this.throttle(clients);
      if (events.length < this.pageSize) break;
    }
    for (const c of clients) {
      if (!c.ready && c.isOpen()) {
        c.ready = true;
        c.send({ type: 'ready', lastSeq: c.cursor });
        if (room.typingTimer) c.send({ type: 'typing', from: 'bot' });
      }
    }
  }

  /** Disconnect clients too far behind; wait (bounded) for the others to take what was sent. */
  private async throttle(clients: StreamClient[]): Promise<void> {
    const cut = () => {
      for (const c of clients)
        if (c.isOpen() && c.bufferedAmount() > this.maxBuffered) {
          this.log.warn('stream client too slow; disconnecting it', { conversationId: c.conversationId, buffered: c.bufferedAmount() });
          c.close(1013, 'too slow; reconnect with after=<last seq>');
        }
    };
    cut();
    for (let i = 0; i < 200 && clients.some((c) => c.isOpen() && c.bufferedAmount() > this.maxBuffered / 4); i++) await sleep(25);
    cut();
  }
}

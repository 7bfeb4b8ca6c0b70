/**
 * The turn runner: receive → load → understand (NLU) → decide (pure interpreter) →
 * commit events → perform effects. Only this layer does I/O.
 *
 * Guarantees:
 * - messages to one conversation are processed one at a time, in arrival order;
 * - a message resent with the same clientMessageId is not processed twice (the
 *   original replies are returned);
 * - a turn's events and state are committed (with an optimistic version check)
 *   before its replies are handed out or an action is called.
 */
import { randomUUID } from 'crypto';
import type { Bot } from '../flow/model';
import { interpret, type AgentInput, type Context, type Effect, type Input, type OutMessage, type QueueAvailability, type TurnResult, type Understanding } from '../flow/interpreter';
import { initialState, readState, type ConversationState } from '../flow/state';
import type { ConversationStore, NewEvent, StoredEvent } from '../store/port';
import { DuplicateIdempotencyKeyError, StaleVersionError } from '../store/port';
import type { IntentMatcher } from '../nlu/port';
import type { JsonObject, JsonValue } from '../util/json';
import { silentLogger, withFields, type Logger } from '../util/logger';
import { runAction, type Actions } from './actions';
import { KeyedQueue } from './keyed-queue';
import { entityTypesOf, extractEntities, type Entity } from '../nlu/entities';
import { MultilingualMatcher } from '../nlu/multilingual';
import { botLanguages } from '../nlu/corpus';
import { matchLanguage } from '../flow/i18n';
import { LANGUAGE_RULES } from '../nlu/language';

export interface IncomingMessage {
  text?: string;
  payload?: string;
  clientMessageId?: string;
  /** The channel the message came through and the customer's address there (later messages go back that way). */
  channel?: { name: string; address: string; ref?: JsonObject };
}

export interface TurnOutcome {
  conversationId: string;
  replies: OutMessage[];
  /** True when this was a retry of an already processed clientMessageId. */
  duplicate: boolean;
  /** The intent the message was routed to, with its confidence (null: not understood). */
  intent: { intent: string; confidence: number } | null;
  handoff: { reason: string; queue: string } | null;
  /** True when the bot did not understand the message (it said so and offered suggestions or a person). */
  fallback: boolean;
  state: ConversationState;
  /** The events this call committed, with their seq (absent for a duplicate). */
  committed?: StoredEvent[];
}

/** The result of an agent's action (see `ConversationService.agentAction`). */
export interface AgentActionOutcome {
  conversationId: string;
  state: ConversationState;
  /** The events committed by this action (with seq); for a duplicate, the original agent message event. */
  events: StoredEvent[];
  /** Messages the customer was sent (the agent's message, notices, the bot's after-handback flow). */
  replies: OutMessage[];
  duplicate: boolean;
}

/** An agent action that needs a handed-off conversation, on one that is not (handed back, resolved, never handed off). */
export class NotHandedOffError extends Error {
  readonly code = 'not_handed_off';
  readonly retryable = false;
  constructor(id: string, action: string) {
    super(`conversation ${id} is not with a person; "${action}" needs a handed-off conversation`);
  }
}

export class ConversationNotFound extends Error {
  readonly code = 'conversation_not_found';
  readonly retryable = false;
  constructor(id: string) {
    super(`conversation ${id} does not exist`);
  }
}

export class InvalidMessageError extends Error {
  readonly code = 'invalid_message';
  readonly retryable = false;
}

export interface ServiceOptions {
  bot: Bot;
  store: ConversationStore;
  matcher: IntentMatcher;
  actions?: Actions;
  clock?: () => Date;
  newId?: () => string;
  logger?: Logger;
  /** Called after each commit with the messages it made, in order (e.g. push to a channel). */
  onMessages?: (conversationId: string, messages: OutMessage[]) => void;
  maxStaleRetries?: number;
  /** Sentiment of a customer message when the intent matcher gives none (computed once per turn, at the edge), in the message's (guessed) language. */
  sentiment?: (text: string, language?: string) => Promise<{ score: number; vote: string } | undefined>;
  /** Whether a queue can answer now (opening hours, agents online); asked only on turns that hand off. */
  availability?: (queue: string) => Promise<QueueAvailability | undefined>;
}

/** Another process wrote first: retry on the fresh state, up to this many times. */
export const DEFAULT_STALE_RETRIES = 10;

/** A short random pause before retrying, so two processes racing on one conversation fall out of step. */
function staleBackoff(attempt: number): Promise<void> {
  const ms = attempt === 0 ? 0 : Math.random() * Math.min(50, 2 ** attempt);
  return ms ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

export const MAX_TEXT_LENGTH = 4000;

/** Told when a turn starts running (its turn in the per-conversation queue came) and when it ends. */
export interface TurnListener {
  turnStarted?(conversationId: string): void;
  turnEnded?(conversationId: string, result: { outcome?: TurnOutcome; error?: unknown; durationMs: number }): void;
}

export class ConversationService {
  readonly bot: Bot;
  /** The store this service commits to (read access for the HTTP layer). */
  readonly store: ConversationStore;
  private readonly matcher: IntentMatcher;
  private readonly actions: Actions;
  private readonly clock: () => Date;
  private readonly newId: () => string;
  private readonly log: Logger;
  private readonly queue = new KeyedQueue();
  private readonly entityTypes: ReturnType<typeof entityTypesOf>;
  private readonly listeners = new Set<TurnListener>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly opts: ServiceOptions) {
    this.bot = opts.bot;
    this.store = opts.store;
    this.matcher = opts.matcher;
    this.actions = opts.actions ?? {};
    this.clock = opts.clock ?? (() => new Date());
    this.newId = opts.newId ?? randomUUID;
    this.log = opts.logger ?? silentLogger;
    this.entityTypes = entityTypesOf(opts.bot);
  }

  private ctx(conversationId: string): Context {
    const now = this.clock();
    return { now: now.toISOString(), today: now.toISOString().slice(0, 10), newId: this.newId, conversationId };
  }

  /**
   * Start a conversation; returns its id and the bot's welcome messages. `language`: the customer's
   * preferred language if known (a browser's "es-MX", a channel's locale); a bot with several
   * languages starts in it (else in `profile.language`, else in its default language).
   */
  async create(
    opts: { id?: string; channel?: string; profile?: Record<string, JsonValue>; customerId?: string; route?: { address: string; ref?: JsonObject }; language?: string } = {},
  ): Promise<{ conversationId: string; replies: OutMessage[] }> {
    const id = opts.id ?? this.newId();
    const ctx = this.ctx(id);
    const route = opts.route && opts.channel ? { channel: opts.channel, address: opts.route.address, ...(opts.route.ref ? { ref: opts.route.ref } : {}), lastInboundAt: ctx.now } : undefined;
    const languages = botLanguages(this.bot);
    let language: { language: string; source: 'default' | 'preferred' } | undefined;
    if (languages.length > 1) {
      const preferred = matchLanguage(opts.language, languages) ?? matchLanguage(opts.profile?.language, languages);
      language = preferred ? { language: preferred, source: 'preferred' } : { language: languages[0]!, source: 'default' };
    }
    const state0 = initialState({ channel: opts.channel, profile: opts.profile, route, ...(language ? { language } : {}) });
    const r = await this.decide(state0, { type: 'start' }, ctx);
    const created = await this.store.create({
      id,
      botId: this.bot.id,
      state: r.state as unknown as JsonObject,
      at: ctx.now,
      events: this.toEvents(r, ctx.now),
      ...(opts.customerId !== undefined ? { customerId: opts.customerId } : {}),
    });
    const out = await this.commitAndPerform(id, r, created.version, true, ctx, undefined);
    return { conversationId: id, replies: out.replies };
  }

  /** Process one customer message. Serialised per conversation. An invalid message is a rejection (InvalidMessageError). */
  async send(conversationId: string, msg: IncomingMessage): Promise<TurnOutcome> {
    const text = (msg.text ?? '').normalize('NFC');
    if (!text.trim() && !msg.payload) throw new InvalidMessageError('a message needs "text" or "payload"');
    if (text.length > MAX_TEXT_LENGTH) throw new InvalidMessageError(`message text is ${text.length} characters; the limit is ${MAX_TEXT_LENGTH}`);
    const p = this.queue.run(conversationId, () => this.observed(conversationId, () => this.turn(conversationId, { ...msg, text })));
    this.inFlight.add(p);
    const done = () => void this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  /** Subscribe to turn start/end (typing indicators, metrics). Returns the unsubscribe function. */
  observe(listener: TurnListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Resolves when every accepted message has been processed (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private async observed(conversationId: string, run: () => Promise<TurnOutcome>): Promise<TurnOutcome> {
    const started = Date.now();
    const tell = (f: (l: TurnListener) => void) => {
      for (const l of this.listeners) {
        try {
          f(l);
        } catch (e) {
          this.log.error('turn listener failed', { conversationId, error: e as Error });
        }
      }
    };
    tell((l) => l.turnStarted?.(conversationId));
    try {
      const outcome = await run();
      tell((l) => l.turnEnded?.(conversationId, { outcome, durationMs: Date.now() - started }));
      return outcome;
    } catch (error) {
      tell((l) => l.turnEnded?.(conversationId, { error, durationMs: Date.now() - started }));
      throw error;
    }
  }

  async history(conversationId: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<StoredEvent[]> {
    return this.store.events(conversationId, { ...opts, types: ['customer_message', 'bot_message', 'handoff'] });
  }

  async state(conversationId: string): Promise<ConversationState | null> {
    const rec = await this.store.load(conversationId);
    return rec ? readState(rec.state) : null;
  }

  private async turn(conversationId: string, msg: IncomingMessage): Promise<TurnOutcome> {
    const key = msg.clientMessageId ? `msg:${msg.clientMessageId}` : undefined;
    if (key && (await this.store.getIdempotent(conversationId, key)) !== undefined) return this.replay(conversationId, msg.clientMessageId!);
    const nlu = await this.understand(msg.text ?? '');
    const maxRetries = this.opts.maxStaleRetries ?? DEFAULT_STALE_RETRIES;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(conversationId, msg, nlu, key);
      } catch (e) {
        // The same message was accepted by another process in the meantime.
        if (e instanceof DuplicateIdempotencyKeyError && msg.clientMessageId) return this.replay(conversationId, msg.clientMessageId);
        if (e instanceof StaleVersionError && attempt < maxRetries) {
          this.log.warn('stale conversation version; retrying the turn', { conversationId, attempt });
          await staleBackoff(attempt);
          continue;
        }
        throw e;
      }
    }
  }

  /**
   * The outcome of an already accepted message, rebuilt from the event log: its replies are the
   * bot messages committed after it (all of them once its turn finished; those committed so far
   * if it is still running elsewhere or its process stopped mid-turn).
   */
  private async replay(conversationId: string, clientMessageId: string): Promise<TurnOutcome> {
    const rec = await this.store.load(conversationId);
    if (!rec) throw new ConversationNotFound(conversationId);
    const types = ['customer_message', 'bot_message', 'routed', 'handoff', 'fallback'];
    const events: StoredEvent[] = [];
    for (let after = 0; ; ) {
      const page = await this.store.events(conversationId, { afterSeq: after, limit: 10000, types });
      events.push(...page);
      if (page.length < 10000) break;
      after = page[page.length - 1].seq;
    }
    let start = -1;
    for (let i = events.length - 1; i >= 0; i--)
      if (events[i].type === 'customer_message' && events[i].data.clientMessageId === clientMessageId) {
        start = i;
        break;
      }
    const out: TurnOutcome = { conversationId, replies: [], duplicate: true, intent: null, handoff: null, fallback: false, state: readState(rec.state) };
    for (let i = start + 1; start >= 0 && i < events.length && events[i].type !== 'customer_message'; i++) {
      const e = events[i];
      if (e.type === 'bot_message') out.replies.push(e.data.message as unknown as OutMessage);
      else if (e.type === 'routed' && !out.intent) out.intent = { intent: String(e.data.intent), confidence: Number(e.data.confidence) };
      else if (e.type === 'handoff') out.handoff = { reason: String(e.data.reason), queue: String(e.data.queue) };
      else if (e.type === 'fallback') out.fallback = true;
    }
    return out;
  }

  /**
   * NLU of a message, once per turn (before the conversation is loaded). A bot with several
   * languages classifies it in every language and guesses its language; the interpreter then decides
   * the conversation's language with its state and uses that language's intents.
   */
  private async understand(text: string): Promise<Understanding | null> {
    if (!text.trim()) return null;
    const m = this.matcher;
    const multi = m instanceof MultilingualMatcher && m.languages.length > 1 ? m : null;
    const ranked = (intents: { intent: string; score: number }[]) => intents.filter((i) => i.score > 0).map((i) => ({ intent: i.intent, score: i.score }));
    let languages: Understanding['languages'];
    let c;
    let guessed: string | undefined;
    if (multi) {
      const guess = multi.detector.guess(text);
      const all = await Promise.all(multi.languages.map((l) => multi.classifyIn(l, text)));
      languages = { guess, intents: Object.fromEntries(multi.languages.map((l, i) => [l, ranked(all[i]!.intents)])) };
      c = all[0]!;
      if (guess.letters >= LANGUAGE_RULES.minLetters) guessed = guess.scores[0]?.language;
    } else c = await m.classify(text);
    const entities: Entity[] = extractEntities(this.entityTypes, text, this.clock().toISOString().slice(0, 10));
    let sentiment: Understanding['sentiment'] = c.sentiment;
    if (!sentiment && this.opts.sentiment) {
      try {
        sentiment = guessed ? await this.opts.sentiment(text, guessed) : await this.opts.sentiment(text);
      } catch (e) {
        this.log.warn('sentiment analysis failed; continuing without it', { error: e as Error });
      }
    }
    return { intents: ranked(c.intents), ...(sentiment ? { sentiment } : {}), entities, ...(languages ? { languages } : {}) };
  }

  /**
   * The interpreter, plus queue availability for turns that hand off: the first decision tells
   * whether (and to which queue) the turn hands off; only then is availability looked up (I/O) and
   * the turn decided again with it, so the customer hears when to expect a reply.
   */
  private async decide(state: ConversationState, input: Input, ctx: Context): Promise<TurnResult> {
    const r = interpret(this.bot, state, input, ctx);
    const h = r.effects.find((e): e is Extract<Effect, { type: 'handoff' }> => e.type === 'handoff');
    if (!h || !this.opts.availability) return r;
    let avail: QueueAvailability | undefined;
    try {
      avail = await this.opts.availability(h.queue);
    } catch (e) {
      this.log.warn('could not check queue availability', { queue: h.queue, error: e as Error });
    }
    if (!avail) return r;
    const known = avail;
    return interpret(this.bot, state, input, { ...ctx, availability: (q) => (q === h.queue ? known : undefined) });
  }

  /**
   * An agent's action (join, message, note, transfer, resolve, hand back), run like a customer
   * turn: in the conversation's queue (so it interleaves in order with customer messages), decided
   * by the interpreter, committed with a version check, then sent. With `clientMessageId` a retried
   * agent message is not written twice. Throws NotHandedOffError when the action needs a
   * handed-off conversation and this one is not.
   */
  async agentAction(conversationId: string, input: AgentInput): Promise<AgentActionOutcome> {
    const p = this.queue.run(conversationId, async () => {
      const key = input.clientMessageId ? `agent:${input.agent.id}:${input.clientMessageId}` : undefined;
      const maxRetries = this.opts.maxStaleRetries ?? DEFAULT_STALE_RETRIES;
      for (let attempt = 0; ; attempt++) {
        if (key && (await this.store.getIdempotent(conversationId, key)) !== undefined) return this.agentReplay(conversationId, input);
        const rec = await this.store.load(conversationId);
        if (!rec) throw new ConversationNotFound(conversationId);
        const ctx = this.ctx(conversationId);
        const r = await this.decide(readState(rec.state), input, ctx);
        if (r.events.some((e) => e.type === 'agent_action_ignored')) throw new NotHandedOffError(conversationId, input.action);
        try {
          const out = await this.commitAndPerform(conversationId, r, rec.version, false, ctx, key);
          return { conversationId, state: out.state, events: out.committed ?? [], replies: out.replies, duplicate: false };
        } catch (e) {
          if (e instanceof DuplicateIdempotencyKeyError && key) return this.agentReplay(conversationId, input);
          if (e instanceof StaleVersionError && attempt < maxRetries) {
            await staleBackoff(attempt);
            continue;
          }
          throw e;
        }
      }
    });
    this.inFlight.add(p);
    const done = () => void this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  /** A retried agent message: the event it was committed as. */
  private async agentReplay(conversationId: string, input: AgentInput): Promise<AgentActionOutcome> {
    const rec = await this.store.load(conversationId);
    if (!rec) throw new ConversationNotFound(conversationId);
    const found: StoredEvent[] = [];
    for (let after = 0, page = 0; page < 1000; page++) {
      const events = await this.store.events(conversationId, { afterSeq: after, limit: 10000, types: ['agent_message'] });
      for (const e of events) if (e.data.clientMessageId === input.clientMessageId && (e.data.agent as { id?: unknown } | undefined)?.id === input.agent.id) found.push(e);
      if (events.length < 10000) break;
      after = events[events.length - 1].seq;
    }
    return { conversationId, state: readState(rec.state), events: found.slice(-1), replies: [], duplicate: true };
  }

  private async attempt(conversationId: string, msg: IncomingMessage, nlu: Understanding | null, key: string | undefined): Promise<TurnOutcome> {
    const rec = await this.store.load(conversationId);
    if (!rec) throw new ConversationNotFound(conversationId);
    const state = readState(rec.state);
    const ctx = this.ctx(conversationId);
    const input: Input = { type: 'message', text: msg.text ?? '', payload: msg.payload, nlu };
    if (msg.channel) input.route = { channel: msg.channel.name, address: msg.channel.address, ...(msg.channel.ref ? { ref: msg.channel.ref } : {}), lastInboundAt: ctx.now };
    const r = await this.decide(state, input, ctx);
    if (msg.clientMessageId) {
      // Keep the client's id with the message, so a retry can find this turn's replies.
      const id = msg.clientMessageId;
      r.events = r.events.map((e) => (e.type === 'customer_message' ? { ...e, data: { ...e.data, clientMessageId: id } } : e));
    }
    return this.commitAndPerform(conversationId, r, rec.version, false, ctx, key);
  }

  /**
   * Commit a result, then perform its effects. An action call feeds its result back into
   * the interpreter; that result is committed and performed in turn.
   */
  private async commitAndPerform(
    conversationId: string,
    first: TurnResult,
    version: number,
    alreadyCommitted: boolean,
    ctx: Context,
    idempotencyKey: string | undefined,
  ): Promise<TurnOutcome> {
    let r = first;
    let v = version;
    let committed = alreadyCommitted;
    /** The action result `r` was computed from; undefined for the turn's first result. */
    let resultInput: Input | undefined;
    let staleRetries = 0;
    const committedEvents: StoredEvent[] = [];
    let outcome: TurnOutcome = { conversationId, replies: [], duplicate: false, intent: null, handoff: null, fallback: false, state: r.state, committed: committedEvents };
    for (let round = 0; round < 50; round++) {
      const action = r.effects.find((e): e is Extract<Effect, { type: 'call_action' }> => e.type === 'call_action');
      const sends = r.effects.filter((e): e is Extract<Effect, { type: 'send' }> => e.type === 'send').map((e) => e.message);
      const h = r.effects.find((e): e is Extract<Effect, { type: 'handoff' }> => e.type === 'handoff');
      const routed = r.events.find((e) => e.type === 'routed');
      const next: TurnOutcome = {
        ...outcome,
        intent: outcome.intent ?? (routed ? { intent: String(routed.data.intent), confidence: Number(routed.data.confidence) } : null),
        handoff: h ? { reason: h.reason, queue: h.queue } : outcome.handoff,
        fallback: outcome.fallback || r.events.some((e) => e.type === 'fallback'),
        replies: [...outcome.replies, ...sends],
        state: r.state,
      };
      if (!committed) {
        try {
          const res = await this.store.commit({
            id: conversationId,
            expectedVersion: v,
            state: r.state as unknown as JsonObject,
            events: this.toEvents(r, ctx.now),
            at: ctx.now,
            // The message is marked as accepted in the same commit that stores it; a retry then
            // replays the replies from the event log instead of processing it again.
            idempotency: !resultInput && idempotencyKey ? { key: idempotencyKey, value: { acceptedAt: ctx.now } } : undefined,
          });
          v = res.version;
          committedEvents.push(...res.events);
        } catch (e) {
          // Someone else wrote after this turn's earlier commit (the message is already stored and
          // the action already ran): apply the action result to their state instead of redoing the turn.
          if (!(e instanceof StaleVersionError) || !resultInput || staleRetries >= (this.opts.maxStaleRetries ?? DEFAULT_STALE_RETRIES)) throw e;
          staleRetries++;
          this.log.warn('stale conversation version; applying the action result again', { conversationId, attempt: staleRetries });
          const rec = await this.store.load(conversationId);
          if (!rec) throw new ConversationNotFound(conversationId);
          v = rec.version;
          r = await this.decide(readState(rec.state), resultInput, this.ctx(conversationId));
          round--;
          continue;
        }
      }
      outcome = next;
      committed = false;
      // Committed: now the effects may leave.
      if (sends.length && this.opts.onMessages) this.opts.onMessages(conversationId, sends);
      if (h) this.log.info('handoff requested', { conversationId, reason: h.reason, queue: h.queue });
      if (!action) return outcome;
      const result = await runAction(this.actions, action.action, action.args, action.timeoutMs, {
        conversationId,
        botId: this.bot.id,
        now: ctx.now,
        // Copies: an action cannot change the conversation behind the interpreter's back.
        slots: structuredClone(r.state.slots),
        vars: structuredClone(r.state.vars),
        profile: structuredClone(r.state.profile),
        log: withFields(this.log, { conversationId, action: action.action }),
      });
      resultInput = { type: 'action_result', requestId: action.requestId, ...result } as Input;
      r = await this.decide(r.state, resultInput, this.ctx(conversationId));
    }
    throw new Error(`conversation ${conversationId}: more than 50 action calls in one turn`);
  }

  private toEvents(r: TurnResult, at: string): NewEvent[] {
    return r.events.map((e) => ({ type: e.type, at, data: e.data }));
  }
}

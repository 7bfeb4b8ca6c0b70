/**
 * The conversation service: ordering, idempotency, commit-before-send, actions (errors, timeouts),
 * optimistic-concurrency retries and input checks. Uses the in-memory store, a fake intent
 * matcher (a lookup table) and the fixture shop bot; actions are plain functions.
 */
import { ConversationNotFound, ConversationService, InvalidMessageError, MAX_TEXT_LENGTH, type ServiceOptions, type TurnOutcome } from '../../src/conversation/service';
import type { ActionContext, Actions } from '../../src/conversation/actions';
import { MemoryStore } from '../../src/store/memory';
import { StaleVersionError, type CommitInput, type CommitResult, type ConversationStore, type NewEvent } from '../../src/store/port';
import type { Classification, IntentMatcher } from '../../src/nlu/port';
import type { OutMessage } from '../../src/flow/interpreter';
import { readState } from '../../src/flow/state';
import type { Logger } from '../../src/util/logger';
import type { JsonObject } from '../../src/util/json';
import { loadFixtureBot } from '../fixtures';

// ------------------------------------------------------------------ fakes

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An intent matcher that looks the text up in a table; optionally slow, to shake out ordering bugs. */
class TableMatcher implements IntentMatcher {
  readonly name = 'table';
  calls: string[] = [];
  constructor(
    private readonly table: Record<string, [string, number][]>,
    private readonly delay: (text: string) => number = () => 0,
  ) {}
  async train(): Promise<void> {}
  async classify(text: string): Promise<Classification> {
    this.calls.push(text);
    const d = this.delay(text);
    if (d) await sleep(d);
    const intents = (this.table[text.toLowerCase()] ?? []).map(([intent, score]) => ({ intent, score }));
    return { text, language: 'en', intents, top: intents[0] ?? null };
  }
  exportModel(): string {
    return '{}';
  }
  importModel(): void {}
}

const TABLE: Record<string, [string, number][]> = {
  'where is my order': [['order_status', 0.92]],
  'i want to return something': [['returns', 0.93]],
  'warranty claim': [['warranty', 0.9]],
  hi: [['builtin.greeting', 0.95]],
  thanks: [['builtin.thanks', 0.95]],
  bye: [['builtin.goodbye', 0.95]],
  'how much is shipping': [['kb.shipping-cost', 0.91]],
};

interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}
function captureLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A store wrapper that remembers what has been committed (synchronously visible) and can inject faults. */
class SpyStore implements ConversationStore {
  readonly committed: NewEvent[] = [];
  commits = 0;
  /** Runs before a commit reaches the real store (e.g. to simulate another writer). */
  beforeCommit?: (input: CommitInput, n: number) => Promise<void>;
  constructor(readonly inner: MemoryStore = new MemoryStore()) {}
  async create(input: Parameters<ConversationStore['create']>[0]) {
    const r = await this.inner.create(input);
    this.committed.push(...(input.events ?? []));
    return r;
  }
  load(id: string) {
    return this.inner.load(id);
  }
  async commit(input: CommitInput): Promise<CommitResult> {
    const n = ++this.commits;
    if (this.beforeCommit) await this.beforeCommit(input, n);
    const r = await this.inner.commit(input);
    this.committed.push(...input.events);
    return r;
  }
  events(id: string, opts?: Parameters<ConversationStore['events']>[1]) {
    return this.inner.events(id, opts);
  }
  list(opts?: Parameters<ConversationStore['list']>[0]) {
    return this.inner.list(opts);
  }
  getIdempotent(id: string, key: string) {
    return this.inner.getIdempotent(id, key);
  }
  close() {
    return this.inner.close();
  }
}

const T0 = Date.UTC(2026, 2, 10, 15, 0, 0);

function setup(opts: Partial<ServiceOptions> & { delay?: (text: string) => number } = {}) {
  const store = opts.store instanceof SpyStore ? opts.store : new SpyStore();
  const logger = captureLogger();
  const matcher = new TableMatcher(TABLE, opts.delay);
  const sent: { conversationId: string; messages: OutMessage[] }[] = [];
  let n = 0;
  let tick = 0;
  const service = new ConversationService({
    bot: loadFixtureBot('shop'),
    matcher,
    logger,
    clock: () => new Date(T0 + 1000 * tick++),
    newId: () => `id${++n}`,
    onMessages: (conversationId, messages) => sent.push({ conversationId, messages }),
    ...opts,
    store,
  });
  return { service, store, logger, matcher, sent };
}

const texts = (o: { replies: OutMessage[] }) => o.replies.map((m) => m.text);
const ORDER_Q = "What's your order number? It looks like AB-123456.";

// ------------------------------------------------------------------ basics

describe('starting and talking', () => {
  it('creates a conversation with the welcome message committed and sent', async () => {
    const { service, store, sent } = setup();
    const { conversationId, replies } = await service.create({ id: 'c1', channel: 'web', profile: { name: 'Ada' } });
    expect(conversationId).toBe('c1');
    expect(replies.map((m) => m.text)).toEqual(["Hi! I'm the Shop assistant. Ask me a question, or pick a topic below."]);
    expect(sent).toEqual([{ conversationId: 'c1', messages: replies }]);
    const events = await store.events('c1');
    expect(events.map((e) => e.type)).toEqual(['conversation_started', 'bot_message']);
    expect((await service.state('c1'))?.profile).toEqual({ name: 'Ada' });
  });

  it('answers a message and reports the intent, handoff and fallback of the turn', async () => {
    const { service } = setup();
    await service.create({ id: 'c1' });
    const r = await service.send('c1', { text: 'where is my order' });
    expect(texts(r)).toEqual([ORDER_Q]);
    expect(r).toMatchObject({ conversationId: 'c1', duplicate: false, intent: { intent: 'order_status', confidence: 0.92 }, handoff: null, fallback: false });
    expect(r.state.stack[0]).toMatchObject({ flowId: 'order_status', waiting: 'collect' });
    const f = await service.send('c1', { text: 'qwerty' });
    expect(f.intent).toBeNull();
    expect(f.fallback).toBe(false); // inside a question an unclear answer is re-asked, not a fallback
    const h = await service.send('c1', { text: 'agent', payload: 'intent:builtin.human' });
    expect(h.handoff).toEqual({ reason: 'customer_request', queue: 'support' });
  });

  it('sends a payload-only message without asking NLU', async () => {
    const { service, matcher } = setup();
    await service.create({ id: 'c1' });
    const r = await service.send('c1', { payload: 'ORDER_STATUS' });
    expect(texts(r)).toEqual([ORDER_Q]);
    expect(matcher.calls).toEqual([]);
  });

  it('history holds the customer and bot messages in order', async () => {
    const { service } = setup();
    await service.create({ id: 'c1' });
    await service.send('c1', { text: 'hi' });
    const h = await service.history('c1');
    expect(h.map((e) => e.type)).toEqual(['bot_message', 'customer_message', 'bot_message']);
    expect(h[1].data).toEqual({ text: 'hi' });
  });
});

// ------------------------------------------------------------------ ordering

describe('ordering', () => {
  it('processes messages fired at once one at a time, in arrival order, without interleaving', async () => {
    // NLU answers the first messages slowest; actions take time too: a naive implementation would reorder.
    const delays: Record<string, number> = { 'where is my order': 40, 'ab-123456': 30, hi: 20, thanks: 10, bye: 0 };
    const actions: Actions = {
      lookupOrder: async () => {
        await sleep(15);
        return { found: true, status: 'shipped', carrier: 'UPS' };
      },
    };
    const { service, store, sent } = setup({ actions, delay: (t) => delays[t.toLowerCase()] ?? 0 });
    await service.create({ id: 'c1' });
    const msgs = ['where is my order', 'AB-123456', 'hi', 'thanks', 'bye'];
    const outcomes = await Promise.all(msgs.map((text) => service.send('c1', { text })));

    expect(outcomes.map(texts)).toEqual([
      [ORDER_Q],
      ['Order AB-123456 is shipped with UPS.'],
      ['Hi! How can I help you today?'],
      ["You're welcome! Is there anything else I can help with?"],
      ['Goodbye! You can message us here any time — this conversation will be waiting.'],
    ]);

    // The log reads like the conversation: each customer message followed by its own replies.
    const log = (await store.events('c1', { types: ['customer_message', 'bot_message'] })).map((e) =>
      e.type === 'customer_message' ? `> ${e.data.text}` : `< ${(e.data.message as JsonObject).text}`,
    );
    expect(log).toEqual([
      "< Hi! I'm the Shop assistant. Ask me a question, or pick a topic below.",
      '> where is my order',
      `< ${ORDER_Q}`,
      '> AB-123456',
      '< Order AB-123456 is shipped with UPS.',
      '> hi',
      '< Hi! How can I help you today?',
      '> thanks',
      "< You're welcome! Is there anything else I can help with?",
      '> bye',
      '< Goodbye! You can message us here any time — this conversation will be waiting.',
    ]);
    // Pushed to the channel in the same order.
    expect(sent.slice(1).flatMap((s) => s.messages.map((m) => m.text))).toEqual(outcomes.flatMap(texts));
    // Event sequence numbers have no gaps.
    const all = await store.events('c1');
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));
  });

  it('runs different conversations independently', async () => {
    const { service } = setup({ delay: (t) => (t === 'hi' ? 30 : 0) });
    await service.create({ id: 'a' });
    await service.create({ id: 'b' });
    const order: string[] = [];
    await Promise.all([
      service.send('a', { text: 'hi' }).then(() => order.push('a')),
      service.send('b', { text: 'thanks' }).then(() => order.push('b')),
    ]);
    expect(order).toEqual(['b', 'a']);
  });

  it('keeps going after a failed turn', async () => {
    const { service } = setup();
    await service.create({ id: 'c1' });
    const results = await Promise.allSettled([
      service.send('c1', { text: 'hi' }),
      service.send('nope', { text: 'hi' }),
      service.send('c1', { text: 'thanks' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(ConversationNotFound);
  });
});

// ------------------------------------------------------------------ idempotency

describe('idempotency', () => {
  it('a message resent with the same clientMessageId is not processed again', async () => {
    const { service, store } = setup();
    await service.create({ id: 'c1' });
    const first = await service.send('c1', { text: 'where is my order', clientMessageId: 'm1' });
    const eventsAfterFirst = await store.events('c1');
    const again = await service.send('c1', { text: 'where is my order', clientMessageId: 'm1' });
    expect(again.duplicate).toBe(true);
    expect(again.replies).toEqual(first.replies);
    expect(again.intent).toEqual(first.intent);
    expect(again.state).toEqual(first.state);
    expect(await store.events('c1')).toEqual(eventsAfterFirst);
    expect(readState((await store.load('c1'))!.state).turns).toBe(1);
  });

  it('also when both copies arrive at the same time, and for turns that call an action', async () => {
    let calls = 0;
    const actions: Actions = { lookupOrder: async () => (++calls, { found: false }) };
    const { service, store } = setup({ actions });
    await service.create({ id: 'c1' });
    await service.send('c1', { text: 'where is my order' });
    const [a, b] = await Promise.all([
      service.send('c1', { text: 'AB-123456', clientMessageId: 'm2' }),
      service.send('c1', { text: 'AB-123456', clientMessageId: 'm2' }),
    ]);
    expect([a.duplicate, b.duplicate]).toEqual([false, true]);
    expect(texts(b)).toEqual(["I couldn't find order AB-123456."]);
    expect(b.replies).toEqual(a.replies);
    expect(calls).toBe(1);
    expect((await store.events('c1', { types: ['customer_message'] })).length).toBe(2);
  });

  it('the same clientMessageId in another conversation is a different message', async () => {
    const { service } = setup();
    await service.create({ id: 'a' });
    await service.create({ id: 'b' });
    await service.send('a', { text: 'hi', clientMessageId: 'm1' });
    expect((await service.send('b', { text: 'hi', clientMessageId: 'm1' })).duplicate).toBe(false);
  });
});

// ------------------------------------------------------------------ commit before send

describe('commit before send', () => {
  it('hands messages to the channel only after their events are stored', async () => {
    const store = new SpyStore();
    const checks: boolean[] = [];
    const { service } = setup({
      store,
      onMessages: (_id, messages) => {
        const stored = new Set(store.committed.filter((e) => e.type === 'bot_message').map((e) => (e.data.message as JsonObject).id));
        checks.push(messages.every((m) => stored.has(m.id)));
      },
      actions: { lookupOrder: async () => ({ found: true, status: 'late', carrier: 'DHL' }) },
    });
    await service.create({ id: 'c1' });
    await service.send('c1', { text: 'where is my order' });
    await service.send('c1', { text: 'AB-123456' });
    expect(checks).toEqual([true, true, true]);
  });

  it('an action runs after the turn that asked for it is committed, and sees that state', async () => {
    const store = new SpyStore();
    let seen: { version: number; waiting: unknown; requested: boolean; ctx: Partial<ActionContext> } | undefined;
    const actions: Actions = {
      lookupOrder: async (args, ctx) => {
        const rec = (await store.load(ctx.conversationId))!;
        const events = await store.events(ctx.conversationId);
        seen = {
          version: rec.version,
          waiting: readState(rec.state).stack[0]?.waiting,
          requested: events.some((e) => e.type === 'action_requested' && e.data.action === 'lookupOrder'),
          ctx: { botId: ctx.botId, slots: ctx.slots },
        };
        expect(args).toEqual({ orderId: 'AB-123456' });
        return { found: false };
      },
    };
    const { service } = setup({ store, actions });
    await service.create({ id: 'c1' });
    await service.send('c1', { text: 'where is my order' });
    await service.send('c1', { text: 'AB-123456' });
    expect(seen).toEqual({ version: 3, waiting: 'action', requested: true, ctx: { botId: 'shop', slots: { order_id: 'AB-123456' } } });
    expect((await store.load('c1'))!.version).toBe(4);
  });
});

// ------------------------------------------------------------------ actions

describe('actions that fail', () => {
  async function toLabel(service: ConversationService) {
    await service.create({ id: 'c1' });
    await service.send('c1', { text: 'I want to return something' });
    await service.send('c1', { text: 'ada@example.com' });
    return service.send('c1', { text: 'damaged' });
  }

  it('a throwing action takes the error branch, is logged with the conversation id, and the conversation goes on', async () => {
    const { service, store, logger } = setup({
      actions: {
        createLabel: () => {
          throw new Error('printer on fire');
        },
      },
    });
    const r = await toLabel(service);
    expect(texts(r)).toEqual(['Sorry it arrived damaged!', "I couldn't create a label right now."]);
    const failed = (await store.events('c1', { types: ['action_failed'] }))[0].data;
    expect(failed).toMatchObject({ action: 'createLabel', error: 'printer on fire', code: 'action_error' });
    const err = logger.lines.find((l) => l.level === 'error');
    expect(err).toMatchObject({ msg: 'action failed', fields: { conversationId: 'c1', action: 'createLabel', bot: 'shop' } });
    expect((err!.fields.error as Error).message).toBe('printer on fire');
    // Still alive.
    expect(texts(await service.send('c1', { text: 'hi' }))).toEqual(['Hi! How can I help you today?']);
  });

  it('an action that never answers is timed out, aborted and takes the error branch', async () => {
    let signal: AbortSignal | undefined;
    const { service, store } = setup({
      actions: {
        createLabel: (_args, ctx) => {
          signal = ctx.signal;
          return new Promise(() => {});
        },
      },
    });
    const started = Date.now();
    const r = await toLabel(service);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(texts(r)).toEqual(['Sorry it arrived damaged!', "I couldn't create a label right now."]);
    expect(signal?.aborted).toBe(true);
    const failed = (await store.events('c1', { types: ['action_failed'] }))[0].data;
    expect(failed).toMatchObject({ action: 'createLabel', code: 'timeout', error: 'action "createLabel" did not answer within 300 ms' });
  });

  it('an action that is not loaded fails like any other', async () => {
    const { service } = setup({ actions: {} });
    await service.create({ id: 'c1' });
    const r = await service.send('c1', { text: 'warranty claim' });
    expect(texts(r)).toEqual(['Sorry, something went wrong on our side.', "I'm sorry, I'm having trouble helping with this. Would you like me to connect you with a person?"]);
  });

  it('an action whose result is not JSON fails instead of corrupting the state', async () => {
    const { service } = setup({ actions: { checkWarranty: () => ({ covered: 10n }) } });
    await service.create({ id: 'c1' });
    const r = await service.send('c1', { text: 'warranty claim' });
    expect(texts(r)[0]).toBe('Sorry, something went wrong on our side.');
  });

  it('a successful action result ends up in the state and the reply', async () => {
    const { service } = setup({ actions: { createLabel: async (args) => ({ code: `L-${String(args.reason)}` }) } });
    const r = await toLabel(service);
    expect(texts(r)).toEqual(['Sorry it arrived damaged!', 'Label L-damaged (RMA-ADA@EXAMPLE.COM) is on its way to ada@example.com.', 'Would you like store credit instead of a refund?']);
    expect(r.state.vars.label).toEqual({ code: 'L-damaged' });
  });
});

// ------------------------------------------------------------------ concurrency

describe('a concurrent writer', () => {
  /** Another process appends an event to the conversation just before our `n`-th commit. */
  function interfere(store: SpyStore, n: number) {
    store.beforeCommit = async (input, count) => {
      if (count !== n) return;
      const rec = (await store.inner.load(input.id))!;
      await store.inner.commit({ id: input.id, expectedVersion: rec.version, state: rec.state, events: [{ type: 'agent_note', at: input.at, data: { note: 'hello from elsewhere' } }], at: input.at });
    };
  }

  it('a stale version is retried on fresh state, and nothing is lost or doubled', async () => {
    const store = new SpyStore();
    const { service, logger } = setup({ store });
    await service.create({ id: 'c1' });
    interfere(store, 1);
    const r = await service.send('c1', { text: 'where is my order' });
    expect(texts(r)).toEqual([ORDER_Q]);
    const types = (await store.events('c1')).map((e) => e.type);
    expect(types.filter((t) => t === 'customer_message')).toHaveLength(1);
    expect(types.indexOf('agent_note')).toBeLessThan(types.indexOf('customer_message'));
    expect(logger.lines.some((l) => l.level === 'warn' && l.fields.conversationId === 'c1')).toBe(true);
  });

  it('a stale version after an action does not process the message or call the action twice', async () => {
    const store = new SpyStore();
    let calls = 0;
    const { service } = setup({ store, actions: { lookupOrder: async () => (++calls, { found: true, status: 'shipped', carrier: 'UPS' }) } });
    await service.create({ id: 'c1' });
    await service.send('c1', { text: 'where is my order' });
    interfere(store, store.commits + 2); // between the "call the action" commit and the "result" commit
    const r = await service.send('c1', { text: 'AB-123456', clientMessageId: 'm9' });
    expect(texts(r)).toEqual(['Order AB-123456 is shipped with UPS.']);
    expect(calls).toBe(1);
    const events = await store.events('c1');
    expect(events.filter((e) => e.type === 'customer_message').map((e) => e.data.text)).toEqual(['where is my order', 'AB-123456']);
    expect(events.filter((e) => e.type === 'action_requested')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'flow_ended')).toHaveLength(1);
    expect(readState((await store.load('c1'))!.state).stack).toEqual([]);
    expect((await service.send('c1', { text: 'AB-123456', clientMessageId: 'm9' })).duplicate).toBe(true);
  });

  it('gives up after too many stale versions in a row', async () => {
    const store = new SpyStore();
    const { service } = setup({ store, maxStaleRetries: 2 });
    await service.create({ id: 'c1' });
    store.beforeCommit = async (input) => {
      throw new StaleVersionError(input.id, input.expectedVersion, input.expectedVersion + 1);
    };
    await expect(service.send('c1', { text: 'hi' })).rejects.toBeInstanceOf(StaleVersionError);
    expect(store.commits).toBe(3);
  });
});

// ------------------------------------------------------------------ input checks

describe('invalid messages', () => {
  let service: ConversationService;
  beforeEach(async () => {
    service = setup().service;
    await service.create({ id: 'c1' });
  });

  it.each([
    ['no text and no payload', {}],
    ['empty text', { text: '' }],
    ['only whitespace', { text: '  \n\t ' }],
    ['too long', { text: 'x'.repeat(MAX_TEXT_LENGTH + 1) }],
  ])('rejects a message with %s', async (_what, msg) => {
    await expect(service.send('c1', msg)).rejects.toBeInstanceOf(InvalidMessageError);
    expect((await service.history('c1')).filter((e) => e.type === 'customer_message')).toEqual([]);
  });

  it('the error says what is wrong', async () => {
    await expect(service.send('c1', { text: 'x'.repeat(MAX_TEXT_LENGTH + 1) })).rejects.toMatchObject({
      code: 'invalid_message',
      message: `message text is ${MAX_TEXT_LENGTH + 1} characters; the limit is ${MAX_TEXT_LENGTH}`,
    });
  });

  it('accepts a message of exactly the maximum length', async () => {
    const r: TurnOutcome = await service.send('c1', { text: 'x'.repeat(MAX_TEXT_LENGTH) });
    expect(r.duplicate).toBe(false);
  });

  it('rejects a message to a conversation that does not exist', async () => {
    await expect(service.send('missing', { text: 'hi' })).rejects.toBeInstanceOf(ConversationNotFound);
  });
});

/**
 * Handoff in the pure interpreter: every trigger (configurable offer vs direct handoff, queue,
 * priority, machine-readable reason), availability messages, agent inputs, hand back with the
 * after-handoff flow, and silence while a person owns the conversation. Time comes from ctx.now.
 */
import * as path from 'path';
import { interpret, type Context, type Effect, type Input, type QueueAvailability, type TurnResult, type Understanding } from '../../src/flow/interpreter';
import { initialState, type ConversationState } from '../../src/flow/state';
import type { Bot } from '../../src/flow/model';
import { loadBotOrThrow } from '../../src/flow/loader';
import { loadFixtureBot } from '../fixtures';

const NOW = '2026-03-10T15:00:00.000Z';
const SAM = { id: 'a1', name: 'Sam' };

function withHandoff(base: Bot, handoff: Record<string, unknown>): Bot {
  const b = structuredClone(base);
  b.config.handoff = { ...b.config.handoff, ...handoff } as Bot['config']['handoff'];
  return b;
}

class Convo {
  state: ConversationState = initialState({ channel: 'web', profile: { name: 'Ada' } });
  last!: TurnResult;
  n = 0;
  constructor(
    readonly bot: Bot,
    readonly availability?: (q: string) => QueueAvailability | undefined,
    public now = NOW,
  ) {}
  ctx(): Context {
    return { now: this.now, today: this.now.slice(0, 10), newId: () => `id${++this.n}`, conversationId: 'c1', ...(this.availability ? { availability: this.availability } : {}) };
  }
  input(i: Input): TurnResult {
    this.last = interpret(this.bot, this.state, i, this.ctx());
    this.state = this.last.state;
    return this.last;
  }
  say(text: string, intents: [string, number][] = [], sentiment?: number): TurnResult {
    const nlu: Understanding = { intents: intents.map(([intent, score]) => ({ intent, score })), ...(sentiment !== undefined ? { sentiment: { score: sentiment, vote: sentiment < 0 ? 'negative' : 'positive' } } : {}) };
    return this.input({ type: 'message', text, nlu });
  }
  agent(action: 'join' | 'message' | 'note' | 'transfer' | 'resolve' | 'handback', extra: Record<string, unknown> = {}): TurnResult {
    return this.input({ type: 'agent', action, agent: SAM, ...extra } as Input);
  }
}

const texts = (r: TurnResult) => r.effects.filter((e): e is Extract<Effect, { type: 'send' }> => e.type === 'send').map((e) => e.message.text ?? '');
const handoffOf = (r: TurnResult) => r.effects.find((e): e is Extract<Effect, { type: 'handoff' }> => e.type === 'handoff');
const events = (r: TurnResult, type: string) => r.events.filter((e) => e.type === type).map((e) => e.data);

let shop: Bot;
beforeAll(() => {
  shop = loadFixtureBot('shop');
});

describe('handoff triggers (bot.yaml handoff.triggers)', () => {
  it('customer request: reason customer_request, routed by the trigger', () => {
    const c = new Convo(withHandoff(shop, { triggers: { customerRequest: { queue: 'vip', priority: 3 } } }));
    const r = c.say('a person please', [['builtin.human', 0.95]]);
    expect(handoffOf(r)).toEqual({ type: 'handoff', reason: 'customer_request', queue: 'vip', priority: 3 });
    expect(c.state.handoff).toMatchObject({ reason: 'customer_request', queue: 'vip', priority: 3, at: NOW, agent: null });
  });

  it('repeated fallbacks: offers a person by default, hands off directly when configured', () => {
    const offer = new Convo(shop);
    offer.say('blah');
    const r1 = offer.say('blah blah');
    expect(events(r1, 'handoff_offered')).toEqual([{ reason: 'repeated_fallback' }]);
    const direct = new Convo(withHandoff(shop, { triggers: { fallbacks: { after: 3, action: 'handoff', queue: 'tier2' } } }));
    direct.say('blah');
    expect(handoffOf(direct.say('blah blah'))).toBeUndefined();
    expect(handoffOf(direct.say('blah blah blah'))).toEqual({ type: 'handoff', reason: 'repeated_fallback', queue: 'tier2', priority: 0 });
  });

  it('repeated low confidence: N routed messages in a row below the bar', () => {
    const c = new Convo(withHandoff(shop, { triggers: { lowConfidence: { below: 0.95, after: 3, action: 'handoff' } } }));
    c.say('shipping?', [['kb.shipping-cost', 0.8]]);
    c.say('shipping cost?', [['kb.shipping-cost', 0.85]]);
    const r = c.say('how much is shipping to Peru', [['kb.shipping-cost', 0.9]]);
    expect(events(r, 'low_confidence')).toEqual([{ confidence: 0.9, count: 3 }]);
    expect(handoffOf(r)).toMatchObject({ reason: 'low_confidence' });
    // A confident message in between resets the count.
    const d = new Convo(withHandoff(shop, { triggers: { lowConfidence: { below: 0.95, after: 2, action: 'offer' } } }));
    d.say('shipping?', [['kb.shipping-cost', 0.8]]);
    d.say('shipping cost', [['kb.shipping-cost', 0.99]]);
    expect(events(d.say('shipping?', [['kb.shipping-cost', 0.8]]), 'handoff_offered')).toEqual([]);
    expect(events(d.say('shipping?', [['kb.shipping-cost', 0.8]]), 'handoff_offered')).toEqual([{ reason: 'low_confidence' }]);
  });

  it('strongly negative sentiment: off unless configured; offer or handoff with its own priority', () => {
    expect(events(new Convo(shop).say('this is awful', [], -2), 'negative_sentiment')).toEqual([]);
    const c = new Convo(withHandoff(shop, { triggers: { negativeSentiment: { below: -0.75, after: 1, action: 'handoff', priority: 2 } } }));
    expect(handoffOf(c.say('meh', [], -0.5))).toBeUndefined();
    const r = c.say('I hate this useless shop', [], -1);
    expect(handoffOf(r)).toEqual({ type: 'handoff', reason: 'negative_sentiment', queue: 'support', priority: 2 });
    const o = new Convo(withHandoff(shop, { triggers: { negativeSentiment: { below: -0.75, after: 2, action: 'offer' } } }));
    o.say('terrible', [], -1);
    const r2 = o.say('terrible!!', [], -1);
    expect(events(r2, 'handoff_offered')).toEqual([{ reason: 'negative_sentiment' }]);
    expect(handoffOf(o.say('yes'))).toMatchObject({ reason: 'negative_sentiment' });
  });

  it("a slot's max attempts: offer by default, direct handoff when configured", () => {
    const c = new Convo(withHandoff(shop, { triggers: { maxAttempts: { action: 'handoff', queue: 'orders' } } }));
    c.say('where is my order', [['order_status', 0.95]]);
    c.say('no idea');
    const r = c.say('still no idea');
    expect(handoffOf(r)).toEqual({ type: 'handoff', reason: 'max_attempts', queue: 'orders', priority: 0 });
    expect(events(r, 'handoff')[0]).toMatchObject({ flow: 'order_status' });
  });

  it("a custom action's failure (without onError): offer, or handoff when configured", () => {
    const c = new Convo(withHandoff(shop, { triggers: { actionFailure: { action: 'handoff', priority: 1 } } }));
    const r0 = c.say('warranty claim', [['warranty', 0.95]]);
    const call = r0.effects.find((e): e is Extract<Effect, { type: 'call_action' }> => e.type === 'call_action')!;
    const r = c.input({ type: 'action_result', requestId: call.requestId, ok: false, error: 'down', code: 'timeout' });
    expect(handoffOf(r)).toEqual({ type: 'handoff', reason: 'action_failed', queue: 'support', priority: 1 });
    expect(events(r, 'handoff')[0]).toMatchObject({ flow: 'warranty' });
  });

  it('a handoff step keeps its own reason and queue; flowStep sets the priority', () => {
    const c = new Convo(withHandoff(shop, { triggers: { flowStep: { priority: 4 } } }));
    const r0 = c.say('warranty claim', [['warranty', 0.95]]);
    const call = r0.effects.find((e): e is Extract<Effect, { type: 'call_action' }> => e.type === 'call_action')!;
    const r = c.input({ type: 'action_result', requestId: call.requestId, ok: true, value: { covered: true } });
    expect(handoffOf(r)).toEqual({ type: 'handoff', reason: 'warranty_claim', queue: 'claims', priority: 4 });
    expect(texts(r)).toEqual(["I'm passing your claim to our claims team."]);
  });
});

describe('availability at handoff time', () => {
  it('outside opening hours says when the team is back; nobody online says so; both say the customer can leave', () => {
    const closed = new Convo(shop, () => ({ open: false, agentsOnline: 3, opensAt: 'tomorrow at 8:00 AM EST' }));
    const r = closed.say('a person', [['builtin.human', 0.95]]);
    expect(texts(r)).toEqual([expect.stringContaining("we're back tomorrow at 8:00 AM EST")]);
    expect(texts(r)[0]).toContain('you can close this page');
    expect(events(r, 'handoff')[0]).toMatchObject({ open: false, agentsOnline: 3 });
    const nobody = new Convo(shop, () => ({ open: true, agentsOnline: 0, opensAt: null }));
    expect(texts(nobody.say('a person', [['builtin.human', 0.95]]))).toEqual([expect.stringContaining('away from their desk')]);
    const fine = new Convo(shop, () => ({ open: true, agentsOnline: 2, opensAt: null }));
    expect(texts(fine.say('a person', [['builtin.human', 0.95]]))[0]).toContain("I'm connecting you with a person");
  });
});

describe('agent inputs', () => {
  function handedOff(b = shop) {
    const c = new Convo(b);
    c.say('a person', [['builtin.human', 0.95]]);
    return c;
  }

  it('join shows who joined; messages are from the agent; notes are never sent', () => {
    const c = handedOff();
    const j = c.agent('join');
    expect(events(j, 'agent_joined')).toEqual([{ agent: SAM }]);
    expect(texts(j)).toEqual(['Sam from our team has joined the conversation.']);
    expect(j.events.find((e) => e.type === 'bot_message')!.data.notice).toBe('agent_joined');
    expect(c.agent('join').events).toEqual([]); // already joined
    const m = c.agent('message', { text: 'Hi Ada', clientMessageId: 'x1' });
    expect(m.effects).toEqual([{ type: 'send', message: { id: expect.any(String), text: 'Hi Ada', agent: SAM } }]);
    expect(events(m, 'agent_message')).toEqual([{ message: { id: expect.any(String), text: 'Hi Ada' }, agent: SAM, clientMessageId: 'x1' }]);
    const n = c.agent('note', { text: 'internal' });
    expect(n.effects).toEqual([]);
    expect(events(n, 'agent_note')).toEqual([{ id: expect.any(String), text: 'internal', agent: SAM }]);
  });

  it('the bot stays silent while a person owns the conversation (no acknowledgement once an agent joined)', () => {
    const c = handedOff();
    c.agent('join');
    for (const t of ['hello?', 'where is my order', 'start over', 'a person']) expect(c.say(t, [['order_status', 0.99]]).effects).toEqual([]);
    expect(c.state.status).toBe('handed_off');
  });

  it('transfer to a queue clears the agent; to an agent shows the new agent', () => {
    const c = handedOff();
    c.agent('join');
    const q = c.agent('transfer', { queue: 'billing' });
    expect(c.state.handoff).toMatchObject({ queue: 'billing', agent: null });
    expect(events(q, 'transferred')).toEqual([{ by: SAM, from: SAM, to: { queue: 'billing' } }]);
    const a = c.agent('transfer', { to: { id: 'a2', name: 'Kim' } });
    expect(texts(a)).toEqual(['Kim from our team has joined the conversation.']);
    expect(c.state.handoff!.agent).toEqual({ id: 'a2', name: 'Kim' });
  });

  it('resolve closes the conversation; the next message reopens it with the bot', () => {
    const c = handedOff();
    c.agent('join');
    const r = c.agent('resolve');
    expect(events(r, 'conversation_resolved')).toEqual([{ by: SAM }]);
    expect(c.state).toMatchObject({ status: 'resolved', resolvedAt: NOW, handoff: null });
    const next = c.say('where is my order', [['order_status', 0.95]]);
    expect(texts(next).length).toBeGreaterThan(0);
    expect(c.state.status).toBe('active');
  });

  it('hand back starts handoff.afterFlow; its answer is recorded as an event (acme: csat)', () => {
    const acme = loadBotOrThrow(path.join(__dirname, '..', '..', 'bots', 'acme')).bot;
    const c = new Convo(acme);
    c.say('a person', [['builtin.human', 0.95]]);
    c.say('Payments');
    expect(c.state.status).toBe('handed_off');
    c.agent('join');
    const hb = c.agent('handback');
    expect(events(hb, 'handed_back')).toEqual([{ by: SAM, flow: 'satisfaction' }]);
    expect(texts(hb)).toEqual([expect.stringContaining('How would you rate the help you got')]);
    const bad = c.say('dunno');
    expect(texts(bad)).toEqual(['Please pick a number from 1 to 5.']);
    const r = c.say('4');
    expect(events(r, 'csat')).toEqual([{ rating: 4, flow: 'satisfaction' }]);
    expect(c.state.status).toBe('resolved');
    // Hand back without a flow: the bot says it is back.
    const d = new Convo(acme);
    d.say('a person', [['builtin.human', 0.95]]);
    d.say('Payments');
    expect(texts(d.agent('handback', { flow: null }))).toEqual([expect.stringContaining("You're back with the Acme Store assistant")]);
  });

  it('actions other than notes need a handed-off conversation', () => {
    const c = new Convo(shop);
    for (const action of ['join', 'message', 'transfer', 'resolve', 'handback'] as const) {
      const r = c.agent(action, { text: 'x' });
      expect(events(r, 'agent_action_ignored')).toEqual([{ action, agent: SAM, reason: 'not_handed_off' }]);
      expect(r.effects).toEqual([]);
    }
    expect(events(c.agent('note', { text: 'fine' }), 'agent_note')).toHaveLength(1);
  });
});

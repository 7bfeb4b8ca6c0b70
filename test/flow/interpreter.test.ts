/**
 * The flow interpreter, driven directly: a loaded fixture bot (test/fixtures/bots/shop), hand-made
 * NLU results, no I/O. Every test reads like a conversation and checks what the customer would
 * see (messages, quick replies) and what the log would say (events).
 */
import { interpret, MAX_STEPS_PER_TURN, type Context, type Effect, type Input, type OutMessage, type TurnResult, type Understanding } from '../../src/flow/interpreter';
import { initialState, type ConversationState } from '../../src/flow/state';
import type { Bot, Flow } from '../../src/flow/model';
import type { JsonObject, JsonValue } from '../../src/util/json';
import { loadFixtureBot } from '../fixtures';

// ------------------------------------------------------------------ helpers

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

let bot: Bot;
beforeAll(() => {
  // Frozen: the interpreter must never modify the compiled bot.
  bot = deepFreeze(loadFixtureBot('shop'));
});

const NOW = '2026-03-10T15:00:00.000Z';

function makeCtx(prefix = 'id'): Context {
  let n = 0;
  return { now: NOW, today: '2026-03-10', newId: () => `${prefix}${++n}`, conversationId: 'conv-1' };
}

type Scores = [string, number][];
const nlu = (...scores: Scores): Understanding => ({ intents: scores.map(([intent, score]) => ({ intent, score })) });

const sends = (r: TurnResult): OutMessage[] => r.effects.filter((e): e is Extract<Effect, { type: 'send' }> => e.type === 'send').map((e) => e.message);
const texts = (r: TurnResult): string[] => sends(r).map((m) => m.text ?? '');
const types = (r: TurnResult): string[] => r.events.map((e) => e.type);
const eventsOf = (r: TurnResult, type: string): JsonObject[] => r.events.filter((e) => e.type === type).map((e) => e.data);
const actionCall = (r: TurnResult) => r.effects.find((e): e is Extract<Effect, { type: 'call_action' }> => e.type === 'call_action');
const handoffEffect = (r: TurnResult) => r.effects.find((e): e is Extract<Effect, { type: 'handoff' }> => e.type === 'handoff');
const top = (s: ConversationState) => s.stack[s.stack.length - 1];

const ORDER_Q = "What's your order number? It looks like AB-123456.";
const ORDER_REPROMPT = "That doesn't look like an order number. It has two letters, a dash and six digits, like AB-123456.";
const REASON_Q = 'Why are you returning it?';
const EMAIL_Q = "What's the email address on your account?";
const OFFER = "I'm sorry, I'm having trouble helping with this. Would you like me to connect you with a person?";
const HANDOFF = "I'm connecting you with a person from our team. They'll reply right here — you can leave and come back at any time.";
const RESUME = 'Now, back to where we were.';
const SORRY = 'Sorry, something went wrong on our side.';

/** A conversation with the fixture bot: keeps the state between turns, like the service does. */
class Convo {
  state: ConversationState;
  last!: TurnResult;
  readonly ctx: Context;
  constructor(state: ConversationState = initialState({ channel: 'test', profile: { name: 'Ada' } }), readonly theBot: Bot = bot) {
    this.state = state;
    this.ctx = makeCtx();
  }
  input(input: Input): TurnResult {
    this.last = interpret(this.theBot, this.state, input, this.ctx);
    this.state = this.last.state;
    return this.last;
  }
  /** The customer writes `text`; `scores` is what NLU thought of it. */
  say(text: string, scores: Scores = [], payload?: string): TurnResult {
    return this.input({ type: 'message', text, payload, nlu: scores.length ? nlu(...scores) : { intents: [] } });
  }
  click(payload: string, title = payload): TurnResult {
    return this.input({ type: 'message', text: title, payload, nlu: null });
  }
  /** The pending action answers. */
  actionOk(value: JsonValue): TurnResult {
    const call = actionCall(this.last);
    if (!call) throw new Error('no action call is pending in the last turn');
    return this.input({ type: 'action_result', requestId: call.requestId, ok: true, value });
  }
  actionFails(error = 'boom', code?: string): TurnResult {
    const call = actionCall(this.last);
    if (!call) throw new Error('no action call is pending in the last turn');
    return this.input({ type: 'action_result', requestId: call.requestId, ok: false, error, code });
  }
}

/** Start the returns flow and get past its email sub-flow; the bot then asks for the reason. */
function startReturn(c = new Convo()): Convo {
  c.say('I want to return something', [['returns', 0.93]]);
  expect(texts(c.last)).toEqual([EMAIL_Q]);
  c.say('it is ada@example.com');
  expect(texts(c.last)).toEqual(["Thanks, I'll use ada@example.com.", REASON_Q]);
  return c;
}

// ------------------------------------------------------------------ start

describe('starting a conversation', () => {
  it('greets with the welcome message (rendered with the bot name) and records the start', () => {
    const r = new Convo().input({ type: 'start' });
    expect(texts(r)).toEqual(["Hi! I'm the Shop assistant. Ask me a question, or pick a topic below."]);
    expect(types(r)).toEqual(['conversation_started', 'bot_message']);
    expect(r.events[0].data).toEqual({ channel: 'test' });
    expect(r.state.stack).toEqual([]);
  });

  it('runs the welcome flow when the bot has one', () => {
    const withWelcome: Bot = { ...bot, welcomeFlow: 'survey' };
    const r = new Convo(undefined, withWelcome).input({ type: 'start' });
    expect(texts(r)).toEqual(["Hi! I'm the Shop assistant. Ask me a question, or pick a topic below.", 'From 1 to 5, how happy are you with us?']);
    expect(eventsOf(r, 'flow_started')).toEqual([{ flow: 'survey', via: 'welcome', kind: 'main' }]);
  });
});

// ------------------------------------------------------------------ say / collect

describe('collecting a slot', () => {
  it('starts the flow of a confident intent and asks its first question', () => {
    const c = new Convo();
    const r = c.say('where is my order', [['order_status', 0.91], ['returns', 0.2]]);
    expect(texts(r)).toEqual([ORDER_Q]);
    expect(types(r)).toEqual(['customer_message', 'nlu', 'routed', 'flow_started', 'bot_message']);
    expect(eventsOf(r, 'routed')).toEqual([{ intent: 'order_status', confidence: 0.91, via: 'nlu', digression: false }]);
    expect(eventsOf(r, 'flow_started')).toEqual([{ flow: 'order_status', via: 'nlu', kind: 'main' }]);
    expect(top(r.state)).toMatchObject({ flowId: 'order_status', waiting: 'collect', attempts: 0, kind: 'main' });
    expect(r.state.lastIntent).toEqual({ intent: 'order_status', confidence: 0.91 });
    expect(r.state.turns).toBe(1);
  });

  it('accepts an answer with extra words and normalises it', () => {
    const c = new Convo();
    c.say('where is my order', [['order_status', 0.91]]);
    const r = c.say("sure, it's ab-123456 thanks");
    expect(r.state.slots.order_id).toBe('AB-123456');
    expect(eventsOf(r, 'slot_filled')).toEqual([{ flow: 'order_status', slot: 'order_id', value: 'AB-123456', source: 'answer' }]);
    expect(texts(r)).toEqual([]); // the next step is an action call: nothing to say yet
    expect(actionCall(r)).toEqual({ type: 'call_action', requestId: expect.any(String), action: 'lookupOrder', args: { orderId: 'AB-123456' }, timeoutMs: 5000 });
  });

  it('re-asks with the reprompt, then after maxAttempts says so, ends the flow and offers a person', () => {
    const c = new Convo();
    c.say('where is my order', [['order_status', 0.91]]);
    let r = c.say('I do not know it');
    expect(texts(r)).toEqual([ORDER_REPROMPT]);
    expect(eventsOf(r, 'slot_rejected')).toEqual([{ flow: 'order_status', slot: 'order_id', reason: 'no_value', attempts: 1 }]);
    expect(top(r.state).attempts).toBe(1);

    r = c.say('no idea, sorry');
    expect(texts(r)).toEqual(["Sorry, I still couldn't understand that.", OFFER]);
    expect(sends(r)[1].quickReplies).toEqual([{ title: 'Yes' }, { title: 'No' }]);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'order_status', outcome: 'unresolved' }]);
    expect(eventsOf(r, 'handoff_offered')).toEqual([{ reason: 'max_attempts' }]);
    expect(r.state.stack).toEqual([]);
    expect(r.state.pending).toEqual({ kind: 'handoff_offer', reason: 'max_attempts' });

    r = c.say('yes please');
    expect(texts(r)).toEqual([HANDOFF]);
    expect(handoffEffect(r)).toEqual({ type: 'handoff', reason: 'max_attempts', queue: 'support', priority: 0 });
    expect(r.state.status).toBe('handed_off');
  });

  it('continues at the `onMaxAttempts` step instead of offering a person when the slot names one', () => {
    const c = startReturn();
    let r = c.say('bananas');
    expect(texts(r)).toEqual([REASON_Q]); // no reprompt defined: the prompt is asked again
    expect(sends(r)[0].quickReplies).toEqual([{ title: 'Damaged' }, { title: 'Wrong size' }, { title: 'Changed my mind' }]);
    r = c.say('more bananas');
    expect(texts(r)).toEqual(["Sorry, I still couldn't understand that.", 'No problem, our team will ask you about the reason later.']);
    expect(r.events.some((e) => e.type === 'handoff_offered')).toBe(false);
    expect(top(r.state)).toMatchObject({ flowId: 'returns', waiting: 'action' });
    expect(actionCall(r)?.args).toEqual({ email: 'ada@example.com', reason: null, copies: 2 });
  });

  it('fills a slot from the message that started the flow and does not ask for it', () => {
    const c = new Convo();
    const r = c.say('where is my order AB-123456?', [['order_status', 0.88]]);
    expect(eventsOf(r, 'slot_filled')).toEqual([{ flow: 'order_status', slot: 'order_id', value: 'AB-123456', source: 'trigger' }]);
    expect(texts(r)).toEqual([]);
    expect(actionCall(r)?.args).toEqual({ orderId: 'AB-123456' });
  });

  it('does not take a value from the trigger for a slot with `fromTrigger: false`', () => {
    const c = new Convo();
    const r = c.say('sign me up, I am 30 and my code is PROMO123', [['signup', 0.9]]);
    expect(r.state.slots.age).toBe(30);
    expect(r.state.slots.budget).toBeUndefined(); // the same "30" does not also fill the budget
    expect(r.state.slots.promo).toBeUndefined();
    expect(texts(r)).toEqual(["What's your name?"]);
    c.say('Ada Lovelace');
    expect(texts(c.last)).toEqual(["What's your monthly budget in dollars?"]); // age was not asked
  });

  it('forgets the slots of a previous run when the flow starts again', () => {
    const c = new Convo();
    c.say('where is my order AB-123456', [['order_status', 0.9]]);
    c.actionOk({ found: false });
    const r = c.say('where is my order', [['order_status', 0.9]]);
    expect(r.state.slots.order_id).toBeUndefined();
    expect(texts(r)).toEqual([ORDER_Q]);
  });
});

describe('every slot type, end to end', () => {
  it('collects text, integer, number, email, phone, date, yes/no, choice and pattern answers', () => {
    const c = new Convo();
    c.say('sign me up', [['signup', 0.9]]);
    const answers: [string, string][] = [
      ['Ada Lovelace', 'How old are you?'],
      ['I am 36', "What's your monthly budget in dollars?"],
      ['about $1,200.50', 'Your email address?'],
      ['ADA@Example.com', 'Your phone number?'],
      ['+1 (555) 010-9999', 'When were you born?'],
      ['10 December 1990', 'Would you like our newsletter?'],
      ['yes please', 'Basic or premium?'],
      ['the best one', 'Your promo code?'],
    ];
    for (const [answer, next] of answers) expect(texts(c.say(answer))).toEqual([next]);
    const r = c.say('promo123');
    expect(r.state.slots).toEqual({
      full_name: 'Ada Lovelace',
      age: 36,
      budget: 1200.5,
      contact_email: expect.stringMatching(/^ada@example\.com$/i),
      phone: '+15550109999',
      birthday: '1990-12-10',
      newsletter: true,
      plan: 'premium',
      promo: 'PROMO123',
    });
    expect(texts(r)).toEqual([`Ada Lovelace|36|1200.5|${r.state.slots.contact_email}|+15550109999|1990-12-10|true|premium|PROMO123`]);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'signup', outcome: 'resolved' }]);
    expect(r.state.stack).toEqual([]);
  });

  it('rejects answers that break the slot rules and says the slot reprompt', () => {
    const c = new Convo();
    c.say('sign me up', [['signup', 0.9]]);
    c.say('Ada');
    let r = c.say('12');
    expect(eventsOf(r, 'slot_rejected')).toEqual([{ flow: 'signup', slot: 'age', reason: 'out_of_range', attempts: 1 }]);
    expect(texts(r)).toEqual(['Please give your age as a number from 18 to 120.']);
    r = c.say('40');
    expect(r.state.slots.age).toBe(40);
    r = c.say('-5');
    expect(eventsOf(r, 'slot_rejected')[0]).toMatchObject({ slot: 'budget', reason: 'out_of_range' });
    expect(texts(r)).toEqual(["What's your monthly budget in dollars?"]);
  });

  it('rejects a text answer that is too short', () => {
    const c = new Convo();
    c.say('sign me up', [['signup', 0.9]]);
    const r = c.say('A');
    expect(eventsOf(r, 'slot_rejected')[0]).toMatchObject({ slot: 'full_name', reason: 'too_short' });
    expect(r.state.slots.full_name).toBeUndefined();
  });

  it('rejects a birthday in the future for a `past: true` date slot', () => {
    const c = new Convo();
    c.say('sign me up', [['signup', 0.9]]);
    for (const a of ['Ada', '36', '100', 'ada@example.com', '+1 555 010 9999']) c.say(a);
    const r = c.say('next Friday');
    expect(eventsOf(r, 'slot_rejected')[0]).toMatchObject({ slot: 'birthday' });
    expect(r.state.slots.birthday).toBeUndefined();
  });

  it('takes a choice answer from a quick reply title and a synonym', () => {
    const c = startReturn();
    const r = c.say('Wrong size');
    expect(r.state.slots.reason).toBe('wrong_size');
    const c2 = startReturn();
    expect(c2.say('it was too big').state.slots.reason).toBe('wrong_size');
  });
});

// ------------------------------------------------------------------ if / set / call

describe('conditions, variables and actions', () => {
  it('calls the action, stores its result in vars and takes the `then` branch', () => {
    const c = new Convo();
    c.say('where is my order AB-123456', [['order_status', 0.9]]);
    expect(top(c.state)).toMatchObject({ waiting: 'action', requestId: actionCall(c.last)!.requestId });
    expect(eventsOf(c.last, 'action_requested')).toEqual([{ action: 'lookupOrder', requestId: actionCall(c.last)!.requestId, args: { orderId: 'AB-123456' }, flow: 'order_status' }]);
    const r = c.actionOk({ found: true, status: 'shipped', carrier: 'UPS' });
    expect(texts(r)).toEqual(['Order AB-123456 is shipped with UPS.']);
    expect(r.state.vars.order).toEqual({ found: true, status: 'shipped', carrier: 'UPS' });
    expect(types(r)).toEqual(['var_set', 'action_succeeded', 'bot_message', 'flow_ended']);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'order_status', outcome: 'resolved' }]);
    expect(r.state.stack).toEqual([]);
  });

  it('takes the `else` branch when the condition is false', () => {
    const c = new Convo();
    c.say('where is my order AB-000001', [['order_status', 0.9]]);
    expect(texts(c.actionOk({ found: false }))).toEqual(["I couldn't find order AB-000001."]);
  });

  it('runs the `onError` list when the action fails (here: a handoff to the orders queue)', () => {
    const c = new Convo();
    c.say('where is my order ZZ-999999', [['order_status', 0.9]]);
    const r = c.actionFails('backend down');
    expect(eventsOf(r, 'action_failed')).toEqual([{ action: 'lookupOrder', requestId: expect.any(String), error: 'backend down', code: 'error' }]);
    expect(texts(r)).toEqual(['Our order system is not answering right now.', HANDOFF]);
    expect(handoffEffect(r)).toEqual({ type: 'handoff', reason: 'lookup_failed', queue: 'orders', priority: 0 });
    expect(r.state.status).toBe('handed_off');
    expect(r.state.handoff).toEqual({ reason: 'lookup_failed', queue: 'orders', at: NOW, acknowledged: false, priority: 0, flow: 'order_status', step: 'steps[1].onError[1]', agent: null });
  });

  it('continues at the `onError` step id when the action fails', () => {
    const c = startReturn();
    c.say('it was damaged');
    const r = c.actionFails('printer jam', 'timeout');
    expect(eventsOf(r, 'action_failed')[0]).toMatchObject({ action: 'createLabel', code: 'timeout' });
    expect(texts(r)).toEqual(["I couldn't create a label right now."]);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'returns', outcome: 'unresolved' }]);
  });

  it('says sorry and offers a person when an action without `onError` fails', () => {
    const c = new Convo();
    c.say('warranty claim', [['warranty', 0.9]]);
    expect(actionCall(c.last)).toMatchObject({ action: 'checkWarranty', args: {} });
    const r = c.actionFails('nope');
    expect(texts(r)).toEqual([SORRY, OFFER]);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'warranty', outcome: 'error' }]);
    expect(r.state.pending).toEqual({ kind: 'handoff_offer', reason: 'action_failed' });
  });

  it('ignores a result for a request it is not waiting for', () => {
    const c = new Convo();
    c.say('where is my order AB-123456', [['order_status', 0.9]]);
    const before = c.state;
    const r = c.input({ type: 'action_result', requestId: 'someone-else', ok: true, value: { found: true } });
    expect(types(r)).toEqual(['action_result_ignored']);
    expect(r.effects).toEqual([]);
    expect(r.state).toEqual(before);
  });

  it('treats a message that arrives while an action is still pending as a failed action', () => {
    const c = new Convo();
    c.say('where is my order ZZ-999999', [['order_status', 0.9]]);
    const r = c.say('hello?');
    expect(eventsOf(r, 'action_failed')[0]).toMatchObject({ action: 'lookupOrder', code: 'interrupted' });
    expect(texts(r)).toEqual(['Our order system is not answering right now.', HANDOFF]);
  });

  it('keeps the offer of a person when a message interrupts an action without `onError`', () => {
    const c = new Convo();
    c.say('warranty claim', [['warranty', 0.9]]);
    const r = c.say('where is my order', [['order_status', 0.9]]);
    expect(texts(r)).toEqual([SORRY, OFFER]);
    expect(r.state.pending).toEqual({ kind: 'handoff_offer', reason: 'action_failed' });
    expect(handoffEffect(c.say('yes'))).toMatchObject({ reason: 'action_failed' });
  });

  it('jumps to a step id from `then:` and `goto:`, and to another from `else:`', () => {
    let c = startReturn();
    let r = c.say('it arrived damaged');
    expect(texts(r)).toEqual(['Sorry it arrived damaged!']);
    expect(actionCall(r)).toMatchObject({ action: 'createLabel', args: { email: 'ada@example.com', reason: 'damaged', copies: 2 }, timeoutMs: 300 });

    c = startReturn();
    r = c.say('changed my mind');
    expect(texts(r)).toEqual([]);
    expect(actionCall(r)?.args).toMatchObject({ reason: 'changed my mind' });
  });

  it('sets variables from expressions and literals, with an event for each', () => {
    const c = startReturn();
    const r = c.say('damaged');
    expect(eventsOf(r, 'var_set')).toEqual([
      { name: 'rma', value: 'RMA-ADA@EXAMPLE.COM' },
      { name: 'copies', value: 2 },
      { name: 'tags', value: ['return', 'web'] },
    ]);
    expect(r.state.vars).toMatchObject({ rma: 'RMA-ADA@EXAMPLE.COM', copies: 2, tags: ['return', 'web'] });
  });

  it('renders variables set earlier and runs nested `then:` lists that end the flow', () => {
    const c = startReturn();
    c.say('damaged');
    let r = c.actionOk({ code: 'LBL-1' });
    expect(texts(r)).toEqual(['Label LBL-1 (RMA-ADA@EXAMPLE.COM) is on its way to ada@example.com.', 'Would you like store credit instead of a refund?']);
    r = c.say('yes');
    expect(texts(r)).toEqual(['Store credit it is.']);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'returns', outcome: 'resolved' }]);

    const c2 = startReturn();
    c2.say('damaged');
    c2.actionOk({ code: 'LBL-2' });
    r = c2.say('no thanks');
    expect(texts(r)).toEqual(['A refund it is.']);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'returns', outcome: 'resolved' }]);
  });

  it('asks the questions of a loop again when a `goto` jumps back to them', () => {
    const c = new Convo();
    c.say('bulk order', [['bulk', 0.9]]);
    let r = c.say('50');
    expect(texts(r)).toEqual(['We can only ship 10 at a time.', 'How many would you like?']);
    expect(top(r.state)).toMatchObject({ flowId: 'bulk', waiting: 'collect' });
    r = c.say('8');
    expect(texts(r)).toEqual(['8 it is.']);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'bulk', outcome: 'resolved' }]);
  });

  it('asks the questions of a sub-flow again when a loop calls it again', () => {
    const c = new Convo();
    expect(texts(c.say('invite a friend', [['invite', 0.9]]))).toEqual([EMAIL_Q]);
    expect(texts(c.say('bob@example.com'))).toEqual(["Thanks, I'll use bob@example.com.", 'Invited bob@example.com.', 'Invite another friend?']);
    expect(texts(c.say('yes'))).toEqual([EMAIL_Q]);
    expect(texts(c.say('cy@example.com'))).toEqual(["Thanks, I'll use cy@example.com.", 'Invited cy@example.com.', 'Invite another friend?']);
    const r = c.say('no');
    expect(texts(r)).toEqual([]);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'invite', outcome: 'resolved' }]);
  });
});

// ------------------------------------------------------------------ sub-flows

describe('sub-flows', () => {
  it('runs a sub-flow on top of its caller and returns to the next step when it ends', () => {
    const c = new Convo();
    let r = c.say('I want to return something', [['returns', 0.93]]);
    expect(eventsOf(r, 'flow_started')).toEqual([
      { flow: 'returns', via: 'nlu', kind: 'main' },
      { flow: 'verify_email', via: 'subflow', kind: 'sub' },
    ]);
    expect(r.state.stack.map((f) => [f.flowId, f.kind])).toEqual([
      ['returns', 'main'],
      ['verify_email', 'sub'],
    ]);
    r = c.say('ada@example.com');
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'verify_email', outcome: 'returned' }]);
    expect(texts(r)).toEqual(["Thanks, I'll use ada@example.com.", REASON_Q]);
    expect(r.state.stack.map((f) => f.flowId)).toEqual(['returns']);
  });

  it('asks a sub-flow\'s own questions again the next time it runs (no stale answers)', () => {
    const c = startReturn();
    c.say('cancel', [['builtin.cancel', 0.95]]);
    const r = c.say('return an item', [['returns', 0.9]]);
    expect(texts(r)).toEqual([EMAIL_Q]);
    expect(r.state.slots.email).toBeUndefined();
  });
});

// ------------------------------------------------------------------ handoff and endings

describe('handoff', () => {
  it('hands off when the customer asks for a person mid-flow', () => {
    const c = new Convo();
    c.say('where is my order', [['order_status', 0.9]]);
    const r = c.say('let me talk to a human', [['builtin.human', 0.88]]);
    expect(texts(r)).toEqual([HANDOFF]);
    expect(handoffEffect(r)).toEqual({ type: 'handoff', reason: 'customer_request', queue: 'support', priority: 0 });
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'order_status', outcome: 'handed_off' }]);
    expect(eventsOf(r, 'handoff')).toEqual([{ reason: 'customer_request', queue: 'support', priority: 0, flow: 'order_status', step: 'steps[0]' }]);
    expect(r.state).toMatchObject({ status: 'handed_off', stack: [], pending: null, handoff: { reason: 'customer_request', queue: 'support', acknowledged: false } });
  });

  it('after a handoff the bot acknowledges once, then stays silent (but still records messages)', () => {
    const c = new Convo();
    c.say('human please', [['builtin.human', 0.9]]);
    let r = c.say('hello? anyone?', [['builtin.greeting', 0.9]]);
    expect(texts(r)).toEqual(['Hang tight, Ada - a person from our team will reply here.']);
    expect(r.state.handoff?.acknowledged).toBe(true);
    for (const [text, intent] of [
      ['where is my order', 'order_status'],
      ['start over', 'builtin.restart'],
      ['human!!', 'builtin.human'],
    ]) {
      r = c.say(text, [[intent, 0.99]]);
      expect(r.effects).toEqual([]);
      expect(types(r)).toEqual(['customer_message', 'nlu']);
    }
    expect(r.state.status).toBe('handed_off');
    expect(r.state.turns).toBe(5);
  });

  it('a handoff step says its own message and uses its queue and reason', () => {
    const c = new Convo();
    c.say('warranty claim', [['warranty', 0.9]]);
    const r = c.actionOk({ covered: true });
    expect(texts(r)).toEqual(["I'm passing your claim to our claims team."]);
    expect(handoffEffect(r)).toEqual({ type: 'handoff', reason: 'warranty_claim', queue: 'claims', priority: 0 });
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'warranty', outcome: 'handed_off' }]);
  });
});

describe('how flows end', () => {
  const outcome = (r: TurnResult) => eventsOf(r, 'flow_ended').map((d) => [d.flow, d.outcome]);

  it('records each outcome in a flow_ended event', () => {
    let c = new Convo();
    c.say('where is my order AB-123456', [['order_status', 0.9]]);
    expect(outcome(c.actionOk({ found: true, status: 'late', carrier: 'DHL' }))).toEqual([['order_status', 'resolved']]);

    c = new Convo();
    c.say('warranty', [['warranty', 0.9]]);
    expect(outcome(c.actionOk({ covered: false }))).toEqual([['warranty', 'unresolved']]);
    expect(texts(c.last)).toEqual(['Your product is out of warranty.']);

    c = new Convo();
    c.say('rate you', [['survey', 0.9]]);
    c.say('5');
    expect(outcome(c.say('great shop'))).toEqual([['survey', 'completed']]); // no `end:` step: it just completes
    expect(texts(c.last)).toEqual(['Thanks for rating us 5/5!']);
  });

  it('an `end` inside a sub-flow ends the calling flow too', () => {
    const inner: Flow = {
      ...bot.flows.verify_email,
      id: 'quick_end',
      intent: 'quick_end',
      slots: {},
      steps: [
        { id: 'a', kind: 'say', messages: [{ text: 'inner' }], pos: bot.flows.verify_email.pos },
        { id: 'b', kind: 'end', outcome: 'resolved', pos: bot.flows.verify_email.pos },
        { id: '$return', kind: 'return', pos: bot.flows.verify_email.pos },
      ],
      stepIndex: { a: 0, b: 1, $return: 2 },
    };
    const outer: Flow = {
      ...inner,
      id: 'outer',
      intent: 'outer',
      steps: [
        { id: 'x', kind: 'flow', flow: 'quick_end', pos: inner.pos },
        { id: 'y', kind: 'say', messages: [{ text: 'never said' }], pos: inner.pos },
        { id: '$return', kind: 'return', pos: inner.pos },
      ],
      stepIndex: { x: 0, y: 1, $return: 2 },
    };
    const b2: Bot = { ...bot, flows: { ...bot.flows, quick_end: inner, outer }, intents: { ...bot.intents, outer: { kind: 'flow', flowId: 'outer' } } };
    const r = new Convo(undefined, b2).say('go', [['outer', 0.9]]);
    expect(texts(r)).toEqual(['inner']);
    expect(outcome(r)).toEqual([
      ['quick_end', 'resolved'],
      ['outer', 'resolved'],
    ]);
    expect(r.state.stack).toEqual([]);
  });
});

// ------------------------------------------------------------------ digressions

describe('digressions', () => {
  it('answers a confident knowledge question mid-question, then asks the question again', () => {
    const c = new Convo();
    c.say('where is my order', [['order_status', 0.9]]);
    const r = c.say('wait, how much is shipping?', [['kb.shipping-cost', 0.93], ['order_status', 0.1]]);
    expect(eventsOf(r, 'digression')).toEqual([{ from: 'order_status', to: 'kb.shipping-cost', confidence: 0.93 }]);
    expect(texts(r)).toEqual(['Shipping is free over $50; otherwise it costs $4.95.', RESUME, ORDER_Q]);
    expect(sends(r)[0].citation).toEqual({ articleId: 'shipping-cost', title: 'How much does shipping cost?', url: 'https://shop.example/shipping' });
    expect(r.state.pending).toBeNull(); // no "did that help?" in the middle of a question
    expect(top(r.state)).toMatchObject({ flowId: 'order_status', waiting: 'collect', attempts: 0 });
    // …and the original question can still be answered.
    c.say('AB-123456');
    expect(actionCall(c.last)?.args).toEqual({ orderId: 'AB-123456' });
  });

  it('runs another flow as a digression and resumes the interrupted one when it ends', () => {
    const c = startReturn();
    let r = c.say('actually where is my order?', [['order_status', 0.92]]);
    expect(eventsOf(r, 'flow_started')).toEqual([{ flow: 'order_status', via: 'nlu', kind: 'digression' }]);
    expect(texts(r)).toEqual([ORDER_Q]);
    expect(r.state.stack.map((f) => f.flowId)).toEqual(['returns', 'order_status']);
    c.say('AB-123456');
    r = c.actionOk({ found: true, status: 'shipped', carrier: 'UPS' });
    expect(texts(r)).toEqual(['Order AB-123456 is shipped with UPS.', RESUME, REASON_Q]);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'order_status', outcome: 'resolved' }]);
    expect(eventsOf(r, 'flow_resumed')).toEqual([{ flow: 'returns', step: expect.any(String) }]);
    expect(r.state.stack.map((f) => f.flowId)).toEqual(['returns']);
    expect(c.say('damaged').state.slots.reason).toBe('damaged');
  });

  it('answers small talk mid-question and re-asks', () => {
    const c = new Convo();
    c.say('where is my order', [['order_status', 0.9]]);
    const r = c.say('thanks!', [['builtin.thanks', 0.95]]);
    expect(texts(r)).toEqual(["You're welcome! Is there anything else I can help with?", RESUME, ORDER_Q]);
  });

  it('does not digress from a step with `digressions: false`: the message is an invalid answer', () => {
    const c = new Convo();
    c.say('rate your service', [['survey', 0.9]]);
    const r = c.say('how much is shipping', [['kb.shipping-cost', 0.97]]);
    expect(r.events.some((e) => e.type === 'digression' || e.type === 'knowledge_answer')).toBe(false);
    expect(eventsOf(r, 'slot_rejected')).toEqual([{ flow: 'survey', slot: 'rating', reason: 'no_value', attempts: 1 }]);
    expect(texts(r)).toEqual(['From 1 to 5, how happy are you with us?']);
  });

  it('still lets the customer cancel from a step with `digressions: false`', () => {
    const c = new Convo();
    c.say('rate your service', [['survey', 0.9]]);
    const r = c.say('cancel', [['builtin.cancel', 0.9]]);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'survey', outcome: 'cancelled' }]);
    expect(texts(r)).toEqual(["OK, I've stopped that. Is there anything else I can help with?"]);
  });

  it('counts a low-confidence other intent as an invalid answer', () => {
    const c = new Convo();
    c.say('where is my order', [['order_status', 0.9]]);
    const r = c.say('how much is shipping', [['kb.shipping-cost', 0.7]]);
    expect(r.events.some((e) => e.type === 'digression')).toBe(false);
    expect(eventsOf(r, 'slot_rejected')[0]).toMatchObject({ attempts: 1 });
    expect(texts(r)).toEqual([ORDER_REPROMPT]);
  });

  it('does not restart the flow being collected when its own intent comes again', () => {
    const c = new Convo();
    c.say('where is my order', [['order_status', 0.9]]);
    const r = c.say('where is my order??', [['order_status', 0.95]]);
    expect(r.events.some((e) => e.type === 'flow_started')).toBe(false);
    expect(texts(r)).toEqual([ORDER_REPROMPT]);
  });
});

// ------------------------------------------------------------------ fallback and disambiguation

describe('not understanding', () => {
  it('below the threshold says so and suggests the likely topics plus a person', () => {
    const c = new Convo();
    const r = c.say('my thing is wrong', [['order_status', 0.5], ['None', 0.45], ['returns', 0.4], ['builtin.greeting', 0.35], ['kb.shipping-cost', 0.1]]);
    expect(eventsOf(r, 'fallback')).toEqual([{ text: 'my thing is wrong', confidence: 0.5, count: 1 }]);
    expect(texts(r)).toEqual(["I'm not sure I understood that.", 'Did you mean one of these?']);
    expect(sends(r)[1].quickReplies).toEqual([
      { title: 'Track an order', payload: 'intent:order_status' },
      { title: 'Return an item', payload: 'intent:returns' },
      { title: 'Talk to a person', payload: 'intent:builtin.human' },
    ]);
    expect(r.state.stack).toEqual([]);
    // Clicking a suggestion starts that topic.
    const r2 = c.click('intent:returns', 'Return an item');
    expect(eventsOf(r2, 'option_chosen')).toEqual([{ intent: 'returns' }]);
    expect(texts(r2)).toEqual([EMAIL_Q]);
    expect(r2.state.fallbacks).toBe(0);
  });

  it('asks to rephrase when nothing is even close', () => {
    const r = new Convo().say('qwerty', [['order_status', 0.1]]);
    expect(texts(r)).toEqual(["I'm not sure I understood that.", 'Could you say it another way? You can also ask for a person at any time.']);
    expect(r.state.pending).toBeNull();
  });

  it('after two misunderstandings in a row offers a person; "yes" hands off', () => {
    const c = new Convo();
    c.say('qwerty', []);
    const r = c.say('asdf', []);
    expect(texts(r)).toEqual([OFFER]);
    expect(eventsOf(r, 'fallback')[0]).toMatchObject({ count: 2 });
    expect(eventsOf(r, 'handoff_offered')).toEqual([{ reason: 'repeated_fallback' }]);
    const r2 = c.click('Yes');
    expect(texts(r2)).toEqual([HANDOFF]);
    expect(handoffEffect(r2)).toEqual({ type: 'handoff', reason: 'repeated_fallback', queue: 'support', priority: 0 });
  });

  it('"no" to the offer is recorded and the count starts again', () => {
    const c = new Convo();
    c.say('qwerty', []);
    c.say('asdf', []);
    const r = c.say('no thanks');
    expect(texts(r)).toEqual(['No problem. What else can I help you with?']);
    expect(eventsOf(r, 'handoff_declined')).toEqual([{ reason: 'repeated_fallback' }]);
    expect(r.state.fallbacks).toBe(0);
    expect(r.state.status).toBe('active');
    expect(texts(c.say('zzz', []))).toEqual(["I'm not sure I understood that.", 'Could you say it another way? You can also ask for a person at any time.']);
  });

  it('an understood message in between resets the count', () => {
    const c = new Convo();
    c.say('qwerty', []);
    c.say('hello', [['builtin.greeting', 0.9]]);
    const r = c.say('asdf', []);
    expect(eventsOf(r, 'fallback')[0]).toMatchObject({ count: 1 });
    expect(r.events.some((e) => e.type === 'handoff_offered')).toBe(false);
  });

  it('asks which one was meant when the top two intents are too close, and accepts a click', () => {
    const c = new Convo();
    const r = c.say('I have a problem with my order', [['order_status', 0.8], ['returns', 0.75], ['signup', 0.3]]);
    expect(eventsOf(r, 'disambiguation')).toEqual([{ options: ['order_status', 'returns'], scores: [0.8, 0.75] }]);
    expect(texts(r)).toEqual(['Did you mean one of these?']);
    expect(sends(r)[0].quickReplies).toEqual([
      { title: 'Track an order', payload: 'intent:order_status' },
      { title: 'Return an item', payload: 'intent:returns' },
    ]);
    expect(r.state.stack).toEqual([]);
    const r2 = c.click('intent:returns', 'Return an item');
    expect(eventsOf(r2, 'routed')).toEqual([{ intent: 'returns', confidence: 1, via: 'choice', digression: false }]);
    expect(texts(r2)).toEqual([EMAIL_Q]);
  });

  it('accepts the number of an option typed as text', () => {
    const c = new Convo();
    c.say('I have a problem with my order', [['order_status', 0.8], ['returns', 0.75]]);
    const r = c.say('1');
    expect(eventsOf(r, 'option_chosen')).toEqual([{ intent: 'order_status' }]);
    expect(texts(r)).toEqual([ORDER_Q]);
  });

  it('accepts the title of an option typed as text', () => {
    const c = new Convo();
    c.say('I have a problem with my order', [['order_status', 0.8], ['returns', 0.75]]);
    const r = c.say('return an item');
    expect(eventsOf(r, 'option_chosen')).toEqual([{ intent: 'returns' }]);
    expect(texts(r)).toEqual([EMAIL_Q]);
  });

  it('the number typed to choose an option is not taken as an answer to the chosen flow', () => {
    const c = new Convo();
    c.say('I want to order a lot', [['signup', 0.8], ['bulk', 0.78]]);
    const r = c.say('2');
    expect(eventsOf(r, 'option_chosen')).toEqual([{ intent: 'bulk' }]);
    expect(r.state.slots.qty).toBeUndefined();
    expect(texts(r)).toEqual(['How many would you like?']);
  });

  it('the message that led to the choice still fills the chosen flow\'s slots', () => {
    const c = new Convo();
    c.say('problem with order AB-123456', [['order_status', 0.8], ['returns', 0.75]]);
    const r = c.say('1');
    expect(eventsOf(r, 'option_chosen')).toEqual([{ intent: 'order_status' }]);
    expect(r.state.slots.order_id).toBe('AB-123456');
    expect(texts(r)).not.toContain(ORDER_Q);
  });

  it('asks when two close intents are likely together, even if neither passes the threshold alone', () => {
    expect(eventsOf(new Convo().say('x', [['order_status', 0.7], ['returns', 0.62]]), 'disambiguation')).toEqual([{ options: ['order_status', 'returns'], scores: [0.7, 0.62] }]);
    expect(eventsOf(new Convo().say('x', [['order_status', 0.4], ['returns', 0.35]]), 'disambiguation')).toEqual([{ options: ['order_status', 'returns'], scores: [0.4, 0.35] }]);
  });

  it('does not disambiguate when the second intent is clearly behind or the two together are unlikely', () => {
    expect(eventsOf(new Convo().say('x', [['order_status', 0.95], ['returns', 0.8]]), 'disambiguation')).toEqual([]);
    const r = new Convo().say('x', [['order_status', 0.3], ['returns', 0.25]]);
    expect(eventsOf(r, 'disambiguation')).toEqual([]);
    expect(eventsOf(r, 'fallback')).toHaveLength(1);
  });

  it('drops the offer and routes the message normally when the customer ignores it', () => {
    const c = new Convo();
    c.say('I have a problem with my order', [['order_status', 0.8], ['returns', 0.75]]);
    const r = c.say('how much is shipping', [['kb.shipping-cost', 0.9]]);
    expect(eventsOf(r, 'knowledge_answer')).toEqual([{ article: 'shipping-cost', confidence: 0.9 }]);
  });
});

// ------------------------------------------------------------------ knowledge

describe('knowledge answers', () => {
  it('answers with the article, cites it, links it and asks whether it helped', () => {
    const c = new Convo();
    const r = c.say('how much is shipping', [['kb.shipping-cost', 0.9]]);
    const [answer, question] = sends(r);
    expect(answer).toEqual({
      id: expect.any(String),
      text: 'Shipping is free over $50; otherwise it costs $4.95.',
      links: [{ title: 'How much does shipping cost?', url: 'https://shop.example/shipping' }],
      citation: { articleId: 'shipping-cost', title: 'How much does shipping cost?', url: 'https://shop.example/shipping' },
    });
    expect(question).toMatchObject({ text: 'Did that answer your question?', quickReplies: [{ title: 'Yes' }, { title: 'No' }] });
    expect(eventsOf(r, 'knowledge_answer')).toEqual([{ article: 'shipping-cost', confidence: 0.9 }]);
    expect(r.state.pending).toEqual({ kind: 'feedback', articleId: 'shipping-cost' });
  });

  it('"yes" records helpful feedback', () => {
    const c = new Convo();
    c.say('how much is shipping', [['kb.shipping-cost', 0.9]]);
    const r = c.click('Yes');
    expect(eventsOf(r, 'feedback')).toEqual([{ article: 'shipping-cost', helpful: true }]);
    expect(texts(r)).toEqual(['Great, glad I could help!']);
    expect(r.state.pending).toBeNull();
  });

  it('"no" records unhelpful feedback and offers a person', () => {
    const c = new Convo();
    c.say('how much is shipping', [['kb.shipping-cost', 0.9]]);
    let r = c.say('no, not really');
    expect(eventsOf(r, 'feedback')).toEqual([{ article: 'shipping-cost', helpful: false }]);
    expect(texts(r)).toEqual(["Sorry that didn't help. Would you like me to connect you with a person?"]);
    r = c.say('yes');
    expect(handoffEffect(r)).toEqual({ type: 'handoff', reason: 'answer_not_helpful', queue: 'support', priority: 0 });
  });

  it('does not ask for feedback on an article with `askFeedback: false`, and renders its templates', () => {
    const r = new Convo().say('do you gift wrap', [['kb.gift-wrap', 0.9]]);
    expect(texts(r)).toEqual(['Yes! Tick "gift wrap" at checkout, it\'s free for Shop customers.']);
    expect(sends(r)[0].citation).toEqual({ articleId: 'gift-wrap', title: 'Do you gift wrap?' });
    expect(sends(r)[0].links).toBeUndefined();
    expect(r.state.pending).toBeNull();
  });

  it('a new question instead of feedback is simply answered', () => {
    const c = new Convo();
    c.say('how much is shipping', [['kb.shipping-cost', 0.9]]);
    const r = c.say('where is my order', [['order_status', 0.9]]);
    expect(r.events.some((e) => e.type === 'feedback')).toBe(false);
    expect(texts(r)).toEqual([ORDER_Q]);
  });
});

// ------------------------------------------------------------------ built-ins

describe('built-in intents', () => {
  it.each([
    ['builtin.greeting', 'hi', 'Hi! How can I help you today?'],
    ['builtin.thanks', 'thanks', "You're welcome! Is there anything else I can help with?"],
    ['builtin.goodbye', 'bye', 'Goodbye! You can message us here any time — this conversation will be waiting.'],
    ['builtin.cancel', 'cancel', "There's nothing in progress to cancel. What can I help you with?"],
  ])('%s outside a flow', (intent, text, reply) => {
    const r = new Convo().say(text, [[intent, 0.9]]);
    expect(texts(r)).toEqual([reply]);
    expect(r.state.stack).toEqual([]);
  });

  it('a person on request outside a flow', () => {
    const r = new Convo().say('agent', [['builtin.human', 0.9]]);
    expect(texts(r)).toEqual([HANDOFF]);
    expect(r.state.status).toBe('handed_off');
  });

  it('cancel mid-flow stops the flow (and its caller)', () => {
    const c = new Convo();
    c.say('return an item', [['returns', 0.9]]);
    const r = c.say('never mind', [['builtin.cancel', 0.9]]);
    expect(eventsOf(r, 'flow_ended')).toEqual([
      { flow: 'verify_email', outcome: 'cancelled' },
      { flow: 'returns', outcome: 'cancelled' },
    ]);
    expect(texts(r)).toEqual(["OK, I've stopped that. Is there anything else I can help with?"]);
    expect(r.state.stack).toEqual([]);
  });

  it('restart abandons the flow and forgets slots and variables', () => {
    const c = startReturn();
    c.say('damaged');
    c.actionOk({ code: 'LBL-9' });
    expect(c.state.slots).toMatchObject({ email: 'ada@example.com', reason: 'damaged' });
    const r = c.say('start over', [['builtin.restart', 0.9]]);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'returns', outcome: 'abandoned' }]);
    expect(types(r)).toContain('restarted');
    expect(texts(r)).toEqual(["OK, let's start over. What can I help you with?"]);
    expect(r.state).toMatchObject({ stack: [], slots: {}, vars: {}, pending: null });
    expect(r.state.profile).toEqual({ name: 'Ada' });
  });

  it('a control intent below the threshold is not obeyed mid-question', () => {
    const c = new Convo();
    c.say('where is my order', [['order_status', 0.9]]);
    const r = c.say('stop', [['builtin.cancel', 0.4]]);
    expect(r.state.stack).toHaveLength(1);
    expect(texts(r)).toEqual([ORDER_REPROMPT]);
  });

  it('a knowledge question while a yes/no question is open is answered, then the question is asked again', () => {
    const c = startReturn();
    c.say('damaged');
    c.actionOk({ code: 'LBL-3' }); // now waiting for store credit yes/no
    const r = c.say('how much is shipping', [['kb.shipping-cost', 0.95]]);
    expect(texts(r)).toEqual(['Shipping is free over $50; otherwise it costs $4.95.', RESUME, 'Would you like store credit instead of a refund?']);
  });
});

// ------------------------------------------------------------------ payloads and keywords

describe('payload and keyword triggers', () => {
  it('a button payload starts its flow with certainty, without NLU', () => {
    const r = new Convo().click('ORDER_STATUS', 'Track my order');
    expect(eventsOf(r, 'routed')).toEqual([{ intent: 'order_status', confidence: 1, via: 'payload', digression: false }]);
    expect(texts(r)).toEqual([ORDER_Q]);
  });

  it('an `intent:` payload starts that intent', () => {
    const r = new Convo().click('intent:kb.gift-wrap', 'Gift wrap');
    expect(eventsOf(r, 'knowledge_answer')).toEqual([{ article: 'gift-wrap', confidence: 1 }]);
  });

  it('a keyword anywhere in the message wins over a confused NLU', () => {
    const r = new Convo().say("What's my tracking number?", [['returns', 0.5], ['signup', 0.45]]);
    expect(eventsOf(r, 'routed')).toEqual([{ intent: 'order_status', confidence: 1, via: 'keyword', digression: false }]);
    expect(texts(r)).toEqual([ORDER_Q]);
  });

  it('a keyword must match whole words', () => {
    const r = new Convo().say('mytracking numbers', []);
    expect(eventsOf(r, 'routed')).toEqual([]);
    expect(eventsOf(r, 'fallback')).toHaveLength(1);
  });

  it('an unknown payload falls back to the text', () => {
    const r = new Convo().input({ type: 'message', text: 'where is my order', payload: 'NOPE', nlu: nlu(['order_status', 0.9]) });
    expect(eventsOf(r, 'routed')[0]).toMatchObject({ intent: 'order_status', via: 'nlu' });
  });
});

// ------------------------------------------------------------------ runaway guard

describe('runaway flows', () => {
  /**
   * A flow that asks one question, then loops forever without waiting. The validator rejects this
   * (flow_cycle_without_input), so the compiled bot is built by hand, as a stale or hand-edited
   * bot could be; the guard is the last line of defence.
   */
  function loopingBot(): Bot {
    const pos = bot.flows.verify_email.pos;
    const spin: Flow = {
      ...bot.flows.verify_email,
      id: 'spin',
      intent: 'spin',
      title: 'Spin',
      steps: [
        { id: 'ask', kind: 'collect', slot: 'email', digressions: true, pos },
        { id: 'again', kind: 'say', messages: [{ text: 'Once more!' }], pos },
        { id: 'back', kind: 'jump', target: 1, pos },
        { id: '$return', kind: 'return', pos },
      ],
      stepIndex: { ask: 0, again: 1, back: 2, $return: 3 },
    };
    return { ...bot, flows: { ...bot.flows, spin }, intents: { ...bot.intents, spin: { kind: 'flow', flowId: 'spin' } } };
  }

  it('stops a flow that never waits, apologises and offers a person instead of flooding the customer', () => {
    const c = new Convo(undefined, loopingBot());
    let r = c.say('spin', [['spin', 0.9]]);
    expect(texts(r)).toEqual([EMAIL_Q]);
    r = c.say('ada@example.com');
    expect(eventsOf(r, 'flow_error')).toEqual([{ flow: expect.any(String), code: 'runaway_flow', message: expect.stringContaining('without waiting for the customer') }]);
    expect(r.state.stack).toEqual([]);
    expect(r.state.pending).toEqual({ kind: 'handoff_offer', reason: 'flow_error' });
    expect(texts(r)).toEqual([SORRY, OFFER]);
    expect(eventsOf(r, 'bot_message')).toHaveLength(2);
    expect(eventsOf(r, 'flow_ended').pop()).toEqual({ flow: 'spin', outcome: 'error' });
    expect(r.events.length).toBeLessThan(MAX_STEPS_PER_TURN);
    // The conversation goes on normally afterwards.
    expect(texts(c.say('no thanks'))).toEqual(['No problem. What else can I help you with?']);
  });
});

// ------------------------------------------------------------------ purity

describe('purity', () => {
  const script: [string, Scores][] = [
    ['I want to return something', [['returns', 0.93]]],
    ['ada@example.com', []],
    ['how much is shipping', [['kb.shipping-cost', 0.95]]],
    ['damaged', []],
  ];

  it('gives the same output for the same state, input and context', () => {
    const a = new Convo();
    const b = new Convo();
    for (const [text, scores] of script) expect(a.say(text, scores)).toEqual(b.say(text, scores));
    expect(JSON.stringify(a.state)).toBe(JSON.stringify(b.state));
  });

  it('never changes the state it was given', () => {
    const c = new Convo();
    for (const [text, scores] of script) {
      const before = c.state;
      const snapshot = JSON.stringify(before);
      deepFreeze(before);
      const r = c.say(text, scores);
      expect(JSON.stringify(before)).toBe(snapshot);
      expect(r.state).not.toBe(before);
    }
  });

  it('produces state, events and effects that survive a JSON round trip', () => {
    const c = new Convo();
    for (const [text, scores] of script) {
      const r = c.say(text, scores);
      expect(JSON.parse(JSON.stringify(r.state))).toEqual(r.state);
      expect(JSON.parse(JSON.stringify(r.events))).toEqual(r.events);
      expect(JSON.parse(JSON.stringify(r.effects))).toEqual(r.effects);
      // The next turn works just as well from the round-tripped state.
      c.state = JSON.parse(JSON.stringify(r.state)) as ConversationState;
    }
    expect(c.last.effects.some((e) => e.type === 'call_action')).toBe(true);
  });

  it('takes time and ids only from the context', () => {
    const c = new Convo();
    c.say('human', [['builtin.human', 0.9]]);
    expect(c.state.handoff?.at).toBe(NOW);
    expect(sends(c.last).map((m) => m.id)).toEqual(['id1']);
  });
});

// ------------------------------------------------------------------ changed flow files

describe('state written by an older version of the flows', () => {
  const waitingOn = (flowId: string, pc: number, stepId: string, waiting: 'collect' | 'action' | null = 'collect'): ConversationState => ({
    ...initialState({ channel: 'test' }),
    stack: [{ flowId, pc, stepId, kind: 'main', waiting, attempts: 0 }],
    turns: 3,
  });

  it('drops a frame whose step no longer exists and handles the message afresh', () => {
    const c = new Convo(waitingOn('order_status', 0, 'ask_for_the_order_id_old'));
    const r = c.say('how much is shipping', [['kb.shipping-cost', 0.9]]);
    expect(eventsOf(r, 'flow_dropped')).toEqual([{ flow: 'order_status', reason: 'step ask_for_the_order_id_old no longer exists' }]);
    expect(eventsOf(r, 'knowledge_answer')).toHaveLength(1);
    expect(r.state.stack).toEqual([]);
  });

  it('drops a frame whose flow was deleted', () => {
    const c = new Convo(waitingOn('old_flow', 2, 'steps[2]'));
    const r = c.say('hi', [['builtin.greeting', 0.9]]);
    expect(eventsOf(r, 'flow_dropped')).toEqual([{ flow: 'old_flow', reason: 'flow no longer exists' }]);
    expect(texts(r)).toEqual(['Hi! How can I help you today?']);
  });

  it('follows a step that moved to another position', () => {
    const c = new Convo(waitingOn('bulk', 5, 'ask_qty'));
    const r = c.say('3');
    expect(r.events.some((e) => e.type === 'flow_dropped')).toBe(false);
    expect(r.state.slots.qty).toBe(3);
    expect(texts(r)).toEqual(['3 it is.']);
  });

  it('drops a frame that waited for an answer at a step that is no longer a question', () => {
    // steps[1] used to be a collect step; in the current file it is the action call.
    const c = new Convo(waitingOn('order_status', 1, 'steps[1]'));
    const r = c.say('AB-123456', []);
    expect(eventsOf(r, 'flow_dropped')).toEqual([{ flow: 'order_status', reason: expect.stringContaining('steps[1]') }]);
    expect(r.state.stack).toEqual([]);
    expect(eventsOf(r, 'fallback')).toHaveLength(1);
  });

  it('drops a frame that waited for an action at a step that is no longer an action call', () => {
    const c = new Convo({ ...waitingOn('order_status', 0, 'steps[0]', 'action'), stack: [{ flowId: 'order_status', pc: 0, stepId: 'steps[0]', kind: 'main', waiting: 'action', attempts: 0, requestId: 'r1' }] });
    const r = c.input({ type: 'action_result', requestId: 'r1', ok: true, value: { found: true } });
    expect(eventsOf(r, 'flow_dropped')).toHaveLength(1);
    expect(r.state.stack).toEqual([]);
  });
});

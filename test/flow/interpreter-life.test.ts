/**
 * The asynchronous life of a conversation: customers who come back hours or days later in the
 * middle of a flow ("Welcome back! … continue or start over?"), conversations that are resolved
 * and reopen, and snapshots written before these fields existed. Drives `interpret()` with the
 * fixture bots and an injected clock that the tests move forward.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { interpret, type Context, type Effect, type OutMessage, type TurnResult } from '../../src/flow/interpreter';
import { initialState, readState, type ConversationState } from '../../src/flow/state';
import { durationMs, loadBot } from '../../src/flow/loader';
import type { Bot } from '../../src/flow/model';
import type { JsonObject, JsonValue } from '../../src/util/json';
import { FIXTURES, loadFixtureBot } from '../fixtures';

// ------------------------------------------------------------------ helpers

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

let shop: Bot;
let life: Bot;
beforeAll(() => {
  shop = deepFreeze(loadFixtureBot('shop'));
  life = deepFreeze(loadFixtureBot('life'));
});

const T0 = Date.parse('2026-03-10T15:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Scores = [string, number][];

const sends = (r: TurnResult): OutMessage[] => r.effects.filter((e): e is Extract<Effect, { type: 'send' }> => e.type === 'send').map((e) => e.message);
const texts = (r: TurnResult): string[] => sends(r).map((m) => m.text ?? '');
const types = (r: TurnResult): string[] => r.events.map((e) => e.type);
const eventsOf = (r: TurnResult, type: string): JsonObject[] => r.events.filter((e) => e.type === type).map((e) => e.data);
const actionCall = (r: TurnResult) => r.effects.find((e): e is Extract<Effect, { type: 'call_action' }> => e.type === 'call_action');
const top = (s: ConversationState) => s.stack[s.stack.length - 1];

/** A conversation whose clock the test moves: `later(25 * HOUR)`. */
class Convo {
  state: ConversationState;
  last!: TurnResult;
  now = T0;
  private n = 0;
  constructor(
    readonly bot: Bot = shop,
    state: ConversationState = initialState({ channel: 'test', profile: { name: 'Ada' } }),
  ) {
    this.state = state;
  }
  ctx(): Context {
    const iso = new Date(this.now).toISOString();
    return { now: iso, today: iso.slice(0, 10), newId: () => `id${++this.n}`, conversationId: 'conv-1' };
  }
  later(ms: number): this {
    this.now += ms;
    return this;
  }
  private run(input: Parameters<typeof interpret>[2]): TurnResult {
    this.last = interpret(this.bot, this.state, input, this.ctx());
    this.state = this.last.state;
    return this.last;
  }
  say(text: string, scores: Scores = [], payload?: string): TurnResult {
    return this.run({ type: 'message', text, payload, nlu: { intents: scores.map(([intent, score]) => ({ intent, score })) } });
  }
  click(payload: string, title = payload): TurnResult {
    return this.run({ type: 'message', text: title, payload, nlu: null });
  }
  actionOk(value: JsonValue): TurnResult {
    const call = actionCall(this.last);
    if (!call) throw new Error('no action call is pending in the last turn');
    return this.run({ type: 'action_result', requestId: call.requestId, ok: true, value });
  }
}

const ORDER_Q = "What's your order number? It looks like AB-123456.";
const EMAIL_Q = "What's the email address on your account?";
const REASON_Q = 'Why are you returning it?';
const RESUME = 'Now, back to where we were.';
const RESTART = "OK, let's start over. What can I help you with?";
const PROMPT = (title: string) => `Welcome back! We were in the middle of “${title}”. Would you like to continue or start over?`;
const PROMPT_BUTTONS = [
  { title: 'Continue', payload: 'resume:continue' },
  { title: 'Start over', payload: 'resume:restart' },
];
const SHIPPED = 'Order AB-123456 is shipped with UPS.';

/** Ask for an order number at T0. */
function midOrder(bot: Bot = shop): Convo {
  const c = new Convo(bot);
  c.say('where is my order', [['order_status', 0.91]]);
  expect(texts(c.last)).toEqual([ORDER_Q]);
  return c;
}

// ------------------------------------------------------------------ returning mid-flow

describe('coming back to an open question after a long time', () => {
  it('after 25 hours, "hi" is not taken as the answer: the bot asks whether to continue or start over', () => {
    const c = midOrder().later(25 * HOUR);
    const r = c.say('hi', [['builtin.greeting', 0.95]]);
    expect(texts(r)).toEqual([PROMPT('Track an order')]);
    expect(sends(r)[0].quickReplies).toEqual(PROMPT_BUTTONS);
    expect(eventsOf(r, 'resume_offered')).toEqual([{ flow: 'order_status', step: 'steps[0]', idleSeconds: 25 * 3600 }]);
    expect(r.state.pending).toEqual({ kind: 'resume', flowId: 'order_status', titles: { continue: 'Continue', restart: 'Start over' } });
    expect(top(r.state)).toMatchObject({ flowId: 'order_status', waiting: 'collect', attempts: 0 });
    expect(r.state.slots.order_id).toBeUndefined();
    expect(r.state.lastCustomerAt).toBe(new Date(T0 + 25 * HOUR).toISOString());
    expect(types(r)).not.toContain('slot_rejected');
  });

  it('Continue asks the interrupted question again, and the next message answers it', () => {
    const c = midOrder().later(25 * HOUR);
    c.say('hello?');
    let r = c.click('resume:continue', 'Continue');
    expect(texts(r)).toEqual([RESUME, ORDER_Q]);
    expect(eventsOf(r, 'resume_answered')).toEqual([{ flow: 'order_status', choice: 'continue' }]);
    expect(r.state.pending).toBeNull();
    r = c.later(60_000).say('AB-123456');
    expect(r.state.slots.order_id).toBe('AB-123456');
    expect(actionCall(r)).toMatchObject({ action: 'lookupOrder', args: { orderId: 'AB-123456' } });
    expect(texts(c.actionOk({ found: true, status: 'shipped', carrier: 'UPS' }))).toEqual([SHIPPED]);
  });

  it('Start over abandons the flow, forgets its answers and says the restart message', () => {
    const c = new Convo();
    c.say('I want to return something', [['returns', 0.93]]);
    c.say('ada@example.com');
    expect(texts(c.last)).toEqual(["Thanks, I'll use ada@example.com.", REASON_Q]);
    c.later(3 * DAY).say('hmm');
    expect(texts(c.last)).toEqual([PROMPT('Return an item')]);
    const r = c.click('resume:restart', 'Start over');
    expect(texts(r)).toEqual([RESTART]);
    expect(eventsOf(r, 'resume_answered')).toEqual([{ flow: 'returns', choice: 'start_over' }]);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'returns', outcome: 'abandoned' }]);
    expect(types(r)).toContain('restarted');
    expect(r.state.stack).toEqual([]);
    expect(r.state.slots).toEqual({});
    expect(r.state.pending).toBeNull();
  });

  it.each([
    ['continue', 'continue'],
    ['Continue!', 'continue'],
    ['1', 'continue'],
    ['yes please', 'continue'],
    ['start over', 'start_over'],
    ['2', 'start_over'],
    ['no', 'start_over'],
  ])('a typed "%s" answers the question (%s)', (typed, choice) => {
    const c = midOrder().later(2 * DAY);
    c.say('hi', [['builtin.greeting', 0.95]]);
    const r = c.say(typed);
    expect(eventsOf(r, 'resume_answered')).toEqual([{ flow: 'order_status', choice }]);
    expect(texts(r)).toEqual(choice === 'continue' ? [RESUME, ORDER_Q] : [RESTART]);
  });

  it('names the flow the customer asked for, not the sub-flow it is in', () => {
    const c = new Convo();
    c.say('I want to return something', [['returns', 0.93]]);
    expect(top(c.state).flowId).toBe('verify_email');
    const r = c.later(DAY + HOUR).say('good morning', [['builtin.greeting', 0.9]]);
    expect(texts(r)).toEqual([PROMPT('Return an item')]);
    expect(eventsOf(c.click('resume:continue', 'Continue'), 'resume_answered')).toEqual([{ flow: 'returns', choice: 'continue' }]);
    expect(texts(c.last)).toEqual([RESUME, EMAIL_Q]);
    c.later(3 * DAY).say('hello again');
    const r2 = c.click('resume:restart', 'Start over');
    expect(eventsOf(r2, 'flow_ended')).toEqual([
      { flow: 'verify_email', outcome: 'abandoned' },
      { flow: 'returns', outcome: 'abandoned' },
    ]);
  });

  it('after 2 hours the customer simply continues: no question, the answer counts', () => {
    const c = midOrder().later(2 * HOUR);
    const r = c.say('AB-123456');
    expect(r.state.slots.order_id).toBe('AB-123456');
    expect(types(r)).not.toContain('resume_offered');
    expect(types(r)).not.toContain('resume_skipped');
  });

  it('after 2 hours "hi" is the usual digression (greeting, then back to the question)', () => {
    const c = midOrder().later(2 * HOUR);
    const r = c.say('hi', [['builtin.greeting', 0.95]]);
    expect(texts(r)).toEqual(['Hi! How can I help you today?', RESUME, ORDER_Q]);
    expect(types(r)).not.toContain('resume_offered');
  });

  it('"more than resumeAfter": exactly 24 hours later is still the same sitting', () => {
    const c = midOrder().later(24 * HOUR);
    expect(types(c.say('hm'))).not.toContain('resume_offered');
    c.later(24 * HOUR + 1000);
    expect(types(c.say('hm'))).toContain('resume_offered');
  });

  it('the time counts from the customer\'s previous message, not from the start of the flow', () => {
    const c = midOrder().later(20 * HOUR);
    c.say('I am looking for it'); // reprompt
    const r = c.later(20 * HOUR).say('still looking');
    expect(types(r)).not.toContain('resume_offered');
    expect(eventsOf(r, 'slot_rejected')).toHaveLength(1);
  });

  it('coming back with the answer they were asked for: it is accepted and the flow goes on', () => {
    const c = midOrder().later(3 * DAY);
    const r = c.say("Hi, here it is: ab-123456");
    expect(texts(r)).toEqual([]);
    expect(r.state.slots.order_id).toBe('AB-123456');
    expect(eventsOf(r, 'resume_skipped')).toEqual([{ flow: 'order_status', step: 'steps[0]', reason: 'answer', intent: null, idleSeconds: 3 * 86400 }]);
    expect(actionCall(r)).toMatchObject({ action: 'lookupOrder' });
  });

  it('a valid answer to a yes/no question counts too', () => {
    const c = new Convo();
    c.say('invite a friend', [['invite', 0.9]]);
    c.say('bob@example.com');
    expect(texts(c.last)).toEqual(["Thanks, I'll use bob@example.com.", 'Invited bob@example.com.', 'Invite another friend?']);
    const r = c.later(2 * DAY).say('no');
    expect(eventsOf(r, 'slot_filled')).toEqual([{ flow: 'invite', slot: 'another', value: false, source: 'answer' }]);
    expect(r.state.stack).toEqual([]);
  });

  it('a free-text question accepts anything, so a message there proves nothing: the bot asks', () => {
    const c = new Convo();
    c.say('rate your service', [['survey', 0.9]]);
    c.say('4');
    expect(texts(c.last)).toEqual(["Anything else you'd like to tell us?"]);
    const r = c.later(2 * DAY).say('hello, I have a question');
    expect(texts(r)).toEqual([PROMPT('Rate us')]);
    expect(r.state.slots.comment).toBeUndefined();
    expect(texts(c.click('resume:continue', 'Continue'))).toEqual([RESUME, "Anything else you'd like to tell us?"]);
  });

  it('an invalid answer is not counted as an attempt: the bot asks to continue or start over', () => {
    const c = midOrder().later(2 * DAY);
    const r = c.say('no idea');
    expect(texts(r)).toEqual([PROMPT('Track an order')]);
    expect(top(r.state).attempts).toBe(0);
  });

  it('a clear new request replaces the old flow (abandoned) without asking', () => {
    const c = midOrder().later(2 * DAY);
    const r = c.say('I want to return something', [['returns', 0.93]]);
    expect(texts(r)).toEqual([EMAIL_Q]);
    expect(eventsOf(r, 'resume_skipped')).toEqual([{ flow: 'order_status', step: 'steps[0]', reason: 'new_request', intent: 'returns', idleSeconds: 2 * 86400 }]);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'order_status', outcome: 'abandoned' }]);
    expect(r.state.stack.map((f) => f.flowId)).toEqual(['returns', 'verify_email']);
    expect(r.state.pending).toBeNull();
  });

  it('a new request only needs the usual threshold, unless the message is also a valid answer', () => {
    // 0.7: above nlu.threshold (0.65), below nlu.digressionThreshold (0.8).
    let c = midOrder().later(2 * DAY);
    expect(texts(c.say('can I send something back', [['returns', 0.7]]))).toEqual([EMAIL_Q]);
    // …but "return AB-123456" is also a valid order number: at 0.7 the answer wins,
    c = midOrder().later(2 * DAY);
    let r = c.say('return AB-123456', [['returns', 0.7]]);
    expect(r.state.slots.order_id).toBe('AB-123456');
    expect(top(r.state).flowId).toBe('order_status');
    // at 0.9 the new request does.
    c = midOrder().later(2 * DAY);
    r = c.say('I want to return AB-123456', [['returns', 0.9]]);
    expect(top(r.state).flowId).toBe('verify_email');
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'order_status', outcome: 'abandoned' }]);
  });

  it('an unsure guess at a new request gets the question instead', () => {
    const c = midOrder().later(2 * DAY);
    const r = c.say('about that thing', [['returns', 0.5]]);
    expect(texts(r)).toEqual([PROMPT('Track an order')]);
    expect(r.state.stack.map((f) => f.flowId)).toEqual(['order_status']);
  });

  it('a button of another topic is certain: that topic starts', () => {
    const c = midOrder().later(2 * DAY);
    const r = c.click('RETURNS', 'Start a return');
    expect(texts(r)).toEqual([EMAIL_Q]);
  });

  it('asking again for the flow that is open is not new: the bot asks to continue or start over', () => {
    const c = midOrder().later(2 * DAY);
    const r = c.say('where is my order', [['order_status', 0.95]]);
    expect(texts(r)).toEqual([PROMPT('Track an order')]);
  });

  it('a knowledge question is answered (no "did that help?"), then the bot asks about the open flow', () => {
    const c = midOrder().later(2 * DAY);
    const r = c.say('how much is shipping?', [['kb.shipping-cost', 0.9]]);
    expect(texts(r)).toEqual(['Shipping is free over $50; otherwise it costs $4.95.', PROMPT('Track an order')]);
    expect(sends(r)[0].citation).toEqual({ articleId: 'shipping-cost', title: 'How much does shipping cost?', url: 'https://shop.example/shipping' });
    expect(r.state.pending).toMatchObject({ kind: 'resume', flowId: 'order_status' });
    expect(types(r)).toContain('knowledge_answer');
    expect(types(r)).not.toContain('resume_skipped');
    expect(texts(c.click('resume:continue', 'Continue'))).toEqual([RESUME, ORDER_Q]);
  });

  it('"talk to a person" hands off at once', () => {
    const c = midOrder().later(2 * DAY);
    const r = c.say('can I talk to a human', [['builtin.human', 0.9]]);
    expect(r.state.status).toBe('handed_off');
    expect(r.state.handoff).toMatchObject({ reason: 'customer_request' });
    expect(eventsOf(r, 'resume_skipped')).toMatchObject([{ reason: 'control', intent: 'builtin.human' }]);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'order_status', outcome: 'handed_off' }]);
  });

  it('"cancel" cancels, even on a free-text question (where mid-conversation it needs digressionThreshold)', () => {
    const c = new Convo();
    c.say('rate your service', [['survey', 0.9]]);
    c.say('4');
    const r = c.later(2 * DAY).say('never mind', [['builtin.cancel', 0.7]]);
    expect(eventsOf(r, 'flow_ended')).toEqual([{ flow: 'survey', outcome: 'cancelled' }]);
    expect(r.state.slots.comment).toBeUndefined();
  });

  it('ignoring the question and answering the flow\'s question instead works too', () => {
    const c = midOrder().later(2 * DAY);
    c.say('hi', [['builtin.greeting', 0.95]]);
    const r = c.later(30_000).say('AB-123456');
    expect(r.state.pending).toBeNull();
    expect(r.state.slots.order_id).toBe('AB-123456');
    expect(types(r)).not.toContain('resume_answered');
  });

  it('a customer who leaves again after the question is asked again when they come back', () => {
    const c = midOrder().later(2 * DAY);
    c.say('hi', [['builtin.greeting', 0.95]]);
    const r = c.later(5 * DAY).say('hi', [['builtin.greeting', 0.95]]);
    expect(texts(r)).toEqual([PROMPT('Track an order')]);
    expect(eventsOf(r, 'resume_offered')).toEqual([{ flow: 'order_status', step: 'steps[0]', idleSeconds: 5 * 86400 }]);
  });

  it('misunderstandings "in a row" do not span a long absence', () => {
    const c = new Convo();
    c.say('blorp');
    expect(c.state.fallbacks).toBe(1);
    const r = c.later(3 * DAY).say('zzzt');
    expect(types(r)).not.toContain('handoff_offered');
    expect(r.state.fallbacks).toBe(1);
  });
});

describe('questions outside a flow after a long time', () => {
  it('a button of an old "Did you mean…?" still works', () => {
    const c = new Convo();
    c.say('my order thing', [['order_status', 0.45], ['returns', 0.42]]);
    expect(c.state.pending).toMatchObject({ kind: 'choose' });
    const r = c.later(4 * DAY).click('intent:order_status', 'Track an order');
    expect(texts(r)).toEqual([ORDER_Q]);
    expect(types(r)).not.toContain('resume_offered');
  });

  it('anything else drops the old "Did that answer your question?" and is handled as new (no continue/start over)', () => {
    const c = new Convo();
    c.say('how much is shipping', [['kb.shipping-cost', 0.9]]);
    expect(c.state.pending).toEqual({ kind: 'feedback', articleId: 'shipping-cost' });
    const r = c.later(4 * DAY).say('hi', [['builtin.greeting', 0.95]]);
    expect(texts(r)).toEqual(['Hi! How can I help you today?']);
    expect(r.state.pending).toBeNull();
  });
});

// ------------------------------------------------------------------ configuration

describe('conversation.resumeAfter', () => {
  it('is read from bot.yaml ("2d"), and the resume_prompt wording and buttons can be overridden', () => {
    const c = midOrder(life).later(25 * HOUR);
    expect(types(c.say('hi', [['builtin.greeting', 0.95]]))).not.toContain('resume_offered');
    const r = c.later(49 * HOUR).say('hi', [['builtin.greeting', 0.95]]);
    expect(texts(r)).toEqual(['Hello again Ada!', 'Shall we finish Track an order?']);
    // The first two buttons become Continue and Start over; the others are kept as written.
    expect(sends(r)[1].quickReplies).toEqual([
      { title: 'Yes please', payload: 'resume:continue' },
      { title: 'Begin again', payload: 'resume:restart' },
      { title: 'Talk to a person', payload: 'intent:builtin.human' },
    ]);
    expect(r.state.pending).toEqual({ kind: 'resume', flowId: 'order_status', titles: { continue: 'Yes please', restart: 'Begin again' } });
    expect(texts(c.say('begin again'))).toEqual([RESTART]);
  });

  it('an extra button of the prompt does what it says', () => {
    const c = midOrder(life).later(3 * DAY);
    c.say('hi', [['builtin.greeting', 0.95]]);
    const r = c.click('intent:builtin.human', 'Talk to a person');
    expect(r.state.status).toBe('handed_off');
  });

  it('"never" (or 0) switches the question off: a month later the message is handled as usual', () => {
    const never: Bot = { ...shop, config: { ...shop.config, conversation: { resumeAfterMs: null } } };
    const c = midOrder(never).later(30 * DAY);
    const r = c.say('hi', [['builtin.greeting', 0.95]]);
    expect(texts(r)).toEqual(['Hi! How can I help you today?', RESUME, ORDER_Q]);
    expect(types(r)).not.toContain('resume_offered');
  });

  it('defaults to 24 hours', () => {
    expect(shop.config.conversation).toEqual({ resumeAfterMs: DAY });
    expect(life.config.conversation).toEqual({ resumeAfterMs: 2 * DAY });
  });

  it('durations: a whole number with s, m, h or d; 0 and "never" are off', () => {
    expect(durationMs('90s')).toBe(90_000);
    expect(durationMs('30m')).toBe(30 * 60_000);
    expect(durationMs('24h')).toBe(DAY);
    expect(durationMs(' 7 D ')).toBe(7 * DAY);
    expect(durationMs('0h')).toBeNull();
    expect(durationMs('0')).toBeNull();
    expect(durationMs(0)).toBeNull();
    expect(durationMs('never')).toBeNull();
  });

  describe('in bot.yaml', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-life-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const load = (value: string) => {
      fs.writeFileSync(
        path.join(dir, 'bot.yaml'),
        `name: T\nflows: ${JSON.stringify(path.join(FIXTURES, 'flows', 'shop'))}\nknowledge: ${JSON.stringify(path.join(FIXTURES, 'knowledge', 'shop'))}\nactions: ${JSON.stringify(path.join(FIXTURES, 'bots', 'shop', 'actions.ts'))}\nconversation:\n  resumeAfter: ${value}\n`,
      );
      return loadBot(dir);
    };

    it.each([
      ['"30m"', 30 * 60_000],
      ['12h', 12 * HOUR],
      ['never', null],
      ['0', null],
    ])('resumeAfter: %s', (value, ms) => {
      const r = load(value);
      expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
      expect(r.bot!.config.conversation).toEqual({ resumeAfterMs: ms });
    });

    it.each(['24', '"24 hours"', '"2w"', 'true'])('rejects resumeAfter: %s with a precise error', (value) => {
      const r = load(value);
      expect(r.bot).toBeNull();
      expect(r.problems).toEqual([
        expect.objectContaining({ severity: 'error', file: path.join(dir, 'bot.yaml'), line: 6, message: expect.stringContaining('"conversation.resumeAfter"') }),
      ]);
      expect(r.problems[0].message).toContain('like "30m", "24h" or "7d"');
    });

    it('an overridden resume_prompt may use {{flow.title}} (and a misspelt root is still an error)', () => {
      const ok = load('24h');
      expect(ok.bot).not.toBeNull();
      fs.appendFileSync(path.join(dir, 'bot.yaml'), 'messages:\n  resume_prompt: "Back to {{flow.title}}? {{flw.title}}"\n');
      const bad = loadBot(dir);
      expect(bad.problems.filter((p) => p.severity === 'error').map((p) => p.message)).toEqual([expect.stringContaining('flw.title')]);
    });
  });
});

// ------------------------------------------------------------------ resolved and reopened

describe('resolved conversations', () => {
  it('a flow that ends `resolved` resolves the conversation', () => {
    const c = midOrder();
    c.say('AB-123456');
    const r = c.actionOk({ found: true, status: 'shipped', carrier: 'UPS' });
    expect(r.state.status).toBe('resolved');
    expect(r.state.resolvedAt).toBe(new Date(T0).toISOString());
  });

  it('a confirmed knowledge answer resolves it; an answer alone or an unhelpful one does not', () => {
    const c = new Convo();
    let r = c.say('how much is shipping', [['kb.shipping-cost', 0.9]]);
    expect(r.state.status).toBe('active');
    r = c.say('yes');
    expect(r.state.status).toBe('resolved');

    const d = new Convo();
    d.say('how much is shipping', [['kb.shipping-cost', 0.9]]);
    expect(d.say('no').state.status).toBe('active');
    expect(new Convo().say('do you gift wrap', [['kb.gift-wrap', 0.9]]).state.status).toBe('active');
  });

  it('other outcomes leave it active: unresolved, cancelled, a flow without `end: resolved`, a digression that resolves', () => {
    const c = new Convo();
    c.say('rate your service', [['survey', 0.9]]);
    c.say('5');
    expect(c.say('great shop').state).toMatchObject({ status: 'active', stack: [] }); // ends without `end:` (completed)

    const d = new Convo();
    d.say('I want to return something', [['returns', 0.93]]);
    d.say('ada@example.com');
    d.say('where is order AB-123456?', [['order_status', 0.95]]); // a digression that ends resolved
    const r = d.actionOk({ found: true, status: 'shipped', carrier: 'UPS' });
    expect(texts(r)).toEqual([SHIPPED, RESUME, REASON_Q]);
    expect(r.state.status).toBe('active');
  });

  it('a message days later reopens it (event, status active) and is handled as usual, history intact', () => {
    const c = midOrder();
    c.say('AB-123456');
    c.actionOk({ found: true, status: 'shipped', carrier: 'UPS' });
    const before = c.state;
    const r = c.later(5 * DAY).say('I want to return something', [['returns', 0.93]]);
    expect(types(r).slice(0, 4)).toEqual(['customer_message', 'nlu', 'conversation_reopened', 'routed']);
    expect(eventsOf(r, 'conversation_reopened')).toEqual([{ by: 'customer', resolvedAt: new Date(T0).toISOString() }]);
    expect(texts(r)).toEqual([EMAIL_Q]);
    expect(r.state.status).toBe('active');
    expect(r.state).not.toHaveProperty('resolvedAt');
    expect(r.state.turns).toBe(before.turns + 1);
    expect(r.state.profile).toEqual(before.profile);
    expect(r.state.lastIntent).toEqual({ intent: 'returns', confidence: 0.93 });
  });

  it('an unclear message reopens it too (and gets the usual "not sure")', () => {
    const c = new Convo();
    c.say('how much is shipping', [['kb.shipping-cost', 0.9]]);
    c.say('yes');
    const r = c.later(HOUR).say('blorp');
    expect(types(r)).toContain('conversation_reopened');
    expect(types(r)).toContain('fallback');
    expect(r.state.status).toBe('active');
  });

  it('"thanks" or "bye" after it was resolved is answered and leaves it resolved', () => {
    const c = new Convo();
    c.say('how much is shipping', [['kb.shipping-cost', 0.9]]);
    c.say('yes');
    let r = c.say('thanks!', [['builtin.thanks', 0.96]]);
    expect(texts(r)).toEqual(["You're welcome! Is there anything else I can help with?"]);
    expect(r.state.status).toBe('resolved');
    expect(types(r)).not.toContain('conversation_reopened');
    r = c.say('bye', [['builtin.goodbye', 0.95]]);
    expect(r.state.status).toBe('resolved');
    // A doubtful "thanks" counts as a real message.
    expect(c.say('thanks but', [['builtin.thanks', 0.4]]).state.status).toBe('active');
  });

  it('asking for a person reopens it and hands off: handed_off, not resolved', () => {
    const c = new Convo();
    c.say('how much is shipping', [['kb.shipping-cost', 0.9]]);
    c.say('yes');
    const r = c.later(DAY).say('talk to a person', [['builtin.human', 0.95]]);
    expect(types(r)).toContain('conversation_reopened');
    expect(r.state.status).toBe('handed_off');
    expect(r.state).not.toHaveProperty('resolvedAt');
  });

  it('a handed-off conversation stays with the person: no reopening, no "welcome back", one acknowledgement', () => {
    const c = midOrder();
    c.say('talk to a person', [['builtin.human', 0.95]]);
    let r = c.later(5 * DAY).say('hello?', [['builtin.greeting', 0.9]]);
    expect(texts(r)).toEqual(['Hang tight, Ada - a person from our team will reply here.']);
    expect(r.state.status).toBe('handed_off');
    r = c.later(5 * DAY).say('anyone?');
    expect(texts(r)).toEqual([]);
    expect(types(r)).toEqual(['customer_message']);
  });
});

// ------------------------------------------------------------------ old snapshots

describe('states stored before these fields existed', () => {
  /** A version-1 snapshot as Baton wrote it before lastCustomerAt/resolvedAt: waiting for an order number. */
  const OLD = {
    v: 1,
    status: 'active',
    stack: [{ flowId: 'order_status', pc: 0, stepId: 'steps[0]', kind: 'main', waiting: 'collect', attempts: 0 }],
    slots: {},
    vars: {},
    profile: { name: 'Ada' },
    fallbacks: 0,
    pending: null,
    handoff: null,
    lastIntent: { intent: 'order_status', confidence: 0.91 },
    turns: 1,
    channel: 'web',
  };

  it('load as version 1 and work: with no known last message time there is no "welcome back"', () => {
    const state = readState(JSON.parse(JSON.stringify(OLD)));
    expect(state.v).toBe(1);
    const c = new Convo(shop, state).later(90 * DAY);
    const r = c.say('hi', [['builtin.greeting', 0.95]]);
    expect(texts(r)).toEqual(['Hi! How can I help you today?', RESUME, ORDER_Q]);
    expect(r.state.lastCustomerAt).toBe(new Date(T0 + 90 * DAY).toISOString());
    // From now on the time is known.
    expect(texts(c.later(2 * DAY).say('hi', [['builtin.greeting', 0.95]]))).toEqual([PROMPT('Track an order')]);
  });

  it('an old snapshot answered and resolved gets the new fields', () => {
    const c = new Convo(shop, readState(JSON.parse(JSON.stringify(OLD))));
    c.say('AB-123456');
    const r = c.actionOk({ found: true, status: 'shipped', carrier: 'UPS' });
    expect(r.state).toMatchObject({ v: 1, status: 'resolved', resolvedAt: new Date(T0).toISOString(), lastCustomerAt: new Date(T0).toISOString() });
    // …and the result reads back.
    expect(readState(JSON.parse(JSON.stringify(r.state)))).toEqual(r.state);
  });
});

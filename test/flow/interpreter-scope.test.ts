/**
 * Answers versus control intents, and what a digression may not change.
 */
import { interpret, type Context, type Effect, type TurnResult } from '../../src/flow/interpreter';
import { initialState, type ConversationState } from '../../src/flow/state';
import { loadFixtureBot } from '../fixtures';

const bot = loadFixtureBot('scope');
const ctx = (): Context => {
  let n = 0;
  return { now: '2026-03-10T15:00:00.000Z', today: '2026-03-10', newId: () => `id${++n}`, conversationId: 'c' };
};

class Convo {
  state: ConversationState = initialState();
  c = ctx();
  say(text: string, scores: [string, number][] = []): TurnResult {
    const r = interpret(bot, this.state, { type: 'message', text, nlu: { intents: scores.map(([intent, score]) => ({ intent, score })) } }, this.c);
    this.state = r.state;
    return r;
  }
}
const texts = (r: TurnResult) => r.effects.filter((e): e is Extract<Effect, { type: 'send' }> => e.type === 'send').map((e) => e.message.text);

describe('a valid answer wins over "cancel" / "start over" / "talk to a person"', () => {
  it('"yes, cancel it" answers the yes/no question even though it also looks like cancel', () => {
    const c = new Convo();
    c.say('cancel my order', [['cancel_order', 0.9]]);
    c.say('ST-667788');
    const r = c.say('Yes, cancel it', [['builtin.cancel', 0.95]]);
    expect(texts(r)).toEqual(['Cancelled ST-667788 (items of ST-667788).']);
  });

  it('"cancel" that is not an answer stops the flow', () => {
    const c = new Convo();
    c.say('cancel my order', [['cancel_order', 0.9]]);
    const r = c.say('forget it', [['builtin.cancel', 0.9]]);
    expect(r.state.stack).toEqual([]);
    expect(r.events.some((e) => e.type === 'flow_ended' && e.data.outcome === 'cancelled')).toBe(true);
  });
});

describe('asking for a person inside the flow that handles "talk to a person"', () => {
  it('hands off at once instead of starting the flow again', () => {
    const c = new Convo();
    expect(texts(c.say('talk to a person', [['builtin.human', 0.95]]))).toEqual(['Which team do you need?']);
    const r = c.say('just get me a human please', [['builtin.human', 0.9]]);
    expect(r.state.status).toBe('handed_off');
    expect(r.state.handoff).toMatchObject({ reason: 'customer_request' });
    expect(r.state.stack).toEqual([]);
  });
});

describe('digressions', () => {
  it('give the interrupted flow back its own slots and variables', () => {
    const c = new Convo();
    c.say('cancel my order', [['cancel_order', 0.9]]);
    c.say('ST-667788');
    // In the middle of the confirmation, the customer asks about another order.
    const r = c.say('where is order AB-123456?', [['order_status', 0.95]]);
    expect(texts(r)).toEqual(['AB-123456: status of AB-123456.', 'Now, back to where we were.', 'Cancel ST-667788 (items of ST-667788)?']);
    expect(r.state.slots.order_id).toBe('ST-667788');
    expect(r.state.vars.order).toBe('items of ST-667788');
    expect(texts(c.say('yes'))).toEqual(['Cancelled ST-667788 (items of ST-667788).']);
  });
});

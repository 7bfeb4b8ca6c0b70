/**
 * The asynchronous life of a conversation end to end: the conversation service with the
 * in-memory store, an injected clock the test moves forward, a lookup-table intent matcher and
 * the fixture shop bot with its actions. A customer leaves in the middle of a flow, comes back a
 * day later, continues, gets their answer (resolved), and comes back days later (reopened).
 */
import { ConversationService } from '../../src/conversation/service';
import { MemoryStore } from '../../src/store/memory';
import type { Classification, IntentMatcher } from '../../src/nlu/port';
import type { OutMessage } from '../../src/flow/interpreter';
import { readState } from '../../src/flow/state';
import { loadFixtureBot } from '../fixtures';
import * as shopActions from '../fixtures/bots/shop/actions';

class TableMatcher implements IntentMatcher {
  readonly name = 'table';
  constructor(private readonly table: Record<string, [string, number][]>) {}
  async train(): Promise<void> {}
  async classify(text: string): Promise<Classification> {
    const intents = (this.table[text.toLowerCase()] ?? []).map(([intent, score]) => ({ intent, score }));
    return { text, language: 'en', intents, top: intents[0] ?? null };
  }
  exportModel(): string {
    return '{}';
  }
  importModel(): void {}
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 2, 10, 15, 0, 0);
const texts = (o: { replies: OutMessage[] }) => o.replies.map((m) => m.text);

it('leave mid-flow, come back a day later, continue, get resolved, come back days later: reopened', async () => {
  let now = T0;
  let n = 0;
  const store = new MemoryStore();
  const service = new ConversationService({
    bot: loadFixtureBot('shop'),
    store,
    matcher: new TableMatcher({
      'where is my order': [['order_status', 0.92]],
      hi: [['builtin.greeting', 0.95]],
      'i want to return something': [['returns', 0.93]],
    }),
    actions: { ...shopActions },
    clock: () => new Date(now),
    newId: () => `id${++n}`,
  });
  const { conversationId: id } = await service.create({ channel: 'web' });

  expect(texts(await service.send(id, { text: 'where is my order' }))).toEqual(["What's your order number? It looks like AB-123456."]);

  // 25 hours later.
  now += 25 * HOUR;
  let out = await service.send(id, { text: 'hi' });
  expect(texts(out)).toEqual(['Welcome back! We were in the middle of “Track an order”. Would you like to continue or start over?']);
  expect(out.replies[0].quickReplies).toEqual([
    { title: 'Continue', payload: 'resume:continue' },
    { title: 'Start over', payload: 'resume:restart' },
  ]);
  expect(out.state.lastCustomerAt).toBe(new Date(now).toISOString());

  now += 10_000;
  out = await service.send(id, { text: 'Continue', payload: 'resume:continue' });
  expect(texts(out)).toEqual(['Now, back to where we were.', "What's your order number? It looks like AB-123456."]);

  now += 60_000;
  out = await service.send(id, { text: 'AB-123456' });
  expect(texts(out)).toEqual(['Order AB-123456 is shipped with UPS.']);
  expect(out.state).toMatchObject({ status: 'resolved', resolvedAt: new Date(now).toISOString() });

  // Three days later the customer writes again: the conversation reopens with its history.
  now += 3 * DAY;
  out = await service.send(id, { text: 'I want to return something' });
  expect(texts(out)).toEqual(["What's the email address on your account?"]);
  expect(out.state.status).toBe('active');

  const stored = readState((await store.load(id))!.state);
  expect(stored.status).toBe('active');
  expect(stored.resolvedAt).toBeUndefined();

  const events = await store.events(id);
  const life = events.filter((e) => ['resume_offered', 'resume_answered', 'flow_ended', 'conversation_reopened'].includes(e.type));
  expect(life.map((e) => [e.type, e.at, e.data])).toEqual([
    ['resume_offered', new Date(T0 + 25 * HOUR).toISOString(), { flow: 'order_status', step: 'steps[0]', idleSeconds: 25 * 3600 }],
    ['resume_answered', new Date(T0 + 25 * HOUR + 10_000).toISOString(), { flow: 'order_status', choice: 'continue' }],
    ['flow_ended', new Date(T0 + 25 * HOUR + 70_000).toISOString(), { flow: 'order_status', outcome: 'resolved' }],
    ['conversation_reopened', new Date(now).toISOString(), { by: 'customer', resolvedAt: new Date(T0 + 25 * HOUR + 70_000).toISOString() }],
  ]);
  // The customer's history is all there, in order.
  const history = await service.history(id);
  expect(history.filter((e) => e.type === 'customer_message').map((e) => e.data.text)).toEqual([
    'where is my order',
    'hi',
    'Continue',
    'AB-123456',
    'I want to return something',
  ]);
});

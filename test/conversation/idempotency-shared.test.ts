/**
 * Two Baton processes sharing one SQLite database (two services, two store connections):
 * a retried message must be processed once, whichever process receives the retry.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConversationService } from '../../src/conversation/service';
import { SqliteStore } from '../../src/store/sqlite';
import type { Classification, IntentMatcher } from '../../src/nlu/port';
import { loadFixtureBot } from '../fixtures';

class SlowTable implements IntentMatcher {
  readonly name = 'slow-table';
  async train(): Promise<void> {}
  async classify(text: string): Promise<Classification> {
    await new Promise((r) => setTimeout(r, 20));
    const intents = /order/.test(text) ? [{ intent: 'order_status', score: 0.95 }] : [];
    return { text, language: 'en', intents, top: intents[0] ?? null };
  }
  exportModel(): string {
    return '{}';
  }
  importModel(): void {}
}

const bot = loadFixtureBot('shop');
let dir: string;
let stores: SqliteStore[];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-idem-'));
  stores = [];
});
afterEach(async () => {
  for (const s of stores) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function processes(n: number) {
  return Array.from({ length: n }, (_, i) => {
    const store = new SqliteStore({ filename: path.join(dir, 'db.sqlite') });
    stores.push(store);
    let k = 0;
    return new ConversationService({ bot, store, matcher: new SlowTable(), actions: {}, newId: () => `p${i}-${++k}` });
  });
}

describe('a retried message across processes', () => {
  it('is processed once when the retry reaches another process at the same time', async () => {
    const [a, b] = processes(2);
    const { conversationId } = await a.create({});
    const [ra, rb] = await Promise.all([
      a.send(conversationId, { text: 'where is my order', clientMessageId: 'same' }),
      b.send(conversationId, { text: 'where is my order', clientMessageId: 'same' }),
    ]);
    expect([ra.duplicate, rb.duplicate].sort()).toEqual([false, true]);
    expect(rb.replies.map((m) => m.text)).toEqual(ra.replies.map((m) => m.text));
    const events = await stores[0].events(conversationId, { types: ['customer_message'] });
    expect(events).toHaveLength(1);
    expect(events[0].data.clientMessageId).toBe('same');
  });

  it('a later retry gets the original replies from the log', async () => {
    const [a, b] = processes(2);
    const { conversationId } = await a.create({});
    const first = await a.send(conversationId, { text: 'where is my order', clientMessageId: 'm1' });
    await a.send(conversationId, { text: 'AB-123456', clientMessageId: 'm2' });
    const retry = await b.send(conversationId, { text: 'where is my order', clientMessageId: 'm1' });
    expect(retry.duplicate).toBe(true);
    expect(retry.replies.map((m) => m.text)).toEqual(first.replies.map((m) => m.text));
    expect(retry.intent?.intent).toBe('order_status');
  });
});

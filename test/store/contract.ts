/**
 * Contract suite for ConversationStore adapters. Not a test file itself: each adapter's test file
 * calls `storeContract(...)`, so every adapter is held to exactly the same behaviour.
 *
 * `makeStore` is called before every test for a fresh, empty store; the store is closed after the
 * test and then `cleanup` (if given) runs.
 */
import type { JsonObject, JsonValue } from '../../src/util/json';
import {
  ConversationExistsError,
  ConversationNotFoundError,
  ConversationStore,
  DuplicateIdempotencyKeyError,
  NewEvent,
  StaleVersionError,
  StoreClosedError,
  StoreError,
} from '../../src/store';

/** Deterministic canonical timestamps: t(0) = 2024-01-01T00:00:00.000Z, t(n) n seconds later. */
export function t(n: number): string {
  return new Date(Date.UTC(2024, 0, 1) + n * 1000).toISOString();
}

function ev(type: string, data: JsonObject = {}, at = t(0)): NewEvent {
  return { type, at, data };
}

async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

export function storeContract(
  name: string,
  makeStore: () => Promise<ConversationStore>,
  cleanup?: () => Promise<void>,
): void {
  describe(`ConversationStore contract: ${name}`, () => {
    let store: ConversationStore;

    beforeEach(async () => {
      store = await makeStore();
    });

    afterEach(async () => {
      await store.close();
      if (cleanup) await cleanup();
    });

    /** Create conversation `id` and commit it up to `version` (each commit adds one 'tick' event). */
    async function seed(id: string, version = 1, botId = 'bot-a'): Promise<void> {
      await store.create({ id, botId, state: { n: 1 }, at: t(0) });
      for (let v = 1; v < version; v++) {
        await store.commit({ id, expectedVersion: v, state: { n: v + 1 }, events: [ev('tick', { v })], at: t(v) });
      }
    }

    describe('create / load', () => {
      it('round-trips a conversation created at version 1', async () => {
        const state = { step: 'greeting', slots: { name: null, items: [1, 'two', true] }, count: 0 };
        const res = await store.create({ id: 'c1', botId: 'bot-a', state, at: t(1) });
        expect(res).toEqual({ version: 1, events: [] });

        expect(await store.load('c1')).toEqual({
          id: 'c1',
          botId: 'bot-a',
          customerId: null,
          version: 1,
          state,
          createdAt: t(1),
          updatedAt: t(1),
        });
      });

      it('stores initial events with seq starting at 1', async () => {
        const res = await store.create({
          id: 'c1',
          botId: 'bot-a',
          state: {},
          at: t(1),
          events: [ev('started', { channel: 'whatsapp' }, t(1)), ev('message.in', { text: 'hi' }, t(1))],
        });
        expect(res.version).toBe(1);
        expect(res.events).toEqual([
          { seq: 1, conversationId: 'c1', type: 'started', at: t(1), data: { channel: 'whatsapp' } },
          { seq: 2, conversationId: 'c1', type: 'message.in', at: t(1), data: { text: 'hi' } },
        ]);
        expect(await store.events('c1')).toEqual(res.events);
      });

      it('rejects a duplicate id with ConversationExistsError and keeps the original', async () => {
        await store.create({ id: 'c1', botId: 'bot-a', state: { original: true }, at: t(1), events: [ev('a')] });
        const err = await rejectionOf(
          store.create({ id: 'c1', botId: 'bot-b', state: { original: false }, at: t(2), events: [ev('b')] }),
        );
        expect(err).toBeInstanceOf(ConversationExistsError);
        expect(err).toBeInstanceOf(StoreError);
        expect(err).toMatchObject({ code: 'conversation_exists', retryable: false, conversationId: 'c1' });

        const rec = await store.load('c1');
        expect(rec).toMatchObject({ botId: 'bot-a', version: 1, state: { original: true }, updatedAt: t(1) });
        expect((await store.events('c1')).map((e) => e.type)).toEqual(['a']);
      });

      it('returns null for an unknown id', async () => {
        expect(await store.load('nope')).toBeNull();
      });

      it('returns [] events for an unknown id', async () => {
        expect(await store.events('nope')).toEqual([]);
      });

      it('rejects invalid input without writing', async () => {
        await expect(store.create({ id: '', botId: 'b', state: {}, at: t(0) })).rejects.toThrow(TypeError);
        await expect(store.create({ id: 'x', botId: '', state: {}, at: t(0) })).rejects.toThrow(TypeError);
        await expect(
          store.create({ id: 'x', botId: 'b', state: [] as unknown as JsonObject, at: t(0) }),
        ).rejects.toThrow(/state must be a JSON object/);
        await expect(
          store.create({ id: 'x', botId: 'b', state: null as unknown as JsonObject, at: t(0) }),
        ).rejects.toThrow(TypeError);
        // Only the canonical toISOString() form is accepted (it is what list ordering relies on).
        await expect(store.create({ id: 'x', botId: 'b', state: {}, at: '2024-01-01T00:00:00Z' })).rejects.toThrow(
          /toISOString/,
        );
        await expect(store.create({ id: 'x', botId: 'b', state: {}, at: 'yesterday' })).rejects.toThrow(TypeError);
        await expect(
          store.create({ id: 'x', botId: 'b', state: {}, at: t(0), events: [{ type: '', at: t(0), data: {} }] }),
        ).rejects.toThrow(TypeError);
        expect(await store.load('x')).toBeNull();
      });
    });

    describe('commit', () => {
      it('increments the version, replaces the snapshot and appends events with increasing seq', async () => {
        await store.create({ id: 'c1', botId: 'bot-a', state: { step: 0 }, at: t(0), events: [ev('started')] });

        const r1 = await store.commit({
          id: 'c1',
          expectedVersion: 1,
          state: { step: 1 },
          events: [ev('message.in', { text: 'a' }, t(1)), ev('reply', { text: 'b' }, t(1))],
          at: t(1),
        });
        expect(r1.version).toBe(2);
        expect(r1.events.map((e) => [e.seq, e.type])).toEqual([
          [2, 'message.in'],
          [3, 'reply'],
        ]);
        expect(r1.events.every((e) => e.conversationId === 'c1')).toBe(true);

        const r2 = await store.commit({ id: 'c1', expectedVersion: 2, state: { step: 2 }, events: [], at: t(2) });
        expect(r2).toEqual({ version: 3, events: [] });

        const r3 = await store.commit({ id: 'c1', expectedVersion: 3, state: { step: 3 }, events: [ev('x')], at: t(3) });
        expect(r3.version).toBe(4);
        expect(r3.events[0].seq).toBe(4);

        expect(await store.load('c1')).toEqual({
          id: 'c1',
          botId: 'bot-a',
          customerId: null,
          version: 4,
          state: { step: 3 },
          createdAt: t(0),
          updatedAt: t(3),
        });
        const all = await store.events('c1');
        expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
        expect(all.map((e) => e.type)).toEqual(['started', 'message.in', 'reply', 'x']);
      });

      it('numbers seq per conversation', async () => {
        await seed('a', 3);
        await seed('b', 2);
        expect((await store.events('a')).map((e) => e.seq)).toEqual([1, 2]);
        expect((await store.events('b')).map((e) => e.seq)).toEqual([1]);
      });

      it('rejects a stale version with StaleVersionError and writes nothing', async () => {
        await seed('c1', 3);
        const before = await store.load('c1');
        const eventsBefore = await store.events('c1');

        const err = await rejectionOf(
          store.commit({
            id: 'c1',
            expectedVersion: 2,
            state: { clobbered: true },
            events: [ev('should-not-exist')],
            at: t(99),
            idempotency: { key: 'k-stale', value: 'v' },
          }),
        );
        expect(err).toBeInstanceOf(StaleVersionError);
        const stale = err as StaleVersionError;
        expect(stale.code).toBe('stale_version');
        expect(stale.retryable).toBe(true);
        expect(stale.conversationId).toBe('c1');
        expect(stale.expectedVersion).toBe(2);
        expect(stale.actualVersion).toBe(3);
        expect(stale.message).toContain('c1');
        expect(stale.message).toContain('2');
        expect(stale.message).toContain('3');
        expect(stale.message).toMatch(/reload/i);
        expect(stale.message).toMatch(/retry/i);

        expect(await store.load('c1')).toEqual(before);
        expect(await store.events('c1')).toEqual(eventsBefore);
        expect(await store.getIdempotent('c1', 'k-stale')).toBeUndefined();

        // A version from the future is stale too.
        await expect(
          store.commit({ id: 'c1', expectedVersion: 7, state: {}, events: [], at: t(99) }),
        ).rejects.toBeInstanceOf(StaleVersionError);
        expect(await store.load('c1')).toEqual(before);
      });

      it('lets exactly one of several concurrent commits with the same expectedVersion win', async () => {
        await seed('c1', 1);
        const attempts = Array.from({ length: 8 }, (_, i) =>
          store.commit({
            id: 'c1',
            expectedVersion: 1,
            state: { winner: i },
            events: [ev('attempt', { i }), ev('attempt.more', { i })],
            at: t(10 + i),
          }),
        );
        const settled = await Promise.allSettled(attempts);
        const won = settled.filter((s) => s.status === 'fulfilled');
        const lost = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(7);
        for (const l of lost) expect(l.reason).toBeInstanceOf(StaleVersionError);

        const winner = settled.findIndex((s) => s.status === 'fulfilled');
        const rec = await store.load('c1');
        expect(rec?.version).toBe(2);
        expect(rec?.state).toEqual({ winner });
        const events = await store.events('c1');
        expect(events.map((e) => [e.seq, e.type, e.data.i])).toEqual([
          [1, 'attempt', winner],
          [2, 'attempt.more', winner],
        ]);
      });

      it('throws ConversationNotFoundError for an unknown id and writes nothing', async () => {
        const err = await rejectionOf(
          store.commit({
            id: 'ghost',
            expectedVersion: 1,
            state: {},
            events: [ev('x')],
            at: t(1),
            idempotency: { key: 'k', value: 1 },
          }),
        );
        expect(err).toBeInstanceOf(ConversationNotFoundError);
        expect(err).toMatchObject({ code: 'conversation_not_found', retryable: false, conversationId: 'ghost' });
        expect(await store.load('ghost')).toBeNull();
        expect(await store.events('ghost')).toEqual([]);
        expect(await store.getIdempotent('ghost', 'k')).toBeUndefined();
        expect(await store.list()).toEqual([]);
      });

      it('rejects unserialisable input before writing anything', async () => {
        await seed('c1', 1);
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        await expect(
          store.commit({
            id: 'c1',
            expectedVersion: 1,
            state: { ok: true },
            events: [ev('fine'), ev('fine2'), { type: 'bad', at: t(1), data: cyclic as JsonObject }],
            at: t(1),
          }),
        ).rejects.toThrow(TypeError);
        await expect(
          store.commit({
            id: 'c1',
            expectedVersion: 1,
            state: { big: 1n } as unknown as JsonObject,
            events: [ev('fine')],
            at: t(1),
          }),
        ).rejects.toThrow(TypeError);
        await expect(
          store.commit({ id: 'c1', expectedVersion: 0, state: {}, events: [], at: t(1) }),
        ).rejects.toThrow(TypeError);
        expect(await store.load('c1')).toMatchObject({ version: 1, state: { n: 1 } });
        expect(await store.events('c1')).toEqual([]);
      });
    });

    describe('events paging', () => {
      const types = ['message.in', 'reply', 'note'];
      beforeEach(async () => {
        // 30 events: seq s has type types[(s - 1) % 3] and data { s }.
        await store.create({ id: 'c1', botId: 'bot-a', state: {}, at: t(0) });
        for (let v = 1; v <= 10; v++) {
          const evs = [0, 1, 2].map((k) => ev(types[k], { s: (v - 1) * 3 + k + 1 }, t(v)));
          await store.commit({ id: 'c1', expectedVersion: v, state: { v }, events: evs, at: t(v) });
        }
      });

      it('returns all events in seq order by default', async () => {
        const all = await store.events('c1');
        expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
        expect(all.every((e) => e.data.s === e.seq)).toBe(true);
        expect(all[3]).toEqual({ seq: 4, conversationId: 'c1', type: 'message.in', at: t(2), data: { s: 4 } });
      });

      it('treats afterSeq as exclusive and applies limit', async () => {
        expect((await store.events('c1', { afterSeq: 10, limit: 3 })).map((e) => e.seq)).toEqual([11, 12, 13]);
        expect((await store.events('c1', { afterSeq: 0, limit: 1 })).map((e) => e.seq)).toEqual([1]);
        expect((await store.events('c1', { afterSeq: 28 })).map((e) => e.seq)).toEqual([29, 30]);
        expect(await store.events('c1', { afterSeq: 30 })).toEqual([]);
        expect(await store.events('c1', { afterSeq: 1000 })).toEqual([]);
      });

      it('pages through everything without gaps or repeats', async () => {
        const seen: number[] = [];
        let after = 0;
        for (;;) {
          const page = await store.events('c1', { afterSeq: after, limit: 7 });
          if (page.length === 0) break;
          seen.push(...page.map((e) => e.seq));
          after = page[page.length - 1].seq;
        }
        expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      });

      it('filters by types, combined with afterSeq and limit', async () => {
        const replies = await store.events('c1', { types: ['reply'] });
        expect(replies.map((e) => e.seq)).toEqual([2, 5, 8, 11, 14, 17, 20, 23, 26, 29]);
        expect(replies.every((e) => e.type === 'reply')).toBe(true);

        const two = await store.events('c1', { types: ['note', 'message.in'], afterSeq: 4, limit: 4 });
        expect(two.map((e) => [e.seq, e.type])).toEqual([
          [6, 'note'],
          [7, 'message.in'],
          [9, 'note'],
          [10, 'message.in'],
        ]);
        expect(await store.events('c1', { types: ['nope'] })).toEqual([]);
        expect(await store.events('c1', { types: [] })).toEqual([]);
      });

      it('rejects an invalid limit or afterSeq', async () => {
        await expect(store.events('c1', { limit: 0 })).rejects.toThrow(RangeError);
        await expect(store.events('c1', { limit: -5 })).rejects.toThrow(RangeError);
        await expect(store.events('c1', { limit: 1.5 })).rejects.toThrow(RangeError);
        await expect(store.events('c1', { afterSeq: -1 })).rejects.toThrow(RangeError);
        await expect(store.events('c1', { afterSeq: Number.NaN })).rejects.toThrow(RangeError);
      });
    });

    describe('events limits', () => {
      it('defaults to 1000 and clamps to 10000', async () => {
        await store.create({ id: 'big', botId: 'bot-a', state: {}, at: t(0) });
        const many = Array.from({ length: 10005 }, (_, i) => ev('e', { i }));
        const res = await store.commit({ id: 'big', expectedVersion: 1, state: {}, events: many, at: t(1) });
        expect(res.events).toHaveLength(10005);
        expect(res.events[10004].seq).toBe(10005);

        expect(await store.events('big')).toHaveLength(1000);
        expect(await store.events('big', { limit: 2000 })).toHaveLength(2000);
        const clamped = await store.events('big', { limit: 50000 });
        expect(clamped).toHaveLength(10000);
        expect(clamped[9999].seq).toBe(10000);
        expect((await store.events('big', { afterSeq: 10000, limit: 50000 })).map((e) => e.seq)).toEqual([
          10001, 10002, 10003, 10004, 10005,
        ]);
      });
    });

    describe('list', () => {
      beforeEach(async () => {
        await store.create({ id: 'a1', botId: 'bot-a', state: { n: 'a1' }, at: t(1) });
        await store.create({ id: 'b1', botId: 'bot-b', state: { n: 'b1' }, at: t(2) });
        await store.create({ id: 'a2', botId: 'bot-a', state: { n: 'a2' }, at: t(3) });
        await store.create({ id: 'a3', botId: 'bot-a', state: { n: 'a3' }, at: t(4) });
        // a1 becomes the most recently updated.
        await store.commit({ id: 'a1', expectedVersion: 1, state: { n: 'a1*' }, events: [], at: t(10) });
      });

      it('orders by most recently updated first', async () => {
        const all = await store.list();
        expect(all.map((c) => c.id)).toEqual(['a1', 'a3', 'a2', 'b1']);
        expect(all[0]).toEqual({
          id: 'a1',
          botId: 'bot-a',
          customerId: null,
          version: 2,
          state: { n: 'a1*' },
          createdAt: t(1),
          updatedAt: t(10),
        });
      });

      it('filters by botId and applies limit', async () => {
        expect((await store.list({ botId: 'bot-a' })).map((c) => c.id)).toEqual(['a1', 'a3', 'a2']);
        expect((await store.list({ botId: 'bot-b' })).map((c) => c.id)).toEqual(['b1']);
        expect(await store.list({ botId: 'bot-z' })).toEqual([]);
        expect((await store.list({ botId: 'bot-a', limit: 2 })).map((c) => c.id)).toEqual(['a1', 'a3']);
        expect((await store.list({ limit: 1 })).map((c) => c.id)).toEqual(['a1']);
        await expect(store.list({ limit: 0 })).rejects.toThrow(RangeError);
      });

      it('breaks ties on updatedAt by id', async () => {
        await store.create({ id: 'z', botId: 'bot-t', state: {}, at: t(50) });
        await store.create({ id: 'm', botId: 'bot-t', state: {}, at: t(50) });
        await store.create({ id: 'é', botId: 'bot-t', state: {}, at: t(50) });
        await store.create({ id: '😀', botId: 'bot-t', state: {}, at: t(50) });
        await store.create({ id: '\uffee', botId: 'bot-t', state: {}, at: t(50) });
        await store.create({ id: 'old', botId: 'bot-t', state: {}, at: t(49) });
        // Code point (UTF-8 byte) order: 'm' < 'z' < 'é' < U+FFEE < U+1F600.
        expect((await store.list({ botId: 'bot-t' })).map((c) => c.id)).toEqual(['m', 'z', 'é', '\uffee', '😀', 'old']);
      });
    });

    describe('customer identity', () => {
      it('round-trips customerId through create, load, commit and list (absent → null)', async () => {
        await store.create({ id: 'c1', botId: 'bot-a', customerId: 'cust-1', state: { n: 1 }, at: t(1) });
        await store.create({ id: 'c2', botId: 'bot-a', state: {}, at: t(2) });
        await store.create({ id: 'c3', botId: 'bot-a', customerId: null, state: {}, at: t(3) });
        expect(await store.load('c1')).toEqual({
          id: 'c1',
          botId: 'bot-a',
          customerId: 'cust-1',
          version: 1,
          state: { n: 1 },
          createdAt: t(1),
          updatedAt: t(1),
        });
        expect((await store.load('c2'))!.customerId).toBeNull();
        expect((await store.load('c3'))!.customerId).toBeNull();

        // A commit keeps the customer.
        await store.commit({ id: 'c1', expectedVersion: 1, state: { n: 2 }, events: [ev('x')], at: t(4) });
        expect(await store.load('c1')).toMatchObject({ customerId: 'cust-1', version: 2, updatedAt: t(4) });
        expect((await store.list()).map((c) => [c.id, c.customerId])).toEqual([
          ['c1', 'cust-1'],
          ['c3', null],
          ['c2', null],
        ]);

        // Unicode customer ids round-trip too.
        await store.create({ id: 'c4', botId: 'bot-a', customerId: 'клиент-😀', state: {}, at: t(5) });
        expect((await store.load('c4'))!.customerId).toBe('клиент-😀');
        expect((await store.list({ customerId: 'клиент-😀' })).map((c) => c.id)).toEqual(['c4']);
      });

      it('rejects an invalid customerId without writing', async () => {
        await expect(
          store.create({ id: 'x', botId: 'bot-a', customerId: '', state: {}, at: t(0) }),
        ).rejects.toThrow(/customerId/);
        await expect(
          store.create({ id: 'x', botId: 'bot-a', customerId: 42 as unknown as string, state: {}, at: t(0) }),
        ).rejects.toThrow(TypeError);
        expect(await store.load('x')).toBeNull();
        await expect(store.list({ customerId: '' })).rejects.toThrow(TypeError);
        await expect(store.list({ customerId: 7 as unknown as string })).rejects.toThrow(TypeError);
      });

      describe('list by customer', () => {
        beforeEach(async () => {
          // cust-1 talks to two bots from several devices; cust-2 and anonymous conversations mixed in.
          await store.create({ id: 'k1', botId: 'bot-a', customerId: 'cust-1', state: {}, at: t(1) });
          await store.create({ id: 'k2', botId: 'bot-b', customerId: 'cust-1', state: {}, at: t(2) });
          await store.create({ id: 'k3', botId: 'bot-a', customerId: 'cust-2', state: {}, at: t(3) });
          await store.create({ id: 'k4', botId: 'bot-a', state: {}, at: t(4) });
          await store.create({ id: 'k5', botId: 'bot-a', customerId: 'cust-1', state: {}, at: t(5) });
          // k1 becomes the most recently updated of cust-1's conversations.
          await store.commit({ id: 'k1', expectedVersion: 1, state: { again: true }, events: [], at: t(20) });
        });

        it('returns only that customer’s conversations, most recently updated first', async () => {
          const mine = await store.list({ customerId: 'cust-1' });
          expect(mine.map((c) => c.id)).toEqual(['k1', 'k5', 'k2']);
          expect(mine.every((c) => c.customerId === 'cust-1')).toBe(true);
          expect(mine[0]).toMatchObject({ id: 'k1', version: 2, state: { again: true }, updatedAt: t(20) });
          expect((await store.list({ customerId: 'cust-2' })).map((c) => c.id)).toEqual(['k3']);
          expect(await store.list({ customerId: 'nobody' })).toEqual([]);
        });

        it('combines with botId and limit', async () => {
          expect((await store.list({ customerId: 'cust-1', botId: 'bot-a' })).map((c) => c.id)).toEqual(['k1', 'k5']);
          expect((await store.list({ customerId: 'cust-1', botId: 'bot-b' })).map((c) => c.id)).toEqual(['k2']);
          expect(await store.list({ customerId: 'cust-2', botId: 'bot-b' })).toEqual([]);
          expect((await store.list({ customerId: 'cust-1', limit: 2 })).map((c) => c.id)).toEqual(['k1', 'k5']);
          expect((await store.list({ customerId: 'cust-1', botId: 'bot-a', limit: 1 })).map((c) => c.id)).toEqual(['k1']);
          await expect(store.list({ customerId: 'cust-1', limit: 0 })).rejects.toThrow(RangeError);
          // Without a customer filter, anonymous conversations are listed too.
          expect((await store.list({ botId: 'bot-a' })).map((c) => c.id)).toEqual(['k1', 'k5', 'k4', 'k3']);
        });

        it('breaks ties on updatedAt by id (code point order)', async () => {
          for (const id of ['z', 'é', 'm', '😀']) {
            await store.create({ id, botId: 'bot-t', customerId: 'cust-t', state: {}, at: t(50) });
          }
          await store.create({ id: 'older', botId: 'bot-t', customerId: 'cust-t', state: {}, at: t(49) });
          expect((await store.list({ customerId: 'cust-t' })).map((c) => c.id)).toEqual(['m', 'z', 'é', '😀', 'older']);
        });
      });
    });

    describe('idempotency', () => {
      it('stores the key with the commit and getIdempotent returns it', async () => {
        await seed('c1', 1);
        expect(await store.getIdempotent('c1', 'msg-1')).toBeUndefined();
        const value = { replied: ['hello', 'how can I help?'], at: t(1) };
        await store.commit({
          id: 'c1',
          expectedVersion: 1,
          state: { n: 2 },
          events: [ev('reply')],
          at: t(1),
          idempotency: { key: 'msg-1', value },
        });
        expect(await store.getIdempotent('c1', 'msg-1')).toEqual(value);
        // Keys are per conversation.
        expect(await store.getIdempotent('c2', 'msg-1')).toBeUndefined();
        expect(await store.getIdempotent('c1', 'msg-2')).toBeUndefined();
      });

      it('round-trips scalar values, including null and false', async () => {
        await seed('c1', 1);
        const values: JsonValue[] = [null, false, 0, '', 'text', [1, [2]]];
        for (let i = 0; i < values.length; i++) {
          await store.commit({
            id: 'c1',
            expectedVersion: i + 1,
            state: {},
            events: [],
            at: t(i + 1),
            idempotency: { key: `k${i}`, value: values[i] },
          });
        }
        for (let i = 0; i < values.length; i++) expect(await store.getIdempotent('c1', `k${i}`)).toEqual(values[i]);
      });

      it('rejects a duplicate key with DuplicateIdempotencyKeyError and writes nothing', async () => {
        await seed('c1', 1);
        await store.commit({
          id: 'c1',
          expectedVersion: 1,
          state: { n: 2 },
          events: [ev('first')],
          at: t(1),
          idempotency: { key: 'msg-1', value: 'first' },
        });
        const before = await store.load('c1');
        const eventsBefore = await store.events('c1');

        // With the current version: the key is the only problem.
        const err = await rejectionOf(
          store.commit({
            id: 'c1',
            expectedVersion: 2,
            state: { n: 'dup' },
            events: [ev('second')],
            at: t(2),
            idempotency: { key: 'msg-1', value: 'second' },
          }),
        );
        expect(err).toBeInstanceOf(DuplicateIdempotencyKeyError);
        expect(err).toMatchObject({
          code: 'duplicate_idempotency_key',
          retryable: false,
          conversationId: 'c1',
          key: 'msg-1',
        });
        // With a stale version too, the duplicate key is reported (it is the more useful answer:
        // the operation is already done, do not retry it).
        await expect(
          store.commit({
            id: 'c1',
            expectedVersion: 1,
            state: { n: 'dup' },
            events: [ev('second')],
            at: t(2),
            idempotency: { key: 'msg-1', value: 'second' },
          }),
        ).rejects.toBeInstanceOf(DuplicateIdempotencyKeyError);

        expect(await store.load('c1')).toEqual(before);
        expect(await store.events('c1')).toEqual(eventsBefore);
        expect(await store.getIdempotent('c1', 'msg-1')).toBe('first');

        // The same key on another conversation is fine.
        await seed('c2', 1);
        await expect(
          store.commit({
            id: 'c2',
            expectedVersion: 1,
            state: {},
            events: [],
            at: t(3),
            idempotency: { key: 'msg-1', value: 'c2' },
          }),
        ).resolves.toMatchObject({ version: 2 });
        expect(await store.getIdempotent('c2', 'msg-1')).toBe('c2');
        expect(await store.getIdempotent('c1', 'msg-1')).toBe('first');
      });

      it('lets exactly one of concurrent commits with the same key win', async () => {
        await seed('c1', 1);
        const settled = await Promise.allSettled(
          [0, 1, 2, 3].map((i) =>
            store.commit({
              id: 'c1',
              expectedVersion: 1,
              state: { i },
              events: [ev('e', { i })],
              at: t(1),
              idempotency: { key: 'same', value: i },
            }),
          ),
        );
        expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
        const winner = settled.findIndex((s) => s.status === 'fulfilled');
        for (const s of settled) {
          if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(StoreError);
        }
        expect(await store.getIdempotent('c1', 'same')).toBe(winner);
        expect((await store.events('c1')).map((e) => e.data.i)).toEqual([winner]);
      });

      it('rejects a value JSON cannot represent', async () => {
        await seed('c1', 1);
        await expect(
          store.commit({
            id: 'c1',
            expectedVersion: 1,
            state: {},
            events: [],
            at: t(1),
            idempotency: { key: 'k', value: undefined as unknown as JsonValue },
          }),
        ).rejects.toThrow(TypeError);
        expect(await store.load('c1')).toMatchObject({ version: 1 });
      });
    });

    describe('copies', () => {
      it('returns copies: mutating a returned object does not change the store', async () => {
        const created = await store.create({
          id: 'c1',
          botId: 'bot-a',
          state: { nested: { list: [1, 2] } },
          at: t(0),
          events: [ev('e', { deep: { x: 1 } })],
        });
        created.events[0].data.deep = 'mutated';

        const rec = await store.load('c1');
        (rec!.state.nested as JsonObject).list = ['mutated'];
        rec!.version = 99;

        const evs = await store.events('c1');
        (evs[0].data.deep as JsonObject).x = 'mutated';
        evs[0].seq = 42;

        const listed = await store.list();
        listed[0].state.nested = null;

        const committed = await store.commit({
          id: 'c1',
          expectedVersion: 1,
          state: { nested: { list: [3] } },
          events: [ev('f', { y: [1] })],
          at: t(1),
          idempotency: { key: 'k', value: { result: [1] } },
        });
        (committed.events[0].data.y as JsonValue[]).push(2);

        const idem = (await store.getIdempotent('c1', 'k')) as JsonObject;
        (idem.result as JsonValue[]).push(2);

        expect(await store.load('c1')).toMatchObject({ version: 2, state: { nested: { list: [3] } } });
        expect((await store.events('c1')).map((e) => [e.seq, e.data])).toEqual([
          [1, { deep: { x: 1 } }],
          [2, { y: [1] }],
        ]);
        expect(await store.getIdempotent('c1', 'k')).toEqual({ result: [1] });
        // Two loads never share objects.
        const l1 = await store.load('c1');
        const l2 = await store.load('c1');
        expect(l1!.state).not.toBe(l2!.state);
      });

      it('copies on the way in: mutating the input after the call does not change the store', async () => {
        const state: JsonObject = { a: { b: [1] } };
        const data: JsonObject = { d: [1] };
        const events: NewEvent[] = [{ type: 'e', at: t(0), data }];
        await store.create({ id: 'c1', botId: 'bot-a', state, at: t(0), events });
        ((state.a as JsonObject).b as JsonValue[]).push(2);
        (data.d as JsonValue[]).push(2);
        events[0].type = 'mutated';

        const value: JsonObject = { v: [1] };
        const nextState: JsonObject = { s: 1 };
        await store.commit({
          id: 'c1',
          expectedVersion: 1,
          state: nextState,
          events: [],
          at: t(1),
          idempotency: { key: 'k', value },
        });
        (value.v as JsonValue[]).push(2);
        nextState.s = 2;

        expect((await store.load('c1'))!.state).toEqual({ s: 1 });
        expect(await store.events('c1')).toEqual([
          { seq: 1, conversationId: 'c1', type: 'e', at: t(0), data: { d: [1] } },
        ]);
        expect(await store.getIdempotent('c1', 'k')).toEqual({ v: [1] });
      });

      it('stores non-JSON values the way a JSON round trip makes them', async () => {
        const weird = {
          arr: [undefined, () => 1, Number.NaN, Infinity, new Date(0), -0],
          gone: undefined,
          fn: () => 1,
          date: new Date(Date.UTC(2024, 1, 2)),
          nested: { toJSON: () => ({ replaced: true }) },
        } as unknown as JsonObject;
        await store.create({ id: 'c1', botId: 'bot-a', state: weird, at: t(0), events: [ev('e', weird)] });
        const expected = {
          arr: [null, null, null, null, '1970-01-01T00:00:00.000Z', 0],
          date: '2024-02-02T00:00:00.000Z',
          nested: { replaced: true },
        };
        expect((await store.load('c1'))!.state).toEqual(expected);
        expect((await store.events('c1'))[0].data).toEqual(expected);
        expect((await store.load('c1'))!.state).toEqual(JSON.parse(JSON.stringify(weird)));
      });
    });

    describe('content', () => {
      it('round-trips unicode in ids, state, event types and data', async () => {
        const id = 'conv-ünïcødé-日本語-😀';
        const state: JsonObject = {
          greeting: 'Здравствуйте! مرحبا 👋🏽 こんにちは',
          combining: 'e\u0301 vs é',
          zwj: '👩‍👩‍👧‍👦',
          control: 'nul:\u0000 tab:\t newline:\n quote:" backslash:\\',
          loneSurrogate: '\ud800',
          'ключ 🔑': { 'ネスト': ['✓', '✗'] },
          lineSep: '\u2028\u2029',
        };
        await store.create({ id, botId: 'бот-1', state, at: t(0) });
        await store.commit({ id, expectedVersion: 1, state, events: [ev('сообщение.in', state)], at: t(1) });
        const rec = await store.load(id);
        expect(rec).toMatchObject({ id, botId: 'бот-1', state });
        const [e] = await store.events(id, { types: ['сообщение.in'] });
        expect(e).toMatchObject({ conversationId: id, type: 'сообщение.in', data: state });
        expect((await store.list({ botId: 'бот-1' })).map((c) => c.id)).toEqual([id]);
      });

      it('round-trips a large (100 KB+) state and event', async () => {
        const blob = 'x'.repeat(100 * 1024);
        const rows = Array.from({ length: 2000 }, (_, i) => ({ i, text: `row ${i} — ✓`, flag: i % 2 === 0 }));
        const state: JsonObject = { blob, rows };
        expect(JSON.stringify(state).length).toBeGreaterThan(150 * 1024);
        await store.create({ id: 'big', botId: 'bot-a', state, at: t(0) });
        await store.commit({ id: 'big', expectedVersion: 1, state, events: [ev('big', { blob })], at: t(1) });
        expect((await store.load('big'))!.state).toEqual(state);
        expect((await store.events('big'))[0].data.blob).toBe(blob);
      });
    });

    describe('close', () => {
      it('is idempotent and makes later calls fail with StoreClosedError', async () => {
        await seed('c1', 1);
        await store.close();
        await store.close();
        await expect(store.load('c1')).rejects.toBeInstanceOf(StoreClosedError);
        await expect(
          store.commit({ id: 'c1', expectedVersion: 1, state: {}, events: [], at: t(1) }),
        ).rejects.toMatchObject({ code: 'store_closed' });
        await expect(store.list()).rejects.toBeInstanceOf(StoreClosedError);
      });
    });
  });
}

/**
 * SqliteStore group commit: the first commit of an event-loop iteration is written at once; the
 * ones that follow in the same iteration share one transaction, each in its own savepoint.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConversationNotFoundError, DuplicateIdempotencyKeyError, SqliteStore, StaleVersionError } from '../../src/store';
import { t } from './contract';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function fileStore(): SqliteStore {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-group-'));
  dirs.push(dir);
  return new SqliteStore({ filename: path.join(dir, 'store.db') });
}

describe('SqliteStore group commit', () => {
  it('commits issued together succeed or fail one by one, and a failure writes nothing of its own', async () => {
    const store = fileStore();
    try {
      for (const id of ['a', 'b', 'c', 'd']) await store.create({ id, botId: 'bot', state: { n: 0 }, at: t(0) });
      await store.commit({ id: 'd', expectedVersion: 1, state: { n: 1 }, events: [{ type: 'first', at: t(1), data: {} }], at: t(1), idempotency: { key: 'k', value: 1 } });
      const ev = (type: string) => [{ type, at: t(2), data: { type } }];
      const settled = await Promise.allSettled([
        store.commit({ id: 'a', expectedVersion: 1, state: { n: 1 }, events: ev('a1'), at: t(2) }),
        store.commit({ id: 'b', expectedVersion: 7, state: { n: 1 }, events: ev('stale'), at: t(2) }),
        store.commit({ id: 'c', expectedVersion: 1, state: { n: 1 }, events: ev('c1'), at: t(2), idempotency: { key: 'k', value: 2 } }),
        store.commit({ id: 'd', expectedVersion: 2, state: { n: 2 }, events: ev('dup'), at: t(2), idempotency: { key: 'k', value: 3 } }),
        store.commit({ id: 'nope', expectedVersion: 1, state: {}, events: ev('missing'), at: t(2) }),
        store.commit({ id: 'a', expectedVersion: 2, state: { n: 2 }, events: ev('a2'), at: t(2) }),
      ]);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
      const reason = (i: number) => (settled[i] as PromiseRejectedResult).reason;
      expect(reason(1)).toBeInstanceOf(StaleVersionError);
      expect(reason(3)).toBeInstanceOf(DuplicateIdempotencyKeyError);
      expect(reason(4)).toBeInstanceOf(ConversationNotFoundError);
      expect((settled[5] as PromiseFulfilledResult<{ version: number; events: { seq: number }[] }>).value).toMatchObject({ version: 3, events: [{ seq: 2 }] });

      expect((await store.events('a')).map((e) => e.type)).toEqual(['a1', 'a2']);
      expect(await store.events('b')).toEqual([]);
      expect((await store.load('b'))?.version).toBe(1);
      expect((await store.events('c')).map((e) => e.type)).toEqual(['c1']);
      expect(await store.getIdempotent('c', 'k')).toBe(2);
      expect((await store.events('d')).map((e) => e.type)).toEqual(['first']);
      expect(await store.getIdempotent('d', 'k')).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('close() writes the commits still queued before closing', async () => {
    const store = fileStore();
    await store.create({ id: 'a', botId: 'bot', state: {}, at: t(0) });
    await store.create({ id: 'b', botId: 'bot', state: {}, at: t(0) });
    // The first commit of an event-loop iteration is written at once, the second one is queued.
    const first = store.commit({ id: 'a', expectedVersion: 1, state: { done: 'a' }, events: [{ type: 'x', at: t(1), data: {} }], at: t(1) });
    const queued = store.commit({ id: 'b', expectedVersion: 1, state: { done: 'b' }, events: [{ type: 'x', at: t(1), data: {} }], at: t(1) });
    await store.close();
    await expect(first).resolves.toMatchObject({ version: 2 });
    await expect(queued).resolves.toMatchObject({ version: 2 });
    const reopened = new SqliteStore({ filename: store.filename });
    try {
      expect((await reopened.load('a'))?.state).toEqual({ done: 'a' });
      expect((await reopened.load('b'))?.state).toEqual({ done: 'b' });
    } finally {
      await reopened.close();
    }
  });

  it("a conversation's next commit in the same iteration is written at once; other conversations' wait for the flush", async () => {
    const store = fileStore();
    try {
      for (const id of ['a', 'b']) await store.create({ id, botId: 'bot', state: {}, at: t(0) });
      await new Promise((r) => setImmediate(r));
      const a1 = store.commit({ id: 'a', expectedVersion: 1, state: { n: 1 }, events: [], at: t(1) });
      const b1 = store.commit({ id: 'b', expectedVersion: 1, state: { n: 1 }, events: [], at: t(1) });
      const a2 = store.commit({ id: 'a', expectedVersion: 2, state: { n: 2 }, events: [], at: t(2) });
      const [ra, rb] = await Promise.all([store.load('a'), store.load('b')]);
      expect(ra?.version).toBe(3);
      expect(rb?.version).toBe(1); // queued until the end of the iteration
      await expect(Promise.all([a1, b1, a2])).resolves.toMatchObject([{ version: 2 }, { version: 2 }, { version: 3 }]);
      expect((await store.load('b'))?.version).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('a commit alone in its event-loop iteration is written before commit() returns its promise', async () => {
    const store = fileStore();
    try {
      await store.create({ id: 'a', botId: 'bot', state: {}, at: t(0) });
      await new Promise((r) => setImmediate(r));
      const pending = store.commit({ id: 'a', expectedVersion: 1, state: { n: 1 }, events: [], at: t(1) });
      // Visible to a read issued right away, without waiting for the end of the iteration.
      expect((await store.load('a'))?.version).toBe(2);
      await expect(pending).resolves.toMatchObject({ version: 2 });
    } finally {
      await store.close();
    }
  });
});

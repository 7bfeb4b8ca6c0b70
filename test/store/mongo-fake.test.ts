import { MongoStore } from '../../src/store/mongo';
import { storeContract } from './contract';
import { FakeMongo, virtualTime } from './mongo-fake';

storeContract('MongoStore algorithms, compare-and-swap mode (in-memory MongoBackend double)', async () => {
  const { clock, sleep } = virtualTime();
  return new MongoStore({ backend: new FakeMongo().client() }, { transactions: 'never', clock, sleep });
});

storeContract('MongoStore algorithms, transaction mode (in-memory MongoBackend double)', async () => {
  const db = new FakeMongo();
  db.transactions = true;
  const { clock, sleep } = virtualTime();
  return new MongoStore({ backend: db.client() }, { clock, sleep });
});

// ---------------------------------------------------------------------------------------------
// The compare-and-swap algorithm, step by step (no server: FakeMongo)
// ---------------------------------------------------------------------------------------------

import {
  ConversationExistsError,
  ConversationRecord,
  DuplicateIdempotencyKeyError,
  StaleVersionError,
  StoredEvent,
} from '../../src/store';
import { DuplicateKeyConflict } from '../../src/store/mongo';
import { t } from './contract';
import type { JsonValue } from '../../src/util/json';
import type { FakeBackend, OpName } from './mongo-fake';

const GRACE = 10_000;
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const never = () => new Promise<void>(() => undefined);

/** Several stores (like several processes) on one fake database, sharing a virtual clock. */
function world(opts: { transactions?: boolean } = {}) {
  const db = new FakeMongo();
  db.transactions = opts.transactions ?? false;
  const vt = virtualTime();
  const open = (name: string, tuning: { transactions?: 'auto' | 'always' | 'never' } = {}) => {
    const backend = db.client(name);
    const store = new MongoStore({ backend }, { orphanGraceMs: GRACE, clock: vt.clock, sleep: vt.sleep, ...tuning });
    return { store, backend };
  };
  return { db, vt, open };
}

interface Visible {
  rec: ConversationRecord | null;
  events: StoredEvent[];
  idem: JsonValue | undefined;
  listed: string[];
}

async function visible(store: MongoStore, id: string, key: string): Promise<Visible> {
  return {
    rec: await store.load(id),
    events: await store.events(id),
    idem: await store.getIdempotent(id, key),
    listed: (await store.list()).map((c) => c.id),
  };
}

/** Make `backend` hang forever ("crash") right before it applies its `k`-th operation from now on. */
function crashBefore(backend: FakeBackend, k: number): { crashed: () => boolean; at: () => OpName | null } {
  let seen = 0;
  let crashedAt: OpName | null = null;
  backend.gate = (op) => {
    if (seen++ === k) {
      crashedAt = op;
      return never();
    }
  };
  return { crashed: () => crashedAt !== null, at: () => crashedAt };
}

/** Wait until the promise settled or the client crashed. */
async function settledOrCrashed<T>(p: Promise<T>, crashed: () => boolean): Promise<{ settled: boolean; value?: T; error?: unknown }> {
  let state: { settled: boolean; value?: T; error?: unknown } | null = null;
  p.then(
    (value) => (state = { settled: true, value }),
    (error: unknown) => (state = { settled: true, error }),
  );
  for (let i = 0; i < 10_000 && state === null && !crashed(); i++) await tick();
  return state ?? { settled: false };
}

/** The event log is 1..lastSeq without gaps, and nothing uncommitted is left behind. */
function expectClean(db: FakeMongo, id: string) {
  const conv = db.conversation(id)!;
  expect(db.eventDocs(id).map((e) => e.seq)).toEqual(Array.from({ length: conv.lastSeq }, (_, i) => i + 1));
  for (const doc of db.idempotencyDocs(id)) expect(doc.committed || doc.txn === conv.lastTxn).toBe(true);
}

describe('MongoStore compare-and-swap algorithm (in-memory double)', () => {
  it('writes in this order: read, check key, mark the previous key, events, key, then the compare-and-swap', async () => {
    const { db, open } = world();
    const { store } = open('writer');
    await store.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) });
    await store.commit({ id: 'c1', expectedVersion: 1, state: {}, events: [], at: t(1), idempotency: { key: 'k0', value: 0 } });
    db.log.length = 0;
    await store.commit({
      id: 'c1',
      expectedVersion: 2,
      state: { n: 3 },
      events: [{ type: 'a', at: t(2), data: {} }, { type: 'b', at: t(2), data: {} }],
      at: t(2),
      idempotency: { key: 'k1', value: 1 },
    });
    expect(db.log.map((r) => `${r.op} ${r.detail}`)).toEqual([
      'getConversation c1',
      'findIdempotency c1 k1',
      'markIdempotencyCommitted c1 k0',
      'insertEvents c1 seq1..2 rev3',
      'insertIdempotency c1 k1 rev3',
      'casConversation c1 rev3→4 v3',
    ]);
    expect(db.conversation('c1')).toMatchObject({ version: 3, rev: 4, lastSeq: 2, lastIdemKey: 'k1' });
  });

  it('keeps every write invisible until the compare-and-swap, seen by another store between each step', async () => {
    const { open } = world();
    const { store: writer, backend } = open('writer');
    const { store: reader } = open('reader');
    await writer.create({ id: 'c1', botId: 'bot', state: { n: 1 }, at: t(0), events: [{ type: 'start', at: t(0), data: {} }] });
    const before = await visible(reader, 'c1', 'k1');

    const seen: { op: OpName; view: Visible }[] = [];
    backend.gate = async (op) => {
      seen.push({ op, view: await visible(reader, 'c1', 'k1') });
    };
    await writer.commit({
      id: 'c1',
      expectedVersion: 1,
      state: { n: 2 },
      events: [{ type: 'x', at: t(1), data: { i: 1 } }, { type: 'y', at: t(1), data: { i: 2 } }],
      at: t(1),
      idempotency: { key: 'k1', value: 'done' },
    });
    backend.gate = undefined;
    // Before each step (so after all earlier ones, including the inserts) nothing new is visible.
    expect(seen.map((s) => s.op)).toEqual(['getConversation', 'findIdempotency', 'insertEvents', 'insertIdempotency', 'casConversation']);
    for (const s of seen) expect(s.view).toEqual(before);
    // After it, everything is.
    const after = await visible(reader, 'c1', 'k1');
    expect(after.rec).toMatchObject({ version: 2, state: { n: 2 } });
    expect(after.events.map((e) => e.type)).toEqual(['start', 'x', 'y']);
    expect(after.idem).toBe('done');
  });

  it('a crash at any step of a commit leaves the old or the new conversation, never a mix, and the next writer recovers', async () => {
    const commitInput = {
      id: 'c1',
      expectedVersion: 2,
      state: { by: 'A' },
      events: [{ type: 'a1', at: t(5), data: {} }, { type: 'a2', at: t(5), data: {} }],
      at: t(5),
      idempotency: { key: 'msg-A', value: 'A' },
    };
    const crashPoints: string[] = [];
    for (let k = 0; ; k++) {
      const { db, vt, open } = world();
      const { store: a, backend } = open('A');
      const { store: b } = open('B');
      await b.create({ id: 'c1', botId: 'bot', state: { by: 'seed' }, at: t(0), events: [{ type: 's', at: t(0), data: {} }] });
      await b.commit({ id: 'c1', expectedVersion: 1, state: { by: 'seed' }, events: [], at: t(1), idempotency: { key: 'msg-0', value: 0 } });
      const old = await visible(b, 'c1', 'msg-A');

      const crash = crashBefore(backend, k);
      const outcome = await settledOrCrashed(a.commit(commitInput), crash.crashed);
      const now = await visible(b, 'c1', 'msg-A');
      if (outcome.settled) {
        // No crash: the commit completed. That is the last crash point.
        expect(outcome.error).toBeUndefined();
        expect(now.rec).toMatchObject({ version: 3, state: { by: 'A' } });
        break;
      }
      crashPoints.push(crash.at()!);
      // A crash before the compare-and-swap: nothing of A is visible.
      expect(now).toEqual(old);

      // B retries the same message (same idempotency key) and succeeds once A's leftovers are
      // presumed dead (virtual time passes while it waits).
      const sleptBefore = vt.time.slept;
      const res = await b.commit({ ...commitInput, state: { by: 'B' }, events: [{ type: 'b1', at: t(6), data: {} }], at: t(6), idempotency: { key: 'msg-A', value: 'B' } });
      expect(res).toMatchObject({ version: 3, events: [{ seq: 2, type: 'b1' }] });
      const waited = vt.time.slept - sleptBefore;
      if (crash.at() === 'insertEvents' || crash.at() === 'markIdempotencyCommitted' || crash.at() === 'getConversation' || crash.at() === 'findIdempotency') {
        // Nothing of A was written (or nothing that collides): B did not have to wait.
        expect(waited).toBe(0);
      } else {
        expect(waited).toBeGreaterThanOrEqual(GRACE);
      }
      expect(await visible(b, 'c1', 'msg-A')).toMatchObject({ rec: { version: 3, state: { by: 'B' } }, idem: 'B' });
      expect((await b.events('c1')).map((e) => e.type)).toEqual(['s', 'b1']);
      expectClean(db, 'c1');
    }
    expect(crashPoints).toEqual(['getConversation', 'findIdempotency', 'markIdempotencyCommitted', 'insertEvents', 'insertIdempotency', 'casConversation']);
  });

  it('a crash at any step of a create leaves no conversation or the whole one, and the id can be created again', async () => {
    const crashPoints: string[] = [];
    for (let k = 0; ; k++) {
      const { db, vt, open } = world();
      const { store: a, backend } = open('A');
      const { store: b } = open('B');
      const crash = crashBefore(backend, k);
      const outcome = await settledOrCrashed(
        a.create({ id: 'c1', botId: 'bot', customerId: 'cust', state: { by: 'A' }, at: t(1), events: [{ type: 'a', at: t(1), data: {} }] }),
        crash.crashed,
      );
      if (outcome.settled) {
        expect(outcome.error).toBeUndefined();
        expect(await b.load('c1')).toMatchObject({ version: 1, state: { by: 'A' } });
        await expect(b.create({ id: 'c1', botId: 'bot', state: {}, at: t(2) })).rejects.toBeInstanceOf(ConversationExistsError);
        break;
      }
      crashPoints.push(crash.at()!);
      expect(await b.load('c1')).toBeNull();
      expect(await b.events('c1')).toEqual([]);
      expect(await b.list()).toEqual([]);
      expect(await b.list({ customerId: 'cust' })).toEqual([]);
      await expect(b.commit({ id: 'c1', expectedVersion: 1, state: {}, events: [], at: t(2) })).rejects.toMatchObject({
        code: 'conversation_not_found',
      });

      const sleptBefore = vt.time.slept;
      await b.create({ id: 'c1', botId: 'bot', customerId: 'cust', state: { by: 'B' }, at: t(2), events: [{ type: 'b', at: t(2), data: {} }] });
      if (crash.at() !== 'getConversation' && crash.at() !== 'insertConversation') {
        expect(vt.time.slept - sleptBefore).toBeGreaterThanOrEqual(GRACE); // waited out A's reservation
      }
      expect(await b.load('c1')).toMatchObject({ version: 1, customerId: 'cust', state: { by: 'B' } });
      expect((await b.events('c1')).map((e) => e.type)).toEqual(['b']);
      expectClean(db, 'c1');
    }
    expect(crashPoints).toEqual(['getConversation', 'insertConversation', 'insertEvents', 'casConversation']);
  });

  it('a stalled writer is fenced: when it wakes up its compare-and-swap fails and it reports a stale version', async () => {
    const { db, vt, open } = world();
    const { store: a, backend } = open('A');
    const { store: b } = open('B');
    await b.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) });

    let resume!: () => void;
    let stalled = false;
    backend.gate = (op) => {
      if (op === 'casConversation' && !stalled) {
        stalled = true;
        return new Promise<void>((r) => (resume = r));
      }
    };
    const aCommit = a.commit({ id: 'c1', expectedVersion: 1, state: { by: 'A' }, events: [{ type: 'a', at: t(1), data: {} }], at: t(1) });
    while (!stalled) await tick();
    expect(db.eventDocs('c1').map((e) => e.type)).toEqual(['a']); // written, not committed

    // B collides with A's event, waits for the grace period, fences A, removes its leftovers, commits.
    const sleptBefore = vt.time.slept;
    await b.commit({ id: 'c1', expectedVersion: 1, state: { by: 'B' }, events: [{ type: 'b', at: t(2), data: {} }], at: t(2) });
    expect(vt.time.slept - sleptBefore).toBeGreaterThanOrEqual(GRACE);
    expect(db.log.some((r) => r.client === 'B' && r.op === 'casConversation' && /rev2→3$/.test(r.detail))).toBe(true); // the fence

    // A wakes up: its compare-and-swap on the old rev fails; the re-read shows B's commit.
    resume();
    const err = await aCommit.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StaleVersionError);
    expect(err).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    expect(await b.load('c1')).toMatchObject({ version: 2, state: { by: 'B' } });
    expect((await b.events('c1')).map((e) => e.type)).toEqual(['b']);
    expectClean(db, 'c1');
  });

  it('a writer fenced while nobody else commits retries on its own and succeeds', async () => {
    const { db, open } = world();
    const { store: a, backend: aBackend } = open('A');
    const { store: b, backend: bBackend } = open('B');
    await b.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) });

    let resumeA!: () => void;
    let aStalled = false;
    aBackend.gate = (op) => {
      if (op === 'casConversation' && !aStalled) {
        aStalled = true;
        return new Promise<void>((r) => (resumeA = r));
      }
    };
    const aCommit = a.commit({ id: 'c1', expectedVersion: 1, state: { by: 'A' }, events: [{ type: 'a', at: t(1), data: {} }], at: t(1) });
    while (!aStalled) await tick();

    // B fences A and deletes A's event, then dies before writing its own.
    let bDead = false;
    let fenced = false;
    bBackend.gate = (op, detail) => {
      if (fenced && op === 'insertEvents') {
        bDead = true;
        return never();
      }
      if (op === 'casConversation' && /rev2→3$/.test(detail)) fenced = true;
    };
    void b.commit({ id: 'c1', expectedVersion: 1, state: { by: 'B' }, events: [{ type: 'b', at: t(2), data: {} }], at: t(2) });
    while (!bDead) await tick();
    expect(db.eventDocs('c1')).toEqual([]);
    expect(db.conversation('c1')).toMatchObject({ version: 1, rev: 3 });

    resumeA();
    await expect(aCommit).resolves.toMatchObject({ version: 2, events: [{ seq: 1, type: 'a' }] });
    expect(db.conversation('c1')).toMatchObject({ version: 2, rev: 4, lastSeq: 1, state: JSON.stringify({ by: 'A' }) });
    expectClean(db, 'c1');
  });

  it('deletes leftovers based on an older rev at once, without waiting', async () => {
    const { db, vt, open } = world();
    const { store: a, backend } = open('A');
    const { store: b } = open('B');
    await b.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) });
    const crash = crashBefore(backend, 2); // getConversation, insertEvents, [crash before casConversation]
    expect((await settledOrCrashed(a.commit({ id: 'c1', expectedVersion: 1, state: {}, events: [{ type: 'a', at: t(1), data: {} }], at: t(1) }), crash.crashed)).settled).toBe(false);
    expect(crash.at()).toBe('casConversation');

    // A commit without events does not collide, and moves rev past A's.
    await b.commit({ id: 'c1', expectedVersion: 1, state: {}, events: [], at: t(2) });
    const sleptBefore = vt.time.slept;
    const res = await b.commit({ id: 'c1', expectedVersion: 2, state: {}, events: [{ type: 'b', at: t(3), data: {} }], at: t(3) });
    expect(vt.time.slept).toBe(sleptBefore);
    expect(res.events.map((e) => [e.seq, e.type])).toEqual([[1, 'b']]);
    expectClean(db, 'c1');
  });

  it('a compare-and-swap whose reply is lost is reported as the error, and the commit stays (no clean-up)', async () => {
    const { db, open } = world();
    const { store: a, backend } = open('A');
    await a.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) });
    backend.after = (op) => {
      if (op === 'casConversation') throw new Error('connection reset');
    };
    await expect(
      a.commit({ id: 'c1', expectedVersion: 1, state: { n: 2 }, events: [{ type: 'e', at: t(1), data: {} }], at: t(1), idempotency: { key: 'k', value: 1 } }),
    ).rejects.toThrow('connection reset');
    backend.after = undefined;
    expect(await a.load('c1')).toMatchObject({ version: 2, state: { n: 2 } });
    expect((await a.events('c1')).map((e) => e.type)).toEqual(['e']);
    expect(await a.getIdempotent('c1', 'k')).toBe(1);
    // The caller retries the same message: it is recognised as done.
    await expect(
      a.commit({ id: 'c1', expectedVersion: 1, state: {}, events: [], at: t(1), idempotency: { key: 'k', value: 1 } }),
    ).rejects.toBeInstanceOf(DuplicateIdempotencyKeyError);
    expectClean(db, 'c1');
  });

  it('an insert failing for another reason removes what was written and reports the error', async () => {
    const { db, open } = world();
    const { store: a, backend } = open('A');
    await a.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) });
    backend.after = (op) => {
      if (op === 'insertIdempotency') throw new Error('socket timeout');
    };
    await expect(
      a.commit({ id: 'c1', expectedVersion: 1, state: {}, events: [{ type: 'e', at: t(1), data: {} }], at: t(1), idempotency: { key: 'k', value: 1 } }),
    ).rejects.toThrow('socket timeout');
    backend.after = undefined;
    expect(db.eventDocs('c1')).toEqual([]);
    expect(db.idempotencyDocs('c1')).toEqual([]);
    await expect(
      a.commit({ id: 'c1', expectedVersion: 1, state: {}, events: [], at: t(1), idempotency: { key: 'k', value: 2 } }),
    ).resolves.toMatchObject({ version: 2 });
  });

  it('marks a key committed when the next commit rolls forward, and reads it via lastTxn until then', async () => {
    const { db, open } = world();
    const { store } = open('A');
    await store.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) });
    await store.commit({ id: 'c1', expectedVersion: 1, state: {}, events: [], at: t(1), idempotency: { key: 'k1', value: 'one' } });
    expect(db.idempotencyDocs('c1')).toMatchObject([{ key: 'k1', committed: false }]);
    expect(db.conversation('c1')).toMatchObject({ lastIdemKey: 'k1' });
    expect(await store.getIdempotent('c1', 'k1')).toBe('one');

    await store.commit({ id: 'c1', expectedVersion: 2, state: {}, events: [], at: t(2) });
    expect(db.idempotencyDocs('c1')).toMatchObject([{ key: 'k1', committed: true }]);
    expect(db.conversation('c1')).toMatchObject({ lastIdemKey: null });
    expect(await store.getIdempotent('c1', 'k1')).toBe('one');
  });

  it('concurrent commits collide on the unique index; the losers wait for the winner and report stale', async () => {
    const { db, vt, open } = world();
    const stores = [0, 1, 2, 3, 4].map((i) => open(`W${i}`).store);
    await stores[0].create({ id: 'c1', botId: 'bot', state: {}, at: t(0) });
    const settled = await Promise.allSettled(
      stores.map((s, i) => s.commit({ id: 'c1', expectedVersion: 1, state: { i }, events: [{ type: 'e', at: t(1), data: { i } }], at: t(1) })),
    );
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    for (const s of settled) if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(StaleVersionError);
    // They did collide on seq 1 (several inserts were attempted; only one commit's events remain).
    expect(db.log.filter((r) => r.op === 'insertEvents' && /seq1\.\.1/.test(r.detail)).length).toBeGreaterThan(1);
    expect(vt.time.slept).toBeLessThan(GRACE); // and nobody was fenced
    expectClean(db, 'c1');
  });

  it('a create waits for a concurrent create of the same id and then reports that it exists', async () => {
    const { open } = world();
    const a = open('A').store;
    const b = open('B').store;
    const settled = await Promise.allSettled([
      a.create({ id: 'c1', botId: 'bot', state: { by: 'A' }, at: t(0), events: [{ type: 'a', at: t(0), data: {} }] }),
      b.create({ id: 'c1', botId: 'bot', state: { by: 'B' }, at: t(0), events: [{ type: 'b', at: t(0), data: {} }] }),
    ]);
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    const lost = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')!;
    expect(lost.reason).toBeInstanceOf(ConversationExistsError);
    const winner = settled[0].status === 'fulfilled' ? 'A' : 'B';
    expect(await a.load('c1')).toMatchObject({ state: { by: winner } });
    expect((await a.events('c1')).map((e) => e.type)).toEqual([winner.toLowerCase()]);
  });
});

describe('MongoStore transaction mode (in-memory double)', () => {
  it('uses transactions when the server supports them (auto), or as told', async () => {
    const withTx = world({ transactions: true });
    expect(await withTx.open('a').store.usesTransactions()).toBe(true);
    expect(await withTx.open('b', { transactions: 'never' }).store.usesTransactions()).toBe(false);
    const withoutTx = world({ transactions: false });
    expect(await withoutTx.open('c').store.usesTransactions()).toBe(false);
    expect(await withoutTx.open('d', { transactions: 'always' }).store.usesTransactions()).toBe(true);
  });

  it('maps a duplicate key inside a transaction: conversation → ConversationExistsError, key → DuplicateIdempotencyKeyError', async () => {
    const { open } = world({ transactions: true });
    const { store, backend } = open('A');
    backend.gate = (op) => {
      if (op === 'insertConversation') throw new DuplicateKeyConflict('conversations', 0);
    };
    await expect(store.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) })).rejects.toBeInstanceOf(ConversationExistsError);
    backend.gate = undefined;
    await store.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) });
    backend.gate = (op) => {
      if (op === 'insertIdempotency') throw new DuplicateKeyConflict('idempotency', 0);
    };
    await expect(
      store.commit({ id: 'c1', expectedVersion: 1, state: {}, events: [{ type: 'e', at: t(1), data: {} }], at: t(1), idempotency: { key: 'k', value: 1 } }),
    ).rejects.toBeInstanceOf(DuplicateIdempotencyKeyError);
    backend.gate = undefined;
    // The transaction was rolled back: nothing of it is left.
    expect(await store.events('c1')).toEqual([]);
    expect(await store.load('c1')).toMatchObject({ version: 1 });
  });

  it('removes the leftovers of an interrupted compare-and-swap writer and fences it', async () => {
    const { db, open } = world({ transactions: true });
    const { store: old, backend } = open('old', { transactions: 'never' });
    const { store: tx } = open('tx');
    await tx.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) });
    let resume!: () => void;
    let stalled = false;
    backend.gate = (op) => {
      if (op === 'casConversation' && !stalled) {
        stalled = true;
        return new Promise<void>((r) => (resume = r));
      }
    };
    const oldCommit = old.commit({ id: 'c1', expectedVersion: 1, state: {}, events: [{ type: 'old', at: t(1), data: {} }], at: t(1), idempotency: { key: 'k', value: 'old' } });
    while (!stalled) await tick();
    expect(db.eventDocs('c1')).toHaveLength(1);

    await tx.commit({ id: 'c1', expectedVersion: 1, state: {}, events: [{ type: 'tx', at: t(2), data: {} }], at: t(2), idempotency: { key: 'k', value: 'tx' } });
    resume();
    await expect(oldCommit).rejects.toBeInstanceOf(DuplicateIdempotencyKeyError);
    expect((await tx.events('c1')).map((e) => e.type)).toEqual(['tx']);
    expect(await tx.getIdempotent('c1', 'k')).toBe('tx');
    expectClean(db, 'c1');
  });
});

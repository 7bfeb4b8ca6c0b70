/**
 * The stream hub on its own (fake clients, MemoryStore): the exact races that the WebSocket tests
 * can only hope to hit — a commit landing while the backlog is being read — plus slow clients
 * and store failures.
 */
import { MemoryStore } from '../../src/store/memory';
import type { ConversationStore, EventsOptions, NewEvent, StoredEvent } from '../../src/store/port';
import { StreamHub, type StreamClient } from '../../src/realtime/hub';
import type { ServerFrame } from '../../src/realtime/protocol';
import { silentLogger } from '../../src/util/logger';

const at = () => new Date().toISOString();

function fakeClient(conversationId: string, cursor = 0): StreamClient & { frames: ServerFrame[]; closedWith?: number; buffered: number } {
  const c = {
    conversationId,
    cursor,
    ready: false,
    frames: [] as ServerFrame[],
    closedWith: undefined as number | undefined,
    buffered: 0,
    send(f: ServerFrame) {
      c.frames.push(f);
    },
    isOpen: () => c.closedWith === undefined,
    bufferedAmount: () => c.buffered,
    close(code: number) {
      c.closedWith = code;
    },
  };
  return c;
}

async function say(store: ConversationStore, id: string, texts: string[]) {
  const rec = (await store.load(id))!;
  await store.commit({ id, expectedVersion: rec.version, state: rec.state, at: at(), events: texts.flatMap((text): NewEvent[] => [{ type: 'nlu', at: at(), data: {} }, { type: 'agent_message', at: at(), data: { text } }]) });
}

const texts = (c: { frames: ServerFrame[] }) => c.frames.filter((f): f is Extract<ServerFrame, { type: 'message' }> => f.type === 'message').map((f) => f.message.text);

/** A store whose events() lets a test run code in the middle of a read. */
class RacyStore extends MemoryStore {
  onEvents?: (opts: EventsOptions | undefined) => Promise<void>;
  override async events(id: string, opts?: EventsOptions): Promise<StoredEvent[]> {
    const r = await super.events(id, opts);
    const hook = this.onEvents;
    if (hook) await hook(opts);
    return r;
  }
}

describe('StreamHub', () => {
  it('delivers a message committed while the backlog is read: after the backlog, once, in order', async () => {
    const store = new RacyStore();
    await store.create({ id: 'c', botId: 'b', state: {}, at: at() });
    await say(store, 'c', ['m1', 'm2', 'm3', 'm4', 'm5']);
    const hub = new StreamHub({ store, logger: silentLogger, pollIntervalMs: 0, pageSize: 2 });
    let reads = 0;
    store.onEvents = async () => {
      // In the middle of reading the first page, someone commits — and tells the hub.
      if (++reads === 1) {
        await say(store, 'c', ['late']);
        hub.notify('c');
      }
    };
    const a = fakeClient('c');
    hub.join(a);
    await hub.idle();
    expect(texts(a)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'late']);
    const seqs = a.frames.flatMap((f) => (f.type === 'message' ? [f.message.seq] : []));
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(a.frames.filter((f) => f.type === 'ready')).toHaveLength(1);
  });

  it('sends each stream what is past its own cursor', async () => {
    const store = new MemoryStore();
    await store.create({ id: 'c', botId: 'b', state: {}, at: at() });
    await say(store, 'c', ['m1', 'm2']);
    const hub = new StreamHub({ store, logger: silentLogger, pollIntervalMs: 0 });
    const fresh = fakeClient('c');
    hub.join(fresh);
    await hub.idle();
    const last = (fresh.frames.find((f) => f.type === 'ready') as { lastSeq: number }).lastSeq;
    const back = fakeClient('c', last);
    hub.join(back);
    await hub.idle();
    await say(store, 'c', ['m3']);
    hub.notify('c');
    await hub.idle();
    expect(texts(fresh)).toEqual(['m1', 'm2', 'm3']);
    expect(texts(back)).toEqual(['m3']);
    expect(back.frames[0]).toEqual({ type: 'ready', lastSeq: last });
  });

  it('finds other processes’ commits by polling, only for conversations with streams', async () => {
    const store = new MemoryStore();
    await store.create({ id: 'c', botId: 'b', state: {}, at: at() });
    const calls: string[] = [];
    const spy = new Proxy(store, {
      get(t, p) {
        if (p === 'events') return (id: string, o?: EventsOptions) => (calls.push(id), t.events(id, o));
        const v = Reflect.get(t, p) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    const hub = new StreamHub({ store: spy, logger: silentLogger, pollIntervalMs: 20 });
    hub.start();
    try {
      const a = fakeClient('c');
      hub.join(a);
      await hub.idle();
      await say(store, 'c', ['from elsewhere']); // no notify: another process wrote it
      const deadline = Date.now() + 2000;
      while (!texts(a).length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(texts(a)).toEqual(['from elsewhere']);
      hub.leave(a);
      const n = calls.length;
      await new Promise((r) => setTimeout(r, 100));
      expect(calls.length).toBe(n); // nobody listening: no polling
    } finally {
      hub.closeAll(1001, 'bye');
    }
  });

  it('disconnects a client that does not keep up, and retries after a store failure', async () => {
    const store = new RacyStore();
    await store.create({ id: 'c', botId: 'b', state: {}, at: at() });
    await say(store, 'c', ['m1']);
    const hub = new StreamHub({ store, logger: silentLogger, pollIntervalMs: 0, maxBufferedBytes: 100 });
    const slow = fakeClient('c');
    slow.buffered = 1000;
    hub.join(slow);
    await hub.idle();
    expect(slow.closedWith).toBe(1013);

    store.onEvents = async () => {
      store.onEvents = undefined;
      throw new Error('database is locked');
    };
    const a = fakeClient('c');
    hub.join(a);
    await hub.idle();
    expect(a.frames).toEqual([]); // the read failed: nothing sent, nothing skipped
    hub.notify('c');
    await hub.idle();
    expect(texts(a)).toEqual(['m1']);
  });

  it('repeats typing while a turn runs and stops when it ends; closes everyone on shutdown', async () => {
    const store = new MemoryStore();
    await store.create({ id: 'c', botId: 'b', state: {}, at: at() });
    const hub = new StreamHub({ store, logger: silentLogger, pollIntervalMs: 0, typingRepeatMs: 20 });
    const a = fakeClient('c');
    hub.join(a);
    await hub.idle();
    hub.typing('c', true);
    await new Promise((r) => setTimeout(r, 70));
    hub.typing('c', false);
    const n = a.frames.filter((f) => f.type === 'typing').length;
    expect(n).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.frames.filter((f) => f.type === 'typing')).toHaveLength(n);
    hub.closeAll(1001, 'going away');
    expect(a.closedWith).toBe(1001);
    const late = fakeClient('c');
    hub.join(late);
    expect(late.closedWith).toBe(1001);
  });
});

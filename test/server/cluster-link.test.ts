/**
 * The worker side of `baton serve --workers N` (src/http/cluster.ts WorkerLink), in this process,
 * on a fake IPC channel: messages "from the primary" are emitted on it, messages to the primary are
 * recorded.
 */
import { EventEmitter } from 'events';
import { WorkerLink, type Channel } from '../../src/http/cluster';
import type { HandoffService } from '../../src/handoff/service';

const sent: any[] = [];
const channel = Object.assign(new EventEmitter(), {
  connected: true,
  send(m: unknown, _h: undefined, _o: object, cb: (e: Error | null) => void) {
    sent.push(m);
    cb(null);
    return true;
  },
}) as EventEmitter & Channel;
let link: WorkerLink;

beforeEach(() => {
  sent.length = 0;
  link = new WorkerLink(1, { channel });
});
afterEach(() => link.close());

const fromPrimary = (m: unknown) => channel.emit('message', m);
const tick = () => new Promise((r) => setImmediate(r));

describe('WorkerLink', () => {
  it('sends one relay message per event-loop iteration, commits deduplicated, typing and handoff in order', async () => {
    link.commit('c1');
    link.typing('c1', true);
    link.commit('c2');
    link.commit('c1');
    link.typing('c1', false);
    expect(sent).toEqual([]);
    await tick();
    expect(sent).toEqual([{ type: 'baton:relay', commits: ['c1', 'c2'], typing: [['c1', true], ['c1', false]], handoff: [] }]);
    link.commit('c3');
    await tick();
    expect(sent).toHaveLength(2);
  });

  it("feeds other workers' commits and turns to its listeners, and ends the turns of a worker that is gone", () => {
    const commits: string[][] = [];
    const typing: [string, boolean][] = [];
    link.onRemoteCommits((ids) => commits.push(ids));
    link.onRemoteTyping((id, active) => typing.push([id, active]));
    fromPrimary({ type: 'baton:relay', from: 7, commits: ['a'], typing: [['a', true], ['b', true], ['b', true]], handoff: [] });
    fromPrimary({ type: 'baton:relay', from: 8, commits: [], typing: [['a', true], ['a', false], ['d', false]], handoff: [] });
    fromPrimary({ type: 'baton:relay', from: 7, commits: ['b'], typing: [['b', false]], handoff: [] });
    expect(commits).toEqual([['a'], [], ['b']]);
    // The end of a turn whose start was not heard ('d') is not passed on: it would end someone else's.
    expect(typing).toEqual([
      ['a', true],
      ['b', true],
      ['b', true],
      ['a', true],
      ['a', false],
      ['b', false],
    ]);
    typing.length = 0;
    // Worker 7 died with a turn of `a` and one of `b` in progress: they end here.
    fromPrimary({ type: 'baton:gone', from: 7 });
    expect(typing.sort()).toEqual([
      ['a', false],
      ['b', false],
    ]);
    // A late message of the dead worker starts nothing.
    typing.length = 0;
    fromPrimary({ type: 'baton:relay', from: 7, commits: [], typing: [['c', true]], handoff: [] });
    fromPrimary({ type: 'baton:gone', from: 8 });
    expect(typing).toEqual([]);
  });

  it('gives the agent hub a handoff service that also hears relayed changes and activity', () => {
    const local = { changes: new Set<(...a: any[]) => void>(), activity: new Set<(...a: any[]) => void>() };
    const service = {
      store: { name: 'store' },
      onChange(l: (...a: any[]) => void) {
        local.changes.add(l);
        return () => void local.changes.delete(l);
      },
      onActivity(l: (...a: any[]) => void) {
        local.activity.add(l);
        return () => void local.activity.delete(l);
      },
      visibleTo(this: { store: unknown }) {
        return this.store;
      },
    } as unknown as HandoffService;
    const seen: unknown[][] = [];
    const relayed = link.relayedHandoff(service);
    const offChange = relayed.onChange((...a) => seen.push(['change', ...a]));
    relayed.onActivity((...a) => seen.push(['activity', ...a]));
    // Everything else is the service itself, methods bound to it.
    expect(relayed.store).toBe(service.store);
    expect((relayed.visibleTo as () => unknown)()).toBe(service.store);
    [...local.changes][0]({ conversationId: 'x' }, null);
    fromPrimary({ type: 'baton:relay', from: 3, commits: [], typing: [], handoff: [{ kind: 'change', args: [{ conversationId: 'y' }, 'agent-1', { unseen: true }] }, { kind: 'activity', args: [{ conversationId: 'y' }, [{ seq: 4 }]] }] });
    expect(seen).toEqual([
      ['change', { conversationId: 'x' }, null],
      ['change', { conversationId: 'y' }, 'agent-1', { unseen: true }],
      ['activity', { conversationId: 'y' }, [{ seq: 4 }]],
    ]);
    // Unsubscribing removes both the local and the relayed listener.
    offChange();
    expect(local.changes.size).toBe(0);
    fromPrimary({ type: 'baton:relay', from: 3, commits: [], typing: [], handoff: [{ kind: 'change', args: [{ conversationId: 'z' }, null] }] });
    expect(seen).toHaveLength(3);
  });

  it("asks the primary for the cluster's metrics and gives up after the timeout", async () => {
    link.close();
    link = new WorkerLink(2, { metricsTimeoutMs: 50, channel });
    const answered = link.metricsText();
    const req = sent.find((m) => m.type === 'baton:metrics');
    fromPrimary({ type: 'baton:metrics', id: req.id, ok: true, contentType: 'text/plain', body: 'baton_turns_total 3\n' });
    await expect(answered).resolves.toEqual({ contentType: 'text/plain', body: 'baton_turns_total 3\n' });
    const failed = link.metricsText();
    fromPrimary({ type: 'baton:metrics', id: sent.filter((m) => m.type === 'baton:metrics').pop().id, ok: false, error: 'Operation timed out.' });
    await expect(failed).rejects.toThrow(/could not be collected: Operation timed out/);
    await expect(link.metricsText()).rejects.toThrow(/did not arrive within 50 ms/);
  });

  it('hands a shutdown request to the listener, also one that came before the listener; stops listening when closed', () => {
    fromPrimary({ type: 'baton:shutdown', reason: 'SIGTERM' });
    const reasons: string[] = [];
    link.onShutdown((r) => reasons.push(r));
    expect(reasons).toEqual(['SIGTERM']);
    link.close();
    expect(channel.listenerCount('message')).toBe(0);
  });
});

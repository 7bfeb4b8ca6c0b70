/**
 * The typing relay of `baton serve --workers N` on the worker side (src/http/cluster.ts WorkerLink),
 * on a fake IPC channel: customers' and agents' typing go out in the per-iteration relay message
 * (only when there is some: the message is unchanged otherwise) and come in to their listeners.
 */
import { EventEmitter } from 'events';
import { WorkerLink, type Channel } from '../../src/http/cluster';

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

const tick = () => new Promise((r) => setImmediate(r));

describe('WorkerLink typing relay', () => {
  it('batches customer and agent typing per event-loop iteration (deduplicated per conversation)', async () => {
    link.customerTyping('c1');
    link.customerTyping('c1');
    link.agentTyping('c2', 'Sam');
    link.agentTyping('c2', 'Sam');
    link.customerTyping('c3');
    await tick();
    expect(sent).toEqual([{ type: 'baton:relay', commits: [], typing: [], handoff: [], customerTyping: ['c1', 'c3'], agentTyping: [['c2', 'Sam']] }]);
    link.commit('c4');
    await tick();
    expect(sent[1]).toEqual({ type: 'baton:relay', commits: ['c4'], typing: [], handoff: [] });
  });

  it("feeds other workers' typing to its listeners, and stops when closed", () => {
    const customers: string[] = [];
    const agents: [string, string][] = [];
    link.onRemoteCustomerTyping((id) => customers.push(id));
    const off = link.onRemoteAgentTyping((id, name) => agents.push([id, name]));
    channel.emit('message', { type: 'baton:relay', from: 3, commits: [], typing: [], handoff: [], customerTyping: ['a', 'b'], agentTyping: [['a', 'Kim']] });
    channel.emit('message', { type: 'baton:relay', from: 3, commits: ['x'], typing: [], handoff: [] }); // an older worker's message: nothing
    expect(customers).toEqual(['a', 'b']);
    expect(agents).toEqual([['a', 'Kim']]);
    off();
    channel.emit('message', { type: 'baton:relay', from: 3, commits: [], typing: [], handoff: [], agentTyping: [['b', 'Kim']] });
    expect(agents).toEqual([['a', 'Kim']]);
    link.close();
    channel.emit('message', { type: 'baton:relay', from: 3, commits: [], typing: [], handoff: [], customerTyping: ['c'] });
    expect(customers).toEqual(['a', 'b']);
  });
});

/**
 * Automatic assignment and the agent stream's fan-out over real sockets (acme bot, SQLite file):
 *
 * - an automatically assigned conversation goes straight to its agent: no "waiting" frame first,
 *   and agents who never saw it are told nothing (no `removed`), nor about its later messages;
 *   a conversation that really waited is still `removed` from everyone who could see it;
 * - two servers on one database file (as two processes): each one's cached agents and loads
 *   follow the other's changes (an agent going offline, a new agent), and concurrent automatic
 *   assignments through both never exceed an agent's capacity.
 */
import * as fs from 'fs';
import * as path from 'path';
import WebSocket from 'ws';
import { AgentTokens } from '../../src/handoff/auth';
import type { AgentRecord } from '../../src/handoff/store/port';
import type { ServerHandle } from '../../src/http/serve';
import { client, startTestServer, tmpDir, until, within, ROOT, SECRET } from '../server/helpers/server';

jest.setTimeout(60_000);

const ACME = path.join(ROOT, 'bots', 'acme');
// Tuesday 2026-03-10 11:00 in New York: inside acme's opening hours.
const clock = () => new Date('2026-03-10T15:00:00.000Z');
const tokens = new AgentTokens(SECRET, clock);

function agentStream(srv: ServerHandle, agentId: string) {
  const ws = new WebSocket(`${srv.url.replace(/^http/, 'ws')}/api/v1/agent/stream?token=${encodeURIComponent(tokens.issue(agentId).token)}`);
  const frames: any[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  ws.on('error', () => undefined);
  const closed = new Promise<void>((r) => ws.on('close', () => r()));
  return {
    frames,
    waitFor: (pred: (f: any) => boolean, what: string) => until(() => frames.find(pred), what, 10_000, 10),
    /** Frames about one conversation. */
    about: (id: string) => frames.filter((f) => f.conversationId === id || f.conversation?.id === id),
    close: async () => {
      ws.close();
      await within(closed, 1000);
    },
  };
}

/** A customer asks for a person and picks a team (two turns); resolves once the handoff is queued (and assigned). */
async function handOff(srv: ServerHandle, team = 'Orders & delivery') {
  const api = client(srv.url);
  const c = await api.start({});
  await api.send(c.id, c.token, { text: 'talk to a person' });
  const r = await api.send(c.id, c.token, { text: team });
  expect(r.body.handoff).toMatchObject({ reason: 'customer_request' });
  await srv.baton.handoff.idle();
  return c;
}

async function online(srv: ServerHandle, email: string, name: string, capacity: number): Promise<AgentRecord> {
  const a = await srv.baton.handoff.createAgent({ email, name, password: 'long-enough-password', capacity });
  return srv.baton.handoff.setPresence(a, 'online');
}

describe('the agent stream with automatic assignment', () => {
  let srv: ServerHandle;
  let dir: string;
  beforeAll(async () => {
    dir = tmpDir('agent-routing');
    srv = await startTestServer(dir, { BATON_BOT: ACME, BATON_SEED_ADMIN_PASSWORD: 'admin-password-123', BATON_SEED_AGENT_PASSWORD: 'agent-password-123' }, { clock, print: () => undefined });
  });
  afterAll(async () => {
    await srv?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('tells only the assignee about an assigned conversation; removes a waiting one from everyone who could see it', async () => {
    const ann = await online(srv, 'ann@acme.example', 'Ann', 1);
    const bob = await online(srv, 'bob@acme.example', 'Bob', 1);
    const streams = { [ann.id]: agentStream(srv, ann.id), [bob.id]: agentStream(srv, bob.id) };
    for (const s of Object.values(streams)) await s.waitFor((f) => f.type === 'ready', 'ready');

    const c1 = await handOff(srv);
    const first = (await srv.baton.handoff.store.getAssignment(c1.id))!;
    expect(first.status).toBe('assigned');
    const [x, y] = first.agentId === ann.id ? [ann, bob] : [bob, ann];
    await streams[x.id].waitFor((f) => f.type === 'queue' && f.conversation.id === c1.id && f.conversation.status === 'assigned', 'assigned frame');
    // The customer writes: the assignee gets it.
    await client(srv.url).send(c1.id, c1.token, { text: 'my parcel never came' });
    await streams[x.id].waitFor((f) => f.type === 'message' && f.conversationId === c1.id && f.message.text === 'my parcel never came', 'customer message');
    await srv.baton.handoff.idle();

    // The other agent takes the next one; then both are full, so the third waits — seen by both.
    const c2 = await handOff(srv);
    expect((await srv.baton.handoff.store.getAssignment(c2.id))!.agentId).toBe(y.id);
    const c3 = await handOff(srv);
    expect((await srv.baton.handoff.store.getAssignment(c3.id))!.status).toBe('waiting');
    for (const s of Object.values(streams)) await s.waitFor((f) => f.type === 'queue' && f.conversation.id === c3.id && f.conversation.status === 'waiting', 'waiting frame');

    // Everything about c1 and c2 was sent before c3's waiting frame: nobody got a waiting frame
    // for them, and nobody heard of the other's conversation at all.
    for (const [s, mine, other] of [
      [streams[x.id], c1.id, c2.id],
      [streams[y.id], c2.id, c1.id],
    ] as const) {
      expect(s.about(other)).toEqual([]);
      expect(s.about(mine).filter((f) => f.type === 'queue').map((f) => f.conversation.status)).not.toContain('waiting');
      expect(s.about(mine).some((f) => f.type === 'removed')).toBe(false);
    }

    // x resolves c1 and gets c3 (automatically); y, who saw c3 waiting, is told it is gone.
    const r = await client(srv.url).call('POST', `/api/v1/agent/conversations/${c1.id}/resolve`, { token: tokens.issue(x.id).token, body: {} });
    expect(r.status).toBe(200);
    await srv.baton.handoff.idle();
    await streams[x.id].waitFor((f) => f.type === 'queue' && f.conversation.id === c3.id && f.conversation.status === 'assigned', 'c3 assigned');
    await streams[y.id].waitFor((f) => f.type === 'removed' && f.conversationId === c3.id, 'c3 removed');
    for (const s of Object.values(streams)) await s.close();
  });
});

describe('two servers on one database file', () => {
  let a: ServerHandle;
  let b: ServerHandle;
  let dir: string;
  beforeAll(async () => {
    dir = tmpDir('agent-routing-two');
    const env = { BATON_BOT: ACME, BATON_SEED_ADMIN_PASSWORD: 'admin-password-123', BATON_SEED_AGENT_PASSWORD: 'agent-password-123' };
    a = await startTestServer(dir, env, { clock, print: () => undefined });
    b = await startTestServer(dir, env, { clock, print: () => undefined });
  });
  afterAll(async () => {
    await a?.shutdown();
    await b?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("routes with the other server's changes: an agent gone offline, a new agent; never over capacity", async () => {
    const p1 = await online(a, 'p1@acme.example', 'P1', 3);
    const p2 = await online(a, 'p2@acme.example', 'P2', 3);
    // Both servers have read (and cached) the agents and their loads.
    expect((await b.baton.handoff.store.listAgents()).filter((x) => x.presence === 'online').map((x) => x.id).sort()).toEqual([p1.id, p2.id].sort());
    const c1 = await handOff(a);
    const firstAgent = (await a.baton.handoff.store.getAssignment(c1.id))!.agentId;
    expect([p1.id, p2.id]).toContain(firstAgent);
    // The other one goes offline through server B: server A does not give them the next one.
    const idle = firstAgent === p1.id ? p2 : p1;
    const busy = firstAgent === p1.id ? p1 : p2;
    await b.baton.handoff.setPresence(idle, 'offline');
    const c2 = await handOff(a);
    expect((await a.baton.handoff.store.getAssignment(c2.id))!.agentId).toBe(busy.id);
    // A new agent comes online through server B: the least loaded, so server A picks them.
    const p3 = await online(b, 'p3@acme.example', 'P3', 3);
    const c3 = await handOff(a);
    expect((await a.baton.handoff.store.getAssignment(c3.id))!.agentId).toBe(p3.id);

    // Free room now: busy 1 (3 − 2), p3 2 (3 − 1). Ten customers at once, half through each server.
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => handOff(i % 2 ? a : b)));
    await a.baton.handoff.idle();
    await b.baton.handoff.idle();
    const loads = await a.baton.handoff.store.loads();
    expect(loads).toEqual({ [busy.id]: 3, [p3.id]: 3 });
    expect(await b.baton.handoff.store.loads()).toEqual(loads);
    const entries = await Promise.all(results.map((c) => a.baton.handoff.store.getAssignment(c.id)));
    expect(entries.filter((e) => e!.status === 'assigned')).toHaveLength(3);
    expect(entries.filter((e) => e!.status === 'waiting')).toHaveLength(7);
    // Every assignment is also in its conversation (the agent joined), and nothing went to the offline agent.
    for (const e of entries.filter((x) => x!.status === 'assigned')) {
      const joined = await a.baton.store.events(e!.conversationId, { types: ['agent_joined'] });
      expect(joined.map((j) => (j.data.agent as { id: string }).id)).toEqual([e!.agentId]);
    }
    expect(loads[idle.id]).toBeUndefined();
  });
});

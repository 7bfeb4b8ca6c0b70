/** Contract suite for HandoffStore adapters (each adapter's test file calls `handoffStoreContract`). */
import type { HandoffStore, EnqueueInput } from '../../src/handoff/store/port';

export const at = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString();
const agent = (id: string, extra: Record<string, unknown> = {}) => ({ id, email: `${id}@x.example`, name: id.toUpperCase(), role: 'agent' as const, passwordHash: '$2a$10$hash', capacity: 2, skills: ['*'], ...extra });
const entry = (id: string, extra: Partial<EnqueueInput> = {}): EnqueueInput => ({ conversationId: id, botId: 'bot', queue: 'general', priority: 0, reason: 'customer_request', waitingSince: at(0), sinceSeq: 3, customer: null, ...extra });

export function handoffStoreContract(name: string, make: () => Promise<HandoffStore>, cleanup?: () => Promise<void>) {
  describe(`HandoffStore contract: ${name}`, () => {
    let store: HandoffStore;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await store.close();
      await cleanup?.();
    });

    it('creates agents with unique, lower-cased e-mails and updates them', async () => {
      const a = await store.createAgent({ ...agent('a1'), email: 'Ann@X.example' }, at(1));
      expect(a).toEqual({ ...agent('a1'), email: 'ann@x.example', presence: 'offline', lastAssignedAt: null, createdAt: at(1), updatedAt: at(1) });
      await expect(store.createAgent({ ...agent('a2'), email: 'ANN@x.example' }, at(2))).rejects.toMatchObject({ code: 'email_taken' });
      expect((await store.getAgentByEmail(' ann@X.EXAMPLE '))!.id).toBe('a1');
      const u = await store.updateAgent('a1', { presence: 'online', capacity: 5, skills: ['orders'] }, at(3));
      expect(u).toMatchObject({ presence: 'online', capacity: 5, skills: ['orders'], updatedAt: at(3) });
      expect(await store.getAgent('a1')).toEqual(u);
      await expect(store.updateAgent('nope', { presence: 'online' }, at(4))).rejects.toMatchObject({ code: 'agent_not_found' });
      expect((await store.listAgents()).map((x) => x.id)).toEqual(['a1']);
    });

    it('enqueues once per open handoff; a resolved entry reopens as waiting', async () => {
      const r1 = await store.enqueue(entry('c1'), at(1));
      expect(r1.created).toBe(true);
      expect(r1.entry).toMatchObject({ conversationId: 'c1', status: 'waiting', agentId: null, queue: 'general', sinceSeq: 3, closedBy: null });
      const r2 = await store.enqueue(entry('c1', { queue: 'other' }), at(2));
      expect(r2).toEqual({ entry: r1.entry, created: false });
      await store.finish('c1', { by: 'handback', at: at(3) });
      const r3 = await store.enqueue(entry('c1', { queue: 'other', waitingSince: at(4) }), at(4));
      expect(r3.created).toBe(true);
      expect(r3.entry).toMatchObject({ status: 'waiting', queue: 'other', waitingSince: at(4), closedBy: null });
      expect(r3.entry.rev).toBeGreaterThan(r1.entry.rev);
    });

    it('claims atomically: waiting only, the same agent again is a no-op, capacity is enforced', async () => {
      await store.createAgent(agent('a1', { capacity: 1 }), at(0));
      await store.createAgent(agent('a2'), at(0));
      await store.enqueue(entry('c1'), at(1));
      await store.enqueue(entry('c2'), at(1));
      const c = await store.claim('c1', 'a1', { capacity: 1, at: at(2) });
      expect(c).toMatchObject({ changed: true, entry: { status: 'assigned', agentId: 'a1', assignedAt: at(2) } });
      expect((await store.getAgent('a1'))!.lastAssignedAt).toBe(at(2));
      expect(await store.claim('c1', 'a1', { capacity: 1, at: at(3) })).toMatchObject({ changed: false });
      await expect(store.claim('c1', 'a2', { capacity: 2, at: at(3) })).rejects.toMatchObject({ code: 'already_assigned' });
      await expect(store.claim('c2', 'a1', { capacity: 1, at: at(3) })).rejects.toMatchObject({ code: 'over_capacity' });
      await expect(store.claim('nope', 'a1', { capacity: 1, at: at(3) })).rejects.toMatchObject({ code: 'conversation_not_found' });
      // A transfer takes it from its current agent.
      expect(await store.claim('c1', 'a2', { capacity: 2, at: at(4), takeFrom: 'a1' })).toMatchObject({ changed: true, entry: { agentId: 'a2' } });
      expect(await store.loads()).toEqual({ a2: 1 });
    });

    it('lets exactly one of many concurrent claims win', async () => {
      await store.enqueue(entry('c1'), at(1));
      const results = await Promise.allSettled(['a1', 'a2', 'a3', 'a4'].map((a) => store.claim('c1', a, { capacity: 5, at: at(2) })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    });

    it('requeues, finishes, records the last message and lists changes by rev', async () => {
      await store.enqueue(entry('c1'), at(1));
      await store.claim('c1', 'a1', { capacity: 5, at: at(2) });
      const q = await store.requeue('c1', { queue: 'billing', at: at(3) });
      expect(q).toMatchObject({ status: 'waiting', agentId: null, queue: 'billing' });
      const m = await store.setLastMessage('c1', { seq: 9, from: 'customer', text: 'hi', createdAt: at(4) }, at(4));
      expect(m!.lastMessage).toEqual({ seq: 9, from: 'customer', text: 'hi', createdAt: at(4) });
      const older = await store.setLastMessage('c1', { seq: 8, from: 'bot', text: 'old', createdAt: at(5) }, at(5));
      expect(older!.lastMessage!.seq).toBe(9);
      expect(await store.setLastMessage('nope', { seq: 1, from: 'bot', text: '', createdAt: at(5) }, at(5))).toBeNull();
      const f = await store.finish('c1', { by: 'resolve', at: at(6) });
      expect(f).toMatchObject({ status: 'resolved', closedBy: 'resolve', closedAt: at(6) });
      await expect(store.finish('c1', { by: 'resolve', at: at(7) })).rejects.toMatchObject({ code: 'not_open' });
      await expect(store.requeue('c1', { queue: 'x', at: at(7) })).rejects.toMatchObject({ code: 'not_open' });
      const changes = await store.changes(0);
      expect(changes.map((c) => c.conversationId)).toEqual(['c1']);
      expect(await store.changes(f.rev)).toEqual([]);
      await store.enqueue(entry('c2', { queue: 'orders' }), at(8));
      expect((await store.changes(f.rev)).map((c) => c.conversationId)).toEqual(['c2']);
      expect((await store.listAssignments({ status: ['waiting'] })).map((e) => e.conversationId)).toEqual(['c2']);
      expect((await store.listAssignments({ queues: ['billing'] })).map((e) => e.conversationId)).toEqual(['c1']);
      expect((await store.listAssignments()).map((e) => e.conversationId)).toEqual(['c2', 'c1']);
    });

    it('keeps read marks per agent and never moves them back', async () => {
      await store.markRead('a1', 'c1', 5);
      await store.markRead('a1', 'c1', 3);
      await store.markRead('a2', 'c1', 7);
      expect(await store.readMarks('a1', ['c1', 'c2'])).toEqual({ c1: 5 });
      expect(await store.readMarks('a2', ['c1'])).toEqual({ c1: 7 });
      expect(await store.readMarks('a1', [])).toEqual({});
    });

    it('returns copies', async () => {
      const { entry: e } = await store.enqueue(entry('c1', { customer: { id: 'u', name: 'N', email: null } }), at(1));
      e.customer!.name = 'changed';
      expect((await store.getAssignment('c1'))!.customer!.name).toBe('N');
    });
  });
}

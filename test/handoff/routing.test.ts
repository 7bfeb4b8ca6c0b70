/**
 * Routing rules (pure) and the handoff service applying them with memory stores and an injected
 * clock: least-loaded online agent with the skill, capacity, FIFO by waiting time with priority,
 * the next conversation when capacity frees up, manual pick, business hours per queue.
 */
import * as path from 'path';
import { pickAgent, sortWaiting, nextFor } from '../../src/handoff/routing';
import { describeOpening, isOpen, nextOpening } from '../../src/handoff/hours';
import { createBaton, type Baton } from '../../src/main';
import { silentLogger } from '../../src/util/logger';
import type { AgentRecord } from '../../src/handoff/store/port';

const agent = (id: string, load: number, extra: Partial<{ presence: 'online' | 'away' | 'offline'; capacity: number; skills: string[]; lastAssignedAt: string | null }> = {}) => ({
  id,
  load,
  presence: 'online' as const,
  capacity: 25,
  skills: ['*'],
  lastAssignedAt: null,
  ...extra,
});

describe('routing rules (pure)', () => {
  it('picks the least-loaded online agent with the skill and room; ties: least recently assigned, then id', () => {
    const agents = [agent('a', 3), agent('b', 1, { skills: ['orders'] }), agent('c', 0, { presence: 'away' }), agent('d', 1, { skills: ['billing'] }), agent('e', 1, { lastAssignedAt: '2026-01-01T00:00:00.000Z' })];
    expect(pickAgent({ queue: 'orders' }, agents)!.id).toBe('b');
    expect(pickAgent({ queue: 'billing' }, agents)!.id).toBe('d');
    expect(pickAgent({ queue: 'general' }, agents)!.id).toBe('e');
    expect(pickAgent({ queue: 'general' }, [agent('x', 2, { capacity: 2 })])).toBeNull();
    expect(pickAgent({ queue: 'general' }, [agent('x', 0, { presence: 'offline' })])).toBeNull();
  });

  it('orders the waiting line by priority, then longest waiting', () => {
    const w = [
      { conversationId: 'late', queue: 'q', priority: 0, waitingSince: '2026-01-01T10:00:00.000Z' },
      { conversationId: 'urgent', queue: 'q', priority: 2, waitingSince: '2026-01-01T11:00:00.000Z' },
      { conversationId: 'early', queue: 'q', priority: 0, waitingSince: '2026-01-01T09:00:00.000Z' },
      { conversationId: 'other', queue: 'x', priority: 5, waitingSince: '2026-01-01T08:00:00.000Z' },
    ];
    expect(sortWaiting(w).map((x) => x.conversationId)).toEqual(['other', 'urgent', 'early', 'late']);
    expect(nextFor({ skills: ['q'] }, w)!.conversationId).toBe('urgent');
  });
});

describe('business hours (IANA time zones, DST)', () => {
  const hours = { timezone: 'America/New_York', weekly: { 'mon-fri': '08:00-20:00', sat: ['10:00-13:00', '14:00-18:00'], sun: 'closed' as const }, closed: ['2026-12-25'] };
  it('knows when a queue is open', () => {
    expect(isOpen(hours, new Date('2026-03-10T15:00:00Z'))).toBe(true); // Tue 11:00 EDT
    expect(isOpen(hours, new Date('2026-03-10T11:59:00Z'))).toBe(false); // Tue 07:59 EDT
    expect(isOpen(hours, new Date('2026-01-13T12:59:00Z'))).toBe(false); // Tue 07:59 EST
    expect(isOpen(hours, new Date('2026-01-13T13:00:00Z'))).toBe(true); // Tue 08:00 EST
    expect(isOpen(hours, new Date('2026-03-14T17:30:00Z'))).toBe(false); // Sat 13:30 (lunch)
    expect(isOpen(hours, new Date('2026-12-25T16:00:00Z'))).toBe(false); // holiday
    expect(isOpen(undefined, new Date())).toBe(true);
  });
  it('finds the next opening across the weekend, holidays and the DST change', () => {
    // Fri 2026-03-06 21:00 EST → Sat 10:00 EST
    expect(nextOpening(hours, new Date('2026-03-07T02:00:00Z'))!.toISOString()).toBe('2026-03-07T15:00:00.000Z');
    // Sat 2026-03-07 19:00 EST → (Sun closed; DST starts Sun 8 March) → Mon 08:00 EDT = 12:00Z
    expect(nextOpening(hours, new Date('2026-03-08T00:00:00Z'))!.toISOString()).toBe('2026-03-09T12:00:00.000Z');
    // Thu 2026-12-24 21:00 EST → Fri 25 closed → Sat 26 10:00 EST
    expect(nextOpening(hours, new Date('2026-12-25T02:00:00Z'))!.toISOString()).toBe('2026-12-26T15:00:00.000Z');
    expect(nextOpening(hours, new Date('2026-03-10T15:00:00Z'))).toBeNull();
    expect(describeOpening(new Date('2026-03-09T12:00:00Z'), new Date('2026-03-08T00:00:00Z'), 'America/New_York')).toBe('Monday at 8:00 AM EDT');
    expect(describeOpening(new Date('2026-03-07T15:00:00Z'), new Date('2026-03-07T02:00:00Z'), 'America/New_York')).toBe('tomorrow at 10:00 AM EST');
  });
});

describe('the handoff service (memory stores, injected clock)', () => {
  let baton: Baton;
  let now = new Date('2026-03-10T15:00:00.000Z');
  const BOT = path.join(__dirname, '..', '..', 'bots', 'acme');
  beforeEach(async () => {
    now = new Date('2026-03-10T15:00:00.000Z');
    baton = await createBaton({ botDir: BOT, logger: silentLogger, clock: () => now, cacheDir: path.join(require('os').tmpdir(), 'baton-test-model-cache', 'acme') });
  });
  afterEach(() => baton.close());

  async function handOff(team: string, minutesLater = 0): Promise<string> {
    now = new Date(now.getTime() + minutesLater * 60_000);
    const { conversationId } = await baton.service.create({ channel: 'web' });
    await baton.service.send(conversationId, { text: 'talk to a person' });
    await baton.service.send(conversationId, { text: team });
    await baton.handoff.idle();
    return conversationId;
  }
  const mk = async (name: string, extra: { capacity?: number; skills?: string[] } = {}): Promise<AgentRecord> =>
    baton.handoff.createAgent({ email: `${name}@x.example`, name, password: 'password-123456', ...extra });

  it('assigns new handoffs to the least-loaded online agent with the skill; capacity is respected', async () => {
    const a = await mk('ann', { capacity: 2, skills: ['orders'] });
    const b = await mk('bob', { capacity: 2, skills: ['orders', 'billing'] });
    await mk('cat', { skills: ['returns'] });
    for (const x of [a, b]) await baton.handoff.setPresence(x, 'online');
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await handOff('Orders & delivery', 1));
    const entries = await Promise.all(ids.map((id) => baton.handoff.store.getAssignment(id)));
    const got = entries.map((e) => e!.agentId);
    // Equal loads: both agents get one each (which one first is a tie), then the same order again.
    expect(new Set(got.slice(0, 2))).toEqual(new Set([a.id, b.id]));
    expect(got.slice(2, 4)).toEqual(got.slice(0, 2));
    expect(got[4]).toBeNull();
    expect(entries[4]!.status).toBe('waiting');
    // A billing conversation goes to Bob only — but he is full: it waits.
    const bill = await handOff('Payments', 1);
    expect((await baton.handoff.store.getAssignment(bill))!.status).toBe('waiting');
  });

  it('when an agent frees capacity, the longest-waiting matching conversation (higher priority first) is assigned next', async () => {
    const a = await mk('ann', { capacity: 1 });
    await baton.handoff.setPresence(a, 'online');
    const first = await handOff('Orders & delivery');
    const older = await handOff('My account', 1);
    const newer = await handOff('Orders & delivery', 1);
    const urgent = await handOff('Payments', 1); // billing has priority 1 in acme
    expect((await baton.handoff.store.getAssignment(first))!.agentId).toBe(a.id);
    await baton.handoff.resolve(a, first);
    await baton.handoff.idle();
    expect((await baton.handoff.store.getAssignment(urgent))!.agentId).toBe(a.id);
    await baton.handoff.handback(a, urgent);
    await baton.handoff.idle();
    expect((await baton.handoff.store.getAssignment(older))!.agentId).toBe(a.id);
    expect((await baton.handoff.store.getAssignment(newer))!.status).toBe('waiting');
    const waiting = await baton.handoff.list(a, 'waiting');
    expect(waiting.map((w) => w.id)).toEqual([newer]);
  });

  it('coming online takes waiting conversations; outside opening hours nothing is auto-assigned', async () => {
    const a = await mk('ann', { capacity: 5 });
    const c1 = await handOff('Orders & delivery');
    const c2 = await handOff('Returns & refunds', 1);
    await baton.handoff.setPresence(a, 'online');
    expect((await baton.handoff.list(a, 'mine')).map((x) => x.id).sort()).toEqual([c1, c2].sort());
    await baton.handoff.setPresence(a, 'away');
    now = new Date('2026-03-14T03:30:00.000Z'); // Friday 23:30 in New York: closed
    const c3 = await handOff('Orders & delivery');
    await baton.handoff.setPresence(a, 'online');
    expect((await baton.handoff.store.getAssignment(c3))!.status).toBe('waiting');
    now = new Date('2026-03-14T14:00:00.000Z'); // Saturday 10:00 EDT: open
    expect(await baton.handoff.sweep()).toBe(1);
    expect((await baton.handoff.store.getAssignment(c3))!.agentId).toBe(a.id);
  });

  it('manual assignment mode: nothing is assigned until an agent accepts', async () => {
    (baton.bot.config.handoff as { assignment: string }).assignment = 'manual';
    const a = await mk('ann');
    await baton.handoff.setPresence(a, 'online');
    const c = await handOff('Orders & delivery');
    expect((await baton.handoff.store.getAssignment(c))!.status).toBe('waiting');
    expect((await baton.handoff.accept(a, c)).status).toBe('assigned');
  });
});

/**
 * Routing rules, pure (no I/O, no clock): the order of the waiting line and which agent gets a
 * conversation. The handoff service applies them with atomic store operations (`claim`), so two
 * processes that pick at once cannot both win.
 *
 * - The waiting line: higher `priority` first, then the longest waiting (`waitingSince`), then id.
 * - An agent can take a conversation of a queue when their skills contain the queue (or `*`).
 * - Automatic assignment: among the **online** agents with the skill and free capacity, the one
 *   with the fewest assigned conversations; ties go to the one who was assigned least recently
 *   (never assigned first), then by id.
 * - When an agent frees capacity (or comes online), they get the longest-waiting conversation they
 *   have the skill for.
 */
export type Presence = 'online' | 'away' | 'offline';

export interface RoutableAgent {
  id: string;
  presence: Presence;
  capacity: number;
  skills: string[];
  /** Conversations assigned now. */
  load: number;
  lastAssignedAt: string | null;
}

export interface Waiting {
  conversationId: string;
  queue: string;
  priority: number;
  waitingSince: string;
}

export function hasSkill(agent: { skills: string[] }, queue: string): boolean {
  return agent.skills.includes('*') || agent.skills.includes(queue);
}

/** Order of the waiting line. */
export function compareWaiting(a: Waiting, b: Waiting): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  if (a.waitingSince !== b.waitingSince) return a.waitingSince < b.waitingSince ? -1 : 1;
  return a.conversationId < b.conversationId ? -1 : a.conversationId > b.conversationId ? 1 : 0;
}

export function sortWaiting<T extends Waiting>(list: T[]): T[] {
  return [...list].sort(compareWaiting);
}

/** The agent a waiting conversation goes to, or null (nobody online with the skill and room). */
export function pickAgent<A extends RoutableAgent>(entry: { queue: string }, agents: A[]): A | null {
  let best: A | null = null;
  for (const a of agents) {
    if (a.presence !== 'online' || !hasSkill(a, entry.queue) || a.load >= a.capacity) continue;
    if (!best) {
      best = a;
      continue;
    }
    const byLoad = a.load - best.load;
    const la = a.lastAssignedAt ?? '';
    const lb = best.lastAssignedAt ?? '';
    if (byLoad < 0 || (byLoad === 0 && (la < lb || (la === lb && a.id < best.id)))) best = a;
  }
  return best;
}

/** The conversation an agent with free capacity takes next, or null. */
export function nextFor<T extends Waiting>(agent: { skills: string[]; presence?: Presence }, waiting: T[]): T | null {
  let best: T | null = null;
  for (const w of waiting) if (hasSkill(agent, w.queue) && (!best || compareWaiting(w, best) < 0)) best = w;
  return best;
}

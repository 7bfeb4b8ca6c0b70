/**
 * The handoff store port: agents, and one queue/assignment entry per handed-off conversation.
 * (Notes and everything said live in the conversation's event log, not here.)
 *
 * Three adapters (`MemoryHandoffStore`, `SqliteHandoffStore`, `MongoHandoffStore`) pass one contract suite
 * (test/handoff/store-contract.ts). Conventions as in the conversation store: everything in and
 * out is a JSON deep copy; times are canonical `toISOString()` UTC strings supplied by the caller.
 *
 * Concurrency: `claim`, `requeue` and `finish` are atomic compare-and-set operations (several
 * server processes may share the store): two agents (or two processes auto-assigning) cannot both
 * get a conversation, and an agent's capacity is checked in the same atomic step.
 */
import type { Presence } from '../routing';

export type Role = 'agent' | 'admin';
export type AssignmentStatus = 'waiting' | 'assigned' | 'resolved';

export interface AgentRecord {
  id: string;
  /** Lower-cased, unique. */
  email: string;
  name: string;
  role: Role;
  /** A bcrypt hash (never the password). */
  passwordHash: string;
  /** How many conversations the agent carries at once. */
  capacity: number;
  /** Queues the agent serves; `*` = every queue. */
  skills: string[];
  presence: Presence;
  lastAssignedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export type NewAgent = Omit<AgentRecord, 'lastAssignedAt' | 'createdAt' | 'updatedAt' | 'presence'> & { presence?: Presence };
export type AgentPatch = Partial<Pick<AgentRecord, 'name' | 'role' | 'passwordHash' | 'capacity' | 'skills' | 'presence'>>;

export interface CustomerSnapshot {
  id: string | null;
  name: string | null;
  email: string | null;
}

export interface LastMessage {
  seq: number;
  from: 'customer' | 'bot' | 'agent' | 'note' | 'system';
  text: string;
  createdAt: string;
}

export interface Assignment {
  conversationId: string;
  botId: string;
  status: AssignmentStatus;
  queue: string;
  priority: number;
  reason: string;
  /** When the customer started waiting for a person (the handoff). */
  waitingSince: string;
  /** Seq of the handoff event: "unread" counts customer messages after it until the agent reads. */
  sinceSeq: number;
  agentId: string | null;
  assignedAt: string | null;
  /** How a resolved entry ended: resolved by an agent, or handed back to the bot. */
  closedBy: 'resolve' | 'handback' | null;
  closedAt: string | null;
  customer: CustomerSnapshot | null;
  lastMessage: LastMessage | null;
  /** Store-wide change counter (increases with every write to any entry): `changes(afterRev)`. */
  rev: number;
  updatedAt: string;
}

export interface EnqueueInput {
  conversationId: string;
  botId: string;
  queue: string;
  priority: number;
  reason: string;
  waitingSince: string;
  sinceSeq: number;
  customer: CustomerSnapshot | null;
}

export interface EnqueueOptions {
  /**
   * Assign a new (or reopened) entry to this agent in the same atomic step, when the agent exists
   * and carries fewer than `capacity` conversations — as `claim` would, so the entry is never seen
   * waiting. Otherwise the entry waits. An adapter may leave this out (the entry then waits and
   * the caller claims it): callers look at the returned entry's status.
   */
  assignTo?: { agentId: string; capacity: number };
}

export interface AssignmentFilter {
  status?: AssignmentStatus[];
  agentId?: string;
  /** Only these queues (undefined: all). */
  queues?: string[];
  /** Default 500, at most 10,000. */
  limit?: number;
}

export interface HandoffStore {
  createAgent(agent: NewAgent, at: string): Promise<AgentRecord>;
  getAgent(id: string): Promise<AgentRecord | null>;
  getAgentByEmail(email: string): Promise<AgentRecord | null>;
  listAgents(): Promise<AgentRecord[]>;
  updateAgent(id: string, patch: AgentPatch, at: string): Promise<AgentRecord>;

  /**
   * Put a conversation in the waiting line. An open entry (waiting or assigned) is returned as it
   * is (a handoff announced twice queues once); a resolved one is reopened as waiting with the new
   * details.
   */
  enqueue(input: EnqueueInput, at: string, opts?: EnqueueOptions): Promise<{ entry: Assignment; created: boolean }>;
  getAssignment(conversationId: string): Promise<Assignment | null>;
  /** Entries, most recently changed first. */
  listAssignments(filter?: AssignmentFilter): Promise<Assignment[]>;
  /**
   * Atomically assign to `agentId`: the entry must be waiting (or assigned to `takeFrom`, for a
   * transfer; or already to `agentId`, which changes nothing), and the agent must carry fewer than
   * `capacity` conversations.
   */
  claim(conversationId: string, agentId: string, opts: { capacity: number; at: string; takeFrom?: string }): Promise<{ entry: Assignment; changed: boolean }>;
  /** Back to waiting in `queue` (a transfer to a queue); only an open entry. */
  requeue(conversationId: string, opts: { queue: string; at: string }): Promise<Assignment>;
  /** Close an open entry (resolved by an agent, or handed back to the bot). */
  finish(conversationId: string, opts: { by: 'resolve' | 'handback'; at: string }): Promise<Assignment>;
  /** Record the latest message (for lists); ignored when `message.seq` is not newer. */
  setLastMessage(conversationId: string, message: LastMessage, at: string): Promise<Assignment | null>;
  /** Entries changed after `afterRev`, oldest change first. */
  changes(afterRev: number, limit?: number): Promise<Assignment[]>;
  /** Conversations assigned per agent now. */
  loads(): Promise<Record<string, number>>;

  markRead(agentId: string, conversationId: string, seq: number): Promise<void>;
  /** Last read seq per conversation for this agent (absent: never read). */
  readMarks(agentId: string, conversationIds: string[]): Promise<Record<string, number>>;
  /**
   * Last read seq per agent for one conversation (absent: never read) — what `readMarks` gives,
   * for many agents in one read (a change pushed to every agent who sees the conversation).
   * Optional: without it, callers ask `readMarks` agent by agent.
   */
  readMarksOf?(conversationId: string, agentIds: string[]): Promise<Record<string, number>>;

  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------- errors

export abstract class HandoffError extends Error {
  abstract readonly code: string;
  readonly retryable: boolean = false;
}
export class EmailTakenError extends HandoffError {
  readonly code = 'email_taken';
  constructor(email: string) {
    super(`an agent with e-mail ${email} already exists`);
  }
}
export class AgentNotFoundError extends HandoffError {
  readonly code = 'agent_not_found';
  constructor(id: string) {
    super(`agent ${id} does not exist`);
  }
}
export class AssignmentNotFoundError extends HandoffError {
  readonly code = 'conversation_not_found';
  constructor(id: string) {
    super(`conversation ${id} is not in the handoff queue (it was never handed off to a person)`);
  }
}
export class AlreadyAssignedError extends HandoffError {
  readonly code = 'already_assigned';
  constructor(
    id: string,
    readonly agentId: string | null,
  ) {
    super(`conversation ${id} is already assigned to another agent`);
  }
}
export class OverCapacityError extends HandoffError {
  readonly code = 'over_capacity';
  constructor(agentId: string, capacity: number) {
    super(`agent ${agentId} already carries ${capacity} conversations (their capacity); resolve or hand one back first`);
  }
}
export class NotOpenError extends HandoffError {
  readonly code = 'not_open';
  constructor(id: string) {
    super(`conversation ${id} is no longer with a person (resolved or handed back)`);
  }
}

// ---------------------------------------------------------------------------------- helpers

export const ASSIGNMENTS_DEFAULT_LIMIT = 500;
export const ASSIGNMENTS_MAX_LIMIT = 10_000;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function copy<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

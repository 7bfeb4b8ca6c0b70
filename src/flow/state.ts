/**
 * Conversation state: plain JSON, versioned. The store keeps it as the snapshot next
 * to the append-only event log.
 *
 * Compatibility: fields added after version 1 (`lastCustomerAt`, `resolvedAt`, status
 * `resolved`, pending `resume`, `lowConfidence`, `negative`, `handoff.priority/flow/step/agent`,
 * `language`/`languageSource`/`languageVote`) are optional additions, so the version stays 1 and no
 * migration is needed: a snapshot written before them reads as is (no known time of the
 * last customer message = no "welcome back" question on the next message; no `resolvedAt`
 * = not resolved). Keeping the version also keeps rolling deploys working: a server still
 * running the previous Baton ignores the new fields instead of refusing the conversation
 * with StateVersionError. Bump the version only for a change an older reader would get
 * wrong (a renamed or re-meant field), with a migration in `readState`.
 */
import type { JsonObject, JsonValue } from '../util/json';

export const STATE_VERSION = 1;

export interface Frame {
  flowId: string;
  /** Index of the current step, with its id so a changed flow file can be detected. */
  pc: number;
  stepId: string;
  /** How this flow was entered: main (by intent), sub (called by a `flow:` step; returns to its caller) or digression (interrupting another flow, which resumes after it). */
  kind: 'main' | 'sub' | 'digression';
  /** What the frame is waiting for; null while running. */
  waiting: null | 'collect' | 'action';
  attempts: number;
  /** The id of the action call this frame waits for. */
  requestId?: string;
  /** Values of this flow's slots and variables when a digression interrupted it; restored when it resumes. */
  saved?: { slots: Record<string, JsonValue>; vars: Record<string, JsonValue> };
}

export type Pending =
  | { kind: 'handoff_offer'; reason: string }
  | { kind: 'feedback'; articleId: string }
  /** `text`: the message that led to the choice, used to pre-fill slots of the chosen flow. */
  | { kind: 'choose'; options: { title: string; intent: string }[]; text?: string }
  /** "Welcome back! … continue or start over?", asked when a customer comes back to a flow after a long time. `titles`: the button titles, for typed replies. */
  | { kind: 'resume'; flowId: string; titles: { continue: string; restart: string } };

/**
 * Where the conversation stands. `active`: the bot handles messages. `resolved`: the customer's
 * request was settled (by the bot today; by an agent later) — the next customer message reopens
 * it. `handed_off`: a person has it; the bot stays silent.
 */
export type ConversationStatus = 'active' | 'resolved' | 'handed_off';

export interface AgentRef {
  id: string;
  name: string;
}

export interface HandoffState {
  reason: string;
  queue: string;
  at: string;
  /** The customer was told once that a person will answer (the bot is silent after that). */
  acknowledged: boolean;
  /** Higher is served first (absent in states written before priorities existed: 0). */
  priority?: number;
  /** The flow and step the customer was in when the bot handed off (context for the agent). */
  flow?: string | null;
  step?: string | null;
  /** The agent who has the conversation; null or absent while it waits in the queue. */
  agent?: AgentRef | null;
}

export interface ConversationState {
  v: typeof STATE_VERSION;
  status: ConversationStatus;
  /** ISO time the conversation was resolved; only while `status` is `resolved`. */
  resolvedAt?: string;
  /** ISO time of the customer's last message (ctx.now of that turn). Absent until the first message, and in states written before it was recorded. */
  lastCustomerAt?: string;
  stack: Frame[];
  slots: Record<string, JsonValue>;
  vars: Record<string, JsonValue>;
  profile: Record<string, JsonValue>;
  /** Misunderstandings in a row. */
  fallbacks: number;
  pending: Pending | null;
  /** While handed off: why, to which queue, since when, and the agent who has it (null while it waits in the queue). */
  handoff: null | HandoffState;
  /** Routed messages in a row whose best intent scored below `handoff.triggers.lowConfidence.below`. */
  lowConfidence?: number;
  /** Messages in a row at or below `handoff.triggers.negativeSentiment.below`. */
  negative?: number;
  lastIntent: null | { intent: string; confidence: number };
  turns: number;
  channel: string;
  /**
   * Where the customer last wrote from, so later messages (an agent's reply hours later) reach them
   * there. Set by each customer message that comes through a channel; absent for conversations that
   * never used one.
   */
  route?: ChannelRoute;
  /**
   * Bots with several languages: the conversation's language — replies are written in it and the
   * customer's messages are understood by its model. Absent: the bot's default language (always so
   * for single-language bots, and for states written before languages existed).
   */
  language?: string;
  /** How `language` was set: `default` (assumed), `preferred` (profile, channel or browser), `detected` (from the customer's messages). */
  languageSource?: 'default' | 'preferred' | 'detected';
  /** Weak evidence for another language, in a row (see decideLanguage in src/nlu/language.ts). */
  languageVote?: { language: string; count: number };
}

/** Where to reach a customer on a messaging channel. */
export interface ChannelRoute {
  /** The channel's name: "twilio", "whatsapp", "messenger", "botframework", or "web"/"api" for Baton's own API. */
  channel: string;
  /** The customer's address on the channel: E.164 phone number, page-scoped id, Bot Framework `channelId:userId`. */
  address: string;
  /** Whatever else the channel needs to reach the customer later (the Bot Framework conversation reference). */
  ref?: JsonObject;
  /** ISO time of the customer's last message on this channel (service windows count from it). */
  lastInboundAt: string;
}

export function initialState(
  opts: { channel?: string; profile?: Record<string, JsonValue>; route?: ChannelRoute; language?: { language: string; source: 'default' | 'preferred' } } = {},
): ConversationState {
  return {
    ...(opts.route ? { route: opts.route } : {}),
    ...(opts.language ? { language: opts.language.language, languageSource: opts.language.source } : {}),
    v: STATE_VERSION,
    status: 'active',
    stack: [],
    slots: {},
    vars: {},
    profile: opts.profile ?? {},
    fallbacks: 0,
    pending: null,
    handoff: null,
    lastIntent: null,
    turns: 0,
    channel: opts.channel ?? 'api',
  };
}

export class StateVersionError extends Error {
  readonly code = 'state_version';
  readonly retryable = false;
  constructor(found: unknown) {
    super(`conversation state has version ${String(found)}, this Baton understands version ${STATE_VERSION}; upgrade Baton or migrate the data`);
  }
}

/** Parse a stored snapshot, checking its version. Version-1 snapshots from before the optional fields were added need no change (see the top of this file). */
export function readState(json: unknown): ConversationState {
  const s = json as Partial<ConversationState> | null;
  if (!s || typeof s !== 'object' || s.v !== STATE_VERSION) throw new StateVersionError(s && (s as { v?: unknown }).v);
  return s as ConversationState;
}

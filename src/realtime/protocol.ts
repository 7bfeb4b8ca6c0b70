/**
 * The real-time protocol of `GET /api/v1/conversations/{id}/stream?token=…&after=…` (WebSocket).
 * Documented in docs/api.md; the web widget is built against exactly these frames.
 */
import { z } from 'zod';
import type { PublicMessage } from './messages';

export type ServerFrame =
  | { type: 'message'; message: PublicMessage }
  | { type: 'typing'; from: 'bot' | 'agent'; name?: string }
  | { type: 'ready'; lastSeq: number }
  | { type: 'pong' }
  | { type: 'error'; error: { code: string; message: string } };

/**
 * Client → server: `{ "type": "ping" }` (answered with `pong`) and `{ "type": "typing" }` (the
 * customer is writing: relayed to the agents who see the conversation while it is with a person;
 * accepted only once the stream is authorised, and at most one per `TYPING_MIN_INTERVAL_MS` per
 * connection is relayed — the widget sends one every ~2 s while the customer types).
 */
export const clientFrame = z.discriminatedUnion('type', [z.object({ type: z.literal('ping') }).loose(), z.object({ type: z.literal('typing') }).loose()]);
export type ClientFrame = z.infer<typeof clientFrame>;

/** A connection's typing frames closer together than this are dropped (not relayed, no error). */
export const TYPING_MIN_INTERVAL_MS = 1000;

/**
 * Flood guard for client frames, per connection (customer and agent streams): a bucket of
 * `burst` frames, refilled at `perSecond`. A connection that empties it gets an `error` frame
 * (`rate_limited`) and close 1008. Well-behaved clients (a ping every 25 s, a typing frame every
 * 2 s) never come near it.
 */
export const FRAME_LIMIT = { burst: 30, perSecond: 2 } as const;

export class FrameBucket {
  private tokens: number;
  private at: number;
  constructor(
    private readonly burst: number = FRAME_LIMIT.burst,
    private readonly perSecond: number = FRAME_LIMIT.perSecond,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.at = now();
  }
  /** Takes one frame's token; false when the connection is over its limit. */
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.at) / 1000) * this.perSecond);
    this.at = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Close codes (4000–4999 are application codes; 1001 = going away). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  internal: 1011,
  tryAgainLater: 1013,
  badRequest: 4400,
  /** The client sent frames faster than allowed (`rate_limited`). */
  policyViolation: 1008,
  unauthorized: 4401,
  notFound: 4404,
  /** Agent stream: the agent's role changed; reconnect (the lists differ now). */
  roleChanged: 4409,
} as const;

export const STREAM_PATH = /^\/api\/v1\/conversations\/([^/]+)\/stream\/?$/;

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

export const clientFrame = z.object({ type: z.literal('ping') }).loose();
export type ClientFrame = z.infer<typeof clientFrame>;

/** Close codes (4000–4999 are application codes; 1001 = going away). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  internal: 1011,
  tryAgainLater: 1013,
  badRequest: 4400,
  unauthorized: 4401,
  notFound: 4404,
} as const;

export const STREAM_PATH = /^\/api\/v1\/conversations\/([^/]+)\/stream\/?$/;

/**
 * The webhook mechanics Meta uses for both WhatsApp Cloud API and Messenger:
 *
 * - Verification handshake: when the callback URL is registered, Meta calls
 *   `GET <url>?hub.mode=subscribe&hub.verify_token=<token>&hub.challenge=<n>` and expects the
 *   challenge back (200, text/plain) only if the token is the one the business typed in.
 * - Signed deliveries: every `POST` carries `X-Hub-Signature-256: sha256=<hex>`, the HMAC-SHA256 of
 *   the exact body bytes keyed with the app secret. It is checked on the raw bytes (before any JSON
 *   parsing, which would not round-trip them) and in constant time.
 * - Events are handed to the sink one by one, in the order the payload lists them; the webhook is
 *   answered after the last one is committed. Meta retries a delivery that is not answered 200, and
 *   the provider message id makes that retry idempotent.
 */
import { createHmac, timingSafeEqual } from 'crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { HttpError } from '../../http/errors';
import type { Logger } from '../../util/logger';
import type { DeliveryStatusUpdate, InboundMessage, InboundSink } from '../port';

/** One thing a webhook payload asks of Baton, in payload order. */
export type MetaEvent =
  | { kind: 'message'; message: InboundMessage }
  | { kind: 'status'; update: DeliveryStatusUpdate }
  /** Recognised and deliberately not processed (echoes, read watermarks, other phone numbers…): logged at debug. */
  | { kind: 'ignored'; reason: string };

export interface MetaWebhookOptions {
  /** Channel name for logs ("whatsapp"). */
  channel: string;
  /** Full route path, e.g. "/webhooks/whatsapp/acme". */
  path: string;
  verifyToken: string;
  appSecret: string;
  logger: Logger;
  /** The payload (already signature-checked and JSON-parsed) as events in processing order. */
  parse(body: unknown): MetaEvent[];
}

/** Largest webhook body accepted; Meta batches at most a few hundred events per delivery. */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;

/** `sha256=<hex>`: the value Meta puts in X-Hub-Signature-256 for `raw`. */
export function metaSignature(raw: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}`;
}

/** Whether `header` is the signature of exactly these bytes (constant time). */
export function checkSignature(raw: Buffer, header: string | undefined, appSecret: string): 'ok' | 'missing' | 'invalid' {
  if (header === undefined || header.trim() === '') return 'missing';
  const m = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!m) return 'invalid';
  const given = Buffer.from(m[1], 'hex');
  const expected = createHmac('sha256', appSecret).update(raw).digest();
  return timingSafeEqual(given, expected) ? 'ok' : 'invalid';
}

/** Constant-time string equality (both sides are hashed first so lengths never leak or throw). */
export function safeEqual(a: string, b: string): boolean {
  const h = (s: string) => createHmac('sha256', 'baton-compare').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

/**
 * The handshake answer: the challenge to echo, or why not. The query is read from the raw URL so
 * the dotted names (`hub.mode`) do not depend on the app's query parser setting.
 */
export function handshake(query: URLSearchParams, verifyToken: string): { ok: true; challenge: string } | { ok: false; error: HttpError } {
  const mode = query.get('hub.mode');
  const token = query.get('hub.verify_token');
  const challenge = query.get('hub.challenge');
  if (mode !== 'subscribe' || token === null || !safeEqual(token, verifyToken))
    return { ok: false, error: new HttpError(403, 'verification_failed', 'hub.mode must be "subscribe" and hub.verify_token must equal the configured verify token') };
  // Meta's challenge is a short number; anything else is not echoed back.
  if (challenge === null || !/^[\w.-]{1,256}$/.test(challenge)) return { ok: false, error: new HttpError(400, 'invalid_challenge', 'hub.challenge is missing or not a plain token') };
  return { ok: true, challenge };
}

/**
 * Hand events to the sink in order. A message the sink refuses as invalid (`invalid_message`) is
 * logged and skipped — a retry would be refused again; any other failure stops here and rejects, so
 * the webhook answers 500 and Meta retries the whole delivery (earlier events are then duplicates,
 * recognised by their provider ids, and the order is kept).
 */
export async function dispatchEvents(events: MetaEvent[], sink: InboundSink, logger: Logger): Promise<void> {
  for (const ev of events) {
    if (ev.kind === 'ignored') {
      logger.debug('webhook event ignored', { reason: ev.reason });
    } else if (ev.kind === 'status') {
      await sink.deliveryStatus(ev.update);
    } else {
      try {
        await sink.receive(ev.message);
      } catch (e) {
        if ((e as { code?: unknown } | null)?.code !== 'invalid_message') throw e;
        logger.warn('inbound message refused as invalid; acknowledged so the provider does not retry it', {
          providerMessageId: ev.message.providerMessageId,
          error: (e as Error).message,
        });
      }
    }
  }
}

/** express.raw, with its "too large" error in Baton's shape and our limit in the message. */
function rawBody() {
  const parse = express.raw({ type: () => true, limit: MAX_WEBHOOK_BYTES });
  return (req: Request, res: Response, next: NextFunction) =>
    parse(req, res, (err?: unknown) => {
      if ((err as { type?: string } | undefined)?.type === 'entity.too.large') return next(new HttpError(413, 'body_too_large', 'the webhook body is larger than 1 MB'));
      next(err);
    });
}

/** A literal path as an express route pattern (bot ids are folder names and may hold ":", "(", "*"…). */
export function literalRoute(path: string): string {
  return path.replace(/[()[\]?+!:*{}\\]/g, '\\$&');
}

/** The webhook routes (GET handshake, POST deliveries) for one Meta channel of one bot. */
export function metaWebhookRouter(opts: MetaWebhookOptions, sink: InboundSink): Router {
  const router = Router();
  const route = literalRoute(opts.path);
  const queryOf = (req: Request) => new URLSearchParams(req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '');

  router.get(route, (req, res, next) => {
    const r = handshake(queryOf(req), opts.verifyToken);
    if (!r.ok) {
      opts.logger.warn('webhook verification refused', { channel: opts.channel, status: r.error.status });
      return next(r.error);
    }
    opts.logger.info('webhook verified', { channel: opts.channel });
    res.status(200).type('text/plain').send(r.challenge);
  });

  router.post(route, rawBody(), async (req, res, next) => {
    try {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const sig = checkSignature(raw, req.get('x-hub-signature-256'), opts.appSecret);
      if (sig === 'missing') throw new HttpError(401, 'missing_signature', 'the X-Hub-Signature-256 header is missing');
      if (sig === 'invalid') throw new HttpError(403, 'invalid_signature', 'the X-Hub-Signature-256 header does not match the body (check the app secret)');
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new HttpError(400, 'invalid_json', 'the webhook body is not valid JSON');
      }
      await dispatchEvents(opts.parse(body), sink, opts.logger);
      res.status(200).type('text/plain').send('EVENT_RECEIVED');
    } catch (e) {
      next(e);
    }
  });

  router.all(route, (req, _res, next) =>
    next(new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here; use GET (verification) or POST (events)`, undefined, { Allow: 'GET, HEAD, POST' })),
  );
  return router;
}

/**
 * A minimal HTTP entry for the customer API: start a conversation, send a message,
 * read the history. Bodies are validated with zod; every error has one JSON shape.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { createHmac, timingSafeEqual } from 'crypto';
import { z } from 'zod';
import type { ConversationService } from '../conversation/service';
import { ConversationNotFound, InvalidMessageError } from '../conversation/service';
import type { Logger } from '../util/logger';
import { demoPage } from './demo-page';

export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

const createBody = z.strictObject({
  botId: z.string().optional(),
  profile: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});
const messageBody = z
  .strictObject({
    text: z.string().max(4000).optional(),
    payload: z.string().max(1000).optional(),
    clientMessageId: z.string().min(1).max(200).optional(),
  })
  .refine((b) => (b.text && b.text.trim()) || b.payload, { message: 'send "text" or "payload"' });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success)
    throw new HttpError(400, 'invalid_body', 'the request body is not valid', r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  return r.data;
}

export function createApp(opts: { service: ConversationService; secret: string; logger: Logger; ready?: () => boolean }) {
  const { service, secret, logger } = opts;
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '64kb' }));

  const tokenFor = (id: string) => createHmac('sha256', secret).update(`conversation:${id}`).digest('base64url');
  const auth = (req: Request) => {
    const id = String(req.params.id);
    const h = req.get('authorization') ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(h);
    if (!m) throw new HttpError(401, 'unauthorized', 'send the customerToken of this conversation as "Authorization: Bearer <token>"');
    const a = Buffer.from(m[1]);
    const b = Buffer.from(tokenFor(id));
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw new HttpError(403, 'forbidden', 'this token does not belong to this conversation');
    return id;
  };

  app.get('/', (_req, res) => {
    res.type('html').send(demoPage(service.bot.name));
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ok = opts.ready ? opts.ready() : true;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'starting' });
  });

  app.post('/api/v1/conversations', async (req, res) => {
    const body = parse(createBody, req.body);
    if (body.botId && body.botId !== service.bot.id) throw new HttpError(404, 'bot_not_found', `this server runs bot "${service.bot.id}", not "${body.botId}"`);
    const r = await service.create({ channel: 'web', profile: body.profile });
    res.status(201).json({ conversationId: r.conversationId, customerToken: tokenFor(r.conversationId), messages: r.replies.map((m) => ({ ...m, from: 'bot' })) });
  });

  app.post('/api/v1/conversations/:id/messages', async (req, res) => {
    const id = auth(req);
    const body = parse(messageBody, req.body);
    const r = await service.send(id, body);
    res.json({ messages: r.replies.map((m) => ({ ...m, from: 'bot' })), duplicate: r.duplicate, handoff: r.handoff });
  });

  app.get('/api/v1/conversations/:id/messages', async (req, res) => {
    const id = auth(req);
    const after = req.query.after === undefined ? undefined : Number(req.query.after);
    const limit = req.query.limit === undefined ? undefined : Number(req.query.limit);
    if ((after !== undefined && !Number.isInteger(after)) || (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000)))
      throw new HttpError(400, 'invalid_query', '"after" must be an integer sequence number and "limit" an integer from 1 to 1000');
    const events = await service.history(id, { afterSeq: after, limit });
    if (!events.length && !(await service.state(id))) throw new HttpError(404, 'conversation_not_found', `conversation ${id} does not exist`);
    res.json({
      messages: events
        .filter((e) => e.type !== 'handoff')
        .map((e) =>
          e.type === 'customer_message'
            ? { seq: e.seq, id: `m${e.seq}`, from: 'customer', text: e.data.text, payload: e.data.payload, createdAt: e.at }
            : { seq: e.seq, ...(e.data.message as object), from: 'bot', createdAt: e.at },
        ),
    });
  });

  app.use((_req, _res, next) => next(new HttpError(404, 'not_found', 'no such route; see docs/api.md')));
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  app.use((e: unknown, req: Request, res: Response, _next: NextFunction) => {
    let he: HttpError;
    if (e instanceof HttpError) he = e;
    else if (e instanceof ConversationNotFound) he = new HttpError(404, e.code, e.message);
    else if (e instanceof InvalidMessageError) he = new HttpError(400, e.code, e.message);
    else if ((e as { type?: string }).type === 'entity.parse.failed') he = new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
    else if ((e as { type?: string }).type === 'entity.too.large') he = new HttpError(413, 'body_too_large', 'the request body is larger than 64 KB');
    else {
      logger.error('request failed', { method: req.method, path: req.path, error: e as Error });
      he = new HttpError(500, 'internal', 'something went wrong on our side; the request can be retried');
    }
    res.status(he.status).json({ error: { code: he.code, message: he.message, ...(he.details ? { details: he.details } : {}) } });
  });
  return app;
}

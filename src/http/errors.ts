/**
 * One error shape for every HTTP failure — validation, auth, unknown route, wrong method, bad
 * JSON, oversized body, bugs:
 *
 *   { "error": { "code": "invalid_body", "message": "…", "details"?: … } }
 *
 * A bug answers 500 `internal` and is logged with its stack; the stack never reaches a client.
 */
import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { ConversationNotFound, InvalidMessageError } from '../conversation/service';
import { StoreClosedError } from '../store/port';
import type { Logger } from '../util/logger';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Validate with zod; a failure is a 400 listing every problem as `{ path, message }`. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, code: 'invalid_body' | 'invalid_query', what: string): T {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new HttpError(
      400,
      code,
      `the ${what} is not valid`,
      r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  return r.data;
}

export function sendError(res: Response, e: HttpError): void {
  if (res.headersSent) return;
  if (e.headers) res.set(e.headers);
  res.status(e.status).json({ error: { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) } });
}

/** Errors from body-parser and express itself carry `type`/`status`; everything else is ours or a bug. */
export function toHttpError(e: unknown): HttpError | null {
  if (e instanceof HttpError) return e;
  if (e instanceof ConversationNotFound) return new HttpError(404, e.code, e.message);
  if (e instanceof InvalidMessageError) return new HttpError(400, e.code, e.message);
  if (e instanceof StoreClosedError) return new HttpError(503, 'shutting_down', 'this server is shutting down; retry the request', undefined, { 'Retry-After': '1' });
  const x = e as { type?: string; status?: number; statusCode?: number; expose?: boolean; limit?: number } | null;
  if (x?.type === 'entity.parse.failed') return new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
  if (x?.type === 'entity.too.large') return new HttpError(413, 'body_too_large', `the request body is larger than ${typeof x.limit === 'number' ? `${Math.round(x.limit / 1024)} KB` : 'allowed'}`);
  if (x?.type === 'encoding.unsupported' || x?.type === 'charset.unsupported') return new HttpError(415, 'unsupported_media_type', 'send the body as UTF-8 JSON');
  if (x?.type === 'request.aborted') return new HttpError(400, 'request_aborted', 'the request was aborted by the client');
  const status = x?.status ?? x?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new HttpError(status, 'bad_request', 'the request could not be understood');
  return null;
}

export function errorHandler(logger: Logger) {
  // Four arguments: express recognises an error handler by its arity.
  return (e: unknown, req: Request, res: Response, _next: NextFunction) => {
    let he = toHttpError(e);
    if (!he) {
      logger.error('request failed', { method: req.method, path: req.path, requestId: res.locals.requestId, conversationId: res.locals.conversationId, error: e as Error });
      he = new HttpError(500, 'internal', 'something went wrong on our side; the request can be retried');
    }
    sendError(res, he);
  };
}

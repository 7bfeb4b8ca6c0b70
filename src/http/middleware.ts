/** Cross-cutting HTTP middleware: request ids, access logs and metrics, CORS, shutdown guard, body checks. */
import { randomUUID } from 'crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Metrics } from '../metrics';
import type { Logger } from '../util/logger';
import { HttpError, sendError } from './errors';

const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/widget.js', '/', '/favicon.ico']);

/** The route pattern that handled a request (bounded cardinality for metrics). */
function routeOf(req: Request): string {
  const r = (req as Request & { route?: { path?: unknown } }).route;
  return r && typeof r.path === 'string' ? `${req.baseUrl}${r.path}` : 'unmatched';
}

/** Request id (X-Request-Id in and out), one log line per request, request metrics. */
export function requestContext(logger: Logger, metrics?: Metrics): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const incoming = req.get('x-request-id');
    const requestId = incoming && /^[\w.:-]{1,100}$/.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.set('X-Request-Id', requestId);
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(req);
      metrics?.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      metrics?.httpDuration.observe({ method: req.method, route }, seconds);
      const fields: Record<string, unknown> = { method: req.method, route, path: req.path, status: res.statusCode, ms: Math.round(seconds * 1000), requestId };
      if (res.locals.conversationId) fields.conversationId = res.locals.conversationId;
      if (res.locals.customerId) fields.customerId = res.locals.customerId;
      if (res.statusCode >= 500) logger.warn('request', fields);
      else if (OPS_PATHS.has(req.path)) logger.debug('request', fields);
      else logger.info('request', fields);
    });
    next();
  };
}

/** Security headers every response gets. */
export const baseHeaders: RequestHandler = (req, res, next) => {
  res.set('X-Content-Type-Options', 'nosniff');
  if (req.path.startsWith('/api/')) res.set('Cache-Control', 'no-store');
  next();
};

/**
 * CORS for the customer API: the widget runs on the business's site, another origin. Tokens are
 * bearer headers, never cookies, so allowing other origins cannot be used for request forgery.
 */
export function cors(origins: '*' | string[]): RequestHandler {
  const list = new Set(Array.isArray(origins) ? origins : []);
  return (req, res, next) => {
    if (!req.path.startsWith('/api/')) return next();
    const origin = req.get('origin');
    let allowed: string | null = null;
    if (origins === '*') allowed = '*';
    else if (origin && list.has(origin)) allowed = origin;
    if (allowed) {
      res.set('Access-Control-Allow-Origin', allowed);
      res.set('Access-Control-Expose-Headers', 'X-Request-Id, Retry-After');
      if (allowed !== '*') res.vary('Origin');
    }
    if (req.method === 'OPTIONS' && req.get('access-control-request-method')) {
      if (allowed) {
        res.set('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
        res.set('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Request-Id');
        res.set('Access-Control-Max-Age', '600');
      }
      res.status(204).end();
      return;
    }
    next();
  };
}

/** While shutting down, new API requests get 503 (and the connection is closed) so clients retry elsewhere. */
export function shutdownGuard(isShuttingDown: () => boolean): RequestHandler {
  return (req, res, next) => {
    if (!isShuttingDown() || !req.path.startsWith('/api/')) return next();
    res.set('Connection', 'close');
    sendError(res, new HttpError(503, 'shutting_down', 'this server is shutting down; retry the request', undefined, { 'Retry-After': '1' }));
  };
}

/** A request with a body must send JSON. (No body at all is fine: it reads as `{}` where allowed.) */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
  if (hasBody && ['POST', 'PUT', 'PATCH'].includes(req.method) && !req.is(['application/json', 'application/*+json']))
    return next(new HttpError(415, 'unsupported_media_type', 'send the body as JSON with "Content-Type: application/json"'));
  next();
};

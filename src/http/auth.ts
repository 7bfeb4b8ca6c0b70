/** Bearer-token checks for the API routes (the same rules as the WebSocket stream; see identity/access.ts). */
import type { Request, Response } from 'express';
import { authorizeConversation } from '../identity/access';
import type { ConversationRecord } from '../store/port';
import type { ApiDeps } from './deps';
import { HttpError } from './errors';

export function bearerToken(req: Request): string | undefined {
  const h = req.get('authorization');
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (!m) throw new HttpError(401, 'unauthorized', 'the Authorization header must be "Bearer <customerToken>"');
  return m[1];
}

/** The conversation of `req.params.id`, if the request's token may use it; else the matching 401/403/404. */
export async function requireConversation(deps: ApiDeps, req: Request, res: Response): Promise<ConversationRecord> {
  const id = String(req.params.id);
  res.locals.conversationId = id;
  const access = await authorizeConversation({ tokens: deps.tokens, store: deps.store, botId: deps.service.bot.id }, bearerToken(req), id);
  if (!access.ok) throw new HttpError(access.status, access.code, access.message);
  if (access.customerId) res.locals.customerId = access.customerId;
  return access.record;
}

/** The verified customer of the request's token; 401 without a token, 403 for any other token. */
export function requireCustomer(deps: ApiDeps, req: Request, res: Response): string {
  const token = bearerToken(req);
  if (!token) throw new HttpError(401, 'unauthorized', 'send the customer token as "Authorization: Bearer <token>"');
  const customerId = deps.tokens.customerOf(token);
  if (customerId === null)
    throw new HttpError(403, 'customer_token_required', 'this needs a verified customer token (from POST /api/v1/conversations with identity, or POST /api/v1/customers/token)');
  res.locals.customerId = customerId;
  return customerId;
}

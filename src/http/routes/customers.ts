/** Verified customers: exchange a signed identity for a token; list the customer's conversations from any device. */
import { Router, type Request, type Response } from 'express';
import { verifyIdentity } from '../../identity/verify';
import { requireCustomer } from '../auth';
import type { ApiDeps } from '../deps';
import { HttpError, parseWith } from '../errors';
import { customerTokenBody, listQuery, LIST_DEFAULT_LIMIT } from '../schemas';

export function customerRoutes(deps: ApiDeps): Router {
  const r = Router();

  r.post('/api/v1/customers/token', (req: Request, res: Response) => {
    const body = parseWith(customerTokenBody, req.body ?? {}, 'invalid_body', 'request body');
    const check = verifyIdentity(body.identity, deps.identitySecret);
    if (!check.ok) throw new HttpError(check.status, check.code, check.message);
    res.locals.customerId = check.customerId;
    res.json({ customerId: check.customerId, customerToken: deps.tokens.forCustomer(check.customerId) });
  });

  r.get('/api/v1/customers/me/conversations', async (req: Request, res: Response) => {
    const customerId = requireCustomer(deps, req, res);
    const q = parseWith(listQuery, req.query, 'invalid_query', 'query');
    const records = await deps.store.list({ botId: deps.service.bot.id, customerId, limit: q.limit ?? LIST_DEFAULT_LIMIT });
    res.json({
      customerId,
      conversations: records
        .filter((c) => c.customerId === customerId)
        .map((c) => ({
          conversationId: c.id,
          createdAt: c.createdAt,
          updatedAt: c.updatedAt,
          status: c.state.status === 'handed_off' ? 'handed_off' : 'active',
        })),
    });
  });

  return r;
}

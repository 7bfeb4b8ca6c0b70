/** Verified customers: exchange a signed identity for a token; list the customer's conversations from any device. */
import { Router, type Request, type Response } from 'express';
import { verifyIdentity, verifyLink } from '../../identity/verify';
import { requireCustomer } from '../auth';
import type { ApiDeps } from '../deps';
import { HttpError, parseWith } from '../errors';
import { channelLinkBody, customerTokenBody, listQuery, LIST_DEFAULT_LIMIT } from '../schemas';

/** Phone-number channels store E.164 (+ and digits): "+1 (555) 123-4567" and "15551234567" are one address. */
export function normaliseAddress(channel: string, address: string): string {
  const a = address.trim();
  if (channel !== 'twilio' && channel !== 'whatsapp') return a;
  const digits = a.replace(/^whatsapp:/, '').replace(/[\s().-]/g, '');
  return /^\+?\d{6,15}$/.test(digits) ? `+${digits.replace(/^\+/, '')}` : a;
}

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

  // Link a channel address to a verified customer (server to server, signed with the identity secret).
  const link = (remove: boolean) => async (req: Request, res: Response) => {
    const body = parseWith(channelLinkBody, req.body ?? {}, 'invalid_body', 'request body');
    const check = verifyLink(body, deps.identitySecret);
    if (!check.ok) throw new HttpError(check.status, check.code, check.message);
    const gateway = deps.channels;
    const channel = gateway?.channels.find((c) => c.name === body.channel);
    if (!gateway || !channel)
      throw new HttpError(404, 'channel_not_enabled', `the channel "${body.channel}" is not on for this bot${gateway?.channels.length ? ` (on: ${gateway.channels.map((c) => c.name).join(', ')})` : ''}; see docs/channels.md`);
    const address = normaliseAddress(body.channel, body.address);
    res.locals.customerId = check.customerId;
    if (remove) {
      const existed = await gateway.unlink(body.channel, address);
      res.json({ userId: body.userId, channel: body.channel, address, linked: false, existed });
    } else {
      await gateway.link(body.channel, address, check.customerId);
      res.json({ userId: body.userId, channel: body.channel, address, linked: true });
    }
  };
  r.post('/api/v1/customers/links', link(false));
  r.delete('/api/v1/customers/links', link(true));

  return r;
}

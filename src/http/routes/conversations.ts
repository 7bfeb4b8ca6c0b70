/** The customer conversation API: start, send a message, read the history. */
import { Router, type Request, type Response } from 'express';
import type { OutMessage } from '../../flow/interpreter';
import type { ConversationStore, StoredEvent } from '../../store/port';
import type { JsonValue } from '../../util/json';
import { verifyIdentity } from '../../identity/verify';
import { MESSAGE_EVENT_TYPES, toPublicMessage } from '../../realtime/messages';
import type { CommitFeed } from '../../realtime/commit-feed';
import { requireConversation } from '../auth';
import type { ApiDeps } from '../deps';
import { HttpError, parseWith } from '../errors';
import { createConversationBody, historyQuery, HISTORY_DEFAULT_LIMIT, sendMessageBody } from '../schemas';

interface Committed {
  seq: number;
  at: string;
}

/**
 * Collects the seq and commit time of the bot messages committed to one conversation while a
 * request runs, so replies carry the same `seq` and `createdAt` as the history and the stream.
 */
function captureCommits(feed: CommitFeed | undefined, conversationId: string) {
  const seen = new Map<string, Committed>();
  const stop = feed?.subscribe((id, events) => {
    if (id !== conversationId) return;
    for (const e of events) {
      const m = e.type === 'bot_message' ? (e.data.message as { id?: unknown } | undefined) : undefined;
      if (m && typeof m.id === 'string') seen.set(m.id, { seq: e.seq, at: e.at });
    }
  });
  return { seen, stop: () => stop?.() };
}

/** Where bot messages were committed, by message id (a scan: only for retried messages). */
async function findCommitted(store: ConversationStore, conversationId: string, ids: Set<string>): Promise<Map<string, Committed>> {
  const out = new Map<string, Committed>();
  let after = 0;
  for (let page = 0; page < 1000 && out.size < ids.size; page++) {
    const events: StoredEvent[] = await store.events(conversationId, { afterSeq: after, limit: 1000, types: ['bot_message'] });
    for (const e of events) {
      const id = (e.data.message as { id?: unknown } | undefined)?.id;
      if (typeof id === 'string' && ids.has(id)) out.set(id, { seq: e.seq, at: e.at });
    }
    if (events.length < 1000) break;
    after = events[events.length - 1].seq;
  }
  return out;
}

function asReplies(replies: OutMessage[], committed: Map<string, Committed>) {
  const fallback = new Date().toISOString();
  return replies.map((m) => {
    const c = committed.get(m.id);
    return { ...(c ? { seq: c.seq } : {}), ...m, from: 'bot' as const, createdAt: c?.at ?? fallback };
  });
}

export function conversationRoutes(deps: ApiDeps): Router {
  const { service } = deps;
  const r = Router();

  r.post('/api/v1/conversations', async (req: Request, res: Response) => {
    const body = parseWith(createConversationBody, req.body ?? {}, 'invalid_body', 'request body');
    if (body.botId && body.botId !== service.bot.id) throw new HttpError(404, 'bot_not_found', `this server runs bot "${service.bot.id}", not "${body.botId}"`);
    let customerId: string | undefined;
    const profile: Record<string, JsonValue> = {};
    if (body.identity) {
      const check = verifyIdentity(body.identity, deps.identitySecret);
      if (!check.ok) throw new HttpError(check.status, check.code, check.message);
      customerId = check.customerId;
      res.locals.customerId = customerId;
      profile.id = customerId;
      if (body.identity.name) profile.name = body.identity.name;
      if (body.identity.email) profile.email = body.identity.email;
    }
    const created = await service.create({ channel: 'web', profile, customerId, ...(body.language ? { language: body.language } : {}) });
    res.locals.conversationId = created.conversationId;
    // A new conversation holds only its welcome events: finding them is one short read.
    const committed = await findCommitted(deps.store, created.conversationId, new Set(created.replies.map((m) => m.id)));
    res.status(201).json({
      conversationId: created.conversationId,
      customerToken: customerId !== undefined ? deps.tokens.forCustomer(customerId) : deps.tokens.forConversation(created.conversationId),
      ...(customerId !== undefined ? { customerId } : {}),
      messages: asReplies(created.replies, committed),
    });
  });

  r.post('/api/v1/conversations/:id/messages', async (req: Request, res: Response) => {
    const record = await requireConversation(deps, req, res);
    const body = parseWith(sendMessageBody, req.body ?? {}, 'invalid_body', 'request body');
    const cap = captureCommits(deps.commits, record.id);
    let outcome;
    try {
      // Written from Baton's own API: later messages (an agent's reply) are for the widget, not a messaging channel used before.
      outcome = await service.send(record.id, { ...body, channel: { name: 'web', address: record.customerId ?? record.id } });
    } finally {
      cap.stop();
    }
    let committed = cap.seen;
    const missing = new Set(outcome.replies.map((m) => m.id).filter((id) => !committed.has(id)));
    if (missing.size && outcome.duplicate) committed = new Map([...committed, ...(await findCommitted(deps.store, record.id, missing))]);
    res.json({ messages: asReplies(outcome.replies, committed), duplicate: outcome.duplicate, handoff: outcome.handoff });
  });

  r.get('/api/v1/conversations/:id/messages', async (req: Request, res: Response) => {
    const record = await requireConversation(deps, req, res);
    const q = parseWith(historyQuery, req.query, 'invalid_query', 'query');
    const after = q.after ?? 0;
    const limit = q.limit ?? HISTORY_DEFAULT_LIMIT;
    const events = await deps.store.events(record.id, { afterSeq: after, limit: limit + 1, types: MESSAGE_EVENT_TYPES });
    const page = events.slice(0, limit);
    res.json({
      messages: page.map(toPublicMessage).filter((m) => m !== null),
      nextAfter: page.length ? page[page.length - 1].seq : after,
      hasMore: events.length > limit,
    });
  });

  return r;
}

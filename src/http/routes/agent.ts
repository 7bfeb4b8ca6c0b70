/**
 * The agent API (`/api/v1/agent/…`): login, presence, the queue and conversations, replies,
 * notes, transfers, resolve, hand back, canned responses, agent administration. Every route but
 * login takes `Authorization: Bearer <agentToken>`; the agent is re-read from the store on every
 * request (role, capacity, existence). See docs/api.md#agent-api.
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { HandoffService } from '../../handoff/service';
import { publicAgent } from '../../handoff/service';
import type { AgentTokens } from '../../handoff/auth';
import type { AgentRecord } from '../../handoff/store/port';
import { HandoffError } from '../../handoff/store/port';
import { ConversationNotFound, NotHandedOffError } from '../../conversation/service';
import { HttpError, parseWith } from '../errors';
import * as s from './agent-schemas';

export interface AgentApiDeps {
  handoff: HandoffService;
  tokens: AgentTokens;
}

export const AGENT_ROUTES: [string, string[]][] = [
  ['/api/v1/agent/login', ['POST']],
  ['/api/v1/agent/me', ['GET']],
  ['/api/v1/agent/presence', ['POST']],
  ['/api/v1/agent/conversations', ['GET']],
  ['/api/v1/agent/conversations/:id', ['GET']],
  ['/api/v1/agent/conversations/:id/accept', ['POST']],
  ['/api/v1/agent/conversations/:id/messages', ['POST']],
  ['/api/v1/agent/conversations/:id/notes', ['POST']],
  ['/api/v1/agent/conversations/:id/read', ['POST']],
  ['/api/v1/agent/conversations/:id/transfer', ['POST']],
  ['/api/v1/agent/conversations/:id/resolve', ['POST']],
  ['/api/v1/agent/conversations/:id/handback', ['POST']],
  ['/api/v1/agent/conversations/:id/canned/:cannedId/render', ['POST']],
  ['/api/v1/agent/agents', ['GET', 'POST']],
  ['/api/v1/agent/canned', ['GET']],
];

const STATUS: Record<string, number> = {
  already_assigned: 409,
  over_capacity: 409,
  not_open: 409,
  not_assigned: 409,
  not_handed_off: 409,
  email_taken: 409,
  conversation_not_found: 404,
  agent_not_found: 404,
  canned_not_found: 404,
};

function toHttp(e: unknown): unknown {
  if (e instanceof HandoffError || e instanceof NotHandedOffError) return new HttpError(STATUS[e.code] ?? 409, e.code, e.message);
  if (e instanceof ConversationNotFound) return new HttpError(404, e.code, e.message);
  return e;
}

type Handler = (req: Request, res: Response) => Promise<void>;
const wrap =
  (fn: Handler): RequestHandler =>
  async (req, res) => {
    try {
      await fn(req, res);
    } catch (e) {
      throw toHttp(e);
    }
  };

export function agentTokenOf(req: Request): string | undefined {
  const h = req.get('authorization');
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : undefined;
}

export function agentRoutes(deps: AgentApiDeps): Router {
  const { handoff, tokens } = deps;
  const r = Router();

  const requireAgent = async (req: Request, res: Response, role?: 'admin'): Promise<AgentRecord> => {
    const claim = tokens.verify(agentTokenOf(req));
    if (!claim) throw new HttpError(401, 'unauthorized', 'send a valid agent token as "Authorization: Bearer <token>" (POST /api/v1/agent/login); tokens expire after 12 hours');
    const agent = await handoff.store.getAgent(claim.agentId);
    if (!agent) throw new HttpError(401, 'unauthorized', 'this agent no longer exists');
    if (role === 'admin' && agent.role !== 'admin') throw new HttpError(403, 'forbidden', 'only an admin may do this');
    res.locals.agentId = agent.id;
    return agent;
  };
  const idOf = (req: Request, res: Response) => {
    const id = String(req.params.id);
    res.locals.conversationId = id;
    return id;
  };

  r.post(
    '/api/v1/agent/login',
    wrap(async (req, res) => {
      const body = parseWith(s.loginBody, req.body ?? {}, 'invalid_body', 'request body');
      const out = await handoff.login(body.email, body.password, tokens);
      if (!out) throw new HttpError(401, 'invalid_credentials', 'the e-mail or password is wrong');
      res.json(out);
    }),
  );

  r.get(
    '/api/v1/agent/me',
    wrap(async (req, res) => {
      res.json({ agent: publicAgent(await requireAgent(req, res)) });
    }),
  );

  r.post(
    '/api/v1/agent/presence',
    wrap(async (req, res) => {
      const agent = await requireAgent(req, res);
      const body = parseWith(s.presenceBody, req.body ?? {}, 'invalid_body', 'request body');
      res.json({ agent: publicAgent(await handoff.setPresence(agent, body.presence)) });
    }),
  );

  r.get(
    '/api/v1/agent/conversations',
    wrap(async (req, res) => {
      const agent = await requireAgent(req, res);
      const q = parseWith(s.listQuery, req.query, 'invalid_query', 'query');
      res.json({ conversations: await handoff.list(agent, q.status ?? 'all') });
    }),
  );

  r.get(
    '/api/v1/agent/conversations/:id',
    wrap(async (req, res) => {
      const agent = await requireAgent(req, res);
      res.json(await handoff.detail(agent, idOf(req, res)));
    }),
  );

  r.post(
    '/api/v1/agent/conversations/:id/accept',
    wrap(async (req, res) => {
      const agent = await requireAgent(req, res);
      res.json({ conversation: await handoff.accept(agent, idOf(req, res)) });
    }),
  );

  r.post(
    '/api/v1/agent/conversations/:id/messages',
    wrap(async (req, res) => {
      const agent = await requireAgent(req, res);
      const body = parseWith(s.agentMessageBody, req.body ?? {}, 'invalid_body', 'request body');
      res.json({ message: await handoff.sendMessage(agent, idOf(req, res), body.text.normalize('NFC'), body.clientMessageId) });
    }),
  );

  r.post(
    '/api/v1/agent/conversations/:id/notes',
    wrap(async (req, res) => {
      const agent = await requireAgent(req, res);
      const body = parseWith(s.noteBody, req.body ?? {}, 'invalid_body', 'request body');
      res.json({ note: await handoff.addNote(agent, idOf(req, res), body.text.normalize('NFC')) });
    }),
  );

  r.post(
    '/api/v1/agent/conversations/:id/read',
    wrap(async (req, res) => {
      const agent = await requireAgent(req, res);
      const body = parseWith(s.readBody, req.body ?? {}, 'invalid_body', 'request body');
      await handoff.markRead(agent, idOf(req, res), body.seq);
      res.json({});
    }),
  );

  r.post(
    '/api/v1/agent/conversations/:id/transfer',
    wrap(async (req, res) => {
      const agent = await requireAgent(req, res);
      const body = parseWith(s.transferBody, req.body ?? {}, 'invalid_body', 'request body');
      res.json({ conversation: await handoff.transfer(agent, idOf(req, res), body) });
    }),
  );

  r.post(
    '/api/v1/agent/conversations/:id/resolve',
    wrap(async (req, res) => {
      const agent = await requireAgent(req, res);
      res.json({ conversation: await handoff.resolve(agent, idOf(req, res)) });
    }),
  );

  r.post(
    '/api/v1/agent/conversations/:id/handback',
    wrap(async (req, res) => {
      const agent = await requireAgent(req, res);
      const body = parseWith(s.handbackBody, req.body ?? {}, 'invalid_body', 'request body');
      res.json({ conversation: await handoff.handback(agent, idOf(req, res), body.flow) });
    }),
  );

  r.get(
    '/api/v1/agent/canned',
    wrap(async (req, res) => {
      await requireAgent(req, res);
      res.json({ responses: handoff.canned.map((c) => ({ id: c.id, title: c.title, template: c.template })) });
    }),
  );

  r.post(
    '/api/v1/agent/conversations/:id/canned/:cannedId/render',
    wrap(async (req, res) => {
      const agent = await requireAgent(req, res);
      res.json({ text: await handoff.renderCanned(agent, idOf(req, res), String(req.params.cannedId)) });
    }),
  );

  r.get(
    '/api/v1/agent/agents',
    wrap(async (req, res) => {
      // Every agent may list colleagues (the transfer picker); only admins create them.
      await requireAgent(req, res);
      res.json({ agents: (await handoff.store.listAgents()).map(publicAgent) });
    }),
  );

  r.post(
    '/api/v1/agent/agents',
    wrap(async (req, res) => {
      await requireAgent(req, res, 'admin');
      const body = parseWith(s.createAgentBody, req.body ?? {}, 'invalid_body', 'request body');
      res.status(201).json({ agent: publicAgent(await handoff.createAgent(body)) });
    }),
  );

  r.get('/api/v1/agent/stream', (_req, _res, next) =>
    next(new HttpError(426, 'upgrade_required', 'this is a WebSocket endpoint: connect with ws(s)://…/api/v1/agent/stream?token=<agentToken>', undefined, { Upgrade: 'websocket' })),
  );

  return r;
}

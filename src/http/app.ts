/**
 * The HTTP app (express 5): the customer API under /api/v1, operations endpoints, and the web
 * page. Bodies and queries are validated with zod; every error has one JSON shape (errors.ts).
 * The WebSocket stream is attached to the HTTP server separately (realtime/ws-server.ts).
 *
 * Routes (see docs/api.md and GET /api/v1/openapi.json):
 *   POST /api/v1/conversations                      start (anonymous, or verified identity)
 *   POST /api/v1/conversations/:id/messages         send a message → the bot's replies
 *   GET  /api/v1/conversations/:id/messages         history, paged (?after=SEQ&limit=N)
 *   POST /api/v1/customers/token                    signed identity → customer token
 *   GET  /api/v1/customers/me/conversations         a verified customer's conversations
 *   POST|DELETE /api/v1/customers/links              link a channel address to a verified customer
 *   channel webhooks (docs/channels.md): POST /api/messages, /webhooks/{twilio,whatsapp,messenger}/:botId
 *   GET  /api/v1/openapi.json, /healthz, /readyz, /metrics
 */
import express, { type RequestHandler } from 'express';
import type { ConversationService } from '../conversation/service';
import type { ConversationStore } from '../store/port';
import type { CommitFeed } from '../realtime/commit-feed';
import { TokenService } from '../identity/tokens';
import type { Metrics } from '../metrics';
import type { Logger } from '../util/logger';
import { demoPage } from './demo-page';
import type { ApiDeps } from './deps';
import { HttpError, errorHandler } from './errors';
import { baseHeaders, cors, requestContext, requireJsonBody, shutdownGuard } from './middleware';
import { conversationRoutes } from './routes/conversations';
import { customerRoutes } from './routes/customers';
import { opsRoutes, type ReadyReport } from './routes/ops';
import { AGENT_ROUTES, agentRoutes, type AgentApiDeps } from './routes/agent';
import type { ChannelGateway } from '../channels/gateway';

export { HttpError } from './errors';
export type { ReadyReport } from './routes/ops';

export interface AppOptions {
  service: ConversationService;
  /** Signs customer tokens (BATON_SECRET). Give this or `tokens`. */
  secret?: string;
  tokens?: TokenService;
  /** Default: the service's store. */
  store?: ConversationStore;
  /** This process's commits (Baton.commits): replies then carry their seq and commit time. */
  commits?: CommitFeed;
  /** Verifies identity signatures (BATON_IDENTITY_SECRET); without it verified identity is refused. */
  identitySecret?: string;
  logger: Logger;
  metrics?: Metrics;
  /** Readiness checks for /readyz. Default: the store answers within `probeTimeoutMs` (2000). */
  readiness?: () => Promise<ReadyReport>;
  probeTimeoutMs?: number;
  /** Browser origins allowed to call the API. Default '*' (tokens are bearer headers, never cookies). */
  corsOrigins?: '*' | string[];
  isShuttingDown?: () => boolean;
  /** Mounted before the 404 handler (e.g. the widget's `webRouter`). Default: a small demo page at `/`. */
  web?: RequestHandler;
  version?: string;
  /** The agent API (`/api/v1/agent/…`, docs/handoff.md); absent: not served. */
  agents?: AgentApiDeps;
  /** Messaging channels: their webhooks are mounted before the JSON body parser (they verify signatures on the raw bytes). */
  channels?: ChannelGateway | null;
}

/** Every route with its methods; any other method on these paths is a 405 with an Allow header. */
const ROUTES: [string, string[]][] = [
  ['/api/v1/conversations', ['POST']],
  ['/api/v1/conversations/:id/messages', ['GET', 'POST']],
  ['/api/v1/conversations/:id/stream', ['GET']],
  ['/api/v1/customers/token', ['POST']],
  ['/api/v1/customers/me/conversations', ['GET']],
  ['/api/v1/customers/links', ['POST', 'DELETE']],
  ['/api/v1/openapi.json', ['GET']],
  ['/healthz', ['GET']],
  ['/readyz', ['GET']],
  ['/metrics', ['GET']],
];

/** Probe the store with a read; a store that does not answer within `ms` is not ready. */
export async function probeStore(store: ConversationStore, ms = 2000): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      store.load('__baton_readiness_probe__'),
      new Promise((_r, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
    return 'ok';
  } catch (e) {
    return `unreachable: ${(e as Error).message}`;
  } finally {
    clearTimeout(timer);
  }
}

export function createApp(opts: AppOptions) {
  const { service, logger } = opts;
  const store = opts.store ?? service.store;
  const tokens = opts.tokens ?? (opts.secret ? new TokenService(opts.secret, service.bot.id) : undefined);
  if (!tokens) throw new TypeError('createApp needs `secret` or `tokens`');
  const isShuttingDown = opts.isShuttingDown ?? (() => false);
  const deps: ApiDeps = { service, store, tokens, identitySecret: opts.identitySecret, commits: opts.commits, logger, channels: opts.channels };
  const readiness =
    opts.readiness ??
    (async (): Promise<ReadyReport> => {
      const database = await probeStore(store, opts.probeTimeoutMs);
      const shutting = isShuttingDown();
      return { ready: database === 'ok' && !shutting, checks: { database, shutdown: shutting ? 'shutting down' : 'ok' } };
    });

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestContext(logger, opts.metrics));
  app.use(baseHeaders);
  app.use(cors(opts.corsOrigins ?? '*'));
  app.use(shutdownGuard(isShuttingDown));
  if (opts.channels) app.use(opts.channels.router());
  app.use(requireJsonBody);
  app.use(express.json({ limit: '64kb', type: ['application/json', 'application/*+json'] }));

  app.use(opsRoutes({ readiness, metrics: opts.metrics, version: opts.version }));
  app.use(conversationRoutes(deps));
  app.use(customerRoutes(deps));
  if (opts.agents) app.use(agentRoutes(opts.agents));
  app.get('/api/v1/conversations/:id/stream', (_req, _res, next) =>
    next(new HttpError(426, 'upgrade_required', 'this is a WebSocket endpoint: connect with ws(s)://…/stream?token=<customerToken>&after=<seq>', undefined, { Upgrade: 'websocket' })),
  );
  for (const [path, methods] of [...ROUTES, ...(opts.agents ? AGENT_ROUTES : [])]) {
    const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : [])].join(', ');
    app.all(path, (req, _res, next) => next(new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here; use ${methods.join(' or ')}`, undefined, { Allow: allow })));
  }
  if (opts.web) app.use(opts.web);
  else
    app.get('/', (_req, res) => {
      res.type('html').send(demoPage(service.bot.name));
    });
  app.use((req, _res, next) => next(new HttpError(404, 'not_found', `no route ${req.method} ${req.path}; see /api/v1/openapi.json`)));
  app.use(errorHandler(logger));
  return app;
}

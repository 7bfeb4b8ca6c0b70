/**
 * `baton serve`: configuration → Baton → HTTP + WebSocket server, and its graceful shutdown.
 *
 * Start: the port is opened first (liveness answers, readiness says "starting") while the bot is
 * loaded and its intent model loaded or trained; then the full app takes over.
 *
 * Shutdown (SIGTERM/SIGINT, or `handle.shutdown()`):
 *   1. stop accepting connections; new API requests on open connections get 503 `shutting_down`,
 *      /readyz answers 503 (the load balancer stops sending traffic);
 *   2. wait for requests in progress and for every accepted turn to finish (the service drains its
 *      per-conversation queues), so every accepted message is answered and committed;
 *   3. deliver what was committed to open streams, then close them with 1001 "going away"
 *      (clients reconnect, to another instance, with `after=<last seq>`);
 *   4. close remaining connections and the store; exit 0.
 * If that takes longer than BATON_SHUTDOWN_TIMEOUT_MS the process exits 1. A second signal exits
 * at once (1).
 *
 * With `--workers N` / BATON_WORKERS (N > 1) this process becomes a node:cluster primary and each
 * worker runs the above (src/http/cluster.ts): workers relay their commits and handoff changes to
 * each other through the primary, /metrics aggregates every worker, and a worker opens its port
 * only once it can serve (except worker 1 at the first start).
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import { randomBytes } from 'crypto';
import { createBaton, type Baton, type BatonOptions } from '../main';
import type { Actions } from '../conversation/actions';
import type { ConversationStore } from '../store/port';
import { ChannelConfigError } from '../channels/port';
import { ConfigError, describeDatabase, loadConfig, type ServerConfig } from '../config';
import { TokenService } from '../identity/tokens';
import { authorizeConversation } from '../identity/access';
import { Metrics } from '../metrics';
import { StreamHub } from '../realtime/hub';
import { attachStreams, type StreamServer } from '../realtime/ws-server';
import { onStopSignals } from '../util/signals';
import { pinoLogger, type Logger } from '../util/logger';
import { Router, type RequestHandler } from 'express';
import { webRouter } from '../web';
import { agentConsoleRouter } from '../web/agent';
import { demoPage } from './demo-page';
import { createApp, probeStore } from './app';
import { HttpError } from './errors';
import { AgentTokens } from '../handoff/auth';
import { AgentHub } from '../realtime/agent-hub';
import { attachAgentStreams, type AgentStreamServer } from '../realtime/agent-ws';
import { runPrimary, workerSlot, WorkerLink } from './cluster';

export interface ServerHandle {
  /** e.g. http://127.0.0.1:3978 */
  url: string;
  port: number;
  server: http.Server;
  baton: Baton;
  hub: StreamHub;
  metrics: Metrics;
  config: ServerConfig;
  agentHub: AgentHub;
  /** Demo agents created at this start (first start of a database without agents), with their passwords. */
  seeded: { email: string; role: string; password: string; generated: boolean }[];
  /** Graceful shutdown (see the file comment). Resolves with the exit code: 0, or 1 after a timeout. */
  shutdown(reason?: string): Promise<number>;
}

export interface StartOptions {
  logger?: Logger;
  /** Replace the bot's actions (tests). */
  actions?: Actions;
  /** Collect default process metrics (default true). */
  defaultMetrics?: boolean;
  /** Use this store instead of the configured database (tests, embedding). */
  store?: ConversationStore;
  /** Clock for agent tokens, opening hours and the turn runner (tests). */
  clock?: () => Date;
  /** Where the demo agents' generated passwords are printed (default: stdout). */
  print?: (text: string) => void;
  /** Channel overrides (tests): adapters, delivery retry policy. */
  channels?: BatonOptions['channels'];
  /**
   * This process is a worker of `baton serve --workers N`: relay commits and handoff changes to the
   * other workers and feed theirs to the hubs, answer /metrics for the whole cluster, and open the
   * port only once serving (unless `listenEarly`).
   */
  cluster?: WorkerLink;
}

function storeOption(config: ServerConfig): BatonOptions['store'] {
  const db = config.database;
  if (db.kind === 'memory') return 'memory';
  if (db.kind === 'sqlite') return { sqlite: db.file };
  return { mongo: db.url };
}

/** A handler for the time before the bot is loaded: alive, not ready. */
export const startingListener: http.RequestListener = (req, res) => {
  const ready = req.url === '/readyz';
  const alive = req.url === '/healthz';
  res.writeHead(alive ? 200 : 503, { 'Content-Type': 'application/json', 'Retry-After': '1' });
  res.end(
    JSON.stringify(
      alive
        ? { status: 'ok' }
        : ready
          ? { status: 'not_ready', checks: { model: 'loading', database: 'connecting' } }
          : { error: { code: 'starting', message: 'the server is starting; retry in a moment' } },
    ),
  );
};

export async function startServer(config: ServerConfig, opts: StartOptions = {}): Promise<ServerHandle> {
  const logger = opts.logger ?? pinoLogger({ level: config.logLevel });
  const started = Date.now();
  let handler: http.RequestListener = startingListener;
  let inFlight = 0;
  let shuttingDown = false;
  const server = http.createServer((req, res) => {
    inFlight++;
    res.on('close', () => inFlight--);
    handler(req, res);
  });
  server.keepAliveTimeout = 65_000; // longer than typical load balancer idle timeouts
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  // A cluster worker's siblings already answer while it loads (a restarted worker must not answer "starting").
  const cluster = opts.cluster;
  const listenFirst = !cluster || cluster.listenEarly;
  if (listenFirst) await listen();
  let port = 0;
  let url = '';
  const located = () => {
    port = (server.address() as AddressInfo).port;
    url = `http://${config.host && config.host !== '0.0.0.0' && config.host !== '::' ? (config.host.includes(':') ? `[${config.host}]` : config.host) : 'localhost'}:${port}`;
  };
  if (listenFirst) located();

  let baton: Baton;
  try {
    baton = await createBaton({
      botDir: config.botDir,
      store: opts.store ?? storeOption(config),
      logger,
      cacheDir: config.cacheDir,
      actions: opts.actions,
      resumeAfterMs: config.resumeAfterMs,
      clock: opts.clock,
      bcryptCost: config.bcryptCost,
      channels: { env: config.env, publicUrl: config.publicUrl, ...opts.channels },
    });
  } catch (e) {
    if (listenFirst) await new Promise((r) => server.close(r));
    throw e;
  }
  let secret = config.secret;
  if (!secret) {
    secret = randomBytes(32).toString('base64url');
    logger.warn('BATON_SECRET is not set: customer tokens will stop working when the server restarts, and differ between server processes; set it in production');
  }
  if (!config.identitySecret) logger.info('BATON_IDENTITY_SECRET is not set: verified identity is refused (anonymous conversations only)');
  const tokens = new TokenService(secret, baton.bot.id);
  const agentTokens = new AgentTokens(secret, opts.clock);
  // First start of a database without agents: a demo admin and agent (passwords from the
  // environment, or generated and printed once — they are not shown again).
  const seeded = await baton.handoff.seed({ admin: config.seedAdminPassword, agent: config.seedAgentPassword });
  if (seeded.length) {
    const lines = seeded.map((a) => `    ${a.role.padEnd(5)}  ${a.email}  ${a.generated ? `password: ${a.password}` : '(password from the environment)'}`);
    const text = `\n  Agent console accounts created (first start of this database):\n${lines.join('\n')}\n  Generated passwords are shown only now; set BATON_SEED_ADMIN_PASSWORD / BATON_SEED_AGENT_PASSWORD to choose them.\n`;
    (opts.print ?? ((t: string) => process.stdout.write(t)))(text);
    logger.info('agent accounts created', { agents: seeded.map((a) => a.email) });
  }
  await baton.handoff.recover();
  // Messages a stopped process committed but never sent to a messaging channel (in the background).
  // In a cluster only worker 1 looks, so two workers starting together do not both send them.
  if (!cluster || cluster.worker === 1) baton.channels?.recover().catch((e) => logger.warn('could not check for undelivered channel messages', { error: e as Error }));
  // In a cluster, the agent hub also hears the handoff changes other workers relay (as if they were this process's).
  const agentHub = new AgentHub({ handoff: cluster ? cluster.relayedHandoff(baton.handoff) : baton.handoff, conversationStore: baton.store, logger, pollIntervalMs: config.pollIntervalMs });
  await agentHub.start();
  /** A customer is typing (their stream, or another worker's): to the agent streams that see the conversation. */
  const customerTyping = (id: string) => void agentHub.customerTyping(id).catch((e) => logger.warn('could not relay customer typing', { conversationId: id, error: e as Error }));
  const metrics = new Metrics({ defaultMetrics: opts.defaultMetrics });
  const hub = new StreamHub({ store: baton.store, logger, pollIntervalMs: config.pollIntervalMs });
  const subscriptions = [
    baton.commits.subscribe(metrics.commitListener),
    baton.commits.subscribe((id) => hub.notify(id)),
    baton.service.observe(metrics.turnListener),
    baton.service.observe({ turnStarted: (id) => hub.typing(id, true), turnEnded: (id) => hub.typing(id, false) }),
  ];
  if (cluster) {
    // Other workers' commits (and typing indicators) reach this worker's streams as its own do; this worker's reach theirs.
    // (The store poll stays: other hosts, and any notification lost with a dying worker.)
    subscriptions.push(
      baton.commits.subscribe((id) => cluster.commit(id)),
      cluster.onRemoteCommits((ids) => {
        for (const id of ids) hub.notify(id);
      }),
      baton.service.observe({ turnStarted: (id) => cluster.typing(id, true), turnEnded: (id) => cluster.typing(id, false) }),
      cluster.onRemoteTyping((id, active) => hub.typing(id, active)),
      // People typing: customers on other workers' streams (→ this worker's agent streams), agents on theirs (→ customer streams).
      cluster.onRemoteCustomerTyping((id) => customerTyping(id)),
      cluster.onRemoteAgentTyping((id, name) => hub.agentTyping(id, name)),
      baton.handoff.onChange(cluster.handoffChange),
      baton.handoff.onActivity(cluster.handoffActivity),
    );
    // /metrics answers for every worker (the primary aggregates; bounded by a timeout: then 503,
    // never one worker's figures passed off as the cluster's).
    cluster.useRegistry(metrics.registry);
    metrics.text = () =>
      cluster.metricsText().catch((e: Error) => {
        logger.warn('could not collect the metrics of every worker', { error: e });
        throw new HttpError(503, 'metrics_unavailable', e.message, undefined, { 'Retry-After': '1' });
      });
  }
  baton.channels?.onDeliveryOutcome((channel, status) => metrics.channelDeliveries.inc({ channel, status }));
  let web: RequestHandler | undefined;
  try {
    web = webRouter({ botName: baton.bot.name, botId: baton.bot.id });
  } catch (e) {
    logger.warn('the web widget is not available; serving the minimal demo page', { error: e as Error });
  }
  // The agent console (`/agent` and its assets) is served next to the widget, in the same `web` handler.
  try {
    const agentConsole = agentConsoleRouter({ title: baton.bot.name });
    web = web ? Router().use(web, agentConsole) : Router().use(agentConsole).get('/', (_req, res) => void res.type('html').send(demoPage(baton.bot.name)));
  } catch (e) {
    logger.warn('the agent console is not available', { error: e as Error });
  }
  const app = createApp({
    web,
    service: baton.service,
    store: baton.store,
    commits: baton.commits,
    tokens,
    identitySecret: config.identitySecret,
    logger,
    metrics,
    corsOrigins: config.corsOrigins,
    agents: { handoff: baton.handoff, tokens: agentTokens },
    channels: baton.channels,
    isShuttingDown: () => shuttingDown,
    readiness: async () => {
      const database = await probeStore(baton.store);
      const checks = { database, model: `ok (${baton.model.hash.slice(0, 12)})`, shutdown: shuttingDown ? 'shutting down' : 'ok' };
      return { ready: database === 'ok' && !shuttingDown, checks };
    },
  });
  handler = app;
  const streams: StreamServer = attachStreams(server, {
    hub,
    logger,
    authorize: (token, id) => authorizeConversation({ tokens, store: baton.store, botId: baton.bot.id }, token, id),
    onCount: (d) => metrics.websockets.inc(d),
    isShuttingDown: () => shuttingDown,
    onTyping: (id) => {
      customerTyping(id);
      cluster?.customerTyping(id);
    },
  });
  hub.start();
  const agentStreams: AgentStreamServer = attachAgentStreams(server, {
    hub: agentHub,
    handoff: baton.handoff,
    tokens: agentTokens,
    logger,
    isShuttingDown: () => shuttingDown,
    // Checked there: only the conversation's assignee; to this worker's customer streams and, in a cluster, the others'.
    onTyping: (id, agent) => {
      hub.agentTyping(id, agent.name);
      cluster?.agentTyping(id, agent.name);
    },
  });
  // Waiting conversations that nobody took (opening hours starting, other processes' agents): assign them now and then.
  let sweeping = false;
  const sweeper = setInterval(() => {
    if (sweeping || shuttingDown) return;
    sweeping = true;
    void baton.handoff
      .sweep()
      .catch((e) => logger.warn('handoff sweep failed', { error: e as Error }))
      .finally(() => (sweeping = false));
  }, Math.max(1000, config.pollIntervalMs * 5));
  sweeper.unref();

  let stopping: Promise<number> | null = null;
  const shutdown = (reason = 'shutdown requested'): Promise<number> => {
    if (stopping) return stopping;
    shuttingDown = true;
    const t0 = Date.now();
    logger.info('shutting down: finishing turns in progress', { reason, inFlightRequests: inFlight, openStreams: hub.size });
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
    const graceful = (async () => {
      // Requests in progress (their turns included), then turns from any other source.
      for (let i = 0; inFlight > 0 && i < 100_000; i++) await new Promise((r) => setTimeout(r, 10));
      await baton.service.drain();
      await baton.channels?.idle();
      clearInterval(sweeper);
      await baton.handoff.idle();
      await hub.idle();
      await agentHub.idle();
      await streams.close();
      await agentStreams.close();
      server.closeAllConnections();
      await closed;
      for (const unsubscribe of subscriptions) unsubscribe();
      await baton.close();
      logger.info('stopped', { ms: Date.now() - t0 });
      return 0;
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((resolve) => {
      timer = setTimeout(() => {
        logger.error('graceful shutdown took too long; stopping anyway', { timeoutMs: config.shutdownTimeoutMs, inFlightRequests: inFlight });
        resolve(1);
      }, config.shutdownTimeoutMs);
      timer.unref();
    });
    stopping = Promise.race([
      graceful.catch((e) => {
        logger.error('graceful shutdown failed', { error: e as Error });
        return 1;
      }),
      timeout,
    ]).finally(() => clearTimeout(timer));
    return stopping;
  };

  if (!listenFirst) {
    try {
      await listen();
    } catch (e) {
      await shutdown('could not listen');
      throw e;
    }
    located();
  }
  logger.info('baton is serving', {
    bot: baton.bot.id,
    url: `${url}/`,
    database: describeDatabase(config.database),
    startupMs: Date.now() - started,
    modelFromCache: baton.model.fromCache,
    identity: config.identitySecret ? 'verified identity enabled' : 'anonymous only',
    channels: ['web', ...(baton.channels?.channels.map((c) => c.name) ?? [])],
  });
  if (baton.channels?.channels.length && !config.publicUrl) logger.warn('BATON_PUBLIC_URL is not set: Twilio signatures are checked against the Host header, and no delivery status callbacks are requested; set it to the URL providers call');

  return { url, port, server, baton, hub, agentHub, seeded, metrics, config, shutdown };
}

/**
 * `baton serve [bot-dir] [--port N] [--db FILE] [--workers N]`: runs until SIGTERM/SIGINT; resolves
 * with the exit code. With several workers this process is the cluster's primary, and each worker
 * (the same command, forked by node:cluster) comes back here as a worker.
 */
export async function serve(opts: { botDir?: string; port?: string | number; db?: string; workers?: string | number } = {}): Promise<number> {
  let config: ServerConfig;
  try {
    config = loadConfig(process.env, { botDir: opts.botDir, port: opts.port, db: opts.db, workers: opts.workers });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`baton serve: ${e.message}\n\nSee docs/operations.md for every variable.\n`);
    return 1;
  }
  const slot = workerSlot();
  if (slot !== undefined) return serveWorker(config, slot);
  if (config.workers > 1) {
    return runPrimary({ workers: config.workers, secret: config.secret, shutdownTimeoutMs: config.shutdownTimeoutMs, logger: pinoLogger({ level: config.logLevel }) }).then((code) => {
      setTimeout(() => process.exit(code), 500).unref();
      return code;
    });
  }
  return run(config, pinoLogger({ level: config.logLevel }));
}

/** A worker of `baton serve --workers N`: the server as in one process, but it reports to the primary and exits when done. */
async function serveWorker(config: ServerConfig, slot: number): Promise<number> {
  const logger = pinoLogger({ level: config.logLevel, base: { worker: slot } });
  const link = new WorkerLink(slot, { logger });
  // The IPC channel keeps a worker alive: whatever happens, it must exit when serving is over
  // (after a failed start, once the CLI has printed why and set the exit code).
  const exitSoon = (code: number) => setTimeout(() => process.exit(process.exitCode !== undefined && process.exitCode !== 0 ? process.exitCode : code), 200);
  try {
    const code = await run(config, logger, link);
    exitSoon(code);
    return code;
  } catch (e) {
    exitSoon(2);
    throw e;
  }
}

async function run(config: ServerConfig, logger: Logger, link?: WorkerLink): Promise<number> {
  let handle: ServerHandle;
  try {
    handle = await startServer(config, { logger, cluster: link });
  } catch (e) {
    if (e instanceof ChannelConfigError) {
      process.stderr.write(`baton serve: ${e.message}\n\nSet every variable of a channel, or none to turn it off; see docs/channels.md.\n`);
      return 1;
    }
    const code = (e as { code?: string }).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') throw e;
    process.stderr.write(`baton serve: cannot listen on ${config.host ?? '*'}:${config.port} (${code}): ${code === 'EADDRINUSE' ? 'the port is in use; set PORT or --port' : (e as Error).message}\n`);
    return 1;
  }
  const channels = handle.baton.channels?.channels.map((c) => c.title) ?? [];
  const summary = `\n  ${handle.baton.bot.name} is live at ${handle.url}/  (database: ${describeDatabase(config.database)})\n  Channels: web widget${channels.length ? `, ${channels.join(', ')}` : ' (no messaging channel configured; see docs/channels.md)'}\n\n`;
  // In a cluster the primary prints it, once, when every worker serves.
  if (link) link.ready(handle.url, summary);
  else process.stdout.write(summary);
  return new Promise<number>((resolve) => {
    const stop = (reason: string) =>
      void handle.shutdown(reason).then((code) => {
        link?.close();
        // Whatever still holds the event loop (a stuck action, a library timer) must not keep us up.
        setTimeout(() => process.exit(code), 500).unref();
        resolve(code);
      });
    onStopSignals(stop, () => {
      logger.warn('second signal: exiting without waiting');
      process.exit(1);
    });
    // The primary's request (it got SIGTERM/SIGINT); shutdown() is idempotent if this worker got the signal too.
    link?.onShutdown((reason) => stop(reason));
  });
}

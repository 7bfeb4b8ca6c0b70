/**
 * `baton serve --workers N` (BATON_WORKERS): N server processes on node:cluster, sharing the port
 * (the primary accepts connections and hands them to the workers in turn) and the database.
 *
 * The primary (`runPrimary`) loads no bot and serves nothing. It:
 * - forks worker 1 alone and waits until it serves (it migrates the database, seeds the demo
 *   agents, trains or caches the intent model), then the others, so nothing races at first start;
 * - without BATON_SECRET, generates one random secret for all workers (a token issued by one must
 *   verify on every other);
 * - prints the start-up summary once, when every worker serves;
 * - relays real-time notifications: each worker sends it the ids of the conversations it committed
 *   to, the turns it started and ended (typing indicators), the people typing on its streams
 *   (customers → agent streams, agents → customer streams) and its handoff changes (batched per
 *   event-loop iteration); it forwards them to the other workers, which feed them to their stream
 *   and agent hubs as their own are fed. The store poll stays as the safety net (other hosts, a
 *   notification lost with a dying worker). When a worker dies, the others end its turns' typing;
 * - answers a worker's `/metrics` with the metrics of every worker (prom-client's
 *   AggregatorRegistry), within a timeout;
 * - on SIGTERM/SIGINT asks every worker for its graceful shutdown and exits 0 when all have
 *   stopped cleanly (1 if one did not, or after BATON_SHUTDOWN_TIMEOUT_MS + a margin); a second
 *   signal kills them at once;
 * - restarts a worker that died unexpectedly, with a growing delay (0.5 s, 1 s, 2 s … 30 s;
 *   back to 0.5 s once a worker has run for a minute).
 *
 * A worker (`WorkerLink`, used by `startServer()`) is a normal server whose log lines carry
 * `worker: <n>` (its slot, 1..N, kept by its replacements).
 */
import { onStopSignals } from '../util/signals';
import cluster, { type Worker } from 'cluster';
import { randomBytes } from 'crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { ActivityListener, ChangeListener, HandoffService } from '../handoff/service';
import type { Logger } from '../util/logger';

/** Set by the primary in each worker's environment: the worker's slot (1..N). */
export const WORKER_ENV = 'BATON_WORKER';
/** Set for the first start of worker 1 only: it opens the port before loading the bot (liveness during a long first start). */
const LISTEN_EARLY_ENV = 'BATON_WORKER_LISTEN_EARLY';

/** A handoff listener call, with its arguments as the service made it (JSON-safe: entries, transcript items). */
type HandoffNote = { kind: 'change'; args: Parameters<ChangeListener> } | { kind: 'activity'; args: Parameters<ActivityListener> };

/** Commits, turns started/ended (typing indicators) and handoff changes of one worker during one event-loop iteration. */
interface RelayMessage {
  type: 'baton:relay';
  commits: string[];
  /** [conversation id, true = a turn started / false = it ended], in order. */
  typing: [string, boolean][];
  handoff: HandoffNote[];
  /** Conversations whose customer is typing (their agents' streams show it); absent when none. */
  customerTyping?: string[];
  /** [conversation id, agent display name]: the assigned agent is typing (their customer streams show it); absent when none. */
  agentTyping?: [string, string][];
  /** Set by the primary: the sending worker's cluster id (unique per process, unlike its slot). */
  from?: number;
}
type WorkerMessage = RelayMessage | { type: 'baton:ready'; url: string; summary: string } | { type: 'baton:metrics'; id: number };
type PrimaryMessage =
  | RelayMessage
  /** A worker process is gone: the turns it had in progress will not end (their typing indicators stop). */
  | { type: 'baton:gone'; from: number }
  | { type: 'baton:metrics'; id: number; ok: true; contentType: string; body: string }
  | { type: 'baton:metrics'; id: number; ok: false; error: string }
  | { type: 'baton:shutdown'; reason: string };

const isMessage = (m: unknown): m is { type: string } => typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';

interface Batch {
  commits: Set<string>;
  typing: [string, boolean][];
  handoff: HandoffNote[];
  customerTyping: Set<string>;
  agentTyping: Map<string, string>;
}

/** This process's worker slot when it is a worker of `runPrimary`; undefined otherwise (also in someone else's cluster). */
export function workerSlot(env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (!cluster.isWorker) return undefined;
  const n = Number(env[WORKER_ENV]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

// ------------------------------------------------------------------------------ worker side

/** The IPC channel to the primary: `process` in a cluster worker (a fake in tests). */
export interface Channel {
  readonly connected: boolean;
  send?(message: unknown, sendHandle: undefined, options: object, callback: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (m: unknown) => void): unknown;
  off(event: 'message', listener: (m: unknown) => void): unknown;
}

/** A worker's line to the primary (IPC). */
export class WorkerLink {
  /** Whether this worker should open its port before loading the bot (see LISTEN_EARLY_ENV). */
  readonly listenEarly: boolean;
  private batch: Batch | null = null;
  /** Other workers' turns in progress, per sending process and conversation (to stop their typing indicators if that process dies). */
  private readonly remoteTurns = new Map<number, Map<string, number>>();
  private readonly gone = new Set<number>();
  private readonly typingListeners = new Set<(conversationId: string, active: boolean) => void>();
  private readonly customerTypingListeners = new Set<(conversationId: string) => void>();
  private readonly agentTypingListeners = new Set<(conversationId: string, name: string) => void>();
  private readonly relayListeners = new Set<(m: RelayMessage) => void>();
  private readonly changeListeners = new Set<ChangeListener>();
  private readonly activityListeners = new Set<ActivityListener>();
  private readonly metricsRequests = new Map<number, (m: Extract<PrimaryMessage, { type: 'baton:metrics' }> | null) => void>();
  private nextId = 1;
  private shutdownReason: string | null = null;
  private shutdownListener: ((reason: string) => void) | null = null;

  private readonly channel: Channel;

  constructor(
    readonly worker: number,
    private readonly opts: { metricsTimeoutMs?: number; logger?: Logger; channel?: Channel } = {},
  ) {
    this.listenEarly = process.env[LISTEN_EARLY_ENV] === '1';
    this.channel = opts.channel ?? (process as unknown as Channel);
    // Answers the primary's "your metrics, please" (prom-client's own messages) from the start,
    // with this worker's registry once `useRegistry` is called, so a starting worker never stalls a scrape.
    new AggregatorRegistry();
    this.channel.on('message', this.onMessage);
  }

  private readonly onMessage = (m: unknown): void => {
    if (!isMessage(m)) return;
    const msg = m as PrimaryMessage;
    if (msg.type === 'baton:relay') {
      for (const l of this.relayListeners) l(msg);
      if (msg.from !== undefined && !this.gone.has(msg.from)) {
        let turns = this.remoteTurns.get(msg.from);
        if (!turns) this.remoteTurns.set(msg.from, (turns = new Map()));
        for (const [id, active] of msg.typing ?? []) {
          const had = turns.get(id) ?? 0;
          if (active) turns.set(id, had + 1);
          else if (had > 1) turns.set(id, had - 1);
          else if (had === 1) turns.delete(id);
          else continue; // the end of a turn whose start this worker did not hear (it started later)
          this.emitTyping(id, active);
        }
      }
      for (const id of msg.customerTyping ?? []) for (const l of this.customerTypingListeners) this.guard(() => l(id));
      for (const [id, name] of msg.agentTyping ?? []) for (const l of this.agentTypingListeners) this.guard(() => l(id, name));
      for (const n of msg.handoff ?? []) {
        if (n.kind === 'change') for (const l of this.changeListeners) this.guard(() => l(...n.args));
        else for (const l of this.activityListeners) this.guard(() => l(...n.args));
      }
    } else if (msg.type === 'baton:gone') {
      this.gone.add(msg.from);
      const turns = this.remoteTurns.get(msg.from);
      this.remoteTurns.delete(msg.from);
      for (const [id, n] of turns ?? []) for (let i = 0; i < n; i++) this.emitTyping(id, false);
    } else if (msg.type === 'baton:metrics') {
      this.metricsRequests.get(msg.id)?.(msg);
    } else if (msg.type === 'baton:shutdown') {
      this.shutdownReason ??= msg.reason;
      this.shutdownListener?.(msg.reason);
    }
  };

  private emitTyping(id: string, active: boolean): void {
    for (const l of this.typingListeners) this.guard(() => l(id, active));
  }

  private guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.opts.logger?.error('relayed handoff listener failed', { error: e as Error });
    }
  }

  private send(m: WorkerMessage): void {
    if (!this.channel.connected || !this.channel.send) return;
    // With a callback, a failed send (the primary is gone) is not an 'error' event on `process`.
    this.channel.send(m, undefined, {}, () => undefined);
  }

  /** This worker committed to a conversation (relayed to the other workers' stream hubs). */
  commit(conversationId: string): void {
    this.pending().commits.add(conversationId);
  }

  /** A turn started or ended here (relayed to the other workers' typing indicators). */
  typing(conversationId: string, active: boolean): void {
    this.pending().typing.push([conversationId, active]);
  }

  /** The customer of a conversation is typing on this worker's stream (relayed to the other workers' agent hubs). */
  customerTyping(conversationId: string): void {
    this.pending().customerTyping.add(conversationId);
  }

  /** The agent who has a conversation is typing on this worker's agent stream (relayed to the other workers' customer streams). */
  agentTyping(conversationId: string, name: string): void {
    this.pending().agentTyping.set(conversationId, name);
  }

  /** Subscribe with `handoff.onChange(link.handoffChange)`: relayed to the other workers' agent hubs. */
  readonly handoffChange: ChangeListener = (...args) => {
    this.pending().handoff.push({ kind: 'change', args });
  };

  /** Subscribe with `handoff.onActivity(link.handoffActivity)`: relayed to the other workers' agent hubs. */
  readonly handoffActivity: ActivityListener = (...args) => {
    this.pending().handoff.push({ kind: 'activity', args });
  };

  /** One IPC message per event-loop iteration, however many commits it made (group commit makes them in waves). */
  private pending(): Batch {
    if (!this.batch) {
      this.batch = { commits: new Set(), typing: [], handoff: [], customerTyping: new Set(), agentTyping: new Map() };
      setImmediate(() => {
        const b = this.batch!;
        this.batch = null;
        const m: RelayMessage = { type: 'baton:relay', commits: [...b.commits], typing: b.typing, handoff: b.handoff };
        if (b.customerTyping.size) m.customerTyping = [...b.customerTyping];
        if (b.agentTyping.size) m.agentTyping = [...b.agentTyping];
        this.send(m);
      });
    }
    return this.batch;
  }

  /** Other workers' commits (conversation ids). */
  onRemoteCommits(listener: (conversationIds: string[]) => void): () => void {
    const l = (m: RelayMessage) => listener(m.commits);
    this.relayListeners.add(l);
    return () => void this.relayListeners.delete(l);
  }

  /** Other workers' turns starting and ending (a worker that dies ends its turns here). */
  onRemoteTyping(listener: (conversationId: string, active: boolean) => void): () => void {
    this.typingListeners.add(listener);
    return () => void this.typingListeners.delete(listener);
  }

  /** Customers typing on other workers' streams (conversation ids). */
  onRemoteCustomerTyping(listener: (conversationId: string) => void): () => void {
    this.customerTypingListeners.add(listener);
    return () => void this.customerTypingListeners.delete(listener);
  }

  /** Agents typing on other workers' agent streams (already authorised there). */
  onRemoteAgentTyping(listener: (conversationId: string, name: string) => void): () => void {
    this.agentTypingListeners.add(listener);
    return () => void this.agentTypingListeners.delete(listener);
  }

  /**
   * The handoff service as this worker's agent hub should see it: its own changes and activity,
   * and those other workers relay. Everything else is the service itself.
   */
  relayedHandoff(handoff: HandoffService): HandoffService {
    const both =
      <L>(local: (l: L) => () => void, remote: Set<L>) =>
      (l: L): (() => void) => {
        const off = local(l);
        remote.add(l);
        return () => {
          off();
          remote.delete(l);
        };
      };
    const onChange = both<ChangeListener>((l) => handoff.onChange(l), this.changeListeners);
    const onActivity = both<ActivityListener>((l) => handoff.onActivity(l), this.activityListeners);
    return new Proxy(handoff, {
      get(target, prop) {
        if (prop === 'onChange') return onChange;
        if (prop === 'onActivity') return onActivity;
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  /** The registry whose metrics this worker contributes to the cluster's /metrics. */
  useRegistry(registry: Registry): void {
    AggregatorRegistry.setRegistries([registry]);
  }

  /** Metrics of every worker, aggregated by the primary; rejects after the timeout. */
  metricsText(): Promise<{ contentType: string; body: string }> {
    const id = this.nextId++;
    const timeoutMs = this.opts.metricsTimeoutMs ?? 4000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(null), timeoutMs);
      const done = (m: Extract<PrimaryMessage, { type: 'baton:metrics' }> | null) => {
        clearTimeout(timer);
        this.metricsRequests.delete(id);
        if (!m) reject(new Error(`the cluster's metrics did not arrive within ${timeoutMs} ms`));
        else if (!m.ok) reject(new Error(`the cluster's metrics could not be collected: ${m.error}`));
        else resolve({ contentType: m.contentType, body: m.body });
      };
      this.metricsRequests.set(id, done);
      if (!this.channel.connected) return done({ type: 'baton:metrics', id, ok: false, error: 'not connected to the primary' });
      this.send({ type: 'baton:metrics', id });
    });
  }

  /** Serving: the primary may start the next worker (and prints `summary` once every worker serves). */
  ready(url: string, summary: string): void {
    this.send({ type: 'baton:ready', url, summary });
  }

  /** The primary asks for a graceful shutdown (also when it asked before this was called). */
  onShutdown(listener: (reason: string) => void): void {
    this.shutdownListener = listener;
    if (this.shutdownReason !== null) listener(this.shutdownReason);
  }

  close(): void {
    this.channel.off('message', this.onMessage);
    this.relayListeners.clear();
    this.typingListeners.clear();
    this.customerTypingListeners.clear();
    this.agentTypingListeners.clear();
    this.changeListeners.clear();
    this.activityListeners.clear();
  }
}

// ------------------------------------------------------------------------------ primary side

export interface PrimaryOptions {
  workers: number;
  /** BATON_SECRET; undefined: one random secret is generated for all workers. */
  secret?: string;
  /** The workers' BATON_SHUTDOWN_TIMEOUT_MS: the primary waits this long plus a margin. */
  shutdownTimeoutMs: number;
  logger: Logger;
  /** Where the start-up summary goes (default: stdout). */
  print?: (text: string) => void;
  /** First restart delay after an unexpected exit (doubles up to `maxRestartDelayMs`). */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** A worker that ran this long before dying restarts after the first delay again. */
  stableAfterMs?: number;
}

interface Slot {
  n: number;
  worker: Worker | null;
  ready: boolean;
  forkedAt: number;
  /** Consecutive unexpected exits (for the restart delay). */
  failures: number;
  restart: NodeJS.Timeout | null;
  /** Exit codes of this slot's workers during shutdown. */
  exitCode: number | null;
}

/** The node:cluster primary of `baton serve --workers N`; resolves with the exit code. */
export function runPrimary(opts: PrimaryOptions): Promise<number> {
  const log = opts.logger;
  const print = opts.print ?? ((t: string) => void process.stdout.write(t));
  const restartDelayMs = opts.restartDelayMs ?? 500;
  const maxRestartDelayMs = opts.maxRestartDelayMs ?? 30_000;
  const stableAfterMs = opts.stableAfterMs ?? 60_000;
  const extraEnv: Record<string, string> = {};
  if (!opts.secret) {
    extraEnv.BATON_SECRET = randomBytes(32).toString('base64url');
    log.warn('BATON_SECRET is not set: customer tokens will stop working when the server restarts, and differ between servers (this one\'s workers share a generated secret); set it in production');
  }
  const aggregator = new AggregatorRegistry();
  const slots: Slot[] = Array.from({ length: opts.workers }, (_, i) => ({ n: i + 1, worker: null, ready: false, forkedAt: 0, failures: 0, restart: null, exitCode: null }));
  let phase: 'starting' | 'running' | 'stopping' = 'starting';
  let summary = '';
  let failCode: number | null = null;
  let stopTimer: NodeJS.Timeout | undefined;
  let stopAt = 0;
  let finish!: (code: number) => void;
  const result = new Promise<number>((r) => (finish = r));
  const t0 = Date.now();

  const live = () => slots.filter((s) => s.worker);
  const sendTo = (w: Worker, m: PrimaryMessage) => {
    if (!w.isConnected()) return;
    try {
      w.send(m, undefined, () => undefined);
    } catch {
      // the worker is going away
    }
  };

  function fork(slot: Slot, first = false): void {
    slot.ready = false;
    slot.forkedAt = Date.now();
    const w = cluster.fork({ ...extraEnv, [WORKER_ENV]: String(slot.n), [LISTEN_EARLY_ENV]: first ? '1' : '0' });
    slot.worker = w;
    log.info('worker started', { worker: slot.n, pid: w.process.pid });
    w.on('error', (e: Error) => log.warn('worker IPC error', { worker: slot.n, error: e }));
    w.on('message', (m: unknown) => onMessage(slot, w, m));
    w.on('exit', (code, signal) => onExit(slot, w, code, signal));
  }

  function onMessage(slot: Slot, from: Worker, m: unknown): void {
    if (!isMessage(m)) return;
    const msg = m as WorkerMessage;
    if (msg.type === 'baton:relay') {
      const relayed: RelayMessage = { ...msg, from: from.id };
      for (const s of slots) if (s.worker && s.worker !== from) sendTo(s.worker, relayed);
    } else if (msg.type === 'baton:metrics') {
      aggregator.clusterMetrics().then(
        (body) => sendTo(from, { type: 'baton:metrics', id: msg.id, ok: true, contentType: aggregator.contentType, body }),
        (e: Error) => sendTo(from, { type: 'baton:metrics', id: msg.id, ok: false, error: e.message }),
      );
    } else if (msg.type === 'baton:ready') {
      if (slot.worker !== from) return;
      slot.ready = true;
      if (slot.n === 1 && !summary) summary = msg.summary;
      if (phase === 'stopping') return;
      if (phase === 'running') {
        log.info('worker ready', { worker: slot.n, pid: from.process.pid });
        return;
      }
      if (slot.n === 1) for (const s of slots.slice(1)) if (!s.worker && !s.restart) fork(s);
      if (slots.every((s) => s.ready)) {
        phase = 'running';
        const pids = slots.map((s) => s.worker?.process.pid).join(', ');
        print(summary.replace(/\n*$/, '\n') + `  Workers: ${opts.workers} (node:cluster; pids ${pids}; primary ${process.pid})\n\n`);
        log.info('every worker is serving', { workers: opts.workers, startupMs: Date.now() - t0 });
      }
    }
  }

  function onExit(slot: Slot, w: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== w) return;
    slot.worker = null;
    const pid = w.process.pid;
    for (const s of slots) if (s.worker) sendTo(s.worker, { type: 'baton:gone', from: w.id });
    if (phase === 'stopping') {
      slot.exitCode = code ?? 1;
      if (code !== 0) log.error('worker stopped with an error', { worker: slot.n, pid, code, signal });
      if (!live().length) done();
      return;
    }
    if (phase === 'starting' && !slot.ready) {
      // A worker that cannot start (bad bot, port in use, database unreachable) will not start on retry either.
      log.error('worker exited before it was serving; stopping', { worker: slot.n, pid, code, signal });
      failCode = code || 1;
      stop('a worker could not start');
      return;
    }
    if (Date.now() - slot.forkedAt >= stableAfterMs) slot.failures = 0;
    const delay = Math.min(maxRestartDelayMs, restartDelayMs * 2 ** slot.failures);
    slot.failures++;
    log.error('worker exited unexpectedly; restarting it', { worker: slot.n, pid, code, signal, restartInMs: delay });
    slot.restart = setTimeout(() => {
      slot.restart = null;
      if (phase !== 'stopping') fork(slot);
    }, delay);
  }

  function done(): void {
    clearTimeout(stopTimer);
    const clean = slots.every((s) => s.exitCode === null || s.exitCode === 0);
    const code = failCode ?? (clean ? 0 : 1);
    log.info('stopped', { ms: Date.now() - stopAt, code });
    finish(code);
  }

  function stop(reason: string): void {
    if (phase === 'stopping') return;
    phase = 'stopping';
    stopAt = Date.now();
    for (const s of slots) {
      if (s.restart) clearTimeout(s.restart);
      s.restart = null;
    }
    const running = live();
    log.info('shutting down the workers', { reason, workers: running.length });
    if (!running.length) return done();
    for (const s of running) sendTo(s.worker!, { type: 'baton:shutdown', reason });
    stopTimer = setTimeout(() => {
      log.error('workers did not stop in time; killing them', { workers: live().map((s) => s.n), timeoutMs: opts.shutdownTimeoutMs });
      failCode ??= 1;
      for (const s of live()) s.worker!.process.kill('SIGKILL');
    }, opts.shutdownTimeoutMs + 5000);
  }

  const removeSignalHandlers = onStopSignals(stop, () => {
    log.warn('second signal: killing the workers without waiting');
    for (const s of live()) s.worker!.process.kill('SIGKILL');
    process.exit(1);
  });

  log.info('starting workers', { workers: opts.workers, pid: process.pid });
  fork(slots[0], true);
  return result.finally(removeSignalHandlers);
}

/**
 * Prometheus metrics (prom-client), served at GET /metrics. One registry per server, so several
 * servers in one process (tests) do not collide.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | baton_turns_total | counter | outcome: answered, fallback, handoff, duplicate, rejected, error |
 * | baton_turn_duration_seconds | histogram | — (queue wait excluded; includes actions) |
 * | baton_http_requests_total | counter | method, route, status |
 * | baton_http_request_duration_seconds | histogram | method, route |
 * | baton_websockets_open | gauge | — |
 * | baton_handoffs_total | counter | reason, queue |
 * | baton_fallbacks_total | counter | — |
 * | baton_nlu_confidence | histogram | — (top intent's confidence of each understood message) |
 * | baton_conversations_started_total | counter | — |
 * | default process metrics (baton_process_*, baton_nodejs_*) | | |
 *
 * Handoffs, fallbacks and NLU confidence are counted from *committed* events of this process (the
 * commit feed), so a turn retried after a version conflict is never counted twice.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TurnListener } from '../conversation/service';
import { InvalidMessageError } from '../conversation/service';
import type { CommitListener } from '../realtime/commit-feed';

export type TurnOutcomeLabel = 'answered' | 'fallback' | 'handoff' | 'duplicate' | 'rejected' | 'error';

export class Metrics {
  readonly registry = new Registry();
  readonly turns: Counter<'outcome'>;
  readonly turnDuration: Histogram;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route'>;
  readonly websockets: Gauge;
  readonly handoffs: Counter<'reason' | 'queue'>;
  readonly fallbacks: Counter;
  readonly nluConfidence: Histogram;
  readonly conversationsStarted: Counter;
  readonly channelDeliveries: Counter<'channel' | 'status'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.turns = new Counter({ name: 'baton_turns_total', help: 'Customer messages processed, by outcome', labelNames: ['outcome'], registers });
    this.turnDuration = new Histogram({
      name: 'baton_turn_duration_seconds',
      help: 'Time to process one customer message (NLU, flow, commits, actions)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.httpRequests = new Counter({ name: 'baton_http_requests_total', help: 'HTTP requests, by route and status', labelNames: ['method', 'route', 'status'], registers });
    this.httpDuration = new Histogram({
      name: 'baton_http_request_duration_seconds',
      help: 'HTTP request duration, by route',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.websockets = new Gauge({ name: 'baton_websockets_open', help: 'Open real-time streams (WebSockets)', registers });
    this.handoffs = new Counter({ name: 'baton_handoffs_total', help: 'Conversations handed to a person, by reason and queue', labelNames: ['reason', 'queue'], registers });
    this.fallbacks = new Counter({ name: 'baton_fallbacks_total', help: 'Messages the bot did not understand', registers });
    this.nluConfidence = new Histogram({
      name: 'baton_nlu_confidence',
      help: "Confidence of the intent matcher's best intent, per understood message",
      buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.8, 0.9, 0.95, 1],
      registers,
    });
    this.conversationsStarted = new Counter({ name: 'baton_conversations_started_total', help: 'Conversations started', registers });
    this.channelDeliveries = new Counter({ name: 'baton_channel_deliveries_total', help: 'Messages delivered to messaging channels, by channel and outcome (sent, failed, held, suppressed)', labelNames: ['channel', 'status'], registers });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'baton_' });
  }

  /** Subscribe with `service.observe(metrics.turnListener)`. */
  readonly turnListener: TurnListener = {
    turnEnded: (_id, r) => {
      let outcome: TurnOutcomeLabel;
      if (r.error) outcome = r.error instanceof InvalidMessageError ? 'rejected' : 'error';
      else if (r.outcome?.duplicate) outcome = 'duplicate';
      else if (r.outcome?.handoff) outcome = 'handoff';
      else if (r.outcome?.fallback) outcome = 'fallback';
      else outcome = 'answered';
      this.turns.inc({ outcome });
      if (!r.outcome?.duplicate) this.turnDuration.observe(r.durationMs / 1000);
    },
  };

  /** Subscribe with `commits.subscribe(metrics.commitListener)`. */
  readonly commitListener: CommitListener = (_id, events) => {
    for (const e of events) {
      if (e.type === 'conversation_started') this.conversationsStarted.inc();
      else if (e.type === 'fallback') this.fallbacks.inc();
      else if (e.type === 'handoff') this.handoffs.inc({ reason: String(e.data.reason ?? 'unknown'), queue: String(e.data.queue ?? 'unknown') });
      else if (e.type === 'nlu' && typeof e.data.confidence === 'number' && e.data.intent !== null) this.nluConfidence.observe(e.data.confidence);
    }
  };

  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

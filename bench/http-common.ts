/**
 * Shared by the HTTP benchmark's processes (bench/http.ts, http-server.ts, http-load.ts, http-prep.ts):
 * the message mix, the job and result shapes exchanged over IPC, and small statistics helpers.
 */

/**
 * One customer's messages, in order; each customer starts at a different offset and cycles.
 * 17 messages: 4 order-status requests answered by the `lookupOrder` action (3 found, 1 unknown
 * number; two of them take the number in a second message, one after a knowledge digression),
 * 5 knowledge questions, 6 small-talk / yes-no answers, 2 misunderstandings.
 */
export const SCRIPT = [
  'hi',
  'where is my order',
  'how much does shipping cost',
  'AB-123456',
  'thanks',
  'what is your return policy',
  'yes',
  'track order GH-789012',
  'blah blah qwerty',
  'what payment methods do you accept',
  'no',
  'where is my package',
  'NP-334455',
  'do you ship internationally',
  'track order XY-000000',
  'my cat speaks fluent purple',
  'bye',
];

/** A conversation the load generator sends to, with its customer token. */
export interface Target {
  id: string;
  token: string;
}

export interface ClosedJob {
  kind: 'closed';
  label: string;
  port: number;
  /** Concurrent customers, one keep-alive connection each, sending back to back. */
  connections: number;
  /** Customer w sends to targets w, w + connections, …, `perTarget` messages to each before moving on. */
  targets: Target[];
  perTarget: number;
  /** First script message of target i: (scriptOffset + i) mod SCRIPT.length. */
  scriptOffset?: number;
  warmupMs: number;
  /** Measurement window after the warm-up (the run also stops when every target is done). */
  durationMs: number;
  /** A unique tag in every clientMessageId. */
  tag: string;
}

export interface OpenJob {
  kind: 'open';
  label: string;
  port: number;
  /** Messages per second, sent at their scheduled times whatever the server does (open loop). */
  rate: number;
  targets: Target[];
  warmupMs: number;
  durationMs: number;
  /** At most this many connections (keep-alive); a request that finds none free waits, and that wait counts. */
  maxSockets: number;
  tag: string;
}

export type Job = ClosedJob | OpenJob;

export interface LatencySummary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface JobResult {
  label: string;
  kind: Job['kind'];
  /** Completed (2xx) requests in the measurement window. */
  ok: number;
  errors: number;
  /** Status codes / error codes seen, with counts (whole run, warm-up included). */
  outcomes: Record<string, number>;
  windowMs: number;
  perSec: number;
  latency: LatencySummary;
  /** Open loop: how many sends were behind schedule by more than 5 ms when issued (generator lag). */
  lateSends?: number;
  /** Replies counted in the bodies of the sampled responses (sanity check: the bot answered). */
  sampledReplies?: { responses: number; messages: number; duplicates: number };
}

/** Percentile by nearest rank on a sorted copy. */
export function summarize(xs: ArrayLike<number>, n = xs.length): LatencySummary {
  const s = Float64Array.from({ length: n }, (_, i) => xs[i]).sort();
  const at = (p: number) => (n ? s[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)] : NaN);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i];
  return { n, p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: n ? s[n - 1] : NaN, mean: n ? sum / n : NaN };
}

/** Messages between the orchestrator and its children. */
export type ServerMessage =
  | { type: 'ready'; port: number; startServerMs: number; sinceProcessStartMs: number; rss: number; heapUsed: number; pids: number[] }
  | { type: 'mem'; rss: number; heapUsed: number; heapAfterGc: number; external: number; hwm: number }
  | { type: 'clock'; us: number }
  | { type: 'stopped'; code: number };

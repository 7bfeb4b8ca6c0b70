/** Test doubles shared by the channel adapter tests: a recording provider API and an InboundSink. */
import * as http from 'http';
import type { AddressInfo } from 'net';
import { createHmac } from 'crypto';
import type { DeliveryStatusUpdate, InboundMessage, InboundSink } from '../../../src/channels/port';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/**
 * A fake provider API on 127.0.0.1: records every request (JSON bodies parsed), answers from
 * `queue` first, else with `answer(parsedBody, n)` (n counts default answers from 1).
 */
export function fakeProvider(answer: (body: any, n: number) => unknown) {
  const requests: Recorded[] = [];
  const queue: { status: number; body: unknown; headers?: Record<string, string> }[] = [];
  let n = 0;
  const server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const body = data ? JSON.parse(data) : undefined;
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const next = queue.shift() ?? { status: 200, body: answer(body ?? {}, ++n) };
      res.writeHead(next.status, { 'Content-Type': 'application/json', ...next.headers });
      res.end(JSON.stringify(next.body));
    });
  });
  const reset = () => {
    requests.length = 0;
    queue.length = 0;
    n = 0;
  };
  return { server, requests, queue, reset };
}

/** Records what an adapter hands to the gateway; `failWith` makes receive() throw for a provider message id. */
export class FakeSink implements InboundSink {
  received: InboundMessage[] = [];
  statuses: DeliveryStatusUpdate[] = [];
  failWith = new Map<string, Error>();
  async receive(msg: InboundMessage) {
    const e = this.failWith.get(msg.providerMessageId);
    if (e) throw e;
    this.received.push(msg);
    return { conversationId: `c-${msg.address}`, duplicate: false };
  }
  async setOptOut() {}
  async isOptedOut() {
    return false;
  }
  async deliveryStatus(u: DeliveryStatusUpdate) {
    this.statuses.push(u);
  }
  reset() {
    this.received = [];
    this.statuses = [];
    this.failWith.clear();
  }
}

export const listen = (s: http.Server) => new Promise<string>((r) => s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
export const close = (s?: http.Server) => new Promise<void>((r) => (s ? s.close(() => r()) : r()));

/** Meta's webhook signature (`X-Hub-Signature-256`) over the raw body. */
export const metaSign = (raw: string, secret: string) => `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

/** POSTs a JSON webhook to `url()` signed with `secret` (signature: undefined = correct, null = none, or a given header value). */
export function metaPoster(url: () => string, secret: string) {
  return async function post(body: unknown, opts: { signature?: string | null; raw?: string } = {}) {
    const raw = opts.raw ?? JSON.stringify(body);
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    const sig = opts.signature === undefined ? metaSign(raw, secret) : opts.signature;
    if (sig !== null) headers['X-Hub-Signature-256'] = sig;
    const res = await fetch(url(), { method: 'POST', headers, body: raw, signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : undefined };
  };
}

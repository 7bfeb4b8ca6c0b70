/**
 * The WebSocket endpoint `/api/v1/conversations/{id}/stream?token=<customerToken>&after=<seq>`
 * (package `ws`), attached to the HTTP server's `upgrade` event. Browsers cannot set headers on
 * a WebSocket, hence the token in the query string (it is never logged).
 *
 * The handshake is always completed, so a browser can read why it was refused: an `error` frame,
 * then a close with 4401 (bad token), 4404 (unknown conversation) or 4400 (bad `after`).
 *
 * Client frames: `ping` (→ `pong`) and `typing` (the customer is writing; once the stream is
 * authorised, at most one per TYPING_MIN_INTERVAL_MS per connection is passed to `onTyping`,
 * which relays it to the agents). A connection flooding frames is closed with 1008.
 */
import type { IncomingMessage, Server } from 'http';
import type { Duplex } from 'stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { Access } from '../identity/access';
import type { Logger } from '../util/logger';
import { withFields } from '../util/logger';
import type { StreamHub, StreamClient } from './hub';
import { wsLifecycle } from './ws-lifecycle';
import { CLOSE, FrameBucket, STREAM_PATH, TYPING_MIN_INTERVAL_MS, clientFrame, type ServerFrame } from './protocol';

export interface StreamServerOptions {
  hub: StreamHub;
  authorize: (token: string | undefined, conversationId: string) => Promise<Access>;
  logger: Logger;
  /** Called with +1/-1 as sockets open and close (metrics). */
  onCount?: (delta: number) => void;
  /** True while the server is shutting down: new streams are refused with 503. */
  isShuttingDown?: () => boolean;
  /** A WebSocket-level ping is sent this often; a socket that misses a pong is dropped. */
  heartbeatMs?: number;
  /** The customer of an authorised stream is typing (already throttled per connection): relay it to the agents. */
  onTyping?: (conversationId: string) => void;
  /** Typing frames of one connection closer together than this are dropped (default TYPING_MIN_INTERVAL_MS). */
  typingMinIntervalMs?: number;
}

export interface StreamServer {
  /** Close every stream with 1001 "going away" and stop accepting new ones. */
  close(): Promise<void>;
}

function refuse(socket: Duplex, status: number, text: string, body: object) {
  const json = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
}

export function attachStreams(server: Server, opts: StreamServerOptions): StreamServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024, perMessageDeflate: false });
  const alive = new WeakMap<WebSocket, boolean>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return refuse(socket, 400, 'Bad Request', { error: { code: 'bad_request', message: 'malformed URL' } });
    }
    // The agent stream has its own handler (realtime/agent-ws.ts).
    if (url.pathname.startsWith('/api/v1/agent/')) return;
    const m = STREAM_PATH.exec(url.pathname);
    if (!m) return refuse(socket, 404, 'Not Found', { error: { code: 'not_found', message: 'no WebSocket endpoint here; see docs/api.md' } });
    if (opts.isShuttingDown?.()) return refuse(socket, 503, 'Service Unavailable', { error: { code: 'shutting_down', message: 'this server is shutting down; reconnect' } });
    let conversationId: string;
    try {
      conversationId = decodeURIComponent(m[1]);
    } catch {
      return refuse(socket, 400, 'Bad Request', { error: { code: 'bad_request', message: 'malformed conversation id' } });
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      void onConnection(ws, conversationId, url.searchParams);
    });
  };

  const onConnection = async (ws: WebSocket, conversationId: string, query: URLSearchParams) => {
    const log = withFields(opts.logger, { conversationId });
    opts.onCount?.(1);
    alive.set(ws, true);
    const send = (f: ServerFrame) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(f));
    };
    const fail = (code: number, errorCode: string, message: string) => {
      send({ type: 'error', error: { code: errorCode, message } });
      ws.close(code, errorCode);
    };
    let client: StreamClient | null = null;
    const bucket = new FrameBucket();
    const typingEvery = opts.typingMinIntervalMs ?? TYPING_MIN_INTERVAL_MS;
    let lastTyping = -Infinity;
    ws.on('pong', () => alive.set(ws, true));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      if (!bucket.take()) {
        log.warn('stream client sent too many frames; closing it');
        return fail(CLOSE.policyViolation, 'rate_limited', 'too many frames; send a ping at most every few seconds and typing at most every 2 s');
      }
      let frame: unknown;
      try {
        frame = isBinary ? undefined : JSON.parse(data.toString());
      } catch {
        frame = undefined;
      }
      const parsed = clientFrame.safeParse(frame);
      if (!parsed.success) {
        return send({ type: 'error', error: { code: 'invalid_frame', message: 'client frames are {"type":"ping"} and {"type":"typing"}; send messages with POST /api/v1/conversations/{id}/messages' } });
      }
      if (parsed.data.type === 'ping') return send({ type: 'pong' });
      // typing: only on an authorised stream (never for a connection still being checked or refused), throttled.
      if (!client) return;
      const now = Date.now();
      if (now - lastTyping < typingEvery) return;
      lastTyping = now;
      try {
        opts.onTyping?.(conversationId);
      } catch (e) {
        log.warn('could not relay a typing frame', { error: e as Error });
      }
    });
    ws.on('close', () => {
      opts.onCount?.(-1);
      if (client) opts.hub.leave(client);
      log.debug('stream closed');
    });
    ws.on('error', (e) => log.warn('stream error', { error: e }));

    const afterText = query.get('after');
    const after = afterText === null || afterText === '' ? 0 : Number(afterText);
    if (!Number.isSafeInteger(after) || after < 0) return fail(CLOSE.badRequest, 'invalid_request', '"after" must be a non-negative integer (the seq of the last message you have)');
    let access: Access;
    try {
      access = await opts.authorize(query.get('token') ?? undefined, conversationId);
    } catch (e) {
      log.error('could not authorise a stream', { error: e as Error });
      return fail(CLOSE.internal, 'internal', 'something went wrong on our side; reconnect in a moment');
    }
    if (!access.ok) {
      if (access.status === 404) return fail(CLOSE.notFound, access.code, access.message);
      return fail(CLOSE.unauthorized, access.code === 'forbidden' ? 'forbidden' : 'unauthorized', access.message);
    }
    if (ws.readyState !== WebSocket.OPEN) return;
    client = {
      conversationId,
      cursor: after,
      ready: false,
      send,
      isOpen: () => ws.readyState === WebSocket.OPEN,
      bufferedAmount: () => ws.bufferedAmount,
      close: (code, reason) => ws.close(code, reason),
    };
    log.debug('stream opened', { after });
    opts.hub.join(client);
  };

  return wsLifecycle({ server, wss, alive, onUpgrade, hub: opts.hub, heartbeatMs: opts.heartbeatMs });
}

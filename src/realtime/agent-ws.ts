/**
 * The agent WebSocket endpoint `/api/v1/agent/stream?token=<agentToken>` (package `ws`), attached
 * to the HTTP server's `upgrade` event next to the customer streams. A bad or expired token gets
 * an `error` frame and close 4401. Client → server: `{ "type": "ping" }` → `{ "type": "pong" }`.
 */
import type { IncomingMessage, Server } from 'http';
import type { Duplex } from 'stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { AgentTokens } from '../handoff/auth';
import type { HandoffService } from '../handoff/service';
import type { Logger } from '../util/logger';
import type { AgentHub, AgentServerFrame, AgentStreamClient } from './agent-hub';
import { wsLifecycle } from './ws-lifecycle';
import { CLOSE } from './protocol';

export const AGENT_STREAM_PATH = /^\/api\/v1\/agent\/stream\/?$/;

/**
 * Frames as sent: the hub hands one frame object to every stream it goes to (a queue change seen
 * by fifty agents), so it is serialised once. Weak: a frame is forgotten with its object.
 */
const serialised = new WeakMap<object, string>();
function frameText(f: AgentServerFrame): string {
  let text = serialised.get(f);
  if (text === undefined) serialised.set(f, (text = JSON.stringify(f)));
  return text;
}

export interface AgentStreamServer {
  close(): Promise<void>;
}

export function attachAgentStreams(server: Server, opts: { hub: AgentHub; handoff: HandoffService; tokens: AgentTokens; logger: Logger; isShuttingDown?: () => boolean; heartbeatMs?: number }): AgentStreamServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024, perMessageDeflate: false });
  const alive = new WeakMap<WebSocket, boolean>();

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      return;
    }
    if (!AGENT_STREAM_PATH.test(url.pathname)) return; // another endpoint's
    socket.on('error', () => socket.destroy());
    if (opts.isShuttingDown?.()) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => void onConnection(ws, url.searchParams.get('token') ?? undefined));
  };

  const onConnection = async (ws: WebSocket, token: string | undefined) => {
    alive.set(ws, true);
    const send = (f: AgentServerFrame) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(frameText(f));
    };
    let client: AgentStreamClient | null = null;
    ws.on('pong', () => alive.set(ws, true));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      let frame: { type?: unknown } | undefined;
      try {
        frame = isBinary ? undefined : JSON.parse(data.toString());
      } catch {
        frame = undefined;
      }
      if (frame?.type === 'ping') return send({ type: 'pong' });
      send({ type: 'error', error: { code: 'invalid_frame', message: 'the only client frame is {"type":"ping"}; act through the agent REST API' } });
    });
    ws.on('close', () => {
      if (client) opts.hub.leave(client);
    });
    ws.on('error', (e) => opts.logger.warn('agent stream error', { error: e }));
    const claim = opts.tokens.verify(token);
    const agent = claim ? await opts.handoff.store.getAgent(claim.agentId).catch(() => null) : null;
    if (!agent) {
      send({ type: 'error', error: { code: 'unauthorized', message: 'missing, invalid or expired agent token (?token=<agentToken> from POST /api/v1/agent/login)' } });
      ws.close(CLOSE.unauthorized, 'unauthorized');
      return;
    }
    if (ws.readyState !== WebSocket.OPEN) return;
    client = { agent, send, isOpen: () => ws.readyState === WebSocket.OPEN, close: (code, reason) => ws.close(code, reason), visible: new Set() };
    opts.hub.join(client);
  };

  return wsLifecycle({ server, wss, alive, onUpgrade, hub: opts.hub, heartbeatMs: opts.heartbeatMs });
}

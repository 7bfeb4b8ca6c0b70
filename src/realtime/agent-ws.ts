/**
 * The agent WebSocket endpoint `/api/v1/agent/stream?token=<agentToken>` (package `ws`), attached
 * to the HTTP server's `upgrade` event next to the customer streams. A bad or expired token gets
 * an `error` frame and close 4401.
 *
 * Client → server:
 * - `{ "type": "ping" }` → `{ "type": "pong" }`;
 * - `{ "type": "typing", "conversationId" }`: the agent is writing a reply. Relayed (`onTyping`)
 *   only for a conversation assigned to this agent (else an `error` frame `not_assigned`), at most
 *   one per TYPING_MIN_INTERVAL_MS per conversation and connection (extra ones are dropped).
 * A connection flooding frames gets `rate_limited` and close 1008.
 *
 * A stream lives no longer than its token: when the token expires (checked every `tokenCheckMs`
 * against the tokens' clock, and on every client frame) the stream gets an `error` frame
 * `token_expired` and close 4401 "token expired".
 */
import type { IncomingMessage, Server } from 'http';
import type { Duplex } from 'stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { AgentClaim, AgentTokens } from '../handoff/auth';
import type { HandoffService } from '../handoff/service';
import type { Logger } from '../util/logger';
import type { AgentHub, AgentServerFrame, AgentStreamClient } from './agent-hub';
import { wsLifecycle } from './ws-lifecycle';
import { CLOSE, FrameBucket, TYPING_MIN_INTERVAL_MS } from './protocol';

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

export interface AgentStreamOptions {
  hub: AgentHub;
  handoff: HandoffService;
  tokens: AgentTokens;
  logger: Logger;
  isShuttingDown?: () => boolean;
  heartbeatMs?: number;
  /** An agent is writing a reply in a conversation assigned to them (checked, throttled): relay it to its customer streams. */
  onTyping?: (conversationId: string, agent: { id: string; name: string }) => void;
  /** Typing frames for one conversation on one connection closer together than this are dropped. */
  typingMinIntervalMs?: number;
  /** How often open streams' tokens are checked for expiry (default 1000 ms). */
  tokenCheckMs?: number;
}

const MAX_ID_LENGTH = 200;

export function attachAgentStreams(server: Server, opts: AgentStreamOptions): AgentStreamServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024, perMessageDeflate: false });
  const alive = new WeakMap<WebSocket, boolean>();
  /** Authorised streams and their token's claim (for the expiry check). */
  const open = new Map<WebSocket, { claim: AgentClaim; client: AgentStreamClient }>();
  const typingEvery = opts.typingMinIntervalMs ?? TYPING_MIN_INTERVAL_MS;

  const expire = (ws: WebSocket, client: AgentStreamClient) => {
    open.delete(ws);
    opts.hub.leave(client);
    client.send({ type: 'error', error: { code: 'token_expired', message: 'your session expired; sign in again' } });
    ws.close(CLOSE.unauthorized, 'token expired');
  };
  const checkTokens = () => {
    for (const [ws, { claim, client }] of open) if (opts.tokens.isExpired(claim)) expire(ws, client);
  };
  const checker = setInterval(checkTokens, opts.tokenCheckMs ?? 1000);
  checker.unref();

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
    const bucket = new FrameBucket();
    /** When a typing frame was last relayed, per conversation (bounded: an agent types in a few at a time). */
    const lastTyping = new Map<string, number>();
    ws.on('pong', () => alive.set(ws, true));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const session = open.get(ws);
      if (session && opts.tokens.isExpired(session.claim)) return expire(ws, session.client);
      if (!bucket.take()) {
        opts.logger.warn('agent stream sent too many frames; closing it', { agentId: client?.agent.id });
        send({ type: 'error', error: { code: 'rate_limited', message: 'too many frames; send a ping at most every few seconds and typing at most every 2 s per conversation' } });
        return ws.close(CLOSE.policyViolation, 'rate_limited');
      }
      let frame: { type?: unknown; conversationId?: unknown } | undefined;
      try {
        frame = isBinary ? undefined : JSON.parse(data.toString());
      } catch {
        frame = undefined;
      }
      if (frame?.type === 'ping') return send({ type: 'pong' });
      if (frame?.type === 'typing' && typeof frame.conversationId === 'string' && frame.conversationId && frame.conversationId.length <= MAX_ID_LENGTH) {
        if (!client) return; // not authorised (yet)
        const id = frame.conversationId;
        const now = Date.now();
        if (now - (lastTyping.get(id) ?? -Infinity) < typingEvery) return;
        if (lastTyping.size >= 100) lastTyping.clear();
        lastTyping.set(id, now);
        void agentTyping(client, id).catch((e) => opts.logger.warn('could not relay an agent typing frame', { conversationId: id, error: e as Error }));
        return;
      }
      send({ type: 'error', error: { code: 'invalid_frame', message: 'client frames are {"type":"ping"} and {"type":"typing","conversationId"}; act through the agent REST API' } });
    });
    ws.on('close', () => {
      open.delete(ws);
      if (client) opts.hub.leave(client);
    });
    ws.on('error', (e) => opts.logger.warn('agent stream error', { error: e }));
    const claim = opts.tokens.verify(token);
    const agent = claim ? await opts.handoff.store.getAgent(claim.agentId).catch(() => null) : null;
    if (!agent || !claim) {
      send({ type: 'error', error: { code: 'unauthorized', message: 'missing, invalid or expired agent token (?token=<agentToken> from POST /api/v1/agent/login)' } });
      ws.close(CLOSE.unauthorized, 'unauthorized');
      return;
    }
    if (ws.readyState !== WebSocket.OPEN) return;
    client = { agent, send, isOpen: () => ws.readyState === WebSocket.OPEN, close: (code, reason) => ws.close(code, reason), visible: new Set() };
    open.set(ws, { claim, client });
    opts.logger.debug('agent stream opened', { agentId: agent.id });
    opts.hub.join(client);
  };

  /** A typing frame of an authorised agent: relayed only if the conversation is assigned to them, as the store has it now. */
  const agentTyping = async (client: AgentStreamClient, conversationId: string) => {
    const [agent, entry] = await Promise.all([opts.handoff.store.getAgent(client.agent.id), opts.handoff.store.getAssignment(conversationId)]);
    if (!client.isOpen() || !agent) return; // gone, or removed meanwhile (the hub's poll closes the stream)
    if (!entry || entry.status !== 'assigned' || entry.agentId !== agent.id) {
      client.send({ type: 'error', error: { code: 'not_assigned', message: `typing is relayed only for conversations assigned to you; ${conversationId} is not` } });
      return;
    }
    opts.onTyping?.(conversationId, { id: agent.id, name: agent.name });
  };

  const lifecycle = wsLifecycle({ server, wss, alive, onUpgrade, hub: opts.hub, heartbeatMs: opts.heartbeatMs });
  return {
    async close() {
      clearInterval(checker);
      open.clear();
      await lifecycle.close();
    },
  };
}

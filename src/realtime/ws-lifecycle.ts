/**
 * What every Baton WebSocket endpoint shares: a heartbeat that drops connections which stopped
 * answering pings, and a shutdown that says "going away", waits briefly, then cuts the rest.
 */
import type { IncomingMessage, Server } from 'http';
import type { Duplex } from 'stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { CLOSE } from './protocol';

export function wsLifecycle(opts: {
  server: Server;
  wss: WebSocketServer;
  alive: WeakMap<WebSocket, boolean>;
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  hub: { closeAll(code: number, reason: string): void };
  heartbeatMs?: number;
}): { close(): Promise<void> } {
  const { server, wss, alive, onUpgrade, hub } = opts;
  server.on('upgrade', onUpgrade);
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, opts.heartbeatMs ?? 30_000);
  heartbeat.unref();
  return {
    async close() {
      clearInterval(heartbeat);
      server.off('upgrade', onUpgrade);
      hub.closeAll(CLOSE.goingAway, 'server is shutting down; reconnect');
      for (const ws of wss.clients) ws.close(CLOSE.goingAway, 'server is shutting down; reconnect');
      // Give clients a moment to answer the close, then cut whoever did not.
      const deadline = Date.now() + 1000;
      while (wss.clients.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}


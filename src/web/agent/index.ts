/**
 * The agent console: a plain-JavaScript page for the people who take handoffs (no build step, no
 * framework). Served as static assets by an express Router:
 *
 *   GET /agent              the console (login, inbox, open conversations, context panel)
 *   GET /agent/console.js   its script
 *   GET /agent/console.css  its styles
 *
 * It talks only to the agent API under /api/v1/agent (REST + the agent WebSocket stream), on the
 * same origin. See docs/agent-console.md.
 */
import { readWebAsset } from '../assets';
import * as fs from 'fs';
import * as path from 'path';
import { Router } from 'express';

export interface AgentConsoleOptions {
  /** Shown in the page title and header (e.g. the bot's name). Default "Baton". */
  title?: string;
}

const FILES = ['console.html', 'console.js', 'console.css'] as const;
type AssetName = (typeof FILES)[number];
/** An asset's source (scripts get the shared safe-text code included). */
export function agentConsoleAsset(name: AssetName): string {
  return readWebAsset(`agent/${name}`);
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// The page runs only its own script and styles, talks only to its own origin (REST and WebSocket),
// and cannot be framed. Message content is built as DOM text; images in bot messages may be https.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' https: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = {
  'Cache-Control': 'no-cache',
  'Content-Security-Policy': CSP,
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
};

/** `GET /agent` and its assets. Mount it on the app (before the 404 handler), e.g. as part of `createApp({ web })`. */
export function agentConsoleRouter(opts: AgentConsoleOptions = {}): Router {
  const router = Router();
  const title = esc(opts.title ?? 'Baton');
  const html = agentConsoleAsset('console.html').replace(/\{\{TITLE\}\}/g, title);
  const js = agentConsoleAsset('console.js');
  const css = agentConsoleAsset('console.css');
  router.get(['/agent', '/agent/'], (_req, res) => {
    res.set(PAGE_HEADERS);
    res.type('html').send(html);
  });
  router.get('/agent/console.js', (_req, res) => {
    res.set({ 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
    res.type('application/javascript; charset=utf-8').send(js);
  });
  router.get('/agent/console.css', (_req, res) => {
    res.set({ 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
    res.type('text/css; charset=utf-8').send(css);
  });
  return router;
}

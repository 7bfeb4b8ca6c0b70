/**
 * The embeddable web widget and the demo shop page, as strings and as an express Router.
 *
 *   app.use(webRouter({ botName: service.bot.name, botId: service.bot.id }));   // GET /widget.js and GET /
 *
 * widget.js is plain JavaScript shipped as-is (no build step); see docs/widget.md.
 */
import { readWebAsset } from './assets';
import { Router } from 'express';
import { demoHtml, type DemoOptions } from './demo';

export type { DemoOptions } from './demo';

/** The widget's source (with the shared safe-text code included). */
export function widgetSource(): string {
  return readWebAsset('widget.js');
}

export function webAssets(): { widgetJs: string; demoHtml: (opts: DemoOptions) => string } {
  return { widgetJs: widgetSource(), demoHtml };
}

export interface WebRouterOptions extends DemoOptions {
  /** Serve the demo shop page at `/` (default true). */
  demo?: boolean;
  /** Cache-Control max-age of widget.js in seconds (default 300). */
  maxAge?: number;
}

/** `GET /widget.js` (the embeddable widget) and, unless `demo: false`, `GET /` (the Acme demo shop with the widget embedded). */
export function webRouter(opts: WebRouterOptions): Router {
  const router = Router();
  const js = widgetSource();
  const page = opts.demo === false ? undefined : demoHtml(opts);
  router.get('/widget.js', (_req, res) => {
    res.set({
      'Content-Type': 'application/javascript; charset=utf-8',
      'Cache-Control': `public, max-age=${opts.maxAge ?? 300}`,
      // Host pages on other origins load it with a plain <script> tag.
      'Cross-Origin-Resource-Policy': 'cross-origin',
      'X-Content-Type-Options': 'nosniff',
    });
    res.send(js);
  });
  if (page !== undefined) {
    router.get('/', (_req, res) => {
      res.set({ 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
      res.type('html').send(page);
    });
  }
  return router;
}

/** Operations endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document. */
import { Router } from 'express';
import type { Metrics } from '../../metrics';
import { openApiDocument } from '../openapi';

export interface ReadyReport {
  ready: boolean;
  /** One entry per check: "ok" or what is wrong. */
  checks: Record<string, string>;
}

export function opsRoutes(opts: { readiness: () => Promise<ReadyReport>; metrics?: Metrics; version?: string }): Router {
  const r = Router();
  const doc = JSON.stringify(openApiDocument({ version: opts.version }));

  r.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const report = await opts.readiness();
    res
      .status(report.ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ status: report.ready ? 'ready' : 'not_ready', checks: report.checks });
  });
  r.get('/metrics', async (_req, res) => {
    if (!opts.metrics) {
      res.status(404).json({ error: { code: 'not_found', message: 'metrics are not enabled on this server' } });
      return;
    }
    const { contentType, body } = await opts.metrics.text();
    res.set('Content-Type', contentType).set('Cache-Control', 'no-store').send(body);
  });
  r.get('/api/v1/openapi.json', (_req, res) => {
    res.type('application/json').send(doc);
  });
  return r;
}

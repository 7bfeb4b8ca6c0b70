import * as path from 'path';
import { randomBytes } from 'crypto';
import { createBaton } from '../main';
import { createApp } from './app';
import { jsonLogger } from '../util/logger';

export async function serve(opts: { botDir: string; port?: number; db?: string }) {
  const logger = jsonLogger({ level: (process.env.LOG_LEVEL as never) ?? 'info' });
  const db = opts.db ?? process.env.BATON_DB ?? path.join('data', 'baton.sqlite');
  const started = Date.now();
  const baton = await createBaton({ botDir: opts.botDir, store: { sqlite: db }, logger });
  let secret = process.env.BATON_SECRET;
  if (!secret) {
    secret = randomBytes(32).toString('base64url');
    logger.warn('BATON_SECRET is not set: customer tokens will stop working when the server restarts; set it in production');
  }
  const app = createApp({ service: baton.service, secret, logger });
  const port = opts.port ?? Number(process.env.PORT ?? 3978);
  const server = app.listen(port, () => {
    logger.info('baton is serving', { bot: baton.bot.id, url: `http://localhost:${port}/`, db, startupMs: Date.now() - started, modelFromCache: baton.model.fromCache });
    process.stdout.write(`\n  ${baton.bot.name} is live at http://localhost:${port}/  (database: ${db})\n\n`);
  });
  const stop = () => {
    server.close(() => void baton.close().then(() => process.exit(0)));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return server;
}

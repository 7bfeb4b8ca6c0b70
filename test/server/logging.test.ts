/**
 * Structured logs (pino): one JSON object per line with an ISO time, a level name and the message;
 * every line about a conversation carries its id — requests, streams, the turn runner, actions.
 */
import * as fs from 'fs';
import { pinoLogger, withFields } from '../../src/util/logger';
import { client, sleep, startTestServer, stream, tmpDir } from './helpers/server';

function capture() {
  const lines: Record<string, any>[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(JSON.parse(s)) } };
}

describe('pinoLogger', () => {
  it('writes JSON lines with time, level name, msg and fields; filters by level; serialises errors', () => {
    const { lines, destination } = capture();
    const log = pinoLogger({ level: 'info', destination });
    log.debug('hidden');
    log.info('hello', { conversationId: 'c1', n: 2 });
    log.error('failed', { error: Object.assign(new Error('boom'), { code: 'E_BOOM' }) });
    withFields(log, { conversationId: 'c2' }).warn('scoped', { extra: true });
    expect(lines).toEqual([
      { level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), msg: 'hello', conversationId: 'c1', n: 2 },
      { level: 'error', time: expect.any(String), msg: 'failed', error: { name: 'Error', message: 'boom', code: 'E_BOOM', stack: expect.stringContaining('boom') } },
      { level: 'warn', time: expect.any(String), msg: 'scoped', conversationId: 'c2', extra: true },
    ]);
  });
});

describe('server logs', () => {
  it('put the conversation id on every line about a conversation', async () => {
    const dir = tmpDir('logs');
    const { lines, destination } = capture();
    const srv = await startTestServer(
      dir,
      {},
      {
        logger: pinoLogger({ level: 'debug', destination }),
        actions: {
          pause: async (_args, ctx) => {
            ctx.log.info('looking things up');
            return { ok: true };
          },
        },
      },
    );
    try {
      const api = client(srv.url);
      const { id, token } = await api.start();
      const s = stream(srv.url, id, token);
      await s.waitFor((f) => f.type === 'ready', 'ready');
      await api.send(id, token, { text: 'slow Q1' });
      await api.send(id, token, { text: '' });
      await s.close();
      await sleep(50);
      const about = lines.filter((l) => JSON.stringify(l).includes(id));
      expect(about.length).toBeGreaterThanOrEqual(6);
      for (const l of about) expect(l.conversationId).toBe(id);
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'looking things up', conversationId: id, action: 'pause', level: 'info' }));
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'request', route: '/api/v1/conversations/:id/messages', status: 400, conversationId: id }));
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'stream opened', conversationId: id }));
      // The token is never logged.
      expect(JSON.stringify(lines)).not.toContain(token);
    } finally {
      await srv.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

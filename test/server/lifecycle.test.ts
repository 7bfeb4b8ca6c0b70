/**
 * Server lifecycle: while the bot and its model load, the process is alive but not ready; during
 * a graceful shutdown it is not ready and refuses new API requests with 503.
 */
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { startingListener } from '../../src/http/serve';
import { client, sleep, startTestServer, tmpDir } from './helpers/server';

describe('while starting', () => {
  it('is alive (healthz 200) but not ready (readyz 503: model loading); the API says "starting"', async () => {
    const server = http.createServer(startingListener);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const api = client(base);
      expect(await api.call('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
      expect(await api.call('GET', '/readyz')).toMatchObject({ status: 503, body: { status: 'not_ready', checks: { model: 'loading' } } });
      expect(await api.call('POST', '/api/v1/conversations', { body: {} })).toMatchObject({ status: 503, body: { error: { code: 'starting' } } });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('while shutting down', () => {
  it('refuses new requests and finishes the turn in progress', async () => {
    const dir = tmpDir('lifecycle');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const srv = await startTestServer(dir, {}, { actions: { pause: async () => (await gate, { ok: true }) } });
    try {
      const api = client(srv.url);
      const { id, token } = await api.start();
      const inProgress = api.send(id, token, { text: 'slow Q1' });
      await sleep(100);
      const stopping = srv.shutdown('test');
      // A new request is refused: no new connections (a network error), or 503 on a connection that was already open.
      const late: any = await api.call('POST', `/api/v1/conversations/${id}/messages`, { body: { text: 'echo Q2' }, token }).catch((e: Error) => ({ networkError: e.message }));
      if ('status' in late) expect(late).toMatchObject({ status: 503, body: { error: { code: 'shutting_down' } } });
      else expect(late.networkError).toEqual(expect.any(String));
      release();
      expect((await inProgress).body.messages.map((m: any) => m.text)).toEqual(['S Q1 done']);
      expect(await stopping).toBe(0);
      expect(srv.server.listening).toBe(false);
    } finally {
      release();
      await srv.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The create-conversation API takes the customer's preferred language (the widget sends the
 * browser's): a bot with several languages greets in it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Server } from 'http';
import type { AddressInfo } from 'net';
import { createBaton, type Baton } from '../../src/main';
import { createApp } from '../../src/http/app';
import { silentLogger } from '../../src/util/logger';
import { FIXTURES } from '../fixtures';

let baton: Baton;
let server: Server;
let base: string;
let tmp: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-http-lang-'));
  baton = await createBaton({ botDir: path.join(FIXTURES, 'bots', 'polyglot'), cacheDir: tmp, logger: silentLogger });
  const app = createApp({ service: baton.service, commits: baton.commits, secret: 'test-secret', logger: silentLogger });
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await baton.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function start(body: unknown): Promise<{ status: number; body: { conversationId: string; messages: { text?: string }[] } }> {
  const res = await fetch(`${base}/api/v1/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as never };
}

describe('POST /api/v1/conversations with a language', () => {
  it('starts in the customer\'s language when the bot speaks it', async () => {
    const r = await start({ language: 'de-AT' });
    expect(r.status).toBe(201);
    expect(r.body.messages[0]!.text).toContain('Ich bin der Assistent von Polyglot Shop');
    expect((await baton.service.state(r.body.conversationId))!.language).toBe('de');
  });

  it('ignores a language the bot does not speak, and no language is fine', async () => {
    for (const body of [{ language: 'pt-BR' }, {}]) {
      const r = await start(body);
      expect(r.status).toBe(201);
      expect(r.body.messages[0]!.text).toContain("I'm the Polyglot Shop assistant");
    }
  });

  it('refuses a language that is not text', async () => {
    expect((await start({ language: 42 })).status).toBe(400);
  });
});

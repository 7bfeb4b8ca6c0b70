/**
 * Server configuration: defaults, every bad variable reported at once, database URLs, and
 * `baton serve` refusing to start (exit 1) with a readable list.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, describeDatabase, loadConfig, parseDuration } from '../../src/config';
import { ROOT, within } from './helpers/server';

describe('loadConfig', () => {
  it('has working defaults for a fresh clone', () => {
    expect(loadConfig({})).toEqual({
      port: 3978,
      host: undefined,
      botDir: path.join('bots', 'acme'),
      database: { kind: 'sqlite', file: path.join('data', 'baton.sqlite') },
      secret: undefined,
      identitySecret: undefined,
      logLevel: 'info',
      corsOrigins: '*',
      pollIntervalMs: 1000,
      shutdownTimeoutMs: 25000,
      resumeAfterMs: undefined,
      cacheDir: undefined,
      seedAdminPassword: undefined,
      seedAgentPassword: undefined,
      bcryptCost: 10,
      publicUrl: undefined,
      workers: 1,
      env: {},
    });
  });

  it('reads BATON_PUBLIC_URL without its trailing slash and refuses a URL with a query', () => {
    expect(loadConfig({ BATON_PUBLIC_URL: 'https://support.acme.example/' }).publicUrl).toBe('https://support.acme.example');
    expect(loadConfig({ BATON_PUBLIC_URL: 'https://acme.example/support' }).publicUrl).toBe('https://acme.example/support');
    expect(() => loadConfig({ BATON_PUBLIC_URL: 'support.acme.example' })).toThrow(/BATON_PUBLIC_URL: must be an http\(s\) URL/);
    expect(() => loadConfig({ BATON_PUBLIC_URL: 'https://acme.example/?a=1' })).toThrow(/BATON_PUBLIC_URL/);
  });

  it('reads every variable; command-line flags win', () => {
    const c = loadConfig(
      {
        PORT: '8080',
        HOST: '127.0.0.1',
        BATON_BOT: 'bots/shop',
        BATON_DATABASE_URL: 'mongodb://user:pw@db:27017/baton',
        BATON_SECRET: 'x'.repeat(32),
        BATON_IDENTITY_SECRET: 'y'.repeat(32),
        LOG_LEVEL: 'debug',
        BATON_CORS_ORIGINS: 'https://shop.example, https://www.shop.example',
        BATON_POLL_INTERVAL_MS: '250',
        BATON_SHUTDOWN_TIMEOUT_MS: '5000',
        BATON_RESUME_AFTER: '24h',
        BATON_CACHE_DIR: '/var/cache/baton',
      },
      { port: '9000' },
    );
    expect(c).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      botDir: 'bots/shop',
      database: { kind: 'mongo', url: 'mongodb://user:pw@db:27017/baton' },
      logLevel: 'debug',
      corsOrigins: ['https://shop.example', 'https://www.shop.example'],
      pollIntervalMs: 250,
      shutdownTimeoutMs: 5000,
      resumeAfterMs: 86_400_000,
      cacheDir: '/var/cache/baton',
    });
    expect(describeDatabase(c.database)).toBe('mongodb://***@db:27017/baton');
    expect(loadConfig({ BATON_DB: 'memory' }).database).toEqual({ kind: 'memory' });
    expect(loadConfig({ BATON_DB: '/tmp/x.sqlite' }, { db: 'other.sqlite', botDir: 'bots/x' })).toMatchObject({ database: { kind: 'sqlite', file: 'other.sqlite' }, botDir: 'bots/x' });
    expect(loadConfig({ PORT: '', LOG_LEVEL: ' ' })).toMatchObject({ port: 3978, logLevel: 'info' });
  });

  it('reports every bad variable at once, without echoing secrets', () => {
    let err: ConfigError | undefined;
    try {
      loadConfig({
        PORT: '99999',
        BATON_SECRET: 'short-secret',
        LOG_LEVEL: 'loud',
        BATON_RESUME_AFTER: 'soon',
        BATON_DB: 'postgres://db/baton',
        BATON_DATABASE_URL: 'mongodb://db/baton',
        BATON_CORS_ORIGINS: 'https://shop.example/',
        BATON_POLL_INTERVAL_MS: 'fast',
      });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems.map((p) => p.variable).sort()).toEqual(
      ['BATON_CORS_ORIGINS', 'BATON_DATABASE_URL', 'BATON_DB', 'BATON_POLL_INTERVAL_MS', 'BATON_RESUME_AFTER', 'BATON_SECRET', 'LOG_LEVEL', 'PORT'].sort(),
    );
    expect(err!.message).toMatch(/^invalid configuration \(8 problems\):\n {2}/);
    expect(err!.message).toContain('PORT: must be at most 65535');
    expect(err!.message).not.toContain('short-secret');
  });

  it('parses durations', () => {
    expect([parseDuration('500ms'), parseDuration('30s'), parseDuration('15m'), parseDuration('2h'), parseDuration('7d'), parseDuration('1500'), parseDuration('soon')]).toEqual([
      500,
      30_000,
      900_000,
      7_200_000,
      604_800_000,
      1500,
      undefined,
    ]);
  });
});

describe('baton serve with a bad configuration', () => {
  it('prints every problem and exits 1', async () => {
    const proc = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'test', 'server', 'helpers', 'baton-cli.ts'), 'serve', '--port', 'eighty'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'verbose', BATON_SECRET: 'short' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stderr.on('data', (d) => (err += d));
    const code = await within(new Promise<number | null>((r) => proc.on('exit', (c) => r(c))), 15000);
    if (code === undefined) proc.kill('SIGKILL');
    expect(code).toBe(1);
    expect(err).toContain('baton serve: invalid configuration (3 problems):');
    expect(err).toContain('--port: must be a whole number from 0 to 65535 (got "eighty")');
    expect(err).toContain('LOG_LEVEL: must be one of debug, info, warn, error, silent (got "verbose")');
    expect(err).toContain('BATON_SECRET: the customer-token secret must be at least 16 characters long');
    expect(err).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('names every missing variable of a half-configured channel and exits 1', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-channel-config-'));
    const proc = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'test', 'server', 'helpers', 'baton-cli.ts'), 'serve', '--port', '0', '--db', path.join(dir, 'b.sqlite')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', ACME_TWILIO_AUTH_TOKEN: 'a'.repeat(32), BATON_SEED_ADMIN_PASSWORD: 'admin-password-1', BATON_SEED_AGENT_PASSWORD: 'agent-password-1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stderr.on('data', (d) => (err += d));
    const code = await within(new Promise<number | null>((r) => proc.on('exit', (c) => r(c))), 30000);
    if (code === undefined) proc.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    expect(code).toBe(1);
    expect(err).toContain('baton serve: channel configuration is not valid');
    expect(err).toContain('ACME_TWILIO_ACCOUNT_SID');
    expect(err).toContain('ACME_TWILIO_FROM');
    expect(err).toContain('docs/channels.md');
    expect(err).not.toMatch(/\n\s+at /);
  });
});

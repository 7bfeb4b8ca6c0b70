/**
 * The `baton` command as an author and a scripting user run it: real processes, real files.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const FIX = path.join(__dirname, 'fixtures');

function baton(args: string[], input?: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    env: { ...process.env, BATON_CACHE_DIR: cacheDir, ...env },
    timeout: 120000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let cacheDir: string;
beforeAll(() => {
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-cli-'));
});
afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

describe('baton validate', () => {
  it('exits 0 for a valid bot and says so', () => {
    const r = baton(['validate', path.join(FIX, 'shop/bots/shop')]);
    expect(r.stderr).toContain('valid');
    expect(r.code).toBe(0);
  });

  it('prints every problem as file:line:col  code  message  (hint) and exits 1', () => {
    const r = baton(['validate', 'test/cli/fixtures/broken/bots/broken']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^test\/cli\/fixtures\/broken\/flows\/broken\/a\.yaml:5:5 {2}unknown_step_kind {2}unknown step kind "sya" {2}\(did you mean "say"\?\)$/),
        expect.stringMatching(/^test\/cli\/fixtures\/broken\/flows\/broken\/a\.yaml:6:5 {2}unknown_slot {2}.*missing_slot/),
        expect.stringMatching(/^test\/cli\/fixtures\/broken\/flows\/broken\/a\.yaml:7:11 {2}unknown_step {2}.*"nowhere"/),
        expect.stringMatching(/^test\/cli\/fixtures\/broken\/flows\/broken\/b\.yaml:\d+:\d+ {2}yaml_syntax {2}/),
        expect.stringMatching(/^test\/cli\/fixtures\/broken\/knowledge\/broken\/empty\.md:3:12 {2}article_no_questions {2}/),
      ]),
    );
    expect(r.stderr).toContain('5 errors');
  });

  it('reports a missing bot folder clearly', () => {
    const r = baton(['validate', 'bots/does-not-exist']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/bot_file_missing {2}no bot\.yaml in/);
  });

  it('--json gives machine-readable problems', () => {
    const r = baton(['validate', 'test/cli/fixtures/broken/bots/broken', '--json']);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(false);
    expect(j.problems.map((p: { code: string }) => p.code)).toContain('unknown_step_kind');
  });
});

describe('baton chat (piped)', () => {
  it('reads one customer message per line and prints the replies', () => {
    const r = baton(['chat', path.join(FIX, 'shop/bots/shop')], 'where is my order\nAB-123456\n');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out.indexOf('you> where is my order')).toBeLessThan(out.indexOf("bot> What's your order number?"));
    expect(out).toContain('bot> Order AB-123456 is shipped with UPS.');
  });

  it('answers the demo bot scripted example with the order status', () => {
    const r = baton(['chat', 'bots/acme'], 'where is my order\nAB-123456\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/UPS/);
    expect(r.stdout).toMatch(/Tracking number: 1Z/);
  });

  it('refuses to start a bot with errors and prints them', () => {
    const r = baton(['chat', 'test/cli/fixtures/broken/bots/broken'], 'hi\n');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('unknown_step_kind');
  });
});

describe('baton test', () => {
  it('prints pass/fail per test with expected vs actual and exits 1 on failure', () => {
    const r = baton(['test', path.join(FIX, 'shop/bots/shop')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✓ Orders › tracks an order');
    expect(r.stdout).toContain('✗ Orders › deliberately wrong expectation');
    expect(r.stdout).toContain('- expected: a reply containing "FedEx"');
    expect(r.stdout).toContain('+ actual:   "Order AB-123456 is shipped with UPS."');
    expect(r.stdout).toContain('2 passed, 1 failed');
  });

  it('exits 0 when every test passes (--filter)', () => {
    const r = baton(['test', path.join(FIX, 'shop/bots/shop'), '--filter', 'tracks']);
    expect(r.stdout).toContain('1 passed, 0 failed');
    expect(r.code).toBe(0);
  });
});

describe('baton train', () => {
  it('trains once, then reuses the cached model while the content is unchanged', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-train-'));
    try {
      const first = baton(['train', path.join(FIX, 'shop/bots/shop')], undefined, { BATON_CACHE_DIR: dir });
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^trained shop: \d+ intents in [\d.]+ s/);
      const second = baton(['train', path.join(FIX, 'shop/bots/shop')], undefined, { BATON_CACHE_DIR: dir });
      expect(second.stdout).toMatch(/model for shop is up to date/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('baton usage', () => {
  it('explains itself when called without a bot', () => {
    const r = baton(['chat']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('which bot?');
  });
});

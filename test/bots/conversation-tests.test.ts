/**
 * Every bot in bots/ must validate cleanly and pass its own conversation tests
 * (the same ones `baton test bots/<id>` runs).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadBot } from '../../src/flow/loader';
import { validateActions } from '../../src/flow/validate';
import { formatProblem, type Problem } from '../../src/flow/problems';
import { loadActionsModule } from '../../src/conversation/actions';
import { trainBot } from '../../src/main';
import { loadConversationTests, runConversationTest } from '../../src/testing/conversation-tests';
import { formatTestResult } from '../../src/cli/main';

const BOTS = path.resolve(__dirname, '..', '..', 'bots');
const botDirs = fs
  .readdirSync(BOTS)
  .map((d) => path.join(BOTS, d))
  .filter((d) => fs.existsSync(path.join(d, 'bot.yaml')));

const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-bots-'));
afterAll(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

describe.each(botDirs.map((d) => [path.basename(d), d]))('bot %s', (_id, dir) => {
  const { bot, problems } = loadBot(dir);
  const testProblems: Problem[] = [];
  const tests = bot ? loadConversationTests(bot.testsDir, testProblems) : [];

  it('validates without errors or warnings', () => {
    const all = [...problems, ...testProblems];
    if (bot) validateActions(bot, Object.keys(loadActionsModule(bot.actionsModule)), all);
    expect(all.map((p) => formatProblem(p, process.cwd()))).toEqual([]);
  });

  it('has conversation tests', () => {
    expect(tests.length).toBeGreaterThan(0);
  });

  if (!bot) return;
  let deps: Parameters<typeof runConversationTest>[1];
  beforeAll(async () => {
    const trained = await trainBot(bot, { cacheDir: path.join(cacheDir, bot.id) });
    deps = { bot, matcher: trained.matcher, actions: loadActionsModule(bot.actionsModule) };
  });

  it.each(tests.map((t) => [`${t.suite} › ${t.name}`, t]))('%s', async (_name, t) => {
    const r = await runConversationTest(t, deps);
    if (!r.passed) throw new Error(formatTestResult(r, false));
  });
});

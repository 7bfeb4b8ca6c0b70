/**
 * Conversation tests: YAML files that read like the conversation.
 *
 *   tests:
 *     - name: tracks a shipped order
 *       turns:
 *         - user: where is my order
 *         - bot: order number
 *         - user: AB-123456
 *         - bot: { contains: UPS }
 *         - expect: { flow: null, slots: { order_id: AB-123456 } }
 */
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import type { Bot } from '../flow/model';
import type { Problem } from '../flow/problems';
import { parseYaml, posAt } from '../flow/yaml';
import { zodProblems } from '../flow/zod-problems';
import type { OutMessage } from '../flow/interpreter';
import type { TurnOutcome } from '../conversation/service';
import { ConversationService } from '../conversation/service';
import { MemoryStore } from '../store/memory';
import type { IntentMatcher } from '../nlu/port';
import type { Actions } from '../conversation/actions';
import type { JsonValue } from '../util/json';
import { silentLogger } from '../util/logger';
import { decodeEntities } from '../util/html';
import { durationMs } from '../flow/loader';

const botExpectation = z.union([
  z.string().min(1),
  z.strictObject({
    contains: z.string().optional(),
    matches: z.string().optional(),
    quickReplies: z.array(z.string()).optional(),
    citation: z.string().optional(),
    none: z.literal(true).optional(),
  }),
]);
const stateExpectation = z.strictObject({
  intent: z.string().nullable().optional(),
  flow: z.string().nullable().optional(),
  slots: z.record(z.string(), z.unknown()).optional(),
  vars: z.record(z.string(), z.unknown()).optional(),
  handoff: z.union([z.boolean(), z.strictObject({ reason: z.string().optional(), queue: z.string().optional() })]).optional(),
  fallback: z.boolean().optional(),
  /** The conversation's language (bots with several languages). */
  language: z.string().optional(),
});
const turnSchema = z.union([
  z.strictObject({ user: z.string(), payload: z.string().optional() }),
  z.strictObject({ bot: botExpectation }),
  z.strictObject({ expect: stateExpectation }),
  /** Let time pass before the next message, e.g. `wait: 2d` (s, m, h or d). */
  z.strictObject({ wait: z.string().regex(/^\s*\d+\s*[smhd]\s*$/i, 'a duration such as 30m, 25h or 3d') }),
]);
const testSchema = z.strictObject({
  name: z.string().min(1),
  profile: z.record(z.string(), z.unknown()).optional(),
  channel: z.string().optional(),
  now: z.string().optional(),
  /** The customer's preferred language when the conversation starts (like a browser's language). */
  language: z.string().optional(),
  turns: z.array(turnSchema).min(1),
});
const fileSchema = z.strictObject({
  name: z.string().optional(),
  now: z.string().optional(),
  tests: z.array(testSchema).min(1),
});

type Turn = z.infer<typeof turnSchema>;
export interface ConversationTest {
  file: string;
  suite: string;
  name: string;
  line: number;
  now: string;
  profile?: Record<string, JsonValue>;
  channel?: string;
  language?: string;
  turns: (Turn & { line: number })[];
}

export const DEFAULT_TEST_NOW = '2026-03-10T15:00:00.000Z';

export function loadConversationTests(dir: string, problems: Problem[]): ConversationTest[] {
  if (!fs.existsSync(dir)) return [];
  const out: ConversationTest[] = [];
  for (const f of fs.readdirSync(dir).filter((x) => /\.ya?ml$/i.test(x)).sort()) {
    const file = path.join(dir, f);
    const y = parseYaml(file, fs.readFileSync(file, 'utf8'), problems);
    if (!y.doc) continue;
    const r = fileSchema.safeParse(y.data);
    if (!r.success) {
      problems.push(...zodProblems(y, r.error));
      continue;
    }
    r.data.tests.forEach((t, i) => {
      out.push({
        file,
        suite: r.data.name ?? f.replace(/\.ya?ml$/i, ''),
        name: t.name,
        line: posAt(y, ['tests', i]).line,
        now: t.now ?? r.data.now ?? DEFAULT_TEST_NOW,
        profile: t.profile as Record<string, JsonValue> | undefined,
        channel: t.channel,
        ...(t.language !== undefined ? { language: t.language } : {}),
        turns: t.turns.map((turn, j) => ({ ...turn, line: posAt(y, ['tests', i, 'turns', j]).line })),
      });
    });
  }
  return out;
}

export interface TestFailure {
  line: number;
  message: string;
  expected: string;
  actual: string;
}
export interface TestResult {
  test: ConversationTest;
  passed: boolean;
  failures: TestFailure[];
  ms: number;
}

export function describeReply(m: OutMessage): string {
  const parts: string[] = [];
  if (m.text !== undefined) parts.push(JSON.stringify(decodeEntities(m.text)));
  const qr = [...(m.quickReplies ?? []), ...(m.buttons ?? [])];
  if (qr.length) parts.push(`[${qr.map((b) => b.title).join(' | ')}]`);
  if (m.cards?.length) parts.push(`cards: ${m.cards.map((c) => c.title).join(', ')}`);
  if (m.citation) parts.push(`(source: ${m.citation.articleId})`);
  return parts.join(' ') || '(empty message)';
}

/** What the customer reads: templates are HTML-escaped, channels show the characters. */
function replyText(m: OutMessage): string {
  return decodeEntities([m.text ?? '', ...(m.quickReplies ?? []).map((b) => b.title), ...(m.buttons ?? []).map((b) => b.title), ...(m.cards ?? []).flatMap((c) => [c.title, c.subtitle ?? ''])].join('\n'));
}

function matchesReply(m: OutMessage, e: z.infer<typeof botExpectation>): boolean {
  if (typeof e === 'string') return replyText(m).toLowerCase().includes(e.toLowerCase());
  if (e.contains !== undefined && !replyText(m).toLowerCase().includes(e.contains.toLowerCase())) return false;
  if (e.matches !== undefined && !new RegExp(e.matches, 'i').test(replyText(m))) return false;
  if (e.citation !== undefined && m.citation?.articleId !== e.citation) return false;
  if (e.quickReplies) {
    const titles = [...(m.quickReplies ?? []), ...(m.buttons ?? [])].map((b) => decodeEntities(b.title).toLowerCase());
    if (!e.quickReplies.every((t) => titles.some((x) => x.includes(t.toLowerCase())))) return false;
  }
  return true;
}

function describeExpectation(e: z.infer<typeof botExpectation>): string {
  if (typeof e === 'string') return `a reply containing ${JSON.stringify(e)}`;
  if (e.none) return 'no reply';
  const parts: string[] = [];
  if (e.contains !== undefined) parts.push(`containing ${JSON.stringify(e.contains)}`);
  if (e.matches !== undefined) parts.push(`matching /${e.matches}/i`);
  if (e.citation !== undefined) parts.push(`citing article ${e.citation}`);
  if (e.quickReplies) parts.push(`offering ${e.quickReplies.map((q) => JSON.stringify(q)).join(', ')}`);
  return `a reply ${parts.join(', ')}`;
}

/** Deep equality of JSON values; object key order does not matter. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    return ka.length === kb.length && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return false;
}

export interface RunDeps {
  bot: Bot;
  matcher: IntentMatcher;
  actions: Actions;
}

export async function runConversationTest(test: ConversationTest, deps: RunDeps): Promise<TestResult> {
  const started = Date.now();
  let seq = 0;
  let elapsed = 0;
  const service = new ConversationService({
    bot: deps.bot,
    store: new MemoryStore(),
    matcher: deps.matcher,
    actions: deps.actions,
    clock: () => new Date(Date.parse(test.now) + elapsed),
    newId: () => `t${++seq}`,
    logger: silentLogger,
  });
  const failures: TestFailure[] = [];
  const { conversationId } = await service.create({ channel: test.channel ?? 'test', profile: test.profile, ...(test.language ? { language: test.language } : {}) });
  let last: TurnOutcome | null = null;
  let replies: OutMessage[] = [];
  let cursor = 0;
  let fell = false;
  for (const turn of test.turns) {
    if ('wait' in turn) {
      elapsed += durationMs(turn.wait) ?? 0;
      continue;
    }
    if ('user' in turn) {
      try {
        last = await service.send(conversationId, { text: turn.user, payload: turn.payload });
      } catch (e) {
        failures.push({ line: turn.line, message: `sending ${JSON.stringify(turn.user)} failed`, expected: 'the bot to answer', actual: String((e as Error).stack ?? e) });
        break;
      }
      replies = last.replies;
      cursor = 0;
      fell = last.fallback;
      continue;
    }
    if (!last) {
      failures.push({ line: turn.line, message: 'an expectation comes before any `user:` turn', expected: '', actual: '' });
      break;
    }
    if ('bot' in turn) {
      const e = turn.bot;
      if (typeof e === 'object' && e.none) {
        if (replies.length) failures.push({ line: turn.line, message: 'expected no reply', expected: 'no reply', actual: replies.map(describeReply).join('\n') });
        continue;
      }
      let found = -1;
      for (let i = cursor; i < replies.length; i++)
        if (matchesReply(replies[i], e)) {
          found = i;
          break;
        }
      if (found < 0) {
        failures.push({
          line: turn.line,
          message: 'the bot did not say what was expected',
          expected: describeExpectation(e),
          actual: replies.length ? replies.map((m, i) => `${i < cursor ? '(already matched) ' : ''}${describeReply(m)}`).join('\n') : '(no reply)',
        });
        break;
      }
      cursor = found + 1;
      continue;
    }
    const x = turn.expect;
    const st = last.state;
    const fail = (what: string, expected: unknown, actual: unknown) =>
      failures.push({ line: turn.line, message: `${what} differs`, expected: JSON.stringify(expected), actual: JSON.stringify(actual ?? null) });
    if (x.intent !== undefined && (last.intent?.intent ?? null) !== x.intent) fail('intent', x.intent, last.intent ? `${last.intent.intent} (${last.intent.confidence.toFixed(2)})` : null);
    if (x.flow !== undefined) {
      const active = st.stack.length ? st.stack[st.stack.length - 1].flowId : null;
      if (active !== x.flow) fail('active flow', x.flow, active);
    }
    for (const [k, v] of Object.entries(x.slots ?? {})) if (!same(st.slots[k] ?? null, v)) fail(`slots.${k}`, v, st.slots[k]);
    for (const [k, v] of Object.entries(x.vars ?? {})) if (!same(st.vars[k] ?? null, v)) fail(`vars.${k}`, v, st.vars[k]);
    if (x.handoff !== undefined) {
      const h = st.status === 'handed_off' ? st.handoff : null;
      if (x.handoff === false && h) fail('handoff', false, h);
      else if (x.handoff === true && !h) fail('handoff', true, false);
      else if (typeof x.handoff === 'object') {
        if (!h) fail('handoff', x.handoff, false);
        else if ((x.handoff.reason && x.handoff.reason !== h.reason) || (x.handoff.queue && x.handoff.queue !== h.queue)) fail('handoff', x.handoff, { reason: h.reason, queue: h.queue });
      }
    }
    if (x.fallback !== undefined && fell !== x.fallback) fail('fallback', x.fallback, fell);
    if (x.language !== undefined && (st.language ?? deps.bot.language) !== x.language) fail('language', x.language, st.language ?? deps.bot.language);
    if (failures.length) break;
  }
  return { test, passed: failures.length === 0, failures, ms: Date.now() - started };
}

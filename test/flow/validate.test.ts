/**
 * Validation as a bot author meets it: load a bot folder, get every problem at once, each with a
 * stable code and the file, line and column to fix. Positions are computed from the fixture files
 * themselves (`at(file, text)`), so the tests say *what* is pointed at, not magic numbers.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadBot, loadBotOrThrow } from '../../src/flow/loader';
import { BotValidationError, formatProblem, sortProblems, type Problem } from '../../src/flow/problems';
import { validateActions } from '../../src/flow/validate';
import { botDir, loadFixtureBot } from '../fixtures';

const BROKEN = botDir('broken');
const file = (rel: string) => path.join(BROKEN, rel);

/** Line and column (1-based) of the first occurrence of `needle` in a fixture file (after `after`, if given). */
function at(abs: string, needle: string, after?: string): { file: string; line: number; col: number } {
  const text = fs.readFileSync(abs, 'utf8');
  const from = after === undefined ? 0 : text.indexOf(after);
  if (from < 0) throw new Error(`"${after}" is not in ${abs}`);
  const i = text.indexOf(needle, from);
  if (i < 0) throw new Error(`"${needle}" is not in ${abs}`);
  const before = text.slice(0, i).split('\n');
  return { file: abs, line: before.length, col: before[before.length - 1].length + 1 };
}

const brief = (p: Problem) => `${path.relative(BROKEN, p.file)}:${p.line}:${p.col} ${p.code}`;

describe('a bot with many problems', () => {
  let problems: Problem[];
  const find = (code: string, f: string) => problems.filter((p) => p.code === code && p.file === file(f));
  const one = (code: string, f: string): Problem => {
    const found = find(code, f);
    expect(found).toHaveLength(1);
    return found[0];
  };

  beforeAll(() => {
    const r = loadBot(BROKEN);
    expect(r.bot).toBeNull();
    problems = r.problems;
  });

  it('reports every problem in one go, in file/line order, each exactly once', () => {
    const x = (code: string, rel: string, needle: string, after?: string) => {
      const p = at(file(rel), needle, after);
      return `${rel}:${p.line}:${p.col} ${code}`;
    };
    const expected = [
      x('unknown_message', 'bot.yaml', 'welcom'),
      x('template_unknown_variable', 'bot.yaml', '"Sorry {{profile.nickname}}'),
      x('flow_cycle_without_input', 'flows/cycle.yaml', 'id: ping'),
      `flows/empty.yaml:1:1 invalid_type`,
      x('duplicate_example', 'flows/examples2.yaml', 'help with my order'),
      x('unknown_key', 'flows/more.yaml', 'tittle'),
      x('ambiguous_step', 'flows/more.yaml', 'say: hi'),
      x('invalid_step', 'flows/more.yaml', 'just a string'),
      x('invalid_value', 'flows/more.yaml', 'finished'),
      x('invalid_value', 'flows/more.yaml', '5', 'timeout:'),
      x('unknown_step', 'flows/refs.yaml', 'type: integer'),
      x('unknown_step', 'flows/refs.yaml', 'oops'),
      x('template_unknown_variable', 'flows/refs.yaml', 'say: "Hello {{slot.name}}'),
      x('template_unknown_variable', 'flows/refs.yaml', 'say: "Hello {{slot.name}}'),
      x('expression_unknown_variable', 'flows/refs.yaml', 'set:'),
      x('duplicate_flow_id', 'flows/second.yaml', 'id: same_flow'),
      x('subflow_cycle', 'flows/sub_b.yaml', 'flow: sub_a'),
      x('yaml_syntax', 'flows/syntax.yaml', '- say: there'),
      x('template_unknown_variable', 'flows/typos.yaml', 'type: choice'),
      x('invalid_slot_type', 'flows/typos.yaml', 'type: pattern'),
      x('unknown_step_kind', 'flows/typos.yaml', 'sya: Hello'),
      x('unknown_key', 'flows/typos.yaml', 'colour'),
      x('unknown_slot', 'flows/typos.yaml', 'collect: sise'),
      x('unknown_step', 'flows/typos.yaml', 'nowhere'),
      x('unknown_flow', 'flows/typos.yaml', 'flow: no_such_flow'),
      x('template_unknown_variable', 'flows/typos.yaml', 'say: "Hi {{slots.nope}}"'),
      x('template_unknown_variable', 'flows/typos.yaml', 'say: "You have'),
      x('template_syntax', 'flows/typos.yaml', 'say: "Hello {{slots.size"'),
      x('expression_syntax', 'flows/typos.yaml', '"slots.size =="'),
      x('expression_unknown_variable', 'flows/typos.yaml', 'if: vars.missing'),
      x('duplicate_step_id', 'flows/typos.yaml', 'id: dup', 'say: one'),
      x('yaml_syntax', 'knowledge/bad-yaml.md', '---', 'questions'),
      x('duplicate_article_id', 'knowledge/dup-b.md', 'id: same-article'),
      x('article_no_questions', 'knowledge/missing-questions.md', 'title'),
      'knowledge/no-front-matter.md:1:1 article_front_matter',
      x('article_no_questions', 'knowledge/no-questions.md', '[]'),
      x('duplicate_example', 'knowledge/shipping.md', 'how much is shipping'),
      'knowledge/unclosed.md:1:1 article_front_matter',
    ];
    expect(problems.filter((p) => p.severity === 'error').map(brief)).toEqual(expected);
    expect(sortProblems(problems)).toEqual(problems);
  });

  it('malformed YAML: yaml_syntax at the offending line, and the other files are still checked', () => {
    const p = one('yaml_syntax', 'flows/syntax.yaml');
    expect(p).toMatchObject({ severity: 'error', ...at(file('flows/syntax.yaml'), '- say: there') });
    expect(p.message).toMatch(/same column/);
    expect(p.hint).toMatch(/indentation/);
  });

  it('malformed YAML in front matter is positioned in the Markdown file, not the front matter', () => {
    expect(one('yaml_syntax', 'knowledge/bad-yaml.md')).toMatchObject({ line: 4, col: 1 });
  });

  it('an article without front matter, or with unclosed front matter: article_front_matter', () => {
    expect(one('article_front_matter', 'knowledge/no-front-matter.md')).toMatchObject({ line: 1, col: 1, message: 'the article has no front matter' });
    expect(one('article_front_matter', 'knowledge/unclosed.md')).toMatchObject({ line: 1, col: 1, message: 'the front matter is not closed' });
  });

  it('an article without questions: article_no_questions, for an empty list and a missing key', () => {
    const empty = one('article_no_questions', 'knowledge/no-questions.md');
    expect(empty).toMatchObject(at(file('knowledge/no-questions.md'), '[]'));
    expect(empty.message).toBe('article "no-questions" has no sample questions, so nobody can reach it');
    const missing = one('article_no_questions', 'knowledge/missing-questions.md');
    expect(missing.message).toBe('article "missing-questions" has no sample questions, so nobody can reach it');
    expect(find('missing_field', 'knowledge/missing-questions.md')).toEqual([]);
  });

  it('an unknown step kind suggests the closest one', () => {
    const p = one('unknown_step_kind', 'flows/typos.yaml');
    expect(p).toMatchObject({ message: 'unknown step kind "sya"', hint: 'did you mean "say"?', flow: 'typos', step: 'steps[0]' });
  });

  it('an unknown key points at the key itself and says where it is', () => {
    expect(one('unknown_key', 'flows/typos.yaml')).toMatchObject({ ...at(file('flows/typos.yaml'), 'colour'), message: 'unknown key "colour" in "steps[1]"' });
    expect(one('unknown_key', 'flows/more.yaml')).toMatchObject({ ...at(file('flows/more.yaml'), 'tittle'), message: 'unknown key "tittle" in the document' });
  });

  it('a step with two kinds, or that is not a mapping', () => {
    expect(one('ambiguous_step', 'flows/more.yaml')).toMatchObject({ message: 'a step has exactly one kind, this one has "say" and "goto"', hint: expect.stringMatching(/separate steps/) });
    expect(one('invalid_step', 'flows/more.yaml').hint).toMatch(/say, collect, if/);
  });

  it('wrong values say what is allowed', () => {
    const [end, timeout] = find('invalid_value', 'flows/more.yaml');
    expect(end.message).toMatch(/^"steps\[2\]\.end": /);
    expect(end.hint).toBe('allowed values: resolved, handed_off, abandoned, cancelled, unresolved');
    expect(timeout.message).toMatch(/^"steps\[3\]\.timeout": .*10/);
  });

  it('collecting an undefined slot: unknown_slot with a suggestion', () => {
    expect(one('unknown_slot', 'flows/typos.yaml')).toMatchObject({
      message: 'step collects slot "sise", which flow "typos" does not define',
      hint: 'did you mean "size"?',
    });
  });

  it('a goto, onError or onMaxAttempts to a missing step: unknown_step', () => {
    expect(one('unknown_step', 'flows/typos.yaml')).toMatchObject({ message: 'flow "typos" has no step with id "nowhere"', hint: 'step ids in this flow: dup' });
    const [slot, onError] = find('unknown_step', 'flows/refs.yaml');
    expect(slot.message).toBe('slot "qty" continues at step "give_up" after too many attempts, but flow "refs" has no such step');
    expect(onError).toMatchObject({ message: 'flow "refs" has no step with id "oops"', ...at(file('flows/refs.yaml'), 'oops') });
  });

  it('calling a flow that does not exist: unknown_flow', () => {
    expect(one('unknown_flow', 'flows/typos.yaml').message).toBe('step calls flow "no_such_flow", which does not exist');
  });

  it('a loop that never waits for the customer: flow_cycle_without_input', () => {
    expect(one('flow_cycle_without_input', 'flows/cycle.yaml')).toMatchObject({
      message: 'flow "cycle" loops through steps ping → pong without ever waiting for the customer',
      flow: 'cycle',
      step: 'ping',
    });
  });

  it('sub-flows calling each other: subflow_cycle, reported once', () => {
    expect(one('subflow_cycle', 'flows/sub_b.yaml').message).toBe('sub-flows call each other in a circle: sub_a → sub_b → sub_a');
    expect(problems.filter((p) => p.code === 'subflow_cycle')).toHaveLength(1);
  });

  it('duplicate flow, step and article ids', () => {
    expect(one('duplicate_flow_id', 'flows/second.yaml').message).toBe('flow id "same_flow" is also used by first.yaml');
    expect(one('duplicate_step_id', 'flows/typos.yaml').message).toBe('step id "dup" is used twice in flow "typos"');
    expect(one('duplicate_article_id', 'knowledge/dup-b.md').message).toBe('article id "same-article" is also used by dup-a.md');
  });

  it('the same example in two intents: duplicate_example at the second example, naming the first', () => {
    const p = one('duplicate_example', 'flows/examples2.yaml');
    const first = at(file('flows/examples.yaml'), 'help with my order');
    expect(p.message).toBe(`the example "help with my order" is also an example of intent "examples" (${first.file}:${first.line})`);
    const q = one('duplicate_example', 'knowledge/shipping.md');
    expect(q.message).toMatch(/^the example "how much is shipping" is also an example of intent "examples"/);
    // Variants that only differ in case and punctuation inside one intent are not a problem.
    expect(find('duplicate_example', 'flows/examples.yaml')).toEqual([]);
  });

  it('templates that use unknown variables: template_unknown_variable with a hint', () => {
    const tpl = problems.filter((p) => p.code === 'template_unknown_variable');
    const msg = (m: string) => tpl.find((p) => p.message === m);
    expect(msg('template uses slots.nope, but no slot "nope" exists')).toBeDefined();
    expect(msg('template uses vars.never_set, but no variable "never_set" exists')?.hint).toMatch(/set:/);
    expect(msg('template uses slots.sise, but no slot "sise" exists')?.hint).toBe('did you mean slots.size?');
    expect(msg('template uses "slot.name", which is not a known variable')?.hint).toBe('did you mean slots.…?');
    expect(msg('template uses profile.age, but no profile field "age" exists')).toBeDefined();
    expect(msg('template uses profile.nickname, but no profile field "nickname" exists')?.file).toBe(file('bot.yaml'));
  });

  it('a template syntax error: template_syntax', () => {
    expect(one('template_syntax', 'flows/typos.yaml')).toMatchObject({ message: expect.stringMatching(/^invalid template "Hello \{\{slots\.size": Parse error/) });
  });

  it('conditions: expression_syntax and expression_unknown_variable', () => {
    expect(one('expression_syntax', 'flows/typos.yaml').message).toMatch(/^invalid expression "slots.size ==": unexpected end of expression/);
    expect(one('expression_unknown_variable', 'flows/typos.yaml').message).toBe('expression uses vars.missing, but no variable "missing" exists');
    expect(one('expression_unknown_variable', 'flows/refs.yaml').message).toBe('expression uses vars.price, but no variable "price" exists');
  });

  it('an invalid regular expression in a pattern slot: invalid_slot_type', () => {
    expect(one('invalid_slot_type', 'flows/typos.yaml').message).toMatch(/^slot "code": pattern is not a valid regular expression/);
  });

  it('a misspelt bot message: unknown_message with a suggestion', () => {
    expect(one('unknown_message', 'bot.yaml')).toMatchObject({ hint: 'did you mean "welcome"?', ...at(file('bot.yaml'), 'welcom') });
  });

  it('loadBotOrThrow throws one error listing every problem', () => {
    let err: unknown;
    try {
      loadBotOrThrow(BROKEN);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BotValidationError);
    const e = err as BotValidationError;
    expect(e.code).toBe('bot_invalid');
    expect(e.problems).toEqual(problems);
    const errors = problems.filter((p) => p.severity === 'error');
    expect(e.message.split('\n')[0]).toBe(`the bot has ${errors.length} problem(s):`);
    expect(e.message.split('\n')).toHaveLength(errors.length + 1);
  });
});

describe('bot.yaml problems', () => {
  const BAD = botDir('bad-config');
  const r = loadBot(BAD);
  const botFile = path.join(BAD, 'bot.yaml');

  it('reports an unknown key and values of the wrong type, at the right place', () => {
    expect(r.bot).toBeNull();
    const inBotFile = r.problems.filter((p) => p.file === botFile);
    expect(inBotFile.map((p) => [p.code, p.line, p.col, p.message])).toEqual([
      ['unknown_key', at(botFile, 'colour').line, 1, 'unknown key "colour" in the document'],
      ['invalid_type', at(botFile, 'high').line, at(botFile, 'high').col, '"nlu.threshold": expected number, got string'],
      ['unknown_key', at(botFile, 'margin').line, at(botFile, 'margin').col, 'unknown key "margin" in "nlu"'],
      ['invalid_type', at(botFile, '42').line, at(botFile, '42').col, '"welcomeFlow": expected string, got number'],
    ]);
  });

  it('still checks the flows, so every problem is reported at once', () => {
    const flowFile = path.join(BAD, 'flows', 'hello.yaml');
    expect(r.problems.filter((p) => p.severity === 'error' && p.file === flowFile).map((p) => p.code)).toEqual(['unknown_step_kind']);
  });

  it('reports a missing bot.yaml', () => {
    const none = loadBot(path.join(BAD, 'flows'));
    expect(none.bot).toBeNull();
    expect(none.problems.map((p) => p.code)).toEqual(['bot_file_missing']);
  });
});

describe('a valid bot', () => {
  it('loads without errors: a loop through a question is fine', () => {
    const r = loadBot(botDir('shop'));
    expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(r.bot).not.toBeNull();
    expect(Object.keys(r.bot!.flows).sort()).toEqual(['bulk', 'invite', 'order_status', 'returns', 'signup', 'survey', 'verify_email', 'warranty']);
    expect(Object.keys(r.bot!.articles).sort()).toEqual(['gift-wrap', 'shipping-cost']);
    expect(r.bot!.knownVars).toEqual(['copies', 'label', 'order', 'rma', 'tags', 'warranty']);
  });

  it('warns (without failing) about an example that is also a built-in example', () => {
    const r = loadBot(botDir('bad-config'));
    const w = r.problems.find((p) => p.code === 'duplicate_example')!;
    expect(w).toMatchObject({ severity: 'warning', ...at(path.join(botDir('bad-config'), 'flows', 'hello.yaml'), 'hey there') });
  });
});

describe('validateActions', () => {
  it('reports every call of an action the module does not export, with a suggestion', () => {
    const bot = loadFixtureBot('shop');
    const problems: Problem[] = [];
    validateActions(bot, ['lookupOrder', 'createLabels'], problems);
    const flowFile = (f: string) => path.join(path.dirname(path.dirname(bot.dir)), 'flows', 'shop', f);
    expect(problems).toEqual([
      {
        severity: 'error',
        code: 'unknown_action',
        message: 'step calls action "createLabel", which the actions module does not export',
        hint: 'did you mean "createLabels"?',
        ...at(flowFile('returns.yaml'), 'call: createLabel'),
        flow: 'returns',
        step: expect.any(String),
      },
      {
        severity: 'error',
        code: 'unknown_action',
        message: 'step calls action "checkWarranty", which the actions module does not export',
        hint: 'exported actions: lookupOrder, createLabels',
        ...at(flowFile('warranty.yaml'), 'call: checkWarranty'),
        flow: 'warranty',
        step: 'steps[0]',
      },
    ]);
  });

  it('is quiet when every action exists', () => {
    const problems: Problem[] = [];
    validateActions(loadFixtureBot('shop'), ['lookupOrder', 'createLabel', 'checkWarranty'], problems);
    expect(problems).toEqual([]);
  });
});

describe('formatProblem', () => {
  const p: Problem = { severity: 'error', code: 'unknown_step_kind', message: 'unknown step kind "sya"', hint: 'did you mean "say"?', file: '/bots/x/flows/a.yaml', line: 3, col: 5 };

  it('prints file:line:col, code, message and hint', () => {
    expect(formatProblem(p)).toBe('/bots/x/flows/a.yaml:3:5  unknown_step_kind  unknown step kind "sya"  (did you mean "say"?)');
  });

  it('prints paths relative to cwd and leaves out a missing hint', () => {
    expect(formatProblem({ ...p, hint: undefined }, '/bots/x')).toBe('flows/a.yaml:3:5  unknown_step_kind  unknown step kind "sya"');
    expect(formatProblem(p, '/elsewhere')).toMatch(/^\/bots\/x\/flows\/a\.yaml:3:5 {2}/);
  });

  it('marks warnings', () => {
    expect(formatProblem({ ...p, severity: 'warning', code: 'few_examples', message: 'm', hint: undefined })).toBe('/bots/x/flows/a.yaml:3:5  warning few_examples  m');
  });
});

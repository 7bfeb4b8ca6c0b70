/**
 * Cross-reference checks over a compiled bot: every problem is collected, none thrown.
 */
import type { Bot, Flow, MessageTemplate, SourcePos, Step } from './model';
import type { Problem } from './problems';
import { MESSAGE_TEMPLATE_ROOTS, messageTexts } from './messages';
import { templateReferences, TemplateSyntaxError, TEMPLATE_ROOTS } from './templates';
import { referencedPaths, type Expr } from './expressions';
import { closestName } from './compile';
import { builtinIntentsFor } from '../nlu/builtin-intents';
import { overlappingExampleProblems } from '../nlu/overlap';
import { engineConfigOf } from '../nlu/settings';
import { articleQuestions, botLanguages, flowExamples } from '../nlu/corpus';
import { languageName } from './i18n';

interface Ctx {
  bot: Bot;
  problems: Problem[];
  allSlots: Set<string>;
}

function push(ctx: Ctx, pos: SourcePos, p: Omit<Problem, 'file' | 'line' | 'col' | 'severity'> & { severity?: Problem['severity'] }) {
  ctx.problems.push({ severity: 'error', ...p, file: pos.file, line: pos.line, col: pos.col });
}

function checkPath(ctx: Ctx, path: string[], pos: SourcePos, where: string, flow?: string, step?: string, extraRoots: string[] = []): void {
  const [root, name] = path;
  if (extraRoots.includes(root)) return;
  const known = (list: string[], kind: string, hint: string) => {
    if (name === undefined || list.includes(name)) return;
    const guess = closestName(name, list);
    push(ctx, pos, {
      code: `${where}_unknown_variable`,
      message: `${where === 'template' ? 'template' : 'expression'} uses ${root}.${name}, but no ${kind} "${name}" exists`,
      hint: guess ? `did you mean ${root}.${guess}?` : hint,
      flow,
      step,
    });
  };
  switch (root) {
    case 'slots':
      return known([...ctx.allSlots], 'slot', 'declare the slot under `slots:` in a flow');
    case 'vars':
      return known(ctx.bot.knownVars, 'variable', 'variables come from `set:` steps and the `result:` of `call:` steps');
    case 'profile':
      return known(ctx.bot.profileFields, 'profile field', 'list extra customer profile fields under `profile:` in bot.yaml');
    case 'bot':
      return known(['id', 'name'], 'bot field', 'available: bot.id, bot.name');
    case 'conversation':
      return known(['id', 'channel'], 'conversation field', 'available: conversation.id, conversation.channel');
    default: {
      const guess = closestName(root, TEMPLATE_ROOTS);
      push(ctx, pos, {
        code: `${where}_unknown_variable`,
        message: `${where === 'template' ? 'template' : 'expression'} uses "${path.join('.')}", which is not a known variable`,
        hint: guess && guess !== root ? `did you mean ${guess}.…?` : `names start with one of: ${TEMPLATE_ROOTS.filter((r) => r !== 'article').join(', ')} (e.g. slots.orderId)`,
        flow,
        step,
      });
    }
  }
}

function checkTemplates(ctx: Ctx, messages: MessageTemplate[] | undefined, pos: SourcePos, flow?: string, step?: string, extraRoots: string[] = []) {
  for (const m of messages ?? [])
    for (const text of messageTexts(m)) {
      try {
        for (const ref of templateReferences(text)) checkPath(ctx, ref.path, pos, 'template', flow, step, extraRoots);
      } catch (e) {
        if (!(e instanceof TemplateSyntaxError)) throw e;
        push(ctx, pos, { code: 'template_syntax', message: `invalid template "${text.slice(0, 60)}": ${e.message}`, hint: 'check that every {{ has a matching }} and every {{#if}} a {{/if}}', flow, step });
      }
    }
}

function checkExpr(ctx: Ctx, expr: Expr | null, pos: SourcePos, flow: string, step: string) {
  if (!expr) return;
  for (const p of referencedPaths(expr)) checkPath(ctx, p, pos, 'expression', flow, step);
}

function successors(bot: Bot, flow: Flow, i: number): number[] {
  const s = flow.steps[i];
  switch (s.kind) {
    case 'collect':
      return []; // waits for the customer
    case 'flow': {
      const sub = bot.flows[s.flow];
      if (sub && sub.steps.some((x) => x.kind === 'collect')) return [];
      return [i + 1];
    }
    case 'branch':
      return [i + 1, s.whenFalse].filter((x) => x >= 0);
    case 'jump':
      return s.target >= 0 ? [s.target] : [];
    case 'call':
      return [i + 1, s.onError].filter((x) => x >= 0);
    case 'end':
    case 'return':
    case 'handoff':
      return [];
    default:
      return [i + 1];
  }
}

function checkCycles(ctx: Ctx, flow: Flow) {
  const color = new Array<number>(flow.steps.length).fill(0);
  const reported = new Set<number>();
  const visit = (i: number, stack: number[]): void => {
    if (i >= flow.steps.length) return;
    if (color[i] === 2) return;
    if (color[i] === 1) {
      const start = stack.indexOf(i);
      const cycle = stack.slice(start);
      const key = Math.min(...cycle);
      if (!reported.has(key)) {
        reported.add(key);
        const s = flow.steps[i];
        push(ctx, s.pos, {
          code: 'flow_cycle_without_input',
          message: `flow "${flow.id}" loops through steps ${cycle.map((c) => flow.steps[c].id).join(' → ')} without ever waiting for the customer`,
          hint: 'add a `collect` step inside the loop or change the goto so the loop can end',
          flow: flow.id,
          step: s.id,
        });
      }
      return;
    }
    color[i] = 1;
    stack.push(i);
    for (const n of successors(ctx.bot, flow, i)) visit(n, stack);
    stack.pop();
    color[i] = 2;
  };
  for (let i = 0; i < flow.steps.length; i++) visit(i, []);
}

function checkSubflowCycles(ctx: Ctx) {
  const { bot } = ctx;
  const calls = (f: Flow) => f.steps.filter((s): s is Extract<Step, { kind: 'flow' }> => s.kind === 'flow');
  const state = new Map<string, number>();
  const visit = (id: string, chain: string[]) => {
    const st = state.get(id) ?? 0;
    if (st === 2) return;
    if (st === 1) {
      const f = bot.flows[chain[chain.length - 1]];
      const step = calls(f).find((s) => s.flow === id)!;
      push(ctx, step.pos, {
        code: 'subflow_cycle',
        message: `sub-flows call each other in a circle: ${[...chain.slice(chain.indexOf(id)), id].join(' → ')}`,
        hint: 'a sub-flow returns to its caller when it ends; use `goto` inside a flow for loops',
        flow: f.id,
        step: step.id,
      });
      return;
    }
    state.set(id, 1);
    const f = bot.flows[id];
    if (f) for (const s of calls(f)) if (bot.flows[s.flow]) visit(s.flow, [...chain, id]);
    state.set(id, 2);
  };
  for (const id of Object.keys(bot.flows)) visit(id, []);
}

export function normalizeExample(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s']/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function checkExamples(ctx: Ctx) {
  const { bot } = ctx;
  const languages = botLanguages(bot);
  for (const f of Object.values(bot.flows)) {
    const isCalled = Object.values(bot.flows).some((o) => o.steps.some((s) => s.kind === 'flow' && s.flow === f.id));
    const anyExamples = f.examples.length > 0 || Object.values(f.localExamples ?? {}).some((l) => l.examples.length > 0);
    const reachable =
      anyExamples || f.keywords.length > 0 || Object.keys(f.localKeywords ?? {}).length > 0 || f.payloads.length > 0 || isCalled || bot.welcomeFlow === f.id || bot.config.handoff.afterFlow === f.id || f.intent.startsWith('builtin.');
    if (!reachable)
      push(ctx, f.pos, {
        severity: 'warning',
        code: 'unreachable_flow',
        message: `flow "${f.id}" has no trigger and is not used as a sub-flow, so it can never run`,
        hint: 'add `trigger: { examples: [...] }` or call it with a `flow:` step',
        flow: f.id,
      });
  }
  // Each language has its own model: a sentence may teach one intent per language.
  for (const language of languages) {
    const seen = new Map<string, { intent: string; pos: SourcePos }>();
    for (const b of builtinIntentsFor(language)) for (const ex of b.examples) seen.set(normalizeExample(ex), { intent: b.intent, pos: { file: '(built-in)', line: 0, col: 0 } });
    const add = (intent: string, ex: string, pos: SourcePos, flow?: string) => {
      const key = normalizeExample(ex);
      if (!key) return;
      const prev = seen.get(key);
      if (prev && prev.intent !== intent) {
        const builtin = prev.intent.startsWith('builtin.');
        const overridden = builtin && bot.intents[prev.intent]?.kind !== 'builtin';
        if (!overridden || prev.intent !== intent)
          push(ctx, pos, {
            severity: builtin ? 'warning' : 'error',
            code: 'duplicate_example',
            message: `the example "${ex}" is also an example of ${builtin ? 'the built-in intent' : 'intent'} "${prev.intent}"${builtin ? '' : ` (${prev.pos.file}:${prev.pos.line})`}`,
            hint: 'the same sentence cannot teach two intents; keep it in one of them',
            flow,
          });
        return;
      }
      if (!prev) seen.set(key, { intent, pos });
    };
    for (const f of Object.values(bot.flows)) {
      const examples = flowExamples(bot, f, language);
      examples.forEach((e) => add(f.intent, e.text, e.pos, f.id));
      if (examples.length > 0 && examples.length < 5)
        push(ctx, examples[0]!.pos.file === f.file && language === languages[0] ? f.pos : examples[0]!.pos, {
          severity: 'warning',
          code: 'few_examples',
          message: `flow "${f.id}" has only ${examples.length} trigger example(s)${languages.length > 1 ? ` in ${languageName(language)}` : ''}`,
          hint: 'give at least 10 varied examples for reliable recognition',
          flow: f.id,
        });
    }
    for (const a of Object.values(bot.articles)) for (const q of articleQuestions(bot, a, language)) add(a.intent, q.text, q.pos);
  }
}

export function validateBot(bot: Bot, problems: Problem[], opts: { botFile: string; messagePos?: Record<string, SourcePos> }): void {
  const allSlots = new Set<string>();
  for (const f of Object.values(bot.flows)) Object.keys(f.slots).forEach((s) => allSlots.add(s));
  const ctx: Ctx = { bot, problems, allSlots };

  for (const [key, msgs] of Object.entries(bot.messages))
    checkTemplates(ctx, msgs, opts.messagePos?.[key] ?? { file: opts.botFile, line: 1, col: 1 }, undefined, `messages.${key}`, MESSAGE_TEMPLATE_ROOTS[key]);

  for (const flow of Object.values(bot.flows)) {
    for (const slot of Object.values(flow.slots)) {
      checkTemplates(ctx, slot.prompt, slot.pos, flow.id);
      checkTemplates(ctx, slot.reprompt, slot.pos, flow.id);
      if (slot.onMaxAttempts && flow.stepIndex[slot.onMaxAttempts] === undefined)
        push(ctx, slot.pos, {
          code: 'unknown_step',
          message: `slot "${slot.name}" continues at step "${slot.onMaxAttempts}" after too many attempts, but flow "${flow.id}" has no such step`,
          hint: 'give that step an `id:` or fix the name',
          flow: flow.id,
        });
    }
    for (const s of flow.steps) {
      switch (s.kind) {
        case 'say':
          checkTemplates(ctx, s.messages, s.pos, flow.id, s.id);
          break;
        case 'collect':
          if (!flow.slots[s.slot]) {
            const declared = Object.keys(flow.slots);
            const guess = closestName(s.slot, declared);
            push(ctx, s.pos, {
              code: 'unknown_slot',
              message: `step collects slot "${s.slot}", which flow "${flow.id}" does not define`,
              hint: guess ? `did you mean "${guess}"?` : `define it under \`slots:\` with a type and a prompt${declared.length ? ` (defined: ${declared.join(', ')})` : ''}`,
              flow: flow.id,
              step: s.id,
            });
          }
          checkTemplates(ctx, s.prompt, s.pos, flow.id, s.id);
          checkTemplates(ctx, s.reprompt, s.pos, flow.id, s.id);
          break;
        case 'branch':
          checkExpr(ctx, s.cond, s.pos, flow.id, s.id);
          break;
        case 'set':
          s.assignments.forEach((a) => checkExpr(ctx, a.expr, s.pos, flow.id, s.id));
          break;
        case 'record':
          s.data.forEach((a) => checkExpr(ctx, a.expr, s.pos, flow.id, s.id));
          if (RESERVED_EVENTS.has(s.event))
            push(ctx, s.pos, {
              code: 'reserved_event',
              message: `"${s.event}" is an event Baton records itself; a flow cannot record it`,
              hint: 'choose another name, e.g. csat or survey_answered',
              flow: flow.id,
              step: s.id,
            });
          break;
        case 'call':
          s.args.forEach((a) => checkExpr(ctx, a.expr, s.pos, flow.id, s.id));
          break;
        case 'flow':
          if (!bot.flows[s.flow]) {
            const guess = closestName(s.flow, Object.keys(bot.flows));
            push(ctx, s.pos, { code: 'unknown_flow', message: `step calls flow "${s.flow}", which does not exist`, hint: guess ? `did you mean "${guess}"?` : `flows: ${Object.keys(bot.flows).join(', ')}`, flow: flow.id, step: s.id });
          }
          break;
        case 'handoff':
          checkTemplates(ctx, s.messages, s.pos, flow.id, s.id);
          break;
      }
    }
    checkCycles(ctx, flow);
  }
  checkSubflowCycles(ctx);
  checkHandoffConfig(ctx, opts.botFile);
  checkExamples(ctx);
  // Near-duplicate examples of different intents (exact duplicates are duplicate_example above), per language.
  const engine = engineConfigOf(bot.config.nlu);
  for (const language of botLanguages(bot))
    problems.push(
      ...overlappingExampleProblems(bot, {
        language,
        skip: (x, y) => normalizeExample(x) === normalizeExample(y),
        outOfScope: engine.matcher === 'linear' && engine.outOfScope,
      }),
    );
  for (const a of Object.values(bot.articles)) {
    checkTemplates(ctx, [{ text: a.body }], a.pos, undefined, undefined, ['article']);
    for (const t of Object.values(a.translations ?? {})) checkTemplates(ctx, [{ text: t.body }], t.pos, undefined, undefined, ['article']);
  }
}

/** Event types Baton writes itself; `record:` steps may not use them. */
const RESERVED_EVENTS = new Set([
  'customer_message', 'bot_message', 'agent_message', 'agent_note', 'agent_joined', 'transferred', 'conversation_resolved', 'handed_back',
  'handoff', 'handoff_offered', 'handoff_declined', 'flow_started', 'flow_ended', 'routed', 'fallback', 'nlu', 'slot_filled',
  'slot_rejected', 'var_set', 'action_requested', 'action_succeeded', 'action_failed', 'conversation_started', 'conversation_reopened',
]);

/** bot.yaml `handoff:` references: the after-handback flow, queues named by flows and triggers. */
function checkHandoffConfig(ctx: Ctx, botFile: string) {
  const { bot } = ctx;
  const h = bot.config.handoff;
  const at: SourcePos = { file: botFile, line: 1, col: 1 };
  if (h.afterFlow && !bot.flows[h.afterFlow]) {
    const guess = closestName(h.afterFlow, Object.keys(bot.flows));
    push(ctx, at, { code: 'unknown_flow', message: `handoff.afterFlow names flow "${h.afterFlow}", which does not exist`, hint: guess ? `did you mean "${guess}"?` : `flows: ${Object.keys(bot.flows).join(', ')}` });
  }
  if (!h.queues) return;
  const declared = Object.keys(h.queues);
  const check = (queue: string | undefined, pos: SourcePos, where: string, flow?: string, step?: string) => {
    if (queue === undefined || declared.includes(queue)) return;
    const guess = closestName(queue, declared);
    push(ctx, pos, {
      severity: 'warning',
      code: 'unknown_queue',
      message: `${where} hands off to queue "${queue}", which handoff.queues does not declare (it gets no priority or opening hours of its own)`,
      hint: guess ? `did you mean "${guess}"?` : `declared queues: ${declared.join(', ')}`,
      flow,
      step,
    });
  };
  check(h.queue, at, 'handoff.queue');
  for (const [name, t] of Object.entries(h.triggers)) check((t as { queue?: string } | undefined)?.queue, at, `handoff.triggers.${name}`);
  for (const flow of Object.values(bot.flows)) for (const s of flow.steps) if (s.kind === 'handoff') check(s.queue, s.pos, `step ${s.id}`, flow.id, s.id);
}

/** Check that every `call:` names a function the actions module exports. */
export function validateActions(bot: Bot, actionNames: string[], problems: Problem[]): void {
  for (const flow of Object.values(bot.flows))
    for (const s of flow.steps)
      if (s.kind === 'call' && !actionNames.includes(s.action)) {
        const guess = closestName(s.action, actionNames);
        problems.push({
          severity: 'error',
          code: 'unknown_action',
          message: `step calls action "${s.action}", which the actions module does not export`,
          hint: guess ? `did you mean "${guess}"?` : bot.actionsModule ? `exported actions: ${actionNames.join(', ') || '(none)'}` : 'set `actions:` in bot.yaml to a module that exports it',
          file: s.pos.file,
          line: s.pos.line,
          col: s.pos.col,
          flow: flow.id,
          step: s.id,
        });
      }
}

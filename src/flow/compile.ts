/**
 * Compile one parsed flow file into the flat program the interpreter runs.
 * Nested `then:`/`else:`/`onError:` lists become jumps, so the interpreter only
 * needs a step index. Reports every problem it finds; never throws on bad input.
 */
import { STEP_KINDS, STEP_SCHEMAS, flowFileSchema, slotSchema, type StepKind } from './schema';
import type { Flow, MessageTemplate, SlotDef, Step } from './model';
import type { Problem } from './problems';
import { normalizeMessages } from './messages';
import { posAt, type YamlFile } from './yaml';
import { zodProblems } from './zod-problems';
import { parseExpression, ExpressionError, type Expr } from './expressions';
import { validateSlotTypeDefinition, type SlotType } from './slot-types';
import type { JsonValue } from '../util/json';
import { languageName, localizeList, localizeText, type LocaleContext } from './i18n';

type Path = (string | number)[];

function closest(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const o of options) {
    const d = editDistance(word.toLowerCase(), o.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) dp[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i][j] = Math.min(dp[i - 1][j] + 1, dp[i][j - 1] + 1, dp[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return dp[a.length][b.length];
}

export { closest as closestName };

export interface CompileContext {
  y: YamlFile;
  flowId: string;
  problems: Problem[];
  /** The bot's languages, default first (default: English only). */
  languages?: string[];
}

/** Where per-language values of this flow are resolved (and their problems reported). */
function locale(ctx: CompileContext, step?: string): LocaleContext {
  return { languages: ctx.languages?.length ? ctx.languages : ['en'], y: ctx.y, problems: ctx.problems, flow: ctx.flowId, ...(step ? { step } : {}) };
}

function pathId(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function compileExpr(ctx: CompileContext, source: string, path: Path, stepId: string): Expr | null {
  try {
    return parseExpression(source);
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    const pos = posAt(ctx.y, path);
    ctx.problems.push({
      severity: 'error',
      code: 'expression_syntax',
      message: `invalid expression "${source}": ${e.message}`,
      hint: 'expressions look like: slots.count > 2 && vars.order.status == "shipped"',
      file: pos.file,
      line: pos.line,
      col: pos.col,
      flow: ctx.flowId,
      step: stepId,
    });
    return null;
  }
}

function compileValues(ctx: CompileContext, rec: Record<string, unknown>, path: Path, stepId: string) {
  return Object.entries(rec).map(([name, v]) => {
    if (typeof v === 'string') return { name, source: v, expr: compileExpr(ctx, v, [...path, name], stepId) };
    return { name, source: JSON.stringify(v), expr: null, literal: v as JsonValue };
  });
}

interface Fixup {
  at: number;
  field: 'target' | 'whenFalse' | 'onError';
  stepId: string;
  path: Path;
}

export function compileFlow(ctx: CompileContext, data: unknown, defaultId: string): Flow | null {
  const { y, problems } = ctx;
  const parsed = flowFileSchema.safeParse(data);
  if (!parsed.success) {
    problems.push(...zodProblems(y, parsed.error, [], { flow: defaultId }));
    // Still try to compile the steps if they are there, to report more at once.
    if (!data || typeof data !== 'object' || !Array.isArray((data as { steps?: unknown }).steps)) return null;
  }
  const raw = (parsed.success ? parsed.data : (data as Record<string, unknown>)) as {
    id?: string;
    title?: unknown;
    description?: string;
    trigger?: { intent?: string; examples?: unknown; keywords?: unknown; payloads?: string[] };
    slots?: Record<string, unknown>;
    steps: unknown[];
    digressions?: boolean;
  };
  const flowId = typeof raw.id === 'string' ? raw.id : defaultId;
  ctx.flowId = flowId;
  const flowDigressions = raw.digressions !== false;

  // Slots
  const slots: Record<string, SlotDef> = {};
  for (const [name, rawSlot] of Object.entries(raw.slots ?? {})) {
    const sp = ['slots', name];
    const r = slotSchema.safeParse(rawSlot);
    if (!r.success) {
      problems.push(...zodProblems(y, r.error, sp, { flow: flowId }));
      continue;
    }
    const s = r.data;
    const { prompt, reprompt, maxAttempts, onMaxAttempts, fromTrigger, description: _d, ...typePart } = s;
    const lc = locale(ctx);
    const slotType = (
      typePart.type === 'choice'
        ? {
            ...typePart,
            options: typePart.options.map((o, i) => {
              if (typeof o === 'string') return { value: o };
              const op = [...sp, 'options', i];
              const out: { value: string; title?: string; titles?: Record<string, string>; synonyms?: string[] } = { value: o.value };
              if (o.title !== undefined) {
                const t = localizeText(o.title, [...op, 'title'], lc, 'this option title');
                out.title = t.text;
                if (t.local) out.titles = t.local;
              }
              if (o.synonyms !== undefined) {
                // Synonyms of every language are accepted whatever the customer's language.
                const l = localizeList(o.synonyms, [...op, 'synonyms'], lc, 'every', 'these synonyms');
                out.synonyms = [...l.list, ...Object.values(l.local ?? {}).flat()];
              }
              return out;
            }),
          }
        : typePart
    ) as SlotType;
    for (const msg of validateSlotTypeDefinition(slotType)) {
      const pos = posAt(y, sp);
      problems.push({ severity: 'error', code: 'invalid_slot_type', message: `slot "${name}": ${msg}`, file: pos.file, line: pos.line, col: pos.col, flow: flowId });
    }
    const pos = posAt(y, sp);
    slots[name] = {
      ...slotType,
      name,
      prompt: normalizeMessages(prompt as never, lc, [...sp, 'prompt']),
      reprompt: reprompt ? normalizeMessages(reprompt as never, lc, [...sp, 'reprompt']) : undefined,
      maxAttempts: maxAttempts ?? 3,
      onMaxAttempts,
      fromTrigger: fromTrigger ?? true,
      pos,
    } as SlotDef;
  }

  const steps: Step[] = [];
  const fixups: Fixup[] = [];
  const seenIds = new Map<string, Path>();

  const emit = (s: Step) => {
    steps.push(s);
    return steps.length - 1;
  };

  const emitList = (list: unknown[], path: Path) => {
    list.forEach((rawStep, i) => emitStep(rawStep, [...path, i]));
  };

  const emitStep = (rawStep: unknown, path: Path) => {
    const pos = posAt(y, path);
    const base = { pos };
    if (!rawStep || typeof rawStep !== 'object' || Array.isArray(rawStep)) {
      problems.push({
        severity: 'error',
        code: 'invalid_step',
        message: 'a step must be a mapping such as `- say: "Hello"`',
        hint: `step kinds: ${STEP_KINDS.join(', ')}`,
        file: pos.file,
        line: pos.line,
        col: pos.col,
        flow: flowId,
      });
      return;
    }
    const obj = rawStep as Record<string, unknown>;
    const kinds = Object.keys(obj).filter((k) => (STEP_KINDS as string[]).includes(k));
    const explicitId = typeof obj.id === 'string' ? obj.id : undefined;
    const stepId = explicitId ?? pathId(path);
    if (kinds.length !== 1) {
      const unknown = Object.keys(obj).filter((k) => !['id', 'digressions', 'then', 'else', 'args', 'result', 'timeout', 'onError', 'prompt', 'reprompt'].includes(k));
      const guess = unknown.map((k) => closest(k, STEP_KINDS)).find(Boolean);
      problems.push({
        severity: 'error',
        code: kinds.length === 0 ? 'unknown_step_kind' : 'ambiguous_step',
        message:
          kinds.length === 0
            ? `unknown step kind${unknown.length ? ` "${unknown[0]}"` : ''}`
            : `a step has exactly one kind, this one has ${kinds.map((k) => `"${k}"`).join(' and ')}`,
        hint:
          kinds.length > 1
            ? 'split it into separate steps, one per kind, each starting with its own "-"'
            : guess
              ? `did you mean "${guess}"?`
              : `step kinds: ${STEP_KINDS.join(', ')}`,
        file: pos.file,
        line: pos.line,
        col: pos.col,
        flow: flowId,
        step: stepId,
      });
      return;
    }
    const kind = kinds[0] as StepKind;
    const r = STEP_SCHEMAS[kind].safeParse(obj);
    if (!r.success) {
      problems.push(...zodProblems(y, r.error, path, { flow: flowId, step: stepId }));
      return;
    }
    if (explicitId) {
      if (seenIds.has(explicitId)) {
        problems.push({
          severity: 'error',
          code: 'duplicate_step_id',
          message: `step id "${explicitId}" is used twice in flow "${flowId}"`,
          hint: 'step ids must be unique within a flow; rename one',
          file: pos.file,
          line: pos.line,
          col: pos.col,
          flow: flowId,
          step: stepId,
        });
      }
      seenIds.set(explicitId, path);
    }
    const s = r.data as Record<string, unknown>;
    switch (kind) {
      case 'say':
        emit({ ...base, id: stepId, kind: 'say', messages: normalizeMessages(s.say as never, locale(ctx, stepId), [...path, 'say']) });
        break;
      case 'collect':
        emit({
          ...base,
          id: stepId,
          kind: 'collect',
          slot: s.collect as string,
          prompt: s.prompt ? normalizeMessages(s.prompt as never, locale(ctx, stepId), [...path, 'prompt']) : undefined,
          reprompt: s.reprompt ? normalizeMessages(s.reprompt as never, locale(ctx, stepId), [...path, 'reprompt']) : undefined,
          digressions: s.digressions === undefined ? flowDigressions : Boolean(s.digressions),
        });
        break;
      case 'if': {
        const cond = compileExpr(ctx, s.if as string, [...path, 'if'], stepId) ?? ({ kind: 'literal', value: false, offset: 0 } as Expr);
        const b = emit({ ...base, id: stepId, kind: 'branch', source: s.if as string, cond, whenFalse: -1 });
        if (typeof s.then === 'string') {
          const jj = emit({ ...base, id: `${stepId}.then`, kind: 'jump', target: -1 });
          fixups.push({ at: jj, field: 'target', stepId: s.then, path: [...path, 'then'] });
        } else emitList(s.then as unknown[], [...path, 'then']);
        const j = s.else !== undefined ? emit({ ...base, id: `${stepId}.end`, kind: 'jump', target: -1 }) : -1;
        (steps[b] as { whenFalse: number }).whenFalse = steps.length;
        if (typeof s.else === 'string') {
          const je = emit({ ...base, id: `${stepId}.else`, kind: 'jump', target: -1 });
          fixups.push({ at: je, field: 'target', stepId: s.else, path: [...path, 'else'] });
        } else if (Array.isArray(s.else)) emitList(s.else, [...path, 'else']);
        if (j >= 0) (steps[j] as { target: number }).target = steps.length;
        break;
      }
      case 'set':
        emit({ ...base, id: stepId, kind: 'set', assignments: compileValues(ctx, s.set as Record<string, unknown>, [...path, 'set'], stepId) });
        break;
      case 'call': {
        const c = emit({
          ...base,
          id: stepId,
          kind: 'call',
          action: s.call as string,
          args: compileValues(ctx, (s.args as Record<string, unknown>) ?? {}, [...path, 'args'], stepId),
          result: s.result as string | undefined,
          timeoutMs: (s.timeout as number | undefined) ?? 5000,
          onError: -1,
        });
        if (typeof s.onError === 'string') fixups.push({ at: c, field: 'onError', stepId: s.onError, path: [...path, 'onError'] });
        else if (Array.isArray(s.onError)) {
          const j = emit({ ...base, id: `${stepId}.ok`, kind: 'jump', target: -1 });
          (steps[c] as { onError: number }).onError = steps.length;
          emitList(s.onError, [...path, 'onError']);
          (steps[j] as { target: number }).target = steps.length;
        }
        break;
      }
      case 'flow':
        emit({ ...base, id: stepId, kind: 'flow', flow: s.flow as string });
        break;
      case 'goto': {
        const g = emit({ ...base, id: stepId, kind: 'jump', target: -1 });
        fixups.push({ at: g, field: 'target', stepId: s.goto as string, path: [...path, 'goto'] });
        break;
      }
      case 'handoff': {
        const h = s.handoff === true ? {} : (s.handoff as { reason?: string; queue?: string; priority?: number; say?: unknown });
        emit({
          ...base,
          id: stepId,
          kind: 'handoff',
          reason: h.reason ?? 'flow_step',
          queue: h.queue,
          ...(h.priority !== undefined ? { priority: h.priority } : {}),
          messages: h.say ? normalizeMessages(h.say as never, locale(ctx, stepId), [...path, 'handoff', 'say']) : undefined,
        });
        break;
      }
      case 'record':
        emit({ ...base, id: stepId, kind: 'record', event: s.record as string, data: compileValues(ctx, (s.data as Record<string, unknown>) ?? {}, [...path, 'data'], stepId) });
        break;
      case 'end':
        emit({ ...base, id: stepId, kind: 'end', outcome: s.end as never });
        break;
    }
  };

  emitList(raw.steps ?? [], ['steps']);
  emit({ id: '$return', kind: 'return', pos: posAt(y, ['steps']) });

  const stepIndex: Record<string, number> = {};
  steps.forEach((s, i) => {
    if (!(s.id in stepIndex)) stepIndex[s.id] = i;
  });
  for (const f of fixups) {
    const idx = stepIndex[f.stepId];
    if (idx === undefined || f.stepId.startsWith('$')) {
      const pos = posAt(y, f.path);
      const known = [...seenIds.keys()];
      const guess = closest(f.stepId, known);
      problems.push({
        severity: 'error',
        code: 'unknown_step',
        message: `flow "${flowId}" has no step with id "${f.stepId}"`,
        hint: guess ? `did you mean "${guess}"?` : known.length ? `step ids in this flow: ${known.join(', ')}` : 'give the target step an `id:`',
        file: pos.file,
        line: pos.line,
        col: pos.col,
        flow: flowId,
      });
      continue;
    }
    (steps[f.at] as unknown as Record<string, number>)[f.field] = idx;
  }

  const trigger = raw.trigger ?? {};
  const lc = locale(ctx);
  const defaultTitle = flowId.replace(/[_.-]+/g, ' ').replace(/^\w/, (c) => c.toUpperCase());
  const title = raw.title !== undefined ? localizeText(raw.title, ['title'], lc, `the title of flow "${flowId}"`) : { text: defaultTitle };
  const examples = localizeList(trigger.examples, ['trigger', 'examples'], lc, 'default', `the trigger of flow "${flowId}"`, (l) => `customers writing ${languageName(l)} can start it only with a button or keyword`);
  const keywords = localizeList(trigger.keywords, ['trigger', 'keywords'], lc, 'every', 'these keywords');
  const def = lc.languages[0]!;
  const localExamples: NonNullable<Flow['localExamples']> = {};
  for (const [l, list] of Object.entries(examples.local ?? {})) localExamples[l] = { examples: list, pos: list.map((_, i) => posAt(y, examples.pos(l, i))) };
  return {
    id: flowId,
    title: title.text,
    ...(title.local ? { titles: title.local } : {}),
    description: raw.description,
    intent: trigger.intent ?? flowId,
    examples: examples.list,
    keywords: keywords.local ? [] : keywords.list,
    ...(keywords.local || (keywords.list.length && isMap(trigger.keywords)) ? { localKeywords: { ...(keywords.list.length ? { [def]: keywords.list } : {}), ...keywords.local } } : {}),
    payloads: trigger.payloads ?? [],
    examplePos: examples.list.map((_, i) => posAt(y, examples.pos(def, i))),
    ...(Object.keys(localExamples).length ? { localExamples } : {}),
    slots,
    steps,
    stepIndex,
    file: y.file,
    pos: posAt(y, []),
  };
}

function isMap(v: unknown): boolean {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

export type { MessageTemplate };

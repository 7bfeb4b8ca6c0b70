/**
 * Custom actions: TypeScript (or JavaScript) functions exported by a bot's actions module.
 *
 *   export async function lookupOrder(args: { orderId: string }, ctx: ActionContext) { ... }
 *
 * An action gets the `args:` of its `call:` step and a context, and returns a JSON value
 * (stored in `vars.<result>`). A throw, a non-JSON result or a timeout takes the step's
 * `onError:` branch (or offers a person); it never kills the conversation.
 */
import * as path from 'path';
import type { JsonObject, JsonValue } from '../util/json';
import type { Logger } from '../util/logger';

export interface ActionContext {
  conversationId: string;
  /** The time of this turn (ISO 8601), from Baton's clock: use it instead of reading the clock, so tests can fix it. */
  now: string;
  botId: string;
  slots: Readonly<Record<string, JsonValue>>;
  vars: Readonly<Record<string, JsonValue>>;
  profile: Readonly<Record<string, JsonValue>>;
  /** Aborted when the step's timeout passes; pass it to fetch() and friends. */
  signal: AbortSignal;
  log: Logger;
}
export type ActionFn = (args: JsonObject, ctx: ActionContext) => unknown;
export type Actions = Record<string, ActionFn>;

/** An error an action throws to choose the error code reported in events (e.g. 'not_found'). */
export class ActionError extends Error {
  constructor(message: string, readonly code = 'action_error', readonly retryable = false) {
    super(message);
    this.name = 'ActionError';
  }
}

export class ActionTimeoutError extends Error {
  readonly code = 'timeout';
  readonly retryable = true;
  constructor(name: string, ms: number) {
    super(`action "${name}" did not answer within ${ms} ms`);
    this.name = 'ActionTimeoutError';
  }
}

/** Load a bot's actions module (.ts files are compiled on the fly). Only exported functions are actions. */
export function loadActionsModule(file: string | undefined): Actions {
  if (!file) return {};
  const abs = path.resolve(file);
  let mod: Record<string, unknown>;
  try {
    // Works for .js, and for .ts when a TypeScript loader is already registered (tsx, ts-jest).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(abs) as Record<string, unknown>;
  } catch (e) {
    if (!(e instanceof SyntaxError) || !/\.[cm]?ts$/.test(abs)) throw e;
    // Plain Node cannot parse TypeScript: compile it on the fly.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { require: tsRequire } = require('tsx/cjs/api') as { require: (id: string, from: string) => Record<string, unknown> };
    mod = tsRequire(abs, __filename);
  }
  const src = (mod.default && typeof mod.default === 'object' ? { ...(mod.default as object), ...mod } : mod) as Record<string, unknown>;
  const out: Actions = {};
  for (const [k, v] of Object.entries(src)) if (typeof v === 'function' && k !== 'default') out[k] = v as ActionFn;
  return out;
}

/** Run one action with a timeout; always resolves, never throws. */
export async function runAction(
  actions: Actions,
  name: string,
  args: JsonObject,
  timeoutMs: number,
  ctx: Omit<ActionContext, 'signal'>,
): Promise<{ ok: true; value: JsonValue } | { ok: false; error: string; code: string }> {
  const fn = actions[name];
  if (!fn) return { ok: false, error: `no action named "${name}" is loaded`, code: 'unknown_action' };
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      Promise.resolve().then(() => fn(args, { ...ctx, signal: ac.signal })),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          ac.abort();
          reject(new ActionTimeoutError(name, timeoutMs));
        }, timeoutMs);
      }),
    ]);
    const json = value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
    return { ok: true, value: json };
  } catch (e) {
    const err = e as Error & { code?: unknown };
    ctx.log.error('action failed', { conversationId: ctx.conversationId, bot: ctx.botId, action: name, error: err });
    return { ok: false, error: err?.message ?? String(e), code: typeof err?.code === 'string' ? err.code : 'action_error' };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Reading a Meta channel's per-bot settings (`<PREFIX>WHATSAPP_TOKEN`, …) from the environment. */
import type { ChannelConfigProblem, ChannelFactoryDeps } from '../port';

export interface ChannelVars<K extends string> {
  /** Trimmed values; an empty or blank variable counts as unset. */
  values: Partial<Record<K, string>>;
  /** Whether any of the channel's variables is set (none: the channel is off). */
  any: boolean;
  /** The full variable name, e.g. "ACME_WHATSAPP_TOKEN". */
  name(key: K): string;
  /** A problem for every required key that is unset. */
  missing(required: readonly K[], meaning: Partial<Record<K, string>>): ChannelConfigProblem[];
}

export function channelVars<K extends string>(deps: Pick<ChannelFactoryDeps, 'env' | 'prefix'>, keys: readonly K[]): ChannelVars<K> {
  const name = (k: K) => `${deps.prefix}${k}`;
  const values: Partial<Record<K, string>> = {};
  for (const k of keys) {
    const v = deps.env[name(k)]?.trim();
    if (v) values[k] = v;
  }
  return {
    values,
    any: Object.keys(values).length > 0,
    name,
    missing: (required, meaning) =>
      required.filter((k) => values[k] === undefined).map((k) => ({ variable: name(k), message: `is required${meaning[k] ? ` (${meaning[k]})` : ''}` })),
  };
}

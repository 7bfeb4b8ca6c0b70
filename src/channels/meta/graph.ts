/**
 * The Meta Graph API, shared by the WhatsApp Cloud API and Messenger adapters: where it is
 * (`META_GRAPH_API_BASE_URL`, `META_GRAPH_API_VERSION`, global — not per bot, since every bot of a
 * deployment talks to the same Graph API) and how its errors are classified.
 *
 * Graph errors look like `{ "error": { "message", "type", "code", "error_subcode", "fbtrace_id" } }`.
 * `callProvider` already treats 5xx and 429 as retryable; Meta also reports throttling and
 * temporary failures as HTTP 400 with one of the codes in `GRAPH_RETRYABLE_CODES`, which are
 * retried too.
 */
import { callProvider, type ProviderRequest, type ProviderResponse } from '../http-client';
import { DeliveryError, type ChannelConfigProblem } from '../port';

export const DEFAULT_GRAPH_BASE_URL = 'https://graph.facebook.com';
export const DEFAULT_GRAPH_VERSION = 'v21.0';

/**
 * Graph error codes that mean "later", whatever the HTTP status:
 *   1 unknown/temporary API error · 2 service temporarily unavailable · 4 application request limit
 *   · 17 user request limit · 32 page request limit · 613 calls within an hour exceeded
 *   · 80007 WhatsApp Business Account rate limit · 130429 Cloud API throughput limit
 *   · 131048 spam rate limit · 131056 too many messages to the same customer (pair rate limit).
 */
export const GRAPH_RETRYABLE_CODES: ReadonlySet<string> = new Set(['1', '2', '4', '17', '32', '613', '80007', '130429', '131048', '131056']);

export interface GraphSettings {
  /** Without a trailing slash, e.g. "https://graph.facebook.com". */
  baseUrl: string;
  /** e.g. "v21.0". */
  version: string;
}

/** The Graph API location from the (global) environment, with every problem found. */
export function readGraphSettings(env: Record<string, string | undefined>): { settings: GraphSettings; problems: ChannelConfigProblem[] } {
  const problems: ChannelConfigProblem[] = [];
  const rawBase = env.META_GRAPH_API_BASE_URL?.trim() || DEFAULT_GRAPH_BASE_URL;
  const version = env.META_GRAPH_API_VERSION?.trim() || DEFAULT_GRAPH_VERSION;
  let baseUrl = rawBase.replace(/\/+$/, '');
  try {
    const u = new URL(rawBase);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    problems.push({ variable: 'META_GRAPH_API_BASE_URL', message: `"${rawBase}" is not an http(s) URL (default ${DEFAULT_GRAPH_BASE_URL})` });
    baseUrl = DEFAULT_GRAPH_BASE_URL;
  }
  if (!/^v\d+\.\d+$/.test(version)) problems.push({ variable: 'META_GRAPH_API_VERSION', message: `"${version}" is not a Graph API version like ${DEFAULT_GRAPH_VERSION}` });
  return { settings: { baseUrl, version }, problems };
}

/** `{base}/{version}/{path}`; `path` has no leading slash. */
export function graphUrl(g: GraphSettings, path: string, query?: Record<string, string>): string {
  const qs = query ? `?${new URLSearchParams(query).toString()}` : '';
  return `${g.baseUrl}/${g.version}/${path}${qs}`;
}

/**
 * `callProvider` with Graph's throttling codes made retryable. `explain` may replace the error of a
 * known final code with a clearer one (e.g. WhatsApp 131047, outside the 24-hour window).
 */
export async function callGraph(what: string, req: ProviderRequest, explain?: (e: DeliveryError) => DeliveryError | undefined): Promise<ProviderResponse> {
  try {
    return await callProvider(what, req);
  } catch (e) {
    if (!(e instanceof DeliveryError)) throw e;
    if (!e.retryable && e.opts.providerCode && GRAPH_RETRYABLE_CODES.has(e.opts.providerCode))
      throw new DeliveryError(`${e.message} (Graph rate limit or temporary error: retryable)`, true, e.opts);
    throw explain?.(e) ?? e;
  }
}

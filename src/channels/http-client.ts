/**
 * Calls to provider APIs, with failures classified for the gateway's retry policy:
 * network errors, timeouts, 5xx and 429 are retryable (429/503 with their Retry-After);
 * any other non-2xx status is final.
 */
import { DeliveryError } from './port';

export interface ProviderRequest {
  method?: 'POST' | 'GET' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** A JSON body (sent as application/json) … */
  json?: unknown;
  /** … or a form body (application/x-www-form-urlencoded). */
  form?: Record<string, string>;
  /** Default 10 s. */
  timeoutMs?: number;
}

export interface ProviderResponse {
  status: number;
  body: unknown;
}

/** Retry-After as milliseconds: seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const s = value.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Short description of a provider error body for logs and delivery records (never more than 300 characters). */
function describeBody(body: unknown): string {
  if (body === undefined || body === null || body === '') return '';
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

export async function callProvider(what: string, req: ProviderRequest): Promise<ProviderResponse> {
  const headers: Record<string, string> = { Accept: 'application/json', ...req.headers };
  let body: string | undefined;
  if (req.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(req.json);
  } else if (req.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(req.form).toString();
  }
  let res: Response;
  try {
    res = await fetch(req.url, { method: req.method ?? 'POST', headers, body, signal: AbortSignal.timeout(req.timeoutMs ?? 10_000) });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    const reason = err.name === 'TimeoutError' ? 'timed out' : (err.cause?.code ?? err.message);
    throw new DeliveryError(`${what}: request to ${new URL(req.url).host} failed (${reason})`, true);
  }
  const text = await res.text().catch(() => '');
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  if (res.ok) return { status: res.status, body: parsed };
  const retryable = res.status >= 500 || res.status === 429;
  const providerCode = providerErrorCode(parsed);
  throw new DeliveryError(`${what}: HTTP ${res.status}${providerCode ? ` (provider code ${providerCode})` : ''} ${describeBody(parsed)}`.trim(), retryable, {
    status: res.status,
    retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
    providerCode,
  });
}

/** Twilio `{code}`, Meta `{error:{code}}`, Bot Framework `{error:{code}}`. */
function providerErrorCode(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as { code?: unknown; error?: { code?: unknown } };
  const code = b.error && typeof b.error === 'object' ? b.error.code : b.code;
  return code === undefined || code === null ? undefined : String(code);
}

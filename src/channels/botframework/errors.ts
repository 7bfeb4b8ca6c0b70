/**
 * Failures of the Bot Framework connector (the channel's REST API the SDK calls) → DeliveryError,
 * classified for the gateway's retry policy (pure).
 *
 * The connector answers with the HTTP status of the channel behind it; the SDK throws a RestError
 * carrying `statusCode`, the `error.code` of the body as `code`, and the response headers:
 * - 5xx, 429 (throttled) and 412 (Teams: "precondition failed, retry") are retryable, honouring Retry-After;
 * - 401 (the connector refused the bot's token), 403 (the bot is not in the conversation: removed
 *   from the team or chat, or blocked by the user), 404 (the conversation is gone), 413 (too large)
 *   and other 4xx are final;
 * - no status at all is a network failure or timeout: retryable — except Microsoft Entra ID
 *   refusing the bot's credentials while the SDK fetches a token, which no retry fixes.
 */
import { parseRetryAfter } from '../http-client';
import { DeliveryError } from '../port';

interface ConnectorFailure {
  statusCode?: unknown;
  code?: unknown;
  /** MSAL's error code when getting the bot's token failed (e.g. "invalid_client" for a wrong secret). */
  errorCode?: unknown;
  message?: unknown;
  response?: { headers?: { get?(name: string): string | null | undefined } };
}

const EXPLANATIONS: Record<number, string> = {
  401: "the Bot Framework did not accept the bot's token (check MicrosoftAppId, MicrosoftAppPassword, MicrosoftAppType, MicrosoftAppTenantId)",
  403: 'the bot is not in this conversation (removed from the team or chat, or blocked by the user)',
  404: 'the conversation no longer exists',
  413: 'the message is too large for the channel',
};

/** Entra ID (MSAL) errors that mean the bot's credentials or tenant are wrong: final. */
const CREDENTIAL_ERRORS = new Set(['invalid_client', 'unauthorized_client', 'invalid_request', 'invalid_grant', 'invalid_scope']);

function describe(e: ConnectorFailure | null | undefined, fallback: unknown): string {
  const m = typeof e?.message === 'string' && e.message ? e.message : String(fallback);
  return m.length > 300 ? `${m.slice(0, 300)}…` : m;
}

/**
 * The DeliveryError for a failed send. `sent` activities of `total` went out before the failure
 * (a retry resends the whole message; the note tells the agent why a customer may see a part twice).
 */
export function toDeliveryError(e: unknown, sent = 0, total = 1): DeliveryError {
  if (e instanceof DeliveryError) return e;
  const err = (typeof e === 'object' && e !== null ? e : {}) as ConnectorFailure;
  const progress = sent > 0 ? ` (${sent} of ${total} activities had been sent)` : '';
  const detail = describe(err, e);
  const status = typeof err.statusCode === 'number' ? err.statusCode : undefined;

  if (status === undefined) {
    const msal = typeof err.errorCode === 'string' ? err.errorCode : undefined;
    if (msal && CREDENTIAL_ERRORS.has(msal))
      return new DeliveryError(`Bot Framework: Microsoft Entra ID refused the bot's credentials (${msal}): ${detail}${progress}`, false, { providerCode: msal });
    return new DeliveryError(`Bot Framework: request failed (${detail})${progress}`, true);
  }

  const providerCode = typeof err.code === 'string' && err.code ? err.code : undefined;
  const retryable = status >= 500 || status === 429 || status === 412;
  const retryAfter = err.response?.headers?.get?.('retry-after') ?? null;
  const explanation = EXPLANATIONS[status];
  return new DeliveryError(
    `Bot Framework: HTTP ${status}${providerCode ? ` (${providerCode})` : ''}: ${explanation ? `${explanation}; ` : ''}${detail}${progress}`,
    retryable,
    { status, retryAfterMs: parseRetryAfter(retryAfter), ...(providerCode ? { providerCode } : {}) },
  );
}

/**
 * Twilio's request signature (X-Twilio-Signature), as documented in "Secure webhooks":
 *
 *   base64( HMAC-SHA1( authToken, fullUrl + name1 + value1 + name2 + value2 + … ) )
 *
 * where fullUrl is the URL Twilio called, query string included, and the POST parameters are
 * sorted by name (case-sensitive, code-unit order). The parameters are read from the exact body
 * bytes received, never from a body parser that may trim or coerce values.
 *
 * Two details follow Twilio's own helper libraries, because Twilio's back end is not consistent
 * about them: the URL may be signed with or without the scheme's default port (":443"), and for a
 * parameter repeated in the body the libraries sign its distinct values sorted, whereas the
 * documentation's wording gives them in the order received. A signature matching any of these
 * variants is accepted; each still needs the auth token to produce.
 */
import { createHmac, timingSafeEqual } from 'crypto';

export type Params = ReadonlyArray<readonly [string, string]>;

/** How a repeated parameter's values are laid out in the signed string. */
export type RepeatedValues = 'received' | 'sorted';

/** Code-unit order, like a Unix byte sort for the ASCII names Twilio uses. */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The string Twilio signs: the URL followed by every name+value, names sorted. */
export function signedString(url: string, params: Params, repeated: RepeatedValues = 'received'): string {
  const byName = new Map<string, string[]>();
  for (const [name, value] of params) {
    const values = byName.get(name);
    if (values) values.push(value);
    else byName.set(name, [value]);
  }
  let data = url;
  for (const name of [...byName.keys()].sort(byCodeUnit)) {
    const values = byName.get(name)!;
    const laidOut = repeated === 'sorted' ? [...new Set(values)].sort(byCodeUnit) : values;
    for (const value of laidOut) data += name + value;
  }
  return data;
}

/** The signature Twilio sends for a request to `url` with these POST parameters. */
export function twilioSignature(authToken: string, url: string, params: Params, repeated: RepeatedValues = 'received'): string {
  return createHmac('sha1', authToken).update(signedString(url, params, repeated), 'utf8').digest('base64');
}

const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' };

/**
 * The URL as given, plus the same URL with the scheme's default port added (when it has no port)
 * or removed (when it has the default one). Done on the string, so the path and query stay
 * byte-for-byte as received.
 */
export function urlVariants(url: string): string[] {
  const m = /^(https?):\/\/([^/?#:]+)(?::(\d+))?(.*)$/i.exec(url);
  if (!m) return [url];
  const [, scheme, host, port, rest] = m;
  const def = DEFAULT_PORTS[scheme.toLowerCase()];
  if (port === undefined) return [url, `${scheme}://${host}:${def}${rest}`];
  if (port === def) return [url, `${scheme}://${host}${rest}`];
  return [url];
}

/** Constant-time comparison; a length difference is not secret (Twilio's signatures all have 28 characters). */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether `signature` is Twilio's signature of a request to `url` with these POST parameters. */
export function verifyTwilioSignature(authToken: string, signature: string, url: string, params: Params): boolean {
  const hasRepeats = new Set(params.map(([n]) => n)).size !== params.length;
  const layouts: RepeatedValues[] = hasRepeats ? ['received', 'sorted'] : ['received'];
  let ok = false;
  // No early exit: every candidate is computed and compared, whatever matches.
  for (const candidate of urlVariants(url))
    for (const layout of layouts) if (sameText(twilioSignature(authToken, candidate, params, layout), signature)) ok = true;
  return ok;
}

/** The POST parameters of a form-urlencoded body, in the order received. */
export function formParams(body: Buffer | string): Array<[string, string]> {
  return [...new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8')).entries()];
}

/**
 * Reading Twilio's webhooks: incoming messages (keywords, media) and message status callbacks.
 * Pure functions over the form parameters, so each rule is tested on its own.
 */
import type { DeliveryStatusUpdate } from '../port';

/** A form body as received; `get` returns the first value of a name. */
export interface FormParams {
  get(name: string): string | null;
}

export interface IncomingSms {
  /** MessageSid (SmsSid on old accounts): the idempotency key of the turn. */
  messageSid: string;
  /** The customer's number, E.164. */
  from: string;
  body: string;
  /** ProfileName, which Twilio only sends for some senders. */
  name?: string;
  /** Content types of the attached media (MMS), in order. */
  mediaTypes: string[];
}

/** The incoming message, or a sentence saying what is missing. */
export function readIncoming(params: FormParams): IncomingSms | string {
  const messageSid = params.get('MessageSid') || params.get('SmsSid');
  const from = params.get('From');
  if (!messageSid) return 'the webhook has no MessageSid';
  if (!from) return 'the webhook has no From';
  const count = Number.parseInt(params.get('NumMedia') ?? '0', 10);
  const mediaTypes: string[] = [];
  for (let i = 0; i < (Number.isFinite(count) ? Math.min(count, 10) : 0); i++) mediaTypes.push(params.get(`MediaContentType${i}`) ?? '');
  const name = params.get('ProfileName')?.trim();
  return { messageSid, from, body: params.get('Body') ?? '', mediaTypes, ...(name ? { name } : {}) };
}

/** A customer's SMS address: E.164. WhatsApp or RCS senders reaching this webhook ("whatsapp:+1…") are not SMS. */
export function isSmsAddress(from: string): boolean {
  return /^\+[1-9]\d{1,14}$/.test(from);
}

/**
 * What an attachment is, for the transcript. Baton's conversations carry text only, so a photo
 * becomes "[image]": the bot and the agent see that something was sent instead of nothing.
 */
export function mediaLabel(contentType: string): string {
  const major = contentType.split('/')[0]?.trim().toLowerCase();
  if (major === 'image' || major === 'video' || major === 'audio') return `[${major}]`;
  return '[file]';
}

/**
 * The text of an incoming message: its body, then one label per attachment ("[image]") on a new
 * line; only labels for a media-only MMS; empty when there is neither (nothing to answer).
 */
export function incomingText(body: string, mediaTypes: readonly string[]): string {
  const labels = mediaTypes.map(mediaLabel).join(' ');
  if (!labels) return body.trim() ? body : '';
  return body.trim() ? `${body}\n${labels}` : labels;
}

export type Keyword = 'opt-out' | 'opt-in' | 'yes' | 'help';

/**
 * Twilio's default opt-out keywords (CTIA), plus OPTOUT and REVOKE, which Twilio added for the
 * FCC's 2025 revocation rules. Honouring more opt-outs than needed is the safe side.
 */
const OPT_OUT = new Set(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE']);
/** START and UNSTOP always resubscribe; YES only does for a number that opted out (else it answers the bot). */
const OPT_IN = new Set(['START', 'UNSTOP']);
const HELP = new Set(['HELP', 'INFO']);

/**
 * The keyword a message is, if it is one: the whole message, trimmed, in any case. "Stop
 * texting me please" is an ordinary message (as for Twilio and the carriers).
 */
export function classifyKeyword(body: string): Keyword | null {
  const word = body.trim().toUpperCase();
  if (OPT_OUT.has(word)) return 'opt-out';
  if (OPT_IN.has(word)) return 'opt-in';
  if (word === 'YES') return 'yes';
  if (HELP.has(word)) return 'help';
  return null;
}

export interface StatusReport {
  messageSid: string;
  status: string;
  errorCode?: string;
}

/** A status callback's fields, or a sentence saying what is missing. */
export function readStatus(params: FormParams): StatusReport | string {
  const messageSid = params.get('MessageSid') || params.get('SmsSid');
  const status = params.get('MessageStatus') || params.get('SmsStatus');
  if (!messageSid) return 'the status callback has no MessageSid';
  if (!status) return 'the status callback has no MessageStatus';
  const errorCode = params.get('ErrorCode') || undefined;
  return { messageSid, status, ...(errorCode ? { errorCode } : {}) };
}

/**
 * Twilio's MessageStatus as Baton's delivery status; null for states that say nothing about
 * delivery (scheduled, and the receiving/received of inbound messages).
 */
export function mapMessageStatus(status: string): DeliveryStatusUpdate['status'] | null {
  switch (status.toLowerCase()) {
    case 'accepted': // a Messaging Service's "queued"
    case 'queued':
    case 'sending':
    case 'sent':
      return 'sent';
    case 'delivered':
      return 'delivered';
    case 'read':
      return 'read';
    case 'undelivered':
    case 'failed':
    case 'canceled':
      return 'failed';
    default:
      return null;
  }
}

/** The update for the gateway, or null when the status is not about delivery. */
export function statusUpdate(report: StatusReport): DeliveryStatusUpdate | null {
  const status = mapMessageStatus(report.status);
  if (!status) return null;
  const error = status === 'failed' ? (report.errorCode ?? report.status.toLowerCase()) : undefined;
  return { channel: 'twilio', providerMessageId: report.messageSid, status, ...(error ? { error } : {}) };
}

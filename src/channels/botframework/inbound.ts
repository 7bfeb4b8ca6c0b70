/**
 * Inbound Bot Framework activities → Baton (pure).
 *
 * Only `message` activities make a turn; conversationUpdate, typing, messageReaction, invoke, … are
 * acknowledged and ignored. A button press arrives as a message whose `value` carries the payload:
 * Baton's buttons are `messageBack` actions with `value: { payload }` (see outbound.ts).
 */
import type { Activity, ConversationReference } from 'botbuilder';
import { HttpError } from '../../http/errors';
import type { JsonObject } from '../../util/json';
import type { InboundMessage } from '../port';

export const CHANNEL = 'botframework';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/**
 * The request body as an activity. Every activity needs a `type`; a message also needs what Baton
 * keys on and replies to (ids, channel, conversation, service URL). 400 otherwise: the sender made
 * a mistake that a retry does not fix.
 */
export function parseActivity(raw: unknown): Activity {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : '';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
  }
  if (!isObject(body) || !nonEmpty(body.type)) throw new HttpError(400, 'invalid_activity', 'the request body is not a Bot Framework activity (an object with a "type")');
  if (body.type === 'message') {
    const missing = missingMessageFields(body);
    if (missing.length)
      throw new HttpError(400, 'invalid_activity', 'the message activity lacks fields Baton needs', missing.map((path) => ({ path, message: 'required' })));
  }
  return body as unknown as Activity;
}

function missingMessageFields(a: Json): string[] {
  const missing: string[] = [];
  for (const f of ['id', 'channelId', 'serviceUrl'] as const) if (!nonEmpty(a[f])) missing.push(f);
  for (const f of ['from', 'recipient', 'conversation'] as const) if (!isObject(a[f]) || !nonEmpty((a[f] as Json).id)) missing.push(`${f}.id`);
  if (nonEmpty(a.serviceUrl) && !/^https?:\/\//i.test(a.serviceUrl)) missing.push('serviceUrl (an http(s) URL)');
  return missing;
}

/**
 * The pressed button's payload, from the activity's `value`:
 * - `{ payload: "…" }` — Baton's own messageBack buttons (Web Chat, Direct Line, Teams, Emulator);
 * - the same object serialised as a JSON string (Teams passes string values through as strings);
 * - any other string — a postBack/messageBack with a plain string value.
 * Anything else (e.g. an Adaptive Card's form data) carries no Baton payload.
 */
export function readPayload(value: unknown): string | undefined {
  if (isObject(value)) return typeof value.payload === 'string' ? value.payload : undefined;
  if (typeof value !== 'string' || value === '') return undefined;
  if (value.trimStart().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (isObject(parsed)) return typeof parsed.payload === 'string' ? parsed.payload : undefined;
    } catch {
      // not JSON: the string itself is the payload
    }
  }
  return value;
}

/** A conversation reference as stored JSON (undefined members dropped, dates as strings). */
export function referenceToJson(ref: Partial<ConversationReference>): JsonObject {
  return JSON.parse(JSON.stringify(ref)) as JsonObject;
}

/** `channelId:userId` — a user id is only unique within its channel (Teams, Web Chat, …). */
export function addressOf(activity: Pick<Activity, 'channelId' | 'from'>): string {
  return `${activity.channelId}:${activity.from.id}`;
}

/**
 * A message activity, normalised. `text` is the activity's text with the bot's own @mention
 * removed (Teams group chats and channels prefix "<at>Bot</at>"); the activity id is unique only
 * within its conversation, so the provider message id includes channel and conversation.
 */
export function toInboundMessage(activity: Activity, text: string | undefined, reference: JsonObject): InboundMessage {
  const payload = readPayload(activity.value);
  const name = activity.from.name?.trim();
  const trimmed = text?.trim();
  return {
    channel: CHANNEL,
    address: addressOf(activity),
    providerMessageId: `${activity.channelId}:${activity.conversation.id}:${activity.id}`,
    ...(trimmed ? { text: trimmed } : {}),
    ...(payload !== undefined ? { payload } : {}),
    ref: reference,
    ...(name ? { name } : {}),
  };
}

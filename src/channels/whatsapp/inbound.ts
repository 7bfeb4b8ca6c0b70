/**
 * WhatsApp Cloud API webhook payload → events (pure).
 *
 *   { object: 'whatsapp_business_account', entry: [{ id, changes: [{ field: 'messages', value: {
 *       metadata: { phone_number_id }, contacts: [{ wa_id, profile: { name } }],
 *       messages: [{ from, id, timestamp, type, text | interactive | button | image | … }],
 *       statuses: [{ id, status, timestamp, recipient_id, errors? }] } }] }] }
 *
 * Messages come first, in payload order, then statuses. Nothing a customer sends is dropped:
 * kinds Baton cannot read (media, location, contacts, reactions, …) arrive as a bracketed
 * description ("[image] caption") so the conversation shows that something was sent.
 */
import type { DeliveryStatusUpdate, InboundMessage } from '../port';
import type { MetaEvent } from '../meta/webhook';

type Obj = Record<string, unknown>;
const obj = (x: unknown): Obj | undefined => (x && typeof x === 'object' && !Array.isArray(x) ? (x as Obj) : undefined);
const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
const str = (x: unknown): string | undefined => (typeof x === 'string' && x !== '' ? x : typeof x === 'number' ? String(x) : undefined);

/** What a message says, as Baton reads it; null for messages that are not the customer's (system notices). */
export function messageContent(m: Obj): { text?: string; payload?: string } | null {
  const type = str(m.type) ?? 'unknown';
  const part = obj(m[type]) ?? {};
  switch (type) {
    case 'text':
      return { text: str(part.body) ?? '' };
    case 'interactive': {
      const kind = str(part.type);
      const reply = obj(kind ? part[kind] : undefined);
      if ((kind === 'button_reply' || kind === 'list_reply') && reply) {
        const id = str(reply.id);
        const title = str(reply.title);
        return { ...(title ? { text: title } : {}), ...(id ? { payload: id } : {}) };
      }
      return { text: `[${kind ?? 'interactive'}]` };
    }
    case 'button': {
      // A quick-reply button of a template message.
      const text = str(part.text);
      const payload = str(part.payload) ?? text;
      return { ...(text ? { text } : {}), ...(payload ? { payload } : {}) };
    }
    case 'image':
    case 'video':
    case 'sticker':
    case 'audio':
    case 'voice':
      return { text: withCaption(`[${type}]`, str(part.caption)) };
    case 'document': {
      const file = str(part.filename);
      return { text: withCaption(file ? `[document: ${file}]` : '[document]', str(part.caption)) };
    }
    case 'location': {
      const place = [str(part.name), str(part.address)].filter(Boolean).join(', ');
      const at = part.latitude !== undefined && part.longitude !== undefined ? `(${String(part.latitude)}, ${String(part.longitude)})` : '';
      return { text: ['[location]', place, at].filter(Boolean).join(' ') };
    }
    case 'contacts': {
      const names = arr(m.contacts)
        .map((c) => str(obj(obj(c)?.name)?.formatted_name))
        .filter(Boolean);
      return { text: names.length ? `[contact] ${names.join(', ')}` : '[contact]' };
    }
    case 'reaction': {
      const emoji = str(part.emoji);
      return { text: emoji ? `[reaction ${emoji}]` : '[reaction removed]' };
    }
    case 'system':
      return null;
    default:
      return { text: `[${type}]` };
  }
}

function withCaption(label: string, caption: string | undefined): string {
  return caption ? `${label} ${caption}` : label;
}

const STATUSES: Record<string, DeliveryStatusUpdate['status']> = { sent: 'sent', delivered: 'delivered', read: 'read', failed: 'failed' };

/** A Unix-seconds timestamp ("1710000000") as ISO; undefined if unreadable. */
function isoFromUnix(ts: unknown): string | undefined {
  const n = Number(ts);
  return ts !== undefined && Number.isFinite(n) && n > 0 ? new Date(n * 1000).toISOString() : undefined;
}

export function statusEvent(s: Obj): MetaEvent {
  const id = str(s.id);
  const status = STATUSES[str(s.status) ?? ''];
  if (!id || !status) return { kind: 'ignored', reason: `status "${String(s.status)}" for ${id ?? 'no id'}` };
  const err = obj(arr(s.errors)[0]);
  const error = err ? [str(err.code), str(err.title) ?? str(err.message)].filter(Boolean).join(' ') : undefined;
  const at = isoFromUnix(s.timestamp);
  return { kind: 'status', update: { channel: 'whatsapp', providerMessageId: id, status, ...(error ? { error } : {}), ...(at ? { at } : {}) } };
}

export function messageEvent(m: Obj, nameOf: (waId: string) => string | undefined): MetaEvent {
  const from = str(m.from)?.replace(/^\+/, '');
  const id = str(m.id);
  if (!from || !/^\d+$/.test(from) || !id) return { kind: 'ignored', reason: 'message without a numeric "from" or an "id"' };
  const content = messageContent(m);
  if (!content) return { kind: 'ignored', reason: `${String(m.type)} message ${id} (not written by the customer)` };
  const name = nameOf(from);
  const message: InboundMessage = { channel: 'whatsapp', address: `+${from}`, providerMessageId: id, ...content, ...(name ? { name } : {}) };
  return { kind: 'message', message };
}

/**
 * All events of a webhook payload for the business number `phoneNumberId`. Changes for another
 * number of the same WhatsApp Business Account (several numbers can share an app's webhook) are
 * ignored: replies would come from the wrong number.
 */
export function parseWhatsAppWebhook(body: unknown, phoneNumberId: string): MetaEvent[] {
  const b = obj(body);
  if (!b || b.object !== 'whatsapp_business_account') return [{ kind: 'ignored', reason: `object "${String(b?.object)}" is not whatsapp_business_account` }];
  const events: MetaEvent[] = [];
  for (const entry of arr(b.entry)) {
    for (const change of arr(obj(entry)?.changes)) {
      const c = obj(change);
      const value = obj(c?.value);
      if (!c || !value || (c.field !== undefined && c.field !== 'messages')) {
        events.push({ kind: 'ignored', reason: `change field "${String(c?.field)}"` });
        continue;
      }
      const to = str(obj(value.metadata)?.phone_number_id);
      if (to !== undefined && to !== phoneNumberId) {
        events.push({ kind: 'ignored', reason: `change for phone number id ${to}, not ${phoneNumberId}` });
        continue;
      }
      const names = new Map<string, string>();
      for (const contact of arr(value.contacts)) {
        const waId = str(obj(contact)?.wa_id);
        const name = str(obj(obj(contact)?.profile)?.name);
        if (waId && name) names.set(waId, name);
      }
      // A number's wa_id can differ from the number a message is "from" (some countries' formats): with one contact, it is theirs.
      const only = names.size === 1 ? [...names.values()][0] : undefined;
      const nameOf = (waId: string) => names.get(waId) ?? only;
      for (const m of arr(value.messages)) events.push(obj(m) ? messageEvent(obj(m)!, nameOf) : { kind: 'ignored', reason: 'message is not an object' });
      for (const s of arr(value.statuses)) events.push(obj(s) ? statusEvent(obj(s)!) : { kind: 'ignored', reason: 'status is not an object' });
    }
  }
  return events;
}

/**
 * Messenger webhook payload → events (pure).
 *
 *   { object: 'page', entry: [{ id, time, messaging: [{ sender: { id }, recipient: { id }, timestamp,
 *       message | postback | delivery | read | … }] }] }
 *
 * - `message`: the customer's text, a quick reply (`quick_reply.payload`), attachments (described
 *   as "[image]", "[audio]", … since Baton reads text); echoes of the Page's own messages
 *   (`is_echo`) are skipped;
 * - `postback`: a pressed card button or menu item → payload and title;
 * - `delivery`: every listed mid is delivered;
 * - `read`: only a watermark time, not message ids, so it is not mapped (recorded at debug level).
 */
import { createHash } from 'crypto';
import type { InboundMessage } from '../port';
import type { MetaEvent } from '../meta/webhook';

type Obj = Record<string, unknown>;
const obj = (x: unknown): Obj | undefined => (x && typeof x === 'object' && !Array.isArray(x) ? (x as Obj) : undefined);
const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
const str = (x: unknown): string | undefined => (typeof x === 'string' && x !== '' ? x : typeof x === 'number' ? String(x) : undefined);

/**
 * A postback without a mid (older API versions, persistent-menu items) still needs a stable id:
 * a retried webhook repeats sender, timestamp and payload, so their hash is the same.
 */
export function postbackId(sender: string, timestamp: unknown, payload: string): string {
  return `postback-${createHash('sha256').update(`${sender}\n${String(timestamp)}\n${payload}`).digest('hex').slice(0, 32)}`;
}

/** "[image]", "[sticker]", "[link] title url"… for each attachment. */
export function attachmentLabel(a: Obj): string {
  const type = str(a.type) ?? 'attachment';
  const payload = obj(a.payload) ?? {};
  if (type === 'image' && payload.sticker_id !== undefined) return '[sticker]';
  if (type === 'fallback') return ['[link]', str(a.title), str(payload.url) ?? str(a.url)].filter(Boolean).join(' ');
  if (type === 'location') {
    const c = obj(payload.coordinates);
    return c && c.lat !== undefined && c.long !== undefined ? `[location] (${String(c.lat)}, ${String(c.long)})` : '[location]';
  }
  return `[${type}]`;
}

function messageEvent(sender: string, m: Obj): MetaEvent {
  if (m.is_echo === true) return { kind: 'ignored', reason: `echo of the Page's own message ${String(m.mid)}` };
  const mid = str(m.mid);
  if (!mid) return { kind: 'ignored', reason: 'message without a mid' };
  const labels = arr(m.attachments).map((a) => attachmentLabel(obj(a) ?? {}));
  const text = [...labels, str(m.text)].filter(Boolean).join(' ');
  const payload = str(obj(m.quick_reply)?.payload);
  const message: InboundMessage = { channel: 'messenger', address: sender, providerMessageId: mid, ...(text ? { text } : {}), ...(payload ? { payload } : {}) };
  return { kind: 'message', message };
}

function postbackEvent(sender: string, timestamp: unknown, p: Obj): MetaEvent {
  const payload = str(p.payload);
  const title = str(p.title);
  if (!payload && !title) return { kind: 'ignored', reason: 'postback without payload or title' };
  const id = str(p.mid) ?? postbackId(sender, timestamp, payload ?? title!);
  const message: InboundMessage = { channel: 'messenger', address: sender, providerMessageId: id, ...(title ? { text: title } : {}), ...(payload ? { payload } : {}) };
  return { kind: 'message', message };
}

function deliveryEvents(d: Obj): MetaEvent[] {
  const mids = arr(d.mids).map(str).filter((x): x is string => !!x);
  const w = Number(d.watermark);
  const at = Number.isFinite(w) && w > 0 ? new Date(w).toISOString() : undefined;
  if (!mids.length) return [{ kind: 'ignored', reason: 'delivery watermark without mids' }];
  return mids.map((id) => ({ kind: 'status', update: { channel: 'messenger', providerMessageId: id, status: 'delivered', ...(at ? { at } : {}) } }));
}

/** One messaging event → what it asks of Baton. */
export function messagingEvents(ev: Obj): MetaEvent[] {
  const sender = str(obj(ev.sender)?.id);
  if (obj(ev.delivery)) return deliveryEvents(obj(ev.delivery)!);
  if (obj(ev.read)) return [{ kind: 'ignored', reason: 'read watermark (no message ids)' }];
  if (!sender) return [{ kind: 'ignored', reason: 'event without sender.id' }];
  if (obj(ev.message)) return [messageEvent(sender, obj(ev.message)!)];
  if (obj(ev.postback)) return [postbackEvent(sender, ev.timestamp, obj(ev.postback)!)];
  const kind = Object.keys(ev).find((k) => !['sender', 'recipient', 'timestamp'].includes(k));
  return [{ kind: 'ignored', reason: `"${kind ?? 'empty'}" event` }];
}

/** All events of a webhook payload, in payload order. */
export function parseMessengerWebhook(body: unknown): MetaEvent[] {
  const b = obj(body);
  if (!b || b.object !== 'page') return [{ kind: 'ignored', reason: `object "${String(b?.object)}" is not page` }];
  const events: MetaEvent[] = [];
  for (const entry of arr(b.entry)) {
    const e = obj(entry);
    for (const ev of arr(e?.messaging)) events.push(...(obj(ev) ? messagingEvents(obj(ev)!) : [{ kind: 'ignored', reason: 'messaging event is not an object' } as MetaEvent]));
    if (arr(e?.standby).length) events.push({ kind: 'ignored', reason: 'standby events (another app owns the thread)' });
  }
  return events;
}

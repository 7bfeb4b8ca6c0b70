/**
 * What a customer sees of a conversation: its messages, from the event log. One mapping for the
 * REST history, the WebSocket stream and anything else that shows a transcript to a customer.
 *
 * Message events:
 * - `customer_message` `{ text, payload?, clientMessageId? }`
 * - `bot_message` `{ message: OutMessage }`
 * - `agent_message` `{ message: { id?, text, … } | text, agent?: { id?, name? } }` (written by the
 *   agent side; only the agent's display name is shown to the customer)
 */
import type { StoredEvent } from '../store/port';
import type { OutMessage } from '../flow/interpreter';

export const MESSAGE_EVENT_TYPES = ['customer_message', 'bot_message', 'agent_message'];

export interface PublicMessage extends Partial<Omit<OutMessage, 'id' | 'agent'>> {
  /** The event's sequence number: increasing, not contiguous (other events sit between messages). */
  seq: number;
  id: string;
  from: 'customer' | 'bot' | 'agent';
  /** Customer messages: the id the client sent the message with, when it sent one. */
  clientMessageId?: string;
  /** Customer messages: the button payload, when a button was pressed. */
  payload?: string;
  /** Agent messages: who wrote it. */
  agent?: { name: string };
  createdAt: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/** The customer-visible message of an event, or null for events that are not messages. */
export function toPublicMessage(e: StoredEvent): PublicMessage | null {
  const d = e.data as Record<string, unknown>;
  if (e.type === 'customer_message') {
    const m: PublicMessage = { seq: e.seq, id: `m${e.seq}`, from: 'customer', text: str(d.text) ?? '', createdAt: e.at };
    if (str(d.payload)) m.payload = str(d.payload);
    if (str(d.clientMessageId)) m.clientMessageId = str(d.clientMessageId);
    return m;
  }
  if (e.type === 'bot_message') {
    const body = obj(d.message) ?? {};
    return { seq: e.seq, ...body, id: str(body.id) ?? `b${e.seq}`, from: 'bot', createdAt: e.at } as PublicMessage;
  }
  if (e.type === 'agent_message') {
    const body = obj(d.message) ?? (str(d.message) !== undefined ? { text: str(d.message) } : str(d.text) !== undefined ? { text: str(d.text) } : {});
    const name = str(obj(d.agent)?.name);
    const m = { seq: e.seq, ...body, id: str(body.id) ?? `a${e.seq}`, from: 'agent', createdAt: e.at } as PublicMessage;
    delete (m as { agent?: unknown }).agent;
    if (name) m.agent = { name };
    return m;
  }
  return null;
}

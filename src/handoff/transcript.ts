/**
 * What an agent sees of a conversation: every message, notes, and system lines for what happened
 * (handoff, transfers, resolve, hand back). One mapping for the agent API's transcript and the
 * agent stream's `message` frames. Never shown to customers (notes!): the customer side uses
 * realtime/messages.ts.
 */
import type { StoredEvent } from '../store/port';
import type { LastMessage } from './store/port';

export type TranscriptFrom = 'customer' | 'bot' | 'agent' | 'note' | 'system';

export interface TranscriptItem {
  seq: number;
  id: string;
  from: TranscriptFrom;
  text: string;
  createdAt: string;
  agent?: { id: string; name: string };
  quickReplies?: { title: string; payload?: string; url?: string }[];
  citation?: { articleId: string; title: string; url?: string };
}

export const TRANSCRIPT_EVENT_TYPES = [
  'customer_message',
  'bot_message',
  'agent_message',
  'agent_note',
  'handoff',
  'transferred',
  'conversation_resolved',
  'handed_back',
  'csat',
];

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const agentOf = (v: unknown): { id: string; name: string } | undefined => {
  const a = obj(v);
  return typeof a.id === 'string' ? { id: a.id, name: str(a.name) } : undefined;
};

export function toTranscriptItem(e: StoredEvent): TranscriptItem | null {
  const d = e.data as Record<string, unknown>;
  const base = { seq: e.seq, createdAt: e.at };
  const system = (text: string): TranscriptItem => ({ ...base, id: `s${e.seq}`, from: 'system', text });
  switch (e.type) {
    case 'customer_message':
      return { ...base, id: `m${e.seq}`, from: 'customer', text: str(d.text) };
    case 'bot_message': {
      const m = obj(d.message);
      const item: TranscriptItem = { ...base, id: str(m.id) || `b${e.seq}`, from: d.notice ? 'system' : 'bot', text: str(m.text) };
      if (Array.isArray(m.quickReplies)) item.quickReplies = m.quickReplies as TranscriptItem['quickReplies'];
      if (m.citation) item.citation = m.citation as TranscriptItem['citation'];
      return item;
    }
    case 'agent_message': {
      const m = obj(d.message);
      const agent = agentOf(d.agent);
      return { ...base, id: str(m.id) || `a${e.seq}`, from: 'agent', text: str(m.text), ...(agent ? { agent } : {}) };
    }
    case 'agent_note': {
      const agent = agentOf(d.agent);
      return { ...base, id: str(d.id) || `n${e.seq}`, from: 'note', text: str(d.text), ...(agent ? { agent } : {}) };
    }
    case 'handoff':
      return system(`Handed off to a person (${str(d.reason) || 'unknown reason'}) — queue ${str(d.queue)}`);
    case 'transferred': {
      const to = obj(d.to);
      const by = agentOf(d.by);
      const target = to.queue ? `queue ${str(to.queue)}` : (agentOf(to.agent)?.name ?? 'another agent');
      return system(`Transferred to ${target}${by ? ` by ${by.name}` : ''}`);
    }
    case 'conversation_resolved':
      return system(`Resolved${agentOf(d.by) ? ` by ${agentOf(d.by)!.name}` : ''}`);
    case 'handed_back':
      return system(`Handed back to the bot${agentOf(d.by) ? ` by ${agentOf(d.by)!.name}` : ''}${d.flow ? ` (flow ${str(d.flow)})` : ''}`);
    case 'csat':
      return system(`Customer satisfaction: ${String(d.rating ?? '?')}/5`);
    default:
      return null;
  }
}

/** The list view's "last message" of a transcript item. */
export function lastMessageOf(item: TranscriptItem): LastMessage {
  return { seq: item.seq, from: item.from, text: item.text.length > 280 ? `${item.text.slice(0, 279)}…` : item.text, createdAt: item.createdAt };
}

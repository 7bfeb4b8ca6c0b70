/**
 * What the channels keep besides the conversations: which channel address belongs to which
 * verified customer (links), who opted out (SMS STOP), and each outbound message's delivery.
 *
 * Adapters: memory (tests, `memory` database), SQLite (same file as the conversations, tables
 * prefixed `channel_`) and MongoDB (same database, collections `channel_*`). All pass
 * test/channels/store-contract.ts.
 */
import type { Choice } from '../port';

export type DeliveryStatus = 'pending' | 'sent' | 'delivered' | 'read' | 'failed' | 'held' | 'suppressed';

export interface DeliveryRecord {
  conversationId: string;
  /** The seq of the message's event in the conversation (one delivery per message event). */
  seq: number;
  messageId: string;
  channel: string;
  address: string;
  status: DeliveryStatus;
  attempts: number;
  providerMessageIds: string[];
  /** Why it failed (or was suppressed / held). */
  error?: string;
  /** How it was sent, when that matters (template, tag, segments). */
  note?: string;
  /** Choices the channel showed as a numbered list (a reply "2" picks the second). */
  numbered?: Choice[];
  updatedAt: string;
}

export interface ChannelStore {
  /** The verified customer an address was linked to by the business, or null. */
  linkedCustomer(botId: string, channel: string, address: string): Promise<string | null>;
  link(botId: string, channel: string, address: string, customerId: string, at: string): Promise<void>;
  /** Remove a link; true if there was one. */
  unlink(botId: string, channel: string, address: string): Promise<boolean>;
  setOptOut(botId: string, channel: string, address: string, optedOut: boolean, at: string): Promise<void>;
  isOptedOut(botId: string, channel: string, address: string): Promise<boolean>;
  /** Insert or replace the delivery of message event (conversationId, seq). */
  saveDelivery(d: DeliveryRecord): Promise<void>;
  /**
   * A provider's status report, found by one of the provider message ids of a delivery. Status
   * only moves forward (sent → delivered → read; failed is final); returns false for an unknown id.
   */
  updateDeliveryStatus(channel: string, providerMessageId: string, status: 'sent' | 'delivered' | 'read' | 'failed', error: string | undefined, at: string): Promise<boolean>;
  /** The delivery of the conversation's latest delivered (or attempted) message, or null. */
  lastDelivery(conversationId: string): Promise<DeliveryRecord | null>;
  /** Deliveries of a conversation, in seq order (optionally only some statuses). */
  deliveries(conversationId: string, opts?: { statuses?: DeliveryStatus[] }): Promise<DeliveryRecord[]>;
  close(): Promise<void>;
}

const RANK: Record<DeliveryStatus, number> = { pending: 0, held: 1, suppressed: 1, sent: 2, delivered: 3, read: 4, failed: 5 };

/** Whether a provider report may replace the current status (no going back from read to delivered; failed is final). */
export function statusMayMove(from: DeliveryStatus, to: DeliveryStatus): boolean {
  if (from === 'failed') return false;
  if (to === 'failed') return true;
  return RANK[to] > RANK[from];
}

/**
 * MongoDB ChannelStore (mongoose): channel links, opt-outs and delivery records, in the same
 * database as the conversations (collections prefixed `channel_`, like the SQLite tables).
 *
 * Collections and indexes (declared in the schemas below; created and awaited on first use):
 * - `channel_links`        { botId, channel, address, customerId, linkedAt }
 *   unique (botId 1, channel 1, address 1) `channel_links_by_address`: linkedCustomer, link
 *   (upsert), unlink — every query is an equality on the whole key.
 * - `channel_opt_outs`     { botId, channel, address, at }
 *   unique (botId 1, channel 1, address 1) `channel_opt_outs_by_address`: isOptedOut, setOptOut.
 * - `channel_deliveries`   { conversationId, seq, messageId, channel, address, status, attempts,
 *                            providerMessageIds: [string], error, note, numbered (JSON text), updatedAt }
 *   unique (conversationId 1, seq 1) `channel_deliveries_by_conversation_seq`: saveDelivery
 *   (upsert of one message's delivery), lastDelivery (seq descending, limit 1), deliveries (seq
 *   order), and the status update's compare-and-set.
 * - `channel_provider_ids` { channel, providerId, conversationId, seq }
 *   unique (channel 1, providerId 1) `channel_provider_ids_by_id`: a provider's status report finds
 *   its delivery by any of the provider message ids it was sent as (as in SQLite, ids of an earlier
 *   attempt keep resolving after the delivery is replaced, and an id saved again for another
 *   message moves to it).
 *
 * Atomicity without transactions (works on a standalone server as well as on a replica set):
 * - link, unlink, setOptOut, the delivery upsert and the status update are each one
 *   single-document write, so each is atomic on its own; concurrent upserts of one new key that
 *   collide on the unique index (code 11000) are retried once, the retry then updates.
 * - updateDeliveryStatus is a compare-and-set: `updateOne({ conversationId, seq, status: { $in:
 *   <statuses it may move from> } }, { $set: { status, … } })` (see `statusesMovableTo`), so a
 *   status can never move backwards, not even when two reports race (the late one matches nothing).
 * - saveDelivery writes the delivery first, then its provider-id lookups. A provider id therefore
 *   never points at a delivery that does not exist (deliveries are never deleted); a crash between
 *   the two writes leaves a delivery whose reports are not found (updateDeliveryStatus → false, the
 *   same answer as for a report that arrives before saveDelivery is called at all).
 *
 * Strings are stored as they are; `numbered` (choices) is JSON text, like structured values in the
 * conversation store, so it round-trips exactly. Absent optional fields are stored as null and
 * read back as absent.
 */
import { Schema } from 'mongoose';
import type { Connection } from 'mongoose';
import { duplicateKeyIndex } from '../../store/mongo';
import { MongoModels, STORE_SCHEMA_OPTIONS, type MongoUrlTarget } from '../../store/mongo-connection';
import type { Choice } from '../port';
import { statusMayMove, type ChannelStore, type DeliveryRecord, type DeliveryStatus } from './port';

export type MongoChannelStoreOptions = MongoUrlTarget;

// ---------------------------------------------------------------------------------------------
// Documents, schemas, mapping
// ---------------------------------------------------------------------------------------------

export interface ChannelLinkDoc {
  botId: string;
  channel: string;
  address: string;
  customerId: string;
  linkedAt: string;
}

export interface ChannelOptOutDoc {
  botId: string;
  channel: string;
  address: string;
  at: string;
}

export interface DeliveryDoc {
  conversationId: string;
  seq: number;
  messageId: string;
  channel: string;
  address: string;
  status: DeliveryStatus;
  attempts: number;
  providerMessageIds: string[];
  error: string | null;
  note: string | null;
  /** JSON text of the numbered choices, or null. */
  numbered: string | null;
  updatedAt: string;
}

export interface ProviderIdDoc {
  channel: string;
  providerId: string;
  conversationId: string;
  seq: number;
}

export const channelLinkSchema = new Schema(
  {
    botId: { type: String, required: true },
    channel: { type: String, required: true },
    address: { type: String, required: true },
    customerId: { type: String, required: true },
    linkedAt: { type: String, required: true },
  },
  { ...STORE_SCHEMA_OPTIONS, collection: 'channel_links' },
);
channelLinkSchema.index({ botId: 1, channel: 1, address: 1 }, { unique: true, name: 'channel_links_by_address' });

export const channelOptOutSchema = new Schema(
  {
    botId: { type: String, required: true },
    channel: { type: String, required: true },
    address: { type: String, required: true },
    at: { type: String, required: true },
  },
  { ...STORE_SCHEMA_OPTIONS, collection: 'channel_opt_outs' },
);
channelOptOutSchema.index({ botId: 1, channel: 1, address: 1 }, { unique: true, name: 'channel_opt_outs_by_address' });

export const deliverySchema = new Schema(
  {
    conversationId: { type: String, required: true },
    seq: { type: Number, required: true },
    messageId: { type: String, required: true },
    channel: { type: String, required: true },
    address: { type: String, required: true },
    status: { type: String, required: true },
    attempts: { type: Number, required: true },
    providerMessageIds: { type: [String], default: undefined },
    error: { type: String, default: null },
    note: { type: String, default: null },
    numbered: { type: String, default: null },
    updatedAt: { type: String, required: true },
  },
  { ...STORE_SCHEMA_OPTIONS, collection: 'channel_deliveries' },
);
deliverySchema.index({ conversationId: 1, seq: 1 }, { unique: true, name: 'channel_deliveries_by_conversation_seq' });

export const providerIdSchema = new Schema(
  {
    channel: { type: String, required: true },
    providerId: { type: String, required: true },
    conversationId: { type: String, required: true },
    seq: { type: Number, required: true },
  },
  { ...STORE_SCHEMA_OPTIONS, collection: 'channel_provider_ids' },
);
providerIdSchema.index({ channel: 1, providerId: 1 }, { unique: true, name: 'channel_provider_ids_by_id' });

/** Model names on the connection (collections are fixed by the schemas). */
export const CHANNEL_MODEL_NAMES = {
  links: 'BatonChannelLink',
  optOuts: 'BatonChannelOptOut',
  deliveries: 'BatonChannelDelivery',
  providerIds: 'BatonChannelProviderId',
} as const;

const SCHEMAS = {
  links: { model: CHANNEL_MODEL_NAMES.links, schema: channelLinkSchema },
  optOuts: { model: CHANNEL_MODEL_NAMES.optOuts, schema: channelOptOutSchema },
  deliveries: { model: CHANNEL_MODEL_NAMES.deliveries, schema: deliverySchema },
  providerIds: { model: CHANNEL_MODEL_NAMES.providerIds, schema: providerIdSchema },
};

/** The document stored for a delivery record (every field set, absent optional fields as null). */
export function deliveryRecordToDoc(d: DeliveryRecord): DeliveryDoc {
  return {
    conversationId: d.conversationId,
    seq: d.seq,
    messageId: d.messageId,
    channel: d.channel,
    address: d.address,
    status: d.status,
    attempts: d.attempts,
    providerMessageIds: [...d.providerMessageIds],
    error: d.error ?? null,
    note: d.note ?? null,
    numbered: d.numbered ? JSON.stringify(d.numbered) : null,
    updatedAt: d.updatedAt,
  };
}

/** A delivery record from its stored document (null fields become absent; internal fields stay internal). */
export function deliveryDocToRecord(doc: DeliveryDoc): DeliveryRecord {
  return {
    conversationId: doc.conversationId,
    seq: doc.seq,
    messageId: doc.messageId,
    channel: doc.channel,
    address: doc.address,
    status: doc.status,
    attempts: doc.attempts,
    providerMessageIds: [...(doc.providerMessageIds ?? [])],
    ...(doc.error !== null && doc.error !== undefined ? { error: doc.error } : {}),
    ...(doc.note !== null && doc.note !== undefined ? { note: doc.note } : {}),
    ...(doc.numbered !== null && doc.numbered !== undefined ? { numbered: JSON.parse(doc.numbered) as Choice[] } : {}),
    updatedAt: doc.updatedAt,
  };
}

const ALL_STATUSES: DeliveryStatus[] = ['pending', 'held', 'suppressed', 'sent', 'delivered', 'read', 'failed'];

/** The statuses a delivery may be in for a provider report of `to` to apply (the compare-and-set filter). */
export function statusesMovableTo(to: DeliveryStatus): DeliveryStatus[] {
  return ALL_STATUSES.filter((from) => statusMayMove(from, to));
}

/** Run a write again once if it lost a race to insert the same unique key (an upsert collision). */
async function retryOnDuplicate<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (duplicateKeyIndex(err) === null) throw err;
    return write();
  }
}

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

export class MongoChannelStore implements ChannelStore {
  private readonly db: MongoModels<keyof typeof SCHEMAS>;
  private closed = false;

  /**
   * `new MongoChannelStore({ url, dbName?, connectOptions? })` opens its own connection lazily and
   * closes it on close(); `new MongoChannelStore(connection)` uses an open mongoose Connection
   * (e.g. the one shared with MongoStore) and leaves it open on close().
   */
  constructor(target: MongoChannelStoreOptions | Connection) {
    this.db = new MongoModels('MongoChannelStore', target, SCHEMAS);
  }

  /** Database name (when built from a URL). */
  get dbName(): string | undefined {
    return this.db.dbName;
  }

  /** Connect, create the collections and indexes (done on first use anyway; call it to fail fast). */
  async open(): Promise<void> {
    this.assertOpen();
    await this.db.open();
  }

  private async ready() {
    this.assertOpen();
    return this.db.open();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the channel store is closed');
  }

  async linkedCustomer(botId: string, channel: string, address: string): Promise<string | null> {
    const m = await this.ready();
    const doc = (await m.links.findOne({ botId, channel, address }, { _id: 0, customerId: 1 }).lean().exec()) as Pick<ChannelLinkDoc, 'customerId'> | null;
    return doc ? doc.customerId : null;
  }

  async link(botId: string, channel: string, address: string, customerId: string, at: string): Promise<void> {
    const m = await this.ready();
    await retryOnDuplicate(() => m.links.updateOne({ botId, channel, address }, { $set: { customerId, linkedAt: at } }, { upsert: true }).exec());
  }

  async unlink(botId: string, channel: string, address: string): Promise<boolean> {
    const m = await this.ready();
    const res = await m.links.deleteOne({ botId, channel, address }).exec();
    return res.deletedCount > 0;
  }

  async setOptOut(botId: string, channel: string, address: string, optedOut: boolean, at: string): Promise<void> {
    const m = await this.ready();
    if (optedOut) await retryOnDuplicate(() => m.optOuts.updateOne({ botId, channel, address }, { $set: { at } }, { upsert: true }).exec());
    else await m.optOuts.deleteOne({ botId, channel, address }).exec();
  }

  async isOptedOut(botId: string, channel: string, address: string): Promise<boolean> {
    const m = await this.ready();
    return (await m.optOuts.findOne({ botId, channel, address }, { _id: 1 }).lean().exec()) !== null;
  }

  async saveDelivery(d: DeliveryRecord): Promise<void> {
    const m = await this.ready();
    const { conversationId, seq, ...fields } = deliveryRecordToDoc(d);
    // 1. The delivery (insert or replace: every field is set).
    await retryOnDuplicate(() => m.deliveries.updateOne({ conversationId, seq }, { $set: fields }, { upsert: true }).exec());
    // 2. Its provider ids (after the delivery: a lookup never points at a missing delivery).
    const ids = [...new Set(d.providerMessageIds)];
    if (ids.length === 0) return;
    const ops = ids.map((providerId) => ({
      updateOne: { filter: { channel: d.channel, providerId }, update: { $set: { conversationId, seq } }, upsert: true },
    }));
    await retryOnDuplicate(() => m.providerIds.bulkWrite(ops, { ordered: false }));
  }

  async updateDeliveryStatus(channel: string, providerMessageId: string, status: 'sent' | 'delivered' | 'read' | 'failed', error: string | undefined, at: string): Promise<boolean> {
    const m = await this.ready();
    const ref = (await m.providerIds.findOne({ channel, providerId: providerMessageId }, { _id: 0, conversationId: 1, seq: 1 }).lean().exec()) as Pick<ProviderIdDoc, 'conversationId' | 'seq'> | null;
    if (!ref) return false;
    const set: Record<string, unknown> = { status, updatedAt: at };
    if (error !== undefined && error !== null) set.error = error;
    const res = await m.deliveries
      .updateOne({ conversationId: ref.conversationId, seq: ref.seq, status: { $in: statusesMovableTo(status) } }, { $set: set })
      .exec();
    if (res.matchedCount > 0) return true;
    // Not moved (already as far or further, or failed): known if the delivery exists.
    return (await m.deliveries.findOne({ conversationId: ref.conversationId, seq: ref.seq }, { _id: 1 }).lean().exec()) !== null;
  }

  async lastDelivery(conversationId: string): Promise<DeliveryRecord | null> {
    const m = await this.ready();
    const doc = (await m.deliveries.findOne({ conversationId }, { _id: 0 }).sort({ seq: -1 }).lean().exec()) as DeliveryDoc | null;
    return doc ? deliveryDocToRecord(doc) : null;
  }

  async deliveries(conversationId: string, opts: { statuses?: DeliveryStatus[] } = {}): Promise<DeliveryRecord[]> {
    const m = await this.ready();
    const filter: Record<string, unknown> = { conversationId };
    if (opts.statuses) filter.status = { $in: [...opts.statuses] };
    const docs = (await m.deliveries.find(filter, { _id: 0 }).sort({ seq: 1 }).lean().exec()) as unknown as DeliveryDoc[];
    return docs.map(deliveryDocToRecord);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }
}

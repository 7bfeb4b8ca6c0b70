/** In-memory ChannelStore: tests and the `memory` database. Copies in and out, like the other memory stores. */
import { statusMayMove, type ChannelStore, type DeliveryRecord, type DeliveryStatus } from './port';

const key = (...parts: string[]) => parts.join('\u0000');

export class MemoryChannelStore implements ChannelStore {
  private readonly links = new Map<string, string>();
  private readonly optOuts = new Set<string>();
  private readonly byConversation = new Map<string, Map<number, DeliveryRecord>>();
  private readonly byProviderId = new Map<string, { conversationId: string; seq: number }>();

  async linkedCustomer(botId: string, channel: string, address: string): Promise<string | null> {
    return this.links.get(key(botId, channel, address)) ?? null;
  }
  async link(botId: string, channel: string, address: string, customerId: string): Promise<void> {
    this.links.set(key(botId, channel, address), customerId);
  }
  async unlink(botId: string, channel: string, address: string): Promise<boolean> {
    return this.links.delete(key(botId, channel, address));
  }
  async setOptOut(botId: string, channel: string, address: string, optedOut: boolean): Promise<void> {
    if (optedOut) this.optOuts.add(key(botId, channel, address));
    else this.optOuts.delete(key(botId, channel, address));
  }
  async isOptedOut(botId: string, channel: string, address: string): Promise<boolean> {
    return this.optOuts.has(key(botId, channel, address));
  }
  async saveDelivery(d: DeliveryRecord): Promise<void> {
    const copy = structuredClone(d);
    let m = this.byConversation.get(d.conversationId);
    if (!m) this.byConversation.set(d.conversationId, (m = new Map()));
    m.set(d.seq, copy);
    for (const id of d.providerMessageIds) this.byProviderId.set(key(d.channel, id), { conversationId: d.conversationId, seq: d.seq });
  }
  async updateDeliveryStatus(channel: string, providerMessageId: string, status: 'sent' | 'delivered' | 'read' | 'failed', error: string | undefined, at: string): Promise<boolean> {
    const ref = this.byProviderId.get(key(channel, providerMessageId));
    const d = ref && this.byConversation.get(ref.conversationId)?.get(ref.seq);
    if (!d) return false;
    if (statusMayMove(d.status, status)) {
      d.status = status;
      if (error) d.error = error;
      d.updatedAt = at;
    }
    return true;
  }
  async lastDelivery(conversationId: string): Promise<DeliveryRecord | null> {
    const m = this.byConversation.get(conversationId);
    if (!m?.size) return null;
    return structuredClone(m.get(Math.max(...m.keys()))!);
  }
  async deliveries(conversationId: string, opts: { statuses?: DeliveryStatus[] } = {}): Promise<DeliveryRecord[]> {
    const all = [...(this.byConversation.get(conversationId)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
    return structuredClone(opts.statuses ? all.filter((d) => opts.statuses!.includes(d.status)) : all);
  }
  async close(): Promise<void> {}
}

/**
 * Contract suite for ChannelStore adapters: memory, SQLite and MongoDB behave the same.
 * Each adapter's test file calls `channelStoreContract` (see store.test.ts).
 */
import type { ChannelStore, DeliveryRecord } from '../../src/channels/store/port';

export const AT = '2026-03-10T15:00:00.000Z';
export const delivery = (seq: number, extra: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
  conversationId: 'c1',
  seq,
  messageId: `m${seq}`,
  channel: 'twilio',
  address: '+15550001111',
  status: 'sent',
  attempts: 1,
  providerMessageIds: [`SM${seq}`],
  updatedAt: AT,
  ...extra,
});

export function channelStoreContract(name: string, make: () => ChannelStore | Promise<ChannelStore>, cleanup?: () => Promise<void>) {
  describe(`${name} channel store`, () => {
    let s: ChannelStore;
    beforeEach(async () => {
      s = await make();
    });
    afterEach(async () => {
      await s.close();
      await cleanup?.();
    });

    test('links an address to a customer, per bot and channel; relinks; unlinks', async () => {
      expect(await s.linkedCustomer('acme', 'whatsapp', '+1555')).toBeNull();
      await s.link('acme', 'whatsapp', '+1555', 'user-1', AT);
      expect(await s.linkedCustomer('acme', 'whatsapp', '+1555')).toBe('user-1');
      expect(await s.linkedCustomer('acme', 'twilio', '+1555')).toBeNull();
      expect(await s.linkedCustomer('other', 'whatsapp', '+1555')).toBeNull();
      await s.link('acme', 'whatsapp', '+1555', 'user-2', AT);
      expect(await s.linkedCustomer('acme', 'whatsapp', '+1555')).toBe('user-2');
      expect(await s.unlink('acme', 'whatsapp', '+1555')).toBe(true);
      expect(await s.unlink('acme', 'whatsapp', '+1555')).toBe(false);
      expect(await s.linkedCustomer('acme', 'whatsapp', '+1555')).toBeNull();
    });

    test('opt-out on and off', async () => {
      expect(await s.isOptedOut('acme', 'twilio', '+1')).toBe(false);
      await s.setOptOut('acme', 'twilio', '+1', true, AT);
      await s.setOptOut('acme', 'twilio', '+1', true, AT);
      expect(await s.isOptedOut('acme', 'twilio', '+1')).toBe(true);
      expect(await s.isOptedOut('acme', 'whatsapp', '+1')).toBe(false);
      await s.setOptOut('acme', 'twilio', '+1', false, AT);
      expect(await s.isOptedOut('acme', 'twilio', '+1')).toBe(false);
    });

    test('deliveries: saved per message, replaced, listed in order, last one, filtered', async () => {
      await s.saveDelivery(delivery(5, { numbered: [{ title: 'Yes', payload: 'Y' }] }));
      await s.saveDelivery(delivery(3, { status: 'failed', error: 'HTTP 400', providerMessageIds: [] }));
      await s.saveDelivery(delivery(4, { status: 'held', note: 'template' }));
      expect((await s.deliveries('c1')).map((d) => d.seq)).toEqual([3, 4, 5]);
      expect((await s.deliveries('c1', { statuses: ['held', 'failed'] })).map((d) => d.status)).toEqual(['failed', 'held']);
      expect(await s.lastDelivery('c1')).toMatchObject({ seq: 5, numbered: [{ title: 'Yes', payload: 'Y' }] });
      expect(await s.lastDelivery('nope')).toBeNull();
      await s.saveDelivery(delivery(4, { status: 'sent', attempts: 2, providerMessageIds: ['SM4b'] }));
      expect((await s.deliveries('c1'))[1]).toMatchObject({ status: 'sent', attempts: 2, providerMessageIds: ['SM4b'] });
      expect(await s.deliveries('c2')).toEqual([]);
    });

    test('provider status reports move forward only; failed is final; unknown ids are reported', async () => {
      await s.saveDelivery(delivery(1, { providerMessageIds: ['SMa', 'SMb'] }));
      expect(await s.updateDeliveryStatus('twilio', 'SMb', 'delivered', undefined, AT)).toBe(true);
      expect((await s.deliveries('c1'))[0].status).toBe('delivered');
      await s.updateDeliveryStatus('twilio', 'SMa', 'sent', undefined, AT);
      expect((await s.deliveries('c1'))[0].status).toBe('delivered');
      await s.updateDeliveryStatus('twilio', 'SMa', 'failed', '30003 unreachable', AT);
      expect((await s.deliveries('c1'))[0]).toMatchObject({ status: 'failed', error: '30003 unreachable' });
      await s.updateDeliveryStatus('twilio', 'SMa', 'read', undefined, AT);
      expect((await s.deliveries('c1'))[0].status).toBe('failed');
      expect(await s.updateDeliveryStatus('twilio', 'SMzzz', 'delivered', undefined, AT)).toBe(false);
      expect(await s.updateDeliveryStatus('whatsapp', 'SMa', 'delivered', undefined, AT)).toBe(false);
    });

    test('a record comes back as it was saved (optional fields absent when not set), and copies are returned', async () => {
      const full = delivery(7, { status: 'held', error: 'outside 24h', note: 'template hello_v2', numbered: [{ title: 'A' }, { title: 'B', url: 'https://x.example/b' }] });
      await s.saveDelivery(full);
      expect(await s.lastDelivery('c1')).toEqual(full);
      const bare = delivery(8);
      await s.saveDelivery(bare);
      const got = await s.lastDelivery('c1');
      expect(got).toEqual(bare);
      expect(Object.keys(got!).sort()).toEqual(Object.keys(bare).sort());
      got!.providerMessageIds.push('mutated');
      expect((await s.lastDelivery('c1'))!.providerMessageIds).toEqual(['SM8']);
    });

    test('a status report moves the delivery it was sent as, after the delivery was replaced by a retry', async () => {
      await s.saveDelivery(delivery(2, { status: 'pending', providerMessageIds: [] }));
      expect(await s.updateDeliveryStatus('twilio', 'SM2', 'delivered', undefined, AT)).toBe(false);
      await s.saveDelivery(delivery(2, { status: 'sent', attempts: 2, providerMessageIds: ['SM2'] }));
      const later = '2026-03-10T15:01:00.000Z';
      expect(await s.updateDeliveryStatus('twilio', 'SM2', 'read', undefined, later)).toBe(true);
      expect(await s.lastDelivery('c1')).toMatchObject({ seq: 2, status: 'read', attempts: 2, updatedAt: later });
    });
  });
}

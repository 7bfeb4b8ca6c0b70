/** The channel store contract: memory and SQLite behave the same. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ChannelStore, DeliveryRecord } from '../../src/channels/store/port';
import { MemoryChannelStore } from '../../src/channels/store/memory';
import { SqliteChannelStore } from '../../src/channels/store/sqlite';

const AT = '2026-03-10T15:00:00.000Z';
const delivery = (seq: number, extra: Partial<DeliveryRecord> = {}): DeliveryRecord => ({
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

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channel-store-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.each<[string, () => ChannelStore]>([
  ['memory', () => new MemoryChannelStore()],
  ['sqlite', () => new SqliteChannelStore({ filename: path.join(dir, `${Math.random()}.sqlite`) })],
])('%s channel store', (_name, make) => {
  let s: ChannelStore;
  beforeEach(() => (s = make()));
  afterEach(() => s.close());

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
});

test('SQLite keeps everything across reopening the file', async () => {
  const file = path.join(dir, 'reopen.sqlite');
  const a = new SqliteChannelStore({ filename: file });
  await a.link('acme', 'messenger', 'psid-1', 'user-9', AT);
  await a.setOptOut('acme', 'twilio', '+1', true, AT);
  await a.saveDelivery(delivery(1));
  await a.close();
  const b = new SqliteChannelStore({ filename: file });
  expect(await b.linkedCustomer('acme', 'messenger', 'psid-1')).toBe('user-9');
  expect(await b.isOptedOut('acme', 'twilio', '+1')).toBe(true);
  expect(await b.deliveries('c1')).toHaveLength(1);
  await b.close();
});

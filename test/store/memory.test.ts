import { MemoryStore } from '../../src/store';
import { storeContract, t } from './contract';

storeContract('MemoryStore', async () => new MemoryStore());

describe('MemoryStore specifics', () => {
  it('keeps separate instances separate', async () => {
    const a = new MemoryStore();
    const b = new MemoryStore();
    await a.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) });
    expect(await b.load('c1')).toBeNull();
    await b.create({ id: 'c1', botId: 'bot', state: { other: true }, at: t(0) });
    expect((await a.load('c1'))!.state).toEqual({});
  });
});

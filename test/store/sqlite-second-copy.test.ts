/**
 * better-sqlite3's native addon binds the SqliteError class of the first copy of the module loaded
 * in the process. A second copy (jest gives every test file a fresh module registry; bundlers can
 * do the same) must still map constraint errors to the store's errors.
 */
import { t } from './contract';

it('maps constraint errors even when another copy of better-sqlite3 was loaded first', async () => {
  // A first copy opens a database (this initialises the native addon with its SqliteError) …
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const First = require('better-sqlite3') as typeof import('better-sqlite3');
    new First(':memory:').close();
  });
  // … then the store runs on a fresh copy of the module.
  let StoreClass!: typeof import('../../src/store/sqlite').SqliteStore;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    StoreClass = (require('../../src/store/sqlite') as typeof import('../../src/store/sqlite')).SqliteStore;
  });
  const store = new StoreClass({ filename: ':memory:' });
  try {
    await store.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) });
    await expect(store.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) })).rejects.toMatchObject({ code: 'conversation_exists' });
    await store.commit({ id: 'c1', expectedVersion: 1, state: {}, events: [], at: t(1), idempotency: { key: 'k', value: 1 } });
    await expect(
      store.commit({ id: 'c1', expectedVersion: 2, state: {}, events: [], at: t(2), idempotency: { key: 'k', value: 2 } }),
    ).rejects.toMatchObject({ code: 'duplicate_idempotency_key' });
  } finally {
    await store.close();
  }
});

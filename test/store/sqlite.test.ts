import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SQLITE_SCHEMA_VERSION, SqliteStore, StaleVersionError } from '../../src/store';
import { storeContract, t } from './contract';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const STORE_MODULE = path.join(PROJECT_ROOT, 'src', 'store', 'sqlite.ts');

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-store-'));
  tempDirs.push(dir);
  return dir;
}
async function removeTempDirs(): Promise<void> {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

storeContract('SqliteStore (file)', async () => new SqliteStore({ filename: path.join(tempDir(), 'store.db') }), removeTempDirs);
storeContract('SqliteStore (:memory:)', async () => new SqliteStore({ filename: ':memory:' }));

/** The private better-sqlite3 handle, to inspect per-connection pragmas. */
function dbOf(store: SqliteStore): Database.Database {
  return (store as unknown as { db: Database.Database }).db;
}

/** Source of a child process that loads SqliteStore from TypeScript via tsx and runs `body` (async). */
function childScript(vars: Record<string, unknown>, body: string): string {
  return `
    require('tsx/cjs');
    const { SqliteStore } = require(${JSON.stringify(STORE_MODULE)});
    const vars = ${JSON.stringify(vars)};
    (async () => { ${body} })().then(
      (out) => { process.stdout.write(JSON.stringify(out === undefined ? null : out)); },
      (err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); },
    );
  `;
}

describe('SqliteStore specifics', () => {
  afterEach(removeTempDirs);

  it('configures the connection (WAL, synchronous=NORMAL, busy_timeout, foreign keys, schema version)', async () => {
    const file = path.join(tempDir(), 'store.db');
    const store = new SqliteStore({ filename: file });
    try {
      const db = dbOf(store);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
      const tables = db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .pluck()
        .all();
      expect(tables).toEqual(['conversations', 'events', 'idempotency']);
    } finally {
      await store.close();
    }
  });

  it('creates missing parent directories of the database file', async () => {
    const file = path.join(tempDir(), 'a', 'b', 'c', 'store.db');
    const store = new SqliteStore({ filename: file });
    await store.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) });
    await store.close();
    expect(fs.existsSync(file)).toBe(true);
  });

  it('keeps data across close and reopen of the same file (schema created idempotently)', async () => {
    const file = path.join(tempDir(), 'store.db');
    const first = new SqliteStore({ filename: file });
    await first.create({ id: 'c1', botId: 'bot', state: { step: 'start' }, at: t(0), events: [{ type: 'a', at: t(0), data: { x: 1 } }] });
    await first.commit({
      id: 'c1',
      expectedVersion: 1,
      state: { step: 'next' },
      events: [{ type: 'b', at: t(1), data: {} }],
      at: t(1),
      idempotency: { key: 'msg-1', value: { ok: true } },
    });
    await first.close();

    for (let i = 0; i < 2; i++) {
      const again = new SqliteStore({ filename: file });
      expect(await again.load('c1')).toEqual({
        id: 'c1',
        botId: 'bot',
        customerId: null,
        version: 2,
        state: { step: 'next' },
        createdAt: t(0),
        updatedAt: t(1),
      });
      expect((await again.events('c1')).map((e) => [e.seq, e.type])).toEqual([
        [1, 'a'],
        [2, 'b'],
      ]);
      expect(await again.getIdempotent('c1', 'msg-1')).toEqual({ ok: true });
      expect(dbOf(again).pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
      await again.close();
    }
  });

  /** The schema SqliteStore wrote at user_version 1 (before customer ids), verbatim. */
  const SCHEMA_V1 = `
    CREATE TABLE IF NOT EXISTS conversations (
      id          TEXT    NOT NULL PRIMARY KEY,
      bot_id      TEXT    NOT NULL,
      version     INTEGER NOT NULL CHECK (version >= 1),
      state       TEXT    NOT NULL,
      created_at  TEXT    NOT NULL,
      updated_at  TEXT    NOT NULL
    ) STRICT;
    CREATE INDEX IF NOT EXISTS conversations_by_updated
      ON conversations (updated_at DESC, id ASC);
    CREATE INDEX IF NOT EXISTS conversations_by_bot_updated
      ON conversations (bot_id, updated_at DESC, id ASC);
    CREATE TABLE IF NOT EXISTS events (
      conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
      seq             INTEGER NOT NULL CHECK (seq >= 1),
      type            TEXT    NOT NULL,
      at              TEXT    NOT NULL,
      data            TEXT    NOT NULL,
      PRIMARY KEY (conversation_id, seq)
    ) STRICT;
    CREATE TABLE IF NOT EXISTS idempotency (
      conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
      key             TEXT NOT NULL,
      value           TEXT NOT NULL,
      PRIMARY KEY (conversation_id, key)
    ) STRICT;
  `;

  /** A database file as the previous release left it: schema version 1 with some data. */
  function makeV1Database(file: string): void {
    const raw = new Database(file);
    raw.pragma('journal_mode = WAL');
    raw.exec(SCHEMA_V1);
    const conv = raw.prepare('INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?)');
    conv.run('old-1', 'bot-a', 2, JSON.stringify({ step: 'done' }), t(1), t(3));
    conv.run('old-2', 'bot-b', 1, JSON.stringify({}), t(2), t(2));
    raw.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?)').run('old-1', 1, 'message.in', t(1), JSON.stringify({ text: 'hi' }));
    raw.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?)').run('old-1', 2, 'reply', t(3), JSON.stringify({ text: 'hello' }));
    raw.prepare('INSERT INTO idempotency VALUES (?, ?, ?)').run('old-1', 'msg-1', JSON.stringify({ ok: true }));
    raw.pragma('user_version = 1');
    raw.close();
  }

  function indexNames(db: Database.Database): string[] {
    return db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name")
      .pluck()
      .all() as string[];
  }

  function queryPlan(db: Database.Database, sql: string, ...params: unknown[]): string {
    return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join('\n');
  }

  it('migrates a schema-version-1 database in place (customer_id column and index), keeping its data', async () => {
    expect(SQLITE_SCHEMA_VERSION).toBe(2);
    const file = path.join(tempDir(), 'old.db');
    makeV1Database(file);

    const store = new SqliteStore({ filename: file });
    try {
      const db = dbOf(store);
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      const columns = (db.prepare('PRAGMA table_info(conversations)').all() as { name: string; notnull: number }[]).map(
        (c) => [c.name, c.notnull],
      );
      expect(columns).toContainEqual(['customer_id', 0]);
      expect(indexNames(db)).toEqual([
        'conversations_by_bot_updated',
        'conversations_by_customer_updated',
        'conversations_by_updated',
      ]);
      const indexed = (db.prepare("PRAGMA index_xinfo('conversations_by_customer_updated')").all() as { name: string | null; desc: number; key: number }[])
        .filter((c) => c.key === 1)
        .map((c) => [c.name, c.desc]);
      expect(indexed).toEqual([
        ['customer_id', 0],
        ['updated_at', 1],
        ['id', 0],
      ]);

      // Old data is intact and anonymous.
      expect(await store.load('old-1')).toEqual({
        id: 'old-1',
        botId: 'bot-a',
        customerId: null,
        version: 2,
        state: { step: 'done' },
        createdAt: t(1),
        updatedAt: t(3),
      });
      expect((await store.events('old-1')).map((e) => [e.seq, e.type, e.data])).toEqual([
        [1, 'message.in', { text: 'hi' }],
        [2, 'reply', { text: 'hello' }],
      ]);
      expect(await store.getIdempotent('old-1', 'msg-1')).toEqual({ ok: true });
      expect((await store.list()).map((c) => [c.id, c.customerId])).toEqual([
        ['old-1', null],
        ['old-2', null],
      ]);

      // The migrated database works with customers: commits continue the old log.
      await store.create({ id: 'new-1', botId: 'bot-a', customerId: 'cust-1', state: {}, at: t(10) });
      const res = await store.commit({ id: 'old-1', expectedVersion: 2, state: {}, events: [{ type: 'x', at: t(11), data: {} }], at: t(11) });
      expect(res).toMatchObject({ version: 3, events: [{ seq: 3 }] });
      expect((await store.list({ customerId: 'cust-1' })).map((c) => c.id)).toEqual(['new-1']);
      expect((await store.list({ botId: 'bot-a' })).map((c) => c.id)).toEqual(['old-1', 'new-1']);
    } finally {
      await store.close();
    }

    // Reopening does not migrate again.
    const again = new SqliteStore({ filename: file });
    expect(dbOf(again).pragma('user_version', { simple: true })).toBe(2);
    expect((await again.list({ customerId: 'cust-1' })).map((c) => c.id)).toEqual(['new-1']);
    await again.close();
  });

  it('several processes opening a version-1 database at the same time migrate it exactly once', async () => {
    const file = path.join(tempDir(), 'old.db');
    makeV1Database(file);
    const runChild = (i: number) =>
      new Promise<{ i: number; ids: string[] }>((resolve, reject) => {
        const script = childScript(
          { file, i, at: t(10 + i) },
          `
            const store = new SqliteStore({ filename: vars.file });
            await store.create({ id: 'p' + vars.i, botId: 'bot', customerId: 'cust', state: {}, at: vars.at });
            const ids = (await store.list({ customerId: 'cust' })).map((c) => c.id);
            await store.close();
            return { i: vars.i, ids };
          `,
        );
        const proc = spawn(process.execPath, ['-e', script], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        proc.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
        proc.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
        proc.on('error', reject);
        proc.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child ${i} exited ${code}: ${err}`))));
      });
    const results = await Promise.all([0, 1, 2].map(runChild));
    for (const r of results) expect(r.ids).toContain(`p${r.i}`);

    const store = new SqliteStore({ filename: file });
    try {
      expect(dbOf(store).pragma('user_version', { simple: true })).toBe(2);
      expect((await store.list({ customerId: 'cust' })).map((c) => c.id)).toEqual(['p2', 'p1', 'p0']);
      expect((await store.list()).map((c) => c.id)).toEqual(['p2', 'p1', 'p0', 'old-1', 'old-2']);
    } finally {
      await store.close();
    }
  });

  it('lists by customer through the customer index', async () => {
    const store = new SqliteStore({ filename: ':memory:' });
    try {
      const db = dbOf(store);
      const cols = 'id, bot_id, customer_id, version, state, created_at, updated_at';
      const byCustomer = queryPlan(
        db,
        `SELECT ${cols} FROM conversations WHERE customer_id = ? ORDER BY updated_at DESC, id ASC LIMIT ?`,
        'c',
        10,
      );
      expect(byCustomer).toContain('conversations_by_customer_updated');
      expect(byCustomer).not.toMatch(/TEMP B-TREE/);
    } finally {
      await store.close();
    }
  });

  it('refuses to open a database with a newer schema version', async () => {
    const file = path.join(tempDir(), 'store.db');
    await new SqliteStore({ filename: file }).close();
    const raw = new Database(file);
    raw.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => new SqliteStore({ filename: file })).toThrow(/newer than this code supports/);
  });

  it('two instances on one file: a stale commit after the other committed is rejected', async () => {
    const file = path.join(tempDir(), 'store.db');
    const a = new SqliteStore({ filename: file });
    const b = new SqliteStore({ filename: file });
    try {
      await a.create({ id: 'c1', botId: 'bot', state: { by: 'a' }, at: t(0) });
      const seenByB = await b.load('c1');
      expect(seenByB?.version).toBe(1);

      await a.commit({ id: 'c1', expectedVersion: 1, state: { by: 'a' }, events: [{ type: 'from-a', at: t(1), data: {} }], at: t(1) });

      const err = await b
        .commit({ id: 'c1', expectedVersion: seenByB!.version, state: { by: 'b' }, events: [{ type: 'from-b', at: t(2), data: {} }], at: t(2) })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StaleVersionError);
      expect(err).toMatchObject({ expectedVersion: 1, actualVersion: 2 });

      // b reloads and retries: succeeds, and a sees it.
      const fresh = await b.load('c1');
      await b.commit({ id: 'c1', expectedVersion: fresh!.version, state: { by: 'b' }, events: [{ type: 'from-b', at: t(2), data: {} }], at: t(2) });
      expect(await a.load('c1')).toMatchObject({ version: 3, state: { by: 'b' } });
      expect((await a.events('c1')).map((e) => e.type)).toEqual(['from-a', 'from-b']);

      // Creating the same id from both instances: one wins.
      await b.create({ id: 'c2', botId: 'bot', state: {}, at: t(3) });
      await expect(a.create({ id: 'c2', botId: 'bot', state: {}, at: t(3) })).rejects.toMatchObject({ code: 'conversation_exists' });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('two processes: a child process commits, the parent sees it and its stale commit is rejected', async () => {
    const file = path.join(tempDir(), 'store.db');
    const parent = new SqliteStore({ filename: file });
    try {
      await parent.create({ id: 'c1', botId: 'bot', state: { turn: 0 }, at: t(0), events: [{ type: 'started', at: t(0), data: {} }] });
      const loaded = await parent.load('c1');

      const script = childScript(
        { file, at: t(5) },
        `
          const store = new SqliteStore({ filename: vars.file });
          const rec = await store.load('c1');
          const res = await store.commit({
            id: 'c1',
            expectedVersion: rec.version,
            state: { turn: 1, by: 'child', pid: process.pid },
            events: [{ type: 'child.commit', at: vars.at, data: { pid: process.pid } }],
            at: vars.at,
            idempotency: { key: 'child-msg', value: 'handled by child' },
          });
          await store.close();
          return { res, pid: process.pid };
        `,
      );
      const child = spawnSync(process.execPath, ['-e', script], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 30000 });
      expect(child.stderr).toBe('');
      expect(child.status).toBe(0);
      const out = JSON.parse(child.stdout) as { res: { version: number; events: { seq: number }[] }; pid: number };
      expect(out.pid).not.toBe(process.pid);
      expect(out.res.version).toBe(2);
      expect(out.res.events.map((e) => e.seq)).toEqual([2]);

      // The parent still holds its pre-child view and tries to commit on it.
      const err = await parent
        .commit({ id: 'c1', expectedVersion: loaded!.version, state: { turn: 1, by: 'parent' }, events: [{ type: 'parent.commit', at: t(6), data: {} }], at: t(6) })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StaleVersionError);
      expect(err).toMatchObject({ conversationId: 'c1', expectedVersion: 1, actualVersion: 2, retryable: true });

      expect(await parent.load('c1')).toMatchObject({ version: 2, state: { turn: 1, by: 'child', pid: out.pid }, updatedAt: t(5) });
      const events = await parent.events('c1');
      expect(events.map((e) => [e.seq, e.type])).toEqual([
        [1, 'started'],
        [2, 'child.commit'],
      ]);
      expect(events[1].data).toEqual({ pid: out.pid });
      expect(await parent.getIdempotent('c1', 'child-msg')).toBe('handled by child');
    } finally {
      await parent.close();
    }
  });

  describe('several processes racing on one file', () => {
    interface Child {
      ready: Promise<void>;
      done: Promise<unknown>;
      go(): void;
    }

    /** Start a child that opens the store, says "ready", waits for "go" on stdin, then runs `body`. */
    function startChild(vars: Record<string, unknown>, body: string): Child {
      const script = childScript(
        vars,
        `
          const store = new SqliteStore({ filename: vars.file });
          process.stdout.write('ready\\n');
          await new Promise((resolve) => process.stdin.once('data', resolve));
          process.stdin.pause();
          try { ${body} } finally { await store.close(); }
        `,
      );
      const proc = spawn(process.execPath, ['-e', script], { cwd: PROJECT_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let onReady!: () => void;
      const ready = new Promise<void>((resolve) => (onReady = resolve));
      proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.startsWith('ready\n')) onReady();
      });
      proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const done = new Promise<unknown>((resolve, reject) => {
        proc.on('error', reject);
        proc.on('close', (code) => {
          if (code !== 0) return reject(new Error(`child exited with ${code}: ${stderr}`));
          resolve(JSON.parse(stdout.slice('ready\n'.length)));
        });
      });
      return { ready, done, go: () => proc.stdin.end('go\n') };
    }

    async function race(children: Child[]): Promise<unknown[]> {
      await Promise.all(children.map((c) => c.ready));
      for (const c of children) c.go();
      return Promise.all(children.map((c) => c.done));
    }

    it('exactly one of several processes committing the same expectedVersion wins', async () => {
      const file = path.join(tempDir(), 'store.db');
      const parent = new SqliteStore({ filename: file });
      await parent.create({ id: 'c1', botId: 'bot', state: {}, at: t(0) });

      const children = [0, 1, 2, 3].map((i) =>
        startChild(
          { file, i, at: t(1) },
          `
            try {
              await store.commit({ id: 'c1', expectedVersion: 1, state: { winner: vars.i }, events: [{ type: 'won', at: vars.at, data: { i: vars.i } }], at: vars.at });
              return { i: vars.i, ok: true };
            } catch (err) {
              return { i: vars.i, ok: false, code: err.code || String(err) };
            }
          `,
        ),
      );
      const results = (await race(children)) as { i: number; ok: boolean; code?: string }[];
      const winners = results.filter((r) => r.ok);
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => !r.ok).map((r) => r.code)).toEqual(['stale_version', 'stale_version', 'stale_version']);

      expect(await parent.load('c1')).toMatchObject({ version: 2, state: { winner: winners[0].i } });
      expect((await parent.events('c1')).map((e) => [e.seq, e.data.i])).toEqual([[1, winners[0].i]]);
      await parent.close();
    });

    it('no lost updates: processes incrementing a counter with reload-and-retry', async () => {
      const file = path.join(tempDir(), 'store.db');
      const parent = new SqliteStore({ filename: file });
      await parent.create({ id: 'counter', botId: 'bot', state: { count: 0 }, at: t(0) });
      const PROCS = 4;
      const PER_PROC = 50;

      const children = Array.from({ length: PROCS }, (_, i) =>
        startChild(
          { file, i, n: PER_PROC, at: t(1) },
          `
            let stale = 0;
            for (let k = 0; k < vars.n; k++) {
              for (;;) {
                const rec = await store.load('counter');
                try {
                  await store.commit({
                    id: 'counter',
                    expectedVersion: rec.version,
                    state: { count: rec.state.count + 1 },
                    events: [{ type: 'inc', at: vars.at, data: { proc: vars.i, k } }],
                    at: vars.at,
                    idempotency: { key: 'p' + vars.i + '-' + k, value: k },
                  });
                  break;
                } catch (err) {
                  if (err.code !== 'stale_version') throw err;
                  stale++;
                }
              }
            }
            return { i: vars.i, stale };
          `,
        ),
      );
      await race(children);

      const total = PROCS * PER_PROC;
      expect(await parent.load('counter')).toMatchObject({ version: 1 + total, state: { count: total } });
      const events = await parent.events('counter', { limit: 10000 });
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      for (let p = 0; p < PROCS; p++) {
        expect(events.filter((e) => e.data.proc === p).map((e) => e.data.k)).toEqual(Array.from({ length: PER_PROC }, (_, k) => k));
        expect(await parent.getIdempotent('counter', `p${p}-${PER_PROC - 1}`)).toBe(PER_PROC - 1);
      }
      await parent.close();
    });
  });
});

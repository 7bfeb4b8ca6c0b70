/**
 * For stores that keep their own tables in the conversations' SQLite file (handoff, channels):
 * open the file the same way (WAL, a busy timeout so several processes queue on the write lock)
 * and keep a schema version per store in its own meta table, never touching the conversation
 * store's `PRAGMA user_version`.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export function openSqliteFile(filename: string): Database.Database {
  if (filename !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(filename)), { recursive: true });
  const db = new Database(filename, { timeout: 5000 });
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}

/**
 * Run the migrations `metaTable` has not seen yet, in one immediate transaction; `counters` are
 * extra integer keys created at 0 (e.g. a revision counter). A file written by a newer version of
 * the store is refused with an error naming `owner`.
 */
export function migrateTables(db: Database.Database, opts: { metaTable: string; owner: string; migrations: ReadonlyArray<(db: Database.Database) => void>; counters?: string[] }): void {
  const { metaTable: t, migrations } = opts;
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${t} (key TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL) STRICT`);
    const ins = db.prepare(`INSERT OR IGNORE INTO ${t} (key, value) VALUES (?, 0)`);
    for (const k of ['schema', ...(opts.counters ?? [])]) ins.run(k);
    const v = db.prepare(`SELECT value FROM ${t} WHERE key = 'schema'`).pluck().get() as number;
    if (v > migrations.length) throw new Error(`${opts.owner}: schema version ${v} is newer than this code supports (${migrations.length}); upgrade Baton`);
    for (let i = v; i < migrations.length; i++) migrations[i](db);
    db.prepare(`UPDATE ${t} SET value = ? WHERE key = 'schema'`).run(migrations.length);
  }).immediate();
}

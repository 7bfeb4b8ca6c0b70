/**
 * SQLite ChannelStore (better-sqlite3), normally in the same file as the conversations: its own
 * tables (prefixed `channel_`) and schema version (`channel_meta`), WAL, a busy timeout so several
 * processes on one file queue on the write lock.
 */
import type Database from 'better-sqlite3';
import { migrateTables, openSqliteFile } from '../../store/sqlite-tables';
import type { Choice } from '../port';
import { statusMayMove, type ChannelStore, type DeliveryRecord, type DeliveryStatus } from './port';

const MIGRATIONS: ReadonlyArray<(db: Database.Database) => void> = [
  (db) =>
    db.exec(`
      CREATE TABLE IF NOT EXISTS channel_links (
        bot_id TEXT NOT NULL, channel TEXT NOT NULL, address TEXT NOT NULL,
        customer_id TEXT NOT NULL, linked_at TEXT NOT NULL,
        PRIMARY KEY (bot_id, channel, address)
      ) STRICT;
      CREATE TABLE IF NOT EXISTS channel_opt_outs (
        bot_id TEXT NOT NULL, channel TEXT NOT NULL, address TEXT NOT NULL, at TEXT NOT NULL,
        PRIMARY KEY (bot_id, channel, address)
      ) STRICT;
      CREATE TABLE IF NOT EXISTS channel_deliveries (
        conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,
        message_id TEXT NOT NULL, channel TEXT NOT NULL, address TEXT NOT NULL,
        status TEXT NOT NULL, attempts INTEGER NOT NULL, provider_ids TEXT NOT NULL,
        error TEXT, note TEXT, numbered TEXT, updated_at TEXT NOT NULL,
        PRIMARY KEY (conversation_id, seq)
      ) STRICT;
      CREATE TABLE IF NOT EXISTS channel_provider_ids (
        channel TEXT NOT NULL, provider_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (channel, provider_id)
      ) STRICT;
    `),
];

interface Row {
  conversation_id: string;
  seq: number;
  message_id: string;
  channel: string;
  address: string;
  status: string;
  attempts: number;
  provider_ids: string;
  error: string | null;
  note: string | null;
  numbered: string | null;
  updated_at: string;
}

const toRecord = (r: Row): DeliveryRecord => ({
  conversationId: r.conversation_id,
  seq: r.seq,
  messageId: r.message_id,
  channel: r.channel,
  address: r.address,
  status: r.status as DeliveryStatus,
  attempts: r.attempts,
  providerMessageIds: JSON.parse(r.provider_ids) as string[],
  ...(r.error !== null ? { error: r.error } : {}),
  ...(r.note !== null ? { note: r.note } : {}),
  ...(r.numbered !== null ? { numbered: JSON.parse(r.numbered) as Choice[] } : {}),
  updatedAt: r.updated_at,
});

export class SqliteChannelStore implements ChannelStore {
  private readonly db: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();

  constructor(opts: { filename: string }) {
    this.db = openSqliteFile(opts.filename);
    migrateTables(this.db, { metaTable: 'channel_meta', owner: 'SqliteChannelStore', migrations: MIGRATIONS });
  }

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) this.stmts.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  async linkedCustomer(botId: string, channel: string, address: string): Promise<string | null> {
    const v = this.stmt('SELECT customer_id FROM channel_links WHERE bot_id = ? AND channel = ? AND address = ?').pluck().get(botId, channel, address);
    return (v as string | undefined) ?? null;
  }
  async link(botId: string, channel: string, address: string, customerId: string, at: string): Promise<void> {
    this.stmt(
      'INSERT INTO channel_links (bot_id, channel, address, customer_id, linked_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (bot_id, channel, address) DO UPDATE SET customer_id = excluded.customer_id, linked_at = excluded.linked_at',
    ).run(botId, channel, address, customerId, at);
  }
  async unlink(botId: string, channel: string, address: string): Promise<boolean> {
    return this.stmt('DELETE FROM channel_links WHERE bot_id = ? AND channel = ? AND address = ?').run(botId, channel, address).changes > 0;
  }
  async setOptOut(botId: string, channel: string, address: string, optedOut: boolean, at: string): Promise<void> {
    if (optedOut) this.stmt('INSERT OR REPLACE INTO channel_opt_outs (bot_id, channel, address, at) VALUES (?, ?, ?, ?)').run(botId, channel, address, at);
    else this.stmt('DELETE FROM channel_opt_outs WHERE bot_id = ? AND channel = ? AND address = ?').run(botId, channel, address);
  }
  async isOptedOut(botId: string, channel: string, address: string): Promise<boolean> {
    return this.stmt('SELECT 1 FROM channel_opt_outs WHERE bot_id = ? AND channel = ? AND address = ?').pluck().get(botId, channel, address) !== undefined;
  }
  async saveDelivery(d: DeliveryRecord): Promise<void> {
    this.db
      .transaction(() => {
        this.stmt(
          'INSERT OR REPLACE INTO channel_deliveries (conversation_id, seq, message_id, channel, address, status, attempts, provider_ids, error, note, numbered, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        ).run(d.conversationId, d.seq, d.messageId, d.channel, d.address, d.status, d.attempts, JSON.stringify(d.providerMessageIds), d.error ?? null, d.note ?? null, d.numbered ? JSON.stringify(d.numbered) : null, d.updatedAt);
        const ins = this.stmt('INSERT OR REPLACE INTO channel_provider_ids (channel, provider_id, conversation_id, seq) VALUES (?, ?, ?, ?)');
        for (const id of d.providerMessageIds) ins.run(d.channel, id, d.conversationId, d.seq);
      })
      .immediate();
  }
  async updateDeliveryStatus(channel: string, providerMessageId: string, status: 'sent' | 'delivered' | 'read' | 'failed', error: string | undefined, at: string): Promise<boolean> {
    return this.db
      .transaction(() => {
        const row = this.stmt(
          'SELECT d.* FROM channel_provider_ids p JOIN channel_deliveries d ON d.conversation_id = p.conversation_id AND d.seq = p.seq WHERE p.channel = ? AND p.provider_id = ?',
        ).get(channel, providerMessageId) as Row | undefined;
        if (!row) return false;
        if (statusMayMove(row.status as DeliveryStatus, status))
          this.stmt('UPDATE channel_deliveries SET status = ?, error = COALESCE(?, error), updated_at = ? WHERE conversation_id = ? AND seq = ?').run(status, error ?? null, at, row.conversation_id, row.seq);
        return true;
      })
      .immediate();
  }
  async lastDelivery(conversationId: string): Promise<DeliveryRecord | null> {
    const row = this.stmt('SELECT * FROM channel_deliveries WHERE conversation_id = ? ORDER BY seq DESC LIMIT 1').get(conversationId) as Row | undefined;
    return row ? toRecord(row) : null;
  }
  async deliveries(conversationId: string, opts: { statuses?: DeliveryStatus[] } = {}): Promise<DeliveryRecord[]> {
    // The status filter runs in SQL: the gateway asks for held messages on every inbound message.
    const rows = (
      opts.statuses
        ? this.stmt('SELECT * FROM channel_deliveries WHERE conversation_id = ? AND status IN (SELECT value FROM json_each(?)) ORDER BY seq').all(conversationId, JSON.stringify(opts.statuses))
        : this.stmt('SELECT * FROM channel_deliveries WHERE conversation_id = ? ORDER BY seq').all(conversationId)
    ) as Row[];
    return rows.map(toRecord);
  }
  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/**
 * Prep step of the HTTP benchmark: a SQLite file holding `n` stored conversations.
 *
 * One real conversation is made through Baton (welcome, then "hi" with a clientMessageId: 6 events,
 * an idempotency key and an idle state); it is then copied n − 1 times with direct SQL in one
 * transaction, each copy with its own random UUID, its own bot-message ids and its own times
 * (spread over the last 30 days), so the file looks like a production database of n idle
 * conversations: conversation rows, event log, idempotency keys, and the same indexes.
 */
import { randomUUID } from 'crypto';
import Database from 'better-sqlite3';
import { createBaton } from '../src/main';
import { TokenService } from '../src/identity/tokens';
import { silentLogger } from '../src/util/logger';
import type { Target } from './http-common';

export interface Populated {
  conversations: number;
  events: number;
  ms: number;
  fileBytes: number;
  /** A random sample of the conversations, with their customer tokens. */
  sample: Target[];
}

export async function populate(opts: { file: string; n: number; botDir: string; cacheDir: string; secret: string; sample: number }): Promise<Populated> {
  const t0 = performance.now();
  const baton = await createBaton({ botDir: opts.botDir, store: { sqlite: opts.file }, cacheDir: opts.cacheDir, logger: silentLogger });
  const { conversationId: templateId } = await baton.service.create({ channel: 'web' });
  await baton.service.send(templateId, { text: 'hi', clientMessageId: 'prep-hi' });
  const rec = (await baton.store.load(templateId))!;
  const events = await baton.store.events(templateId);
  const idem = await baton.store.getIdempotent(templateId, 'msg:prep-hi');
  const botId = baton.bot.id;
  await baton.close();

  const db = new Database(opts.file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const insConv = db.prepare('INSERT INTO conversations (id, bot_id, customer_id, version, state, created_at, updated_at) VALUES (?, ?, NULL, ?, ?, ?, ?)');
  const insEvent = db.prepare('INSERT INTO events (conversation_id, seq, type, at, data) VALUES (?, ?, ?, ?, ?)');
  const insIdem = db.prepare('INSERT INTO idempotency (conversation_id, key, value) VALUES (?, ?, ?)');
  const ids: string[] = [templateId];
  const stateText = (at: string) => JSON.stringify({ ...rec.state, lastCustomerAt: at });
  const now = Date.now();
  const insertAll = db.transaction(() => {
    for (let i = 1; i < opts.n; i++) {
      const id = randomUUID();
      ids.push(id);
      const base = now - Math.floor(Math.random() * 30 * 86_400_000);
      const created = new Date(base).toISOString();
      const last = new Date(base + 6_000).toISOString();
      insConv.run(id, botId, rec.version, stateText(last), created, last);
      for (const e of events) {
        const at = e.seq <= 2 ? created : last;
        const data = e.type === 'bot_message' ? { message: { ...(e.data.message as object), id: randomUUID() } } : e.data;
        insEvent.run(id, e.seq, e.type, at, JSON.stringify(data));
      }
      if (idem !== undefined) insIdem.run(id, 'msg:prep-hi', JSON.stringify({ acceptedAt: last }));
    }
  });
  insertAll();
  db.pragma('wal_checkpoint(TRUNCATE)');
  const fileBytes = (db.prepare("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").pluck().get() as number) ?? 0;
  db.close();

  const tokens = new TokenService(opts.secret, botId);
  const sample: Target[] = [];
  const picked = new Set<number>();
  while (sample.length < Math.min(opts.sample, ids.length)) {
    const i = Math.floor(Math.random() * ids.length);
    if (picked.has(i)) continue;
    picked.add(i);
    sample.push({ id: ids[i], token: tokens.forConversation(ids[i]) });
  }
  return { conversations: ids.length, events: ids.length * events.length, ms: performance.now() - t0, fileBytes, sample };
}

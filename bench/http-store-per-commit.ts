/**
 * For BENCH_SERVER_PRELOAD: makes SqliteStore write each commit in its own transaction at once, as
 * before group commit (src/store/sqlite.ts), to compare both under the same load:
 *
 *   BENCH_SERVER_PRELOAD=$PWD/bench/http-store-per-commit.ts BENCH_HTTP_ONLY=sat,steady npm run bench:http
 */
import { SqliteStore } from '../src/store/sqlite';
import { prepareCommit, StoreClosedError, type CommitInput, type CommitResult } from '../src/store/port';

interface Internals {
  closed: boolean;
  commitTx(p: ReturnType<typeof prepareCommit>): { version: number; events: { seq: number; type: string; at: string; data: string }[] };
}

SqliteStore.prototype.commit = async function commit(this: SqliteStore, input: CommitInput): Promise<CommitResult> {
  const self = this as unknown as Internals;
  if (self.closed) throw new StoreClosedError();
  const p = prepareCommit(input);
  const { version, events } = self.commitTx(p);
  return { version, events: events.map((r) => ({ seq: r.seq, conversationId: p.id, type: r.type, at: r.at, data: JSON.parse(r.data) })) };
};

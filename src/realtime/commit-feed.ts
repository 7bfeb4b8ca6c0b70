/**
 * The commit feed: an in-process notification "these events were just committed to conversation
 * X". It is fed by wrapping the conversation store (`observeStore`), so every writer in this
 * process that goes through the wrapped store — the turn runner, an agent console, an import —
 * is seen, and only *committed* events are ever announced (commit-then-send).
 *
 * Other processes' commits are not seen here; the real-time hub polls the store for those.
 */
import type { CommitResult, ConversationStore, StoredEvent } from '../store/port';

export type CommitListener = (conversationId: string, events: StoredEvent[]) => void;

export class CommitFeed {
  private readonly listeners = new Set<CommitListener>();

  subscribe(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  publish(conversationId: string, events: StoredEvent[]): void {
    for (const l of this.listeners) {
      try {
        l(conversationId, events);
      } catch {
        // A listener's failure must never undo or fail a commit that already happened.
      }
    }
  }
}

/**
 * The same store, publishing to `feed` after each successful `create` and `commit`. A Proxy, so
 * methods added to the port later pass through untouched.
 */
export function observeStore<S extends ConversationStore>(store: S, feed: CommitFeed): S {
  const wrap =
    (method: 'create' | 'commit') =>
    async (input: { id: string }): Promise<CommitResult> => {
      const result = await (store[method] as (i: unknown) => Promise<CommitResult>).call(store, input);
      feed.publish(input.id, result.events);
      return result;
    };
  const create = wrap('create');
  const commit = wrap('commit');
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'create') return create;
      if (prop === 'commit') return commit;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * Connection handling shared by the MongoDB adapters of the handoff and channel stores
 * (src/handoff/store/mongo.ts, src/channels/store/mongo.ts), following the conversation store's
 * rules (src/store/mongo.ts):
 *
 * - A store is built either from `{ url, dbName?, connectOptions? }` — it opens its own mongoose
 *   connection lazily (on first use) and closes it on close() — or from an open (or opening)
 *   mongoose `Connection` it does not own (close() leaves it open), so all stores of a process can
 *   share one connection pool with the conversation store.
 * - On first use it registers its models on the connection (reusing them when another store on the
 *   same connection already did), creates the collections (a transaction cannot create one on
 *   MongoDB < 4.4) and then the indexes declared in the schemas, and awaits both before any
 *   read or write, so the unique indexes the adapters rely on always exist. A failed open is
 *   retried on the next call (never cached).
 * - Schemas use `autoIndex: false, autoCreate: false` (we create and await them ourselves),
 *   `versionKey: false`, `minimize: false`, `strict: true`.
 */
import type { ClientSession, ConnectOptions, Connection, Schema } from 'mongoose';
import { connectionSupportsTransactions, isConnection, openConnection, resolveMongoTarget, runTransaction, TRANSACTION_OPTIONS, type AnyModel } from './mongo';

export { TRANSACTION_OPTIONS, type AnyModel };

/** `{ url, dbName?, connectOptions? }` (own connection) or an open mongoose Connection (shared). */
export interface MongoUrlTarget {
  /** A MongoDB connection string: mongodb://… or mongodb+srv://… */
  url: string;
  /** Database name; default: the one in the URL path, else "baton". */
  dbName?: string;
  /** Extra options for mongoose's openUri (pool size, timeouts, TLS, …). */
  connectOptions?: ConnectOptions;
}

export const STORE_SCHEMA_OPTIONS = {
  versionKey: false,
  minimize: false,
  autoIndex: false, // created explicitly (and awaited) before the first operation
  autoCreate: false,
  strict: true,
} as const;


/**
 * A set of models (name → schema) on a connection that is opened (or borrowed) lazily.
 * `label` prefixes error messages (e.g. "MongoHandoffStore").
 */
export class MongoModels<K extends string> {
  private conn: Connection | null;
  private readonly ownsConnection: boolean;
  private readonly target: { url: string; dbName: string; connectOptions?: ConnectOptions } | null;
  private models: Record<K, AnyModel> | null = null;
  private opening: Promise<Record<K, AnyModel>> | null = null;
  /** Database name (when built from a URL). */
  readonly dbName: string | undefined;

  constructor(
    private readonly label: string,
    source: MongoUrlTarget | Connection,
    private readonly schemas: Record<K, { model: string; schema: Schema }>,
    /** Stores that need multi-document transactions: the error to throw (before creating anything) on a server without them. */
    private readonly requireTransactions?: () => Error,
  ) {
    if (isConnection(source)) {
      this.conn = source;
      this.ownsConnection = false;
      this.target = null;
    } else {
      if (source === null || typeof source !== 'object') {
        throw new TypeError(`${label}: expected { url, dbName? } or a mongoose Connection`);
      }
      let resolved: { url: string; dbName: string };
      try {
        resolved = resolveMongoTarget(source.url, source.dbName);
      } catch (err) {
        if (err instanceof TypeError) throw new TypeError(err.message.replace(/^MongoStore:/, `${label}:`));
        throw err;
      }
      this.conn = null;
      this.ownsConnection = true;
      this.target = { ...resolved, connectOptions: source.connectOptions };
      this.dbName = resolved.dbName;
    }
  }

  /**
   * Connect (if needed), check for transactions (if required), register the models, create
   * collections and indexes; once (retried after a failure).
   */
  open(): Promise<Record<K, AnyModel>> {
    if (!this.opening) {
      const opening = this.doOpen();
      this.opening = opening;
      opening.catch(() => {
        if (this.opening === opening) this.opening = null;
      });
    }
    return this.opening;
  }

  private async doOpen(): Promise<Record<K, AnyModel>> {
    this.conn = await openConnection(this.conn, this.target!, this.label);
    if (this.requireTransactions && !(await this.supportsTransactions())) throw this.requireTransactions();
    const conn = this.conn;
    const models = {} as Record<K, AnyModel>;
    for (const key of Object.keys(this.schemas) as K[]) {
      const { model, schema } = this.schemas[key];
      models[key] = (conn.models[model] as AnyModel | undefined) ?? conn.model(model, schema);
    }
    for (const m of Object.values<AnyModel>(models)) await m.createCollection();
    for (const m of Object.values<AnyModel>(models)) await m.createIndexes();
    this.models = models;
    return models;
  }

  /** The models (only after open()). */
  get m(): Record<K, AnyModel> {
    if (!this.models) throw new Error(`${this.label}: used before open()`);
    return this.models;
  }

  /** Whether the server has multi-document transactions (replica set or sharded cluster). */
  supportsTransactions(): Promise<boolean> {
    return connectionSupportsTransactions(this.conn);
  }

  /** Run `fn` in a transaction (see runTransaction: `fn` may run more than once). */
  async withTransaction<T>(fn: (session: ClientSession) => Promise<T>): Promise<T> {
    if (!this.conn) throw new Error(`${this.label}: used before open()`);
    return runTransaction(this.conn, fn);
  }

  /** Close the connection if this object opened it (a borrowed one stays open). */
  async close(): Promise<void> {
    const opening = this.opening;
    if (opening) await opening.catch(() => undefined);
    if (this.ownsConnection && this.conn) await this.conn.close();
  }
}

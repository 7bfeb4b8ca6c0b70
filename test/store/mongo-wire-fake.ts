/**
 * A minimal, in-process MongoDB *wire-protocol* fake, only for tests: it lets mongoose and the real
 * MongoDB driver talk to something, so the adapters' glue (queries, options, lean documents,
 * duplicate-key errors, index creation) is exercised without a MongoDB server. It is NOT MongoDB:
 * it implements just the commands and operators the adapters use (insert/find/update (with
 * upsert)/delete/findAndModify/aggregate ($match, $group with $sum, $sort, $skip, $limit,
 * $project)/create/createIndexes/listIndexes/dropDatabase, with equality, $gt/$gte/$lt/$lte/$ne/
 * $in/$nin/$exists, sort, limit, inclusion projections, $set/$inc/$unset/$setOnInsert/$max/$min),
 * unique indexes, and OP_QUERY (handshake) / OP_MSG framing. The real-server contract suites run
 * with MONGODB_URL (test/store/mongo.test.ts, test/handoff/stores.test.ts, test/channels/store.test.ts).
 *
 * By default it answers like a standalone server (no transactions). `new MongoWireFake({ replicaSet:
 * 'rs0' })` answers like the primary of a one-node replica set and runs multi-document
 * transactions, more strictly than MongoDB: one at a time. A transaction's writes are visible only
 * to itself until it commits (other sessions read the state before it; their writes wait until it
 * ends, as MongoDB makes a write wait for a conflicting transaction), and starting a second one
 * while one is open fails with a WriteConflict labelled TransientTransactionError (the driver's
 * withTransaction then runs it again, as after a real conflict). Abort restores the state before it.
 *
 * Listens on 127.0.0.1 on a free port.
 */
import net from 'node:net';
import mongoose from 'mongoose';

const { BSON } = mongoose.mongo;
type Doc = Record<string, unknown>;

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

interface Index {
  name: string;
  key: Record<string, number>;
  unique: boolean;
}
interface Collection {
  docs: Doc[];
  indexes: Index[];
}

function isScalarObject(v: unknown): boolean {
  return v instanceof Date || (v !== null && typeof v === 'object' && '_bsontype' in (v as object));
}

function typeRank(v: unknown): number {
  if (v === undefined || v === null) return 1;
  if (typeof v === 'number') return 2;
  if (typeof v === 'string') return 3;
  if (typeof v === 'boolean') return 8;
  if (v instanceof Date) return 9;
  if (isScalarObject(v)) return 7; // ObjectId & co
  return 5;
}

/** MongoDB-like comparison: by type bracket, then value (strings by UTF-8 bytes). */
function compare(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 1) return 0;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function equal(a: unknown, b: unknown): boolean {
  if ((a === undefined || a === null) && (b === undefined || b === null)) return true;
  return typeRank(a) === typeRank(b) && compare(a, b) === 0;
}

function isOperatorObject(cond: unknown): cond is Record<string, unknown> {
  return cond !== null && typeof cond === 'object' && !Array.isArray(cond) && !isScalarObject(cond) && Object.keys(cond).length > 0 && Object.keys(cond).every((k) => k.startsWith('$'));
}

function matches(doc: Doc, filter: Doc): boolean {
  for (const [field, cond] of Object.entries(filter)) {
    if (field === '$and') {
      if (!(cond as Doc[]).every((f) => matches(doc, f))) return false;
      continue;
    }
    if (field === '$or') {
      if (!(cond as Doc[]).some((f) => matches(doc, f))) return false;
      continue;
    }
    const value = doc[field];
    if (!isOperatorObject(cond)) {
      if (!equal(value, cond)) return false;
      continue;
    }
    for (const [op, arg] of Object.entries(cond)) {
      const sameType = typeRank(value) === typeRank(arg);
      const ok =
        op === '$eq' ? equal(value, arg)
        : op === '$ne' ? !equal(value, arg)
        : op === '$gt' ? sameType && compare(value, arg) > 0
        : op === '$gte' ? sameType && compare(value, arg) >= 0
        : op === '$lt' ? sameType && compare(value, arg) < 0
        : op === '$lte' ? sameType && compare(value, arg) <= 0
        : op === '$in' ? (arg as unknown[]).some((x) => equal(value, x))
        : op === '$nin' ? !(arg as unknown[]).some((x) => equal(value, x))
        : op === '$exists' ? (value !== undefined) === Boolean(arg)
        : (() => {
            throw new Error(`wire fake: unsupported query operator ${op}`);
          })();
      if (!ok) return false;
    }
  }
  return true;
}

function sortDocs(docs: Doc[], sort: Record<string, number> | undefined): Doc[] {
  if (!sort || Object.keys(sort).length === 0) return docs;
  const keys = Object.entries(sort);
  return [...docs].sort((a, b) => {
    for (const [k, dir] of keys) {
      const c = compare(a[k], b[k]);
      if (c !== 0) return dir < 0 ? -c : c;
    }
    return 0;
  });
}

function project(doc: Doc, projection: Record<string, number> | undefined): Doc {
  if (!projection || Object.keys(projection).length === 0) return doc;
  const inclusive = Object.entries(projection).some(([k, v]) => k !== '_id' && v);
  const out: Doc = {};
  if (inclusive) {
    if (projection._id !== 0 && '_id' in doc) out._id = doc._id;
    for (const [k, v] of Object.entries(projection)) if (v && k !== '_id' && k in doc) out[k] = doc[k];
  } else {
    for (const [k, v] of Object.entries(doc)) if (projection[k] !== 0) out[k] = v;
  }
  return out;
}

function applyUpdate(doc: Doc, update: Doc, inserting = false): void {
  for (const [op, fields] of Object.entries(update)) {
    for (const [k, v] of Object.entries(fields as Doc)) {
      if (op === '$set') doc[k] = v;
      else if (op === '$setOnInsert') {
        if (inserting) doc[k] = v;
      } else if (op === '$inc') doc[k] = ((doc[k] as number) ?? 0) + (v as number);
      else if (op === '$max') {
        if (doc[k] === undefined || compare(v, doc[k]) > 0) doc[k] = v;
      } else if (op === '$min') {
        if (doc[k] === undefined || compare(v, doc[k]) < 0) doc[k] = v;
      } else if (op === '$unset') delete doc[k];
      else throw new Error(`wire fake: unsupported update operator ${op}`);
    }
  }
}

function isOperatorUpdate(update: Doc): boolean {
  return Object.keys(update).some((k) => k.startsWith('$'));
}

/** The document an upsert inserts: the filter's equality fields, then the update (or the replacement). */
function upsertDoc(filter: Doc, update: Doc): Doc {
  if (!isOperatorUpdate(update)) return { ...('_id' in filter && !isOperatorObject(filter._id) ? { _id: filter._id } : {}), ...update };
  const doc: Doc = {};
  for (const [k, v] of Object.entries(filter)) if (!k.startsWith('$') && !isOperatorObject(v)) doc[k] = v;
  applyUpdate(doc, update, true);
  return doc;
}

/** `$field` → the document's field; anything else is a constant. */
function evalExpression(doc: Doc, expr: unknown): unknown {
  return typeof expr === 'string' && expr.startsWith('$') ? doc[expr.slice(1)] : expr;
}

function aggregate(docs: Doc[], pipeline: Doc[]): Doc[] {
  let out = docs;
  for (const stage of pipeline) {
    const [name, arg] = Object.entries(stage)[0];
    if (name === '$match') out = out.filter((d) => matches(d, arg as Doc));
    else if (name === '$sort') out = sortDocs(out, arg as Record<string, number>);
    else if (name === '$skip') out = out.slice(Number(arg));
    else if (name === '$limit') out = out.slice(0, Number(arg));
    else if (name === '$project') out = out.map((d) => project(d, arg as Record<string, number>));
    else if (name === '$group') {
      const { _id: idExpr, ...accs } = arg as Doc;
      const groups = new Map<string, Doc>();
      for (const d of out) {
        const id = evalExpression(d, idExpr) ?? null;
        const key = JSON.stringify([typeRank(id), id]);
        let g = groups.get(key);
        if (!g) {
          g = { _id: id };
          for (const field of Object.keys(accs)) g[field] = 0;
          groups.set(key, g);
        }
        for (const [field, acc] of Object.entries(accs)) {
          const [op, expr] = Object.entries(acc as Doc)[0];
          if (op !== '$sum') throw new Error(`wire fake: unsupported accumulator ${op}`);
          const v = evalExpression(d, expr);
          g[field] = (g[field] as number) + (typeof v === 'number' ? v : 0);
        }
      }
      out = [...groups.values()];
    } else throw new Error(`wire fake: unsupported aggregation stage ${name}`);
  }
  return out;
}

type Databases = Map<string, Map<string, Collection>>;

function cloneDatabases(dbs: Databases): Databases {
  return new Map(
    [...dbs].map(([name, colls]) => [
      name,
      new Map(
        [...colls].map(([cname, c]) => [
          cname,
          { docs: c.docs.map((d) => BSON.deserialize(BSON.serialize(d)) as Doc), indexes: c.indexes.map((i) => ({ ...i, key: { ...i.key } })) },
        ]),
      ),
    ]),
  );
}

/** Commands that write (a non-transactional one waits while a transaction is open). */
const WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findandmodify', 'create', 'createindexes', 'dropdatabase', 'drop']);

interface Request {
  socket: net.Socket;
  requestId: number;
  opCode: number;
  flags: number;
  body: Doc;
  db: string;
  connectionId: number;
}

export class MongoWireFake {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private connectionId = 0;
  private address = '';
  readonly databases: Databases = new Map();
  /** Every command received (name and database), for assertions. */
  readonly commands: { name: string; db: string; body: Doc }[] = [];
  /** Replica set name (replica-set mode, with transactions), or null (standalone). */
  readonly replicaSet: string | null;
  /** The open transaction (replica-set mode): its session/txnNumber, and the state before it. */
  private txn: { key: string; before: Databases; lastActivity: number } | null = null;
  private lastCommitted: string | null = null;
  /** Non-transactional writes waiting for the open transaction to end. */
  private waiting: Request[] = [];
  /** While answering a read outside the open transaction: the state it reads (the state before it). */
  private view: Databases | null = null;
  /** How long an open transaction may sit idle before it is aborted (the client died). */
  transactionIdleMs = 5000;
  /** Counters for assertions: transactions committed / aborted / refused with a WriteConflict. */
  readonly stats = { committed: 0, aborted: 0, conflicts: 0 };

  constructor(opts: { replicaSet?: string } = {}) {
    this.replicaSet = opts.replicaSet ?? null;
  }

  async start(): Promise<string> {
    this.server = net.createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as net.AddressInfo;
    this.address = `127.0.0.1:${port}`;
    return `mongodb://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  collection(db: string, name: string, create = true): Collection | undefined {
    const dbs = this.view ?? this.databases;
    let colls = dbs.get(db);
    if (!colls) {
      if (!create) return undefined;
      dbs.set(db, (colls = new Map()));
    }
    let coll = colls.get(name);
    if (!coll && create) {
      coll = { docs: [], indexes: [{ name: '_id_', key: { _id: 1 }, unique: true }] };
      colls.set(name, coll);
    }
    return coll;
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const id = ++this.connectionId;
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        const length = pending.readInt32LE(0);
        const message = pending.subarray(0, length);
        pending = pending.subarray(length);
        this.dispatch(this.parse(message, socket, id));
      }
    });
  }

  private parse(message: Buffer, socket: net.Socket, connectionId: number): Request {
    const requestId = message.readInt32LE(4);
    const opCode = message.readInt32LE(12);
    if (opCode === OP_QUERY) {
      let offset = 20;
      const end = message.indexOf(0, offset);
      const ns = message.toString('utf8', offset, end);
      offset = end + 1 + 8;
      const size = message.readInt32LE(offset);
      let query = BSON.deserialize(message.subarray(offset, offset + size)) as Doc;
      if (query.$query) query = query.$query as Doc;
      return { socket, requestId, opCode, flags: 0, body: query, db: ns.split('.')[0], connectionId };
    }
    if (opCode !== OP_MSG) throw new Error(`wire fake: unsupported opCode ${opCode}`);
    const flags = message.readUInt32LE(16);
    const end = flags & 1 ? message.length - 4 : message.length;
    let offset = 20;
    let body: Doc = {};
    while (offset < end) {
      const kind = message[offset++];
      const size = message.readInt32LE(offset);
      if (kind === 0) {
        body = { ...body, ...(BSON.deserialize(message.subarray(offset, offset + size)) as Doc) };
        offset += size;
      } else {
        const sectionEnd = offset + size;
        let p = offset + 4;
        const idEnd = message.indexOf(0, p);
        const identifier = message.toString('utf8', p, idEnd);
        p = idEnd + 1;
        const docs: Doc[] = [];
        while (p < sectionEnd) {
          const docSize = message.readInt32LE(p);
          docs.push(BSON.deserialize(message.subarray(p, p + docSize)) as Doc);
          p += docSize;
        }
        body[identifier] = docs;
        offset = sectionEnd;
      }
    }
    return { socket, requestId, opCode, flags, body, db: String(body.$db ?? 'admin'), connectionId };
  }

  /** The transaction a command belongs to (session id + txnNumber), or null for a non-transactional one. */
  private static txnKey(body: Doc): string | null {
    if (body.autocommit !== false || !body.lsid) return null;
    const id = (body.lsid as { id?: { toString(enc: string): string } }).id;
    return `${id ? id.toString('hex') : '?'}:${String(body.txnNumber)}`;
  }

  private dispatch(req: Request): void {
    const name = Object.keys(req.body)[0] ?? '';
    const lower = name.toLowerCase();
    if (this.txn && Date.now() - this.txn.lastActivity > this.transactionIdleMs) this.endTransaction(false);
    const key = MongoWireFake.txnKey(req.body);
    if (this.txn && key === null && WRITE_COMMANDS.has(lower)) {
      this.waiting.push(req); // a write outside the transaction waits for it to end
      return;
    }
    this.respond(req, this.execute(req, name, key));
    if (!this.txn && this.waiting.length) {
      const waiting = this.waiting.splice(0);
      for (const w of waiting) this.dispatch(w);
    }
  }

  private execute(req: Request, name: string, key: string | null): Doc {
    const lower = name.toLowerCase();
    const transientError = (code: number, codeName: string, errmsg: string): Doc => ({ ok: 0, code, codeName, errmsg, errorLabels: ['TransientTransactionError'] });
    if (lower === 'committransaction' || lower === 'aborttransaction') {
      this.commands.push({ name, db: req.db, body: req.body });
      if (this.txn && this.txn.key === key) {
        this.endTransaction(lower === 'committransaction');
        return { ok: 1 };
      }
      if (lower === 'aborttransaction' || key === this.lastCommitted) return { ok: 1 };
      return transientError(251, 'NoSuchTransaction', `Transaction ${key} has been aborted.`);
    }
    if (key !== null) {
      if (!this.replicaSet) return { ok: 0, code: 20, codeName: 'IllegalOperation', errmsg: 'Transaction numbers are only allowed on a replica set member or mongos' };
      if (req.body.startTransaction === true) {
        if (this.txn) {
          this.stats.conflicts++;
          this.commands.push({ name, db: req.db, body: req.body });
          return transientError(112, 'WriteConflict', 'WriteConflict error: this operation conflicted with another operation. Please retry your operation or multi-document transaction.');
        }
        this.txn = { key, before: cloneDatabases(this.databases), lastActivity: Date.now() };
      } else if (!this.txn || this.txn.key !== key) {
        this.commands.push({ name, db: req.db, body: req.body });
        return transientError(251, 'NoSuchTransaction', `Transaction ${key} has been aborted.`);
      }
      this.txn.lastActivity = Date.now();
      return this.command(req.body, req.db, req.connectionId);
    }
    // Outside any transaction: while one is open, read the state before it.
    this.view = this.txn ? this.txn.before : null;
    try {
      return this.command(req.body, req.db, req.connectionId);
    } finally {
      this.view = null;
    }
  }

  private endTransaction(commit: boolean): void {
    const txn = this.txn!;
    this.txn = null;
    if (commit) {
      this.lastCommitted = txn.key;
      this.stats.committed++;
    } else {
      this.databases.clear();
      for (const [k, v] of txn.before) this.databases.set(k, v);
      this.stats.aborted++;
    }
  }

  private respond(req: Request, reply: Doc): void {
    if (req.opCode === OP_QUERY) {
      const body = BSON.serialize(reply);
      const header = Buffer.alloc(36);
      header.writeInt32LE(36 + body.length, 0);
      header.writeInt32LE(0, 4);
      header.writeInt32LE(req.requestId, 8);
      header.writeInt32LE(OP_REPLY, 12);
      header.writeInt32LE(0, 16); // responseFlags
      header.writeBigInt64LE(0n, 20); // cursorID
      header.writeInt32LE(0, 28); // startingFrom
      header.writeInt32LE(1, 32); // numberReturned
      req.socket.write(Buffer.concat([header, body]));
      return;
    }
    if (req.flags & 2) return; // moreToCome: no reply
    const payload = BSON.serialize(reply);
    const header = Buffer.alloc(21);
    header.writeInt32LE(21 + payload.length, 0);
    header.writeInt32LE(0, 4);
    header.writeInt32LE(req.requestId, 8);
    header.writeInt32LE(OP_MSG, 12);
    header.writeUInt32LE(0, 16);
    header[20] = 0;
    if (!req.socket.destroyed) req.socket.write(Buffer.concat([header, payload]));
  }

  private command(body: Doc, db: string, connectionId: number): Doc {
    const name = Object.keys(body)[0];
    this.commands.push({ name, db, body });
    try {
      return this.run(name, body, db, connectionId);
    } catch (err) {
      return { ok: 0, errmsg: (err as Error).message, code: 8000, codeName: 'WireFakeError' };
    }
  }

  private run(name: string, body: Doc, db: string, connectionId: number): Doc {
    const collName = String(body[name]);
    switch (name.toLowerCase()) {
      case 'hello':
      case 'ismaster':
        return {
          helloOk: true,
          ismaster: true,
          isWritablePrimary: true,
          maxBsonObjectSize: 16 * 1024 * 1024,
          maxMessageSizeBytes: 48_000_000,
          maxWriteBatchSize: 100_000,
          localTime: new Date(),
          logicalSessionTimeoutMinutes: 30,
          connectionId,
          minWireVersion: 0,
          maxWireVersion: 21,
          readOnly: false,
          ...(this.replicaSet
            ? { setName: this.replicaSet, setVersion: 1, hosts: [this.address], primary: this.address, me: this.address, secondary: false }
            : {}),
          ok: 1,
        };
      case 'ping':
      case 'endsessions':
        return { ok: 1 };
      case 'buildinfo':
        return { version: '7.0.0-wire-fake', versionArray: [7, 0, 0, 0], ok: 1 };
      case 'dropdatabase':
        this.databases.delete(db);
        return { dropped: db, ok: 1 };
      case 'create': {
        if (this.collection(db, collName, false)) {
          return { ok: 0, code: 48, codeName: 'NamespaceExists', errmsg: `Collection ${db}.${collName} already exists.` };
        }
        this.collection(db, collName);
        return { ok: 1 };
      }
      case 'createindexes': {
        const coll = this.collection(db, collName)!;
        const before = coll.indexes.length;
        for (const spec of body.indexes as { key: Record<string, number>; name: string; unique?: boolean }[]) {
          if (!coll.indexes.some((i) => i.name === spec.name)) coll.indexes.push({ name: spec.name, key: { ...spec.key }, unique: Boolean(spec.unique) });
        }
        return { numIndexesBefore: before, numIndexesAfter: coll.indexes.length, createdCollectionAutomatically: false, ok: 1 };
      }
      case 'listindexes': {
        const coll = this.collection(db, collName, false);
        if (!coll) return { ok: 0, code: 26, codeName: 'NamespaceNotFound', errmsg: `ns does not exist: ${db}.${collName}` };
        const batch = coll.indexes.map((i) => ({ v: 2, key: i.key, name: i.name, ...(i.unique && i.name !== '_id_' ? { unique: true } : {}) }));
        return { cursor: { id: BSON.Long.fromNumber(0), ns: `${db}.${collName}`, firstBatch: batch }, ok: 1 };
      }
      case 'insert':
        return this.insert(db, collName, body.documents as Doc[], body.ordered !== false);
      case 'find': {
        const coll = this.collection(db, collName, false);
        let docs = coll ? coll.docs.filter((d) => matches(d, (body.filter as Doc) ?? {})) : [];
        docs = sortDocs(docs, body.sort as Record<string, number> | undefined);
        if (typeof body.skip === 'number') docs = docs.slice(body.skip);
        const limit = Math.abs(Number(body.limit ?? 0));
        if (limit > 0) docs = docs.slice(0, limit);
        const batch = docs.map((d) => project(d, body.projection as Record<string, number> | undefined));
        return { cursor: { id: BSON.Long.fromNumber(0), ns: `${db}.${collName}`, firstBatch: batch }, ok: 1 };
      }
      case 'update': {
        const coll = this.collection(db, collName)!;
        let n = 0;
        let nModified = 0;
        const upserted: Doc[] = [];
        const updates = body.updates as { q: Doc; u: Doc; multi?: boolean; upsert?: boolean }[];
        for (let i = 0; i < updates.length; i++) {
          const u = updates[i];
          const targets = coll.docs.filter((d) => matches(d, u.q));
          if (targets.length === 0 && u.upsert) {
            const doc = upsertDoc(u.q, u.u);
            const res = this.insert(db, collName, [doc], true);
            if (res.writeErrors) {
              const [we] = res.writeErrors as Doc[];
              return { n, nModified, ...(upserted.length ? { upserted } : {}), writeErrors: [{ ...we, index: i }], ok: 1 };
            }
            upserted.push({ index: i, _id: doc._id });
            n++;
            continue;
          }
          for (const doc of u.multi ? targets : targets.slice(0, 1)) {
            const before = BSON.serialize(doc);
            if (isOperatorUpdate(u.u)) applyUpdate(doc, u.u);
            else {
              for (const k of Object.keys(doc)) if (k !== '_id') delete doc[k];
              Object.assign(doc, u.u, { _id: doc._id });
            }
            n++;
            if (!Buffer.from(BSON.serialize(doc)).equals(Buffer.from(before))) nModified++;
          }
        }
        return { n, nModified, ...(upserted.length ? { upserted } : {}), ok: 1 };
      }
      case 'findandmodify': {
        const coll = this.collection(db, collName)!;
        const [target] = sortDocs(coll.docs.filter((d) => matches(d, (body.query as Doc) ?? {})), body.sort as Record<string, number> | undefined);
        const fields = body.fields as Record<string, number> | undefined;
        if (body.remove) {
          if (target) coll.docs = coll.docs.filter((d) => d !== target);
          return { lastErrorObject: { n: target ? 1 : 0 }, value: target ? project(target, fields) : null, ok: 1 };
        }
        const update = body.update as Doc;
        if (!target) {
          if (!body.upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
          const doc = upsertDoc((body.query as Doc) ?? {}, update);
          const res = this.insert(db, collName, [doc], true);
          if (res.writeErrors) {
            const [we] = res.writeErrors as Doc[];
            return { ok: 0, code: we.code, codeName: 'DuplicateKey', errmsg: we.errmsg, keyPattern: we.keyPattern, keyValue: we.keyValue };
          }
          return { lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id }, value: body.new ? project(doc, fields) : null, ok: 1 };
        }
        const before = BSON.deserialize(BSON.serialize(target)) as Doc;
        if (isOperatorUpdate(update)) applyUpdate(target, update);
        else {
          for (const k of Object.keys(target)) if (k !== '_id') delete target[k];
          Object.assign(target, update, { _id: target._id });
        }
        return { lastErrorObject: { n: 1, updatedExisting: true }, value: project(body.new ? target : before, fields), ok: 1 };
      }
      case 'aggregate': {
        const coll = this.collection(db, collName, false);
        const batch = aggregate(coll ? coll.docs : [], (body.pipeline as Doc[]) ?? []);
        return { cursor: { id: BSON.Long.fromNumber(0), ns: `${db}.${collName}`, firstBatch: batch }, ok: 1 };
      }
      case 'delete': {
        const coll = this.collection(db, collName, false);
        let n = 0;
        for (const d of body.deletes as { q: Doc; limit: number }[]) {
          if (!coll) break;
          const targets = coll.docs.filter((doc) => matches(doc, d.q));
          const remove = new Set(d.limit === 1 ? targets.slice(0, 1) : targets);
          coll.docs = coll.docs.filter((doc) => !remove.has(doc));
          n += remove.size;
        }
        return { n, ok: 1 };
      }
      case 'killcursors':
        return { cursorsKilled: [], cursorsNotFound: [], cursorsAlive: [], cursorsUnknown: [], ok: 1 };
      default:
        return { ok: 0, code: 59, codeName: 'CommandNotFound', errmsg: `no such command: '${name}'` };
    }
  }

  private insert(db: string, collName: string, documents: Doc[], ordered: boolean): Doc {
    const coll = this.collection(db, collName)!;
    const writeErrors: Doc[] = [];
    let n = 0;
    // The keys taken in each unique index (built once per command).
    const unique = coll.indexes.filter((ix) => ix.unique);
    const keyOf = (ix: Index, d: Doc) => JSON.stringify(Object.keys(ix.key).map((k) => [typeRank(d[k]), d[k] instanceof Date ? (d[k] as Date).getTime() : String(d[k] ?? null)]));
    const taken = new Map(unique.map((ix) => [ix, new Set(coll.docs.map((d) => keyOf(ix, d)))]));
    for (let i = 0; i < documents.length; i++) {
      const doc = documents[i];
      if (!('_id' in doc)) doc._id = new BSON.ObjectId();
      const clash = unique.find((ix) => taken.get(ix)!.has(keyOf(ix, doc)));
      if (clash) {
        const keyValue = Object.fromEntries(Object.keys(clash.key).map((k) => [k, doc[k] ?? null]));
        writeErrors.push({
          index: i,
          code: 11000,
          errmsg: `E11000 duplicate key error collection: ${db}.${collName} index: ${clash.name} dup key: ${JSON.stringify(keyValue)}`,
          keyPattern: clash.key,
          keyValue,
        });
        if (ordered) break;
        continue;
      }
      coll.docs.push(doc);
      for (const ix of unique) taken.get(ix)!.add(keyOf(ix, doc));
      n++;
    }
    return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
  }
}

/**
 * A minimal, in-process MongoDB *wire-protocol* fake (standalone server, no transactions), only
 * for tests: it lets mongoose and the real MongoDB driver talk to something, so MongooseBackend's
 * glue (queries, options, lean documents, duplicate-key errors, index creation) is exercised
 * without a MongoDB server. It is NOT MongoDB: it implements just the commands and query operators
 * MongoStore uses (insert/find/update/delete/create/createIndexes/listIndexes/dropDatabase, with
 * equality, $gt/$gte/$lt/$lte/$ne/$in, sort, limit, inclusion projections, $set/$inc), unique
 * indexes, and OP_QUERY (handshake) / OP_MSG framing. The real-server contract suite is
 * test/store/mongo.test.ts with MONGODB_URL.
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

function applyUpdate(doc: Doc, update: Doc): void {
  for (const [op, fields] of Object.entries(update)) {
    for (const [k, v] of Object.entries(fields as Doc)) {
      if (op === '$set') doc[k] = v;
      else if (op === '$inc') doc[k] = ((doc[k] as number) ?? 0) + (v as number);
      else if (op === '$unset') delete doc[k];
      else throw new Error(`wire fake: unsupported update operator ${op}`);
    }
  }
}

export class MongoWireFake {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private connectionId = 0;
  readonly databases = new Map<string, Map<string, Collection>>();
  /** Every command received (name and database), for assertions. */
  readonly commands: { name: string; db: string; body: Doc }[] = [];

  async start(): Promise<string> {
    this.server = net.createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as net.AddressInfo;
    return `mongodb://127.0.0.1:${port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  collection(db: string, name: string, create = true): Collection | undefined {
    let colls = this.databases.get(db);
    if (!colls) {
      if (!create) return undefined;
      this.databases.set(db, (colls = new Map()));
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
        const reply = this.handle(message, id);
        if (reply) socket.write(reply);
      }
    });
  }

  private handle(message: Buffer, connectionId: number): Buffer | null {
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
      const reply = this.command(query, ns.split('.')[0], connectionId);
      const body = BSON.serialize(reply);
      const header = Buffer.alloc(36);
      header.writeInt32LE(36 + body.length, 0);
      header.writeInt32LE(0, 4);
      header.writeInt32LE(requestId, 8);
      header.writeInt32LE(OP_REPLY, 12);
      header.writeInt32LE(0, 16); // responseFlags
      header.writeBigInt64LE(0n, 20); // cursorID
      header.writeInt32LE(0, 28); // startingFrom
      header.writeInt32LE(1, 32); // numberReturned
      return Buffer.concat([header, body]);
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
    const reply = this.command(body, String(body.$db ?? 'admin'), connectionId);
    if (flags & 2) return null; // moreToCome: no reply
    const payload = BSON.serialize(reply);
    const header = Buffer.alloc(21);
    header.writeInt32LE(21 + payload.length, 0);
    header.writeInt32LE(0, 4);
    header.writeInt32LE(requestId, 8);
    header.writeInt32LE(OP_MSG, 12);
    header.writeUInt32LE(0, 16);
    header[20] = 0;
    return Buffer.concat([header, payload]);
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
        const coll = this.collection(db, collName);
        let n = 0;
        let nModified = 0;
        for (const u of body.updates as { q: Doc; u: Doc; multi?: boolean; upsert?: boolean }[]) {
          if (u.upsert) throw new Error('wire fake: upsert not supported');
          const targets = coll!.docs.filter((d) => matches(d, u.q));
          for (const doc of u.multi ? targets : targets.slice(0, 1)) {
            const before = BSON.serialize(doc);
            applyUpdate(doc, u.u);
            n++;
            if (!Buffer.from(BSON.serialize(doc)).equals(Buffer.from(before))) nModified++;
          }
        }
        return { n, nModified, ok: 1 };
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

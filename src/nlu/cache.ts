import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { IntentMatcher, TrainingCorpus, TrainProgress } from './port';

/**
 * On-disk cache of trained intent models, keyed by a hash of the training data and of the matcher
 * (name + version), so a bot restarts without retraining unless its corpus or the algorithm changed.
 *
 * Files: `<cacheDir>/model-<first 16 hex of the hash>.json`, written atomically (temp file + rename).
 * The cache is an optimisation: an unreadable, corrupt or unwritable cache only costs a retrain
 * (and a warning through `log`), never a crash. The 3 most recently used model files are kept (per
 * language: a bot with several languages has one model per language, see `keep`).
 */

const CACHE_FORMAT = 'baton.nlu-model-cache';
const KEEP_MODELS = 3;
const MODEL_FILE_RE = /^model-[0-9a-f]{16}\.json$/;
const TEMP_FILE_RE = /^model-[0-9a-f]{16}\.json\.[0-9a-z.]+\.tmp$/;
/** Temp files older than this are leftovers of a crashed write. */
const STALE_TEMP_MS = 10 * 60 * 1000;

interface CacheFile {
  format: typeof CACHE_FORMAT;
  hash: string;
  matcher: string;
  version: string;
  language: string;
  createdAt: string;
  trainMs: number;
  model: string;
  /** What `LoadOrTrainOptions.meta` computed after training (e.g. the decision threshold). */
  meta?: unknown;
}

/**
 * sha256 (hex) of a canonical JSON of the corpus: intents sorted by name, each intent's examples
 * kept in their order, plus the matcher's name and version (so a new algorithm invalidates caches).
 */
export function corpusHash(corpus: TrainingCorpus, matcherName: string, matcherVersion: string): string {
  const intents = [...corpus.intents]
    .map((i) => ({ intent: String(i.intent), examples: (i.examples ?? []).map(String) }))
    .sort((a, b) => (a.intent < b.intent ? -1 : a.intent > b.intent ? 1 : 0));
  // Explicit key order: JSON.stringify follows insertion order.
  const canonical = JSON.stringify({
    matcher: String(matcherName),
    version: String(matcherVersion),
    language: String(corpus.language),
    intents: intents.map((i) => ({ intent: i.intent, examples: i.examples })),
  });
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

export interface LoadOrTrainOptions {
  corpus: TrainingCorpus;
  matcher: IntentMatcher;
  cacheDir: string;
  /** Part of the cache key. Defaults to matcher.version, or "0" when the matcher has none. */
  version?: string;
  onProgress?: (p: TrainProgress) => void;
  log?: (msg: string) => void;
  /**
   * Computed once after training, before the model is exported (so it may adjust the matcher, e.g.
   * set its threshold), and stored next to the model: a cache hit returns the stored value without
   * calling it. Must be JSON-serialisable. Whatever it depends on besides the corpus must be part
   * of `version`. A cached model without meta is retrained when meta is asked for.
   */
  meta?: (matcher: IntentMatcher) => Promise<unknown> | unknown;
  /** Checks stored meta read back from the cache; a cache entry whose meta fails it is retrained. */
  isMeta?: (meta: unknown) => boolean;
  /**
   * How many model files to keep in `cacheDir` (the most recently used; default 3). A bot with
   * several languages keeps one model per language in the same folder: pass 3 × its languages.
   */
  keep?: number;
}

export interface LoadOrTrainResult {
  matcher: IntentMatcher;
  hash: string;
  fromCache: boolean;
  /** Milliseconds spent making the matcher ready: training, or loading the cached model when fromCache. */
  trainMs: number;
  /** The model file for this corpus (it may not exist if the cache directory is not writable). */
  file: string;
  /** The value of `LoadOrTrainOptions.meta` (stored with the model); undefined without it. */
  meta?: unknown;
}

function errMsg(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Returns `matcher` ready to classify `corpus`: its model is imported from the cache when one
 * exists for the same corpus + matcher version, else it is trained and the model cached.
 */
export async function loadOrTrain(opts: LoadOrTrainOptions): Promise<LoadOrTrainResult> {
  const { corpus, matcher, cacheDir } = opts;
  const log = opts.log ?? ((): void => {});
  const version = opts.version ?? matcher.version ?? '0';
  const hash = corpusHash(corpus, matcher.name, version);
  const file = path.join(cacheDir, `model-${hash.slice(0, 16)}.json`);

  const loadStarted = Date.now();
  const cached = await readCache(file, hash, log);
  if (cached !== undefined && opts.meta && (cached.meta === undefined || (opts.isMeta && !opts.isMeta(cached.meta)))) {
    log(`nlu: warning: model cache ${file} has no usable stored settings (meta); retraining`);
  } else if (cached !== undefined) {
    try {
      matcher.importModel(cached.model);
      // A model that imports but cannot classify is as good as corrupt.
      await matcher.classify('hello');
      const trainMs = Date.now() - loadStarted;
      await touch(file);
      log(`nlu: loaded ${matcher.name} model from cache ${file} (${trainMs} ms)`);
      await prune(cacheDir, file, log, opts.keep);
      return { matcher, hash, fromCache: true, trainMs, file, ...(opts.meta ? { meta: cached.meta } : {}) };
    } catch (err) {
      log(`nlu: warning: ignoring unusable model cache ${file} (${errMsg(err)}); retraining`);
    }
  }

  const started = Date.now();
  await matcher.train(corpus, opts.onProgress ? { onProgress: opts.onProgress } : undefined);
  const meta = opts.meta ? await opts.meta(matcher) : undefined;
  const trainMs = Date.now() - started;

  const entry: CacheFile = {
    format: CACHE_FORMAT,
    hash,
    matcher: matcher.name,
    version,
    language: corpus.language,
    createdAt: new Date().toISOString(),
    trainMs,
    model: matcher.exportModel(),
    ...(meta !== undefined ? { meta } : {}),
  };
  try {
    await fs.mkdir(cacheDir, { recursive: true });
    await writeAtomic(file, JSON.stringify(entry));
    log(`nlu: trained ${matcher.name} model in ${trainMs} ms, cached to ${file}`);
  } catch (err) {
    log(`nlu: warning: could not write model cache ${file} (${errMsg(err)}); the model will be retrained next start`);
  }
  await prune(cacheDir, file, log, opts.keep);
  return { matcher, hash, fromCache: false, trainMs, file, ...(opts.meta ? { meta } : {}) };
}

/** The cached entry, or undefined when absent (silently) or unusable (with a warning). */
async function readCache(file: string, hash: string, log: (msg: string) => void): Promise<CacheFile | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      log(`nlu: warning: cannot read model cache ${file} (${errMsg(err)}); retraining`);
    }
    return undefined;
  }
  try {
    const entry = JSON.parse(text) as Partial<CacheFile>;
    if (!entry || entry.format !== CACHE_FORMAT || typeof entry.model !== 'string') {
      throw new Error('not a Baton model cache file');
    }
    // The file name holds only 16 hex digits of the hash; the full hash rules out collisions.
    if (entry.hash !== hash) throw new Error('hash mismatch');
    return entry as CacheFile;
  } catch (err) {
    log(`nlu: warning: ignoring corrupt model cache ${file} (${errMsg(err)}); retraining`);
    return undefined;
  }
}

async function writeAtomic(file: string, data: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await fs.writeFile(tmp, data, { encoding: 'utf8', mode: 0o644 });
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** Marks a cache file as just used, so pruning keeps recently used models. */
async function touch(file: string): Promise<void> {
  const now = new Date();
  await fs.utimes(file, now, now).catch(() => undefined);
}

/** Keeps the KEEP_MODELS most recently used model files (always `current`), removes stale temp files. */
async function prune(cacheDir: string, current: string, log: (msg: string) => void, keep = KEEP_MODELS): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(cacheDir);
  } catch {
    return;
  }
  const now = Date.now();
  const models: { file: string; mtime: number }[] = [];
  for (const name of names) {
    const file = path.join(cacheDir, name);
    const isModel = MODEL_FILE_RE.test(name);
    if (!isModel && !TEMP_FILE_RE.test(name)) continue;
    let mtime: number;
    try {
      mtime = (await fs.stat(file)).mtimeMs;
    } catch {
      continue;
    }
    if (isModel) models.push({ file, mtime });
    else if (now - mtime > STALE_TEMP_MS) await fs.rm(file, { force: true }).catch(() => undefined);
  }
  const currentResolved = path.resolve(current);
  models.sort((a, b) => {
    const ac = path.resolve(a.file) === currentResolved ? 1 : 0;
    const bc = path.resolve(b.file) === currentResolved ? 1 : 0;
    return bc - ac || b.mtime - a.mtime || (a.file < b.file ? 1 : -1);
  });
  for (const old of models.slice(Math.max(1, keep))) {
    try {
      await fs.rm(old.file, { force: true });
      log(`nlu: removed old model cache ${old.file}`);
    } catch (err) {
      log(`nlu: warning: could not remove old model cache ${old.file} (${errMsg(err)})`);
    }
  }
}

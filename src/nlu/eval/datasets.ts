/**
 * Labelled-utterance files for `baton nlu eval` and the benchmark.
 *
 * Accepted formats (chosen by content, not by extension):
 *  - CSV (RFC 4180: quoted fields, "" escapes, newlines inside quotes) with a header row. The text
 *    column is the one named text / utterance / sentence / query / example / question; the intent
 *    column is the one named intent / category / label / class / intent_name. Other columns are
 *    ignored. A header naming neither is an error (a file without a header is reported that way).
 *  - JSON: an array of `[text, intent]` pairs or of `{ "text": …, "intent": … }` objects; or an
 *    object whose values are such arrays, selected with `FILE#key` or `FILE#key1+key2`
 *    (e.g. `clinc150/train_val.json#train+oos_train`). Without a selector an object with a single
 *    array value uses it; otherwise the error lists the keys.
 * The intent `oos` (any case) marks out-of-scope examples.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mulberry32, shuffleInPlace } from '../linear/random';

export interface LabelledExample {
  text: string;
  intent: string;
  /** 1-based line of the example in its file (for CSV: the line where its record starts). */
  line: number;
}

export interface Dataset {
  /** The file (with selector) as given. */
  source: string;
  examples: LabelledExample[];
  warnings: string[];
}

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

export const OOS_INTENT = 'oos';

/** True for the out-of-scope label ("oos", any case) and nlp.js's "None". */
export function isOutOfScope(intent: string): boolean {
  return intent.toLowerCase() === OOS_INTENT || intent === 'None';
}

const TEXT_COLUMNS = ['text', 'utterance', 'sentence', 'query', 'example', 'question'];
const INTENT_COLUMNS = ['intent', 'category', 'label', 'class', 'intent_name'];

interface CsvRecord {
  fields: string[];
  line: number;
}

/** Parses RFC 4180 CSV. Throws DatasetError with the line number on an unterminated quote or a stray quote. */
export function parseCsv(text: string, source = 'CSV'): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  let quoted = false;
  let quoteStartLine = 0;
  let fieldStarted = false;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // BOM
  const endRecord = (): void => {
    fields.push(field);
    // Skip blank lines (a single empty field).
    if (!(fields.length === 1 && fields[0] === '')) records.push({ fields, line: recordLine });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  while (i < n) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const next = text[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new DatasetError(
            `${source}:${line}: malformed CSV: unexpected character ${JSON.stringify(next)} after a closing quote. ` +
              'Inside a quoted field, write a quote as two quotes ("").',
          );
        }
        continue;
      }
      if (ch === '\n') line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === '"') {
      if (fieldStarted && field.trim() !== '') {
        throw new DatasetError(
          `${source}:${line}: malformed CSV: a quote inside an unquoted field. Quote the whole field and double the inner quotes ("like ""this""").`,
        );
      }
      field = '';
      quoted = true;
      quoteStartLine = line;
      fieldStarted = true;
      i++;
      continue;
    }
    if (ch === ',') {
      fields.push(field);
      field = '';
      fieldStarted = false;
      i++;
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      endRecord();
      if (ch === '\r' && text[i + 1] === '\n') i++;
      i++;
      line++;
      recordLine = line;
      continue;
    }
    field += ch;
    fieldStarted = true;
    i++;
  }
  if (quoted) {
    throw new DatasetError(`${source}:${quoteStartLine}: malformed CSV: a quoted field starting here is never closed (missing ").`);
  }
  if (fieldStarted || fields.length) endRecord();
  return records;
}

function findColumn(header: string[], names: string[]): number {
  const norm = header.map((h) => h.trim().toLowerCase());
  for (const name of names) {
    const i = norm.indexOf(name);
    if (i >= 0) return i;
  }
  return -1;
}

function examplesFromCsv(text: string, source: string): LabelledExample[] {
  const records = parseCsv(text, source);
  if (!records.length) throw new DatasetError(`${source}: the file is empty; expected a header line such as "text,intent" and one example per line.`);
  const header = records[0]!;
  const ti = findColumn(header.fields, TEXT_COLUMNS);
  const ii = findColumn(header.fields, INTENT_COLUMNS);
  if (ti < 0 || ii < 0) {
    const shown = header.fields.map((f) => JSON.stringify(f.length > 40 ? f.slice(0, 40) + '…' : f)).join(', ');
    const missing = [ti < 0 ? `a text column (${TEXT_COLUMNS.join('/')})` : '', ii < 0 ? `an intent column (${INTENT_COLUMNS.join('/')})` : '']
      .filter(Boolean)
      .join(' and ');
    throw new DatasetError(
      `${source}:${header.line}: unknown columns ${shown}: the first line must be a header naming ${missing}, e.g. "text,intent".`,
    );
  }
  const out: LabelledExample[] = [];
  for (const rec of records.slice(1)) {
    if (rec.fields.length <= Math.max(ti, ii)) {
      throw new DatasetError(
        `${source}:${rec.line}: expected at least ${Math.max(ti, ii) + 1} columns (${header.fields.join(',')}), found ${rec.fields.length}. ` +
          'Quote texts that contain commas ("like, this").',
      );
    }
    out.push({ text: rec.fields[ti]!, intent: rec.fields[ii]!, line: rec.line });
  }
  return out;
}

/** 1-based line and column of a character offset. */
function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, col: offset - last };
}

/**
 * Offset of the first JSON syntax error (V8's messages do not always carry a position), or -1.
 * A small recursive-descent scanner; it only locates errors, JSON.parse does the parsing.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  class Fail extends Error {
    constructor(readonly at: number) {
      super('json');
    }
  }
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') throw new Fail(i);
        str();
        ws();
        if (text[i] !== ':') throw new Fail(i);
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') return void i++;
        throw new Fail(i);
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') return void i++;
        throw new Fail(i);
      }
    }
    if (ch === '"') return str();
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) throw new Fail(i);
    i += m[0].length;
  };
  const str = (): void => {
    i++;
    while (i < n && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) throw new Fail(i);
      i++;
    }
    if (i >= n) throw new Fail(n);
    i++;
  };
  try {
    if (text.charCodeAt(0) === 0xfeff) i = 1;
    value();
    ws();
    return i < n ? i : -1;
  } catch (e) {
    if (e instanceof Fail) return e.at;
    return -1;
  }
}

/** Line of the k-th element of the top-level array (approximate: the line where it starts). */
function elementLines(text: string, arrayStart: number): number[] {
  // Scan the JSON text tracking depth, recording where each direct child of the array starts.
  const lines: number[] = [];
  let depth = 0;
  let inString = false;
  let line = 1;
  for (let i = 0; i < arrayStart; i++) if (text.charCodeAt(i) === 10) line++;
  let expectElement = false;
  for (let i = arrayStart; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') line++;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t') continue;
    if (depth === 1 && expectElement && ch !== ']') {
      lines.push(line);
      expectElement = false;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) break;
    } else if (ch === ',' && depth === 1) expectElement = true;
  }
  return lines;
}

function examplesFromJsonArray(arr: unknown[], source: string, lines: number[]): LabelledExample[] {
  const out: LabelledExample[] = [];
  arr.forEach((item, k) => {
    const line = lines[k] ?? 0;
    const where = `${source}:${line || '?'} (item ${k})`;
    let text: unknown;
    let intent: unknown;
    if (Array.isArray(item)) [text, intent] = item;
    else if (item && typeof item === 'object') {
      const o = item as Record<string, unknown>;
      text = TEXT_COLUMNS.map((c) => o[c]).find((v) => v !== undefined);
      intent = INTENT_COLUMNS.map((c) => o[c]).find((v) => v !== undefined);
    }
    if (typeof text !== 'string' || typeof intent !== 'string') {
      throw new DatasetError(
        `${where}: expected a [text, intent] pair of strings or an object {"text": …, "intent": …}, found ${JSON.stringify(item)?.slice(0, 80)}.`,
      );
    }
    out.push({ text, intent, line });
  });
  return out;
}

function examplesFromJson(text: string, source: string, selector: string | undefined): LabelledExample[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const m = /position (\d+)/.exec(msg);
    const offset = m ? Number(m[1]) : jsonErrorOffset(text);
    const where = offset >= 0 ? lineCol(text, offset) : null;
    throw new DatasetError(
      `${source}${where ? `:${where.line}:${where.col}` : ''}: malformed JSON (${msg}). Expected an array of [text, intent] pairs.`,
    );
  }
  if (Array.isArray(data)) {
    if (selector) throw new DatasetError(`${source}: "#${selector}" selects keys of a JSON object, but the file is an array; drop "#${selector}".`);
    return examplesFromJsonArray(data, source, elementLines(text, text.indexOf('[')));
  }
  if (!data || typeof data !== 'object') {
    throw new DatasetError(`${source}: expected a JSON array of [text, intent] pairs (or an object of such arrays), found ${typeof data}.`);
  }
  const obj = data as Record<string, unknown>;
  const arrays = Object.keys(obj).filter((k) => Array.isArray(obj[k]));
  let keys: string[];
  if (selector) keys = selector.split('+').map((k) => k.trim()).filter(Boolean);
  else if (arrays.length === 1) keys = arrays;
  else {
    throw new DatasetError(
      `${source}: the JSON object has ${arrays.length ? `several arrays (${arrays.join(', ')})` : 'no arrays'}; ` +
        `choose with FILE#key or FILE#key1+key2, e.g. ${path.basename(source)}#${arrays[0] ?? 'train'}.`,
    );
  }
  const out: LabelledExample[] = [];
  for (const key of keys) {
    const arr = obj[key];
    if (!Array.isArray(arr)) {
      throw new DatasetError(`${source}: no array "${key}" in the JSON object (arrays: ${arrays.join(', ') || 'none'}).`);
    }
    // Locate the key's array in the text for line numbers (first occurrence of "key": [).
    const m = new RegExp(`"${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*:\\s*\\[`).exec(text);
    const lines = m ? elementLines(text, m.index + m[0].length - 1) : [];
    out.push(...examplesFromJsonArray(arr, `${source}#${key}`, lines));
  }
  return out;
}

/** Splits "file.json#train+oos_train" into file and selector. */
export function splitSelector(spec: string): { file: string; selector?: string } {
  const hash = spec.lastIndexOf('#');
  if (hash > 0 && !fs.existsSync(spec)) return { file: spec.slice(0, hash), selector: spec.slice(hash + 1) };
  return { file: spec };
}

export interface LoadOptions {
  /** Warn about intents with a single example (training files). Default false. */
  training?: boolean;
}

/** Parses file content (CSV or JSON, by content). */
export function parseDataset(content: string, source: string, selector?: string, options: LoadOptions = {}): Dataset {
  const trimmed = content.replace(/^\uFEFF/, '').trim();
  if (!trimmed) {
    throw new DatasetError(`${source}: the file is empty; expected CSV with a header "text,intent" or a JSON array of [text, intent] pairs.`);
  }
  const isJson = trimmed[0] === '[' || trimmed[0] === '{';
  if (!isJson && /\.json$/i.test(source)) {
    throw new DatasetError(`${source}:1:1: malformed JSON: expected an array of [text, intent] pairs (or an object of such arrays) starting with "[" or "{".`);
  }
  if (!isJson && selector) throw new DatasetError(`${source}: "#${selector}" only applies to JSON files.`);
  const examples = isJson ? examplesFromJson(content, source, selector) : examplesFromCsv(content, source);
  const warnings: string[] = [];
  const counts = new Map<string, { n: number; line: number }>();
  for (const ex of examples) {
    const where = `${source}:${ex.line || '?'}`;
    ex.text = ex.text.trim();
    ex.intent = ex.intent.trim();
    if (!ex.intent) throw new DatasetError(`${where}: the intent is empty; every example needs an intent (use "oos" for out-of-scope examples).`);
    if (!ex.text) throw new DatasetError(`${where}: the text is empty; remove the line or write the example.`);
    if (isOutOfScope(ex.intent)) ex.intent = OOS_INTENT;
    const c = counts.get(ex.intent);
    if (c) c.n++;
    else counts.set(ex.intent, { n: 1, line: ex.line });
  }
  if (!examples.length) throw new DatasetError(`${source}: no examples (only a header?). Add one example per line.`);
  if (options.training) {
    const singles = [...counts.entries()].filter(([intent, c]) => c.n === 1 && intent !== OOS_INTENT);
    for (const [intent, c] of singles.slice(0, 10)) {
      warnings.push(
        `${source}:${c.line || '?'}: intent "${intent}" has only one example: it can be learned, but poorly, and cross-validation ` +
          'cannot measure it (it always stays in training). Add a few more paraphrases (5+ recommended).',
      );
    }
    if (singles.length > 10) warnings.push(`${source}: …and ${singles.length - 10} more intents with a single example.`);
    if (counts.size - (counts.has(OOS_INTENT) ? 1 : 0) < 2) {
      throw new DatasetError(`${source}: training needs at least 2 intents (besides "oos"); found ${counts.size}.`);
    }
  }
  return { source, examples, warnings };
}

/** Reads and parses a dataset file; `spec` may carry a JSON selector ("file.json#train+oos_train"). */
export function loadDataset(spec: string, options: LoadOptions = {}): Dataset {
  const { file, selector } = splitSelector(spec);
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DatasetError(
      code === 'ENOENT' ? `${file}: no such file.` : code === 'EISDIR' ? `${file}: is a directory; give a CSV or JSON file.` : `${file}: cannot read (${(err as Error).message}).`,
    );
  }
  return parseDataset(content, spec.includes('#') && selector ? file : spec, selector, options);
}

/** Groups examples into the matcher's corpus shape (intents in first-seen order). */
export function toIntents(examples: LabelledExample[]): { intent: string; examples: string[] }[] {
  const m = new Map<string, string[]>();
  for (const ex of examples) {
    const list = m.get(ex.intent) ?? [];
    list.push(ex.text);
    m.set(ex.intent, list);
  }
  return [...m.entries()].map(([intent, examples]) => ({ intent, examples }));
}

/** Stratified split: `fraction` of each intent's examples (at least one when it has ≥ 2) go to `held`. Deterministic for a seed. */
export function stratifiedSplit<T extends { intent: string }>(
  items: T[],
  fraction: number,
  seed: number,
): { kept: T[]; held: T[] } {
  const rand = mulberry32(seed);
  const byIntent = new Map<string, number[]>();
  items.forEach((it, i) => {
    const l = byIntent.get(it.intent) ?? [];
    l.push(i);
    byIntent.set(it.intent, l);
  });
  const heldSet = new Set<number>();
  for (const intent of [...byIntent.keys()].sort()) {
    const idx = shuffleInPlace(byIntent.get(intent)!, rand);
    const k = idx.length >= 2 ? Math.max(1, Math.round(idx.length * fraction)) : 0;
    for (const i of idx.slice(0, k)) heldSet.add(i);
  }
  const kept: T[] = [];
  const held: T[] = [];
  items.forEach((it, i) => (heldSet.has(i) ? held : kept).push(it));
  return { kept, held };
}

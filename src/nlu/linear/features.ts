/**
 * Sparse TF-IDF features over several "views" of a text:
 *  - `w`: word n-grams (1..wordNgrams) of the normalised tokens;
 *  - `s`: stemmed word n-grams (1..stemNgrams), when a stemmer is available;
 *  - `c`: character n-grams (charMin..charMax) inside each word padded with spaces ("char_wb"),
 *         or over the whole normalised text (`charMode: 'text'`, which also spans word pairs).
 * Each view is TF-IDF weighted (sublinear tf, smoothed idf), L2-normalised on its own and scaled by
 * its view weight, so views with many n-grams (characters) do not drown the others.
 */
import type { LanguageSupport } from './text';
import { base64ToF32, base64ToStrings, f32ToBase64, stringsToBase64 } from './codec';

export interface FeatureOptions {
  /** Largest word n-gram (0 disables the view). Default 2. */
  wordNgrams?: number;
  /** Largest stemmed-word n-gram (0 disables the view). Default 2. */
  stemNgrams?: number;
  /** Character n-gram sizes [min, max] (max 0 disables the view). Default [2, 5]. */
  charNgrams?: [number, number];
  /** 'wb' (default): n-grams inside space-padded words; 'text': over the whole padded text. */
  charMode?: 'wb' | 'text';
  /**
   * Drop n-grams seen in fewer training examples than this. Default 'auto': 2 from 2,000 training
   * examples on (halves the model, same accuracy on BANKING77/CLINC150), else 1 (small bots need
   * every n-gram of their few examples).
   */
  minDf?: number | 'auto';
  /** Per-view multipliers applied after normalisation. Default 1 each. */
  viewWeights?: { w?: number; s?: number; c?: number };
}

export type ResolvedFeatureOptions = {
  wordNgrams: number;
  stemNgrams: number;
  charNgrams: [number, number];
  charMode: 'wb' | 'text';
  minDf: number | 'auto';
  viewWeights: { w: number; s: number; c: number };
};

export function resolveFeatureOptions(o: FeatureOptions = {}): ResolvedFeatureOptions {
  return {
    wordNgrams: o.wordNgrams ?? 2,
    stemNgrams: o.stemNgrams ?? 2,
    charNgrams: o.charNgrams ?? [2, 5],
    charMode: o.charMode ?? 'wb',
    minDf: o.minDf === undefined || o.minDf === 'auto' ? 'auto' : Math.max(1, Math.floor(o.minDf)),
    viewWeights: { w: o.viewWeights?.w ?? 1, s: o.viewWeights?.s ?? 1, c: o.viewWeights?.c ?? 1 },
  };
}

/** A sparse vector: strictly increasing indices. */
export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
}

/** Rows of sparse vectors in compressed-sparse-row form. */
export interface CsrMatrix {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

const VIEWS = ['w', 's', 'c'] as const;
type View = (typeof VIEWS)[number];

function addNgrams(out: string[], prefix: string, tokens: string[], maxN: number): void {
  for (let n = 1; n <= maxN; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      out.push(n === 1 ? prefix + tokens[i] : prefix + tokens.slice(i, i + n).join(' '));
    }
  }
}

function addCharNgrams(out: string[], s: string, min: number, max: number): void {
  const len = s.length;
  for (let n = min; n <= max; n++) {
    if (len < n) {
      // Whole (short) string once, like scikit-learn's char_wb.
      if (n === min) out.push('c:' + s);
      break;
    }
    for (let i = 0; i + n <= len; i++) out.push('c:' + s.slice(i, i + n));
  }
}

/** Raw n-gram strings of one text, grouped by view (with repetitions: they are term counts). */
export function extractNgrams(text: string, lang: LanguageSupport, o: ResolvedFeatureOptions): Record<View, string[]> {
  const norm = lang.normalize(text);
  const tokens = lang.tokenize(norm);
  const res: Record<View, string[]> = { w: [], s: [], c: [] };
  if (o.wordNgrams > 0) addNgrams(res.w, 'w:', tokens, o.wordNgrams);
  if (o.stemNgrams > 0 && lang.stemmer !== 'none') addNgrams(res.s, 's:', tokens.map(lang.stem), o.stemNgrams);
  const [cmin, cmax] = o.charNgrams;
  if (cmax > 0 && tokens.length) {
    if (o.charMode === 'text') addCharNgrams(res.c, ` ${tokens.join(' ')} `, cmin, cmax);
    else for (const t of tokens) addCharNgrams(res.c, ` ${t} `, cmin, cmax);
  }
  return res;
}

function countTerms(terms: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of terms) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

/** Fitted vocabulary + idf. Serialisable via {@link Vectorizer.toJSON}. */
export class Vectorizer {
  readonly options: ResolvedFeatureOptions;
  /** Feature strings in index order; each starts with its view prefix ("w:", "s:", "c:"). */
  readonly terms: string[];
  readonly idf: Float32Array;
  private readonly index: Map<string, number>;

  private constructor(options: ResolvedFeatureOptions, terms: string[], idf: Float32Array) {
    this.options = options;
    this.terms = terms;
    this.idf = idf;
    this.index = new Map(terms.map((t, i) => [t, i]));
  }

  get size(): number {
    return this.terms.length;
  }

  /** Learns the vocabulary (sorted, so it does not depend on example order) and smoothed idf. */
  static fit(texts: string[], lang: LanguageSupport, options: FeatureOptions | ResolvedFeatureOptions = {}): Vectorizer {
    const o = resolveFeatureOptions(options);
    const df = new Map<string, number>();
    for (const text of texts) {
      const grams = extractNgrams(text, lang, o);
      const seen = new Set<string>();
      for (const v of VIEWS) for (const g of grams[v]) seen.add(g);
      for (const g of seen) df.set(g, (df.get(g) ?? 0) + 1);
    }
    const minDf = o.minDf === 'auto' ? (texts.length >= 2000 ? 2 : 1) : o.minDf;
    const terms = [...df.entries()]
      .filter(([, n]) => n >= minDf)
      .map(([t]) => t)
      .sort();
    const n = texts.length;
    const idf = new Float32Array(terms.length);
    for (let i = 0; i < terms.length; i++) idf[i] = Math.log((1 + n) / (1 + df.get(terms[i]!)!)) + 1;
    return new Vectorizer(o, terms, idf);
  }

  transform(text: string, lang: LanguageSupport): SparseVector {
    const o = this.options;
    const grams = extractNgrams(text, lang, o);
    const idx: number[] = [];
    const val: number[] = [];
    for (const v of VIEWS) {
      const weight = o.viewWeights[v];
      if (!grams[v].length || weight === 0) continue;
      const start = idx.length;
      let norm = 0;
      for (const [term, count] of countTerms(grams[v])) {
        const i = this.index.get(term);
        if (i === undefined) continue;
        const x = (1 + Math.log(count)) * this.idf[i]!;
        idx.push(i);
        val.push(x);
        norm += x * x;
      }
      if (norm > 0) {
        const scale = weight / Math.sqrt(norm);
        for (let k = start; k < val.length; k++) val[k]! *= scale;
      }
    }
    // Sort by index (the views' index ranges interleave because terms are sorted as strings).
    const order = idx.map((_, k) => k).sort((a, b) => idx[a]! - idx[b]!);
    const indices = new Int32Array(order.length);
    const values = new Float32Array(order.length);
    for (let k = 0; k < order.length; k++) {
      indices[k] = idx[order[k]!]!;
      values[k] = val[order[k]!]!;
    }
    return { indices, values };
  }

  transformAll(texts: string[], lang: LanguageSupport): CsrMatrix {
    const vecs = texts.map((t) => this.transform(t, lang));
    return toCsr(vecs, this.size);
  }

  /** Compact JSON form: terms deflated, idf as raw float32 (exact round trip). */
  toJSON(): VectorizerJson {
    return { options: this.options, terms: stringsToBase64(this.terms), idf: f32ToBase64(this.idf) };
  }

  static fromJSON(json: VectorizerJson): Vectorizer {
    if (!json || typeof json.terms !== 'string' || typeof json.idf !== 'string') throw new Error('vocabulary is malformed');
    const terms = base64ToStrings(json.terms);
    const idf = base64ToF32(json.idf);
    if (terms.length !== idf.length) throw new Error('vocabulary is malformed');
    return new Vectorizer(resolveFeatureOptions(json.options), terms, idf);
  }
}

export interface VectorizerJson {
  options: ResolvedFeatureOptions;
  /** Deflated, base64, newline-separated. */
  terms: string;
  /** Float32 little-endian, base64. */
  idf: string;
}

export function toCsr(vecs: SparseVector[], cols: number): CsrMatrix {
  const indptr = new Int32Array(vecs.length + 1);
  let nnz = 0;
  for (let i = 0; i < vecs.length; i++) {
    nnz += vecs[i]!.indices.length;
    indptr[i + 1] = nnz;
  }
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  for (let i = 0; i < vecs.length; i++) {
    indices.set(vecs[i]!.indices, indptr[i]!);
    values.set(vecs[i]!.values, indptr[i]!);
  }
  return { rows: vecs.length, cols, indptr, indices, values };
}

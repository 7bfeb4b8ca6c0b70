/**
 * Near-duplicate examples across intents: an example of one intent that reads almost exactly like
 * an example of another teaches the matcher nothing but confusion ("track my order" under
 * order_status and "track my order please" under order_help). Used by `baton validate`
 * (warning `overlapping_examples`).
 *
 * Similarity: cosine of TF-IDF vectors of stemmed words and word pairs (idf over all the bot's
 * examples, so "my" and "order" count little and "warranty" much), computed only for pairs that
 * share a word (an inverted index), so a bot of a few thousand examples takes milliseconds.
 */
import * as path from 'node:path';
import { languageSupport, normalizeText, type LanguageSupport } from './linear/text';
import type { Bot } from '../flow/model';
import type { Problem } from '../flow/problems';
import { builtinIntentsFor } from './builtin-intents';
import { articleQuestions, flowExamples } from './corpus';
import { outOfScopeFor } from './out-of-scope';

export interface ExampleRef<P = unknown> {
  intent: string;
  text: string;
  /** Where the example is written; passed through. */
  pos: P;
}

export interface Overlap<P = unknown> {
  /** The earlier example (in input order) and the later one. */
  a: ExampleRef<P>;
  b: ExampleRef<P>;
  similarity: number;
}

export interface OverlapOptions {
  /** Cosine similarity from which two examples count as near-duplicates. Default {@link DEFAULT_OVERLAP_THRESHOLD}. */
  threshold?: number;
  language?: string;
  /** Pairs to skip, e.g. exact duplicates already reported elsewhere. */
  skip?: (a: ExampleRef, b: ExampleRef) => boolean;
}

/**
 * 0.8: pairs above it differ by a word that says little ("when can I pick up my bike" / "… please",
 * 84%); pairs below it by a word that says what the intent is about ("where is my order" /
 * "where is my refund", 73%: the demo bot's most alike pair of different intents). See
 * test/nlu/overlap.test.ts for both sides.
 */
export const DEFAULT_OVERLAP_THRESHOLD = 0.8;

interface Vec {
  idx: Int32Array;
  val: Float64Array;
}

const langCache = new Map<string, LanguageSupport>();
function lang(language: string): LanguageSupport | null {
  try {
    let l = langCache.get(language);
    if (!l) langCache.set(language, (l = languageSupport(language)));
    return l;
  } catch {
    return null; // not a language code: compare unstemmed words
  }
}

function terms(text: string, l: LanguageSupport | null): string[] {
  const tokens = normalizeText(text).split(' ').filter(Boolean);
  const stems = l ? tokens.map((t) => l.stem(t)) : tokens;
  const out = [...stems];
  for (let i = 0; i + 1 < stems.length; i++) out.push(`${stems[i]} ${stems[i + 1]}`);
  return out;
}

/** Cross-intent example pairs with cosine similarity ≥ threshold, most similar first. */
export function findOverlappingExamples<P>(examples: ExampleRef<P>[], options: OverlapOptions = {}): Overlap<P>[] {
  const threshold = options.threshold ?? DEFAULT_OVERLAP_THRESHOLD;
  const l = lang(options.language ?? 'en');
  const vocab = new Map<string, number>();
  const docs = examples.map((e) => {
    const counts = new Map<number, number>();
    for (const t of terms(e.text, l)) {
      let id = vocab.get(t);
      if (id === undefined) vocab.set(t, (id = vocab.size));
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    return counts;
  });
  const df = new Float64Array(vocab.size);
  for (const d of docs) for (const id of d.keys()) df[id]! += 1;
  const n = examples.length;
  const vecs: Vec[] = docs.map((d) => {
    const ids = [...d.keys()].sort((a, b) => a - b);
    const val = new Float64Array(ids.length);
    let norm = 0;
    ids.forEach((id, k) => {
      const x = (1 + Math.log(d.get(id)!)) * (Math.log((1 + n) / (1 + df[id]!)) + 1);
      val[k] = x;
      norm += x * x;
    });
    norm = Math.sqrt(norm) || 1;
    for (let k = 0; k < val.length; k++) val[k]! /= norm;
    return { idx: Int32Array.from(ids), val };
  });
  // Inverted index: term → [example, weight]; dot products accumulate only over shared terms.
  const postings: { doc: number; w: number }[][] = Array.from({ length: vocab.size }, () => []);
  vecs.forEach((v, doc) => v.idx.forEach((id, k) => postings[id]!.push({ doc, w: v.val[k]! })));
  const out: Overlap<P>[] = [];
  const acc = new Float64Array(n);
  const touched: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = vecs[i]!;
    for (let k = 0; k < v.idx.length; k++) {
      for (const { doc, w } of postings[v.idx[k]!]!) {
        if (doc >= i) break; // postings are in doc order: only earlier examples
        if (acc[doc] === 0) touched.push(doc);
        acc[doc]! += v.val[k]! * w;
      }
    }
    for (const j of touched) {
      const sim = acc[j]!;
      acc[j] = 0;
      const a = examples[j]!;
      const b = examples[i]!;
      if (sim >= threshold - 1e-9 && a.intent !== b.intent && !(options.skip?.(a, b) ?? false)) out.push({ a, b, similarity: Math.min(1, sim) });
    }
    touched.length = 0;
  }
  return out.sort((x, y) => y.similarity - x.similarity);
}

// ------------------------------------------------------------------ `baton validate`

/** Where an example is written: a file position, or one of Baton's own lists. */
type ExampleOrigin = { file: string; line: number; col: number; flow?: string } | 'builtin' | 'out-of-scope';

function describeOrigin(o: ExampleOrigin, intent: string): string {
  if (o === 'builtin') return `Baton's built-in examples of ${intent}`;
  if (o === 'out-of-scope') return "Baton's generic out-of-scope examples";
  // Like formatProblem does for the problem's own file: relative to the working directory when inside it.
  const cwd = process.cwd();
  return `${o.file.startsWith(cwd + path.sep) ? o.file.slice(cwd.length + 1) : o.file}:${o.line}`;
}

/**
 * `overlapping_examples` warnings for a bot: each pair of near-duplicate examples of different
 * intents, reported at the bot's own example (the later one when both are the bot's), with the
 * other's file:line in the message. Pairs of Baton's own lists are never reported. `outOfScope`:
 * also compare with the generic out-of-scope examples the bot is trained with.
 */
export function overlappingExampleProblems(
  bot: Bot,
  opts: { skip?: (a: string, b: string) => boolean; outOfScope?: boolean; threshold?: number; language?: string } = {},
): Problem[] {
  const language = opts.language ?? bot.language;
  const refs: ExampleRef<ExampleOrigin>[] = [];
  for (const b of builtinIntentsFor(language)) {
    // A flow that takes over a built-in intent (e.g. builtin.human) teaches it with its own examples too.
    for (const text of b.examples) refs.push({ intent: b.intent, text, pos: 'builtin' });
  }
  if (opts.outOfScope) for (const o of outOfScopeFor(language)) for (const text of o.examples) refs.push({ intent: o.intent, text, pos: 'out-of-scope' });
  for (const f of Object.values(bot.flows))
    for (const { text, pos: p } of flowExamples(bot, f, language)) refs.push({ intent: f.intent, text, pos: { file: p.file, line: p.line, col: p.col, flow: f.id } });
  for (const a of Object.values(bot.articles))
    for (const { text, pos: p } of articleQuestions(bot, a, language)) refs.push({ intent: a.intent, text, pos: { file: p.file, line: p.line, col: p.col } });
  const skip = opts.skip;
  const overlaps = findOverlappingExamples(refs, {
    language,
    ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
    skip: (a, b) => typeof a.pos === 'string' && typeof b.pos === 'string' ? true : !!skip && skip(a.text, b.text),
  });
  const problems: Problem[] = [];
  for (const { a, b, similarity } of overlaps) {
    // Report at the bot's own example; `b` comes later in the list, so it is the bot's whenever one of them is.
    const [here, other] = typeof b.pos !== 'string' ? [b, a] : [a, b];
    const pos = here.pos as Exclude<ExampleOrigin, string>;
    const sim = `${Math.round(similarity * 100)}% alike`;
    const oos = other.pos === 'out-of-scope';
    problems.push({
      severity: 'warning',
      code: 'overlapping_examples',
      message: oos
        ? `the example "${here.text}" (intent "${here.intent}") is nearly the same as "${other.text}", one of ${describeOrigin(other.pos, other.intent)} (${sim}), which the bot learns to decline`
        : `the example "${here.text}" (intent "${here.intent}") is nearly the same as "${other.text}", an example of intent "${other.intent}" at ${describeOrigin(other.pos, other.intent)} (${sim})`,
      hint: oos
        ? 'if such questions are in scope for this bot, set `nlu.outOfScope: false` in bot.yaml; otherwise reword the example so it says what is specific to this bot'
        : 'examples this alike teach the matcher that either intent fits: reword one so it says what is specific to its intent, move it to the intent it belongs to, or delete it (`baton eval` shows which intents get confused)',
      file: pos.file,
      line: pos.line,
      col: pos.col,
      ...(pos.flow ? { flow: pos.flow } : {}),
    });
  }
  return problems;
}

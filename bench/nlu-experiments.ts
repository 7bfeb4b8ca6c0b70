/**
 * Experiments on `baton-linear` that were measured and NOT adopted (docs/nlu-benchmark.md,
 * "Tried and not adopted"). Kept so the figures can be reproduced; validation data only.
 *
 *   npx tsx bench/nlu-experiments.ts correctness [clinc|banking] [seed]
 *       A correctness model as the answer score: a logistic regression on the 3-fold out-of-fold
 *       predictions of the training data (features: p1, p2, p1−p2, p_oos, normalised entropy,
 *       log p1, log p2, logit margin, top logit, log(1 + words), share of unknown n-grams,
 *       log(1 − p1); optionally nearest-neighbour cosines to the predicted intent's and to the
 *       out-of-scope training examples, and the predicted intent's out-of-fold precision), target
 *       "the answer is right" (out-of-scope = wrong). `T=0.5` computes the features at that
 *       temperature instead of the fitted one. Its output replaces p1
 *       as the score that the threshold is chosen on. Compared with p1 under the benchmark's
 *       `val½→val½` and in-sample protocols.
 *   npx tsx bench/nlu-experiments.ts mlp [clinc|banking]
 *       A one-hidden-layer ReLU MLP (H env, default 256) over the same sparse TF-IDF input, plain
 *       SGD, then averaged with the linear model's calibrated log-probabilities.
 *
 * Prints figures; writes nothing. Data from ../shared/datasets (never copied here).
 */
import * as path from 'node:path';
import { loadDataset, stratifiedSplit, type LabelledExample } from '../src/nlu/eval/datasets';
import { fitTemperature } from '../src/nlu/linear/calibration';
import { quantizeRows } from '../src/nlu/linear/codec';
import { stratifiedFolds } from '../src/nlu/linear/crossval';
import { extractNgrams, resolveFeatureOptions, toCsr, Vectorizer, type CsrMatrix } from '../src/nlu/linear/features';
import { mulberry32 } from '../src/nlu/linear/random';
import { logitsMatrix, trainSoftmax } from '../src/nlu/linear/softmax';
import { languageSupport } from '../src/nlu/linear/text';
import { chooseThreshold, type ScoredAnswer } from '../src/nlu/linear/threshold';

const DATA = path.resolve(__dirname, '../../shared/datasets');
const TARGET = 0.02;
const log = (s: string): void => void process.stderr.write(s + '\n');
const lang = languageSupport('en', { stemming: 'auto' });

function data(ds: string): { train: LabelledExample[]; test: LabelledExample[] } {
  if (ds === 'clinc') {
    const file = path.join(DATA, 'clinc150/train_val.json');
    return { train: loadDataset(`${file}#train+oos_train`, { training: true }).examples, test: loadDataset(`${file}#val+oos_val`).examples };
  }
  const all = loadDataset(path.join(DATA, 'banking77/train.csv'), { training: true }).examples;
  const s = stratifiedSplit(all, 0.1, 42);
  return { train: s.kept, test: s.held };
}

/** Logits of the matcher's recipe (same features, L2, epochs, rejection weight, fold seeds). */
function linearLogits(train: LabelledExample[], test: LabelledExample[], seed: number) {
  const classes = [...new Set(train.map((e) => e.intent))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const C = classes.length;
  const ci = new Map(classes.map((c, i) => [c, i]));
  const texts = train.map((e) => e.text.trim());
  const labels = train.map((e) => ci.get(e.intent)!);
  const rej = classes.map((c) => c === 'oos');
  const nRej = labels.filter((l) => rej[l]).length;
  const nReal = classes.filter((c) => c !== 'oos').length;
  const rw = nRej ? Math.min(5, Math.max(1, (texts.length - nRej) / nReal / nRej)) : 1;
  const fo = resolveFeatureOptions({});
  const vocab = new WeakMap<Vectorizer, Set<string>>();
  const unknownShare = (v: Vectorizer, t: string): number => {
    const g = extractNgrams(t, lang, fo);
    const all = [...g.w, ...g.s, ...g.c];
    if (!vocab.has(v)) vocab.set(v, new Set(v.terms));
    const known = vocab.get(v)!;
    return all.length ? all.filter((x) => !known.has(x)).length / all.length : 1;
  };
  const fit = (idx: number[]) => {
    const sub = idx.map((i) => texts[i]!);
    const v = Vectorizer.fit(sub, lang, {});
    const x = toCsr(sub.map((t) => v.transform(t, lang)), v.size);
    const w = Float32Array.from(idx, (i) => (rej[labels[i]!] ? rw : 1));
    return { v, x, idx, m: trainSoftmax(x, Int32Array.from(idx, (i) => labels[i]!), C, { l2: 1e-5, epochs: 12, learningRate: 1.5, seed }, w) };
  };
  /** Nearest-neighbour features: best and mean top-3 cosine to the training examples of class `c`, and best cosine to any rejection example. */
  const knn = (x: CsrMatrix, idx: number[], q: { indices: Int32Array; values: Float32Array }, c: number): number[] => {
    const sims: number[] = [];
    let oosBest = 0;
    for (let r = 0; r < idx.length; r++) {
      const l = labels[idx[r]!]!;
      if (l !== c && !rej[l]) continue;
      let dot = 0;
      let p = x.indptr[r]!;
      const e = x.indptr[r + 1]!;
      for (let k = 0; k < q.indices.length && p < e; ) {
        const a = q.indices[k]!;
        const b = x.indices[p]!;
        if (a === b) (dot += q.values[k]! * x.values[p]!), k++, p++;
        else if (a < b) k++;
        else p++;
      }
      if (l === c) sims.push(dot / 3);
      else oosBest = Math.max(oosBest, dot / 3);
    }
    sims.sort((a, b) => b - a);
    const top = sims.slice(0, 3);
    return [top[0] ?? 0, top.length ? top.reduce((s, v) => s + v, 0) / top.length : 0, oosBest];
  };
  const argmaxAllowed = (z: Float64Array): number => {
    let b = -1;
    for (let c = 0; c < C; c++) if (!rej[c] && (b < 0 || z[c]! > z[b]!)) b = c;
    return b;
  };
  const N = texts.length;
  const oofKnn: number[][] = new Array(N);
  const folds = stratifiedFolds(labels, 3, seed + 7919);
  const oof = new Float64Array(N * C);
  const oofUnk = new Float64Array(N);
  for (let f = 0; f < 3; f++) {
    const tr: number[] = [];
    const he: number[] = [];
    for (let i = 0; i < N; i++) (folds[i] === f ? he : tr).push(i);
    const { v, m, x } = fit(tr);
    const qs = he.map((i) => v.transform(texts[i]!, lang));
    const z = logitsMatrix(m, toCsr(qs, v.size));
    he.forEach((i, k) => {
      oofKnn[i] = knn(x, tr, qs[k]!, argmaxAllowed(z.subarray(k * C, (k + 1) * C)));
      oof.set(z.subarray(k * C, (k + 1) * C), i * C);
      oofUnk[i] = unknownShare(v, texts[i]!);
    });
    log(`  fold ${f + 1}/3`);
  }
  const T = fitTemperature(oof, Int32Array.from(labels), C);
  const allIdx = texts.map((_, i) => i);
  const { v, m, x } = fit(allIdx);
  m.weights = quantizeRows(m.weights, C).dequantized;
  const qv = test.map((e) => v.transform(e.text, lang));
  const val = logitsMatrix(m, toCsr(qv, v.size));
  const valKnn = qv.map((q, i) => knn(x, allIdx, q, argmaxAllowed(val.subarray(i * C, (i + 1) * C))));
  return {
    classes, C, T, rej, labels,
    oof, oofUnk, oofTexts: texts, oofKnn, valKnn,
    val, valUnk: Float64Array.from(test, (e) => unknownShare(v, e.text)),
    valLabels: test.map((e) => ci.get(e.intent) ?? -1),
  };
}

/** Answer features of one row of logits; also the predicted class. */
function answerFeatures(z: Float64Array, C: number, T: number, rej: boolean[], text: string, unknown: number): { f: number[]; best: number; p1: number } {
  let max = -Infinity;
  for (let c = 0; c < C; c++) max = Math.max(max, z[c]! / T);
  const p = new Float64Array(C);
  let sum = 0;
  for (let c = 0; c < C; c++) sum += (p[c] = Math.exp(z[c]! / T - max));
  let b1 = -1;
  let b2 = -1;
  let poos = 0;
  let ent = 0;
  for (let c = 0; c < C; c++) {
    p[c]! /= sum;
    ent -= p[c]! * Math.log(p[c]! + 1e-12);
    if (rej[c]) {
      poos += p[c]!;
      continue;
    }
    if (b1 < 0 || p[c]! > p[b1]!) (b2 = b1), (b1 = c);
    else if (b2 < 0 || p[c]! > p[b2]!) b2 = c;
  }
  const p1 = p[b1]!;
  const p2 = b2 >= 0 ? p[b2]! : 0;
  const words = text.trim().split(/\s+/).length;
  const f = [p1, p2, p1 - p2, poos, ent / Math.log(C), Math.log(p1 + 1e-9), Math.log(p2 + 1e-9), z[b1]! - (b2 >= 0 ? z[b2]! : 0), z[b1]!, Math.log1p(words), unknown, Math.log(1 - p1 + 1e-9)];
  return { f, best: b1, p1 };
}

/** L2-regularised logistic regression by Newton's method on standardised features; returns a scorer. */
function fitLogistic(X: number[][], y: boolean[], l2 = 1e-3, iterations = 50): (f: number[]) => number {
  const n = X.length;
  const d = X[0]!.length;
  const mu = new Array(d).fill(0);
  const sd = new Array(d).fill(0);
  for (const r of X) r.forEach((v, k) => (mu[k] += v / n));
  for (const r of X) r.forEach((v, k) => (sd[k] += (v - mu[k]) ** 2 / n));
  for (let k = 0; k < d; k++) sd[k] = Math.sqrt(sd[k]) + 1e-9;
  const std = (r: number[]): number[] => [...r.map((v, k) => (v - mu[k]) / sd[k]), 1];
  const Z = X.map(std);
  const D = d + 1;
  const beta = new Array(D).fill(0);
  for (let it = 0; it < iterations; it++) {
    const g = new Array(D).fill(0);
    const Hm = Array.from({ length: D }, () => new Array(D).fill(0));
    for (let i = 0; i < n; i++) {
      const zi = Z[i]!;
      const p = 1 / (1 + Math.exp(-zi.reduce((s, v, k) => s + v * beta[k], 0)));
      const w = p * (1 - p);
      for (let a = 0; a < D; a++) {
        g[a] += ((p - (y[i] ? 1 : 0)) * zi[a]!) / n;
        for (let b = 0; b <= a; b++) Hm[a]![b] += (w * zi[a]! * zi[b]!) / n;
      }
    }
    for (let a = 0; a < D; a++) {
      for (let b = 0; b < a; b++) Hm[b]![a] = Hm[a]![b];
      if (a < d) (g[a] += l2 * beta[a]), (Hm[a]![a] += l2);
      else Hm[a]![a] += 1e-9;
    }
    const step = solve(Hm, g);
    for (let a = 0; a < D; a++) beta[a] -= step[a]!;
  }
  return (f) => 1 / (1 + Math.exp(-std(f).reduce((s, v, k) => s + v * beta[k], 0)));
}

function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((r, i) => [...r, b[i]!]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[piv]![c]!)) piv = r;
    [M[c], M[piv]] = [M[piv]!, M[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const k = M[r]![c]! / M[c]![c]!;
      for (let j = c; j <= n; j++) M[r]![j]! -= k * M[c]![j]!;
    }
  }
  return M.map((r, i) => r[n]! / r[i]!);
}

/** answered-correct / wrong-answer rate with the threshold chosen on the other stratified half (seed 7, as bench/nlu.ts), pooled. */
function halves(test: LabelledExample[], answers: ScoredAnswer[]): string {
  const { kept } = stratifiedSplit(test.map((e, i) => ({ intent: e.intent, i })), 0.5, 7);
  const inA = new Set(kept.map((k) => k.i));
  let right = 0;
  let wrong = 0;
  for (const fitA of [true, false]) {
    const t = chooseThreshold(answers.filter((_, i) => inA.has(i) === fitA), { targetWrongRate: TARGET }).threshold;
    answers.forEach((a, i) => {
      if (inA.has(i) !== fitA && a.confidence >= t) a.correct ? right++ : wrong++;
    });
  }
  const inScope = answers.filter((a) => !a.outOfScope).length;
  return `${((100 * right) / inScope).toFixed(2)} @ ${((100 * wrong) / Math.max(1, right + wrong)).toFixed(2)}`;
}

function inSample(answers: ScoredAnswer[]): string {
  const c = chooseThreshold(answers, { targetWrongRate: TARGET });
  return `${(100 * c.answeredCorrectRate).toFixed(2)} @ ${(100 * c.wrongRate).toFixed(2)}`;
}

async function correctness(ds: string, seed: number): Promise<void> {
  const { train, test } = data(ds);
  log(`${ds}: ${train.length} train, ${test.length} validation; seed ${seed}`);
  const L = linearLogits(train, test, seed);
  if (process.env.T) L.T = Number(process.env.T); // answer features at another temperature than the fitted one
  const rows = (Z: Float64Array, texts: string[], unk: Float64Array, gold: number[], nn: number[][]) =>
    texts.map((t, i) => {
      const a = answerFeatures(Z.subarray(i * L.C, (i + 1) * L.C), L.C, L.T, L.rej, t, unk[i]!);
      a.f.push(...nn[i]!);
      const outOfScope = gold[i]! < 0 || L.rej[gold[i]!]!;
      return { ...a, correct: !outOfScope && a.best === gold[i], outOfScope };
    });
  const tr = rows(L.oof, L.oofTexts, L.oofUnk, L.labels, L.oofKnn);
  const va = rows(L.val, test.map((e) => e.text), L.valUnk, L.valLabels, L.valKnn);
  // Reliability of the predicted intent: its precision on the out-of-fold predictions (Beta prior,
  // mean = overall OOF accuracy, strength 2; leave-one-out for the OOF rows themselves), as a logit.
  const npred = new Float64Array(L.C);
  const nright = new Float64Array(L.C);
  for (const r of tr) (npred[r.best]! += 1), (nright[r.best]! += r.correct ? 1 : 0);
  const m0 = tr.filter((r) => r.correct).length / tr.length;
  const logit = (p: number): number => Math.log(Math.min(0.999, Math.max(0.001, p)) / (1 - Math.min(0.999, Math.max(0.001, p))));
  for (const r of tr) r.f.push(logit((nright[r.best]! - (r.correct ? 1 : 0) + 2 * m0) / (npred[r.best]! - 1 + 2)));
  for (const r of va) r.f.push(logit((nright[r.best]! + 2 * m0) / (npred[r.best]! + 2)));
  const base = va.map((r) => ({ confidence: r.p1, correct: r.correct, outOfScope: r.outOfScope }));
  const inScopeAcc = va.filter((r) => !r.outOfScope && r.correct).length / va.filter((r) => !r.outOfScope).length;
  process.stdout.write(`${ds} seed ${seed}: T=${L.T.toFixed(3)}, in-scope accuracy ${(100 * inScopeAcc).toFixed(2)}\n`);
  process.stdout.write(`  answer score p1 (default):          val½→val½ ${halves(test, base)}   in-sample ${inSample(base)}\n`);
  const sets: [string, number[]][] = [
    ['all 12 features', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
    ['p1, p2, p1−p2, p_oos, entropy, length, unknown', [0, 1, 2, 3, 4, 9, 10]],
    ['p1, p2, p_oos', [0, 1, 3]],
    ['all 12 + nearest-neighbour cosines', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]],
    ['p1, p2, p_oos + nearest-neighbour cosines', [0, 1, 3, 12, 13, 14]],
    ['all 12 + precision of the predicted intent', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15]],
  ];
  for (const [name, s] of sets) {
    const score = fitLogistic(tr.map((r) => s.map((k) => r.f[k]!)), tr.map((r) => r.correct));
    const ans = va.map((r) => ({ confidence: score(s.map((k) => r.f[k]!)), correct: r.correct, outOfScope: r.outOfScope }));
    process.stdout.write(`  correctness model (${name}): val½→val½ ${halves(test, ans)}   in-sample ${inSample(ans)}\n`);
  }
}

/** One-hidden-layer ReLU MLP on the TF-IDF input, SGD; reports its accuracy and that of its average with the linear model. */
async function mlp(ds: string): Promise<void> {
  const H = Number(process.env.H ?? 256);
  const EPOCHS = Number(process.env.EP ?? 10);
  const LR = Number(process.env.LR ?? 0.2);
  const { train, test } = data(ds);
  const L = linearLogits(train, test, 1);
  const C = L.C;
  const texts = train.map((e) => e.text.trim());
  const t0 = Date.now();
  const v = Vectorizer.fit(texts, lang, {});
  const X = toCsr(texts.map((t) => v.transform(t, lang)), v.size);
  const rand = mulberry32(3);
  const gauss = (): number => Math.sqrt(-2 * Math.log(rand() || 1e-9)) * Math.cos(2 * Math.PI * rand());
  const W1 = Float32Array.from({ length: v.size * H }, () => gauss() * 0.3);
  const b1 = new Float32Array(H);
  const W2 = Float32Array.from({ length: H * C }, () => gauss() * Math.sqrt(2 / H) * 0.5);
  const b2 = new Float32Array(C);
  const a = new Float32Array(H);
  const z = new Float64Array(C);
  const g = new Float32Array(C);
  const dh = new Float32Array(H);
  const forward = (M: CsrMatrix, i: number): void => {
    a.set(b1);
    for (let p = M.indptr[i]!; p < M.indptr[i + 1]!; p++) {
      const xv = M.values[p]!;
      const base = M.indices[p]! * H;
      for (let k = 0; k < H; k++) a[k]! += xv * W1[base + k]!;
    }
    for (let k = 0; k < H; k++) if (a[k]! < 0) a[k] = 0;
    for (let c = 0; c < C; c++) z[c] = b2[c]!;
    for (let k = 0; k < H; k++) if (a[k]! > 0) for (let c = 0; c < C; c++) z[c]! += a[k]! * W2[k * C + c]!;
  };
  const order = Array.from({ length: X.rows }, (_, i) => i);
  let step = 0;
  for (let ep = 0; ep < EPOCHS; ep++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const i of order) {
      const lr = LR * (1 - step++ / (EPOCHS * X.rows)) + 1e-4;
      forward(X, i);
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, z[c]!);
      let s = 0;
      for (let c = 0; c < C; c++) s += (z[c] = Math.exp(z[c]! - max));
      for (let c = 0; c < C; c++) g[c] = z[c]! / s - (c === L.labels[i] ? 1 : 0);
      for (let k = 0; k < H; k++) {
        let acc = 0;
        for (let c = 0; c < C; c++) {
          acc += W2[k * C + c]! * g[c]!;
          if (a[k]! > 0) W2[k * C + c]! -= lr * a[k]! * g[c]!;
        }
        dh[k] = a[k]! > 0 ? acc : 0;
      }
      for (let c = 0; c < C; c++) b2[c]! -= lr * g[c]!;
      for (let k = 0; k < H; k++) b1[k]! -= lr * dh[k]!;
      for (let p = X.indptr[i]!; p < X.indptr[i + 1]!; p++) {
        const xv = X.values[p]!;
        const base = X.indices[p]! * H;
        for (let k = 0; k < H; k++) if (dh[k] !== 0) W1[base + k]! -= lr * xv * dh[k]!;
      }
    }
    log(`  epoch ${ep + 1}/${EPOCHS}, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const Xt = toCsr(test.map((e) => v.transform(e.text, lang)), v.size);
  const logSoftmax = (r: Float64Array, t: number): Float64Array => {
    let max = -Infinity;
    for (const x of r) max = Math.max(max, x / t);
    let s = 0;
    for (const x of r) s += Math.exp(x / t - max);
    return r.map((x) => x / t - max - Math.log(s));
  };
  for (const w of [0, 0.3, 0.5, 1]) {
    let right = 0;
    let n = 0;
    for (let i = 0; i < Xt.rows; i++) {
      const gold = L.valLabels[i]!;
      if (gold < 0 || L.rej[gold]) continue;
      forward(Xt, i);
      const lm = logSoftmax(z, 1);
      const ll = logSoftmax(L.val.subarray(i * C, (i + 1) * C), L.T);
      let best = -1;
      let bestS = -Infinity;
      for (let c = 0; c < C; c++) {
        const sc = (1 - w) * ll[c]! + w * lm[c]!;
        if (!L.rej[c] && sc > bestS) (bestS = sc), (best = c);
      }
      n++;
      if (best === gold) right++;
    }
    process.stdout.write(`${ds} MLP H=${H}, weight ${w} (0 = linear alone, 1 = MLP alone): in-scope accuracy ${((100 * right) / n).toFixed(2)}\n`);
  }
}

const [mode, ds = 'clinc', seed = '1'] = process.argv.slice(2);
(mode === 'mlp' ? mlp(ds) : mode === 'correctness' ? correctness(ds, Number(seed)) : Promise.reject(new Error('usage: nlu-experiments.ts correctness|mlp [clinc|banking] [seed]'))).catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});

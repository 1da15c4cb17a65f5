// The speed peer of the caser_train row of bench/conv_bench.cc: the same Caser
// network and training step (models/seq/caser.h: its network defaults, one
// target per window, random init, adagrad lr 0.05) in
// TensorFlow.js 4.22 (`@tensorflow/tfjs` for the gradients and the optimizer,
// `@tensorflow/tfjs-backend-wasm` with its single-thread SIMD binary).
//
// Data, as conv_bench: 600 users x 150 item ids drawn Zipf(1.0) over a catalog
// of N = 3,416 (seeded; the same distributions as conv_bench, not the same
// stream). One example per (user, position t >= 1): the L = 5 items before t
// (front-padded with the padding id N when t < 5) predict item t; 89,400
// examples, shuffled, mini-batches of 32 (the last one 24), one epoch.
// Network: item embeddings E ((N+1) x 50, row N the zero padding row, never
// trained); horizontal convolutions of heights 1..5, 16 filters each (h x 50,
// with bias), max over positions, ReLU -> 80 features; a vertical convolution,
// 4 filters of 5 x 1 (no bias) -> 200 features; concatenated (280), dropout
// 0.2 (inverted), Dense(280 -> 50) + ReLU = z; scores z W'^T + b' over the
// candidates: the batch's 32 targets plus 256 shared negatives drawn uniformly
// over the catalog. Loss: softmax cross-entropy over the candidates, a row's
// own target in another column masked, mean over rows. Adagrad lr 0.05; l2
// 1e-6 added to the gradient of the dense weights every step and of the
// embedding and output rows the batch touches. No user embedding
// (user_vector=none).
//
// How it is written: tf ops on tf.variable weights, gradients by
// tf.variableGrads, tf.train.adagrad's applyGradients. The convolutions are
// im2col products, as nn::Conv1d computes them: tf.conv1d cannot train on the
// wasm backend (tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel);
// tf.conv3d, which can, took 7x longer for the five heights, forward plus
// backward. The im2col rows are built from slices and a concat (forward plus
// backward on these shapes, about 1.3x faster than a constant one-hot product
// and 1.5x faster than a gather). The gather, matMul, bias and softmax
// gradients are replaced as in bench/tfjs_gru.mjs (ops in bench/tfjs_setup.mjs;
// checked there with --check-grads). Differences from localrec, all TF.js limitations or noise:
//  - Adagrad updates whole tensors (no sparse-row updates in TF.js): every step
//    touches all of E and W' (the untouched rows get a zero step, as in
//    localrec's lazy update, so the arithmetic is the same; the work is not).
//  - Adagrad's denominator is sqrt(acc + 1e-7) in TF.js, sqrt(acc) + 1e-6 in
//    localrec (both start from a zero accumulator).
//  - max over positions: TF.js sends the gradient to every position tying
//    the maximum (e.g. windows all padding); localrec to one.
//
// Prints one JSON line with the keys conv_bench prints, so bench/run.mjs puts
// the number in the row of the C++ figure ("row_impl"; `impl` names the column):
//   {"bench":"caser_train","impl":"tfjs-wasm","row_impl":"localrec caser (1 epoch, T=1, random init, lr 0.05)",
//    "items":3416,"L":5,"d":50,"events_per_s":..,"first_loss":..,"last_loss":..}
// first_loss / last_loss: the mean loss of the first and of the last 20
// mini-batches (it decreases: the model trains). If training fails on the
// wasm backend the cpu backend is used and impl is "tfjs-cpu" (with a
// "fallback" field saying why; only the first 3,200 examples are then timed).
//
// Timing: a throwaway model trains 5 mini-batches first (kernel set-up and the
// JIT), then a fresh model trains one epoch; events/s = examples / the
// epoch's wall time (batch building in JS included, as localrec's fit includes
// its own).
//
//   node bench/tfjs_caser.mjs [--events N] [--profile]
// (--events: stop after N examples, for quick checks; --profile: kernel times
// of 20 mini-batches by tf.profile, no measurement.)
import * as tf from '@tensorflow/tfjs';
import { addBiasFast, fillSampledMask, gatherRows, initWasm, makeRng, makeSampler } from './tfjs_setup.mjs';
import { matMulFast, softmaxCrossEntropy, useBackend, zipfItems } from './tfjs_setup.mjs';

const N_ITEMS = 3416;
const USERS = 600;
const PER_USER = 150;
const L = 5;
const D = 50;
const NH = 16;
const NV = 4;
const FEATURES = L * NH + NV * D;
const DROPOUT = 0.2;
const NEG = 256;
const BATCH = 32;
const LR = 0.05;
const L2 = 1e-6;
const PAD = N_ITEMS;
const CPU_EVENTS = 3200;  // events measured when falling back to the cpu backend
const ROW_IMPL = 'localrec caser (1 epoch, T=1, random init, lr 0.05)';  // conv_bench's impl string

const argv = process.argv.slice(2);
const eArg = argv.indexOf('--events');
const MAX_EVENTS = eArg >= 0 ? Number(argv[eArg + 1]) : Infinity;
if (!(MAX_EVENTS > 0)) throw new Error(`tfjs_caser: --events must be a positive number, got ${argv[eArg + 1]}`);

// ---- parameters ----

function uniformVar(rng, shape, a) {
  const v = new Float32Array(shape.reduce((x, y) => x * y, 1));
  for (let i = 0; i < v.length; ++i) v[i] = (2 * rng() - 1) * a;
  return tf.tidy(() => tf.variable(tf.tensor(v, shape)));
}

// Glorot uniform as nn::initGlorotUniform: U(-a, a), a = sqrt(6 / (fanIn + fanOut)).
const glorotVar = (rng, shape, fanIn, fanOut) => uniformVar(rng, shape, Math.sqrt(6 / (fanIn + fanOut)));

// N(0, stddev^2) by Box-Muller; rows listed in `zeroRows` set to 0.
function normalVar(rng, shape, stddev, zeroRows = []) {
  const v = new Float32Array(shape[0] * shape[1]);
  for (let i = 0; i < v.length; ++i) {
    const r = Math.sqrt(-2 * Math.log(1 - rng()));
    v[i] = stddev * r * Math.cos(2 * Math.PI * rng());
  }
  for (const row of zeroRows) v.fill(0, row * shape[1], (row + 1) * shape[1]);
  return tf.tidy(() => tf.variable(tf.tensor2d(v, shape)));
}

class CaserNet {
  constructor(seed) {
    const rng = makeRng(seed);
    this.rng = rng;
    this.emb = normalVar(rng, [N_ITEMS + 1, D], 1 / D, [PAD]);
    this.convW = [];
    this.convB = [];
    for (let h = 1; h <= L; ++h) {
      // Row k*D + c: offset k within the window, embedding column c (im2col order).
      this.convW.push(glorotVar(rng, [h * D, NH], h * D, h * NH));
      this.convB.push(tf.tidy(() => tf.variable(tf.zeros([NH]))));
    }
    this.vertW = glorotVar(rng, [NV, L], L, NV);
    this.fcW = glorotVar(rng, [FEATURES, D], FEATURES, D);
    this.fcB = tf.tidy(() => tf.variable(tf.zeros([D])));
    this.outW = normalVar(rng, [N_ITEMS, D], 1 / D);
    this.outB = tf.tidy(() => tf.variable(tf.zeros([N_ITEMS])));
    this.dense = [...this.convW, ...this.convB, this.vertW, this.fcW, this.fcB];  // l2 every step
    this.vars = [this.emb, ...this.dense, this.outW, this.outB];
    // localrec's adagrad starts from a zero accumulator.
    this.opt = tf.train.adagrad(LR, 0);
    this.sample = makeSampler(new Float64Array(N_ITEMS), 0, makeRng(seed + 1));  // uniform
    this.ids = new Int32Array(BATCH * L);
    this.padMask = new Float32Array(BATCH * L);
    this.targets = new Int32Array(BATCH);
    this.candidates = new Int32Array(BATCH + NEG);
    this.mask = new Float32Array(BATCH * (BATCH + NEG));
    this.drop = new Float32Array(BATCH * FEATURES);
    this.consts = new Map();  // per batch size n: index tensors that depend only on n
  }

  // Index tensors for a batch of n rows (kept across batches).
  constsFor(n) {
    if (this.consts.has(n)) return this.consts.get(n);
    const c = n + NEG;
    const flat = new Int32Array(n);
    for (let i = 0; i < n; ++i) flat[i] = i * c + i;
    const k = {
      cols: tf.keep(tf.range(0, n, 1, 'int32')),  // row i's target is column i
      flat: tf.keep(tf.tensor1d(flat, 'int32')),
    };
    this.consts.set(n, k);
    return k;
  }

  // The batch of examples ex[from, from + n): tensors (call inside a tidy).
  batch(seqs, ex, from, n) {
    const rng = this.rng;
    for (let r = 0; r < n; ++r) {
      const e = ex[from + r];
      const u = Math.floor(e / PER_USER);
      const t = e % PER_USER;
      const base = u * PER_USER;
      for (let j = 0; j < L; ++j) {
        const pos = t - L + j;  // window position j holds event t - L + j (padding before the start)
        const id = pos >= 0 ? seqs[base + pos] : PAD;
        this.ids[r * L + j] = id;
        this.padMask[r * L + j] = id === PAD ? 0 : 1;
      }
      this.targets[r] = seqs[base + t];
    }
    const c = n + NEG;
    const cand = this.candidates.subarray(0, c);
    cand.set(this.targets.subarray(0, n));
    // (The sampler fills from n on; a view of length c keeps the negatives at [n, c).)
    this.sample(cand, n);
    fillSampledMask(this.mask, this.targets, cand, n);
    const keep = 1 / (1 - DROPOUT);
    for (let i = 0; i < n * FEATURES; ++i) this.drop[i] = rng() < DROPOUT ? 0 : keep;
    // Rows that get l2 (distinct, padding excluded), as localrec's touched rows.
    const embRows = [...new Set(this.ids.subarray(0, n * L))].filter((id) => id !== PAD);
    const outRows = [...new Set(cand)];
    return {
      n,
      ids: tf.tensor1d(this.ids.subarray(0, n * L), 'int32'),
      padMask: tf.tensor2d(this.padMask.subarray(0, n * L), [n * L, 1]),
      cand: tf.tensor1d(cand, 'int32'),
      maskAdd: tf.tensor2d(this.mask.subarray(0, n * c), [n, c]),
      drop: tf.tensor2d(this.drop.subarray(0, n * FEATURES), [n, FEATURES]),
      embRows: tf.tensor2d(embRows, [embRows.length, 1], 'int32'),
      outRows: tf.tensor2d(outRows, [outRows.length, 1], 'int32'),
      ...this.constsFor(n),
    };
  }

  loss({ n, ids, padMask, cand, maskAdd, drop, cols, flat }) {
    const x = tf.mul(gatherRows(this.emb, ids), padMask);  // [n*L, D], padding rows 0
    const x3 = tf.reshape(x, [n, L, D]);
    const feats = [];
    for (let h = 1; h <= L; ++h) {
      const P = L - h + 1;
      // im2col: row (b, p) = x[b, p], ..., x[b, p + h - 1] side by side.
      const shifted = [];
      for (let k = 0; k < h && h > 1; ++k) shifted.push(tf.slice(x3, [0, k, 0], [n, P, D]));
      const im2col = h === 1 ? x : tf.reshape(tf.concat(shifted, 2), [n * P, h * D]);
      const conv = addBiasFast(matMulFast(im2col, this.convW[h - 1]), this.convB[h - 1]);  // [n*P, NH]
      const pooled = P > 1 ? tf.max(tf.reshape(conv, [n, P, NH]), 1) : conv;
      feats.push(tf.relu(pooled));
    }
    // Vertical: filter f = sum over l of vertW[f, l] x[b, l, :].
    const xT = tf.reshape(tf.transpose(x3, [1, 0, 2]), [L, n * D]);
    const v = matMulFast(this.vertW, xT);  // [NV, n*D]
    feats.push(tf.reshape(tf.transpose(tf.reshape(v, [NV, n, D]), [1, 0, 2]), [n, NV * D]));
    const dropped = tf.mul(tf.concat(feats, 1), drop);
    const z = tf.relu(addBiasFast(matMulFast(dropped, this.fcW), this.fcB));  // [n, D]
    const wc = gatherRows(this.outW, cand);  // [c, D]
    const logits = addBiasFast(matMulFast(z, tf.transpose(wc)), gatherRows(this.outB, cand));
    return softmaxCrossEntropy(logits, cols, flat, maskAdd);
  }

  // One mini-batch: gradients, l2, Adagrad; returns the loss (before the update).
  step(seqs, ex, from, n) {
    return tf.tidy(() => {
      const b = this.batch(seqs, ex, from, n);
      const { value, grads } = tf.variableGrads(() => this.loss(b), this.vars);
      for (const p of this.dense) grads[p.name] = tf.add(grads[p.name], tf.mul(p, L2));
      for (const [p, rows] of [[this.emb, b.embRows], [this.outW, b.outRows]]) {
        const rowL2 = tf.mul(tf.gatherND(p, rows), L2);
        grads[p.name] = tf.add(grads[p.name], tf.scatterND(rows, rowL2, p.shape));
      }
      this.opt.applyGradients(grads);
      return value.dataSync()[0];
    });
  }

  dispose() {
    for (const v of this.vars) v.dispose();
    for (const k of this.consts.values()) tf.dispose([k.cols, k.flat]);
    this.opt.dispose();
  }
}

// ---- measurement ----

// Examples e = u * PER_USER + t for t >= 1, shuffled (Fisher-Yates).
function examples(rng) {
  const ex = new Int32Array(USERS * (PER_USER - 1));
  let q = 0;
  for (let u = 0; u < USERS; ++u) for (let t = 1; t < PER_USER; ++t) ex[q++] = u * PER_USER + t;
  for (let i = ex.length - 1; i > 0; --i) {
    const j = Math.floor(rng() * (i + 1));
    [ex[i], ex[j]] = [ex[j], ex[i]];
  }
  return ex;
}

// Trains on examples [0, count) of ex; returns { seconds, losses }.
function train(seqs, ex, count, seed) {
  const before = tf.memory().numTensors;
  const net = new CaserNet(seed);
  const losses = [];
  const t0 = performance.now();
  for (let from = 0; from < count; from += BATCH) losses.push(net.step(seqs, ex, from, Math.min(BATCH, count - from)));
  const seconds = (performance.now() - t0) / 1000;
  net.dispose();
  const leaked = tf.memory().numTensors - before;
  if (leaked > 0) console.error(`tfjs_caser: ${leaked} tensors leaked`);
  return { seconds, losses };
}

// --profile: the kernels of 20 mini-batches by total time (tf.profile), to stderr.
async function profile(seqs, ex) {
  const net = new CaserNet(42);
  for (let from = 0; from < 5 * BATCH; from += BATCH) net.step(seqs, ex, from, BATCH);
  const t0 = performance.now();
  const info = await tf.profile(() => {
    for (let from = 5 * BATCH; from < 25 * BATCH; from += BATCH) net.step(seqs, ex, from, BATCH);
  });
  const wall = performance.now() - t0;
  const byName = new Map();
  for (const k of info.kernels) {
    const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += await k.kernelTimeMs;
    e.calls += 1;
    byName.set(k.name, e);
  }
  const total = [...byName.values()].reduce((a, e) => a + e.ms, 0);
  console.error(`tfjs_caser: profile of 20 mini-batches: ${info.kernels.length / 20} kernels per batch, ` +
    `kernel time ${(total / 20).toFixed(2)} ms per batch, wall ${(wall / 20).toFixed(2)} ms (profiling inflates it)`);
  for (const [name, e] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
    console.error(`  ${name}: ${(e.ms / 20).toFixed(3)} ms, ${e.calls / 20} calls per batch`);
  }
  net.dispose();
}

const meanOf = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main() {
  await initWasm('tfjs_caser');
  const seqs = zipfItems(USERS * PER_USER, N_ITEMS, makeRng(9));
  const ex = examples(makeRng(42));
  let count = Math.min(ex.length, MAX_EVENTS);

  let impl = 'tfjs-wasm';
  let fallback = null;
  try {
    train(seqs, ex, 5 * BATCH, 7);  // warm-up (throwaway model)
  } catch (e) {
    fallback = `wasm training failed: ${e?.message ?? e}`;
    console.error(`tfjs_caser: ${fallback}; using the cpu backend`);
    await useBackend('tfjs_caser', 'cpu');
    impl = 'tfjs-cpu';
    train(seqs, ex, 5 * BATCH, 7);
    // The cpu backend trains about 50 events/s: a whole epoch would take half an hour.
    count = Math.min(count, CPU_EVENTS);
  }
  if (argv.includes('--profile')) return profile(seqs, ex);
  const { seconds, losses } = train(seqs, ex, count, 42);
  const last = losses[losses.length - 1];
  if (!Number.isFinite(last)) throw new Error(`tfjs_caser: loss is ${last}`);
  const first20 = meanOf(losses.slice(0, 20));
  const last20 = meanOf(losses.slice(-20));
  console.error(
    `tfjs_caser: ${impl}: ${count} events in ${losses.length} mini-batches, ${seconds.toFixed(2)} s; ` +
      `loss first ${losses[0].toFixed(3)}, mean of first 20 ${first20.toFixed(3)}, mean of last 20 ${last20.toFixed(3)}`,
  );
  console.log(
    JSON.stringify({
      bench: 'caser_train',
      impl,
      row_impl: ROW_IMPL,
      items: N_ITEMS,
      L,
      d: D,
      events_per_s: Math.round(count / seconds),
      first_loss: +first20.toFixed(4),
      last_loss: +last20.toFixed(4),
      ...(count < ex.length ? { events: `${count} of ${ex.length}` } : {}),
      ...(fallback ? { fallback } : {}),
      simd: impl === 'tfjs-wasm' ? 'wasm SIMD, 1 thread' : 'plain JS kernels, 1 thread',
      tfjs: tf.version_core,
    }),
  );
}

main().catch((e) => {
  console.error(e?.stack ?? e?.message ?? String(e));
  process.exit(1);
});

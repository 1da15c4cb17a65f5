// The speed peer of bench/nn_bench.cc: the same GRU4Rec-like training and
// inference in TensorFlow.js 4.22 (`@tensorflow/tfjs` for the gradients and the
// Adam optimizer, `@tensorflow/tfjs-backend-wasm` with its single-thread SIMD
// binary). The config of notes/peers.md, as nn_bench runs it:
//   catalog N = 3416, items of 1,000 x 100 events drawn Zipf(1.0) (seeded);
//   Embedding(N, 64) -> GRU(64 -> H, cuDNN variant as src/nn/gru.h) -> Dense(H -> N);
//   windows of 20 steps from a zero state, 64 windows per batch (1,280 events),
//   the next item at every step; Adam lr 1e-3.
//   negatives = 0: full softmax cross-entropy over all N items.
//   negatives = K: the 1,280 targets of the batch plus K shared negatives drawn
//   with probability ~ count^0.5 are the scored columns (Dense rows gathered);
//   a column holding the row's own target item, other than the row's own
//   column, is masked out of the softmax (as src/nn/loss.cc does).
// Inference: one GRU step from a carried state for one new item, then scores
// for all N items, batch 1 (the scores read back to JS every step).
//
// Prints JSON lines with the keys nn_bench prints, so bench/run.mjs puts the
// numbers in the rows of the C++ figures ("row_impl":"default"; `impl` names the
// column):
//   {"bench":"nn_gru_train","impl":"tfjs-wasm","row_impl":"default","hidden":64,"negatives":0,
//    "loss":"full_softmax","events_per_s":..,"last_loss":..}
//   {"bench":"nn_gru_infer_step","impl":"tfjs-wasm","row_impl":"default","hidden":64,"items":3416,"step_us":..}
// The loss of every measured batch goes to stderr (it decreases: the model trains).
//
// How the model is written: tf ops on tf.variable weights, gradients by
// tf.variableGrads through optimizer.minimize. Some gradients are replaced
// through tf.customGrad, as a TF.js user who wants this model to train (fast)
// on the wasm backend has to (profiled with tf.profile on this config):
//  - gather (embedding lookup, and the rows of the output layer in the sampled
//    variant): the stock gradient of tf.gather needs the kernel
//    UnsortedSegmentSum, which tfjs-backend-wasm 4.22 does not have (training
//    fails); here the table gradient is a tf.scatterND of the output gradient
//    rows (scatterND sums repeated ids).
//  - matMul: the stock gradient multiplies by transposed operands
//    (matMul(dy, b, false, true), matMul(a, dy, true, false)), which the wasm
//    backend runs about 10x slower than the same product on an explicitly
//    transposed operand (1280x3416x64: ~700 ms vs ~50-110 ms). Here the
//    transposes are explicit. --stock-matmul-grad measures the stock matMul
//    gradient instead (printed with impl "tfjs-wasm-stockgrad").
//  - bias add: the stock bias gradient is a Sum over axis 0 (~80 ms on
//    [1280, 3416]); here it is the product ones[1, n] dy.
//  - softmax cross-entropy: written out so that its gradient reuses the
//    forward pass's exponentials (the Exp kernel is slow: ~70 ms per pass).
// Side matters computed in JS: the batch ids and the sampled-softmax mask (the
// broadcast Equal kernels take ~1 s on [1280, 3328]).
// Adam updates whole tensors (no sparse-row updates in TF.js), so the
// embedding table and, with negatives, the output matrix get a dense step.
// --check-grads compares every replaced gradient with the stock formulation
// (gather as a one-hot product) on one batch of an H=8 model, and exits.
//
// Timing: per config, 2 warm-up batches, then 3 samples of at least
// SAMPLE_S seconds (at least one batch each); the figure is the median.
// Inference: 0.3 s warm-up, then 3 samples of >= 0.3 s, median.
//
//   node bench/tfjs_gru.mjs [--stock-matmul-grad] [--sample-seconds S] [--check-grads]
import * as tf from '@tensorflow/tfjs';
import {
  addBiasFast,
  fillSampledMask,
  gatherRows,
  initWasm,
  makeRng,
  makeSampler,
  matMulFast,
  median,
  softmaxCrossEntropy,
  useBackend,
  zipfItems,
} from './tfjs_setup.mjs';

const N_ITEMS = 3416;
const EMB = 64;
const T = 20;
const B = 64;
const EVENTS = T * B;
const USERS = 1000;
const PER_USER = 100;

const argv = process.argv.slice(2);
const stockMatMulGrad = argv.includes('--stock-matmul-grad');
const sArg = argv.indexOf('--sample-seconds');
const SAMPLE_S = sArg >= 0 ? Number(argv[sArg + 1]) : 1.5;
if (!(SAMPLE_S > 0)) throw new Error(`tfjs_gru: --sample-seconds must be a positive number, got ${argv[sArg + 1]}`);

// ---- data (seeded; the same distributions as nn_bench, not the same stream) ----

// Inputs and targets of batch `windowStart`, time-major (row t*B + b), as nn_bench.
function fillBatch(data, windowStart, inputs, targets) {
  const span = data.length - T - 1;
  for (let b = 0; b < B; ++b) {
    const base = (windowStart + b * (T + 1)) % span;
    for (let t = 0; t < T; ++t) {
      inputs[t * B + b] = data[base + t];
      targets[t * B + b] = data[base + t + 1];
    }
  }
}

// ---- ops with replaced gradients (bench/tfjs_setup.mjs) ----

// The stock TF.js formulation of the same functions (for --check-grads).
function stockSoftmaxCrossEntropy(logits, targetCols, flatTargets, maskAdd) {
  const s = maskAdd ? tf.add(logits, maskAdd) : logits;
  return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(s), tf.oneHot(targetCols, s.shape[1])), 1)));
}
const OPS_FAST = { gather: gatherRows, mm: matMulFast, addBias: addBiasFast, ce: softmaxCrossEntropy };
// --stock-matmul-grad: the stock matMul gradient (the gather gradient must stay replaced on wasm).
const OPS_RUN = stockMatMulGrad ? { ...OPS_FAST, mm: (a, b) => tf.matMul(a, b) } : OPS_FAST;
// The gather here is a one-hot product (whose stock gradient runs on wasm).
function oneHotGather(t, ids) {
  const rows = tf.matMul(tf.oneHot(ids, t.shape[0]), t.rank === 1 ? tf.reshape(t, [-1, 1]) : t);
  return t.rank === 1 ? tf.reshape(rows, [-1]) : rows;
}
const OPS_STOCK = { gather: oneHotGather, mm: (a, b) => tf.matMul(a, b), addBias: (x, b) => tf.add(x, b), ce: stockSoftmaxCrossEntropy };

// ---- the model ----

function glorotGates(rng, rowsIn, h) {
  // [rowsIn, 3H] (the transpose of gru.h's 3H x I layout): per gate block, U(-a, a), a = sqrt(6 / (in + H)).
  const a = Math.sqrt(6 / (rowsIn + h));
  const v = new Float32Array(rowsIn * 3 * h);
  for (let i = 0; i < v.length; ++i) v[i] = (2 * rng() - 1) * a;
  return tf.variable(tf.tensor2d(v, [rowsIn, 3 * h]));
}

function uniformVar(rng, shape, a) {
  const v = new Float32Array(shape.reduce((x, y) => x * y, 1));
  for (let i = 0; i < v.length; ++i) v[i] = (2 * rng() - 1) * a;
  return tf.variable(tf.tensor(v, shape));
}

class Net {
  constructor(hidden, negatives, counts, ops) {
    this.ops = ops;
    this.h = hidden;
    this.negatives = negatives;
    const rng = makeRng(7);
    this.emb = uniformVar(rng, [N_ITEMS, EMB], 0.05);
    this.wi = glorotGates(rng, EMB, hidden);     // [64, 3H]
    this.wh = glorotGates(rng, hidden, hidden);  // [H, 3H]
    this.bi = tf.variable(tf.zeros([3 * hidden]));
    this.bh = tf.variable(tf.zeros([3 * hidden]));
    const a = Math.sqrt(6 / (hidden + N_ITEMS));
    // Full softmax: W [H, N] (logits = h W, no transposed product). Sampled:
    // W [N, H] (row j = item j, gathered), as src/nn/dense.h stores it.
    this.wOut = uniformVar(rng, negatives ? [N_ITEMS, hidden] : [hidden, N_ITEMS], a);
    this.bOut = tf.variable(tf.zeros([N_ITEMS]));
    this.vars = [this.emb, this.wi, this.wh, this.bi, this.bh, this.wOut, this.bOut];
    this.opt = tf.train.adam(1e-3);
    this.sample = makeSampler(counts, 0.5, makeRng(11));
    this.inputs = new Int32Array(EVENTS);
    this.targets = new Int32Array(EVENTS);
    this.candidates = new Int32Array(EVENTS + negatives);
    this.flat = new Int32Array(EVENTS);
    this.mask = negatives ? new Float32Array(EVENTS * (EVENTS + negatives)) : null;
  }

  // One GRU step (cuDNN variant): xi = x W_i + b_i for this step [B, 3H], h [B, H].
  gruStep(xi, h) {
    const H = this.h;
    const gh = this.ops.addBias(this.ops.mm(h, this.wh), this.bh);
    const [xrz, xn] = tf.split(xi, [2 * H, H], 1);
    const [hrz, hn] = tf.split(gh, [2 * H, H], 1);
    const [r, z] = tf.split(tf.sigmoid(tf.add(xrz, hrz)), 2, 1);
    const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
    return tf.add(n, tf.mul(z, tf.sub(h, n)));  // (1 - z) n + z h
  }

  // Hidden states of all steps, [T*B, H], time-major.
  states(inputIds) {
    const x = this.ops.gather(this.emb, inputIds);             // [T*B, 64]
    const xi = this.ops.addBias(this.ops.mm(x, this.wi), this.bi);       // [T*B, 3H], all steps in one product
    // One split (gradient: one concat) rather than T slices (gradient: T pads to full size).
    const xis = tf.split(xi, T, 0);
    let h = tf.zeros([B, this.h]);
    const hs = [];
    for (let t = 0; t < T; ++t) {
      h = this.gruStep(xis[t], h);
      hs.push(h);
    }
    return tf.concat(hs, 0);
  }

  // The batch tensors of batch `windowStart` (call inside a tidy).
  batch(data, windowStart) {
    fillBatch(data, windowStart, this.inputs, this.targets);
    const inputIds = tf.tensor1d(this.inputs, 'int32');
    const c = this.negatives ? EVENTS + this.negatives : N_ITEMS;
    for (let i = 0; i < EVENTS; ++i) this.flat[i] = i * c + (this.negatives ? i : this.targets[i]);
    const flat = tf.tensor1d(this.flat, 'int32');
    if (!this.negatives) return { inputIds, cols: tf.tensor1d(this.targets, 'int32'), flat, candIds: null, maskAdd: null };
    this.candidates.set(this.targets);
    this.sample(this.candidates, EVENTS);
    const candIds = tf.tensor1d(this.candidates, 'int32');
    const cols = tf.range(0, EVENTS, 1, 'int32');  // row i's target is column i
    // Masked: column j holds row i's target item and j != i.
    fillSampledMask(this.mask, this.targets, this.candidates, EVENTS);
    const maskAdd = tf.tensor2d(this.mask, [EVENTS, c]);
    return { inputIds, cols, flat, candIds, maskAdd };
  }

  loss({ inputIds, cols, flat, candIds, maskAdd }) {
    const hs = this.states(inputIds);
    let logits;
    if (this.negatives) {
      const w = tf.transpose(this.ops.gather(this.wOut, candIds));  // [H, C]
      logits = this.ops.addBias(this.ops.mm(hs, w), this.ops.gather(this.bOut, candIds));
    } else {
      logits = this.ops.addBias(this.ops.mm(hs, this.wOut), this.bOut);
    }
    return this.ops.ce(logits, cols, flat, maskAdd);
  }

  // One training batch; returns its loss (before the update).
  step(data, windowStart) {
    return tf.tidy(() => {
      const batch = this.batch(data, windowStart);
      const loss = this.opt.minimize(() => this.loss(batch), true, this.vars);
      return loss.dataSync()[0];
    });
  }

  // One inference step: new state from `state` [1, H] and item id; scores [N] read back.
  infer(state, item) {
    return tf.tidy(() => {
      const x = tf.gather(this.emb, tf.tensor1d([item], 'int32'));
      const xi = tf.add(tf.matMul(x, this.wi), this.bi);
      const h = this.gruStep(xi, state);
      const scores = tf.add(tf.matMul(h, this.wOut), this.bOut);
      scores.dataSync();
      return h;
    });
  }

  dispose() {
    for (const v of this.vars) v.dispose();
    this.opt.dispose();
  }
}

// ---- measurement ----

function measureTrain(impl, hidden, negatives, data, counts, samples) {
  const net = new Net(hidden, negatives, counts, OPS_RUN);
  const losses = [];
  let batch = 0;
  for (let w = 0; w < 2; ++w) losses.push(net.step(data, batch++ * 997));  // warm-up
  const before = tf.memory().numTensors;  // (after Adam created its moment variables)
  const rates = [];
  for (let s = 0; s < samples; ++s) {
    let n = 0;
    const t0 = performance.now();
    let elapsed = 0;
    do {
      losses.push(net.step(data, batch++ * 997));
      ++n;
      elapsed = (performance.now() - t0) / 1000;
    } while (elapsed < SAMPLE_S);
    rates.push((n * EVENTS) / elapsed);
  }
  const leaked = tf.memory().numTensors - before;
  net.dispose();
  if (leaked > 0) console.error(`tfjs_gru: ${impl} H=${hidden} K=${negatives}: ${leaked} tensors leaked`);
  const last = losses[losses.length - 1];
  if (!Number.isFinite(last)) throw new Error(`tfjs_gru: ${impl} H=${hidden} K=${negatives}: loss is ${last}`);
  console.error(
    `tfjs_gru: ${impl} H=${hidden} negatives=${negatives}: ${batch} batches, loss ${losses.map((l) => l.toFixed(3)).join(' ')}`,
  );
  return { eventsPerS: median(rates), lastLoss: last };
}

function measureInfer(hidden, data, counts, samples) {
  const net = new Net(hidden, 0, counts, OPS_RUN);
  let state = tf.zeros([1, hidden]);
  let k = 0;
  const run = (n) => {
    for (let i = 0; i < n; ++i) {
      const next = net.infer(state, data[k++ % data.length]);
      state.dispose();
      state = next;
    }
  };
  const w0 = performance.now();
  while (performance.now() - w0 < 300) run(20);  // warm-up (the JIT and the per-op overhead of TF.js settle)
  const times = [];
  for (let s = 0; s < samples; ++s) {
    let n = 0;
    const t0 = performance.now();
    let elapsed = 0;
    do {
      run(20);
      n += 20;
      elapsed = performance.now() - t0;
    } while (elapsed < 300);
    times.push((elapsed * 1000) / n);
  }
  state.dispose();
  net.dispose();
  return median(times);
}

// The gradients of the replaced ops against stock ones (wasm backend), on one
// batch of a small model.
async function checkGrads(data, counts) {
  let worst = 0;
  for (const negatives of [0, 512]) {
    const fast = new Net(8, negatives, counts, OPS_FAST);
    const stock = new Net(8, negatives, counts, OPS_STOCK);
    tf.tidy(() => {
      const batch = fast.batch(data, 997);
      const a = tf.variableGrads(() => fast.loss(batch), fast.vars);
      const b = tf.variableGrads(() => stock.loss(batch), stock.vars);
      const la = a.value.dataSync()[0];
      const lb = b.value.dataSync()[0];
      const lossDiff = Math.abs(la - lb);
      console.error(`tfjs_gru: check negatives=${negatives}: loss ${la} vs stock ${lb}`);
      if (!(lossDiff < 1e-4)) throw new Error(`tfjs_gru: check: losses differ by ${lossDiff}`);
      fast.vars.forEach((v, i) => {
        const ga = a.grads[v.name];
        const gb = b.grads[stock.vars[i].name];
        const scale = tf.max(tf.abs(gb)).dataSync()[0];
        const diff = tf.max(tf.abs(tf.sub(ga, gb))).dataSync()[0];
        const rel = diff / Math.max(scale, 1e-12);
        worst = Math.max(worst, rel);
        console.error(`tfjs_gru: check negatives=${negatives} ${v.shape}: max |grad| ${scale.toExponential(3)}, max diff ${diff.toExponential(3)}`);
        if (!(rel < 1e-3)) throw new Error(`tfjs_gru: check: gradient of variable ${i} differs (relative ${rel})`);
      });
    });
    fast.dispose();
    stock.dispose();
  }
  console.error(`tfjs_gru: gradients match (worst relative difference ${worst.toExponential(2)})`);
}

async function main() {
  await initWasm('tfjs_gru');
  const data = zipfItems(USERS * PER_USER, N_ITEMS, makeRng(1));
  const counts = new Float64Array(N_ITEMS);
  for (const id of data) counts[id] += 1;
  if (argv.includes('--check-grads')) return checkGrads(data, counts);

  // (The cpu backend is not measured: its plain-JS kernels make one batch take seconds.)
  const runs = [{ backend: 'wasm', impl: stockMatMulGrad ? 'tfjs-wasm-stockgrad' : 'tfjs-wasm', hiddens: [64, 128], samples: 3 }];
  const extra = { row_impl: 'default', simd: 'wasm SIMD, 1 thread', tfjs: tf.version_core };
  for (const r of runs) {
    await useBackend('tfjs_gru', r.backend);
    for (const hidden of r.hiddens) {
      for (const negatives of [0, 512, 2048]) {
        const { eventsPerS, lastLoss } = measureTrain(r.impl, hidden, negatives, data, counts, r.samples);
        console.log(
          JSON.stringify({
            bench: 'nn_gru_train',
            impl: r.impl,
            hidden,
            negatives,
            loss: negatives ? 'sampled_softmax' : 'full_softmax',
            events_per_s: Math.round(eventsPerS),
            last_loss: +lastLoss.toFixed(4),
            ...extra,
          }),
        );
      }
      if (stockMatMulGrad) continue;  // inference has no gradients: measured in the default run
      const stepUs = measureInfer(hidden, data, counts, r.samples);
      console.log(
        JSON.stringify({ bench: 'nn_gru_infer_step', impl: r.impl, hidden, items: N_ITEMS, step_us: +stepUs.toFixed(1), ...extra }),
      );
    }
  }
}

main().catch((e) => {
  console.error(e?.stack ?? e?.message ?? String(e));
  process.exit(1);
});

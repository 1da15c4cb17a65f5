// Shared by the TensorFlow.js speed peers (bench/tfjs_matmul.mjs, tfjs_gru.mjs,
// tfjs_caser.mjs); not a benchmark itself (bench/run.mjs skips it).
//  - initWasm / useBackend: the backend setup. tfjs-backend-wasm with its
//    single-thread SIMD binary loaded from node_modules (no network): only that
//    .wasm maps to a real file, so if the backend picked the scalar or the
//    threaded build, loading fails instead of silently measuring something else.
//    The cpu backend (plain JS kernels) is available as a fallback.
//  - seeded data helpers: makeRng, zipfItems, makeSampler, median.
//  - ops whose gradients are replaced through tf.customGrad, so that a model
//    trains (fast) on the wasm backend (the reasons are in bench/tfjs_gru.mjs):
//    gatherRows, matMulFast, addBiasFast, softmaxCrossEntropy, fillSampledMask.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';

// Selects the wasm backend, SIMD, one thread. `tag` prefixes error messages.
// Returns { threads }.
export async function initWasm(tag) {
  const require = createRequire(import.meta.url);
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  const missing = '/nonexistent/only-the-single-thread-simd-build-is-allowed.wasm';
  tfwasm.setWasmPaths({
    'tfjs-backend-wasm.wasm': missing,
    'tfjs-backend-wasm-simd.wasm': path.join(dist, 'tfjs-backend-wasm-simd.wasm'),
    'tfjs-backend-wasm-threaded-simd.wasm': missing,
  });
  tfwasm.setThreadsCount(1);
  // Single thread: the threaded build would otherwise be chosen where workers exist.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) {
    throw new Error(`${tag}: this runtime has no WebAssembly SIMD; the peer number would be meaningless`);
  }
  await useBackend(tag, 'wasm');
  return { threads: tfwasm.getThreadsCount() };
}

// Switches to backend `name` ('wasm' after initWasm, or 'cpu') and checks it took.
export async function useBackend(tag, name) {
  if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');  // registers it (a no-op when loaded)
  if (!(await tf.setBackend(name))) throw new Error(`${tag}: the ${name} backend failed to initialize`);
  await tf.ready();
  if (tf.getBackend() !== name) throw new Error(`${tag}: backend is ${tf.getBackend()}, expected ${name}`);
}

// ---- seeded data ----

// mulberry32: a small seeded 32-bit generator; uniform() in [0, 1).
export function makeRng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// First index with cdf[i] >= u.
function lowerBound(cdf, u) {
  let lo = 0;
  let hi = cdf.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, cdf.length - 1);
}

// `count` item ids in [0, nItems) drawn Zipf(1.0): P(i) ~ 1 / (i + 1).
export function zipfItems(count, nItems, rng) {
  const cdf = new Float64Array(nItems);
  let sum = 0;
  for (let i = 0; i < nItems; ++i) cdf[i] = sum += 1 / (i + 1);
  const out = new Int32Array(count);
  for (let k = 0; k < count; ++k) out[k] = lowerBound(cdf, rng() * sum);
  return out;
}

// A sampler filling out[from..] with ids drawn with replacement with
// probability ~ counts^alpha (nn::NegativeSampler's law; alpha 0: uniform over
// all items, unseen ones included).
export function makeSampler(counts, alpha, rng) {
  const cdf = new Float64Array(counts.length);
  let sum = 0;
  for (let i = 0; i < counts.length; ++i) cdf[i] = sum += alpha === 0 ? 1 : counts[i] > 0 ? counts[i] ** alpha : 0;
  return (out, from) => {
    for (let k = from; k < out.length; ++k) out[k] = lowerBound(cdf, rng() * sum);
  };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

// ---- ops with replaced gradients ----

// Rows `ids` (int32 [n]) of table [rows, cols] (or entries of a vector);
// gradient: scatterND of dy into the table shape (sums repeated ids). The stock
// gradient needs UnsortedSegmentSum, which tfjs-backend-wasm 4.22 lacks.
export function gatherRows(table, ids) {
  const op = tf.customGrad((tab) => ({
    value: tf.gather(tab, ids),
    gradFunc: (dy) => tf.scatterND(ids.expandDims(1), dy, tab.shape),
  }));
  return op(table);
}

// a [m, k] times b [k, n]; gradient with explicitly transposed operands (the
// wasm backend runs transposed-operand products about 10x slower).
// (Tensors a gradient needs must go through save(): the forward pass of
// tf.variableGrads disposes the intermediates it does not return.)
export const matMulFast = tf.customGrad((a, b, save) => {
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy, [sa, sb]) => [tf.matMul(dy, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy)],
  };
});

// x [n, c] plus a bias b [c] on every row; the gradient of b as one product
// ones[1, n] dy (the stock one, a Sum over axis 0, is slow on the wasm backend).
export const addBiasFast = tf.customGrad((x, b) => ({
  value: tf.add(x, b),
  gradFunc: (dy) => [dy, tf.reshape(tf.matMul(tf.ones([1, dy.shape[0]]), dy), [dy.shape[1]])],
}));

// Mean over rows of the softmax cross-entropy of logits [n, c] with the target
// column targetCols[i] (int32 [n]) of each row; gradient (softmax - onehot) / n,
// from the exponentials of the forward pass (the wasm Exp kernel is slow: one
// pass instead of two). flatTargets: int32 [n] with i * c + targetCols[i].
// maskAdd: null or [n, c] with 0 (scored) or -1e9 (left out of the softmax).
export function softmaxCrossEntropy(logits, targetCols, flatTargets, maskAdd) {
  const [n, c] = logits.shape;
  const op = tf.customGrad((x, save) => {
    const s = maskAdd ? tf.add(x, maskAdd) : x;
    const m = tf.max(s, 1, true);    // [n, 1]
    const e = tf.exp(tf.sub(s, m));  // [n, c]
    const sum = tf.sum(e, 1, true);  // [n, 1]
    const lse = tf.add(tf.log(sum), m);
    const picked = tf.gather(tf.reshape(s, [n * c]), flatTargets);  // s[i, target_i]
    save([e, sum]);
    return {
      value: tf.mean(tf.sub(tf.reshape(lse, [n]), picked)),
      gradFunc: (dy, [se, ssum]) => {
        const dyN = tf.div(dy, n);
        return tf.sub(tf.mul(se, tf.div(dyN, ssum)), tf.mul(tf.oneHot(targetCols, c), dyN));
      },
    };
  });
  return op(logits);
}

// The sampled-softmax mask of nn::softmaxCrossEntropy for n rows whose target
// is column i (candidates[i] === targets[i]) among c = candidates.length
// columns: mask[i * c + j] = -1e9 where column j != i holds row i's target
// item, else 0. Built in JS: the broadcast Equal/NotEqual kernels of the wasm
// backend are slow on these shapes. mask: Float32Array of at least n * c.
export function fillSampledMask(mask, targets, candidates, n) {
  const c = candidates.length;
  mask.fill(0, 0, n * c);
  const colsOf = new Map();
  for (let j = 0; j < c; ++j) {
    const id = candidates[j];
    if (!colsOf.has(id)) colsOf.set(id, []);
    colsOf.get(id).push(j);
  }
  for (let i = 0; i < n; ++i) {
    for (const j of colsOf.get(targets[i])) if (j !== i) mask[i * c + j] = -1e9;
  }
}

// The speed peer: TensorFlow.js `tfjs-backend-wasm` (XNNPACK) matMul on the same
// GEMM shape as bench/kernels_bench.cc (256x64 times 64x2000), single thread,
// with the SIMD binary. Prints JSON lines like the C++ benches:
//   {"bench":"gemm","impl":"tfjs-wasm","m":256,"k":64,"n":2000,"gflops":..}
//
// Two measurements:
//  - "tfjs-wasm" (compute only): the wasm backend runs each kernel synchronously
//    when matMul is called, so we time a loop of matMul calls (each previous
//    result disposed, which frees without syncing) and end the loop with one
//    dataSync() on the last result. Nothing is subtracted: the single readback
//    is amortized over the batch.
//  - "tfjs-wasm+dataSync": every call is matMul followed by dataSync() (the
//    2 MB result copied out to JS), as a caller that needs the numbers pays.
// Each figure: batches repeat until a sample lasts >= 0.3 s; median of 5 samples
// (best_gflops: the fastest sample).
import * as tf from '@tensorflow/tfjs-core';
import { initWasm } from './tfjs_setup.mjs';

const M = 256;
const K = 64;
const N = 2000;
const FLOPS = 2 * M * K * N;

// Median and minimum over 5 samples of the seconds per call of fn(batch), which runs batch calls.
function secondsPerCall(fn) {
  fn(1);  // warm up
  let batch = 1;
  for (;;) {
    const t0 = performance.now();
    fn(batch);
    if (performance.now() - t0 >= 1) break;
    batch *= 2;
  }
  const samples = [];
  for (let s = 0; s < 5; ++s) {
    let calls = 0;
    const t0 = performance.now();
    let elapsed = 0;
    do {
      fn(batch);
      calls += batch;
      elapsed = (performance.now() - t0) / 1000;
    } while (elapsed < 0.3);
    samples.push(elapsed / calls);
  }
  samples.sort((x, y) => x - y);
  return { median: samples[2], best: samples[0] };
}

async function main() {
  // Single-thread SIMD wasm backend (bench/tfjs_setup.mjs).
  const { threads } = await initWasm('tfjs_matmul');
  const a = tf.randomUniform([M, K], -1, 1, 'float32', 1);
  const b = tf.randomUniform([K, N], -1, 1, 'float32', 2);
  let sink = 0;

  const computeOnly = secondsPerCall((batch) => {
    let c = null;
    for (let i = 0; i < batch; ++i) {
      if (c) c.dispose();
      c = tf.matMul(a, b);
    }
    sink += c.dataSync()[0];
    c.dispose();
  });
  const withSync = secondsPerCall((batch) => {
    for (let i = 0; i < batch; ++i) {
      const c = tf.matMul(a, b);
      sink += c.dataSync()[0];
      c.dispose();
    }
  });

  const common = { m: M, k: K, n: N };
  const extra = { threads, simd: true, tfjs: tf.version_core };
  const gflops = (sec) => +(FLOPS / sec * 1e-9).toFixed(3);
  for (const [impl, t] of [['tfjs-wasm', computeOnly], ['tfjs-wasm+dataSync', withSync]]) {
    console.log(JSON.stringify({ bench: 'gemm', impl, ...common, gflops: gflops(t.median), best_gflops: gflops(t.best), ...extra }));
  }
  a.dispose();
  b.dispose();
  if (!Number.isFinite(sink)) console.error('tfjs_matmul: non-finite result');
}

main().catch((e) => {
  console.error(e?.stack ?? e?.message ?? String(e));
  process.exit(1);
});

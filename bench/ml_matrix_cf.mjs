// The collaborative-filtering speed peer: EASE and iALS written the way a web
// developer without localrec would, in plain JavaScript with ml-matrix (the most
// used npm matrix library: LU inverse, Cholesky) for the dense algebra, and
// typed-array loops for the sparse accumulations. Prints JSON lines with the
// same bench names and parameters as bench/ease_bench.cc and bench/ials_bench.cc,
// so bench/run.mjs puts the times in the same rows:
//   {"bench":"ease_fit","data":"ml-latest-small","items":3650,...,"ms":..}
//   {"bench":"ials_fit","dataset":"ml-latest-small","users":610,...,"ms":..}
//
// What is the same as localrec: the data (ml-latest-small ratings, every rating
// an interaction), EASE's warm items (at least min_support = 5 interactions),
// its X^T X + lambda I and B = I - P / diag(P); iALS's objective with 64
// factors, 15 iterations, confidence 1 + alpha * rating. What differs: the
// peer solves each iALS row exactly (Cholesky) where localrec's default takes 3
// conjugate-gradient steps, and works in double (ml-matrix has no float32).
// Pure JS is slow enough that the peer runs reduced problems, matched by rows
// that the C++ benches also print: EASE with min_support = 20 (1,297 warm items,
// about 1/20 of the 3,650-item flops; the 3,650-item inverse took over 6
// minutes here) and 2 iALS iterations reported as `iteration_ms` (the C++
// bench prints its 15-iteration time divided by 15 under the same name).
// One run each; `--skip-ials` / `--skip-ease`.
//
//   node bench/ml_matrix_cf.mjs [data/ml-latest-small/ratings.csv] [--skip-ials] [--skip-ease]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CholeskyDecomposition, Matrix, inverse } from 'ml-matrix';

const repo = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--')) ?? path.join(repo, 'data/ml-latest-small/ratings.csv');

function loadRatings(csvPath) {
  const users = new Map();
  const items = new Map();
  const u = [];
  const i = [];
  const r = [];
  const lines = readFileSync(csvPath, 'utf8').split('\n');
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n];
    if (!line) continue;
    const [user, item, rating] = line.split(',');
    if (!users.has(user)) users.set(user, users.size);
    if (!items.has(item)) items.set(item, items.size);
    u.push(users.get(user));
    i.push(items.get(item));
    r.push(Number(rating));
  }
  return { numUsers: users.size, numItems: items.size, u: Int32Array.from(u), i: Int32Array.from(i), r: Float64Array.from(r) };
}

// Rows grouped by user (byUser) or by item: CSR offsets, the other side's ids, values.
function group(keys, others, values, count) {
  const offsets = new Int32Array(count + 1);
  for (const k of keys) offsets[k + 1]++;
  for (let k = 0; k < count; k++) offsets[k + 1] += offsets[k];
  const fill = offsets.slice(0, count);
  const ids = new Int32Array(keys.length);
  const vals = new Float64Array(keys.length);
  for (let n = 0; n < keys.length; n++) {
    const at = fill[keys[n]]++;
    ids[at] = others[n];
    vals[at] = values[n];
  }
  return { offsets, ids, vals };
}

function ease(data, { lambda = 200, minSupport = 20 } = {}) {
  const start = performance.now();
  const support = new Int32Array(data.numItems);
  for (const item of data.i) support[item]++;
  const warm = new Int32Array(data.numItems).fill(-1);
  let w = 0;
  for (let item = 0; item < data.numItems; item++) if (support[item] >= minSupport) warm[item] = w++;
  const byUser = group(data.u, data.i, data.r, data.numUsers);
  const gram = new Matrix(w, w);
  for (let user = 0; user < data.numUsers; user++) {
    const row = [];
    for (let n = byUser.offsets[user]; n < byUser.offsets[user + 1]; n++) if (warm[byUser.ids[n]] >= 0) row.push(warm[byUser.ids[n]]);
    for (const a of row) for (const b of row) gram.set(a, b, gram.get(a, b) + 1);
  }
  for (let a = 0; a < w; a++) gram.set(a, a, gram.get(a, a) + lambda);
  const p = inverse(gram);
  const b = new Matrix(w, w);
  for (let col = 0; col < w; col++) {
    const d = p.get(col, col);
    for (let row = 0; row < w; row++) b.set(row, col, row === col ? 0 : -p.get(row, col) / d);
  }
  return { ms: performance.now() - start, items: w };
}

function ials(data, { factors = 64, iterations = 2, reg = 50, alpha = 2, seed = 42 } = {}) {
  const byUser = group(data.u, data.i, data.r, data.numUsers);
  const byItem = group(data.i, data.u, data.r, data.numItems);
  let state = seed >>> 0;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const init = (rows) => Float64Array.from({ length: rows * factors }, () => random() * 0.01);
  const X = init(data.numUsers);
  const Y = init(data.numItems);
  // One half-step: every row of `out` solved against the fixed factors `fixed`.
  const solveSide = (rows, fixed, out, count) => {
    const gram = new Float64Array(factors * factors);  // fixed^T fixed
    for (let r = 0; r < fixed.length / factors; r++)
      for (let a = 0; a < factors; a++) {
        const fa = fixed[r * factors + a];
        for (let b = a; b < factors; b++) gram[a * factors + b] += fa * fixed[r * factors + b];
      }
    for (let a = 0; a < factors; a++) for (let b = 0; b < a; b++) gram[a * factors + b] = gram[b * factors + a];
    const A = new Float64Array(factors * factors);
    for (let row = 0; row < count; row++) {
      A.set(gram);
      const rhs = new Float64Array(factors);
      for (let n = rows.offsets[row]; n < rows.offsets[row + 1]; n++) {
        const other = rows.ids[n] * factors;
        const c = 1 + alpha * rows.vals[n];
        for (let a = 0; a < factors; a++) {
          const fa = fixed[other + a];
          rhs[a] += c * fa;
          const scaled = (c - 1) * fa;
          for (let b = a; b < factors; b++) A[a * factors + b] += scaled * fixed[other + b];
        }
      }
      // Mirror the upper triangle: ml-matrix's Cholesky checks exact symmetry.
      for (let a = 0; a < factors; a++) for (let b = 0; b < a; b++) A[a * factors + b] = A[b * factors + a];
      for (let a = 0; a < factors; a++) A[a * factors + a] += reg;
      const rows2d = [];
      for (let a = 0; a < factors; a++) rows2d.push(Array.from(A.subarray(a * factors, (a + 1) * factors)));
      const solution = new CholeskyDecomposition(new Matrix(rows2d)).solve(Matrix.columnVector(Array.from(rhs)));
      for (let a = 0; a < factors; a++) out[row * factors + a] = solution.get(a, 0);
    }
  };
  const start = performance.now();
  for (let it = 0; it < iterations; it++) {
    solveSide(byUser, Y, X, data.numUsers);
    solveSide(byItem, X, Y, data.numItems);
  }
  return { ms: performance.now() - start, factors, iterations };
}

const data = loadRatings(file);
if (!args.includes('--skip-ials')) {
  const r = ials(data);
  console.log(JSON.stringify({ bench: 'ials_fit', dataset: 'ml-latest-small', users: data.numUsers, items: data.numItems,
    interactions: data.u.length, factors: r.factors, iteration_ms: Number((r.ms / r.iterations).toFixed(1)) }));
}
if (!args.includes('--skip-ease')) {
  const r = ease(data);
  console.log(JSON.stringify({ bench: 'ease_fit', data: 'ml-latest-small', items: r.items, catalog: data.numItems,
    interactions: data.u.length, min_support: '20', precision: 'double', ms: Number(r.ms.toFixed(1)) }));
}

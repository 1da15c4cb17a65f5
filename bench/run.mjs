#!/usr/bin/env node
// Runs every benchmark in three builds plus the JS peers and writes docs/benchmarks.md.
//
//   node bench/run.mjs [--no-build] [--out docs/benchmarks.md] [--build-root build]
//
// Builds (unless --no-build) the bench_* targets of the presets native-release,
// wasm-release (SIMD) and wasm-scalar, then runs
//   build/native-release/bench/bench_*          natively
//   build/wasm-release/bench/bench_*.js         under node (wasm SIMD)
//   build/wasm-scalar/bench/bench_*.js          under node (wasm without SIMD)
//   bench/*.mjs (except this file)              under node (peers, e.g. tfjs_matmul.mjs)
// Every stdout line that is a JSON object with `bench` and at least one numeric
// metric lands in the table of its `bench` (row: `impl`, "default" when absent,
// plus the numeric parameters); anything else is ignored.
// The raw lines are kept in bench/results/latest.jsonl (git-ignored).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const noBuild = args.includes('--no-build');
const outArg = args.indexOf('--out');
const outFile = path.resolve(repo, outArg >= 0 && args[outArg + 1] ? args[outArg + 1] : 'docs/benchmarks.md');
// Where the preset build folders are; other roots are for trying this script
// against builds made elsewhere (with --no-build).
const rootArg = args.indexOf('--build-root');
const buildRoot = path.resolve(repo, rootArg >= 0 && args[rootArg + 1] ? args[rootArg + 1] : 'build');

// Arguments some benches need, by bench name (the .cc file name without extension).
const benchArgs = {
  data_bench: [path.join(repo, 'data/ml-latest-small/ratings.csv')],
  cf_fit_bench: [path.join(repo, 'data/ml-latest-small/ratings.csv')],
  // The 10M-interaction iALS run and EASE over all 9,724 items take minutes per
  // build; run them by hand (see docs/benchmarks.md) rather than in every build here.
  ials_bench: [path.join(repo, 'data/ml-latest-small/ratings.csv'), '--skip-10m'],
  ease_bench: [path.join(repo, 'data/ml-latest-small/ratings.csv'), '5,20'],
};
const RUN_TIMEOUT_MS = 10 * 60 * 1000;

const builds = [
  { key: 'native', label: 'native', preset: 'native-release', wasm: false },
  { key: 'wasmSimd', label: 'wasm SIMD', preset: 'wasm-release', wasm: true },
  { key: 'wasmScalar', label: 'wasm scalar', preset: 'wasm-scalar', wasm: true },
];
const env = { ...process.env, NODE_PATH: process.env.NODE_PATH || '/usr/share/nodejs' };

function log(msg) {
  process.stderr.write(`[bench] ${msg}\n`);
}

function benchNames() {
  return fs
    .readdirSync(path.join(repo, 'bench'))
    .filter((f) => f.endsWith('.cc'))
    .map((f) => f.slice(0, -3))
    .sort();
}

function peerScripts() {
  return fs
    .readdirSync(path.join(repo, 'bench'))
    // (tfjs_setup.mjs is the TF.js peers' shared module, accuracy.mjs and
    // subsets.mjs are accuracy tools run by hand: none of them is a peer.)
    .filter((f) => f.endsWith('.mjs') && !['run.mjs', 'accuracy.mjs', 'subsets.mjs', 'tfjs_setup.mjs'].includes(f))
    .sort();
}

function run(cmd, argv, opts = {}) {
  log(`$ ${[cmd, ...argv].join(' ')}`);
  return spawnSync(cmd, argv, {
    cwd: repo,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: RUN_TIMEOUT_MS,
    ...opts,
  });
}

// Configures and builds the bench targets of one preset. A bench that fails to
// build is skipped, not fatal: the others still get measured.
function build(b, names) {
  const cfg = run('cmake', ['--preset', b.preset], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (cfg.status !== 0) {
    log(`configure of ${b.preset} failed; its column stays empty`);
    return;
  }
  const targets = names.map((n) => `bench_${n}`);
  const all = run('cmake', ['--build', '--preset', b.preset, '-j', '2', '--target', ...targets], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (all.status === 0) return;
  // One by one, so one broken bench costs only itself; twice, because a source
  // saved mid-build (several people editing) fails once and then compiles.
  let failed = targets;
  for (let attempt = 0; attempt < 2 && failed.length; ++attempt) {
    failed = failed.filter(
      (t) =>
        run('cmake', ['--build', '--preset', b.preset, '-j', '2', '--target', t], {
          stdio: ['ignore', 'inherit', 'inherit'],
        }).status !== 0,
    );
  }
  for (const t of failed) log(`${t} does not build in ${b.preset}; skipped`);
}

// Emscripten writes CommonJS .js runners; the repo's package.json says
// "type": "module", so node would load them as ES modules and fail. A package.json
// in the (generated) build folder restores CommonJS for everything below it.
function ensureCommonJs(buildDir) {
  const pj = path.join(buildDir, 'package.json');
  if (!fs.existsSync(pj)) fs.writeFileSync(pj, '{ "type": "commonjs" }\n');
}

function parseLines(stdout, source, file) {
  const out = [];
  for (const line of stdout.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    let obj;
    try {
      obj = JSON.parse(t);
    } catch {
      continue;
    }
    if (!obj || typeof obj.bench !== 'string') continue;
    if (!Object.entries(obj).some(([k, v]) => typeof v === 'number' && isMetric(k))) continue;
    const impl = typeof obj.impl === 'string' ? obj.impl : 'default';
    // A peer line with "row_impl" lands in the row of that impl (e.g. the C++
    // rows' "default"), in a column named by its own impl (bench/tfjs_gru.mjs).
    if (source.startsWith('peer:') && typeof obj.row_impl === 'string') {
      out.push({ ...obj, impl: obj.row_impl, source: `${source}|${impl}`, file });
      continue;
    }
    out.push({ ...obj, impl, source, file });
  }
  return out;
}

const results = [];
const problems = [];

function collect(res, source, file) {
  if (res.error) problems.push(`${file} (${source}): ${res.error.message}`);
  else if (res.status !== 0) {
    const tail = (res.stderr || '').trim().split('\n').slice(-3).join(' / ');
    problems.push(`${file} (${source}): exit ${res.status ?? res.signal}${tail ? `: ${tail}` : ''}`);
  }
  const lines = parseLines(res.stdout || '', source, file);
  if (res.status === 0 && lines.length === 0) problems.push(`${file} (${source}): printed no result`);
  results.push(...lines);
}

function toolVersion(cmd, argv) {
  try {
    return execFileSync(cmd, argv, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0].trim();
  } catch {
    return 'not found';
  }
}

function machine() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m);
    if (m) cpu = m[1].trim();
  } catch {}
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
  } catch {}
  return {
    cpu,
    cores: os.cpus().length,
    load: os.loadavg().map((x) => x.toFixed(2)).join(', '),
    node: process.version,
    emcc: toolVersion('emcc', ['--version']),
    cxx: toolVersion('c++', ['--version']),
    date: new Date().toISOString(),
    commit,
  };
}

// ---- report ----------------------------------------------------------------

// A numeric field is a metric when its name says it is a rate or a time; other
// numeric fields (n, k, rows, ...) are parameters and become part of the row.
const PER_S = /(^|_)per_s$|(^|_)gflops$|^gbps$|^throughput$/;
const TIME = /(^|_)(ms|ns|us|s|sec|seconds)$/;
// Measured quantities that are neither (memory, a loss to compare runs by) are
// values too: they must not split one configuration into rows per build.
const MEASURED = /(^|_)mb$|(^|_)loss$/;
const isMetric = (k) => PER_S.test(k) || TIME.test(k) || MEASURED.test(k);
const lowerIsBetter = (k) => !PER_S.test(k) && TIME.test(k);
const RESERVED = new Set(['bench', 'impl', 'source', 'file', 'row_impl']);

function fmt(v) {
  if (v === undefined) return '—';
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

function columnsFor(lines) {
  const cols = builds.map((b) => ({ key: b.key, label: b.label }));
  const peers = [...new Set(lines.filter((l) => l.source.startsWith('peer:')).map((l) => l.source))];
  for (const p of peers) cols.push({ key: p, label: p.includes('|') ? p.split('|')[1] : p.includes('tfjs') ? 'tfjs' : p.slice(5) });
  return cols;
}

function table(bench, lines) {
  const cols = columnsFor(lines);
  const rows = new Map();  // key -> { impl, params, metric, values: {source: number} }
  const notes = new Map();  // field -> Map(source -> Set(values))
  const numericParams = (l) =>
    Object.entries(l).filter(([k, v]) => !RESERVED.has(k) && typeof v === 'number' && !isMetric(k));
  // A text field is a parameter too when it tells apart two lines of one source
  // with the same numeric parameters (ease_bench's precision=float / double);
  // otherwise the second line would overwrite the first in one row.
  const distinguishing = new Set();
  const groups = new Map();
  for (const l of lines) {
    const key = `${l.source}|${l.impl}|${numericParams(l).map(([k, v]) => `${k}=${v}`).join(',')}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(l);
  }
  for (const group of groups.values()) {
    for (const k of new Set(group.flatMap((l) => Object.keys(l)))) {
      if (RESERVED.has(k) || group.some((l) => typeof l[k] === 'number')) continue;
      if (new Set(group.map((l) => JSON.stringify(l[k]))).size > 1) distinguishing.add(k);
    }
  }
  for (const l of lines) {
    const params = [
      ...numericParams(l).map(([k, v]) => `${k}=${v}`),
      ...[...distinguishing].filter((k) => k in l).map((k) => `${k}=${l[k]}`),
    ].join(', ');
    for (const [k, v] of Object.entries(l)) {
      if (RESERVED.has(k) || distinguishing.has(k)) continue;
      if (typeof v === 'number' && isMetric(k)) {
        const key = `${l.impl}|${params}|${k}`;
        if (!rows.has(key)) rows.set(key, { impl: l.impl, params, metric: k, values: {} });
        rows.get(key).values[l.source] = v;
      } else if (typeof v !== 'number') {
        if (!notes.has(k)) notes.set(k, new Map());
        const bySource = notes.get(k);
        if (!bySource.has(l.source)) bySource.set(l.source, new Set());
        bySource.get(l.source).add(typeof v === 'object' ? JSON.stringify(v) : String(v));
      }
    }
  }
  const out = [`## ${bench}`, ''];
  out.push(`| impl | params | metric | ${cols.map((c) => c.label).join(' | ')} | wasm SIMD vs scalar build |`);
  out.push(`|---|---|---|${cols.map(() => '---:').join('|')}|---:|`);
  for (const r of rows.values()) {
    const simd = r.values.wasmSimd;
    const scal = r.values.wasmScalar;
    let ratio = '—';
    if (simd > 0 && scal > 0) ratio = `${(lowerIsBetter(r.metric) ? scal / simd : simd / scal).toFixed(2)}x`;
    const unit = `${r.metric}${lowerIsBetter(r.metric) ? ' (lower is better)' : ''}`;
    out.push(`| ${r.impl} | ${r.params || '—'} | ${unit} | ${cols.map((c) => fmt(r.values[c.key])).join(' | ')} | ${ratio} |`);
  }
  if (notes.size) {
    out.push('');
    for (const [field, bySource] of notes) {
      const parts = cols.filter((c) => bySource.has(c.key)).map((c) => `${c.label}: ${[...bySource.get(c.key)].join(' / ')}`);
      out.push(`- \`${field}\`: ${parts.join('; ')}`);
    }
  }
  out.push('');
  return out.join('\n');
}

function report(m, skipped) {
  const byBench = new Map();
  for (const l of results) {
    if (!byBench.has(l.bench)) byBench.set(l.bench, []);
    byBench.get(l.bench).push(l);
  }
  const doc = [
    '# Benchmarks',
    '',
    'Generated by `bench/run.mjs`; do not edit by hand. Reproduce with `npm run bench`',
    '(or `node bench/run.mjs --no-build` to reuse the builds).',
    '',
    '## Machine',
    '',
    `- CPU: ${m.cpu}, ${m.cores} logical cores (load average at start: ${m.load})`,
    `- Node: ${m.node}`,
    `- emcc: ${m.emcc}`,
    `- native compiler: ${m.cxx}`,
    `- date: ${m.date}, commit ${m.commit}`,
    '',
    '## How to read',
    '',
    '- **native**: preset `native-release` (-O3 -march=native). **wasm SIMD**: preset `wasm-release`',
    '  (-msimd128, Eigen on its SSE path mapped to SIMD128), run under Node. **wasm scalar**: preset',
    '  `wasm-scalar` (no -msimd128, EIGEN_DONT_VECTORIZE): the same code without SIMD. **tfjs**:',
    '  TensorFlow.js `tfjs-backend-wasm` (XNNPACK, SIMD, one thread), the kernel peer. **ml_matrix_cf**:',
    '  EASE and iALS in plain JavaScript with ml-matrix (bench/ml_matrix_cf.mjs), the CF peer; it runs',
    '  reduced problems (EASE at min_support 20, iALS per iteration) matched by rows the C++ benches print.',
    '- **tfjs-wasm** (nn_gru_* tables): bench/tfjs_gru.mjs, the same GRU training and inference in',
    '  TensorFlow.js 4.22 on `tfjs-backend-wasm` (SIMD, one thread), with the gradients the wasm backend',
    '  lacks or runs slowly replaced through `tf.customGrad` (see the script); median of 3 samples.',
    '  In the caser_train table: bench/tfjs_caser.mjs, the same Caser network and training step, one epoch',
    '  (`first_loss` / `last_loss`: mean loss of its first and last 20 mini-batches).',
    '- `impl` `simd` is the library kernel (which in the wasm scalar build compiles to its scalar',
    '  fallback); `scalar` is its plain-loop reference, built in each build. Compilers may still',
    '  auto-vectorize a plain loop without a reduction (axpy) natively and in the SIMD wasm build.',
    '- Last column: wasm SIMD build over wasm scalar build for the same row (speedup; >1 is better).',
    '- Single thread. Each figure is the median of 5 samples of >= 0.3 s each (C++ kernels and tfjs);',
    '  `best_*` rows are the best of those 5 (the least disturbed sample on a shared machine).',
    '  Other benches document their own method. The machine may be shared: see the load average.',
    '',
  ];
  for (const [bench, lines] of byBench) doc.push(table(bench, lines));
  if (skipped.length || problems.length) {
    doc.push('## Not measured', '');
    for (const s of skipped) doc.push(`- ${s}`);
    for (const p of problems) doc.push(`- ${p}`);
    doc.push('');
  }
  return doc.join('\n');
}

// ---- main --------------------------------------------------------------------

function main() {
  const names = benchNames();
  const m = machine();
  if (!noBuild) for (const b of builds) build(b, names);

  const skipped = [];
  for (const b of builds) {
    const dir = path.join(buildRoot, b.preset, 'bench');
    for (const name of names) {
      const extra = benchArgs[name] ?? [];
      if (!b.wasm) {
        const exe = path.join(dir, `bench_${name}`);
        if (!fs.existsSync(exe)) {
          skipped.push(`bench_${name} (${b.label}): not built`);
          continue;
        }
        collect(run(exe, extra), b.key, `bench_${name}`);
      } else {
        const cjs = path.join(dir, `bench_${name}.cjs`);
        const js = path.join(dir, `bench_${name}.js`);
        const runner = fs.existsSync(cjs) ? cjs : fs.existsSync(js) ? js : null;
        if (!runner) {
          skipped.push(`bench_${name} (${b.label}): not built`);
          continue;
        }
        if (runner === js) ensureCommonJs(path.join(buildRoot, b.preset));
        collect(run(process.execPath, [runner, ...extra]), b.key, `bench_${name}`);
      }
    }
  }
  for (const script of peerScripts()) {
    collect(run(process.execPath, [path.join(repo, 'bench', script)]), `peer:${script.replace(/\.mjs$/, '')}`, script);
  }

  const resultsDir = path.join(repo, 'bench', 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(path.join(resultsDir, 'latest.jsonl'), results.map((r) => JSON.stringify(r)).join('\n') + '\n');
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  // Sections owned by other scripts or written by hand are carried over
  // unchanged: every <!-- NAME:begin/end --> block (bench/accuracy.mjs writes
  // accuracy, accuracy-rating, accuracy-next and accuracy-cold; long runs and
  // their notes measured by hand sit in blocks of their own). Text outside a
  // block is regenerated, so hand-written prose must live inside one.
  const previous = fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8') : '';
  const kept = previous.match(/<!-- ([\w-]+):begin -->[\s\S]*?<!-- \1:end -->/g) ?? [];
  fs.writeFileSync(outFile, report(m, skipped) + kept.map((block) => `\n${block}\n`).join(''));
  log(`${results.length} measurements; wrote ${path.relative(repo, outFile)}`);
  for (const p of problems) log(`problem: ${p}`);
}

main();

#!/usr/bin/env node
// Accuracy of every registered model on the embedded data, through the CLI (so
// it measures exactly what a user gets), written as markdown tables between
// marker pairs in docs/benchmarks.md, one pair per section (nothing outside
// the markers is touched; a missing pair is appended at the end):
//
//   ratio   <!-- accuracy:begin/end -->         evaluate --split ratio:0.8 --k 20
//   rating  <!-- accuracy-rating:begin/end -->  evaluate --task rating --split kfold:5:F
//   next    <!-- accuracy-next:begin/end -->    evaluate --split leave-last-out --k 10
//   cold    <!-- accuracy-cold:begin/end -->    evaluate --split cold-items:0.1 --k 10
//
//   node bench/accuracy.mjs [--sections ratio,rating,next,cold] [--models a,b] [--seeds 42,1,2,3,4]
//                           [--jobs N] [--data FILE] [--doc FILE] [--no-rating] [--dry-run] [--plan]
//
// Ranking (ratio): Recall, NDCG, HR, coverage @20, fit seconds, ratio to
// popularity. Rating: for models that predict ratings, RMSE and MAE per fold
// F = 0..4 and the mean, ratio to the bias baseline when it is registered.
// Whether a model predicts ratings is probed on a tiny synthetic file first, so
// ranking-only models are not fitted on the full data only to be refused.
// Next-item (next): each user's last event by time is the test row; HR, NDCG,
// MRR, coverage @10, ratio to popularity. Cold start (cold): 10% of the items
// held out with all their interactions (split seed 42), each test user ranks
// the held-out items; NDCG, Recall, HR, coverage @10, ratio to random. The CLI
// reports models that cannot score items without interactions as n/a without
// fitting them; they are listed on one line.
// In the ranking sections a model with a `seed` option (as `models --json`
// lists it) runs once per seed of --seeds (`--set seed=N`) and its cells give
// mean ± sample sd (min-max); other models run once. The rating section's
// spread is the one over its folds, at the default seed.
// The CLI loads the release module in web/lib/wasm (build it with
// `bash scripts/build.sh wasm-release localrec_core`) or LOCALREC_MODULE_URL.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'web/cli/localrec.mjs');
const MARKERS = {
  ratio: 'accuracy',
  rating: 'accuracy-rating',
  next: 'accuracy-next',
  cold: 'accuracy-cold',
};
const USAGE = 'usage: node bench/accuracy.mjs [--sections ratio,rating,next,cold] [--models a,b] [--seeds 42,1,2,3,4]\n' +
  '                              [--jobs N] [--data FILE] [--doc FILE] [--no-rating] [--dry-run] [--plan]\n' +
  '  --sections  which tables to measure and rewrite (default: all four); the others stay as they are\n' +
  '  --models    only these models (the baselines popularity / bias / random are always measured)\n' +
  '  --seeds     model seeds (--set seed=N) for models with a seed option (default 42,1,2,3,4)\n' +
  '  --jobs      models measured at once in the ranking sections (default 1; 2 on 2 idle cores halves the\n' +
  '              wall time, but fit seconds then include contention)\n' +
  '  --doc       markdown file to write (default docs/benchmarks.md)\n' +
  '  --dry-run   measure and print the markdown instead of writing it\n' +
  '  --plan      print the CLI runs that would be made (nothing is fitted) and exit';

const { values: args } = parseArgs({
  options: {
    sections: { type: 'string', default: Object.keys(MARKERS).join(',') },
    models: { type: 'string' },
    seeds: { type: 'string', default: '42,1,2,3,4' },
    data: { type: 'string', default: 'data/ml-latest-small/ratings.csv' },
    doc: { type: 'string', default: join(ROOT, 'docs/benchmarks.md') },
    'no-rating': { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    jobs: { type: 'string', default: '1' },
    plan: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const DOC = resolve(args.doc);

/** The CLI's exit status and output as { ok, json, error }. */
function cliResult(status, stdout, stderr) {
  if (status !== 0) return { ok: false, error: (stderr || stdout || `exit ${status}`).trim() };
  try {
    return { ok: true, json: JSON.parse(stdout.trim().split('\n').pop()) };
  } catch (e) {
    return { ok: false, error: `unparsable CLI output: ${stdout.slice(0, 200)}` };
  }
}

/** Runs the CLI; returns { ok, json, error }. */
function cli(cliArgs) {
  const r = spawnSync(process.execPath, [CLI, ...cliArgs], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  return cliResult(r.status, r.stdout, r.stderr);
}

/** cli() without blocking, so that --jobs runs can overlap. */
function cliAsync(cliArgs) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...cliArgs], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    child.on('error', (e) => done({ ok: false, error: e.message }));
    child.on('close', (status) => done(cliResult(status, stdout, stderr)));
  });
}

/** Maps fn over items with at most `jobs` calls pending at once; keeps the order. */
async function pool(items, jobs, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, items.length) }, worker));
  return out;
}

const command = (a) => `node web/cli/localrec.mjs ${a.join(' ')}`;

function log(message) {
  process.stderr.write(`${message}\n`);
}

function list(text, what) {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!items.length) throw new Error(`--${what} is empty`);
  return items;
}

// A small rating file: enough rows for 5 folds and every model's fit, with a
// movies.csv beside it (read by the CLI) so that content models can fit too.
function probeFile(dir) {
  const lines = ['userId,movieId,rating,timestamp'];
  for (let u = 1; u <= 40; ++u)
    for (let i = 1; i <= 15; ++i) if ((u * 7 + i * 3) % 4 !== 0) lines.push(`${u},${i},${1 + ((u + i) % 5)},${1000 + u * 20 + i}`);
  const genres = ['Action', 'Comedy', 'Drama', 'Horror', 'Romance'];
  const movies = ['movieId,title,genres'];
  for (let i = 1; i <= 15; ++i) movies.push(`${i},Probe movie ${i} (${1990 + i}),${genres[i % 5]}|${genres[(i * 2) % 5]}`);
  writeFileSync(join(dir, 'movies.csv'), `${movies.join('\n')}\n`);
  const file = join(dir, 'ratings.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function predictsRatings(name, probe) {
  const r = cli(['evaluate', '--data', probe, '--split', 'kfold:5:0', '--task', 'rating', '--model', name, '--json', '--quiet']);
  if (r.ok) return true;
  if (/does not predict ratings/.test(r.error)) return false;
  return undefined; // the probe failed for another reason: try the real data
}

const fmt = (x, d = 4) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(d));
const ratio = (x, base) => (base > 0 && x !== undefined ? `${(x / base).toFixed(2)}x` : '-');
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
const errorCell = (error) => `error: ${error.split('\n')[0].replace(/\|/g, '\\|')}`;

/** Sample standard deviation (n - 1); 0 for a single value. */
function sd(xs) {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** One run: the value; several: mean ± sd (min-max). */
function spread(xs, d = 4) {
  if (xs.some((x) => x === undefined)) return '-';
  if (xs.length < 2) return fmt(xs[0], d);
  return `${fmt(mean(xs), d)} ± ${fmt(sd(xs), d)} (${fmt(Math.min(...xs), d)}-${fmt(Math.max(...xs), d)})`;
}

/**
 * Fits and evaluates one model once per seed (once if it has no seed option);
 * returns { name, seeds, runs, error?, unable? }. A model the protocol rules
 * out (the CLI's "unable") or an error stops its remaining seeds.
 */
async function measure(section, name, baseArgs, seeds) {
  const runs = [];
  for (const seed of seeds.length ? seeds : [undefined]) {
    log(`${section}: ${name}${seed === undefined ? '' : ` seed ${seed}`}`);
    const r = await cliAsync(seed === undefined ? baseArgs : [...baseArgs, '--set', `seed=${seed}`]);
    if (!r.ok) return { name, seeds, runs, error: r.error };
    if (r.json.unable) return { name, seeds, runs, unable: r.json.unable };
    runs.push(r.json);
  }
  return { name, seeds, runs };
}

const metric = (r, key) => r.runs.map((run) => run.metrics[key]);
const meanMetric = (r, key) => (r && !r.error && !r.unable ? mean(metric(r, key)) : undefined);

async function main() {
  const sections = list(args.sections, 'sections').filter((s) => !(s === 'rating' && args['no-rating']));
  const unknownSections = sections.filter((s) => !MARKERS[s]);
  if (unknownSections.length) throw new Error(`unknown section(s) ${unknownSections.join(', ')}; sections: ${Object.keys(MARKERS).join(', ')}`);
  const seeds = list(args.seeds, 'seeds');
  const jobs = Number(args.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs must be a positive integer, got '${args.jobs}'`);
  const badSeed = seeds.find((s) => !/^\d+$/.test(s));
  if (badSeed !== undefined) throw new Error(`--seeds: '${badSeed}' is not a non-negative integer`);

  const listed = cli(['models', '--json']);
  if (!listed.ok) throw new Error(`cannot list models: ${listed.error}`);
  const registered = listed.json.map((m) => m.name);
  let names = registered;
  if (args.models) {
    const wanted = list(args.models, 'models');
    const unknown = wanted.filter((n) => !registered.includes(n));
    if (unknown.length) throw new Error(`unknown model(s) ${unknown.join(', ')}; registered: ${registered.join(', ')}`);
    names = wanted;
  }
  // Each model's seeds: the --seeds list if its result depends on a seed option.
  const seeded = new Set(listed.json.filter((m) => m.options.some((o) => o.name === 'seed')).map((m) => m.name));
  const seedsOf = (name) => (seeded.has(name) ? seeds : []);
  // The baseline of a section's ratios is always measured, first.
  const withBaseline = (base) => (!registered.includes(base) || names.includes(base) ? names : [base, ...names]);
  const data = shown(resolve(args.data));
  const rankingArgs = (split, k) => (name) =>
    ['evaluate', '--data', data, '--split', split, '--model', name, '--k', String(k), '--json', '--quiet'];

  const plan = Object.fromEntries(Object.entries(RANKING).map(([section, { split, k, base }]) =>
    [section, { names: withBaseline(base), args: rankingArgs(split, k) }]));
  if (args.plan) {
    for (const section of sections) {
      if (section === 'rating') {
        console.log(`# rating: every model that predicts ratings (probed first), 5 folds each\n` +
          command(['evaluate', '--data', data, '--split', 'kfold:5:F', '--task', 'rating', '--model', 'NAME', '--json']));
        continue;
      }
      const p = plan[section];
      const runs = p.names.reduce((n, name) => n + Math.max(1, seedsOf(name).length), 0);
      // cold: a model the CLI finds unable (no cold-item scores) stops after one run, unfitted.
      console.log(`# ${section}: ${section === 'cold' ? 'at most ' : ''}${runs} runs`);
      for (const name of p.names) {
        for (const seed of seedsOf(name).length ? seedsOf(name) : [undefined])
          console.log(command([...p.args(name), ...(seed === undefined ? [] : ['--set', `seed=${seed}`])]));
      }
    }
    return;
  }

  const context = { data, seeds, seeded };
  // Each section is written as soon as it is measured: a failure later keeps it.
  for (const section of sections) {
    const started = Date.now();
    let markdown;
    if (section === 'rating') {
      markdown = renderRating(measureRating(names, listed.json, data), context, started);
    } else {
      const p = plan[section];
      const results = await pool(p.names, jobs, (name) => measure(section, name, p.args(name), seedsOf(name)));
      markdown = renderRanking(section, results, context, started);
    }
    if (args['dry-run']) {
      console.log(`<!-- ${MARKERS[section]}:begin -->\n${markdown}\n<!-- ${MARKERS[section]}:end -->\n`);
    } else {
      writeSection(MARKERS[section], markdown);
      console.log(`wrote the ${section} section of ${shown(DOC)}`);
    }
  }
}

function measureRating(names, models, data) {
  const rating = [];
  const dir = mkdtempSync(join(tmpdir(), 'localrec-accuracy-'));
  try {
    const probe = probeFile(dir);
    const ratingNames = [...names];
    if (models.some((m) => m.name === 'bias') && !ratingNames.includes('bias')) ratingNames.unshift('bias');
    for (const name of ratingNames) {
      if (predictsRatings(name, probe) === false) {
        log(`rating: ${name} does not predict ratings (skipped)`);
        continue;
      }
      const folds = [];
      let error;
      for (let f = 0; f < 5 && !error; ++f) {
        log(`rating: ${name} fold ${f}`);
        const r = cli(['evaluate', '--data', data, '--split', `kfold:5:${f}`, '--task', 'rating', '--model', name, '--json', '--quiet']);
        if (r.ok) folds.push(r.json);
        else if (/does not predict ratings/.test(r.error)) error = 'skip';
        else error = r.error;
      }
      if (error !== 'skip') rating.push({ name, folds, error });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rating;
}

/** A path as the docs show it: relative inside the repository, absolute outside. */
function shown(path) {
  const rel = relative(ROOT, path);
  return rel.startsWith('..') ? path : rel;
}

function moduleName() {
  const url = process.env.LOCALREC_MODULE_URL;
  if (!url) return 'the WebAssembly release module (web/lib/wasm)';
  return `the WebAssembly module ${url.startsWith('file:') ? shown(fileURLToPath(url)) : url}`;
}

/** The "measured by" paragraph every section starts with. */
function provenance(section, { seeds, seeded }, started, runs) {
  const date = new Date().toISOString().slice(0, 10);
  const seconds = (Date.now() - started) / 1000;
  const flags = [`--sections ${section}`];
  if (args.models) flags.push(`--models ${args.models}`);
  if (section !== 'rating' && args.seeds !== '42,1,2,3,4') flags.push(`--seeds ${args.seeds}`);
  if (args.data !== 'data/ml-latest-small/ratings.csv') flags.push(`--data ${args.data}`);
  if (section !== 'rating' && args.jobs !== '1') flags.push(`--jobs ${args.jobs}`);
  const seedText = section === 'rating'
    ? 'at their default seed (the spread is the one over the folds)'
    : `once per seed ${seeds.join(', ')} (\`--set seed=N\`) for the models with a seed option ` +
      `(${[...seeded].filter((n) => runs.includes(n)).map((n) => `\`${n}\``).join(', ') || 'none here'}; cells give mean ± sample sd (min-max)), once for the others`;
  return `Measured ${date} by \`node bench/accuracy.mjs ${flags.join(' ')}\` (${seconds.toFixed(0)} s; ${cpus().length} logical cores, ` +
    `load average ${loadavg()[0].toFixed(1)} at the end) through the CLI on ` +
    `${moduleName()}, every model with its default options, ${seedText}. ` +
    'Defaults were tuned on validation splits carved from the training part (`scripts/validation-split.mjs`), never on these test rows.';
}

/** What each ranking section measures and how its table reads. */
const RANKING = {
  ratio: {
    title: '## Accuracy on the embedded data\n\n### Ranking: per-user random 80/20 split, full ranking, K = 20',
    split: 'ratio:0.8', k: 20, base: 'popularity',
    columns: [['recall@20', 'Recall@20'], ['ndcg@20', 'NDCG@20'], ['hr@20', 'HR@20'], ['coverage@20', 'coverage@20']],
    ratios: [['recall@20', 'Recall'], ['ndcg@20', 'NDCG']],
  },
  next: {
    title: '## Next-item accuracy: leave-last-out by time, K = 10',
    intro: () => 'Each user\'s last event (by time, then file order) is the test row; full ranking, seen items excluded. ' +
      'The CLI reads movies.csv beside the data file, so movies nobody rated join the catalog as candidates.',
    split: 'leave-last-out', k: 10, base: 'popularity',
    columns: [['hr@10', 'HR@10'], ['ndcg@10', 'NDCG@10'], ['mrr@10', 'MRR@10'], ['coverage@10', 'coverage@10']],
    ratios: [['ndcg@10', 'NDCG']],
  },
  cold: {
    title: '## Cold-start accuracy: held-out items, K = 10',
    intro: (first) => '`--split cold-items:0.1` with split seed 42: 10% of the rated items are held out with all their ' +
      'interactions, and each test user ranks only the held-out items; content models score them from their texts ' +
      '(movies.csv and tags.csv beside the data file; the held-out items lose their tags, which are interactions too, ' +
      'and keep their titles and genres).' +
      (first ? ` ${first.users} test users, ${first.test_rows} test rows.` : ''),
    split: 'cold-items:0.1', k: 10, base: 'random',
    columns: [['ndcg@10', 'NDCG@10'], ['recall@10', 'Recall@10'], ['hr@10', 'HR@10'], ['coverage@10', 'coverage@10']],
    ratios: [['ndcg@10', 'NDCG']],
  },
};

/**
 * A ranking section: one row per model with mean ± sd cells over its seeds,
 * the ratios of the means to the baseline's, and one line for the n/a models.
 */
function renderRanking(section, results, context, started) {
  const { title, intro, split, k, base, columns, ratios } = RANKING[section];
  const out = [title, ''];
  if (intro) out.push(intro(results.find((r) => r.runs.length)?.runs[0]), '');
  out.push(provenance(section, context, started, results.map((r) => r.name)), '');
  out.push('```', command(['evaluate', '--data', context.data, '--split', split, '--model', 'NAME', '--k', String(k), '--json']) + '   # [--set seed=N]', '```', '');
  const baseline = results.find((r) => r.name === base);
  out.push(`| model | runs | ${columns.map(([, label]) => label).join(' | ')} | ${ratios.map(([, label]) => `${label} / ${base}`).join(' | ')} | fit s |`);
  out.push(`|---|---|${columns.map(() => '---|').join('')}${ratios.map(() => '---|').join('')}---|`);
  for (const r of results) {
    if (r.unable) continue;
    if (r.error) {
      out.push(`| \`${r.name}\` | ${errorCell(r.error)} |${' |'.repeat(columns.length + ratios.length + 1)}`);
      continue;
    }
    const fit = r.runs.map((x) => x.fit_seconds);
    out.push(`| \`${r.name}\` | ${r.runs.length > 1 ? `${r.runs.length} seeds` : '1'} | ` +
      `${columns.map(([key]) => spread(metric(r, key))).join(' | ')} | ` +
      `${ratios.map(([key]) => ratio(meanMetric(r, key), meanMetric(baseline, key))).join(' | ')} | ` +
      `${fit.length > 1 ? `${fmt(mean(fit), 2)} ± ${fmt(sd(fit), 2)}` : fmt(fit[0], 2)} |`);
  }
  out.push('');
  const unable = results.filter((r) => r.unable);
  if (unable.length) {
    const reasons = [...new Set(unable.map((r) => r.unable))];
    out.push(`n/a (${reasons.join('; ')}): ${unable.map((r) => `\`${r.name}\``).join(', ')}.`, '');
  }
  return out.join('\n');
}

function renderRating(rating, context, started) {
  const out = ['### Rating prediction: 5-fold cross-validation', ''];
  out.push(provenance('rating', context, started, rating.map((r) => r.name)), '');
  out.push('```', command(['evaluate', '--data', context.data, '--split', 'kfold:5:F', '--task', 'rating', '--model', 'NAME', '--json']) + '   # F = 0..4', '```', '');
  out.push('| model | RMSE fold 0..4 | mean RMSE | MAE fold 0..4 | mean MAE | RMSE / bias | fit s (mean) |');
  out.push('|---|---|---|---|---|---|---|');
  const bias = rating.find((r) => r.name === 'bias');
  const biasRmse = bias && !bias.error ? mean(bias.folds.map((f) => f.metrics.rmse)) : undefined;
  for (const r of rating) {
    if (r.error) {
      out.push(`| \`${r.name}\` | ${errorCell(r.error)} | | | | | |`);
      continue;
    }
    const rmse = r.folds.map((f) => f.metrics.rmse);
    const mae = r.folds.map((f) => f.metrics.mae);
    out.push(`| \`${r.name}\` | ${rmse.map((x) => fmt(x)).join(' / ')} | ${fmt(mean(rmse))} | ${mae.map((x) => fmt(x)).join(' / ')} | ` +
      `${fmt(mean(mae))} | ${biasRmse ? `${(mean(rmse) / biasRmse).toFixed(3)}` : '-'} | ${fmt(mean(r.folds.map((f) => f.fit_seconds)), 2)} |`);
  }
  out.push('');
  return out.join('\n');
}


function writeSection(marker, markdown) {
  const begin = `<!-- ${marker}:begin -->`;
  const end = `<!-- ${marker}:end -->`;
  const block = `${begin}\n${markdown}\n${end}`;
  if (!existsSync(DOC)) {
    writeFileSync(DOC, `${block}\n`);
    return;
  }
  const text = readFileSync(DOC, 'utf8');
  const b = text.indexOf(begin);
  const e = text.indexOf(end);
  if (b >= 0 && e > b) {
    writeFileSync(DOC, text.slice(0, b) + block + text.slice(e + end.length));
  } else if (b < 0 && e < 0) {
    writeFileSync(DOC, `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}\n${block}\n`);
  } else {
    throw new Error(`${DOC} has a broken marker pair (${begin} ... ${end}); fix it by hand`);
  }
}

try {
  await main();
} catch (e) {
  console.error(`accuracy: ${e.message}`);
  process.exit(1);
}

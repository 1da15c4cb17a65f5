#!/usr/bin/env node
// Accuracy of every registered model on the embedded data, through the CLI (so
// it measures exactly what a user gets), written as markdown tables between
// <!-- accuracy:begin --> and <!-- accuracy:end --> in docs/benchmarks.md
// (nothing outside the markers is touched; they are appended if absent).
//
//   node bench/accuracy.mjs [--models a,b] [--data FILE] [--no-rating] [--dry-run]
//
// Ranking: evaluate --split ratio:0.8 --k 20 (Recall, NDCG, HR, coverage @20,
// fit seconds, ratio to popularity). Rating: for models that predict ratings,
// evaluate --task rating --split kfold:5:F for F = 0..4 (RMSE and MAE per fold
// and the mean, ratio to the bias baseline when it is registered). Whether a
// model predicts ratings is probed on a tiny synthetic file first, so
// ranking-only models are not fitted on the full data only to be refused.
// The CLI loads the release module in web/lib/wasm (build it with
// `bash scripts/build.sh wasm-release localrec_core`) or LOCALREC_MODULE_URL.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'web/cli/localrec.mjs');
const DOC = join(ROOT, 'docs/benchmarks.md');
const BEGIN = '<!-- accuracy:begin -->';
const END = '<!-- accuracy:end -->';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string' },
    data: { type: 'string', default: 'data/ml-latest-small/ratings.csv' },
    'no-rating': { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: node bench/accuracy.mjs [--models a,b] [--data FILE] [--no-rating] [--dry-run]');
  process.exit(0);
}

/** Runs the CLI; returns { ok, json, error }. */
function cli(cliArgs) {
  const r = spawnSync(process.execPath, [CLI, ...cliArgs], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) return { ok: false, error: (r.stderr || r.stdout || `exit ${r.status}`).trim() };
  try {
    return { ok: true, json: JSON.parse(r.stdout.trim().split('\n').pop()) };
  } catch (e) {
    return { ok: false, error: `unparsable CLI output: ${r.stdout.slice(0, 200)}` };
  }
}

const command = (a) => `node web/cli/localrec.mjs ${a.join(' ')}`;

function log(message) {
  process.stderr.write(`${message}\n`);
}

// A small rating file: enough rows for 5 folds and every model's fit.
function probeFile(dir) {
  const lines = ['userId,movieId,rating,timestamp'];
  for (let u = 1; u <= 40; ++u)
    for (let i = 1; i <= 15; ++i) if ((u * 7 + i * 3) % 4 !== 0) lines.push(`${u},${i},${1 + ((u + i) % 5)},${1000 + u * 20 + i}`);
  const file = join(dir, 'probe.csv');
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

function main() {
  const listed = cli(['models', '--json']);
  if (!listed.ok) throw new Error(`cannot list models: ${listed.error}`);
  let names = listed.json.map((m) => m.name);
  if (args.models) {
    const wanted = args.models.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = wanted.filter((n) => !names.includes(n));
    if (unknown.length) throw new Error(`unknown model(s) ${unknown.join(', ')}; registered: ${names.join(', ')}`);
    names = wanted;
  }
  // Popularity is the ranking baseline of every ratio: always measured.
  const rankingNames = names.includes('popularity') ? names : ['popularity', ...names];
  const data = relative(ROOT, resolve(args.data));
  const started = Date.now();

  const rankingArgs = (name) => ['evaluate', '--data', data, '--split', 'ratio:0.8', '--model', name, '--k', '20', '--json', '--quiet'];
  const ranking = [];
  for (const name of rankingNames) {
    log(`ranking: ${name}`);
    const r = cli(rankingArgs(name));
    ranking.push({ name, ...(r.ok ? { result: r.json } : { error: r.error }) });
  }

  const rating = [];
  if (!args['no-rating']) {
    const dir = mkdtempSync(join(tmpdir(), 'localrec-accuracy-'));
    try {
      const probe = probeFile(dir);
      const ratingNames = [...names];
      if (listed.json.some((m) => m.name === 'bias') && !ratingNames.includes('bias')) ratingNames.unshift('bias');
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
  }

  const markdown = render(ranking, rating, data, (Date.now() - started) / 1000);
  if (args['dry-run']) {
    console.log(markdown);
    return;
  }
  writeSection(markdown);
  console.log(`wrote the accuracy section of ${relative(ROOT, DOC)} (${ranking.length} ranking, ${rating.length} rating models)`);
}

function render(ranking, rating, data, seconds) {
  const out = [];
  const date = new Date().toISOString().slice(0, 10);
  out.push('## Accuracy on the embedded data', '');
  out.push(`Measured ${date} by \`node bench/accuracy.mjs${args.models ? ` --models ${args.models}` : ''}\` ` +
    `(${seconds.toFixed(0)} s in all) through the CLI on ${process.env.LOCALREC_MODULE_URL ? `the WebAssembly module ${relative(ROOT, process.env.LOCALREC_MODULE_URL)}` : 'the WebAssembly release module (web/lib/wasm)'}, every model with its default options. ` +
    'Defaults were tuned on validation splits carved from the training part (`scripts/validation-split.mjs`), never on these test rows.', '');
  out.push('### Ranking: per-user random 80/20 split, full ranking, K = 20', '');
  out.push('```', command(['evaluate', '--data', data, '--split', 'ratio:0.8', '--model', 'NAME', '--k', '20', '--json']), '```', '');
  const pop = ranking.find((r) => r.name === 'popularity')?.result?.metrics ?? {};
  out.push('| model | Recall@20 | NDCG@20 | HR@20 | coverage@20 | Recall / popularity | NDCG / popularity | fit s |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const r of ranking) {
    if (r.error) {
      out.push(`| \`${r.name}\` | error: ${r.error.split('\n')[0].replace(/\|/g, '\\|')} | | | | | | |`);
      continue;
    }
    const m = r.result.metrics;
    out.push(`| \`${r.name}\` | ${fmt(m['recall@20'])} | ${fmt(m['ndcg@20'])} | ${fmt(m['hr@20'])} | ${fmt(m['coverage@20'])} | ` +
      `${ratio(m['recall@20'], pop['recall@20'])} | ${ratio(m['ndcg@20'], pop['ndcg@20'])} | ${fmt(r.result.fit_seconds, 2)} |`);
  }
  out.push('');
  if (rating.length) {
    out.push('### Rating prediction: 5-fold cross-validation', '');
    out.push('```', command(['evaluate', '--data', data, '--split', 'kfold:5:F', '--task', 'rating', '--model', 'NAME', '--json']) + '   # F = 0..4', '```', '');
    out.push('| model | RMSE fold 0..4 | mean RMSE | MAE fold 0..4 | mean MAE | RMSE / bias | fit s (mean) |');
    out.push('|---|---|---|---|---|---|---|');
    const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
    const bias = rating.find((r) => r.name === 'bias');
    const biasRmse = bias && !bias.error ? mean(bias.folds.map((f) => f.metrics.rmse)) : undefined;
    for (const r of rating) {
      if (r.error) {
        out.push(`| \`${r.name}\` | error: ${r.error.split('\n')[0].replace(/\|/g, '\\|')} | | | | | |`);
        continue;
      }
      const rmse = r.folds.map((f) => f.metrics.rmse);
      const mae = r.folds.map((f) => f.metrics.mae);
      out.push(`| \`${r.name}\` | ${rmse.map((x) => fmt(x)).join(' / ')} | ${fmt(mean(rmse))} | ${mae.map((x) => fmt(x)).join(' / ')} | ` +
        `${fmt(mean(mae))} | ${biasRmse ? `${(mean(rmse) / biasRmse).toFixed(3)}` : '-'} | ${fmt(mean(r.folds.map((f) => f.fit_seconds)), 2)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

function writeSection(markdown) {
  const block = `${BEGIN}\n${markdown}\n${END}`;
  if (!existsSync(DOC)) {
    writeFileSync(DOC, `${block}\n`);
    return;
  }
  const text = readFileSync(DOC, 'utf8');
  const b = text.indexOf(BEGIN);
  const e = text.indexOf(END);
  if (b >= 0 && e > b) {
    writeFileSync(DOC, text.slice(0, b) + block + text.slice(e + END.length));
  } else if (b < 0 && e < 0) {
    writeFileSync(DOC, `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}\n${block}\n`);
  } else {
    throw new Error(`${DOC} has a broken accuracy marker pair (${BEGIN} ... ${END}); fix it by hand`);
  }
}

try {
  main();
} catch (e) {
  console.error(`accuracy: ${e.message}`);
  process.exit(1);
}

#!/usr/bin/env node
// The localrec command line: train, evaluate and recommend from interaction files,
// in Node, on the same WebAssembly core a page uses.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';

import { loadCore, recommendForHistory, wrapErrors, LocalRecError } from '../lib/index.mjs';
import { ProgressBar } from './progress.mjs';

const USAGE = `localrec: an on-device recommender (WebAssembly core)

usage:
  localrec evaluate --data FILE [--format auto|movielens|ml100k|ml1m|csv]
                    --split leave-last-out|temporal:0.8|ratio:0.8|kfold:5[:FOLD]|cold-items:0.1
                    --model NAME [--set key=value ...] [--k 10] [--task ranking|rating]
                    [--seed N] [--sampled-negatives N] [--recent N] [--json]
                    [--items movies.csv] [--tags tags.csv] [--no-items]
  localrec evaluate --train FILE --test FILE --model NAME [...]   (a split made elsewhere)
  localrec recommend --data FILE --model NAME --history ITEM,ITEM,... [--k 10] [--json]
  localrec compare [--data FILE] [--split SPEC] [--models a,b,...] [--k 10] [--json]
  localrec models [--json]

Ranking evaluation is full ranking with the history's items excluded; ties rank
the target after every other item with the same score. See docs/metrics.md.
--recent N asks each model with only the user's last N training events (a
"what next" query); the seen-item filter still uses the whole history.

Item texts (for content models such as tfidf): MovieLens movies.csv and tags.csv
are read from the data file's directory when present (or from --items/--tags;
--no-items skips them). Movies nobody rated join the catalog.
cold-items:F holds out a fraction F of the items with all their interactions
(their tags too: a held-out item keeps its title and genres); each test user
ranks only the held-out items. Models that cannot score items without
interactions are reported as "n/a".`;

const OPTIONS = {
  data: { type: 'string' },
  train: { type: 'string' },
  test: { type: 'string' },
  format: { type: 'string', default: 'auto' },
  split: { type: 'string' },
  model: { type: 'string' },
  models: { type: 'string' },
  set: { type: 'string', multiple: true, default: [] },
  k: { type: 'string', default: '10' },
  task: { type: 'string', default: 'ranking' },
  seed: { type: 'string', default: '42' },
  'sampled-negatives': { type: 'string', default: '0' },
  recent: { type: 'string', default: '0' },
  history: { type: 'string' },
  items: { type: 'string' },
  tags: { type: 'string' },
  'no-items': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

class UsageError extends Error {}

function positiveInt(text, name) {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer, got '${text}'`);
  return n;
}

function nonNegativeInt(text, name) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be an integer >= 0, got '${text}'`);
  return n;
}

function parseSets(sets) {
  const options = {};
  for (const item of sets) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set expects key=value, got '${item}'`);
    options[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return options;
}

function readText(file, flag) {
  if (!file) throw new UsageError(`--${flag} FILE is required`);
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --${flag} ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
}

/**
 * Reads item texts into the dataset: --items/--tags, else movies.csv/tags.csv
 * beside the interaction file (MovieLens layout). Returns what was read.
 */
function loadItemTexts(dataset, args, dataFile) {
  if (args['no-items']) {
    if (args.items || args.tags) throw new UsageError('--no-items contradicts --items/--tags');
    return null;
  }
  const beside = (name) => {
    const file = join(dirname(dataFile), name);
    return existsSync(file) ? file : undefined;
  };
  const moviesFile = args.items ?? (args.tags ? undefined : beside('movies.csv'));
  const tagsFile = args.tags ?? (args.items ? undefined : moviesFile && beside('tags.csv'));
  const info = { movies: moviesFile ?? null, tags: tagsFile ?? null, added: 0 };
  if (moviesFile) info.added = wrapErrors(() => dataset.readMovies(readText(moviesFile, 'items'), moviesFile)).added;
  if (tagsFile) wrapErrors(() => dataset.readTags(readText(tagsFile, 'tags'), tagsFile));
  return moviesFile || tagsFile ? info : null;
}

function describeTexts(texts) {
  if (!texts) return 'no item texts';
  const files = [texts.movies, texts.tags].filter(Boolean).map((f) => basename(f)).join(' + ');
  return `item texts from ${files}${texts.added ? ` (+${texts.added} items without interactions)` : ''}`;
}

/** Loads --data, or --train plus --test, into a dataset (with item texts) and a split. */
function loadSplit(core, args, seed) {
  if (args.train || args.test) {
    if (args.data) throw new UsageError('give either --data with --split, or --train with --test, not both');
    const dataset = wrapErrors(() => core.Dataset.fromText(readText(args.train, 'train'), args.train, args.format));
    const firstTestRow = wrapErrors(() => dataset.appendText(readText(args.test, 'test'), args.test, args.format));
    const texts = loadItemTexts(dataset, args, args.train);
    return { dataset, split: wrapErrors(() => core.Split.byRows(dataset, firstTestRow)), splitName: 'given', texts };
  }
  const dataset = wrapErrors(() => core.Dataset.fromText(readText(args.data, 'data'), args.data, args.format));
  const texts = loadItemTexts(dataset, args, args.data);
  const splitName = args.split ?? 'leave-last-out';
  const split = wrapErrors(() => core.Split.make(dataset, splitName, seed));
  return { dataset, split, splitName, texts };
}

function progressFor(args, label) {
  const bar = new ProgressBar(label, { enabled: !args.quiet && !args.json });
  return { bar, onProgress: (fraction, stage) => { bar.update(fraction, stage); } };
}

/** Fits and evaluates one model on a split; returns the CLI's JSON result. */
function runEvaluation(core, args, split, modelName, modelOptions, evalOptions, { textsOptional = false } = {}) {
  const model = wrapErrors(() => core.Model.create(modelName, modelOptions));
  try {
    if (textsOptional && model.needsItemText() && !split.hasItemText()) {
      // compare: a content model without texts gets a row that says so (evaluate reports the error).
      return {
        model: modelName, params: model.options(), task: evalOptions.task,
        unable: 'needs item texts (--items FILE, e.g. MovieLens movies.csv)', metrics: {},
        users: 0, cold_users: 0, skipped_users: 0, test_rows: split.testSize(), fit_seconds: 0, eval_seconds: 0,
      };
    }
    // On a candidate set of items without interactions (cold-items), a model that
    // cannot score them is reported unable by evaluate(): fitting it would be wasted.
    const skipFit = split.candidates().length > 0 && !model.scoresColdItems();
    const fitBar = progressFor(args, `fit ${modelName}`);
    const t0 = performance.now();
    if (!skipFit) wrapErrors(() => model.fit(split, fitBar.onProgress));
    const fitSeconds = (performance.now() - t0) / 1000;
    fitBar.bar.done();
    const evalBar = progressFor(args, `evaluate ${modelName}`);
    const t1 = performance.now();
    const report = wrapErrors(() => core.evaluate(model, split, { ...evalOptions, onProgress: evalBar.onProgress }));
    const evalSeconds = (performance.now() - t1) / 1000;
    evalBar.bar.done();
    return {
      model: modelName,
      params: model.options(),
      task: report.task,
      ...(evalOptions.recentItems > 0 ? { recent_items: evalOptions.recentItems } : {}),
      ...(report.unable ? { unable: report.unable } : {}),
      metrics: report.metrics,
      users: report.users,
      cold_users: report.coldUsers,
      skipped_users: report.skippedUsers,
      test_rows: report.testRows,
      fit_seconds: round(fitSeconds, 4),
      eval_seconds: round(evalSeconds, 4),
    };
  } finally {
    model.delete();
  }
}

function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function evalOptionsFrom(args) {
  const task = args.task;
  if (task !== 'ranking' && task !== 'rating') throw new UsageError(`--task must be ranking or rating, got '${task}'`);
  return {
    task,
    k: positiveInt(args.k, 'k'),
    seed: nonNegativeInt(args.seed, 'seed'),
    sampledNegatives: nonNegativeInt(args['sampled-negatives'], 'sampled-negatives'),
    recentItems: nonNegativeInt(args.recent, 'recent'),
  };
}

async function commandEvaluate(core, args) {
  if (!args.model) throw new UsageError(`--model NAME is required; models: ${core.listModels().map((m) => m.name).join(', ')}`);
  const evalOptions = evalOptionsFrom(args);
  const { dataset, split, splitName, texts } = loadSplit(core, args, evalOptions.seed);
  try {
    if (!args.json && !args.quiet) console.log(describeTexts(texts));
    const result = runEvaluation(core, args, split, args.model, parseSets(args.set), evalOptions);
    result.split = splitName;
    if (args.json) {
      console.log(JSON.stringify(result));
    } else {
      printTable([result], evalOptions);
      if (result.cold_users > 0) console.log(`${result.cold_users} test users had no training rows (counted as misses).`);
    }
  } finally {
    split.delete();
    dataset.delete();
  }
}

async function commandCompare(core, args) {
  const evalOptions = evalOptionsFrom(args);
  args.data ??= new URL('../../data/ml-latest-small/ratings.csv', import.meta.url).pathname;
  const { dataset, split, splitName, texts } = loadSplit(core, args, evalOptions.seed);
  const names = args.models ? args.models.split(',') : core.listModels().map((m) => m.name);
  try {
    if (!args.json) {
      console.log(`data: ${args.data}: ${dataset.numUsers()} users, ${dataset.numItems()} items, ` +
        `${dataset.numInteractions()} interactions, ${describeTexts(texts)}; split ${splitName} ` +
        `(${split.trainSize()} train, ${split.testSize()} test rows` +
        `${split.candidates().length ? `, ${split.candidates().length} candidate items` : ''})`);
    }
    const results = [];
    for (const name of names) {
      results.push({ ...runEvaluation(core, args, split, name, {}, evalOptions, { textsOptional: true }), split: splitName });
    }
    if (args.json) console.log(JSON.stringify(results));
    else printTable(results, evalOptions);
  } finally {
    split.delete();
    dataset.delete();
  }
}

async function commandRecommend(core, args) {
  if (!args.model) throw new UsageError('--model NAME is required');
  if (args.history === undefined) throw new UsageError('--history ITEM,ITEM,... is required (may be empty: --history "")');
  const k = positiveInt(args.k, 'k');
  const dataset = wrapErrors(() => core.Dataset.fromText(readText(args.data, 'data'), args.data, args.format));
  loadItemTexts(dataset, args, args.data);
  const split = wrapErrors(() => core.Split.all(dataset));
  const model = wrapErrors(() => core.Model.create(args.model, parseSets(args.set)));
  try {
    const { bar, onProgress } = progressFor(args, `fit ${args.model}`);
    wrapErrors(() => model.fit(split, onProgress));
    bar.done();
    const historyIds = args.history.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    const { items, unknown } = recommendForHistory(model, historyIds, { k });
    if (args.json) {
      console.log(JSON.stringify({ model: args.model, params: model.options(), items, unknown_history_items: unknown }));
    } else {
      if (unknown.length) console.error(`ignored ${unknown.length} unknown history item(s): ${unknown.join(', ')}`);
      items.forEach((r, i) => console.log(`${String(i + 1).padStart(3)}  ${r.id.padEnd(12)} ${r.score.toPrecision(6)}`));
    }
  } finally {
    model.delete();
    split.delete();
    dataset.delete();
  }
}

function commandModels(core, args) {
  const models = core.listModels();
  if (args.json) {
    console.log(JSON.stringify(models));
    return;
  }
  for (const m of models) {
    console.log(`${m.name}: ${m.summary}`);
    for (const o of m.options) {
      const range = o.type === 'choice' ? o.choices.join('|') : o.type === 'bool' ? 'true|false' : `${o.type} in [${o.min}, ${o.max}]`;
      console.log(`  --set ${o.name}=${o.default}  (${range}) ${o.doc}`);
    }
  }
}

function printTable(results, evalOptions) {
  const k = evalOptions.k;
  const columns = evalOptions.task === 'rating'
    ? ['rmse', 'mae']
    : ['hr', 'recall', 'precision', 'ndcg', 'mrr', 'map', 'coverage'].map((m) => `${m}@${k}`).concat(['auc']);
  const header = ['model', ...columns, 'users', 'fit s', 'eval s'];
  const rows = results.map((r) => [
    r.model,
    ...columns.map((c) => (r.metrics[c] === undefined ? '-' : r.metrics[c].toFixed(4))),
    String(r.users),
    r.fit_seconds.toFixed(2),
    r.eval_seconds.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  results.forEach((r, i) => {
    // A model the protocol rules out gets its reason instead of numbers.
    if (r.unable) console.log(`${r.model.padEnd(widths[0])}  n/a: ${r.unable}`);
    else console.log(line(rows[i]));
  });
}

export async function main(argv) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    console.error(`localrec: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  const { values: args, positionals } = parsed;
  const command = positionals[0];
  if (args.help || !command) {
    console.log(USAGE);
    return args.help ? 0 : 2;
  }
  const commands = { evaluate: commandEvaluate, recommend: commandRecommend, compare: commandCompare, models: commandModels };
  if (!commands[command]) {
    console.error(`localrec: unknown command '${command}'; commands: ${Object.keys(commands).join(', ')}`);
    return 2;
  }
  try {
    // LOCALREC_MODULE_URL selects another build of the core (the tests use it for the debug build).
    const moduleUrl = process.env.LOCALREC_MODULE_URL;
    const core = await loadCore(moduleUrl ? { moduleUrl } : {});
    await commands[command](core, args);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`localrec: ${e.message}`);
      return 2;
    }
    if (e instanceof LocalRecError) {
      console.error(`localrec: error (${e.code}): ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (process.argv[1] && basename(process.argv[1]) === basename(new URL(import.meta.url).pathname)) {
  process.exitCode = await main(process.argv.slice(2));
}

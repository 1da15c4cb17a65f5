// The CLI contract, and an independent JS computation of the leave-last-out
// popularity protocol that the CLI's numbers must reproduce.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { repoRoot, moduleUrl } from './helpers.mjs';

const cli = join(repoRoot, 'web/cli/localrec.mjs');
const ratings = join(repoRoot, 'data/ml-latest-small/ratings.csv');
const env = { ...process.env, ...(moduleUrl ? { LOCALREC_MODULE_URL: moduleUrl } : {}) };

function run(args) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function runJson(args) {
  const r = run([...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Leave-last-out popularity, full ranking, pessimistic ties: computed without the library. */
function referencePopularityLeaveLastOut(text, k) {
  const lines = text.split('\n').slice(1).filter((l) => l.length > 0);
  const byUser = new Map();
  lines.forEach((line, row) => {
    const [user, item, , ts] = line.split(',');
    if (!byUser.has(user)) byUser.set(user, []);
    byUser.get(user).push({ item, ts: Number(ts), row });
  });
  const counts = new Map();
  const tests = [];
  for (const [user, events] of byUser) {
    events.sort((a, b) => a.ts - b.ts || a.row - b.row);
    const train = events.length >= 2 ? events.slice(0, -1) : events;
    if (events.length >= 2) tests.push({ history: new Set(train.map((e) => e.item)), target: events.at(-1).item });
    for (const e of train) counts.set(e.item, (counts.get(e.item) ?? 0) + 1);
  }
  const items = [...new Set(lines.map((l) => l.split(',')[1]))];
  let hr = 0, ndcg = 0, mrr = 0;
  for (const { history, target } of tests) {
    if (history.has(target)) continue;
    const s = counts.get(target) ?? 0;
    let rank = 1;
    for (const item of items) {
      if (item !== target && !history.has(item) && (counts.get(item) ?? 0) >= s) rank++;
    }
    if (rank <= k) {
      hr += 1;
      ndcg += 1 / Math.log2(rank + 1);
      mrr += 1 / rank;
    }
  }
  const n = tests.length;
  return { users: n, hr: hr / n, ndcg: ndcg / n, mrr: mrr / n };
}

test('evaluate --json on the embedded data reproduces an independent computation', () => {
  const out = runJson(['evaluate', '--data', ratings, '--split', 'leave-last-out', '--model', 'popularity']);
  for (const key of ['model', 'params', 'task', 'metrics', 'users', 'fit_seconds', 'eval_seconds']) assert.ok(key in out, key);
  for (const key of ['hr@10', 'ndcg@10', 'recall@10', 'precision@10', 'mrr@10', 'map@10', 'coverage@10']) {
    assert.equal(typeof out.metrics[key], 'number', key);
  }
  const ref = referencePopularityLeaveLastOut(readFileSync(ratings, 'utf8'), 10);
  assert.equal(out.model, 'popularity');
  assert.equal(out.task, 'ranking');
  assert.equal(out.users, ref.users);
  assert.ok(Math.abs(out.metrics['hr@10'] - ref.hr) < 1e-9, `${out.metrics['hr@10']} vs ${ref.hr}`);
  assert.ok(Math.abs(out.metrics['ndcg@10'] - ref.ndcg) < 1e-9);
  assert.ok(Math.abs(out.metrics['mrr@10'] - ref.mrr) < 1e-9);
  // One relevant item per user: recall = HR, MAP = MRR, precision = HR / K.
  assert.ok(Math.abs(out.metrics['recall@10'] - ref.hr) < 1e-9);
  assert.ok(Math.abs(out.metrics['map@10'] - ref.mrr) < 1e-9);
  assert.ok(Math.abs(out.metrics['precision@10'] - ref.hr / 10) < 1e-9);
});

test('evaluate --train/--test: cold test users count as misses, test-only items are ranked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'localrec-cli-'));
  const train = join(dir, 'train.csv');
  const testFile = join(dir, 'test.csv');
  writeFileSync(train, 'user,item,timestamp\nu1,a,1\nu1,b,2\nu2,a,1\nu3,b,1\nu3,a,2\nu5,a,5\n');
  // u1 -> c (popularity 0, ties with x which appears only in test): rank 2. u2 -> b: rank 1. u9: cold.
  // u5's only test item is already in its history: skipped, not counted in users.
  writeFileSync(testFile, 'user,item,timestamp\nu1,c,3\nu2,b,2\nu9,a,1\nu3,x,3\nu5,a,9\n');
  const out = runJson(['evaluate', '--train', train, '--test', testFile, '--model', 'popularity', '--k', '1']);
  assert.equal(out.users, 4);
  assert.equal(out.cold_users, 1);
  assert.equal(out.skipped_users, 1);
  // Hits at K=1: only u2 (b has popularity 2 after a is in its history). u3 -> x: c ties x, rank 2.
  assert.ok(Math.abs(out.metrics['hr@1'] - 1 / 4) < 1e-9);
});

test('unknown model, bad option, bad K and malformed files are clear errors', () => {
  let r = run(['evaluate', '--data', ratings, '--split', 'leave-last-out', '--model', 'nope']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown model 'nope'; valid models: .*popularity/);
  r = run(['evaluate', '--data', ratings, '--model', 'popularity', '--set', 'speed=9']);
  assert.match(r.stderr, /unknown option 'speed'.*valid options: .*min_value/);
  r = run(['evaluate', '--data', ratings, '--model', 'popularity', '--k', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--k must be a positive integer/);
  r = run(['evaluate', '--data', ratings, '--model', 'popularity', '--recent', 'two']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--recent must be an integer >= 0/);
  const dir = mkdtempSync(join(tmpdir(), 'localrec-cli-'));
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, 'user,item,rating\nu1,a,4\nu2,b,inf\n');
  r = run(['evaluate', '--data', bad, '--model', 'popularity']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.csv:3/);
  r = run(['evaluate', '--data', join(dir, 'missing.csv'), '--model', 'popularity']);
  assert.match(r.stderr, /no such file/);
});

test('recommend prints known items, ignoring and reporting unknown history items', () => {
  const out = runJson(['recommend', '--data', ratings, '--model', 'popularity', '--history', '356,not-an-item', '--k', '3']);
  // The three most-rated movies of ml-latest-small are 356 (Forrest Gump, 329), 318 (317) and 296 (307);
  // 356 is in the history, so: 318, 296, 593 (279).
  assert.deepEqual(out.items.map((r) => r.id), ['318', '296', '593']);
  assert.deepEqual(out.items.map((r) => r.score), [317, 307, 279]);
  assert.deepEqual(out.unknown_history_items, ['not-an-item']);
});

test('models lists every model with its options', () => {
  const out = JSON.parse(execFileSync(process.execPath, [cli, 'models', '--json'], { encoding: 'utf8', env }));
  assert.ok(out.find((m) => m.name === 'popularity').options.length >= 1);
});

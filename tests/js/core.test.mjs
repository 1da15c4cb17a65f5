import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { core, moduleUrl, TINY_CSV } from './helpers.mjs';
import { mapItemIds, recommendForHistory } from '../../web/lib/index.mjs';

test('the module is the SIMD build and lists its models', async () => {
  const m = await core();
  assert.equal(m.simdPath(), 'wasm-simd128');
  const names = m.listModels().map((x) => x.name);
  assert.ok(names.includes('popularity'));
  const popularity = m.listModels().find((x) => x.name === 'popularity');
  assert.ok(popularity.options.some((o) => o.name === 'min_value'));
});

test('dataset ids, split and popularity recommendations give the hand-computed answer', async () => {
  const m = await core();
  const ds = m.Dataset.fromText(TINY_CSV, 'tiny.csv', 'csv');
  assert.equal(ds.numUsers(), 4);
  assert.equal(ds.numItems(), 4);
  assert.equal(ds.numInteractions(), 10);
  assert.ok(ds.hasRatings());
  assert.deepEqual(ds.itemIds(), ['a', 'b', 'c', 'd']);
  assert.equal(ds.itemIndex('c'), 2);
  assert.equal(ds.itemIndex('zzz'), -1);

  const split = m.Split.all(ds);
  const model = m.Model.create('popularity', {});
  model.fit(split, undefined);
  assert.deepEqual(Array.from(model.score([])), [4, 3, 2, 1]);
  // History [a] excludes a: b then c then d.
  const rec = model.recommend(Int32Array.of(0), { k: 2 });
  assert.deepEqual(Array.from(rec.items), [1, 2]);
  assert.deepEqual(Array.from(rec.scores), [3, 2]);
  // min_value=4 counts only ratings >= 4: a has 5,4,5 -> 3; b has 4,5 -> 2; c none; d 4 -> 1.
  const strict = m.Model.create('popularity', { min_value: 4 });
  strict.fit(split, undefined);
  assert.deepEqual(Array.from(strict.score([])), [3, 2, 0, 1]);
  strict.delete();

  // External ids: unknown items are ignored and reported.
  const { indices, unknown } = mapItemIds(model, ['b', 'nope']);
  assert.deepEqual(Array.from(indices), [1]);
  assert.deepEqual(unknown, ['nope']);
  const byIds = recommendForHistory(model, ['b', 'nope'], { k: 10 });
  assert.deepEqual(byIds.items.map((r) => r.id), ['a', 'c', 'd']);
  assert.deepEqual(byIds.unknown, ['nope']);

  model.delete();
  split.delete();
  ds.delete();
});

test('save and load round-trip a model exactly, catalog included', async () => {
  const m = await core();
  const ds = m.Dataset.fromText(TINY_CSV, 'tiny.csv', 'auto');
  const split = m.Split.all(ds);
  const model = m.Model.create('popularity', { half_life_days: 0.5 });
  model.fit(split, undefined);
  const bytes = model.save();
  assert.ok(bytes instanceof Uint8Array && bytes.length > 16);
  const loaded = m.Model.load(bytes);
  assert.equal(loaded.kind(), 'popularity');
  assert.deepEqual(loaded.options(), model.options());
  assert.deepEqual(Array.from(loaded.score([1])), Array.from(model.score([1])));
  assert.deepEqual(loaded.itemIds(), ['a', 'b', 'c', 'd']);
  // A damaged copy is a clear error and the module keeps working.
  const damaged = bytes.slice();
  damaged[damaged.length >> 1] ^= 0x40;
  assert.throws(() => m.Model.load(damaged), (e) => e.code === 'FORMAT_ERROR' && /checksum|corrupt/i.test(e.message));
  assert.throws(() => m.Model.load(bytes.slice(0, 10)), (e) => e.code === 'FORMAT_ERROR');
  assert.deepEqual(Array.from(loaded.score([])), Array.from(model.score([])));
  for (const h of [loaded, model, split, ds]) h.delete();
});

test('evaluate on a hand-made leave-last-out split gives the hand-computed metrics', async () => {
  const m = await core();
  // Each user's last event (by time) is the test row. Train: u1 a,b; u2 a; u3 a; u4 a,b.
  // Popularity on train: a=4, b=2, c=0, d=0.
  // u1 target c, history {a,b}: candidates c,d both 0 -> pessimistic rank of c = 2.
  // u2 target b, history {a}: b=2 ranks 1.  u3 target c, history {a}: b=2, c=0 tie with d -> rank 3.
  // u4 target d, history {a,b}: c=0 ties d -> rank 2.
  const ds = m.Dataset.fromText(TINY_CSV, 'tiny.csv', 'csv');
  const split = m.Split.make(ds, 'leave-last-out', 1);
  assert.equal(split.testSize(), 4);
  const model = m.Model.create('popularity', {});
  model.fit(split, undefined);
  const r = m.evaluate(model, split, { k: 2 });
  const ranks = [2, 1, 3, 2];
  const hr = ranks.filter((x) => x <= 2).length / 4;
  const ndcg = ranks.map((x) => (x <= 2 ? 1 / Math.log2(x + 1) : 0)).reduce((a, b) => a + b) / 4;
  const mrr = ranks.map((x) => (x <= 2 ? 1 / x : 0)).reduce((a, b) => a + b) / 4;
  assert.equal(r.users, 4);
  assert.ok(Math.abs(r.metrics['hr@2'] - hr) < 1e-9);
  assert.ok(Math.abs(r.metrics['ndcg@2'] - ndcg) < 1e-9);
  assert.ok(Math.abs(r.metrics['mrr@2'] - mrr) < 1e-9);
  assert.ok(Math.abs(r.metrics['recall@2'] - hr) < 1e-9);
  assert.ok(Math.abs(r.metrics['precision@2'] - hr / 2) < 1e-9);
  for (const h of [model, split, ds]) h.delete();
});

test('evaluate with recentItems matches scoring the last N events by hand', async () => {
  const m = await core();
  // 60 users walking a 25-item catalog in strides, so the last events say more than the first.
  const lines = ['user,item,timestamp'];
  for (let u = 0; u < 60; u++) {
    for (let t = 0; t < 12; t++) lines.push(`u${u},i${(u * 7 + t * (1 + (u % 3))) % 25},${t}`);
  }
  const ds = m.Dataset.fromText(`${lines.join('\n')}\n`, 'strides.csv', 'csv');
  const split = m.Split.make(ds, 'leave-last-out', 1);
  const model = m.Model.create('item_knn', {});
  model.fit(split, undefined);
  const users = split.testUsers();
  const targets = split.testItems();
  const byHand = (recent) => {
    let hr = 0;
    let ndcg = 0;
    for (let t = 0; t < users.length; t++) {
      const history = split.history(users[t]);
      const scores = model.score(recent > 0 ? history.slice(Math.max(0, history.length - recent)) : history);
      if (history.includes(targets[t])) continue;  // never the case here: strides do not repeat within 12 steps
      for (const item of history) scores[item] = -Infinity;
      let rank = 1;
      for (let i = 0; i < scores.length; i++) if (i !== targets[t] && scores[i] >= scores[targets[t]]) rank++;
      if (rank <= 5) {
        hr++;
        ndcg += 1 / Math.log2(rank + 1);
      }
    }
    return { hr: hr / users.length, ndcg: ndcg / users.length };
  };
  const results = [0, 1, 3].map((recent) => {
    const r = m.evaluate(model, split, { k: 5, recentItems: recent });
    const ref = byHand(recent);
    assert.equal(r.users, users.length);
    assert.ok(Math.abs(r.metrics['hr@5'] - ref.hr) < 1e-9, `recent ${recent}: ${r.metrics['hr@5']} vs ${ref.hr}`);
    assert.ok(Math.abs(r.metrics['ndcg@5'] - ref.ndcg) < 1e-9, `recent ${recent}`);
    return r.metrics['ndcg@5'];
  });
  assert.notEqual(results[1], results[0]);  // the option reaches the evaluator
  assert.throws(() => m.evaluate(model, split, { recentItems: -2 }), (e) => e.code === 'INVALID_ARGUMENT' && /recentItems/.test(e.message));
  for (const h of [model, split, ds]) h.delete();
});

test('bad input is a clear error and the module keeps working after it', async () => {
  const m = await core();
  assert.throws(() => m.Model.create('nosuchmodel', {}), (e) => e.code === 'INVALID_ARGUMENT' && /valid models: .*popularity/.test(e.message));
  assert.throws(() => m.Model.create('popularity', { bogus: 1 }), (e) => /unknown option 'bogus'.*min_value/.test(e.message));
  assert.throws(() => m.Model.create('popularity', { half_life_days: -1 }), (e) => /half_life_days/.test(e.message));
  assert.throws(() => m.Dataset.fromText('user,item,rating\nu1,a,5\nu2,b,oops\n', 'bad.csv', 'csv'),
    (e) => e.code === 'PARSE_ERROR' && /bad\.csv:3/.test(e.message) && /rating/.test(e.message));
  assert.throws(() => m.Dataset.fromText('', 'empty.csv', 'auto'), (e) => /empty\.csv/.test(e.message));
  assert.throws(() => m.Dataset.fromText('u,i\n', 'x.csv', 'nosuchformat'), (e) => /auto.*movielens/.test(e.message));

  const ds = m.Dataset.fromText(TINY_CSV, 'tiny.csv', 'csv');
  assert.throws(() => m.Split.make(ds, 'ratio:1.5', 1), (e) => /leave-last-out/.test(e.message));
  const split = m.Split.all(ds);
  const model = m.Model.create('popularity', {});
  assert.throws(() => model.score([]), (e) => e.code === 'STATE_ERROR' && /not fitted/.test(e.message));
  model.fit(split, undefined);
  assert.throws(() => model.recommend([0], { k: 0 }), (e) => /k must be a positive integer/.test(e.message));
  assert.throws(() => model.recommend([99], { k: 3 }), (e) => /outside the catalog/.test(e.message));
  assert.throws(() => model.score('abc'), (e) => /history must be an array/.test(e.message));
  assert.throws(() => m.evaluate(model, split, { k: -1 }), (e) => e.code === 'INVALID_ARGUMENT');
  // Still fine after all those errors.
  assert.deepEqual(Array.from(model.recommend([], { k: 2 }).items), [0, 1]);
  for (const h of [model, split, ds]) h.delete();
});

test('fit reports progress and a truthy callback return cancels it', async () => {
  const m = await core();
  const ds = m.Dataset.fromText(TINY_CSV, 'tiny.csv', 'csv');
  const split = m.Split.all(ds);
  const model = m.Model.create('popularity', {});
  const seen = [];
  model.fit(split, (fraction, stage) => { seen.push(fraction); });
  assert.equal(seen.at(-1), 1);
  const other = m.Model.create('popularity', {});
  assert.throws(() => other.fit(split, () => true), (e) => e.code === 'CANCELLED');
  assert.equal(other.fitted(), false);
  for (const h of [model, other, split, ds]) h.delete();
});

test('an uncaught error in the embedding Node program is reported as itself, not as the module source', () => {
  // The module must not install process-wide handlers: Emscripten's default ones
  // rethrow from inside the one-line minified module, so Node printed that whole
  // line (about 90 KB) as the error's source context.
  const program = `
    import { loadCore } from ${JSON.stringify(new URL('../../web/lib/index.mjs', import.meta.url).href)};
    const core = await loadCore(${moduleUrl ? JSON.stringify({ moduleUrl }) : '{}'});
    core.Split.make(core.Dataset.fromText('user,item\\nu1,a\\n', 'tiny', 'csv'), 'no-such-split', 1);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8' });
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /invalid split 'no-such-split'/);
  assert.doesNotMatch(run.stderr, /createLocalRecCore/);
  assert.ok(run.stderr.length < 4000, `stderr is ${run.stderr.length} characters`);
});

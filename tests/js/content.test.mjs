// Item texts through the JS API and the CLI: the tfidf content model, missing
// texts, bad text files, and the cold-items protocol (candidates, "unable").
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { core, moduleUrl, repoRoot, TINY_CSV } from './helpers.mjs';

const ml = (name) => join(repoRoot, 'data/ml-latest-small', name);

test('tfidf fits from JS with item texts, scores an item nobody rated, explains by shared terms', async () => {
  const m = await core();
  const ds = m.Dataset.fromText(TINY_CSV, 'tiny.csv', 'csv');  // items a, b, c, d
  const stats = ds.setItemText(['a', 'b', 'c', 'd', 'e'],
    ['Space opera adventure', 'space station drama', 'romantic comedy', 'courtroom drama', 'SPACE western']);
  assert.deepEqual(stats, { rows: 5, added: 1, skipped: 0 });  // "e" joins the catalog without interactions
  assert.equal(ds.numItems(), 5);
  assert.equal(ds.hasItemText(), true);
  assert.equal(ds.itemText(ds.itemIndex('e')), 'SPACE western');
  const split = m.Split.all(ds);
  const model = m.Model.create('tfidf', {});
  try {
    assert.equal(split.hasItemText(), true);
    assert.equal(model.needsItemText(), true);
    assert.equal(model.scoresColdItems(), true);
    model.fit(split);
    const a = ds.itemIndex('a');
    // "space" is shared with b and e; e's text is shorter, so its "space" weighs more.
    const list = model.recommend([a], { k: 2 });
    assert.deepEqual(Array.from(list.items, (i) => model.itemId(i)), ['e', 'b']);
    const scores = model.score([a]);
    assert.equal(scores[ds.itemIndex('c')], 0);
    const why = model.explain([a], ds.itemIndex('e'), 3);
    assert.equal(why.length, 1);
    assert.equal(why[0].source, -1);
    assert.equal(why[0].feature, 'space');
    assert.ok(Math.abs(why[0].weight - scores[ds.itemIndex('e')]) < 1e-6);
    // The model file keeps the vocabulary: a loaded model explains the same way.
    const loaded = m.Model.load(model.save());
    assert.deepEqual(loaded.explain([a], ds.itemIndex('e'), 3), why);
    loaded.delete();
  } finally {
    model.delete();
    split.delete();
    ds.delete();
  }
});

test('a content model without item texts, and bad texts, fail with clear errors', async () => {
  const m = await core();
  const ds = m.Dataset.fromText(TINY_CSV, 'tiny.csv', 'csv');
  const split = m.Split.all(ds);
  const model = m.Model.create('tfidf', {});
  try {
    assert.equal(split.hasItemText(), false);
    assert.throws(() => model.fit(split), (e) => e.code === 'INVALID_ARGUMENT' && /needs item texts/.test(e.message) && /setItemText/.test(e.message));
    assert.equal(model.fitted(), false);
    assert.throws(() => ds.setItemText(['a', 'b'], ['x']), (e) => e.code === 'INVALID_ARGUMENT' && /2 ids but 1 texts/.test(e.message));
    assert.throws(() => ds.setItemText(['a'], [7]), (e) => e.code === 'INVALID_ARGUMENT' && /texts\[0\] must be a string/.test(e.message));
    assert.throws(() => ds.setItemText('a', ['x']), (e) => e.code === 'INVALID_ARGUMENT');
    assert.throws(() => ds.readMovies('movieId,title,genres\n1,A,B\n2,"open,C\n', 'movies.csv'),
      (e) => e.code === 'PARSE_ERROR' && /movies\.csv:3: unterminated/.test(e.message));
    assert.throws(() => ds.readTags('user,item\n', 'tags.csv'), (e) => e.code === 'PARSE_ERROR' && /tags\.csv:1: expected the header/.test(e.message));
    assert.equal(ds.hasItemText(), false);  // failed reads change nothing
    // Models that use no text ignore texts; and texts in any script are fine.
    ds.setItemText(['a', 'b', 'c', 'd'], ['東京 タワー', 'Ёлка', '', '\uFFFD broken']);
    const texted = m.Split.all(ds);
    const pop = m.Model.create('popularity', {});
    pop.fit(texted);
    model.fit(texted);
    assert.ok(model.score([0]).every(Number.isFinite));
    pop.delete();
    texted.delete();
  } finally {
    model.delete();
    split.delete();
    ds.delete();
  }
});

test('cold-items on ml-latest-small: candidates, tfidf beats random, CF models are unable', async () => {
  const m = await core();
  const ds = m.Dataset.fromText(readFileSync(ml('ratings.csv'), 'utf8'), 'ratings.csv', 'auto');
  const movies = ds.readMovies(readFileSync(ml('movies.csv'), 'utf8'), 'movies.csv');
  assert.deepEqual(movies, { rows: 9742, added: 18, skipped: 0 });
  const tags = ds.readTags(readFileSync(ml('tags.csv'), 'utf8'), 'tags.csv');
  assert.equal(tags.rows, 3683);
  const split = m.Split.make(ds, 'cold-items:0.1', 42);
  const candidates = split.candidates();
  assert.equal(candidates.length, 972);  // 10% of the 9,724 rated movies
  const held = new Set(candidates);
  assert.ok(split.rows('train').items.every((i) => !held.has(i)));
  assert.ok(split.testItems().every((i) => held.has(i)));
  // Tags are interactions too: a held-out item keeps its title and genres and loses its tags; the
  // training items keep theirs; other splits keep every text as the dataset has it.
  // The reference: the same catalog with movies.csv only (title and genres).
  const moviesOnly = m.Dataset.fromText(readFileSync(ml('ratings.csv'), 'utf8'), 'ratings.csv', 'auto');
  moviesOnly.readMovies(readFileSync(ml('movies.csv'), 'utf8'), 'movies.csv');
  const other = m.Split.make(ds, 'ratio:0.8', 42);
  let heldWithTags = 0, trainWithTags = 0;
  for (let i = 0; i < ds.numItems(); i++) {
    const full = ds.itemText(i), seen = split.itemText(i);
    assert.equal(other.itemText(i), full);
    if (held.has(i)) {
      assert.equal(seen, moviesOnly.itemText(i), `item ${i}`);
      if (full !== seen) heldWithTags++;
    } else {
      assert.equal(seen, full, `item ${i}`);
      if (full !== moviesOnly.itemText(i)) trainWithTags++;
    }
  }
  assert.ok(heldWithTags > 50 && trainWithTags > 500, `${heldWithTags} ${trainWithTags}`);
  assert.throws(() => split.itemText(-1), (e) => e.code === 'INVALID_ARGUMENT' && /outside/.test(e.message));
  other.delete();
  moviesOnly.delete();
  const ndcg = {};
  for (const name of ['tfidf', 'random', 'popularity']) {
    const model = m.Model.create(name, {});
    try {
      if (model.scoresColdItems()) model.fit(split);
      const report = m.evaluate(model, split, { k: 10 });
      if (name === 'popularity') {
        assert.equal(report.unable, 'cannot score items without interactions');
        assert.deepEqual(report.metrics, {});
      } else {
        assert.equal(report.unable, undefined);
        ndcg[name] = report.metrics['ndcg@10'];
      }
    } finally {
      model.delete();
    }
  }
  assert.ok(ndcg.tfidf > 1.5 * ndcg.random, JSON.stringify(ndcg));
  split.delete();
  ds.delete();
});

const cli = join(repoRoot, 'web/cli/localrec.mjs');
const env = { ...process.env, ...(moduleUrl ? { LOCALREC_MODULE_URL: moduleUrl } : {}) };
const run = (args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });

test('CLI: movies.csv beside --data feeds tfidf; cold-items prints n/a for CF models', () => {
  const r = run(['compare', '--data', ml('ratings.csv'), '--split', 'cold-items:0.1', '--models', 'tfidf,random,item_knn', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout);
  const by = Object.fromEntries(rows.map((x) => [x.model, x]));
  assert.equal(by.item_knn.unable, 'cannot score items without interactions');
  assert.ok(by.tfidf.metrics['ndcg@10'] > by.random.metrics['ndcg@10']);
  const text = run(['compare', '--data', ml('ratings.csv'), '--split', 'cold-items:0.1', '--models', 'random,popularity', '--quiet']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /popularity\s+n\/a: cannot score items without interactions/);
  assert.match(text.stdout, /item texts from movies\.csv \+ tags\.csv \(\+18 items without interactions\)/);
  // Without texts: evaluate fails clearly, compare reports the row.
  const none = run(['evaluate', '--data', ml('ratings.csv'), '--model', 'tfidf', '--no-items', '--quiet']);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /INVALID_ARGUMENT.*needs item texts/);
  const explicit = run(['recommend', '--data', ml('ratings.csv'), '--no-items', '--items', ml('movies.csv'), '--model', 'tfidf', '--history', '1']);
  assert.equal(explicit.status, 2);
  assert.match(explicit.stderr, /--no-items contradicts --items/);
  const rec = run(['recommend', '--data', ml('ratings.csv'), '--model', 'tfidf', '--history', '1', '--k', '3', '--json']);
  assert.equal(rec.status, 0, rec.stderr);
  assert.equal(JSON.parse(rec.stdout).items.length, 3);
});

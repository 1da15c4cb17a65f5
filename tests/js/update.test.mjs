// Model.update (incremental refresh after new events) through the JS surface,
// and the integer check on item-index arrays. The C++ tests check update's
// math (one user half-step on the changed users, then one item half-step);
// these check the plumbing: the right users and catalog reach it, the saved
// user factors survive a round trip, and every misuse is refused without
// changing the model.
import test from 'node:test';
import assert from 'node:assert/strict';

import { core } from './helpers.mjs';

// 40 users in two taste groups over 10 items.
function csv(users, offset = 0) {
  const lines = ['user,item,rating,timestamp'];
  for (let u = offset; u < offset + users; u++) {
    for (let i = 0; i < 10; i++) if (i % 2 === u % 2 || (u * 3 + i) % 7 === 0) lines.push(`u${u},i${i},1,${1000 + i}`);
  }
  return lines.join('\n');
}

// reg is small: the default (tuned for ml-latest-small) shrinks this toy's factors to ~0.
const OPTIONS = { factors: 4, iterations: 5, seed: 7, reg: 0.1 };

test('ials update after new events: deterministic, survives save/load, and changes the scores', async () => {
  const m = await core();
  const ds = m.Dataset.fromText(csv(40), 'a.csv', 'csv');
  const first = m.Split.all(ds);
  const model = m.Model.create('ials', OPTIONS);
  model.fit(first);
  assert.equal(model.supportsUpdate(), true);
  const reloaded = m.Model.load(model.save());

  // u1 (odd group) starts liking even items; a new user u40 arrives.
  ds.appendText(['user,item,rating,timestamp', 'u1,i0,1,2000', 'u1,i2,1,2001', 'u1,i4,1,2002', 'u40,i1,1,2003', 'u40,i3,1,2004'].join('\n'), 'b.csv', 'csv');
  const second = m.Split.all(ds);
  const history = Int32Array.of(ds.itemIndex('i1'), ds.itemIndex('i3'));
  const before = model.score(history);

  model.update(second, [ds.userIndex('u1')]);
  reloaded.update(second, Int32Array.of(ds.userIndex('u1')));
  const after = model.score(history);
  assert.deepEqual(reloaded.score(history), after, 'the model file keeps the user factors update() needs');
  assert.ok(after.some((s, i) => Math.abs(s - before[i]) > 1e-3 * Math.abs(before[i])), 'the item half-step moved the item factors');

  const twin = m.Model.create('ials', OPTIONS);
  twin.fit(first);
  twin.update(second, [ds.userIndex('u1')]);
  assert.deepEqual(twin.score(history), after, 'same data, same seed, same result');

  for (const x of [model, reloaded, twin, first, second, ds]) x.delete();
});

test('update refuses misuse with a clear error and leaves the model as it was', async () => {
  const m = await core();
  const ds = m.Dataset.fromText(csv(20), 'a.csv', 'csv');
  const split = m.Split.all(ds);
  const model = m.Model.create('ials', OPTIONS);
  const history = Int32Array.of(0, 2);

  assert.throws(() => model.update(split, []), (e) => e.code === 'STATE_ERROR' && /not fitted/.test(e.message));
  model.fit(split);
  const scores = model.score(history);

  assert.throws(() => model.update(split, [20]), (e) => e.code === 'INVALID_ARGUMENT' && /changedUsers\[0\] = 20/.test(e.message));
  assert.throws(() => model.update(split, [1.5]), (e) => e.code === 'INVALID_ARGUMENT' && /changedUsers\[0\] must be an integer/.test(e.message));

  // A new item changes the catalog: update cannot place it, fit must.
  ds.appendText('user,item,rating,timestamp\nu1,brand-new,1,5000', 'c.csv', 'csv');
  const grown = m.Split.all(ds);
  assert.throws(() => model.update(grown, [1]), (e) => e.code === 'INVALID_ARGUMENT' && /catalog needs a full fit/.test(e.message));
  // The same item count but other ids is refused too.
  const other = m.Dataset.fromText(csv(20).replaceAll(',i9,', ',j9,'), 'd.csv', 'csv');
  const otherSplit = m.Split.all(other);
  assert.throws(() => model.update(otherSplit, []), (e) => e.code === 'INVALID_ARGUMENT' && /'j9', not the model's/.test(e.message));
  assert.deepEqual(model.score(history), scores, 'failed updates changed nothing');

  const popularity = m.Model.create('popularity', {});
  popularity.fit(split);
  assert.equal(popularity.supportsUpdate(), false);
  assert.throws(() => popularity.update(split, []), (e) => e.code === 'STATE_ERROR' && /no incremental update/.test(e.message));

  for (const x of [model, popularity, split, grown, otherSplit, other, ds]) x.delete();
});

test('item-index arrays must hold integers: 1.7 is refused, not read as item 1', async () => {
  const m = await core();
  const ds = m.Dataset.fromText(csv(20), 'a.csv', 'csv');
  const split = m.Split.all(ds);
  const model = m.Model.create('popularity', {});
  model.fit(split);
  assert.throws(() => model.score([1.7]), (e) => e.code === 'INVALID_ARGUMENT' && /history\[0\] must be an integer index, got 1.7/.test(e.message));
  assert.throws(() => model.recommend([0, 2 ** 40], { k: 3 }), (e) => e.code === 'INVALID_ARGUMENT' && /history\[1\]/.test(e.message));
  assert.throws(() => model.recommend([0], { k: 3, exclude: [NaN] }), (e) => e.code === 'INVALID_ARGUMENT' && /exclude\[0\]/.test(e.message));
  assert.equal(model.recommend(Int32Array.of(0), { k: 3 }).items.length, 3, 'the module keeps working');
  for (const x of [model, split, ds]) x.delete();
});

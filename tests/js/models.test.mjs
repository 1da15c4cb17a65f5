// Every registered model through the JS surface: fit, recommend, explain,
// save/load round trip, cancel, and bad options. New models are covered
// automatically (the C++ contract suite checks their answers in depth).
import test from 'node:test';
import assert from 'node:assert/strict';

import { core } from './helpers.mjs';

// 60 users in two taste groups over 12 items, with ratings and times; item "i0" is liked by everyone.
function syntheticCsv() {
  const lines = ['user,item,rating,timestamp'];
  for (let u = 0; u < 60; u++) {
    const group = u % 2;
    const items = [0];
    for (let i = 1; i < 12; i++) if ((i % 2 === group) && ((u * 7 + i * 3) % 5 !== 0)) items.push(i);
    items.forEach((i, n) => lines.push(`u${u},i${i},${i === 0 ? 5 : 1 + ((u + i) % 4)},${1000 + 60 * n}`));
  }
  return lines.join('\n');
}

// Item texts for every item (content models need them; the others ignore them).
function withTexts(ds) {
  const ids = ds.itemIds();
  ds.setItemText(ids, ids.map((id) => `item ${id} group${Number(id.slice(1)) % 2} ${id === 'i0' ? 'group0 group1' : ''}`));
  return ds;
}

test('every registered model fits, recommends, explains and round-trips through the JS API', async (t) => {
  const m = await core();
  const ds = withTexts(m.Dataset.fromText(syntheticCsv(), 'synthetic.csv', 'csv'));
  const split = m.Split.all(ds);
  t.after(() => { split.delete(); ds.delete(); });
  for (const info of m.listModels()) {
    await t.test(info.name, () => {
      const model = m.Model.create(info.name, {});
      try {
        model.fit(split);
        assert.equal(model.fitted(), true);
        assert.equal(model.numItems(), 12);
        const history = Int32Array.of(ds.itemIndex('i1'), ds.itemIndex('i3'));
        const list = model.recommend(history, { k: 5 });
        assert.equal(list.items.length, 5);
        assert.ok(!list.items.includes(history[0]) && !list.items.includes(history[1]));
        for (let i = 1; i < list.scores.length; i++) assert.ok(list.scores[i - 1] >= list.scores[i]);
        const scores = model.score(history);
        assert.equal(scores.length, 12);
        assert.ok(scores.every(Number.isFinite));
        assert.ok(model.score([]).every(Number.isFinite));
        const reasons = model.explain(history, list.items[0], 3);
        assert.ok(reasons.length <= 3);
        for (const r of reasons) assert.ok(r.source === -1 || (r.source >= 0 && r.source < history.length));
        const loaded = m.Model.load(model.save());
        assert.deepEqual(Array.from(loaded.score(history)), Array.from(scores));
        assert.deepEqual(loaded.itemIds(), ds.itemIds());
        loaded.delete();
      } finally {
        model.delete();
      }
    });
  }
});

test('every model rejects an unknown option and cancels on request', async () => {
  const m = await core();
  const ds = withTexts(m.Dataset.fromText(syntheticCsv(), 'synthetic.csv', 'csv'));
  const split = m.Split.all(ds);
  for (const info of m.listModels()) {
    assert.throws(() => m.Model.create(info.name, { no_such_option: 1 }), (e) => e.code === 'INVALID_ARGUMENT' && /no_such_option/.test(e.message));
    const model = m.Model.create(info.name, {});
    assert.throws(() => model.fit(split, () => true), (e) => e.code === 'CANCELLED', info.name);
    assert.equal(model.fitted(), false, info.name);
    // A callback that throws cancels the fit and its error reaches the caller unchanged.
    assert.throws(() => model.fit(split, () => { throw new RangeError('from the callback'); }), RangeError);
    model.delete();
  }
  split.delete();
  ds.delete();
});

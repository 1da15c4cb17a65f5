// Streaming sessions through the JS surface: pushed event by event, a session
// scores like model.score(history) (gru4rec incrementally, other models via the
// generic session), recommend filters like Model.recommend, misuse throws
// LocalRecError, and a session keeps its model alive.
import test from 'node:test';
import assert from 'node:assert/strict';

import { LocalRecError } from '../../web/lib/index.mjs';
import { core } from './helpers.mjs';

// 30 users walking a cycle of 8 items from different starts.
function cycleCsv() {
  const lines = ['user,item,rating,timestamp'];
  for (let u = 0; u < 30; u++) for (let k = 0; k < 10; k++) lines.push(`u${u},i${(u + k) % 8},1,${1000 * u + k}`);
  return lines.join('\n');
}

function assertClose(actual, expected) {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= 1e-5 * Math.max(1, Math.abs(expected[i])), `score ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

const MODELS = [
  ['gru4rec', { hidden: 8, epochs: 3, n_sample: 4, batch_size: 8 }],
  ['popularity', {}],
  ['ials', { factors: 4, iterations: 3 }],
];

for (const [name, options] of MODELS) {
  test(`${name} session pushed event by event equals score(history)`, async () => {
    const m = await core();
    const ds = m.Dataset.fromText(cycleCsv(), 'cycle.csv', 'csv');
    const split = m.Split.all(ds);
    const model = m.Model.create(name, options);
    model.fit(split);
    const session = model.openSession();
    const history = [3, 4, 5, 1].map((i) => ds.itemIndex(`i${i}`));
    assertClose(session.score(), model.score([]));
    history.forEach((item, k) => {
      session.push(item);
      assert.equal(session.size(), k + 1);
      assertClose(session.score(), model.score(history.slice(0, k + 1)));
    });
    assert.deepEqual(Array.from(session.items()), history);

    const fromSession = session.recommend({ k: 3, exclude: Int32Array.of(history[0] === 0 ? 1 : 0) });
    const fromModel = model.recommend(history, { k: 3, exclude: Int32Array.of(history[0] === 0 ? 1 : 0) });
    assert.deepEqual(fromSession, fromModel);
    const all = session.recommend();
    assert.equal(all.items.length, Math.min(10, 8 - new Set(history).size));
    assert.ok(Array.from(all.items).every((i) => !history.includes(i)), 'history excluded by default');

    assert.throws(() => session.push(99), (e) => e instanceof LocalRecError && e.code === 'INVALID_ARGUMENT');
    assert.throws(() => session.recommend({ k: 0 }), LocalRecError);
    session.reset();
    assert.equal(session.size(), 0);
    assertClose(session.score(), model.score([]));

    // The session shares ownership of the model: deleting the model first is safe.
    session.push(history[0]);
    model.delete();
    assert.equal(session.score().length, 8);
    session.delete();
    split.delete();
    ds.delete();
  });
}

test('openSession on an unfitted model throws STATE_ERROR', async () => {
  const m = await core();
  const model = m.Model.create('gru4rec', {});
  assert.throws(() => model.openSession(), (e) => e instanceof LocalRecError && e.code === 'STATE_ERROR');
  model.delete();
});

import test from 'node:test';
import assert from 'node:assert/strict';

import { core, TINY_CSV } from './helpers.mjs';

// Creating and deleting objects (and failing calls) in a loop must not grow the heap.
test('objects created and deleted in a loop leave the heap where it was', async () => {
  const m = await core();
  const cycle = () => {
    const ds = m.Dataset.fromText(TINY_CSV, 'tiny.csv', 'csv');
    const split = m.Split.make(ds, 'ratio:0.5', 3);
    const model = m.Model.create('popularity', {});
    model.fit(split, undefined);
    model.recommend([0], { k: 3 });
    m.evaluate(model, split, { k: 2 });
    const bytes = model.save();
    const loaded = m.Model.load(bytes);
    try { m.Dataset.fromText('u,i,r\nx,y,nan\n', 'bad.csv', 'csv'); } catch { /* expected */ }
    try { model.recommend([42], { k: 1 }); } catch { /* expected */ }
    for (const h of [loaded, model, split, ds]) h.delete();
  };
  for (let i = 0; i < 20; ++i) cycle();  // warm up: caches and pools settle
  const before = m.heapUsedBytes();
  for (let i = 0; i < 300; ++i) cycle();
  const after = m.heapUsedBytes();
  assert.ok(after - before <= 1024, `heap grew by ${after - before} bytes over 300 cycles`);
});

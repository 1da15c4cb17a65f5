// The scenario the browser tests run, in a page and in a module worker alike:
// load the core, train popularity on a small inline dataset, recommend.
import { loadCore, recommendForHistory } from '/web/lib/index.mjs';

const CSV = 'user,item\nu1,a\nu1,b\nu2,a\nu2,c\nu3,a\nu3,b\nu4,d\n';

export async function runScenario() {
  const core = await loadCore();
  const dataset = core.Dataset.fromText(CSV, 'inline.csv', 'csv');
  const split = core.Split.all(dataset);
  const model = core.Model.create('popularity', {});
  model.fit(split, undefined);
  const result = recommendForHistory(model, ['b', 'unknown-item'], { k: 3 });
  let error = null;
  try {
    model.recommend([], { k: 0 });
  } catch (e) {
    error = { message: e.message, code: e.code };
  }
  const afterError = recommendForHistory(model, [], { k: 1 }).items.map((r) => r.id);
  const out = { simd: core.simdPath(), items: result.items, unknown: result.unknown, error, afterError };
  model.delete();
  split.delete();
  dataset.delete();
  return out;
}

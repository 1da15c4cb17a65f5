#!/usr/bin/env node
// How much of the next item is in the last few history items: every model scores
// each test user's history cut to its last n items, and the table gives NDCG@K and
// HR@K per n. Run it on a validation split (scripts/validation-split.mjs), never
// to choose anything on test rows:
//   node scripts/recent-items.mjs --train DIR/train.csv --test DIR/valid.csv
//        [--models ease,ials,item_knn,user_knn,popularity] [--last 1,2,3,5,10,20,50,all] [--k 10]
// Each cell is the evaluator with `recentItems: n` (the CLI's `--recent n`): full
// ranking, the user's whole training history excluded (also the part cut off).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { loadCore } from '../web/lib/index.mjs';

const { values: args } = parseArgs({
  options: {
    train: { type: 'string' },
    test: { type: 'string' },
    models: { type: 'string', default: 'ease,ials,item_knn,user_knn,popularity' },
    last: { type: 'string', default: '1,2,3,5,10,20,50,all' },
    k: { type: 'string', default: '10' },
  },
});
const usage = 'usage: recent-items.mjs --train FILE --test FILE [--models a,b] [--last 1,5,all] [--k 10]';
if (!args.train || !args.test) {
  console.error(usage);
  process.exit(2);
}
const k = Number(args.k);
const lasts = args.last.split(',').map((text) => (text === 'all' ? Infinity : Number(text)));
if (!Number.isInteger(k) || k <= 0 || lasts.some((n) => n !== Infinity && (!Number.isInteger(n) || n <= 0))) {
  console.error(`--k and every --last must be positive integers (or 'all'); ${usage}`);
  process.exit(2);
}

// LOCALREC_MODULE_URL selects another build of the core, as in the CLI.
const core = await loadCore(process.env.LOCALREC_MODULE_URL ? { moduleUrl: process.env.LOCALREC_MODULE_URL } : {});
const data = core.Dataset.fromText(readFileSync(args.train, 'utf8'), args.train, 'auto');
const firstTestRow = data.appendText(readFileSync(args.test, 'utf8'), args.test, 'auto');
const split = core.Split.byRows(data, firstTestRow);

const header = ['model', ...lasts.map((n) => (n === Infinity ? 'all' : `last ${n}`))];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const name of args.models.split(',')) {
  const model = core.Model.create(name, {});
  model.fit(split);
  const cells = lasts.map((n) => {
    const { metrics } = core.evaluate(model, split, { k, recentItems: n === Infinity ? 0 : n });
    return `${metrics[`ndcg@${k}`].toFixed(4)} (HR ${metrics[`hr@${k}`].toFixed(4)})`;
  });
  console.log(`| \`${name}\` | ${cells.join(' | ')} |`);
  model.delete();
}

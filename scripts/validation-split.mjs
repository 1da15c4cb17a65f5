#!/usr/bin/env node
// Carves a validation split out of the TRAINING part of an evaluation split, for
// tuning model defaults without touching test rows:
//   node scripts/validation-split.mjs --data FILE --split ratio:0.8 [--seed 42] --out DIR
// applies the split (as the CLI would with the same --seed), then splits its train
// part again with the same spec and seed+1, and writes DIR/train.csv and
// DIR/valid.csv (user,item,rating,timestamp), and the whole train part as
// DIR/outer-train.csv (for cold-items: see below). Tune with
//   localrec evaluate --train DIR/train.csv --test DIR/valid.csv --model NAME --set ...
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { loadCore } from '../web/lib/index.mjs';

const { values: args } = parseArgs({
  options: { data: { type: 'string' }, split: { type: 'string', default: 'ratio:0.8' }, seed: { type: 'string', default: '42' },
    out: { type: 'string' }, format: { type: 'string', default: 'auto' } },
});
if (!args.data || !args.out) {
  console.error('usage: validation-split.mjs --data FILE [--split SPEC] [--seed N] --out DIR');
  process.exit(2);
}
// LOCALREC_MODULE_URL selects another build of the core, as in the CLI.
const core = await loadCore(process.env.LOCALREC_MODULE_URL ? { moduleUrl: process.env.LOCALREC_MODULE_URL } : {});
const seed = Number(args.seed);
const dataset = core.Dataset.fromText(readFileSync(args.data, 'utf8'), args.data, args.format);
const outer = core.Split.make(dataset, args.split, seed);
const train = outer.rows('train');
const toCsv = (r, from) => {
  const userIds = from.userIds();
  const itemIds = from.itemIds();
  const lines = ['user,item,rating,timestamp'];
  for (let i = 0; i < r.users.length; i++) lines.push(`${userIds[r.users[i]]},${itemIds[r.items[i]]},${r.values[i]},${r.times[i]}`);
  return `${lines.join('\n')}\n`;
};
// Re-load the training part as its own dataset and split it again.
const inner = core.Dataset.fromText(toCsv(train, dataset), 'outer-train', 'csv');
const split = core.Split.make(inner, args.split, seed + 1);
mkdirSync(args.out, { recursive: true });
writeFileSync(join(args.out, 'train.csv'), toCsv(split.rows('train'), inner));
writeFileSync(join(args.out, 'valid.csv'), toCsv(split.rows('test'), inner));
// The train part itself too: a given --train/--test pair carries no candidate set,
// so a cold-items validation runs the CLI's own split on it (same spec, seed + 1):
//   localrec compare --data DIR/outer-train.csv --split cold-items:0.1 --seed 43 \
//     --items data/ml-latest-small/movies.csv --tags data/ml-latest-small/tags.csv --models ...
writeFileSync(join(args.out, 'outer-train.csv'), toCsv(train, dataset));
console.log(`wrote ${join(args.out, 'train.csv')} (${split.trainSize()} rows) and valid.csv (${split.testSize()} rows) ` +
  `from the train part (${outer.trainSize()} rows) of ${args.split} seed ${seed}`);
for (const h of [split, inner, outer, dataset]) h.delete();

#!/usr/bin/env node
// Writes two differently shaped subsets of the embedded ratings, to check that
// defaults tuned on the whole file still hold on other data (docs/benchmarks.md,
// "Do the defaults carry over?"). Nothing here is committed data: the files are
// regenerated on demand from data/ml-latest-small/ratings.csv.
//
//   node bench/subsets.mjs --out DIR
//     DIR/early.csv  the ratings made before 2003-01-01 (an older, sparser catalogue:
//                    about 28k rows, 241 users, 3,370 movies)
//     DIR/half.csv   every rating of a seeded random half of the users (about 56k rows,
//                    303 users, 8,221 movies)
// Rows keep their file order and the MovieLens header, so the CLI reads them with
// --format auto; pass --no-items (movies.csv is not beside them).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    data: { type: 'string', default: join(ROOT, 'data/ml-latest-small/ratings.csv') },
  },
});
if (!args.out) {
  console.error('usage: node bench/subsets.mjs --out DIR [--data ratings.csv]');
  process.exit(2);
}

const lines = readFileSync(args.data, 'utf8').trim().split('\n');
const header = lines[0];
const rows = lines.slice(1).map((line) => {
  const [user, item, , time] = line.split(',');
  return { line, user, item, time: Number(time) };
});

// A 31-bit linear congruential generator: enough to pick users, and the same
// picks everywhere (Math.random is not seedable).
function lcg(seed) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const cutoff = Date.UTC(2003, 0, 1) / 1000;
const early = rows.filter((r) => r.time < cutoff);
const random = lcg(7);
const chosen = new Set([...new Set(rows.map((r) => r.user))].filter(() => random() < 0.5));
const half = rows.filter((r) => chosen.has(r.user));

mkdirSync(args.out, { recursive: true });
for (const [name, subset] of [['early', early], ['half', half]]) {
  const path = join(args.out, `${name}.csv`);
  writeFileSync(path, [header, ...subset.map((r) => r.line)].join('\n') + '\n');
  const users = new Set(subset.map((r) => r.user)).size;
  const items = new Set(subset.map((r) => r.item)).size;
  console.log(`${path}: ${subset.length} rows, ${users} users, ${items} items`);
}

// Shared by the node tests: loads the module flavour under test (release by
// default; LOCALREC_MODULE_URL selects another build, e.g. the -sASSERTIONS=2 one).
import { loadCore } from '../../web/lib/index.mjs';

export const moduleUrl = process.env.LOCALREC_MODULE_URL;

export function core() {
  return loadCore(moduleUrl ? { moduleUrl } : {});
}

export const repoRoot = new URL('../../', import.meta.url).pathname;

// Tiny known dataset: item "a" is the most popular (4 users), then "b" (3), "c" (2), "d" (1).
export const TINY_CSV = [
  'user,item,rating,timestamp',
  'u1,a,5,1', 'u1,b,4,2', 'u1,c,3,3',
  'u2,a,4,1', 'u2,b,5,2',
  'u3,a,3,1', 'u3,c,2,2',
  'u4,a,5,1', 'u4,b,1,2', 'u4,d,4,3',
].join('\n');

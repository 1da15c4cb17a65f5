#!/usr/bin/env bash
# npm start: install what is missing, build the release wasm module, then train
# and evaluate every model on the embedded MovieLens data and print the table.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/build.sh wasm-release localrec_core
node web/cli/localrec.mjs compare --data data/ml-latest-small/ratings.csv --split leave-last-out --k 10 "$@"

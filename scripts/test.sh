#!/usr/bin/env bash
# npm test: install what is missing, then every suite: native Catch2 under
# ASan/UBSan, the same Catch2 suite compiled to wasm under node, the node tests
# against the release and the debug (-sASSERTIONS=2) module, and the Chromium
# end-to-end tests. Stops at the first failing suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

step() { printf '\n=== %s\n' "$*"; }

step "native Catch2 (native-debug: ASan + UBSan)"
bash scripts/build.sh native-debug
ctest --preset native-debug

step "wasm Catch2 under node (wasm-release)"
bash scripts/build.sh wasm-release localrec_core localrec_tests
ctest --preset wasm-release

step "wasm debug module (-sASSERTIONS=2)"
bash scripts/build.sh wasm-debug localrec_core

step "node --test against the release module"
node --test tests/js/

step "node --test against the debug module"
LOCALREC_MODULE_URL="$PWD/build/wasm-debug/module/localrec_core.mjs" node --test tests/js/

step "Chromium end-to-end"
node --test tests/e2e/

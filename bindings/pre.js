// Runs inside the generated module before it loads its .wasm. In Node, read the
// .wasm that sits beside the module from disk: the 3.1.6 loader would otherwise
// call fetch() on a file path. Callers may pass wasmBinary or instantiateWasm.
if (typeof process === 'object' && process.versions && process.versions.node &&
    !Module['wasmBinary'] && !Module['instantiateWasm']) {
  const fs = require('fs');
  const path = require('path');
  const file = Module['locateFile'] ? Module['locateFile']('localrec_core.wasm', __dirname + '/')
                                    : path.join(__dirname, 'localrec_core.wasm');
  Module['wasmBinary'] = fs.readFileSync(file);
}

// Prepended outside the module factory of the ES module build. In Node only,
// define the CommonJS names the 3.1.6 loader expects; a no-op in browsers.
var require, __filename, __dirname;
if (typeof process === 'object' && process.versions && process.versions.node) {
  const { createRequire } = await import(/* @vite-ignore */ /* webpackIgnore: true */ 'node:module');
  const { fileURLToPath } = await import(/* @vite-ignore */ /* webpackIgnore: true */ 'node:url');
  require = createRequire(import.meta.url);
  __filename = fileURLToPath(import.meta.url);
  __dirname = require('path').dirname(__filename);
}

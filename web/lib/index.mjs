// localrec: the JS entry point. Loads the WebAssembly core from beside this
// file (or from bytes the caller passes) and exposes its classes.
// The library makes no network request of its own: in Node it reads the .wasm
// from disk; in a browser the only fetch is of the module's own .wasm, from the
// URL the page served this module from (or none, when wasmBinary is given).

/** @typedef {import('./index.d.ts').LocalRecCore} LocalRecCore */

const defaultModuleUrl = new URL('./wasm/localrec_core.mjs', import.meta.url).href;
const cache = new Map();

/**
 * Loads the core module once per configuration and resolves to its Embind API.
 * @param {{ moduleUrl?: string, wasmBinary?: ArrayBuffer|Uint8Array,
 *           locateFile?: (file: string, prefix: string) => string,
 *           print?: (text: string) => void }} [options]
 * @returns {Promise<LocalRecCore>}
 */
export function loadCore(options = {}) {
  const moduleUrl = options.moduleUrl ?? defaultModuleUrl;
  const key = options.wasmBinary || options.locateFile || options.print ? null : moduleUrl;
  if (key && cache.has(key)) return cache.get(key);
  const promise = (async () => {
    const { default: createLocalRecCore } = await import(/* @vite-ignore */ moduleUrl);
    const init = {};
    if (options.wasmBinary) init.wasmBinary = options.wasmBinary;
    if (options.locateFile) init.locateFile = options.locateFile;
    // The core prints nothing in release builds; debug builds (-sASSERTIONS=2)
    // log heap growth. It goes to stderr by default, so a host's stdout (e.g.
    // the CLI's --json output) stays the host's own.
    init.print = options.print ?? ((text) => console.error(text));
    return checkedCore(await createLocalRecCore(init));
  })();
  if (key) {
    cache.set(key, promise);
    // A failed load is not cached, so the caller can retry.
    promise.catch(() => cache.delete(key));
  }
  return promise;
}

/** An error from localrec, with a stable `code` (e.g. 'INVALID_ARGUMENT', 'PARSE_ERROR'). */
export class LocalRecError extends Error {
  constructor(message, code = 'LOCALREC_ERROR', options) {
    super(message, options);
    this.name = 'LocalRecError';
    this.code = code;
  }
}

// The core records a C++ error instead of throwing through wasm (see
// bindings/embind.cc); every export is wrapped here to throw it as a LocalRecError.
const CLASSES = ['Dataset', 'Split', 'Model', 'Session'];
const FUNCTIONS = ['evaluate', 'listModels', 'simdPath', 'heapUsedBytes'];

// Embind checks the exact argument count; these exports take a trailing optional
// argument (an options object or a callback) that the C++ side accepts as undefined.
const ARITY = { 'Model.fit': 2, 'Model.update': 3, 'Model.recommend': 2, 'Session.recommend': 1, 'Model.create': 2, evaluate: 3 };

function checkedCore(core) {
  const check = (fn, name) => function checked(...args) {
    const arity = ARITY[name];
    if (arity !== undefined && args.length < arity) args = [...args, ...Array(arity - args.length).fill(undefined)];
    // A progress callback that throws would unwind through wasm: catch it, cancel, rethrow after.
    let callbackError;
    const safeArgs = args.map((arg) => safeCallbacks(arg, (e) => { callbackError ??= e; }));
    const result = fn.apply(this, safeArgs);
    const error = core.takeLastError();
    if (callbackError) throw callbackError;
    if (error) throw new LocalRecError(error.message, error.code);
    return result;
  };
  for (const name of CLASSES) {
    const cls = core[name];
    if (!cls) continue;  // a core built before the class existed (e.g. Session)
    for (const key of Object.getOwnPropertyNames(cls.prototype)) {
      const desc = Object.getOwnPropertyDescriptor(cls.prototype, key);
      if (key !== 'constructor' && typeof desc.value === 'function' && !EMBIND_HANDLE_METHODS.has(key)) {
        cls.prototype[key] = check(desc.value, `${name}.${key}`);
      }
    }
    for (const key of Object.getOwnPropertyNames(cls)) {
      const desc = Object.getOwnPropertyDescriptor(cls, key);
      if (typeof desc.value === 'function' && desc.writable) cls[key] = check(desc.value, `${name}.${key}`);
    }
  }
  for (const name of FUNCTIONS) core[name] = check(core[name], name);
  return core;
}

// Embind's own handle methods, which never enter C++.
const EMBIND_HANDLE_METHODS = new Set(['delete', 'clone', 'isDeleted', 'isAliasOf', 'deleteLater']);

function safeCallbacks(arg, onError) {
  const wrap = (cb) => (...a) => {
    try {
      return Boolean(cb(...a));
    } catch (e) {
      onError(e);
      return true;  // cancel the work; the error is rethrown to the caller
    }
  };
  if (typeof arg === 'function') return wrap(arg);
  if (arg && typeof arg === 'object' && typeof arg.onProgress === 'function' && !ArrayBuffer.isView(arg)) {
    return { ...arg, onProgress: wrap(arg.onProgress) };
  }
  return arg;
}

/**
 * Runs `fn`, turning the core's errors into LocalRecError with their code.
 * @template T @param {() => T} fn @returns {T}
 */
export function wrapErrors(fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof LocalRecError) throw e;
    if (e instanceof Error) throw new LocalRecError(e.message, e.code ?? 'LOCALREC_ERROR', { cause: e });
    throw e;
  }
}

/**
 * Maps external item ids to the model's dense indices. Unknown ids are ignored
 * and reported, never an error.
 * @param {{ itemIndex(id: string): number }} catalog a Model or a Dataset
 * @param {Iterable<string|number>} ids
 * @returns {{ indices: Int32Array, unknown: string[] }}
 */
export function mapItemIds(catalog, ids) {
  const indices = [];
  const unknown = [];
  for (const raw of ids) {
    const id = String(raw);
    const index = catalog.itemIndex(id);
    if (index >= 0) indices.push(index);
    else unknown.push(id);
  }
  return { indices: Int32Array.from(indices), unknown };
}

/**
 * Recommends for a history of external item ids.
 * @param {import('./index.d.ts').Model} model a fitted model
 * @param {Iterable<string|number>} historyIds
 * @param {{ k?: number, excludeHistory?: boolean }} [options]
 * @returns {{ items: { id: string, score: number }[], unknown: string[] }}
 */
export function recommendForHistory(model, historyIds, options = {}) {
  const { indices, unknown } = mapItemIds(model, historyIds);
  const list = wrapErrors(() => model.recommend(indices, { k: options.k ?? 10, excludeHistory: options.excludeHistory ?? true }));
  const items = Array.from(list.items, (index, i) => ({ id: model.itemId(index), score: list.scores[i] }));
  return { items, unknown };
}

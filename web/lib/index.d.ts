// Types for localrec's JS surface. Every class instance wraps a C++ object on the
// wasm heap: call delete() when done (each handle has exactly one owner).
// Every method throws an Error with a `code` (see LocalRecError) on bad input;
// the module stays usable afterwards.

export type ErrorCode =
  | 'INVALID_ARGUMENT' | 'PARSE_ERROR' | 'FORMAT_ERROR' | 'STATE_ERROR' | 'CANCELLED'
  | 'OUT_OF_MEMORY' | 'INTERNAL_ERROR' | 'LOCALREC_ERROR';

export class LocalRecError extends Error {
  constructor(message: string, code?: ErrorCode, options?: { cause?: unknown });
  readonly code: ErrorCode;
}

/** Called during long work with the fraction done; return true to cancel (the call then throws code 'CANCELLED'). */
export type ProgressCallback = (fraction: number, stage: string) => boolean | void;

/** File formats: 'auto' detects; 'movielens' = ratings.csv; 'ml100k' = u.data; 'ml1m' = ratings.dat; 'csv' = generic with header detection. */
export type CsvFormat = 'auto' | 'movielens' | 'ml100k' | 'ml1m' | 'csv';

export interface Dataset {
  /** Appends another file's rows sharing this dataset's ids; returns the index of the first new row. */
  appendText(text: string, source: string, format: CsvFormat): number;
  numUsers(): number;
  numItems(): number;
  numInteractions(): number;
  hasRatings(): boolean;
  hasTimestamps(): boolean;
  source(): string;
  userId(index: number): string;
  itemId(index: number): string;
  /** Dense index of an external id, or -1. */
  userIndex(id: string): number;
  itemIndex(id: string): number;
  userIds(): string[];
  itemIds(): string[];
  /** Interaction columns (copies), in file order. */
  users(): Int32Array;
  items(): Int32Array;
  values(): Float32Array;
  times(): Float64Array;
  /** Collapses repeated (user, item) pairs, in place. */
  dedupe(policy: 'keep' | 'first' | 'last' | 'sum' | 'max'): void;
  /** Keeps the k-core (users and items with at least these many interactions), in place. */
  kcore(minUserInteractions: number, minItemInteractions: number): void;
  /** Keeps rows with value >= threshold as implicit (value 1) interactions, in place. */
  implicit(threshold: number): void;
  /**
   * Item texts for content models (e.g. tfidf), by this dataset's item ids; splits
   * made afterwards carry them to fit(). readMovies: MovieLens movies.csv
   * (movieId,title,genres): text = title + genres; ids the ratings never named
   * join the catalog (added). readTags: tags.csv (userId,movieId,tag,timestamp):
   * appends tags; unknown ids are skipped. setItemText: any catalog, ids[k] gets
   * texts[k] (new ids join the catalog). Bad files throw 'PARSE_ERROR' with file:line.
   */
  readMovies(text: string, source: string): ItemTextStats;
  readTags(text: string, source: string): ItemTextStats;
  setItemText(ids: string[], texts: string[]): ItemTextStats;
  hasItemText(): boolean;
  /** Item `index`'s text ('' when it has none). */
  itemText(index: number): string;
  delete(): void;
}

export interface ItemTextStats {
  /** Rows (or ids) read. */
  rows: number;
  /** Items added to the catalog. */
  added: number;
  /** Rows about items not in the catalog (not added). */
  skipped: number;
}

export interface DatasetStatic {
  /** Parses a whole file. `source` names it in errors ("ratings.csv:17: field 3 (rating): ..."). */
  fromText(text: string, source: string, format: CsvFormat): Dataset;
}

export interface Split {
  trainSize(): number;
  testSize(): number;
  numUsers(): number;
  numItems(): number;
  testUsers(): Int32Array;
  testItems(): Int32Array;
  /** One part's rows as columns (copies), in file order. */
  rows(part: 'train' | 'test'): { users: Int32Array; items: Int32Array; values: Float32Array; times: Float64Array };
  /** A training user's history (item indices, oldest first). */
  history(user: number): Int32Array;
  /** The items each test user ranks (cold-items: the held-out items), ascending; empty = the whole catalog. */
  candidates(): Int32Array;
  /** Whether the dataset had item texts when the split was made (content models need them). */
  hasItemText(): boolean;
  /**
   * The text models fitted on this split see for an item: the dataset's text when the split was made,
   * except that a cold-items split drops the held-out items' tags (readTags; tags are interactions).
   */
  itemText(index: number): string;
  delete(): void;
}

export interface SplitStatic {
  /**
   * 'leave-last-out' | 'temporal:F' | 'ratio:F' | 'kfold:K' | 'kfold:K:FOLD' | 'cold-items:F'; seeded.
   * cold-items:F holds out a fraction F of the items with all their interactions (test) and sets candidates().
   */
  make(dataset: Dataset, spec: string, seed: number): Split;
  /** Rows before firstTestRow train, the rest test (a split made elsewhere). */
  byRows(dataset: Dataset, firstTestRow: number): Split;
  /** Every row trains; no test rows. */
  all(dataset: Dataset): Split;
}

export interface RecommendOptions {
  /** List length, a positive integer (default 10). */
  k?: number;
  /** Drop the history's items (default true). */
  excludeHistory?: boolean;
  /** Item indices never to recommend. */
  exclude?: Int32Array | number[];
  /** If given, only these item indices may be recommended. */
  allow?: Int32Array | number[];
}

export interface Model {
  kind(): string;
  /** The complete options (defaults filled in), as strings. */
  options(): Record<string, string>;
  fitted(): boolean;
  numItems(): number;
  predictsRatings(): boolean;
  /** Content models (tfidf): fit needs item texts in the split's dataset (else 'INVALID_ARGUMENT'). */
  needsItemText(): boolean;
  /** Whether items without interactions get meaningful scores (content models, random). */
  scoresColdItems(): boolean;
  /** Fits on the split's train part (and the dataset's item texts, if any). */
  fit(split: Split, onProgress?: ProgressCallback): void;
  /** Whether update() is available (ials) instead of a full fit. */
  supportsUpdate(): boolean;
  /**
   * Refreshes the model after new events without a full fit: `split` covers the
   * whole current data over the same item ids as the fit (new users are fine,
   * new items need fit()); changedUsers are its user indices whose events
   * changed (users added since the fit are always included). Throws code
   * 'STATE_ERROR' for models without it; a failed update changes nothing.
   */
  update(split: Split, changedUsers?: Int32Array | number[], onProgress?: ProgressCallback): void;
  /** One score per catalog item for a history of item indices. */
  score(history: Int32Array | number[]): Float32Array;
  /** Best first; ties by lower index. */
  recommend(history: Int32Array | number[], options?: RecommendOptions): { items: Int32Array; scores: Float32Array };
  /**
   * The history positions (source) or features (source -1) that contributed most
   * to item's score; a named feature (tfidf: the shared term) has `feature`.
   */
  explain(history: Int32Array | number[], item: number, maxCount: number): { source: number; weight: number; feature?: string }[];
  /** The model file (docs/model-format.md), catalog included. */
  save(): Uint8Array;
  itemIds(): string[];
  itemIndex(id: string): number;
  itemId(index: number): string;
  /**
   * A streaming session from an empty history (throws code 'STATE_ERROR' if
   * unfitted). It keeps the model alive; delete() both when done.
   */
  openSession(): Session;
  delete(): void;
}

/**
 * Events arrive one at a time (dense item indices); scores follow them. Every
 * model has sessions (the generic one re-scores the whole history); gru4rec
 * advances its GRU state by one step per push. After pushes, score() equals
 * model.score(items()) (gru4rec: while the session holds at most max_history events).
 */
export interface Session {
  /** Appends one event; an index outside the catalog throws code 'INVALID_ARGUMENT'. */
  push(item: number): void;
  /** One score per catalog item. */
  score(): Float32Array;
  recommend(options?: RecommendOptions): { items: Int32Array; scores: Float32Array };
  /** Forgets every event. */
  reset(): void;
  /** The number of events since the start or the last reset. */
  size(): number;
  /** The events so far, oldest first. */
  items(): Int32Array;
  delete(): void;
}

export interface ModelStatic {
  /** Throws listing the valid names / options when one is unknown or out of range. */
  create(name: string, options?: Record<string, string | number | boolean>): Model;
  /** Loads a model file; a truncated or corrupted file throws code 'FORMAT_ERROR'. */
  load(bytes: Uint8Array): Model;
}

export interface EvaluateOptions {
  task?: 'ranking' | 'rating';
  k?: number;
  /** 0 (default) = full ranking; N = rank each target against N sampled negatives. */
  sampledNegatives?: number;
  /** N > 0: the model scores only each user's last N training events (a "what next" query); the seen-item filter still uses the whole history. 0 (default) = the whole history. */
  recentItems?: number;
  seed?: number;
  /** numItems x featureDim row-major features for intra-list diversity. */
  itemFeatures?: Float32Array;
  featureDim?: number;
  onProgress?: ProgressCallback;
}

export interface EvaluationReport {
  task: 'ranking' | 'rating';
  k: number;
  /** e.g. 'hr@10', 'recall@10', 'precision@10', 'ndcg@10', 'mrr@10', 'map@10', 'auc', 'coverage@10', 'novelty@10', 'gini@10'; or 'rmse', 'mae'. */
  metrics: Record<string, number>;
  users: number;
  coldUsers: number;
  /** Test users left out because every test item was already in their history. */
  skippedUsers: number;
  testRows: number;
  /**
   * Set (and metrics empty) when the split's candidate items have no
   * interactions and the model cannot score such items (cold-items split, CF models).
   */
  unable?: string;
}

export interface OptionInfo {
  name: string;
  type: 'int' | 'float' | 'bool' | 'choice';
  default: string;
  min?: number;
  max?: number;
  choices?: string[];
  doc: string;
}

export interface LocalRecCore {
  Dataset: DatasetStatic;
  Split: SplitStatic;
  Model: ModelStatic;
  evaluate(model: Model, split: Split, options?: EvaluateOptions): EvaluationReport;
  listModels(): { name: string; summary: string; options: OptionInfo[] }[];
  /** Bytes allocated on the wasm heap (for leak checks). */
  heapUsedBytes(): number;
  /** 'wasm-simd128' for the shipped build. */
  simdPath(): string;
}

export interface LoadCoreOptions {
  /** URL of localrec_core.mjs (default: ./wasm/ beside this module). */
  moduleUrl?: string;
  /** The .wasm bytes, when the caller has them (no fetch then). */
  wasmBinary?: ArrayBuffer | Uint8Array;
  locateFile?: (file: string, prefix: string) => string;
  /** Where the core's own diagnostic lines go (debug builds log heap growth); default console.error. */
  print?: (text: string) => void;
}

/** Loads the core once per moduleUrl (memoized); rejects if the .wasm cannot be loaded. */
export function loadCore(options?: LoadCoreOptions): Promise<LocalRecCore>;

/** Runs fn, rethrowing the core's errors as LocalRecError. */
export function wrapErrors<T>(fn: () => T): T;

/** Maps external ids to dense indices; unknown ids are returned in `unknown`, not thrown. */
export function mapItemIds(catalog: { itemIndex(id: string): number }, ids: Iterable<string | number>): { indices: Int32Array; unknown: string[] };

/** Recommends for a history of external ids. */
export function recommendForHistory(model: Model, historyIds: Iterable<string | number>, options?: { k?: number; excludeHistory?: boolean }):
  { items: { id: string; score: number }[]; unknown: string[] };

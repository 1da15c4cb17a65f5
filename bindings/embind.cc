// The Embind surface of localrec: the only file that includes emscripten/*.
//
// Conventions (web/lib/index.d.ts documents them for JS callers):
// - Every export catches C++ exceptions and records them for takeLastError();
//   web/lib/index.mjs wraps every export and throws a LocalRecError with the
//   message and code. Nothing throws through wasm frames; the module stays usable.
// - Bulk numbers cross as typed arrays copied out of the heap (.slice()), so no
//   returned array is a view that dies when the heap grows.
// - Every class instance is owned by its JS handle: call delete() when done.
#include <emscripten/bind.h>
#include <emscripten/val.h>
#include <malloc.h>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "core/recommender.h"
#include "data/csr.h"
#include "data/csv_reader.h"
#include "data/dataset.h"
#include "data/item_text.h"
#include "data/preprocess.h"
#include "data/split.h"
#include "eval/evaluator.h"
#include "linalg/kernels.h"
#include "models/model_io.h"
#include "models/registry.h"
#include "rank/recommend.h"

using emscripten::val;
using namespace localrec;

namespace {

// The last error of a call into the module. C++ never throws into JS: a JS
// exception unwinding through wasm frames would skip destructors (leaking the
// exception object and every argument). Instead each export catches, records
// the error here and returns a default value; web/lib wraps every export and
// turns a recorded error into a thrown LocalRecError (ONNX Runtime Web's
// checkLastError pattern).
struct LastError {
  bool set = false;
  std::string message;
  std::string code;
};
LastError& lastError() {
  static LastError error;
  return error;
}

void recordError(const char* message, const char* code) {
  LastError& e = lastError();
  e.set = true;
  e.message = message;
  e.code = code;
}

// Runs `body`; on a C++ exception records it and returns a default value.
template <class F>
auto guarded(F&& body) -> decltype(body()) {
  using Result = decltype(body());
  try {
    return body();
  } catch (const localrec::Error& e) {
    recordError(e.what(), e.code());
  } catch (const std::bad_alloc&) {
    recordError("out of memory", "OUT_OF_MEMORY");
  } catch (const std::exception& e) {
    recordError(e.what(), "INTERNAL_ERROR");
  }
  if constexpr (std::is_same_v<Result, val>) {
    return val::undefined();
  } else if constexpr (!std::is_void_v<Result>) {
    return Result{};
  }
}

// Returns and clears the last error: { message, code } or null.
val takeLastError() {
  LastError& e = lastError();
  if (!e.set) return val::null();
  val out = val::object();
  out.set("message", e.message);
  out.set("code", e.code);
  e = LastError{};
  return out;
}

template <class T>
val copyToTypedArray(const T* data, size_t n) {
  return val(emscripten::typed_memory_view(n, data)).call<val>("slice");
}

std::vector<int32_t> int32Vector(const val& array, const char* what) {
  if (array.isUndefined() || array.isNull()) return {};
  const bool arrayLike = val::global("Array").call<bool>("isArray", array) ||
                         val::global("ArrayBuffer").call<bool>("isView", array);
  if (!arrayLike) fail<InvalidArgument>(what, " must be an array or an Int32Array of item indices");
  // Read as doubles first: a direct int32 conversion would silently truncate 1.7
  // to item 1 and wrap out-of-range numbers.
  const auto numbers = emscripten::convertJSArrayToNumberVector<double>(array);
  std::vector<int32_t> out(numbers.size());
  for (size_t i = 0; i < numbers.size(); ++i) {
    const double d = numbers[i];
    if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != static_cast<double>(static_cast<int32_t>(d)))
      fail<InvalidArgument>(what, "[", i, "] must be an integer index, got ", d);
    out[i] = static_cast<int32_t>(d);
  }
  return out;
}

// Typed fields of a JS options object, validated before conversion (a failed
// Embind conversion would throw through wasm frames).
bool hasField(const val& options, const char* name) {
  return !options.isUndefined() && !options.isNull() && options.hasOwnProperty(name) &&
         !options[name].isUndefined();
}
double numberField(const val& options, const char* name) {
  val v = options[name];
  if (v.typeOf().as<std::string>() != "number")
    fail<InvalidArgument>("option ", name, " must be a number, got ", val::global("String")(v).as<std::string>());
  return v.as<double>();
}
int intField(const val& options, const char* name) {
  const double d = numberField(options, name);
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != static_cast<double>(static_cast<int>(d)))
    fail<InvalidArgument>("option ", name, " must be an integer, got ", d);
  return static_cast<int>(d);
}
bool boolField(const val& options, const char* name) {
  val v = options[name];
  if (v.typeOf().as<std::string>() != "boolean") fail<InvalidArgument>("option ", name, " must be true or false");
  return v.as<bool>();
}
std::string stringField(const val& options, const char* name) {
  val v = options[name];
  if (v.typeOf().as<std::string>() != "string") fail<InvalidArgument>("option ", name, " must be a string");
  return v.as<std::string>();
}

OptionMap optionMapFrom(const val& options) {
  OptionMap out;
  if (options.isUndefined() || options.isNull()) return out;
  if (options.typeOf().as<std::string>() != "object")
    fail<InvalidArgument>("model options must be an object of key: value pairs");
  val keys = val::global("Object").call<val>("keys", options);
  const int n = keys["length"].as<int>();
  for (int i = 0; i < n; ++i) {
    const std::string key = keys[i].as<std::string>();
    val v = options[key];
    // Numbers and booleans are stringified the JS way ("0.5", "true"); the option reader parses them.
    out[key] = val::global("String")(v).as<std::string>();
  }
  return out;
}

val optionMapToObject(const OptionMap& map) {
  val out = val::object();
  for (const auto& [key, value] : map) out.set(key, value);
  return out;
}

// ----------------------------------------------------------------------------
// Dataset

class JsDataset {
 public:
  static JsDataset* fromText(const std::string& text, const std::string& source, const std::string& format) {
    return guarded([&] {
      CsvOptions options;
      options.format = parseCsvFormat(format);
      auto* out = new JsDataset();
      try {
        out->data_ = readDataset(text, source, options);
      } catch (...) {
        delete out;
        throw;
      }
      return out;
    });
  }

  // Appends rows from another file that shares this dataset's ids; returns the first new row.
  int appendText(const std::string& text, const std::string& source, const std::string& format) {
    return guarded([&] {
      CsvOptions options;
      options.format = parseCsvFormat(format);
      const size_t before = data_.rows.size();
      readInteractions(text, source, options, data_);
      return static_cast<int>(before);
    });
  }

  int numUsers() const { return data_.numUsers(); }
  int numItems() const { return data_.numItems(); }
  int numInteractions() const { return static_cast<int>(data_.numInteractions()); }
  bool hasRatings() const { return data_.hasRatings; }
  bool hasTimestamps() const { return data_.hasTimestamps; }
  std::string source() const { return data_.source; }

  std::string userId(int index) const {
    return guarded([&] { return checkedId(data_.users, index, "user"); });
  }
  std::string itemId(int index) const {
    return guarded([&] { return checkedId(data_.items, index, "item"); });
  }
  int userIndex(const std::string& id) const { return data_.users.find(id); }
  int itemIndex(const std::string& id) const { return data_.items.find(id); }
  val itemIds() const { return idsToArray(data_.items); }
  val userIds() const { return idsToArray(data_.users); }

  // The interaction columns, copied out.
  val users() const { return copyToTypedArray(data_.rows.users.data(), data_.rows.size()); }
  val items() const { return copyToTypedArray(data_.rows.items.data(), data_.rows.size()); }
  val values() const { return copyToTypedArray(data_.rows.values.data(), data_.rows.size()); }
  val times() const {
    std::vector<double> t(data_.rows.times.begin(), data_.rows.times.end());
    return copyToTypedArray(t.data(), t.size());
  }

  // Preprocessing, in place. Ids are kept (not renumbered) so earlier handles stay valid.
  void dedupe(const std::string& policy) {
    guarded([&] { data_.rows = localrec::dedupe(data_.rows, parseDuplicatePolicy(policy)); });
  }
  void kcore(int minUser, int minItem) {
    guarded([&] {
      if (minUser < 0 || minItem < 0) fail<InvalidArgument>("kcore: minimum counts must be >= 0");
      data_.rows = localrec::kcore(data_.rows, minUser, minItem);
    });
  }
  // Item texts (for content models), by the dataset's item ids. readMovies and
  // setItemText add ids the ratings never named to the catalog; readTags skips
  // them. Each returns { rows, added, skipped }.
  val readMovies(const std::string& text, const std::string& source) {
    return guarded([&] { return statsObject(readMovieLensMovies(text, source, data_)); });
  }
  val readTags(const std::string& text, const std::string& source) {
    return guarded([&] { return statsObject(readMovieLensTags(text, source, data_)); });
  }
  val setItemText(const val& ids, const val& texts) {
    return guarded([&] {
      return statsObject(setItemTexts(data_, stringVector(ids, "setItemText: ids"), stringVector(texts, "setItemText: texts")));
    });
  }
  bool hasItemText() const { return !data_.itemText.empty(); }
  std::string itemText(int index) const {
    return guarded([&] {
      checkedId(data_.items, index, "item");
      return data_.itemText.of(index);
    });
  }

  void implicit(float threshold) {
    guarded([&] {
      data_.rows = implicitFromThreshold(data_.rows, threshold);
      data_.hasRatings = false;
    });
  }

  const Dataset& data() const { return data_; }

 private:
  static const std::string& checkedId(const IdMap& map, int index, const char* what) {
    if (index < 0 || index >= map.size())
      fail<InvalidArgument>(what, " index ", index, " outside [0, ", map.size(), ")");
    return map.external(index);
  }
  static val statsObject(const ItemTextStats& stats) {
    val out = val::object();
    out.set("rows", static_cast<double>(stats.rows));
    out.set("added", static_cast<double>(stats.added));
    out.set("skipped", static_cast<double>(stats.skipped));
    return out;
  }
  static std::vector<std::string> stringVector(const val& array, const char* what) {
    if (!val::global("Array").call<bool>("isArray", array)) fail<InvalidArgument>(what, " must be an array of strings");
    const int n = array["length"].as<int>();
    std::vector<std::string> out(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      val v = array[i];
      if (v.typeOf().as<std::string>() != "string") fail<InvalidArgument>(what, "[", i, "] must be a string");
      out[static_cast<size_t>(i)] = v.as<std::string>();
    }
    return out;
  }
  static val idsToArray(const IdMap& map) {
    val out = val::array();
    for (Index i = 0; i < map.size(); ++i) out.call<void>("push", map.external(i));
    return out;
  }
  Dataset data_;
};

// ----------------------------------------------------------------------------
// Split: a train matrix (what models fit on) and test rows, over a dataset's ids.

class JsSplit {
 public:
  static JsSplit* make(const JsDataset& dataset, const std::string& spec, double seed) {
    return guarded([&] {
      const Dataset& d = dataset.data();
      if (d.rows.empty()) fail<InvalidArgument>("split: the dataset ", d.source, " is empty");
      Split s = splitBySpec(d.rows, d.numUsers(), spec, static_cast<uint64_t>(seed));
      // cold-items: the held-out items lose their tags (interactions too; see data/item_text.h).
      ItemText text = s.candidates.empty() ? d.itemText : withoutUserText(d.itemText, s.candidates);
      return new JsSplit(d, std::move(s), std::move(text));
    });
  }
  // Rows before `firstTestRow` train, the rest test (a split made elsewhere: --train/--test).
  static JsSplit* byRows(const JsDataset& dataset, int firstTestRow) {
    return guarded([&] {
      const Dataset& d = dataset.data();
      if (firstTestRow < 0 || static_cast<size_t>(firstTestRow) > d.rows.size())
        fail<InvalidArgument>("split: first test row ", firstTestRow, " outside [0, ", d.rows.size(), "]");
      std::vector<size_t> train(static_cast<size_t>(firstTestRow)), test(d.rows.size() - firstTestRow);
      for (size_t i = 0; i < train.size(); ++i) train[i] = i;
      for (size_t i = 0; i < test.size(); ++i) test[i] = firstTestRow + i;
      return new JsSplit(d, Split{d.rows.select(train), d.rows.select(test)}, d.itemText);
    });
  }
  // Every row for training, none for testing (to fit a model on all the data).
  static JsSplit* all(const JsDataset& dataset) { return byRows(dataset, dataset.numInteractions()); }

  int trainSize() const { return static_cast<int>(split_.train.size()); }
  int testSize() const { return static_cast<int>(split_.test.size()); }
  int numUsers() const { return train_.numUsers(); }
  int numItems() const { return train_.numItems(); }
  val testUsers() const { return copyToTypedArray(split_.test.users.data(), split_.test.size()); }
  val testItems() const { return copyToTypedArray(split_.test.items.data(), split_.test.size()); }
  // The items each test user ranks (the cold-items split's held-out items); empty = the whole catalog.
  val candidates() const { return copyToTypedArray(split_.candidates.data(), split_.candidates.size()); }
  bool hasItemText() const { return hasText_; }
  // The rows of one part ("train" or "test") as columns { users, items, values, times }, file order.
  val rows(const std::string& part) const {
    return guarded([&] {
      if (part != "train" && part != "test") fail<InvalidArgument>("rows: part must be 'train' or 'test', got '", part, "'");
      const Interactions& r = part == "train" ? split_.train : split_.test;
      std::vector<double> times(r.times.begin(), r.times.end());
      val out = val::object();
      out.set("users", copyToTypedArray(r.users.data(), r.size()));
      out.set("items", copyToTypedArray(r.items.data(), r.size()));
      out.set("values", copyToTypedArray(r.values.data(), r.size()));
      out.set("times", copyToTypedArray(times.data(), times.size()));
      return out;
    });
  }
  // A training user's history (item indices, chronological).
  val history(int user) const {
    return guarded([&] {
      if (user < 0 || user >= train_.numUsers())
        fail<InvalidArgument>("history: user index ", user, " outside [0, ", train_.numUsers(), ")");
      auto items = train_.byUser().rowIndices(user);
      return copyToTypedArray(items.data(), items.size());
    });
  }

  // The text models fitted on this split see for an item (on a cold-items split, the
  // held-out items without their tags).
  std::string itemText(int index) const {
    return guarded([&] {
      if (index < 0 || index >= train_.numItems())
        fail<InvalidArgument>("split.itemText: item index ", index, " outside [0, ", train_.numItems(), ")");
      return itemText_.of(index);
    });
  }

  const InteractionMatrix& train() const { return train_; }
  // What models fit on: the train matrix and the dataset's item texts (if it had any).
  TrainSet trainSet() const { return TrainSet{train_, hasText_ ? &itemText_ : nullptr}; }
  const std::vector<Index>& candidateItems() const { return split_.candidates; }
  const Interactions& test() const { return split_.test; }
  const std::vector<std::string>& itemIds() const { return itemIds_; }

 private:
  JsSplit(const Dataset& d, Split s, ItemText text)
      : split_(std::move(s)),
        train_(split_.train, d.numUsers(), d.numItems()),
        itemIds_(d.items.ids()),
        itemText_(std::move(text)),
        hasText_(!itemText_.empty()) {}
  Split split_;
  InteractionMatrix train_;
  std::vector<std::string> itemIds_;
  ItemText itemText_;  // a copy: the split outlives changes to its dataset
  bool hasText_;
};

// ----------------------------------------------------------------------------
// Model: any registered recommender, with the catalog (external item ids) it was fitted on.

Progress progressFrom(const val& onProgress) {
  if (onProgress.isUndefined() || onProgress.isNull()) return Progress();
  if (onProgress.typeOf().as<std::string>() != "function")
    fail<InvalidArgument>("onProgress must be a function (fraction, stage) => boolean|void");
  return Progress([onProgress](double fraction, const std::string& stage) {
    // A truthy return value asks to cancel.
    return onProgress(fraction, stage).as<bool>();
  });
}

// { k, excludeHistory, exclude: Int32Array, allow: Int32Array } -> RecommendOptions.
RecommendOptions recommendOptionsFrom(const val& options) {
  RecommendOptions ro;
  if (hasField(options, "k")) ro.k = intField(options, "k");
  if (hasField(options, "excludeHistory")) ro.excludeHistory = boolField(options, "excludeHistory");
  if (hasField(options, "exclude")) ro.exclude = int32Vector(options["exclude"], "exclude");
  if (hasField(options, "allow")) ro.allow = int32Vector(options["allow"], "allow");
  return ro;
}

// A recommendation list as { items: Int32Array, scores: Float32Array }.
val recommendationsToObject(const std::vector<Recommendation>& list) {
  std::vector<int32_t> ids(list.size());
  std::vector<float> scores(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    ids[i] = list[i].item;
    scores[i] = list[i].score;
  }
  val out = val::object();
  out.set("items", copyToTypedArray(ids.data(), ids.size()));
  out.set("scores", copyToTypedArray(scores.data(), scores.size()));
  return out;
}

class JsSession;

class JsModel {
 public:
  static JsModel* create(const std::string& name, const val& options) {
    return guarded([&] { return new JsModel(createModel(name, optionMapFrom(options))); });
  }
  static JsModel* load(const val& bytes) {
    return guarded([&] {
      const auto data = emscripten::convertJSArrayToNumberVector<uint8_t>(bytes);
      LoadedModel loaded = loadModel(data);
      auto* out = new JsModel(std::move(loaded.model));
      out->setCatalog(std::move(loaded.itemIds));
      return out;
    });
  }

  std::string kind() const { return model_->kind(); }
  val options() const { return optionMapToObject(model_->options()); }
  bool fitted() const { return model_->fitted(); }
  int numItems() const { return model_->numItems(); }
  bool predictsRatings() const { return model_->predictsRatings(); }
  bool needsItemText() const { return model_->needsItemText(); }
  bool scoresColdItems() const { return model_->scoresColdItems(); }

  void fit(const JsSplit& split, const val& onProgress) {
    guarded([&] {
      Progress progress = progressFrom(onProgress);
      model_->fit(split.trainSet(), progress);
      setCatalog(split.itemIds());
    });
  }

  // Incremental refresh (models with supportsUpdate(), e.g. ials) on a split
  // over the same item ids as the fit; changedUsers are the split's user indices.
  void update(const JsSplit& split, const val& changedUsers, const val& onProgress) {
    guarded([&] {
      const auto& ids = split.itemIds();
      // Model::update checks the state and the item count; the binding adds what
      // only it knows: the ids must be the model's (as many, but other, items).
      const bool sameCount = static_cast<int>(ids.size()) == catalog_.size();
      for (size_t i = 0; model_->supportsUpdate() && model_->fitted() && sameCount && i < ids.size(); ++i)
        if (catalog_.find(ids[i]) != static_cast<int>(i))
          fail<InvalidArgument>(model_->kind(), ".update: item ", i, " of the data is '", ids[i],
                                "', not the model's; a changed catalog needs a full fit");
      const auto users = int32Vector(changedUsers, "changedUsers");
      Progress progress = progressFrom(onProgress);
      model_->update(split.train(), users, progress);
    });
  }
  bool supportsUpdate() const { return model_->supportsUpdate(); }

  val score(const val& history) const {
    return guarded([&] {
      const auto items = int32Vector(history, "history");
      std::vector<float> out(static_cast<size_t>(model_->numItems()));
      model_->score(History{items, {}, {}}, out);
      return copyToTypedArray(out.data(), out.size());
    });
  }

  // options: { k, excludeHistory, exclude: Int32Array, allow: Int32Array }.
  val recommend(const val& history, const val& options) const {
    return guarded([&] {
      const auto items = int32Vector(history, "history");
      return recommendationsToObject(localrec::recommend(*model_, History{items, {}, {}}, recommendOptionsFrom(options)));
    });
  }

  val explain(const val& history, int item, int maxCount) const {
    return guarded([&] {
      if (maxCount < 0) fail<InvalidArgument>("explain: maxCount must be >= 0, got ", maxCount);
      const auto items = int32Vector(history, "history");
      const auto reasons = model_->explain(History{items, {}, {}}, item, static_cast<size_t>(maxCount));
      val out = val::array();
      for (const auto& c : reasons) {
        val r = val::object();
        r.set("source", c.source);
        r.set("weight", c.weight);
        if (!c.feature.empty()) r.set("feature", c.feature);
        out.call<void>("push", r);
      }
      return out;
    });
  }

  val save() const {
    return guarded([&] {
      const auto bytes = saveModel(*model_, catalog_.ids());
      return copyToTypedArray(bytes.data(), bytes.size());
    });
  }

  // The catalog: external ids of the items, in the model's dense order.
  val itemIds() const {
    val out = val::array();
    for (const auto& id : catalog_.ids()) out.call<void>("push", id);
    return out;
  }
  int itemIndex(const std::string& id) const { return catalog_.find(id); }
  std::string itemId(int index) const {
    return guarded([&] {
      if (index < 0 || index >= catalog_.size())
        fail<InvalidArgument>("item index ", index, " outside the catalog [0, ", catalog_.size(), ")");
      return catalog_.external(index);
    });
  }

  const Recommender& model() const { return *model_; }

  // A streaming session on this model (defined after JsSession).
  JsSession* openSession() const;

 private:
  explicit JsModel(std::unique_ptr<Recommender> model) : model_(std::move(model)) {}
  void setCatalog(const std::vector<std::string>& ids) {
    catalog_ = IdMap();
    catalog_.reserve(ids.size());
    for (const auto& id : ids) catalog_.getOrAdd(id);
  }
  // Shared with the sessions opened on it, so deleting the JS model first is safe.
  std::shared_ptr<Recommender> model_;
  IdMap catalog_;
};

// A streaming session (Recommender::openSession) over a model's dense item
// indices; it shares ownership of the model.
class JsSession {
 public:
  JsSession(std::shared_ptr<const Recommender> model, std::unique_ptr<Session> session)
      : model_(std::move(model)), session_(std::move(session)) {}

  void push(int item) {
    guarded([&] { session_->push(item); });
  }
  val score() const {
    return guarded([&] {
      std::vector<float> out(static_cast<size_t>(session_->numItems()));
      session_->score(out);
      return copyToTypedArray(out.data(), out.size());
    });
  }
  // options: { k, excludeHistory, exclude: Int32Array, allow: Int32Array } as Model.recommend.
  val recommend(const val& options) const {
    return guarded([&] { return recommendationsToObject(localrec::recommend(*session_, recommendOptionsFrom(options))); });
  }
  void reset() {
    guarded([&] { session_->reset(); });
  }
  int size() const { return static_cast<int>(session_->size()); }
  val items() const { return copyToTypedArray(session_->items().data(), session_->size()); }

 private:
  std::shared_ptr<const Recommender> model_;
  std::unique_ptr<Session> session_;
};

JsSession* JsModel::openSession() const {
  return guarded([&] { return new JsSession(model_, model_->openSession()); });
}

// ----------------------------------------------------------------------------
// Free functions

val evaluateModel(const JsModel& model, const JsSplit& split, const val& options) {
  return guarded([&] {
    EvalOptions eo;
    val onProgress = val::undefined();
    if (hasField(options, "task")) eo.task = stringField(options, "task");
    if (hasField(options, "k")) eo.k = intField(options, "k");
    if (hasField(options, "sampledNegatives")) eo.sampledNegatives = intField(options, "sampledNegatives");
    if (hasField(options, "recentItems")) eo.recentItems = intField(options, "recentItems");
    if (hasField(options, "seed")) {
      const double seed = numberField(options, "seed");
      if (!(seed >= 0 && seed <= 9007199254740991.0) || seed != static_cast<double>(static_cast<uint64_t>(seed)))
        fail<InvalidArgument>("option seed must be an integer in [0, 2^53), got ", seed);
      eo.seed = static_cast<uint64_t>(seed);
    }
    if (hasField(options, "onProgress")) onProgress = options["onProgress"];
    if (hasField(options, "itemFeatures")) {
      if (!val::global("ArrayBuffer").call<bool>("isView", options["itemFeatures"]))
        fail<InvalidArgument>("option itemFeatures must be a Float32Array of numItems x featureDim");
      eo.itemFeatures = emscripten::convertJSArrayToNumberVector<float>(options["itemFeatures"]);
      eo.featureDim = hasField(options, "featureDim") ? intField(options, "featureDim") : 0;
    }
    eo.candidates = split.candidateItems();
    Progress progress = progressFrom(onProgress);
    const EvalReport report = evaluate(model.model(), split.train(), split.test(), eo, progress);
    val out = val::object();
    out.set("task", report.task);
    out.set("k", report.k);
    val metrics = val::object();
    for (const auto& [name, value] : report.metrics) metrics.set(name, value);
    out.set("metrics", metrics);
    out.set("users", report.users);
    out.set("coldUsers", report.coldUsers);
    out.set("skippedUsers", report.skippedUsers);
    out.set("testRows", static_cast<double>(report.testRows));
    if (!report.unable.empty()) out.set("unable", report.unable);
    return out;
  });
}

val listModels() {
  val out = val::array();
  for (const auto& info : modelRegistry()) {
    val m = val::object();
    m.set("name", info.name);
    m.set("summary", info.summary);
    val options = val::array();
    for (const auto& spec : info.options()) {
      val o = val::object();
      o.set("name", spec.name);
      o.set("type", spec.type);
      o.set("default", spec.defaultValue);
      if (spec.type == "int" || spec.type == "float") {
        o.set("min", spec.min);
        o.set("max", spec.max);
      }
      if (spec.type == "choice") {
        val choices = val::array();
        for (const auto& c : spec.choices) choices.call<void>("push", c);
        o.set("choices", choices);
      }
      o.set("doc", spec.doc);
      options.call<void>("push", o);
    }
    m.set("options", options);
    out.call<void>("push", m);
  }
  return out;
}

// Bytes currently allocated on the wasm heap: the leak tests watch this.
double heapUsedBytes() { return static_cast<double>(mallinfo().uordblks); }

std::string simdPath() { return linalg::simdPath(); }

}  // namespace

EMSCRIPTEN_BINDINGS(localrec) {
  using namespace emscripten;

  class_<JsDataset>("Dataset")
      .class_function("fromText", &JsDataset::fromText, allow_raw_pointers())
      .function("appendText", &JsDataset::appendText)
      .function("numUsers", &JsDataset::numUsers)
      .function("numItems", &JsDataset::numItems)
      .function("numInteractions", &JsDataset::numInteractions)
      .function("hasRatings", &JsDataset::hasRatings)
      .function("hasTimestamps", &JsDataset::hasTimestamps)
      .function("source", &JsDataset::source)
      .function("userId", &JsDataset::userId)
      .function("itemId", &JsDataset::itemId)
      .function("userIndex", &JsDataset::userIndex)
      .function("itemIndex", &JsDataset::itemIndex)
      .function("userIds", &JsDataset::userIds)
      .function("itemIds", &JsDataset::itemIds)
      .function("users", &JsDataset::users)
      .function("items", &JsDataset::items)
      .function("values", &JsDataset::values)
      .function("times", &JsDataset::times)
      .function("dedupe", &JsDataset::dedupe)
      .function("kcore", &JsDataset::kcore)
      .function("implicit", &JsDataset::implicit)
      .function("readMovies", &JsDataset::readMovies)
      .function("readTags", &JsDataset::readTags)
      .function("setItemText", &JsDataset::setItemText)
      .function("hasItemText", &JsDataset::hasItemText)
      .function("itemText", &JsDataset::itemText);

  class_<JsSplit>("Split")
      .class_function("make", &JsSplit::make, allow_raw_pointers())
      .class_function("byRows", &JsSplit::byRows, allow_raw_pointers())
      .class_function("all", &JsSplit::all, allow_raw_pointers())
      .function("trainSize", &JsSplit::trainSize)
      .function("testSize", &JsSplit::testSize)
      .function("numUsers", &JsSplit::numUsers)
      .function("numItems", &JsSplit::numItems)
      .function("testUsers", &JsSplit::testUsers)
      .function("testItems", &JsSplit::testItems)
      .function("rows", &JsSplit::rows)
      .function("history", &JsSplit::history)
      .function("candidates", &JsSplit::candidates)
      .function("hasItemText", &JsSplit::hasItemText)
      .function("itemText", &JsSplit::itemText);

  class_<JsModel>("Model")
      .class_function("create", &JsModel::create, allow_raw_pointers())
      .class_function("load", &JsModel::load, allow_raw_pointers())
      .function("kind", &JsModel::kind)
      .function("options", &JsModel::options)
      .function("fitted", &JsModel::fitted)
      .function("numItems", &JsModel::numItems)
      .function("predictsRatings", &JsModel::predictsRatings)
      .function("needsItemText", &JsModel::needsItemText)
      .function("scoresColdItems", &JsModel::scoresColdItems)
      .function("fit", &JsModel::fit)
      .function("update", &JsModel::update)
      .function("supportsUpdate", &JsModel::supportsUpdate)
      .function("score", &JsModel::score)
      .function("recommend", &JsModel::recommend)
      .function("explain", &JsModel::explain)
      .function("save", &JsModel::save)
      .function("itemIds", &JsModel::itemIds)
      .function("itemIndex", &JsModel::itemIndex)
      .function("itemId", &JsModel::itemId)
      .function("openSession", &JsModel::openSession, allow_raw_pointers());

  class_<JsSession>("Session")
      .function("push", &JsSession::push)
      .function("score", &JsSession::score)
      .function("recommend", &JsSession::recommend)
      .function("reset", &JsSession::reset)
      .function("size", &JsSession::size)
      .function("items", &JsSession::items);

  function("takeLastError", &takeLastError);
  function("evaluate", &evaluateModel);
  function("listModels", &listModels);
  function("heapUsedBytes", &heapUsedBytes);
  function("simdPath", &simdPath);
}

// Basic types shared by the engine, the models and the bindings.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace localrec {

// Dense ids for users and items. int32 because JS numbers and typed arrays
// cross the boundary as Int32Array.
using Index = int32_t;
using Scalar = float;
// Seconds since the epoch (or any monotone clock); int64 inside, double at the JS boundary.
using Timestamp = int64_t;

// A user's history: what every model scores from. `values` and `times` are
// either empty or as long as `items`; items are in chronological order.
struct History {
  std::span<const Index> items;
  std::span<const float> values;
  std::span<const Timestamp> times;

  size_t size() const { return items.size(); }
  bool empty() const { return items.empty(); }
  bool hasValues() const { return !values.empty(); }
};

// A history that owns its storage (for callers that build one, e.g. the bindings).
struct OwnedHistory {
  std::vector<Index> items;
  std::vector<float> values;
  std::vector<Timestamp> times;

  History view() const { return {items, values, times}; }
};

// One contribution to a recommendation: which history item (or feature) and how much.
// `source` is a position in the history, or -1 for a feature; a named feature
// (e.g. the term a content model matched) carries its name in `feature`, which
// is empty otherwise.
struct Contribution {
  // A constructor (not an aggregate), so {source, weight} stays warning-free.
  Contribution(Index source_ = -1, float weight_ = 0.0f, std::string feature_ = {})
      : source(source_), weight(weight_), feature(std::move(feature_)) {}
  Index source = -1;
  float weight = 0.0f;
  std::string feature;
};

}  // namespace localrec

// Basic types shared by the engine, the models and the bindings.
#pragma once

#include <cstdint>
#include <span>
#include <string>
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
struct Contribution {
  Index source = -1;
  float weight = 0.0f;
};

}  // namespace localrec

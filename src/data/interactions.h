// A columnar table of interactions; row order is file order, which breaks
// timestamp ties everywhere ("by time, then file order").
#pragma once

#include <vector>

#include "core/types.h"

namespace localrec {

struct Interactions {
  std::vector<Index> users;
  std::vector<Index> items;
  std::vector<float> values;      // the rating, or 1 for implicit data
  std::vector<Timestamp> times;   // 0 when the source has no timestamps

  size_t size() const { return users.size(); }
  bool empty() const { return users.empty(); }
  void reserve(size_t n) {
    users.reserve(n);
    items.reserve(n);
    values.reserve(n);
    times.reserve(n);
  }
  void push(Index user, Index item, float value, Timestamp time) {
    users.push_back(user);
    items.push_back(item);
    values.push_back(value);
    times.push_back(time);
  }
  // The rows at the given positions, in the given order.
  Interactions select(const std::vector<size_t>& rows) const {
    Interactions out;
    out.reserve(rows.size());
    for (size_t r : rows) out.push(users[r], items[r], values[r], times[r]);
    return out;
  }
};

}  // namespace localrec

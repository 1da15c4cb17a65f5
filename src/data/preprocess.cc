#include "data/preprocess.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <vector>

#include "core/error.h"

namespace localrec {

namespace {

// One past the largest id in `ids` (0 when empty); ids must be non-negative.
Index idBound(const std::vector<Index>& ids, const char* what) {
  Index bound = 0;
  for (Index id : ids) {
    if (id < 0) fail<InvalidArgument>("negative ", what, " id ", id, " in the interaction table");
    bound = std::max(bound, id + 1);
  }
  return bound;
}

// Row positions grouped by `key` (a CSR over rows), in file order within a group.
struct Groups {
  std::vector<size_t> start;
  std::vector<size_t> rows;
};

Groups groupRows(const std::vector<Index>& key, Index bound) {
  Groups g;
  g.start.assign(static_cast<size_t>(bound) + 1, 0);
  for (Index k : key) ++g.start[static_cast<size_t>(k) + 1];
  for (size_t i = 0; i < static_cast<size_t>(bound); ++i) g.start[i + 1] += g.start[i];
  g.rows.resize(key.size());
  std::vector<size_t> cursor(g.start.begin(), g.start.end() - 1);
  for (size_t r = 0; r < key.size(); ++r) g.rows[cursor[static_cast<size_t>(key[r])]++] = r;
  return g;
}

}  // namespace

DuplicatePolicy parseDuplicatePolicy(std::string_view name) {
  if (name == "keep") return DuplicatePolicy::Keep;
  if (name == "first") return DuplicatePolicy::First;
  if (name == "last") return DuplicatePolicy::Last;
  if (name == "sum") return DuplicatePolicy::Sum;
  if (name == "max") return DuplicatePolicy::Max;
  fail<InvalidArgument>("unknown duplicate policy '", name, "'; expected one of keep, first, last, sum, max");
}

Interactions dedupe(const Interactions& rows, DuplicatePolicy policy) {
  if (policy == DuplicatePolicy::Keep) return rows;
  const size_t n = rows.size();
  // Per distinct pair, in order of first occurrence: the chosen row, and for Sum
  // the running total and latest time.
  std::unordered_map<uint64_t, size_t> slotOf;
  slotOf.reserve(n);
  std::vector<size_t> chosen;
  std::vector<double> sums;
  std::vector<Timestamp> latest;
  for (size_t r = 0; r < n; ++r) {
    const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(rows.users[r])) << 32) |
                         static_cast<uint32_t>(rows.items[r]);
    auto [it, isNew] = slotOf.try_emplace(key, chosen.size());
    if (isNew) {
      chosen.push_back(r);
      sums.push_back(rows.values[r]);
      latest.push_back(rows.times[r]);
      continue;
    }
    const size_t slot = it->second;
    size_t& kept = chosen[slot];
    switch (policy) {
      case DuplicatePolicy::First:  // earliest by time; a tie keeps the earlier row
        if (rows.times[r] < rows.times[kept]) kept = r;
        break;
      case DuplicatePolicy::Last:  // latest by time; a tie takes the later row
        if (rows.times[r] >= rows.times[kept]) kept = r;
        break;
      case DuplicatePolicy::Max:  // largest value; a tie keeps the earlier row
        if (rows.values[r] > rows.values[kept]) kept = r;
        break;
      case DuplicatePolicy::Sum:
        sums[slot] += rows.values[r];
        latest[slot] = std::max(latest[slot], rows.times[r]);
        break;
      case DuplicatePolicy::Keep:
        break;
    }
  }
  Interactions out;
  if (policy == DuplicatePolicy::Sum) {
    // One row at the pair's first position, with the total and the latest time.
    out.reserve(chosen.size());
    for (size_t s = 0; s < chosen.size(); ++s)
      out.push(rows.users[chosen[s]], rows.items[chosen[s]], static_cast<float>(sums[s]), latest[s]);
    return out;
  }
  std::sort(chosen.begin(), chosen.end());
  return rows.select(chosen);
}

Interactions kcore(const Interactions& rows, int minUserInteractions, int minItemInteractions) {
  if (minUserInteractions < 0 || minItemInteractions < 0)
    fail<InvalidArgument>("kcore: minimum interactions must be >= 0, got users ", minUserInteractions,
                          ", items ", minItemInteractions);
  const Index numUsers = idBound(rows.users, "user");
  const Index numItems = idBound(rows.items, "item");
  const Groups byUser = groupRows(rows.users, numUsers);
  const Groups byItem = groupRows(rows.items, numItems);
  std::vector<int64_t> userDegree(static_cast<size_t>(numUsers)), itemDegree(static_cast<size_t>(numItems));
  for (Index u = 0; u < numUsers; ++u)
    userDegree[u] = static_cast<int64_t>(byUser.start[u + 1] - byUser.start[u]);
  for (Index i = 0; i < numItems; ++i)
    itemDegree[i] = static_cast<int64_t>(byItem.start[i + 1] - byItem.start[i]);

  // Peeling: removing a user or item lowers its neighbours' degrees, which may
  // queue them in turn; the fixed point is the same as repeated full passes.
  std::vector<char> alive(rows.size(), 1);
  std::vector<char> userGone(static_cast<size_t>(numUsers), 0), itemGone(static_cast<size_t>(numItems), 0);
  std::vector<Index> userQueue, itemQueue;
  for (Index u = 0; u < numUsers; ++u)
    if (userDegree[u] > 0 && userDegree[u] < minUserInteractions) userQueue.push_back(u), userGone[u] = 1;
  for (Index i = 0; i < numItems; ++i)
    if (itemDegree[i] > 0 && itemDegree[i] < minItemInteractions) itemQueue.push_back(i), itemGone[i] = 1;
  while (!userQueue.empty() || !itemQueue.empty()) {
    while (!userQueue.empty()) {
      const Index u = userQueue.back();
      userQueue.pop_back();
      for (size_t k = byUser.start[u]; k < byUser.start[u + 1]; ++k) {
        const size_t r = byUser.rows[k];
        if (!alive[r]) continue;
        alive[r] = 0;
        const Index i = rows.items[r];
        if (--itemDegree[i] < minItemInteractions && !itemGone[i]) itemGone[i] = 1, itemQueue.push_back(i);
      }
    }
    while (!itemQueue.empty()) {
      const Index i = itemQueue.back();
      itemQueue.pop_back();
      for (size_t k = byItem.start[i]; k < byItem.start[i + 1]; ++k) {
        const size_t r = byItem.rows[k];
        if (!alive[r]) continue;
        alive[r] = 0;
        const Index u = rows.users[r];
        if (--userDegree[u] < minUserInteractions && !userGone[u]) userGone[u] = 1, userQueue.push_back(u);
      }
    }
  }
  std::vector<size_t> kept;
  kept.reserve(rows.size());
  for (size_t r = 0; r < rows.size(); ++r)
    if (alive[r]) kept.push_back(r);
  return rows.select(kept);
}

Interactions implicitFromThreshold(const Interactions& rows, float threshold) {
  if (std::isnan(threshold)) fail<InvalidArgument>("implicit threshold must be a number, got NaN");
  Interactions out;
  for (size_t r = 0; r < rows.size(); ++r)
    if (rows.values[r] >= threshold) out.push(rows.users[r], rows.items[r], 1.0f, rows.times[r]);
  return out;
}

namespace {

// New ids for the old ids that occur, in old id order (the maps' order of first
// appearance), and the map rebuilt to match.
std::vector<Index> compactIds(const std::vector<Index>& column, IdMap& map) {
  const Index size = map.size();
  std::vector<char> used(static_cast<size_t>(size), 0);
  for (Index id : column) used[static_cast<size_t>(id)] = 1;
  std::vector<Index> newId(static_cast<size_t>(size), -1);
  IdMap rebuilt;
  for (Index old = 0; old < size; ++old)
    if (used[old]) newId[old] = rebuilt.getOrAdd(map.external(old));
  map = std::move(rebuilt);
  return newId;
}

}  // namespace

void compact(Dataset& dataset) {
  // Validate both columns before changing anything.
  for (Index u : dataset.rows.users)
    if (u < 0 || u >= dataset.users.size())
      fail<InvalidArgument>("compact: user id ", u, " outside the id map [0, ", dataset.users.size(), ")");
  for (Index i : dataset.rows.items)
    if (i < 0 || i >= dataset.items.size())
      fail<InvalidArgument>("compact: item id ", i, " outside the id map [0, ", dataset.items.size(), ")");
  const std::vector<Index> userMap = compactIds(dataset.rows.users, dataset.users);
  const std::vector<Index> itemMap = compactIds(dataset.rows.items, dataset.items);
  for (Index& u : dataset.rows.users) u = userMap[static_cast<size_t>(u)];
  for (Index& i : dataset.rows.items) i = itemMap[static_cast<size_t>(i)];
  if (!dataset.itemText.empty()) {
    // Texts follow their items; the texts of dropped items go with them.
    ItemText kept;
    kept.texts.resize(static_cast<size_t>(dataset.items.size()));
    kept.userSuffix.resize(static_cast<size_t>(dataset.items.size()), 0);
    const std::vector<size_t>& suffix = dataset.itemText.userSuffix;
    for (size_t old = 0; old < itemMap.size() && old < dataset.itemText.texts.size(); ++old)
      if (itemMap[old] >= 0) {
        kept.texts[static_cast<size_t>(itemMap[old])] = std::move(dataset.itemText.texts[old]);
        if (old < suffix.size()) kept.userSuffix[static_cast<size_t>(itemMap[old])] = suffix[old];
      }
    dataset.itemText = std::move(kept);
  }
}

}  // namespace localrec

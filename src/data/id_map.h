// External string ids <-> dense int32 ids, in order of first appearance.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/types.h"

namespace localrec {

class IdMap {
 public:
  // The dense id of `external`, adding it if new.
  Index getOrAdd(std::string_view external) {
    auto it = index_.find(external);
    if (it != index_.end()) return it->second;
    const Index id = static_cast<Index>(ids_.size());
    ids_.emplace_back(external);
    index_.emplace(ids_.back(), id);
    return id;
  }
  // The dense id of `external`, or -1 if unknown.
  Index find(std::string_view external) const {
    auto it = index_.find(external);
    return it == index_.end() ? -1 : it->second;
  }
  const std::string& external(Index id) const { return ids_.at(static_cast<size_t>(id)); }
  Index size() const { return static_cast<Index>(ids_.size()); }
  const std::vector<std::string>& ids() const { return ids_; }
  void reserve(size_t n) {
    ids_.reserve(n);
    index_.reserve(n);
  }

 private:
  // Transparent hash and equality: lookups by string_view allocate nothing,
  // which keeps the CSV reader free of per-row string construction.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::vector<std::string> ids_;
  std::unordered_map<std::string, Index, Hash, std::equal_to<>> index_;
};

}  // namespace localrec

// Compressed sparse rows over interactions, and the train matrix every model fits on.
#pragma once

#include <span>
#include <vector>

#include "core/types.h"
#include "data/interactions.h"

namespace localrec {

struct Csr {
  Index rows = 0;
  Index cols = 0;
  std::vector<int32_t> indptr{0};  // rows + 1 offsets
  std::vector<Index> indices;
  std::vector<float> values;
  std::vector<Timestamp> times;

  size_t nnz() const { return indices.size(); }
  Index rowSize(Index r) const { return indptr[r + 1] - indptr[r]; }
  std::span<const Index> rowIndices(Index r) const {
    return {indices.data() + indptr[r], static_cast<size_t>(rowSize(r))};
  }
  std::span<const float> rowValues(Index r) const {
    return {values.data() + indptr[r], static_cast<size_t>(rowSize(r))};
  }
  std::span<const Timestamp> rowTimes(Index r) const {
    return {times.data() + indptr[r], static_cast<size_t>(rowSize(r))};
  }
};

// The training interactions as two CSR views: by user (each row ordered by
// time, then file order: the user's history) and by item (ordered by user).
class InteractionMatrix {
 public:
  InteractionMatrix() = default;
  // Throws InvalidArgument if an id is outside [0, numUsers) / [0, numItems).
  InteractionMatrix(const Interactions& rows, Index numUsers, Index numItems);

  Index numUsers() const { return byUser_.rows; }
  Index numItems() const { return byItem_.rows; }
  size_t nnz() const { return byUser_.nnz(); }
  const Csr& byUser() const { return byUser_; }
  const Csr& byItem() const { return byItem_; }

  // A training user's history: the shortcut "history = that user's training rows".
  History history(Index user) const {
    return {byUser_.rowIndices(user), byUser_.rowValues(user), byUser_.rowTimes(user)};
  }

 private:
  Csr byUser_;
  Csr byItem_;
};

}  // namespace localrec

#include "data/csr.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"

namespace localrec {

namespace {

// Counting sort of rows by `key`, stable (so file order is kept within a key).
Csr buildCsr(const Interactions& rows, const std::vector<Index>& key, const std::vector<Index>& other,
             Index numRows, Index numCols, const std::vector<size_t>& order) {
  Csr csr;
  csr.rows = numRows;
  csr.cols = numCols;
  csr.indptr.assign(static_cast<size_t>(numRows) + 1, 0);
  for (size_t r : order) ++csr.indptr[key[r] + 1];
  for (Index i = 0; i < numRows; ++i) csr.indptr[i + 1] += csr.indptr[i];
  const size_t n = order.size();
  csr.indices.resize(n);
  csr.values.resize(n);
  csr.times.resize(n);
  std::vector<int32_t> cursor(csr.indptr.begin(), csr.indptr.end() - 1);
  for (size_t r : order) {
    const int32_t at = cursor[key[r]]++;
    csr.indices[at] = other[r];
    csr.values[at] = rows.values[r];
    csr.times[at] = rows.times[r];
  }
  return csr;
}

}  // namespace

InteractionMatrix::InteractionMatrix(const Interactions& rows, Index numUsers, Index numItems) {
  if (numUsers < 0 || numItems < 0) fail<InvalidArgument>("negative matrix size");
  const size_t n = rows.size();
  for (size_t r = 0; r < n; ++r) {
    if (rows.users[r] < 0 || rows.users[r] >= numUsers)
      fail<InvalidArgument>("interaction ", r, ": user ", rows.users[r], " outside [0, ", numUsers, ")");
    if (rows.items[r] < 0 || rows.items[r] >= numItems)
      fail<InvalidArgument>("interaction ", r, ": item ", rows.items[r], " outside [0, ", numItems, ")");
  }
  // By user: stable by time so each history is chronological with file order breaking ties.
  std::vector<size_t> byTime(n);
  std::iota(byTime.begin(), byTime.end(), size_t{0});
  std::stable_sort(byTime.begin(), byTime.end(),
                   [&](size_t a, size_t b) { return rows.times[a] < rows.times[b]; });
  byUser_ = buildCsr(rows, rows.users, rows.items, numUsers, numItems, byTime);
  // By item: rows in user order (counting sort by user first gives that for free).
  std::vector<size_t> byUserOrder(n);
  {
    std::vector<int32_t> start(static_cast<size_t>(numUsers) + 1, 0);
    for (size_t r = 0; r < n; ++r) ++start[rows.users[r] + 1];
    for (Index u = 0; u < numUsers; ++u) start[u + 1] += start[u];
    for (size_t r = 0; r < n; ++r) byUserOrder[start[rows.users[r]]++] = r;
  }
  byItem_ = buildCsr(rows, rows.items, rows.users, numItems, numUsers, byUserOrder);
}

}  // namespace localrec

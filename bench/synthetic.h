// Seeded synthetic data shared by the C++ benchmarks (header only; the bench
// CMakeLists builds every *.cc here into its own executable). Zipf(1) item
// ids by inverse CDF: P(i) proportional to 1 / (i + 1), one rng.uniform() per
// draw, so a seed gives the same sequence in every benchmark that used its own
// copy of this generator before (their numbers stay comparable).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "core/types.h"
#include "data/csr.h"
#include "data/interactions.h"

namespace localrec::bench {

class ZipfItems {
 public:
  explicit ZipfItems(size_t items) : cdf_(items) {
    double sum = 0;
    for (size_t i = 0; i < items; ++i) cdf_[i] = (sum += 1.0 / double(i + 1));
  }
  // An id in [0, items).
  Index draw(Rng& rng) const {
    const double u = rng.uniform() * cdf_.back();
    const auto at = static_cast<size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
    return static_cast<Index>(std::min(at, cdf_.size() - 1));
  }
  std::vector<Index> draw(size_t count, Rng& rng) const {
    std::vector<Index> out(count);
    for (auto& id : out) id = draw(rng);
    return out;
  }

 private:
  std::vector<double> cdf_;  // cumulative 1 / (i + 1)
};

// `users` x `perUser` events drawn Zipf(1) over `items` from Rng(seed); user u's
// k-th event at time u * 1000 + k, value 1.
inline InteractionMatrix zipfInteractions(Index items, Index users, Index perUser, uint64_t seed) {
  Rng rng(seed);
  const ZipfItems zipf(static_cast<size_t>(items));
  Interactions rows;
  for (Index u = 0; u < users; ++u)
    for (Index k = 0; k < perUser; ++k) rows.push(u, zipf.draw(rng), 1.0f, Timestamp{u} * 1000 + k);
  return InteractionMatrix(rows, users, items);
}

}  // namespace localrec::bench

#include "nn/sampler.h"

#include <cmath>

#include "core/error.h"

namespace localrec::nn {

NegativeSampler::NegativeSampler(std::span<const double> counts, double alpha) {
  if (!(alpha >= 0.0 && alpha <= 4.0)) fail<InvalidArgument>("sample_alpha must be in [0, 4], got ", alpha);
  const size_t n = counts.size();
  if (n == 0) fail<InvalidArgument>("NegativeSampler: the catalog is empty");
  if (n > static_cast<size_t>(INT32_MAX)) fail<InvalidArgument>("NegativeSampler: too many items (", n, ")");
  target_.resize(n);
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    if (!(counts[i] >= 0.0) || !std::isfinite(counts[i])) {
      fail<InvalidArgument>("NegativeSampler: count of item ", i, " must be finite and >= 0, got ", counts[i]);
    }
    // alpha == 0 means uniform over the catalog, including unseen items.
    target_[i] = alpha == 0.0 ? 1.0 : (counts[i] > 0.0 ? std::pow(counts[i], alpha) : 0.0);
    total += target_[i];
  }
  if (!(total > 0.0)) fail<InvalidArgument>("NegativeSampler: every item has count 0");
  for (double& t : target_) t /= total;

  // Vose's alias method: columns of height 1/n; small columns are topped up
  // by one large item. Worklists are processed in index order (deterministic).
  prob_.assign(n, 1.0);
  alias_.resize(n);
  for (size_t i = 0; i < n; ++i) alias_[i] = static_cast<Index>(i);
  std::vector<double> scaled(n);
  std::vector<Index> small, large;
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = target_[i] * static_cast<double>(n);
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<Index>(i));
  }
  while (!small.empty() && !large.empty()) {
    const Index s = small.back();
    small.pop_back();
    const Index l = large.back();
    prob_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Leftovers are 1 up to rounding.
  for (Index i : large) prob_[i] = 1.0;
  for (Index i : small) prob_[i] = 1.0;
}

Index NegativeSampler::sampleOne(Rng& rng) const {
  const uint32_t col = rng.below(static_cast<uint32_t>(prob_.size()));
  return rng.uniform() < prob_[col] ? static_cast<Index>(col) : alias_[col];
}

void NegativeSampler::sample(Rng& rng, std::span<Index> out) const {
  if (prob_.empty()) fail<StateError>("NegativeSampler: not built");
  for (Index& id : out) id = sampleOne(rng);
}

double NegativeSampler::probability(Index item) const {
  if (item < 0 || static_cast<size_t>(item) >= target_.size()) return 0.0;
  return target_[static_cast<size_t>(item)];
}

void buildBatchCandidates(std::span<const Index> targets, const NegativeSampler& sampler, size_t extra, Rng& rng,
                          std::vector<Index>& candidateIds, std::vector<int32_t>& targetCol) {
  const size_t b = targets.size();
  candidateIds.resize(b + extra);
  targetCol.resize(b);
  for (size_t i = 0; i < b; ++i) {
    candidateIds[i] = targets[i];
    targetCol[i] = static_cast<int32_t>(i);
  }
  sampler.sample(rng, std::span<Index>(candidateIds).subspan(b));
}

}  // namespace localrec::nn

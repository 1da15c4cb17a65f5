// Negative sampling for sampled losses: items drawn with probability
// proportional to count^alpha (alpha = 0: uniform over the catalog; alpha = 1:
// by popularity; GRU4Rec's `sample_alpha`), O(1) per draw through Walker's
// alias table (built once, O(N)).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/rng.h"
#include "core/types.h"

namespace localrec::nn {

class NegativeSampler {
 public:
  NegativeSampler() = default;
  // counts[i]: how often item i occurs in training (>= 0). alpha in [0, 4].
  // Items with count 0 are never drawn when alpha > 0; with alpha == 0 every
  // item of the catalog is equally likely. Throws if no item can be drawn.
  NegativeSampler(std::span<const double> counts, double alpha);

  // Fills `out` with independent draws (with replacement) from rng.
  void sample(Rng& rng, std::span<Index> out) const;
  Index sampleOne(Rng& rng) const;

  size_t size() const { return prob_.size(); }
  // The exact probability of drawing `item` (for tests and diagnostics).
  double probability(Index item) const;

 private:
  std::vector<double> prob_;   // acceptance probability of each column
  std::vector<Index> alias_;   // the other item of each column
  std::vector<double> target_; // normalized weights (for probability())
};

// The GRU4Rec candidate set of a session-parallel mini-batch: the B targets of
// the batch (column i is row i's positive) followed by `extra` shared samples.
// Writes candidateIds (B + extra) and targetCol (B, with targetCol[i] = i);
// the losses mask columns equal to a row's own target. Allocation-free when
// the vectors already have the capacity.
void buildBatchCandidates(std::span<const Index> targets, const NegativeSampler& sampler, size_t extra, Rng& rng,
                          std::vector<Index>& candidateIds, std::vector<int32_t>& targetCol);

}  // namespace localrec::nn

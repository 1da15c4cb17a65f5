// Per-list ranking metrics from the 1-based ranks of the relevant items, and
// catalog-level metrics over all recommended lists. Definitions in docs/metrics.md.
#pragma once

#include <span>
#include <vector>

#include "core/types.h"

namespace localrec {

struct ListMetrics {
  double hit = 0, recall = 0, precision = 0, ndcg = 0, mrr = 0, ap = 0, auc = 0;
};

// `ranks`: 1-based ranks of each relevant item among `numCandidates` ranked
// items (all distinct). Recall@K = hits / min(K, |relevant|); MAP@K divides by
// min(K, |relevant|); AUC counts a relevant item's wins over non-relevant ones
// (0.5 when there are no non-relevant candidates). Empty `ranks` give all zeros.
// Throws InvalidArgument for k <= 0, a rank outside [1, numCandidates] or a repeated rank.
ListMetrics listMetrics(std::span<const int> ranks, int k, int numCandidates);

// Gini index of how often each item was recommended (0 = even, ->1 = concentrated):
// G = sum_i (2i - n - 1) x_(i) / (n * sum x) with x ascending, i 1-based; 0 if all are 0.
double giniIndex(std::span<const int> recommendationCounts);

}  // namespace localrec

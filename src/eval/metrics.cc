#include "eval/metrics.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace localrec {

namespace {

// 1 / log2(rank + 1): the gain of a hit at a 1-based rank.
double discount(int rank) { return 1.0 / std::log2(static_cast<double>(rank) + 1.0); }

}  // namespace

ListMetrics listMetrics(std::span<const int> ranks, int k, int numCandidates) {
  if (k <= 0) fail<InvalidArgument>("listMetrics: k must be > 0, got ", k);
  const size_t count = ranks.size();
  if (numCandidates < 0 || count > static_cast<size_t>(numCandidates))
    fail<InvalidArgument>("listMetrics: ", count, " relevant ranks among ", numCandidates,
                          " candidates; numCandidates must be >= the number of ranks");
  ListMetrics m;
  if (count == 0) return m;

  // The evaluator passes ascending ranks; sort a copy only for other callers.
  std::vector<int> sortedCopy;
  std::span<const int> sorted = ranks;
  if (!std::is_sorted(ranks.begin(), ranks.end())) {
    sortedCopy.assign(ranks.begin(), ranks.end());
    std::sort(sortedCopy.begin(), sortedCopy.end());
    sorted = sortedCopy;
  }
  for (size_t j = 0; j < count; ++j) {
    if (sorted[j] < 1 || sorted[j] > numCandidates)
      fail<InvalidArgument>("listMetrics: rank ", sorted[j], " outside [1, ", numCandidates, "]");
    if (j > 0 && sorted[j] == sorted[j - 1])
      fail<InvalidArgument>("listMetrics: rank ", sorted[j], " appears twice; ranks must be distinct");
  }

  const int relevant = static_cast<int>(count);
  const int ideal = std::min(k, relevant);  // the most hits a top-K list can hold
  int hits = 0;
  double dcg = 0, precisionSum = 0;
  for (size_t j = 0; j < count && sorted[j] <= k; ++j) {
    ++hits;
    dcg += discount(sorted[j]);
    // Precision at this hit's rank: the j+1 relevant items at or above it.
    precisionSum += static_cast<double>(hits) / sorted[j];
  }
  double idcg = 0;
  for (int r = 1; r <= ideal; ++r) idcg += discount(r);

  m.hit = hits > 0 ? 1.0 : 0.0;
  m.recall = static_cast<double>(hits) / ideal;
  m.precision = static_cast<double>(hits) / k;
  m.ndcg = dcg / idcg;
  m.mrr = sorted[0] <= k ? 1.0 / sorted[0] : 0.0;
  m.ap = precisionSum / ideal;

  // AUC: the j-th relevant item (0-based, ascending rank r_j) has r_j - 1 - j
  // non-relevant items above it, so it beats the other negatives - (r_j - 1 - j).
  const int negatives = numCandidates - relevant;
  if (negatives == 0) {
    m.auc = 0.5;  // nothing to compare against: no information either way
  } else {
    double wins = 0;
    for (size_t j = 0; j < count; ++j) wins += negatives - (sorted[j] - 1 - static_cast<int>(j));
    m.auc = wins / (static_cast<double>(negatives) * relevant);
  }
  return m;
}

double giniIndex(std::span<const int> recommendationCounts) {
  const size_t n = recommendationCounts.size();
  if (n == 0) return 0.0;
  std::vector<int> sorted(recommendationCounts.begin(), recommendationCounts.end());
  std::sort(sorted.begin(), sorted.end());
  if (sorted.front() < 0)
    fail<InvalidArgument>("giniIndex: recommendation counts must be >= 0, got ", sorted.front());
  // G = sum_i (2i - n - 1) x_(i) / (n * sum x), x ascending, i 1-based.
  double total = 0, weighted = 0;
  for (size_t i = 0; i < n; ++i) {
    total += sorted[i];
    weighted += (2.0 * static_cast<double>(i + 1) - static_cast<double>(n) - 1.0) * sorted[i];
  }
  if (total == 0) return 0.0;
  return weighted / (static_cast<double>(n) * total);
}

}  // namespace localrec

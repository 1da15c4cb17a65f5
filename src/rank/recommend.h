// Turning scores into a recommendation list: score the catalog, filter, take the top K.
// Works the same for every model.
#pragma once

#include <vector>

#include "core/recommender.h"

namespace localrec {

struct RecommendOptions {
  int k = 10;                  // list length, > 0
  bool excludeHistory = true;  // drop items the history already has
  std::vector<Index> exclude;  // items never to recommend (deny list)
  std::vector<Index> allow;    // if not empty, only these items may be recommended
};

struct Recommendation {
  Index item;
  float score;
};

// Best first; ties by lower item index. Fewer than k items come back when the
// filters leave fewer. Throws InvalidArgument on k <= 0 or out-of-range ids.
std::vector<Recommendation> recommend(const Recommender& model, const History& history,
                                      const RecommendOptions& options);
// The same list for a streaming session (its events are the history).
std::vector<Recommendation> recommend(const Session& session, const RecommendOptions& options);
// The same filters and top-k on scores already computed (one per catalog item;
// historyItems are excluded when options.excludeHistory).
std::vector<Recommendation> recommendFromScores(std::vector<float> scores, std::span<const Index> historyItems,
                                                const RecommendOptions& options);

}  // namespace localrec

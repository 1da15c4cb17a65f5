#include "rank/recommend.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "linalg/kernels.h"

namespace localrec {

std::vector<Recommendation> recommend(const Recommender& model, const History& history,
                                      const RecommendOptions& options) {
  if (options.k <= 0) fail<InvalidArgument>("recommend: k must be a positive integer, got ", options.k);
  std::vector<float> scores(static_cast<size_t>(model.numItems()));
  model.score(history, scores);  // validates the history and the fitted state
  return recommendFromScores(std::move(scores), history.items, options);
}

std::vector<Recommendation> recommend(const Session& session, const RecommendOptions& options) {
  if (options.k <= 0) fail<InvalidArgument>("recommend: k must be a positive integer, got ", options.k);
  std::vector<float> scores(static_cast<size_t>(session.numItems()));
  session.score(scores);
  return recommendFromScores(std::move(scores), session.items(), options);
}

std::vector<Recommendation> recommendFromScores(std::vector<float> scores, std::span<const Index> historyItems,
                                                const RecommendOptions& options) {
  if (options.k <= 0) fail<InvalidArgument>("recommend: k must be a positive integer, got ", options.k);
  const Index n = static_cast<Index>(scores.size());
  constexpr float kExcluded = -std::numeric_limits<float>::infinity();
  auto checkId = [n](Index item, const char* list) {
    if (item < 0 || item >= n) fail<InvalidArgument>("recommend: ", list, " item ", item, " outside the catalog [0, ", n, ")");
  };
  if (!options.allow.empty()) {
    std::vector<float> allowed(scores.size(), kExcluded);
    for (Index item : options.allow) {
      checkId(item, "allow-list");
      allowed[item] = scores[item];
    }
    scores.swap(allowed);
  }
  for (Index item : options.exclude) {
    checkId(item, "deny-list");
    scores[item] = kExcluded;
  }
  if (options.excludeHistory)
    for (Index item : historyItems) scores[item] = kExcluded;

  const size_t k = static_cast<size_t>(options.k);
  std::vector<Index> ids(std::min(k, scores.size()));
  std::vector<float> top(ids.size());
  const size_t count = linalg::topK(scores, ids.size(), ids.data(), top.data());
  std::vector<Recommendation> out(count);
  for (size_t i = 0; i < count; ++i) out[i] = {ids[i], top[i]};
  return out;
}

}  // namespace localrec

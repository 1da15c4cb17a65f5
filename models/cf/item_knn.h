// Item-based k-nearest-neighbours (Sarwar et al. 2001; Deshpande & Karypis 2004).
//
// Fit: the similarity of every item pair that shares at least one user, from
// the training matrix (one row per user; a repeated (user, item) pair counts
// once, with its latest value):
//   cosine:  sim(i, j) = dot(i, j) / (|i|^(2 alpha) |j|^(2 (1 - alpha)) + shrink),
//            over the item columns (binary, or the rating values with
//            use_values=true); alpha = 0.5 is the plain cosine |i| |j|, other
//            values the asymmetric cosine of Aiolli 2013 (i is the item whose
//            list it is, i.e. the history item at score time);
//   jaccard: sim(i, j) = |U_i n U_j| / (|U_i| + |U_j| - |U_i n U_j| + shrink)
//            (always binary: use_values and alpha do not apply).
// With user_power > 0 every user's terms (in dot, norms and counts) weigh
// |row_u|^-user_power, so a user who rated thousands of items says less about
// any one pair than a user with a short, focused history.
// Shrinkage damps similarities supported by few co-occurrences. With
// popularity_penalty = beta > 0 the similarity is then divided by
// (users of j)^beta, the candidate-popularity discount of RP3beta
// (Paudel et al. 2017), so a blockbuster no longer tops every list just by
// co-occurring with everything. Only positive similarities are kept, an item
// is never its own neighbour, and each item keeps its `neighbors` most similar
// items (ties: lower item index), stored as a sparse list sorted by item index.
// The kept similarities are then raised to sim_exponent (> 1 sharpens: the
// closest neighbours dominate; monotone, so the kept set does not change) and,
// with normalize=true, divided by their sum, so every history item hands out
// the same total (as RP3beta normalises its rows): a history item with many
// strong co-occurrences no longer drowns out the others. The pairs are found by sparse
// co-occurrence: for item i, walk its users' rows and accumulate the dot
// products into a dense buffer, then a partial selection keeps the top N.
// Cost: sum over users of |row|^2 work, O(items) extra memory.
//
// Score: each distinct history item h (a repeated item counts once, at its last
// position and with its last value) adds w_h * sim(h, j) to every item j in
// h's neighbour list, w_h = the history value when use_values=true and the
// history has values, else 1. Then popularity_weight * count_j / max count is
// added to every item, so that items the history says nothing about (and the
// whole catalog for an empty history, or a history of items without
// neighbours) are ordered by training popularity; 0 turns that off (an empty
// history then scores all zeros). Seen items are not removed here (the caller
// filters), so a user who has seen everything gets an empty list from recommend.
//
// Explain(history, item): the history positions h with the largest
// w_h * sim(h, item) > 0, strongest first (ties: earlier position). When no
// history item is a neighbour of `item`, the one reason is its popularity term
// (source -1), if popularity_weight > 0.
//
// Non-finite values in the training data or in a history are InvalidArgument.
//
// Defaults (cosine, neighbors 30, shrink 20, alpha 0.6, user_power 0.5,
// popularity_penalty 0.3, sim_exponent 1.5, normalize true) were tuned by
// coordinate search on a validation split carved from the ml-latest-small
// ratio:0.8 train part: Recall@20 / NDCG@20 0.250 / 0.218, against 0.223 / 0.200
// for the previous defaults (neighbors 20, alpha 0.3, no penalty, exponent 1,
// no normalisation). Leaving out one of them: normalize=false 0.222,
// popularity_penalty=0 0.226, sim_exponent=1 0.248. Tried without gain:
// TF-IDF and BM25 weighting of the matrix, a plain dot product with these
// settings (RP3beta-like, 0.251 / 0.217), neighbourhoods chosen per candidate
// instead of per history item, rating-weighted history items.
// The penalty (and alpha < 0.5) demote popular candidates, so on data where
// one item is liked by nearly everyone, that item can rank below closer niche
// items; popularity_penalty=0 with alpha=0.5 restores the plain cosine.
#pragma once

#include <span>
#include <vector>

#include "core/recommender.h"

namespace localrec {

// Small helpers shared by item_knn and user_knn (both files are part of the
// kNN pair; nothing else should depend on these).
namespace knn_detail {

// The training matrix as deduplicated user rows, items ascending within a row;
// a repeated (user, item) keeps its latest value (rows are chronological).
// Throws InvalidArgument naming the user and item of a non-finite value.
struct UserRows {
  Index numUsers = 0;
  Index numItems = 0;
  std::vector<int32_t> indptr{0};
  std::vector<Index> items;
  std::vector<float> values;  // as long as items, or empty when values are not kept
};
UserRows userRows(const InteractionMatrix& train, bool keepValues, const char* model);

// The transpose of `rows` (item -> users ascending, with the values when kept).
UserRows transpose(const UserRows& rows);

// A history's distinct items: the last position of each, with its value (1 when
// the history has none). Throws InvalidArgument on a non-finite history value.
struct DistinctHistory {
  std::vector<Index> items;
  std::vector<float> values;
  std::vector<Index> positions;
};
DistinctHistory distinct(const History& history, const char* model);

// popularity_weight * count / max count per item, the tie-breaking prior.
std::vector<float> popularityPrior(const std::vector<int32_t>& counts, double weight);

}  // namespace knn_detail

class ItemKnn : public Recommender {
 public:
  static const std::vector<OptionSpec>& optionSpecs();
  explicit ItemKnn(const OptionMap& options = {});

  std::string kind() const override { return "item_knn"; }
  void save(Writer& out) const override;

  // Item i's neighbours (ascending item index) and their similarities.
  std::span<const Index> neighborItems(Index item) const;
  std::span<const float> neighborSimilarities(Index item) const;
  // sim(item, other) as stored (0 when `other` is not among item's neighbours).
  float similarity(Index item, Index other) const;

 protected:
  void fitImpl(const InteractionMatrix& train, Progress& progress) override;
  void scoreImpl(const History& history, std::span<float> out) const override;
  std::vector<Contribution> explainImpl(const History& history, Index item, size_t maxCount) const override;
  void loadImpl(Reader& in) override;

 private:
  explicit ItemKnn(const OptionReader& reader);
  // The weight of a distinct history item in score and explain.
  float historyWeight(float value) const { return useValues_ ? value : 1.0f; }

  bool jaccard_;
  double popularityPenalty_;
  double simExponent_;
  bool normalize_;
  int neighbors_;
  double shrink_;
  double alpha_;
  double userPower_;
  bool useValues_;
  double popularityWeight_;

  // The neighbour lists as CSR over items.
  std::vector<int32_t> indptr_;
  std::vector<Index> neighborIndex_;
  std::vector<float> neighborSim_;
  std::vector<int32_t> counts_;  // training users per item (for the prior)
  std::vector<float> prior_;     // derived from counts_ and popularity_weight
};

}  // namespace localrec

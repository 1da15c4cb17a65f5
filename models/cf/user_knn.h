// User-based k-nearest-neighbours (Herlocker et al. 1999; Resnick et al. 1994).
//
// A query is a history, never a user id: the history's similarity to EVERY
// training user is computed at score time, so a history nobody trained on is
// served the same way as a training user's own (which finds itself as its
// nearest neighbour: that is expected).
//
// Fit keeps the training matrix as compact user rows (deduplicated, items
// ascending; a repeated (user, item) keeps its latest value; the values are
// stored only when a setting uses them). Everything else (the item -> users
// lists, norms, means, popularity) is derived from those rows at fit and load.
//
// Vectors: x_u,i = 1 (cosine, use_values=false), the rating (cosine,
// use_values=true) or the rating minus the user's own mean rating (pearson).
// The history's vector is built the same way from its distinct items (a
// repeated item counts once, with its last value; a history without values has
// value 1 everywhere, which under pearson centres to zero: such a history has
// no neighbours and gets the popularity fallback).
//   sim(h, u) = dot(x_h, x_u) / (|x_h| |x_u| + shrink)   (0 when the denominator is 0)
// "pearson" is thus the cosine of the mean-centred vectors with norms over all
// of each user's items (not only the co-rated ones), which keeps it one sparse
// pass. The dot products are accumulated by walking the history items' user
// lists, so the cost is the number of (history item, user) pairs, not users x items.
//
// Score: the `neighbors` users with the largest positive similarity (ties:
// lower user index) vote: score_j = c_j^-beta sum_v sim(h, v)^exponent x_v,j
// (pearson: centred values, so a neighbour who rated j below their mean votes
// against it), where c_j is the number of training users of j and beta =
// popularity_penalty discounts items everyone's neighbours have anyway. Then
// popularity_weight * count_j / max count is added to every item, ordering items
// the neighbours say nothing about (and everything, for an empty history) by
// training popularity; 0 turns that off (an empty history scores zeros).
//
// Explain(history, item): the contract's sources are history positions, so a
// neighbour user cannot be named. Instead the score is split exactly over the
// history: sim(h, v) is a sum over shared items i of x_h,i x_v,i / denom_v, so
// position p (item i) is credited c_item^-beta sum_v sim_v^(exponent-1) (x_h,i x_v,i / denom_v) x_v,item over
// the neighbours v who have `item`: the history items shared with the
// neighbours who voted for `item`, weighted by how much those votes weigh.
// The credits sum to the score minus the popularity term; the positive ones
// are returned, strongest first (ties: earlier position). With no neighbour
// voting for `item`, the one reason is its popularity term (source -1).
//
// Non-finite values in the training data or in a history are InvalidArgument.
//
// Defaults (cosine over values, neighbors 50, shrink 10, exponent 3,
// popularity_penalty 0.1) were tuned on a validation split carved from the
// ml-latest-small ratio:0.8 train part (Recall@20 / NDCG@20 0.253 / 0.221;
// 0.250 / 0.219 without the penalty, 0.251 / 0.219 at 0.2; 0.241 for binary
// cosine with exponent 1; pearson scored 0.159: mean-centred votes penalise
// watched-but-rated-low items, which top-N recall counts as hits). Tried
// without gain: an asymmetric cosine (alpha on the two norms) and idf
// weighting of the items in the similarity; a coordinate search over
// neighbors (20..200), shrink (0..40) and exponent (1..6) kept 50, 10, 3.
#pragma once

#include <cmath>
#include <span>
#include <vector>

#include "core/recommender.h"

namespace localrec {

class UserKnn : public Recommender {
 public:
  static const std::vector<OptionSpec>& optionSpecs();
  explicit UserKnn(const OptionMap& options = {});

  std::string kind() const override { return "user_knn"; }
  void save(Writer& out) const override;

  Index numUsers() const { return numUsers_; }
  // The history's similarity to every training user (the same numbers score uses).
  std::vector<double> similarities(const History& history) const;
  // The users score() takes as neighbours, best first.
  std::vector<Index> neighbors(const History& history) const;

 protected:
  void fitImpl(const InteractionMatrix& train, Progress& progress) override;
  void scoreImpl(const History& history, std::span<float> out) const override;
  std::vector<Contribution> explainImpl(const History& history, Index item, size_t maxCount) const override;
  void loadImpl(Reader& in) override;

 private:
  explicit UserKnn(const OptionReader& reader);

  // The history's distinct items with their vector entries and its norm.
  struct Query {
    std::vector<Index> items;
    std::vector<double> x;
    std::vector<Index> positions;
    double norm = 0;
  };
  Query query(const History& history) const;
  std::vector<double> similaritiesOf(const Query& q) const;
  // (user, similarity) of the top neighbours, best first.
  std::vector<std::pair<Index, double>> topNeighbors(const std::vector<double>& sims) const;
  // The vector entry of stored element k of the user rows.
  double entry(Index user, int32_t k) const;
  // Builds the derived state from the stored rows.
  void derive();
  bool keepsValues() const { return pearson_ || useValues_; }
  double voteWeight(double sim) const { return exponent_ == 1.0 ? sim : std::pow(sim, exponent_); }

  bool pearson_;
  int neighbors_;
  double shrink_;
  double exponent_;
  double popularityPenalty_;
  bool useValues_;
  double popularityWeight_;

  // Stored: the user rows.
  Index numUsers_ = 0;
  Index numItemsStored_ = 0;
  std::vector<int32_t> indptr_;
  std::vector<Index> items_;
  std::vector<float> values_;  // empty unless keepsValues()

  // Derived.
  std::vector<double> mean_;     // per user (pearson)
  std::vector<double> norm_;     // per user
  std::vector<int32_t> colPtr_;  // item -> users
  std::vector<Index> colUser_;
  std::vector<int32_t> colPos_;  // position of that element in items_
  std::vector<float> prior_;
  std::vector<double> voteScale_;   // per item: (users of the item)^-popularity_penalty
};

}  // namespace localrec

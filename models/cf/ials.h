// Implicit-feedback ALS (Hu, Koren & Volinsky, "Collaborative Filtering for
// Implicit Feedback Datasets", ICDM 2008).
//
// Every observed (user, item) pair has preference p = 1 and confidence
// c = 1 + alpha * value (confidence=linear) or c = 1 + alpha * log(1 + value / epsilon)
// (confidence=log); every unobserved pair has p = 0, c = 1. The objective is
//   L = sum_{u,i} c_ui (p_ui - x_u . y_i)^2 + reg (sum_u |x_u|^2 + sum_i |y_i|^2)
// (with reg_exponent > 0 each row's reg is scaled by (1 + its interactions)^reg_exponent,
// the frequency-scaled regularisation of Rendle et al., "Revisiting iALS", 2021).
// Fitting alternates exact block updates: with Y fixed, each user solves
//   (Y^T Y + Y^T (C_u - I) Y + reg I) x_u = Y^T C_u p_u,
// where Y^T Y is one Gramian (an Eigen GEMM) shared by all users, so each solve
// costs O(n_u k^2) instead of O(n k^2); then the same for items with X fixed.
// solver=cg runs `cg_steps` conjugate-gradient steps per row warm-started from
// the previous factors (Takacs, Pilaszy & Tikk 2011): the Gramian-times-vector
// product is a dense k x k gemv and the sparse part a dot + axpy per
// interaction, so a step costs O(k^2 + n_u k). solver=cholesky solves each
// system exactly (in double), which makes every half-step a true block
// minimisation (the objective never increases) and is what the tests check.
// An iteration is a user half-step then an item half-step; fit ends with one
// more user half-step so the stored user factors belong to the final item
// factors (that is what makes fold-in of a training user's history agree with
// the stored factor).
//
// Scoring a history (fold-in): the user vector for the history is the exact
// solution (Cholesky, double) of the user-side system above against the item
// factors; scores = Y x. A history without values uses value 1 for each item
// (the dataset convention for implicit data). Repeated items count once per
// occurrence, as duplicate training rows do. A history that carries no
// information (empty, or only items whose factors are all zero: items nobody
// interacted with in training) would fold in to x = 0 and score every item 0;
// instead it gets the mean training user vector, so scores = Y mean(x_u), a
// popularity-like ranking (explain then returns one contribution, source -1).
// Values must be finite and >= 0 (training and histories), else InvalidArgument.
//
// explain(history, item): Hu et al.'s explanation. With W = A^-1 for the
// history's system matrix A, score_i = sum_j s_ij c_j where s_ij = y_i^T W y_j,
// so history position j contributes s_ij * c_j (these sum to the score exactly);
// the strongest (largest) contributions are returned first.
//
// update(train, changedUsers): incremental refresh after new events without a
// full retrain. `train` is the whole current training matrix (same catalog;
// it may have more users than the fit saw). The factors of `changedUsers` and
// of every user added since the fit are re-solved against the current item
// factors, then one item half-step runs. When the unchanged users' factors are
// already the solution for the current item factors (as after fit), this
// equals one full iteration (users then items) started from the same factors.
//
// The model keeps the training users' factors (saved in the model file) for
// update() and for tests; scoring never uses them.
#pragma once

#include <span>
#include <vector>

#include "core/recommender.h"

namespace localrec {

class Ials : public Recommender {
 public:
  static const std::vector<OptionSpec>& optionSpecs();
  explicit Ials(const OptionMap& options = {});

  std::string kind() const override { return "ials"; }
  void save(Writer& out) const override;

  int factors() const { return factors_; }
  Index numUsers() const { return numUsers_; }
  // Row-major numUsers() x factors() and numItems() x factors().
  const std::vector<float>& userFactors() const { return users_; }
  const std::vector<float>& itemFactors() const { return items_; }

  // Replaces the factors (e.g. a chosen starting point for tests) and marks the
  // model fitted over numItems items. Sizes must be numUsers/numItems x factors().
  void setFactors(Index numUsers, Index numItems, std::vector<float> userFactors,
                  std::vector<float> itemFactors);

  // One half-step with the configured solver: every user's (item's) factors are
  // re-solved against the current item (user) factors. `train` must match the
  // factor shapes. For tests and for callers driving the iterations themselves.
  void solveUsers(const InteractionMatrix& train);
  void solveItems(const InteractionMatrix& train);

  // The objective L above for the current factors, in double.
  double loss(const InteractionMatrix& train) const;

  // update() (the contract's, see the header comment) is supported; beyond the
  // contract's checks it refuses data with fewer users than fitted.
  bool supportsUpdate() const override { return true; }

  // The fold-in user vector for a history (see above); empty history -> zeros.
  std::vector<float> foldIn(const History& history) const;

 protected:
  void fitImpl(const InteractionMatrix& train, Progress& progress) override;
  void scoreImpl(const History& history, std::span<float> out) const override;
  std::vector<Contribution> explainImpl(const History& history, Index item, size_t maxCount) const override;
  void loadImpl(Reader& in) override;
  void updateImpl(const InteractionMatrix& train, std::span<const Index> changedUsers, Progress& progress) override;

 private:
  explicit Ials(const OptionReader& reader);

  // c - 1 for one interaction value.
  float confidenceMinusOne(float value) const;
  void checkTrain(const InteractionMatrix& train, const char* where) const;
  // Re-solves rows [of `rows`] listed in `which` (all when null) of `factors`
  // against `other`. `fractionBase/Span` map this half-step's share of progress.
  void solveSide(const Csr& rows, const std::vector<float>& other, std::vector<float>& factors,
                 const std::vector<Index>* which, Progress& progress, double fractionBase,
                 double fractionSpan, const char* stage);
  // Y^T Y in double (fold-in, explain) and the mean user vector.
  void refreshItemGram();
  // The regularisation of a row (user, item or history) with `count` interactions.
  double regFor(size_t count) const;
  // False when every history item has an all-zero factor (or the history is empty).
  bool informative(const History& history) const;

  int factors_;
  int iterations_;
  double reg_;
  double regExponent_;
  double alpha_;
  bool logConfidence_;
  double epsilon_;
  bool cholesky_;
  int cgSteps_;
  int seed_;
  double initScale_;

  Index numUsers_ = 0;
  Index numItemsFitted_ = 0;
  std::vector<float> users_;
  std::vector<float> items_;
  std::vector<double> itemGram_;  // factors x factors, Y^T Y (no regularisation)
  std::vector<float> meanUser_;   // mean training user vector: the no-information fallback
};

}  // namespace localrec

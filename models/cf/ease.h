// EASE^R (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"):
// a closed-form item-item model. With X the user x item training matrix
// (binary, or the interaction values when weighting=value),
//   G = X^T X + lambda I,   P = G^-1,   B_ij = -P_ij / P_jj  (i != j),  B_jj = 0,
// which is the exact minimizer of ||X - X B||^2 + lambda ||B||^2 subject to
// diag(B) = 0. score(history)_i = sum over history items j of x_j B_ji (a sum of
// rows of B); explain(history, i) = the history positions j with the largest
// x_j B_ji (positive contributions only).
//
// Only items with at least `min_support` training interactions ("warm" items)
// enter the regression; the other items have zero rows and columns in B and
// score 0. A history without any warm item (empty, or only cold items) falls
// back to popularity: each item scores its training interaction count divided
// by the number of training users (explain then gives source -1 with that value).
//
// Cost and the size limit: B is dense, W x W floats for W warm items, and the
// fit inverts G with a blocked Cholesky (about W^3 flops; 3,500 items take a
// few seconds in wasm, 9,000 items minutes). fit refuses, before allocating
// anything large, when W exceeds `max_items` (default 20,000, i.e. 1.6 GB):
// "EASE needs W x W floats = X MB; the limit is max_items=...; use item_knn or
// ials for larger catalogs". The wasm heap is at most 2 GB, so in the browser
// keep W well under ~15,000 (raise min_support to shrink W).
//
// Training values and history values must be finite (InvalidArgument
// otherwise). A history item repeated k times counts k times.
#pragma once

#include <vector>

#include "core/recommender.h"

namespace localrec {

class Ease : public Recommender {
 public:
  static const std::vector<OptionSpec>& optionSpecs();
  explicit Ease(const OptionMap& options = {});

  std::string kind() const override { return "ease"; }
  void save(Writer& out) const override;

  // The catalog indices of the warm items, ascending (B's row/column order).
  const std::vector<Index>& warmItems() const { return warm_; }
  // B in warm order, row-major: weights()[a * W + b] = B between warm items a and b.
  const std::vector<float>& weights() const { return b_; }

 protected:
  void fitImpl(const InteractionMatrix& train, Progress& progress) override;
  void scoreImpl(const History& history, std::span<float> out) const override;
  std::vector<Contribution> explainImpl(const History& history, Index item, size_t maxCount) const override;
  void loadImpl(Reader& in) override;

 private:
  explicit Ease(const OptionReader& reader);
  // The weight of each history position (the value when weighting=value, else 1);
  // throws InvalidArgument on a non-finite value.
  std::vector<float> historyWeights(const History& history) const;
  bool anyWarm(const History& history, const std::vector<float>& weights) const;

  double lambda_;
  double dropout_;
  bool useValues_;
  int minSupport_;
  int maxItems_;
  bool doublePrecision_;

  std::vector<Index> warm_;        // warm item -> catalog index
  std::vector<Index> warmOf_;      // catalog index -> warm index or -1 (derived)
  std::vector<float> b_;           // W x W, row-major
  std::vector<float> popularity_;  // fallback scores, one per catalog item
};

}  // namespace localrec

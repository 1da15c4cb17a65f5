// Losses over a batch of candidate scores, with their gradients.
//
// Every loss reads scores (n x c): row i scores its own positive, at column
// targetCol[i], and the other columns are its negatives. With candidateIds
// (the item id of each column), a column j != targetCol[i] whose id equals the
// id of row i's target is masked out of row i (the GRU4Rec scheme scores every
// row against the targets of the other rows plus shared samples, which may
// contain the row's own target). Without ids nothing is masked (full softmax:
// columns are the catalog and targetCol is the item id).
//
// The returned loss is the MEAN over rows of the per-row loss; dScores (resized
// to n x c, overwritten) is its exact gradient, zero at masked columns.
// Exponentials are shifted by the row maximum (log-sum-exp), so large scores
// neither overflow nor lose the loss to rounding.
#pragma once

#include <cstdint>
#include <span>

#include "core/types.h"
#include "nn/matrix.h"

namespace localrec::nn {

struct ScoreTargets {
  std::span<const int32_t> targetCol;    // n entries in [0, c)
  std::span<const Index> candidateIds;   // c entries, or empty: no masking
};

// Cross-entropy of the softmax over the row's unmasked columns:
//   loss_i = log sum_j exp(s_ij) - s_i,t
float softmaxCrossEntropy(const Matrix& scores, ScoreTargets targets, Matrix& dScores);

// BPR-max (Hidasi & Karatzoglou 2018) with score regularization: with softmax
// weights over the negatives w_j = exp(s_j) / sum_k exp(s_k) (target excluded),
//   loss_i = -log(sum_j w_j sigmoid(s_t - s_j)) + lambda * sum_j w_j s_j^2.
// The sum inside the log is floored at 1e-30 (all sigmoids underflowed).
// A row with no unmasked negative contributes 0.
float bprMax(const Matrix& scores, ScoreTargets targets, float lambda, Matrix& dScores);

// Binary cross-entropy with logits on candidates: the target is a positive
// (label 1), every unmasked negative a label 0; the row loss sums them:
//   loss_i = softplus(-s_t) + sum_j softplus(s_j).
float sampledBinaryCrossEntropy(const Matrix& scores, ScoreTargets targets, Matrix& dScores);

// Element-wise binary cross-entropy with logits and labels in [0, 1]:
// the MEAN over all elements of max(x,0) - x*y + log(1 + exp(-|x|)).
float binaryCrossEntropy(const Matrix& logits, const Matrix& labels, Matrix& dLogits);

}  // namespace localrec::nn

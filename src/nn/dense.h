// Fully connected layer y = x W^T + b, W stored out x in (one row per output
// unit), b stored out x 1. Storing W by output rows makes a Dense the item
// scorer of a recommender: row j is item j's output vector, so scoring a
// subset of items (sampled softmax) gathers rows and updates only those rows.
#pragma once

#include <span>

#include "core/rng.h"
#include "core/types.h"
#include "nn/parameter.h"

namespace localrec::nn {

class Dense {
 public:
  Dense() = default;
  // `kind` applies to weight and bias: kSparseRows when the layer is trained
  // only through forwardRows/backwardRows (the item scorer under sampled losses).
  Dense(size_t in, size_t out, bool useBias = true, GradKind kind = GradKind::kDense);

  // Glorot-uniform W, zero b.
  void init(Rng& rng);

  // y (n x out) = x (n x in) W^T + b.
  void forward(const Matrix& x, Matrix& y) const;
  // Accumulates dW += dY^T x, db += column sums of dY; writes dX = dY W when dX
  // is not null. Needs GradKind::kDense.
  void backward(const Matrix& x, const Matrix& dY, Matrix* dX);

  // Scores against a subset of output units (repeats allowed):
  // y (n x ids.size()) = x W[ids]^T + b[ids]. Keeps W[ids] for backwardRows.
  void forwardRows(const Matrix& x, std::span<const Index> ids, Matrix& y);
  // The gradient of forwardRows with the same x and ids: dW rows into `dW`,
  // bias entries into `db` (ignored without bias), dX = dY W[ids] when not null.
  // dW/db must have been reset() for this layer's shapes.
  void backwardRows(const Matrix& x, std::span<const Index> ids, const Matrix& dY, Matrix* dX,
                    SparseRows& dW, SparseRows& db);

  size_t in() const { return weight.cols(); }
  size_t out() const { return weight.rows(); }
  bool hasBias() const { return useBias_; }

  Parameter weight;  // out x in
  Parameter bias;    // out x 1 (0 x 1 without bias)

 private:
  bool useBias_ = true;
  Matrix gathered_;  // W[ids] of the last forwardRows (ids.size() x in)
  Matrix rowGrad_;   // dW for the candidate rows (ids.size() x in)
  Matrix colSum_;    // 1 x ids.size(): the bias gradient per candidate column
};

}  // namespace localrec::nn

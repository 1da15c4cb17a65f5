// Trainable parameters, their sparse-row gradients, and seeded initialization.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/types.h"
#include "nn/matrix.h"

namespace localrec::nn {

// How a parameter receives gradients: dense ones have a `grad` matrix of the
// same shape that backward passes accumulate into; sparse-row ones (embedding
// tables, the output item matrix under sampled losses) get their gradient as a
// SparseRows, so no table-sized gradient is allocated or cleared per step.
enum class GradKind { kDense, kSparseRows };

// The gradient of some rows of a matrix: unique row ids and one packed gradient
// row each. Accumulating into a row that is already present adds to it, so
// repeated ids (the same item twice in a batch) sum as they must.
class SparseRows {
 public:
  // Prepares for a matrix with `tableRows` rows of width `cols`, holding up to
  // `maxRows` distinct rows without reallocating. Clears the content.
  void reset(size_t tableRows, size_t cols, size_t maxRows = 0);
  // Drops every row (O(rows touched)); keeps the shape and the allocation.
  void clear();
  // The gradient row of `id`, zero-filled on first touch. The pointer is valid
  // until the next call that adds a row.
  float* rowFor(Index id);

  size_t size() const { return ids_.size(); }
  size_t cols() const { return cols_; }
  size_t tableRows() const { return slotOf_.size(); }
  std::span<const Index> ids() const { return ids_; }
  const float* row(size_t slot) const { return grads_.data() + slot * cols_; }
  float* row(size_t slot) { return grads_.data() + slot * cols_; }

 private:
  size_t cols_ = 0;
  std::vector<Index> ids_;
  std::vector<float> grads_;      // ids_.size() x cols_, row-major
  std::vector<int32_t> slotOf_;   // table row -> slot in ids_, or -1
};

// A trainable matrix: value, gradient (dense kind only) and the optimizer's
// per-parameter state. Vectors (biases) are stored as matrices too: a Dense
// bias is out x 1, so that its entries are "rows" an optimizer can update
// sparsely alongside the weight rows of the same items.
struct Parameter {
  Parameter() = default;
  Parameter(std::string name, size_t rows, size_t cols, GradKind kind = GradKind::kDense);

  void zeroGrad() { grad.setZero(); }
  size_t rows() const { return value.rows(); }
  size_t cols() const { return value.cols(); }

  std::string name;
  GradKind kind = GradKind::kDense;
  Matrix value;
  Matrix grad;  // empty for kSparseRows

  // Optimizer state, sized and owned by the optimizer that updates this
  // parameter (momentum/first moment, second moment or Adagrad accumulator,
  // and per-row update counts for Adam's bias correction).
  Matrix state1;
  Matrix state2;
  std::vector<int32_t> rowSteps;
};

// Seeded initializers. All draw from `rng` in row-major order, so a seed gives
// the same values natively and in wasm.
void initUniform(Matrix& m, float lo, float hi, Rng& rng);
// Normal(0, stddev) by Box-Muller on rng.uniform() (std:: distributions are not portable).
void initNormal(Matrix& m, float stddev, Rng& rng);
// Glorot/Xavier uniform: U(-a, a) with a = sqrt(6 / (fanIn + fanOut)).
void initGlorotUniform(Matrix& m, size_t fanIn, size_t fanOut, Rng& rng);

}  // namespace localrec::nn

// Finite checks the trainers call to stop on NaN/infinity with a clear error
// (instead of silently training on garbage).
#pragma once

#include <cstddef>
#include <string_view>

#include "core/error.h"
#include "nn/matrix.h"
#include "nn/parameter.h"

namespace localrec::nn {

// Training produced NaN or infinity (code NON_FINITE).
class NonFiniteError : public Error {
 public:
  explicit NonFiniteError(const std::string& m) : Error(m, "NON_FINITE") {}
};

// Index of the first NaN or infinite element, or n when all are finite.
size_t firstNonFinite(const float* data, size_t n);
inline bool allFinite(const float* data, size_t n) { return firstNonFinite(data, n) == n; }

// Throw NonFiniteError naming `what`, the position and the value, plus `hint`
// (e.g. "epoch 3: try a lower learning_rate").
void requireFinite(float value, std::string_view what, std::string_view hint = {});
void requireFinite(const Matrix& m, std::string_view what, std::string_view hint = {});
// The dense gradient of p (kDense) or a sparse-row gradient.
void requireFiniteGrad(const Parameter& p, std::string_view hint = {});
void requireFinite(const SparseRows& g, std::string_view what, std::string_view hint = {});

}  // namespace localrec::nn

#include "nn/parameter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

#include "core/error.h"

namespace localrec::nn {

void SparseRows::reset(size_t tableRows, size_t cols, size_t maxRows) {
  cols_ = cols;
  ids_.clear();
  grads_.clear();
  slotOf_.assign(tableRows, -1);
  ids_.reserve(maxRows);
  grads_.reserve(maxRows * cols);
}

void SparseRows::clear() {
  for (Index id : ids_) slotOf_[static_cast<size_t>(id)] = -1;
  ids_.clear();
  grads_.clear();
}

float* SparseRows::rowFor(Index id) {
  if (id < 0 || static_cast<size_t>(id) >= slotOf_.size()) {
    fail<InvalidArgument>("SparseRows: row id ", id, " outside [0, ", slotOf_.size(), ")");
  }
  int32_t& slot = slotOf_[static_cast<size_t>(id)];
  if (slot < 0) {
    slot = static_cast<int32_t>(ids_.size());
    ids_.push_back(id);
    grads_.resize(grads_.size() + cols_, 0.0f);
  }
  return grads_.data() + static_cast<size_t>(slot) * cols_;
}

Parameter::Parameter(std::string name_, size_t rows, size_t cols, GradKind kind_)
    : name(std::move(name_)), kind(kind_), value(rows, cols) {
  if (kind == GradKind::kDense) grad.resize(rows, cols);
}

void initUniform(Matrix& m, float lo, float hi, Rng& rng) {
  float* p = m.data();
  for (size_t i = 0; i < m.size(); ++i) p[i] = rng.uniform(lo, hi);
}

void initNormal(Matrix& m, float stddev, Rng& rng) {
  float* p = m.data();
  const size_t n = m.size();
  for (size_t i = 0; i < n; i += 2) {
    // 1 - u lies in (0, 1], so the log is finite.
    const double u1 = 1.0 - rng.uniform();
    const double u2 = rng.uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1)) * stddev;
    const double angle = 2.0 * std::numbers::pi * u2;
    p[i] = static_cast<float>(radius * std::cos(angle));
    if (i + 1 < n) p[i + 1] = static_cast<float>(radius * std::sin(angle));
  }
}

void initGlorotUniform(Matrix& m, size_t fanIn, size_t fanOut, Rng& rng) {
  if (fanIn + fanOut == 0) fail<InvalidArgument>("initGlorotUniform: fanIn + fanOut must be > 0");
  const float a = static_cast<float>(std::sqrt(6.0 / static_cast<double>(fanIn + fanOut)));
  initUniform(m, -a, a, rng);
}

}  // namespace localrec::nn

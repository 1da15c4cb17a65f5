#include "nn/dropout.h"

#include "core/error.h"

namespace localrec::nn {

Dropout::Dropout(float p) : p_(p) {
  if (!(p >= 0.0f && p < 1.0f)) fail<InvalidArgument>("dropout rate must be in [0, 1), got ", p);
}

void Dropout::forward(const Matrix& x, Matrix& y, bool training, Rng& rng) {
  active_ = training && p_ > 0.0f;
  if (&y != &x) {
    y.resize(x.rows(), x.cols());
    std::copy_n(x.data(), x.size(), y.data());
  }
  if (!active_) return;
  mask_.resize(x.rows(), x.cols());
  const float keep = 1.0f / (1.0f - p_);
  float* m = mask_.data();
  float* out = y.data();
  for (size_t i = 0; i < mask_.size(); ++i) {
    m[i] = rng.uniform() < static_cast<double>(p_) ? 0.0f : keep;
    out[i] *= m[i];
  }
}

void Dropout::backward(const Matrix& dY, Matrix& dX) const {
  if (&dX != &dY) {
    dX.resize(dY.rows(), dY.cols());
    std::copy_n(dY.data(), dY.size(), dX.data());
  }
  if (!active_) return;
  if (mask_.size() != dY.size()) fail<InvalidArgument>("Dropout::backward: gradient shape differs from the forward");
  float* d = dX.data();
  const float* m = mask_.data();
  for (size_t i = 0; i < mask_.size(); ++i) d[i] *= m[i];
}

}  // namespace localrec::nn

#include "nn/conv1d.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "linalg/kernels.h"

namespace localrec::nn {

using linalg::gemm;
using linalg::Op;

namespace {

// B from a (B*T) x C input; refuses T = 0 and a row count T does not divide.
size_t batchOf(const char* who, const Matrix& x, size_t steps, size_t channels) {
  if (steps == 0) fail<InvalidArgument>(who, ": steps must be at least 1");
  if (x.cols() != channels) fail<InvalidArgument>(who, ": input has ", x.cols(), " channels, expected ", channels);
  if (x.rows() % steps != 0)
    fail<InvalidArgument>(who, ": input has ", x.rows(), " rows, not a multiple of steps = ", steps);
  return x.rows() / steps;
}

// cols ((B*To) x (w*C)): row b*To + t = the w*C floats of steps t..t+w-1 of
// sequence b, zero past the sequence's end (only when T < w).
void im2col(const Matrix& x, size_t batch, size_t steps, size_t width, Matrix& cols) {
  const size_t C = x.cols(), To = Conv1d::outputSteps(steps, width), wc = width * C;
  cols.resize(batch * To, wc);
  for (size_t b = 0; b < batch; ++b) {
    const float* seq = x.row(b * steps);
    for (size_t t = 0; t < To; ++t) {
      float* dst = cols.row(b * To + t);
      const size_t have = std::min(width, steps - t) * C;  // floats inside the sequence
      std::copy_n(seq + t * C, have, dst);
      std::fill(dst + have, dst + wc, 0.0f);
    }
  }
}

void convolve(const Matrix& cols, const Parameter& weight, const Parameter& bias, Matrix& y) {
  const size_t rows = cols.rows(), F = weight.rows(), wc = weight.cols();
  y.resize(rows, F);
  if (rows == 0) return;
  for (size_t i = 0; i < rows; ++i) {
    float* yr = y.row(i);
    for (size_t f = 0; f < F; ++f) yr[f] = bias.value.data()[f];
  }
  gemm(Op::kNone, Op::kTranspose, rows, F, wc, 1.0f, cols.data(), wc, weight.value.data(), wc, 1.0f, y.data(), F);
}

}  // namespace

Conv1d::Conv1d(size_t inChannels, size_t outChannels, size_t width)
    : weight("conv1d.weight", outChannels, width * inChannels), bias("conv1d.bias", outChannels, 1),
      in_(inChannels), width_(width) {
  if (inChannels == 0 || outChannels == 0 || width == 0)
    fail<InvalidArgument>("Conv1d: channels in (", inChannels, "), out (", outChannels, ") and width (", width,
                          ") must all be at least 1");
}

void Conv1d::init(Rng& rng) {
  initGlorotUniform(weight.value, width_ * in_, width_ * outChannels(), rng);
  bias.value.setZero();
}

void Conv1d::forward(const Matrix& x, size_t steps, Matrix& y) {
  batch_ = batchOf("Conv1d::forward", x, steps, in_);
  steps_ = steps;
  im2col(x, batch_, steps, width_, cols_);
  convolve(cols_, weight, bias, y);
}

void Conv1d::infer(const Matrix& x, size_t steps, Matrix& y, Matrix& cols) const {
  const size_t batch = batchOf("Conv1d::infer", x, steps, in_);
  im2col(x, batch, steps, width_, cols);
  convolve(cols, weight, bias, y);
}

void Conv1d::backward(const Matrix& dY, Matrix* dX) {
  const size_t F = outChannels(), wc = weight.cols(), To = outputSteps(steps_, width_), rows = batch_ * To;
  if (dY.rows() != rows || dY.cols() != F)
    fail<InvalidArgument>("Conv1d::backward: dY is ", dY.rows(), " x ", dY.cols(), ", the last forward gave ", rows,
                          " x ", F);
  if (rows > 0) {
    gemm(Op::kTranspose, Op::kNone, F, wc, rows, 1.0f, dY.data(), F, cols_.data(), wc, 1.0f, weight.grad.data(), wc);
    for (size_t i = 0; i < rows; ++i) linalg::axpy(1.0f, dY.row(i), bias.grad.data(), F);
  }
  if (dX == nullptr) return;
  dX->resize(batch_ * steps_, in_);
  dX->setZero();
  if (rows == 0) return;
  dCols_.resize(rows, wc);
  gemm(Op::kNone, Op::kNone, rows, wc, F, 1.0f, dY.data(), F, weight.value.data(), wc, 0.0f, dCols_.data(), wc);
  // col2im: each window's gradient adds onto the steps it covered (not the padding).
  for (size_t b = 0; b < batch_; ++b) {
    float* seq = dX->row(b * steps_);
    for (size_t t = 0; t < To; ++t) {
      const size_t have = std::min(width_, steps_ - t) * in_;
      linalg::axpy(1.0f, dCols_.row(b * To + t), seq + t * in_, have);
    }
  }
}

void maxPoolTime(const Matrix& x, size_t steps, Matrix& y, std::vector<int32_t>* argmax) {
  const size_t C = x.cols(), batch = batchOf("maxPoolTime", x, steps, C);
  y.resize(batch, C);
  if (argmax != nullptr) argmax->assign(batch * C, 0);
  for (size_t b = 0; b < batch; ++b) {
    float* out = y.row(b);
    int32_t* arg = argmax != nullptr ? argmax->data() + b * C : nullptr;
    std::copy_n(x.row(b * steps), C, out);
    for (size_t t = 1; t < steps; ++t) {
      const float* xr = x.row(b * steps + t);
      for (size_t c = 0; c < C; ++c) {
        // Strictly greater keeps the earliest of ties; a number replaces a NaN held so far.
        if (xr[c] > out[c] || (std::isnan(out[c]) && !std::isnan(xr[c]))) {
          out[c] = xr[c];
          if (arg != nullptr) arg[c] = static_cast<int32_t>(t);
        }
      }
    }
  }
}

void maxPoolTimeBackward(const Matrix& dY, size_t steps, const std::vector<int32_t>& argmax, Matrix& dX) {
  const size_t batch = dY.rows(), C = dY.cols();
  if (argmax.size() != batch * C)
    fail<InvalidArgument>("maxPoolTimeBackward: dY is ", batch, " x ", C, " but the forward kept ", argmax.size(),
                          " positions");
  dX.resize(batch * steps, C);
  dX.setZero();
  for (size_t b = 0; b < batch; ++b) {
    const float* d = dY.row(b);
    const int32_t* arg = argmax.data() + b * C;
    for (size_t c = 0; c < C; ++c) dX(b * steps + static_cast<size_t>(arg[c]), c) = d[c];
  }
}

VerticalConv::VerticalConv(size_t steps, size_t filters) : weight("vertical.weight", filters, steps) {
  if (steps == 0 || filters == 0)
    fail<InvalidArgument>("VerticalConv: steps (", steps, ") and filters (", filters, ") must be at least 1");
}

void VerticalConv::init(Rng& rng) { initGlorotUniform(weight.value, steps(), filters(), rng); }

namespace {
// xT (T x (B*C)) from x ((B*T) x C).
void toTimeRows(const Matrix& x, size_t steps, Matrix& xT) {
  const size_t C = x.cols(), batch = x.rows() / steps;
  xT.resize(steps, batch * C);
  for (size_t b = 0; b < batch; ++b)
    for (size_t t = 0; t < steps; ++t) std::copy_n(x.row(b * steps + t), C, xT.row(t) + b * C);
}

// y (B x (F*C)) from yT (F x (B*C)).
void fromFilterRows(const Matrix& yT, size_t batch, size_t channels, Matrix& y) {
  const size_t F = yT.rows();
  y.resize(batch, F * channels);
  for (size_t f = 0; f < F; ++f)
    for (size_t b = 0; b < batch; ++b) std::copy_n(yT.row(f) + b * channels, channels, y.row(b) + f * channels);
}

void verticalForward(const Parameter& weight, const Matrix& x, Matrix& xT, Matrix& yT, Matrix& y) {
  const size_t T = weight.cols(), F = weight.rows();
  const size_t batch = batchOf("VerticalConv::forward", x, T, x.cols()), C = x.cols(), n = batch * C;
  toTimeRows(x, T, xT);
  yT.resize(F, n);
  if (n > 0) gemm(Op::kNone, Op::kNone, F, n, T, 1.0f, weight.value.data(), T, xT.data(), n, 0.0f, yT.data(), n);
  fromFilterRows(yT, batch, C, y);
}
}  // namespace

void VerticalConv::forward(const Matrix& x, Matrix& y) {
  verticalForward(weight, x, xT_, yT_, y);
  batch_ = x.rows() / steps();
  channels_ = x.cols();
}

void VerticalConv::infer(const Matrix& x, Matrix& y, Matrix& scratch) const {
  Matrix yT;
  verticalForward(weight, x, scratch, yT, y);
}

void VerticalConv::backward(const Matrix& dY, Matrix* dX) {
  const size_t T = steps(), F = filters(), C = channels_, n = batch_ * C;
  if (dY.rows() != batch_ || dY.cols() != F * C)
    fail<InvalidArgument>("VerticalConv::backward: dY is ", dY.rows(), " x ", dY.cols(), ", the last forward gave ",
                          batch_, " x ", F * C);
  // dYT (F x (B*C)), the inverse of fromFilterRows.
  yT_.resize(F, n);
  for (size_t f = 0; f < F; ++f)
    for (size_t b = 0; b < batch_; ++b) std::copy_n(dY.row(b) + f * C, C, yT_.row(f) + b * C);
  if (n > 0) gemm(Op::kNone, Op::kTranspose, F, T, n, 1.0f, yT_.data(), n, xT_.data(), n, 1.0f, weight.grad.data(), T);
  if (dX == nullptr) return;
  dT_.resize(T, n);
  if (n > 0) gemm(Op::kTranspose, Op::kNone, T, n, F, 1.0f, weight.value.data(), T, yT_.data(), n, 0.0f, dT_.data(), n);
  dX->resize(batch_ * T, C);
  for (size_t b = 0; b < batch_; ++b)
    for (size_t t = 0; t < T; ++t) std::copy_n(dT_.row(t) + b * C, C, dX->row(b * T + t));
}

void reluForward(const Matrix& x, Matrix& y) {
  if (&y != &x) y.resize(x.rows(), x.cols());
  const float* in = x.data();
  float* out = y.data();
  for (size_t i = 0; i < x.size(); ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void reluBackward(const Matrix& y, const Matrix& dY, Matrix& dX) {
  if (y.size() != dY.size()) fail<InvalidArgument>("reluBackward: gradient shape differs from the output");
  if (&dX != &dY) dX.resize(dY.rows(), dY.cols());
  const float* out = y.data();
  const float* d = dY.data();
  float* g = dX.data();
  for (size_t i = 0; i < y.size(); ++i) g[i] = out[i] > 0.0f ? d[i] : 0.0f;
}

}  // namespace localrec::nn

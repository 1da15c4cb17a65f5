// Convolutions and pooling over time, for CNN models over sequences (Caser's
// horizontal and vertical filters, text CNNs over word embeddings).
//
// Layout: a batch of B sequences of T steps with C channels is a (B*T) x C
// matrix, BATCH-MAJOR: step t of sequence b is row b*T + t (unlike the GRU,
// which is time-major), so each sequence is one contiguous block and a window
// of w steps is w*C contiguous floats. T is passed explicitly (B = rows / T).
#pragma once

#include <cstdint>
#include <vector>

#include "core/rng.h"
#include "nn/parameter.h"

namespace localrec::nn {

// Conv1d: 'valid' convolution over time, stride 1, F output channels:
//   y[b, t, f] = bias[f] + sum_{k < w} sum_{c < C} W[f, k*C + c] * x[b, t + k, c]
// for t in [0, T - w + 1): the output is (B * (T - w + 1)) x F, batch-major.
// (A cross-correlation, as in every deep-learning library.)
//
// Short sequences (T < w, no complete window): the sequence is zero-padded at
// its END up to w steps, giving exactly one output step per sequence, i.e.
// outputSteps(T, w) = max(T - w + 1, 1). The padded taps contribute nothing
// and receive no gradient. T = 0 is refused.
//
// Weights: W is F x (w*C), row f = filter f, tap k (time offset) channel c at
// column k*C + c; bias F x 1 (like Dense, one row per output channel).
//
// Computation: the windows are copied into a (B*To) x (w*C) matrix (im2col),
// so forward is one GEMM (im2col times W^T) and backward two (dW += dY^T cols,
// dCols = dY W) plus a scatter-add of dCols back onto the steps (col2im).
class Conv1d {
 public:
  Conv1d() = default;
  Conv1d(size_t inChannels, size_t outChannels, size_t width);

  // Glorot-uniform W with fanIn = w*C, fanOut = w*F; zero bias.
  void init(Rng& rng);

  static size_t outputSteps(size_t steps, size_t width) { return steps >= width ? steps - width + 1 : 1; }

  // Training forward: y ((B*To) x F) from x ((B*T) x C); keeps the windows for backward.
  void forward(const Matrix& x, size_t steps, Matrix& y);
  // The gradient of the last forward: accumulates weight.grad and bias.grad,
  // writes dX ((B*T) x C) when not null.
  void backward(const Matrix& dY, Matrix* dX);

  // Inference: the same output without keeping anything (const; `cols` is
  // caller-owned scratch for the windows).
  void infer(const Matrix& x, size_t steps, Matrix& y, Matrix& cols) const;

  size_t inChannels() const { return in_; }
  size_t outChannels() const { return weight.rows(); }
  size_t width() const { return width_; }

  Parameter weight;  // F x (w*C)
  Parameter bias;    // F x 1

 private:
  size_t in_ = 0, width_ = 0;
  size_t steps_ = 0, batch_ = 0;  // shape of the last forward
  Matrix cols_;                   // (B*To) x (w*C): the windows of the last forward
  Matrix dCols_;                  // backward scratch
};

// Max over time of a batch-major (B*T) x C input: y[b, c] = max_t x[b, t, c]
// (B x C). Ties go to the earliest step. `argmax` (B*C, may be null) receives
// the winning step of each output; a NaN in a column is never selected unless
// the whole column is NaN (then step 0 is, and the output is NaN).
void maxPoolTime(const Matrix& x, size_t steps, Matrix& y, std::vector<int32_t>* argmax);
// Routes dY (B x C) to the winning steps: dX ((B*T) x C) is zero elsewhere (overwritten).
void maxPoolTimeBackward(const Matrix& dY, size_t steps, const std::vector<int32_t>& argmax, Matrix& dX);

// The pooling layer form of the two functions above (keeps the argmax of the last forward).
class MaxPoolTime {
 public:
  void forward(const Matrix& x, size_t steps, Matrix& y) {
    steps_ = steps;
    maxPoolTime(x, steps, y, &argmax_);
  }
  void backward(const Matrix& dY, Matrix& dX) const { maxPoolTimeBackward(dY, steps_, argmax_, dX); }

 private:
  size_t steps_ = 0;
  std::vector<int32_t> argmax_;
};

// Caser's vertical convolution: F filters of height T (the whole window) and
// width 1, i.e. each filter is a weighted sum of the T rows of a sequence
// (a Dense over the time axis, shared by every channel):
//   y[b, f, c] = sum_t W[f, t] * x[b, t, c]
// Input (B*T) x C batch-major, output B x (F*C): row b holds filter f's C
// values at columns f*C .. f*C + C - 1. No bias (the layer that consumes the
// output has one; Tang & Wang 2018 write the filter without one). T is fixed
// at construction (the filter height).
// Computation: the input is transposed to T x (B*C) so that forward is one
// GEMM (W (F x T) times it) and backward two.
class VerticalConv {
 public:
  VerticalConv() = default;
  VerticalConv(size_t steps, size_t filters);

  // Glorot-uniform W (fanIn = T, fanOut = F).
  void init(Rng& rng);

  void forward(const Matrix& x, Matrix& y);
  // Accumulates weight.grad; writes dX ((B*T) x C) when not null.
  void backward(const Matrix& dY, Matrix* dX);
  // Const inference (`scratch` is caller-owned).
  void infer(const Matrix& x, Matrix& y, Matrix& scratch) const;

  size_t steps() const { return weight.cols(); }
  size_t filters() const { return weight.rows(); }

  Parameter weight;  // F x T

 private:
  size_t batch_ = 0, channels_ = 0;
  Matrix xT_;   // T x (B*C): the input of the last forward, transposed
  Matrix yT_;   // F x (B*C)
  Matrix dT_;   // backward scratch
};

// ReLU, element-wise: y = max(x, 0) (y may be x). The backward uses the
// OUTPUT: dX = dY where y > 0, else 0 (dX may be dY).
void reluForward(const Matrix& x, Matrix& y);
void reluBackward(const Matrix& y, const Matrix& dY, Matrix& dX);

}  // namespace localrec::nn

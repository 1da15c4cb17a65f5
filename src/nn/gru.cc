#include "nn/gru.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "linalg/kernels.h"

namespace localrec::nn {

using linalg::gemm;
using linalg::Op;

namespace {

inline float sigmoid(float a) { return 1.0f / (1.0f + std::exp(-a)); }

// rows x cols = bias broadcast to every row (the beta = 1 start of a GEMM).
void broadcastRows(const float* bias, size_t rows, size_t cols, float* out) {
  for (size_t i = 0; i < rows; ++i) std::memcpy(out + i * cols, bias, cols * sizeof(float));
}

void addColumnSums(const Matrix& m, float* out) {
  for (size_t i = 0; i < m.rows(); ++i) linalg::axpy(1.0f, m.row(i), out, m.cols());
}

}  // namespace

Gru::Gru(size_t inputSize, size_t hiddenSize)
    : wInput("gru.wInput", 3 * hiddenSize, inputSize),
      wHidden("gru.wHidden", 3 * hiddenSize, hiddenSize),
      bInput("gru.bInput", 1, 3 * hiddenSize),
      bHidden("gru.bHidden", 1, 3 * hiddenSize) {}

void Gru::init(Rng& rng) {
  const size_t H = hiddenSize();
  // Each gate block is its own H x fan_in matrix for Glorot's scale.
  for (Parameter* w : {&wInput, &wHidden}) {
    const size_t fanIn = w->cols();
    const float a = static_cast<float>(std::sqrt(6.0 / static_cast<double>(fanIn + H)));
    initUniform(w->value, -a, a, rng);
  }
  bInput.value.setZero();
  bHidden.value.setZero();
}

void Gru::forward(const Matrix& x, size_t steps, const float* h0, std::span<const uint8_t> resetBefore,
                  Matrix& h) {
  const size_t I = inputSize(), H = hiddenSize(), G = 3 * H;
  if (steps == 0 || x.rows() % steps != 0) {
    fail<InvalidArgument>("Gru::forward: ", x.rows(), " input rows are not a positive multiple of steps (", steps, ")");
  }
  if (x.cols() != I) fail<InvalidArgument>("Gru::forward: input has ", x.cols(), " columns, expected ", I);
  if (!resetBefore.empty() && resetBefore.size() != x.rows()) {
    fail<InvalidArgument>("Gru::forward: resetBefore has ", resetBefore.size(), " flags, expected ", x.rows());
  }
  const size_t B = x.rows() / steps, N = x.rows();
  steps_ = steps;
  batch_ = B;
  x_ = &x;
  resets_.assign(resetBefore.begin(), resetBefore.end());
  hPrev_.resize(N, H);
  gates_.resize(N, G);
  ghn_.resize(N, H);
  gh_.resize(B, G);
  h.resize(N, H);

  // Input pre-activations of every step in one GEMM, kept in gates_ until the
  // step overwrites them with the activations.
  broadcastRows(bInput.value.data(), N, G, gates_.data());
  gemm(Op::kNone, Op::kTranspose, N, G, I, 1.0f, x.data(), I, wInput.value.data(), I, 1.0f, gates_.data(), G);

  for (size_t t = 0; t < steps; ++t) {
    float* hp = hPrev_.row(t * B);
    if (t == 0) {
      if (h0 != nullptr) std::memcpy(hp, h0, B * H * sizeof(float));
      else std::memset(hp, 0, B * H * sizeof(float));
    } else {
      std::memcpy(hp, h.row((t - 1) * B), B * H * sizeof(float));
    }
    if (!resets_.empty()) {
      for (size_t b = 0; b < B; ++b) {
        if (resets_[t * B + b]) std::memset(hp + b * H, 0, H * sizeof(float));
      }
    }
    broadcastRows(bHidden.value.data(), B, G, gh_.data());
    gemm(Op::kNone, Op::kTranspose, B, G, H, 1.0f, hp, H, wHidden.value.data(), H, 1.0f, gh_.data(), G);
    for (size_t b = 0; b < B; ++b) {
      const size_t row = t * B + b;
      float* g = gates_.row(row);
      const float* ghr = gh_.row(b);
      float* ghn = ghn_.row(row);
      const float* hpr = hp + b * H;
      float* hr = h.row(row);
      for (size_t j = 0; j < H; ++j) {
        const float r = sigmoid(g[j] + ghr[j]);
        const float z = sigmoid(g[H + j] + ghr[H + j]);
        ghn[j] = ghr[2 * H + j];
        const float n = std::tanh(g[2 * H + j] + r * ghn[j]);
        g[j] = r;
        g[H + j] = z;
        g[2 * H + j] = n;
        hr[j] = (1.0f - z) * n + z * hpr[j];
      }
    }
  }
}

void Gru::backward(const Matrix& dH, Matrix* dX, Matrix* dh0) {
  const size_t I = inputSize(), H = hiddenSize(), G = 3 * H;
  const size_t T = steps_, B = batch_, N = T * B;
  if (x_ == nullptr || x_->rows() != N) fail<StateError>("Gru::backward: no matching forward pass");
  if (dH.rows() != N || dH.cols() != H) {
    fail<InvalidArgument>("Gru::backward: dH is ", dH.rows(), " x ", dH.cols(), ", expected ", N, " x ", H);
  }
  dGi_.resize(N, G);
  dGh_.resize(N, G);
  dhCarry_.resize(B, H);
  dhCarry_.setZero();

  for (size_t t = T; t-- > 0;) {
    for (size_t b = 0; b < B; ++b) {
      const size_t row = t * B + b;
      const float* g = gates_.row(row);
      const float* ghn = ghn_.row(row);
      const float* hp = hPrev_.row(row);
      const float* dh = dH.row(row);
      float* carry = dhCarry_.row(b);
      float* dgi = dGi_.row(row);
      float* dgh = dGh_.row(row);
      for (size_t j = 0; j < H; ++j) {
        const float r = g[j], z = g[H + j], n = g[2 * H + j];
        const float d = dh[j] + carry[j];
        const float dn = d * (1.0f - z);
        const float dz = d * (hp[j] - n);
        const float dAn = dn * (1.0f - n * n);
        const float dr = dAn * ghn[j];
        const float dAr = dr * r * (1.0f - r);
        const float dAz = dz * z * (1.0f - z);
        dgi[j] = dAr;
        dgi[H + j] = dAz;
        dgi[2 * H + j] = dAn;
        dgh[j] = dAr;
        dgh[H + j] = dAz;
        dgh[2 * H + j] = dAn * r;
        carry[j] = d * z;  // the direct path h' = ... + z * h
      }
    }
    // Through the hidden products: dhPrev += dGh_t W_h.
    gemm(Op::kNone, Op::kNone, B, H, G, 1.0f, dGh_.row(t * B), G, wHidden.value.data(), H, 1.0f,
         dhCarry_.data(), H);
    if (!resets_.empty()) {
      for (size_t b = 0; b < B; ++b) {
        if (resets_[t * B + b]) std::memset(dhCarry_.row(b), 0, H * sizeof(float));
      }
    }
  }
  if (dh0 != nullptr) {
    dh0->resize(B, H);
    std::memcpy(dh0->data(), dhCarry_.data(), B * H * sizeof(float));
  }
  // Weight gradients of all steps at once.
  gemm(Op::kTranspose, Op::kNone, G, H, N, 1.0f, dGh_.data(), G, hPrev_.data(), H, 1.0f, wHidden.grad.data(), H);
  gemm(Op::kTranspose, Op::kNone, G, I, N, 1.0f, dGi_.data(), G, x_->data(), I, 1.0f, wInput.grad.data(), I);
  addColumnSums(dGh_, bHidden.grad.data());
  addColumnSums(dGi_, bInput.grad.data());
  if (dX != nullptr) {
    dX->resize(N, I);
    gemm(Op::kNone, Op::kNone, N, I, G, 1.0f, dGi_.data(), G, wInput.value.data(), I, 0.0f, dX->data(), I);
  }
}

void Gru::infer(const float* x, size_t B, const float* hPrev, float* hOut, GruScratch& s) const {
  const size_t I = inputSize(), H = hiddenSize(), G = 3 * H;
  s.gi.resize(B, G);
  s.gh.resize(B, G);
  broadcastRows(bInput.value.data(), B, G, s.gi.data());
  broadcastRows(bHidden.value.data(), B, G, s.gh.data());
  if (B == 1) {
    // Streaming inference: matrix-vector products, no GEMM packing.
    linalg::gemv(wInput.value.data(), G, I, I, x, s.gi.data(), 1.0f);
    linalg::gemv(wHidden.value.data(), G, H, H, hPrev, s.gh.data(), 1.0f);
  } else {
    gemm(Op::kNone, Op::kTranspose, B, G, I, 1.0f, x, I, wInput.value.data(), I, 1.0f, s.gi.data(), G);
    gemm(Op::kNone, Op::kTranspose, B, G, H, 1.0f, hPrev, H, wHidden.value.data(), H, 1.0f, s.gh.data(), G);
  }
  for (size_t b = 0; b < B; ++b) {
    const float* gi = s.gi.row(b);
    const float* gh = s.gh.row(b);
    for (size_t j = 0; j < H; ++j) {
      const float r = sigmoid(gi[j] + gh[j]);
      const float z = sigmoid(gi[H + j] + gh[H + j]);
      const float n = std::tanh(gi[2 * H + j] + r * gh[2 * H + j]);
      // hPrev may alias hOut: read before writing the same element.
      hOut[b * H + j] = (1.0f - z) * n + z * hPrev[b * H + j];
    }
  }
}

}  // namespace localrec::nn

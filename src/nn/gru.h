// A GRU layer over batched sequences, with exact backpropagation through time.
//
// Variant: the cuDNN / PyTorch form, where the reset gate multiplies the
// hidden projection after the matmul (so all hidden products of a step are one
// GEMM, and the input products of all steps are one GEMM):
//   r  = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)
//   z  = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
//   n  = tanh   (x W_in^T + b_in + r * (h W_hn^T + b_hn))
//   h' = (1 - z) * n + z * h
// Weights are stacked by gate in the order [r; z; n]: wInput is 3H x I,
// wHidden is 3H x H, biases 1 x 3H (the same layout as torch.nn.GRU).
//
// Sequences are time-major: step t of row b is row t*B + b of the input and
// output matrices, so each step is a contiguous B-row block.
#pragma once

#include <cstdint>
#include <span>

#include "core/rng.h"
#include "nn/parameter.h"

namespace localrec::nn {

// Scratch for Gru::infer (caller-owned, so inference stays const and thread-compatible).
struct GruScratch {
  Matrix gi;  // B x 3H
  Matrix gh;  // B x 3H
};

class Gru {
 public:
  Gru() = default;
  Gru(size_t inputSize, size_t hiddenSize);

  // Glorot-uniform per gate block of each weight matrix, zero biases.
  void init(Rng& rng);

  // Runs `steps` steps over B = x.rows() / steps rows. h0 is B x H, or null
  // for zeros. resetBefore is empty or holds steps*B flags: a nonzero flag at
  // (t, b) starts a new session in row b at step t (its state before the step
  // is zero, and no gradient flows to earlier steps). Writes h ((T*B) x H), the
  // state after every step, and keeps what backward needs.
  void forward(const Matrix& x, size_t steps, const float* h0, std::span<const uint8_t> resetBefore, Matrix& h);

  // The gradient of the last forward. dH ((T*B) x H) is d(loss)/d(h_t) from
  // outside the layer at every step (zeros where a step feeds nothing).
  // Accumulates the parameter gradients; writes dX ((T*B) x I) and dh0 (B x H)
  // when they are not null.
  void backward(const Matrix& dH, Matrix* dX, Matrix* dh0);

  // One step without keeping anything for backward: hOut (B x H) from x (B x I)
  // and hPrev (B x H; may alias hOut). The streaming-inference path.
  void infer(const float* x, size_t batch, const float* hPrev, float* hOut, GruScratch& scratch) const;

  size_t inputSize() const { return wInput.cols(); }
  size_t hiddenSize() const { return wHidden.cols(); }

  Parameter wInput;   // 3H x I
  Parameter wHidden;  // 3H x H
  Parameter bInput;   // 1 x 3H
  Parameter bHidden;  // 1 x 3H

 private:
  size_t steps_ = 0, batch_ = 0;
  const Matrix* x_ = nullptr;      // the input of the last forward (must outlive backward)
  std::vector<uint8_t> resets_;    // copy of resetBefore (empty: none)
  Matrix hPrev_;   // (T*B) x H: the state entering each step (after resets)
  Matrix gates_;   // (T*B) x 3H: r, z, n after their nonlinearities
  Matrix ghn_;     // (T*B) x H: h W_hn^T + b_hn
  Matrix gh_;      // B x 3H: one step's hidden products
  Matrix dGi_;     // (T*B) x 3H: gradient of the input pre-activations
  Matrix dGh_;     // (T*B) x 3H: gradient of the hidden pre-activations
  Matrix dhCarry_; // B x H: gradient flowing into the previous step's state
};

}  // namespace localrec::nn

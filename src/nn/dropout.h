// Inverted dropout: in training each element is kept with probability 1 - p
// and scaled by 1 / (1 - p), so inference is the identity (no rescaling).
#pragma once

#include "core/rng.h"
#include "nn/matrix.h"

namespace localrec::nn {

class Dropout {
 public:
  explicit Dropout(float p = 0.0f);  // p in [0, 1)

  // training: y = x * mask, mask drawn from rng (row-major order, one draw per
  // element, so a seed fixes the mask). Not training (or p == 0): y = x.
  // y may be x itself.
  void forward(const Matrix& x, Matrix& y, bool training, Rng& rng);
  // dX = dY * mask of the last training forward (identity otherwise); dX may be dY.
  void backward(const Matrix& dY, Matrix& dX) const;

  float rate() const { return p_; }

 private:
  float p_;
  bool active_ = false;  // whether the last forward applied a mask
  Matrix mask_;          // 0 or 1/(1-p)
};

}  // namespace localrec::nn

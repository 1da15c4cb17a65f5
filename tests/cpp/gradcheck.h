// The finite-difference gradient checker shared by nn_test.cc, conv_test.cc and
// mf_test.cc
// (docs/nn.md, "Gradient checks"): central differences (f(v+h) - f(v-h)) / 2h
// in float with h = 1e-2 on a double-accumulated scalar loss (usually a fixed
// random weighting of the layer outputs). The truncation error is
// O(h^2 f''') ~ 1e-5 and the rounding error about eps_float * |f| / h ~ 1e-5 at
// the test sizes, so each component must satisfy
// |numeric - analytic| <= 2e-3 + 1e-2 * |analytic|. A wrong term in a backward
// pass gives errors of order 1e-1.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "nn/matrix.h"
#include "nn/parameter.h"

namespace localrec::gradcheck {

constexpr double kStep = 1e-2;
constexpr double kAbsTol = 2e-3;
constexpr double kRelTol = 1e-2;

inline nn::Matrix randomMatrix(size_t rows, size_t cols, Rng& rng, float scale = 1.0f) {
  nn::Matrix m(rows, cols);
  nn::initUniform(m, -scale, scale, rng);
  return m;
}

// sum_i out_i * weights_i in double: the scalar whose gradient w.r.t. out is `weights`.
inline double weightedSum(const nn::Matrix& out, const nn::Matrix& weights) {
  REQUIRE(out.size() == weights.size());
  double s = 0.0;
  for (size_t i = 0; i < out.size(); ++i) s += static_cast<double>(out.data()[i]) * weights.data()[i];
  return s;
}

inline std::vector<float> copyOf(const nn::Matrix& m) { return {m.data(), m.data() + m.size()}; }

// d loss / d *value by central differences with step kStep; *value is restored.
inline double centralDifference(float* value, const std::function<double()>& loss) {
  const float saved = *value;
  *value = static_cast<float>(saved + kStep);
  const double up = loss();
  *value = static_cast<float>(saved - kStep);
  const double down = loss();
  *value = saved;
  return (up - down) / (2.0 * kStep);
}

// For a hand-written SGD step: the central-difference gradient of loss() in
// every *params[k], and the values before the step.
struct StepReference {
  std::vector<double> gradient, before;
};
inline StepReference stepReference(const std::vector<float*>& params, const std::function<double()>& loss) {
  StepReference ref;
  for (float* x : params) {
    ref.gradient.push_back(centralDifference(x, loss));
    ref.before.push_back(*x);
  }
  return ref;
}

// REQUIREs that a step taken with learning rate 1 moved every parameter by
// minus its gradient (within `margin`); returns how many had a nonzero gradient,
// so the caller can check that exactly the expected parameters take part.
inline size_t requireStepIsMinusGradient(const std::vector<float*>& params, const StepReference& ref,
                                         double margin) {
  size_t touched = 0;
  for (size_t k = 0; k < params.size(); ++k) {
    INFO("parameter " << k);
    REQUIRE(*params[k] - ref.before[k] == Approx(-ref.gradient[k]).margin(margin));
    touched += ref.gradient[k] != 0.0 ? 1 : 0;
  }
  return touched;
}

// The largest |numeric - analytic| / (abs + rel |analytic|) over the components
// (<= 1 passes), with central differences of loss() in values[k].
inline double gradientError(float* values, size_t n, const std::vector<float>& analytic,
                            const std::function<double()>& loss, size_t* worstAt = nullptr) {
  REQUIRE(analytic.size() == n);
  double worst = 0.0;
  for (size_t k = 0; k < n; ++k) {
    const double numeric = centralDifference(&values[k], loss);
    const double ratio = std::fabs(numeric - analytic[k]) / (kAbsTol + kRelTol * std::fabs(analytic[k]));
    if (ratio > worst) {
      worst = ratio;
      if (worstAt != nullptr) *worstAt = k;
    }
  }
  return worst;
}

// CHECKs that every component of `analytic` matches the central difference of loss() in values[k].
inline void checkGradient(const std::string& what, float* values, size_t n, const std::vector<float>& analytic,
                          const std::function<double()>& loss) {
  size_t at = 0;
  const double worst = gradientError(values, n, analytic, loss, &at);
  INFO(what << ": worst error / tolerance " << worst << " at component " << at << " (analytic "
            << (n > 0 ? analytic[at] : 0.0f) << ")");
  CHECK(worst <= 1.0);
}

// The same for a parameter's dense gradient (p.grad) ...
inline void checkGradient(const std::string& what, nn::Parameter& p, const std::function<double()>& loss) {
  checkGradient(what, p.value.data(), p.value.size(), copyOf(p.grad), loss);
}
// ... and for the gradient dX of an input x.
inline void checkGradient(const std::string& what, nn::Matrix& x, const nn::Matrix& dX,
                          const std::function<double()>& loss) {
  checkGradient(what, x.data(), x.size(), copyOf(dX), loss);
}

}  // namespace localrec::gradcheck

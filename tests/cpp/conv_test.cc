// Convolution and pooling over time (src/nn/conv1d.h): hand-computed forwards,
// finite-difference gradient checks of every layer w.r.t. inputs and
// parameters, zero-padding of sequences shorter than the kernel, and a check
// that the gradient checker rejects a deliberately wrong gradient.
//
// Gradient checks with gradcheck.h, as in nn_test.cc (docs/nn.md).
// Max-pooling and ReLU are piecewise linear: their inputs are kept at least
// 0.1 (> 2h) away from ties and from zero so no difference crosses a kink.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "nn/conv1d.h"
#include "nn/parameter.h"

#include "gradcheck.h"

namespace {

using localrec::Rng;
namespace nn = localrec::nn;
using nn::Matrix;

using namespace localrec::gradcheck;

Matrix fromRows(size_t rows, size_t cols, std::vector<float> values) {
  Matrix m(rows, cols);
  REQUIRE(values.size() == m.size());
  std::copy(values.begin(), values.end(), m.data());
  return m;
}

// Reference convolution in double, zero past the end of each sequence.
std::vector<double> referenceConv(const Matrix& x, size_t steps, const nn::Conv1d& conv) {
  const size_t C = conv.inChannels(), F = conv.outChannels(), w = conv.width();
  const size_t B = x.rows() / steps, To = nn::Conv1d::outputSteps(steps, w);
  std::vector<double> y(B * To * F);
  for (size_t b = 0; b < B; ++b)
    for (size_t t = 0; t < To; ++t)
      for (size_t f = 0; f < F; ++f) {
        double s = conv.bias.value(f, 0);
        for (size_t k = 0; k < w && t + k < steps; ++k)
          for (size_t c = 0; c < C; ++c) s += double(conv.weight.value(f, k * C + c)) * x(b * steps + t + k, c);
        y[(b * To + t) * F + f] = s;
      }
  return y;
}

// Forward + backward of a Conv1d under the loss sum(y * weights), then the
// finite-difference checks of dX, dW and db.
void checkConv(size_t B, size_t T, size_t C, size_t F, size_t w, uint64_t seed) {
  INFO("B " << B << " T " << T << " C " << C << " F " << F << " w " << w);
  Rng rng(seed);
  nn::Conv1d conv(C, F, w);
  conv.init(rng);
  nn::initUniform(conv.bias.value, -1, 1, rng);
  Matrix x = randomMatrix(B * T, C, rng);
  const size_t To = nn::Conv1d::outputSteps(T, w);
  Matrix weights = randomMatrix(B * To, F, rng);
  Matrix y;
  conv.forward(x, T, y);
  REQUIRE(y.rows() == B * To);
  REQUIRE(y.cols() == F);
  const auto ref = referenceConv(x, T, conv);
  for (size_t i = 0; i < y.size(); ++i) REQUIRE(y.data()[i] == Approx(ref[i]).margin(1e-5));
  Matrix fromInfer, scratch;
  conv.infer(x, T, fromInfer, scratch);
  REQUIRE(copyOf(fromInfer) == copyOf(y));

  conv.weight.zeroGrad();
  conv.bias.zeroGrad();
  Matrix dX;
  conv.backward(weights, &dX);
  REQUIRE(dX.rows() == B * T);
  REQUIRE(dX.cols() == C);
  auto loss = [&] {
    Matrix out, cols;
    conv.infer(x, T, out, cols);
    return weightedSum(out, weights);
  };
  checkGradient("conv dX", x, dX, loss);
  checkGradient("conv dW", conv.weight, loss);
  checkGradient("conv db", conv.bias, loss);
}

// Distinct values at least 0.1 apart within each (sequence, channel) column,
// at least 0.1 away from zero: no central difference crosses a max or ReLU kink.
Matrix separatedMatrix(size_t rows, size_t cols, Rng& rng) {
  Matrix m(rows, cols);
  std::vector<float> levels;
  for (int k = 0; k < static_cast<int>(rows); ++k) levels.push_back(-1.05f + 0.3f * k);
  for (size_t c = 0; c < cols; ++c) {
    rng.shuffle(levels.begin(), levels.end());
    for (size_t r = 0; r < rows; ++r) m(r, c) = levels[r] + 0.05f * static_cast<float>(rng.uniform());
  }
  return m;
}

}  // namespace

TEST_CASE("conv: Conv1d forward matches a hand-computed example", "[nn]") {
  // One sequence of 3 steps, 2 channels; two filters of width 2.
  // Filter 0 reads channel 0 of the first tap and channel 1 of the second;
  // filter 1 is 2 * (sum of the window's channel 0) - 1.
  nn::Conv1d conv(2, 2, 2);
  REQUIRE(conv.weight.rows() == 2);
  REQUIRE(conv.weight.cols() == 4);
  const Matrix w = fromRows(2, 4, {1, 0, 0, 1, 2, 0, 2, 0});
  std::copy_n(w.data(), w.size(), conv.weight.value.data());
  conv.bias.value(0, 0) = 0.5f;
  conv.bias.value(1, 0) = -1.0f;
  const Matrix x = fromRows(3, 2, {1, 2, 3, 4, 5, 6});
  Matrix y;
  conv.forward(x, 3, y);
  REQUIRE(y.rows() == 2);
  REQUIRE(y.cols() == 2);
  CHECK(y(0, 0) == 1 + 4 + 0.5f);
  CHECK(y(1, 0) == 3 + 6 + 0.5f);
  CHECK(y(0, 1) == 2 * (1 + 3) - 1.0f);
  CHECK(y(1, 1) == 2 * (3 + 5) - 1.0f);

  // Backward by hand for dY = ones: dW[f] = sum over windows of the window,
  // db = number of windows, dX[t] = sum of the filter taps covering step t.
  conv.weight.zeroGrad();
  conv.bias.zeroGrad();
  Matrix dY(2, 2), dX;
  dY.fill(1.0f);
  conv.backward(dY, &dX);
  const std::vector<float> windowSum = {1 + 3, 2 + 4, 3 + 5, 4 + 6};
  for (size_t f = 0; f < 2; ++f) {
    for (size_t k = 0; k < 4; ++k) CHECK(conv.weight.grad(f, k) == windowSum[k]);
    CHECK(conv.bias.grad(f, 0) == 2.0f);
  }
  // Step 0 is only tap 0 of window 0; step 1 is tap 1 of window 0 and tap 0 of window 1; step 2 tap 1 of window 1.
  const Matrix expected = fromRows(3, 2, {1 + 2, 0 + 0, (0 + 2) + (1 + 2), (1 + 0) + (0 + 0), 0 + 2, 1 + 0});
  CHECK(copyOf(dX) == copyOf(expected));
}

TEST_CASE("conv: Conv1d gradients (inputs, weights, bias) match finite differences", "[nn]") {
  checkConv(2, 5, 3, 4, 2, 11);
  checkConv(3, 4, 2, 3, 3, 12);
  checkConv(2, 3, 4, 2, 1, 13);  // width 1: a Dense applied at every step
  checkConv(1, 4, 3, 5, 4, 14);  // width = T: one window
}

TEST_CASE("conv: sequences shorter than the kernel are zero-padded at the end to one window", "[nn]") {
  REQUIRE(nn::Conv1d::outputSteps(2, 4) == 1);
  REQUIRE(nn::Conv1d::outputSteps(1, 3) == 1);
  REQUIRE(nn::Conv1d::outputSteps(4, 4) == 1);
  REQUIRE(nn::Conv1d::outputSteps(6, 4) == 3);
  // The padded forward equals the forward on an explicitly zero-padded input.
  Rng rng(21);
  nn::Conv1d conv(3, 2, 4);
  conv.init(rng);
  nn::initUniform(conv.bias.value, -1, 1, rng);
  const Matrix x = randomMatrix(2 * 2, 3, rng);  // B = 2, T = 2 < w = 4
  Matrix padded(2 * 4, 3);
  for (size_t b = 0; b < 2; ++b)
    for (size_t t = 0; t < 2; ++t) std::copy_n(x.row(b * 2 + t), 3, padded.row(b * 4 + t));
  Matrix y, yPadded;
  conv.forward(padded, 4, yPadded);
  conv.forward(x, 2, y);
  REQUIRE(y.rows() == 2);
  for (size_t i = 0; i < y.size(); ++i) CHECK(y.data()[i] == Approx(yPadded.data()[i]).margin(1e-6));
  // Gradients flow only to the real steps, and match finite differences.
  checkConv(2, 2, 3, 2, 4, 22);
  checkConv(3, 1, 2, 3, 3, 23);
}

TEST_CASE("conv: bad shapes are refused with clear errors", "[nn]") {
  REQUIRE_THROWS_AS(nn::Conv1d(0, 2, 2), localrec::InvalidArgument);
  REQUIRE_THROWS_AS(nn::Conv1d(2, 2, 0), localrec::InvalidArgument);
  nn::Conv1d conv(2, 3, 2);
  Matrix x(6, 2), y;
  REQUIRE_THROWS_WITH(conv.forward(x, 0, y), Catch::Contains("steps must be at least 1"));
  REQUIRE_THROWS_WITH(conv.forward(x, 4, y), Catch::Contains("not a multiple of steps"));
  REQUIRE_THROWS_WITH(conv.forward(Matrix(6, 3), 3, y), Catch::Contains("channels"));
  conv.forward(x, 3, y);
  REQUIRE_THROWS_WITH(conv.backward(Matrix(3, 3), nullptr), Catch::Contains("the last forward gave 4 x 3"));
  REQUIRE_THROWS_AS(nn::VerticalConv(0, 2), localrec::InvalidArgument);
  nn::VerticalConv vertical(3, 2);
  REQUIRE_THROWS_WITH(vertical.forward(Matrix(4, 2), y), Catch::Contains("not a multiple of steps = 3"));
}

TEST_CASE("conv: max-pool over time keeps the argmax, breaks ties early, routes the gradient", "[nn]") {
  // Two sequences of 3 steps, 2 channels.
  const Matrix x = fromRows(6, 2, {1, 5,  //
                                   4, 5,  //
                                   2, -1,  // sequence 0
                                   -3, 0,  //
                                   -2, 7,  //
                                   -9, 7});
  Matrix y;
  std::vector<int32_t> arg;
  nn::maxPoolTime(x, 3, y, &arg);
  CHECK(copyOf(y) == std::vector<float>{4, 5, -2, 7});
  CHECK(arg == std::vector<int32_t>{1, 0, 1, 1});  // ties (5, 5) and (7, 7) go to the earlier step
  Matrix dY = fromRows(2, 2, {10, 20, 30, 40}), dX;
  nn::maxPoolTimeBackward(dY, 3, arg, dX);
  CHECK(copyOf(dX) == std::vector<float>{0, 20, 10, 0, 0, 0, 0, 0, 30, 40, 0, 0});
  // A NaN is never the maximum of a column holding numbers.
  Matrix withNan = fromRows(2, 1, {std::numeric_limits<float>::quiet_NaN(), -1});
  nn::maxPoolTime(withNan, 2, y, &arg);
  CHECK(y(0, 0) == -1);
  CHECK(arg[0] == 1);

  Rng rng(31);
  const Matrix xs = separatedMatrix(3 * 4, 5, rng);  // B = 3, T = 4, C = 5
  Matrix weights = randomMatrix(3, 5, rng);
  nn::MaxPoolTime pool;
  Matrix pooled, dPool;
  pool.forward(xs, 4, pooled);
  pool.backward(weights, dPool);
  Matrix probe = xs;
  auto loss = [&] {
    Matrix out;
    nn::maxPoolTime(probe, 4, out, nullptr);
    return weightedSum(out, weights);
  };
  checkGradient("max-pool dX", probe, dPool, loss);
}

TEST_CASE("conv: ReLU forward, backward from the output, finite differences", "[nn]") {
  const Matrix x = fromRows(1, 4, {-1, 0, 2, 0.5f});
  Matrix y, dX;
  nn::reluForward(x, y);
  CHECK(copyOf(y) == std::vector<float>{0, 0, 2, 0.5f});
  nn::reluBackward(y, fromRows(1, 4, {1, 2, 3, 4}), dX);
  CHECK(copyOf(dX) == std::vector<float>{0, 0, 3, 4});

  Rng rng(41);
  Matrix xs = separatedMatrix(6, 3, rng);
  Matrix weights = randomMatrix(6, 3, rng);
  nn::reluForward(xs, y);
  nn::reluBackward(y, weights, dX);
  auto loss = [&] {
    Matrix out;
    nn::reluForward(xs, out);
    return weightedSum(out, weights);
  };
  checkGradient("relu dX", xs, dX, loss);
}

TEST_CASE("conv: vertical convolution is a weighted sum of the rows: hand example and gradients", "[nn]") {
  // One sequence of 2 steps, 3 channels; filter 0 = row 0 + 2 row 1, filter 1 = -row 1.
  nn::VerticalConv vertical(2, 2);
  const Matrix w = fromRows(2, 2, {1, 2, 0, -1});
  std::copy_n(w.data(), w.size(), vertical.weight.value.data());
  const Matrix x = fromRows(2, 3, {1, 2, 3, 10, 20, 30});
  Matrix y;
  vertical.forward(x, y);
  REQUIRE(y.rows() == 1);
  REQUIRE(y.cols() == 6);
  CHECK(copyOf(y) == std::vector<float>{21, 42, 63, -10, -20, -30});

  Rng rng(51);
  const size_t B = 3, T = 4, C = 5, F = 3;
  nn::VerticalConv layer(T, F);
  layer.init(rng);
  Matrix xs = randomMatrix(B * T, C, rng);
  Matrix weights = randomMatrix(B, F * C, rng);
  layer.forward(xs, y);
  for (size_t b = 0; b < B; ++b)
    for (size_t f = 0; f < F; ++f)
      for (size_t c = 0; c < C; ++c) {
        double ref = 0;
        for (size_t t = 0; t < T; ++t) ref += double(layer.weight.value(f, t)) * xs(b * T + t, c);
        REQUIRE(y(b, f * C + c) == Approx(ref).margin(1e-5));
      }
  Matrix fromInfer, scratch;
  layer.infer(xs, fromInfer, scratch);
  REQUIRE(copyOf(fromInfer) == copyOf(y));
  layer.weight.zeroGrad();
  Matrix dX;
  layer.backward(weights, &dX);
  auto loss = [&] {
    Matrix out, s;
    layer.infer(xs, out, s);
    return weightedSum(out, weights);
  };
  checkGradient("vertical dX", xs, dX, loss);
  checkGradient("vertical dW", layer.weight, loss);
}

TEST_CASE("conv: Conv1d -> max-pool -> ReLU chained: gradients of input and weights", "[nn]") {
  // The horizontal branch of Caser; pooling before the ReLU equals ReLU before pooling.
  Rng rng(61);
  const size_t B = 2, T = 5, C = 3, F = 4, w = 2;
  nn::Conv1d conv(C, F, w);
  conv.init(rng);
  nn::initUniform(conv.bias.value, -0.5f, 0.5f, rng);
  Matrix x = randomMatrix(B * T, C, rng);
  Matrix weights = randomMatrix(B, F, rng);
  nn::MaxPoolTime pool;
  Matrix convOut, pooled, dPooled, dConv, dX;
  auto forward = [&](Matrix& out) {
    Matrix c, cols, p;
    conv.infer(x, T, c, cols);
    nn::maxPoolTime(c, nn::Conv1d::outputSteps(T, w), p, nullptr);
    nn::reluForward(p, out);
  };
  conv.forward(x, T, convOut);
  pool.forward(convOut, nn::Conv1d::outputSteps(T, w), pooled);
  nn::reluForward(pooled, pooled);
  {
    // Relu-then-pool gives the same output.
    Matrix r, p2;
    nn::reluForward(convOut, r);
    nn::maxPoolTime(r, nn::Conv1d::outputSteps(T, w), p2, nullptr);
    REQUIRE(copyOf(p2) == copyOf(pooled));
  }
  conv.weight.zeroGrad();
  conv.bias.zeroGrad();
  nn::reluBackward(pooled, weights, dPooled);
  pool.backward(dPooled, dConv);
  conv.backward(dConv, &dX);
  auto loss = [&] {
    Matrix out;
    forward(out);
    return weightedSum(out, weights);
  };
  checkGradient("chain dX", x, dX, loss);
  checkGradient("chain dW", conv.weight, loss);
  checkGradient("chain db", conv.bias, loss);
}

TEST_CASE("conv: the gradient checker rejects a deliberately wrong gradient", "[nn]") {
  // The classic convolution bug: taps reversed (true convolution instead of
  // the cross-correlation the forward computes), and a dX without the overlap
  // of neighbouring windows. Both must fail by a wide margin.
  Rng rng(71);
  const size_t B = 2, T = 5, C = 3, F = 2, w = 3;
  nn::Conv1d conv(C, F, w);
  conv.init(rng);
  Matrix x = randomMatrix(B * T, C, rng);
  Matrix weights = randomMatrix(B * nn::Conv1d::outputSteps(T, w), F, rng);
  Matrix y, dX;
  conv.forward(x, T, y);
  conv.weight.zeroGrad();
  conv.bias.zeroGrad();
  conv.backward(weights, &dX);
  auto loss = [&] {
    Matrix out, cols;
    conv.infer(x, T, out, cols);
    return weightedSum(out, weights);
  };
  const std::vector<float> right = copyOf(conv.weight.grad);
  CHECK(gradientError(conv.weight.value.data(), right.size(), right, loss) <= 1.0);
  std::vector<float> reversed(right.size());
  for (size_t f = 0; f < F; ++f)
    for (size_t k = 0; k < w; ++k)
      for (size_t c = 0; c < C; ++c) reversed[f * w * C + k * C + c] = right[f * w * C + (w - 1 - k) * C + c];
  const double reversedError = gradientError(conv.weight.value.data(), reversed.size(), reversed, loss);
  INFO("reversed taps: worst error / tolerance " << reversedError);
  CHECK(reversedError > 10.0);

  // dX from the first window of each sequence only (no overlap sums).
  std::vector<float> firstWindow(dX.size(), 0.0f);
  for (size_t b = 0; b < B; ++b)
    for (size_t k = 0; k < w; ++k)
      for (size_t c = 0; c < C; ++c) {
        double g = 0;
        for (size_t f = 0; f < F; ++f)
          g += double(weights(b * (T - w + 1), f)) * conv.weight.value(f, k * C + c);
        firstWindow[(b * T + k) * C + c] = static_cast<float>(g);
      }
  const double overlapError = gradientError(x.data(), x.size(), firstWindow, loss);
  INFO("no overlap: worst error / tolerance " << overlapError);
  CHECK(overlapError > 10.0);
  // And a single perturbed component is caught too.
  std::vector<float> nudged = copyOf(dX);
  nudged[4] += 0.05f;
  CHECK(gradientError(x.data(), x.size(), nudged, loss) > 1.0);
}

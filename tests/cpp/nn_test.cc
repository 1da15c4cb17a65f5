// The neural engine (src/nn): finite-difference gradient checks of every
// layer and loss, optimizer steps against hand-computed values, sampler
// distributions, determinism, and a tiny sequence task the GRU must learn.
//
// Gradient checks: gradcheck.h (central differences; tolerances in docs/nn.md).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/options.h"
#include "core/progress.h"
#include "core/rng.h"
#include "nn/dense.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/finite.h"
#include "nn/gru.h"
#include "nn/loss.h"
#include "nn/optimizer.h"
#include "nn/parameter.h"
#include "nn/sampler.h"
#include "nn/training.h"

#include "gradcheck.h"
#include "gru_next_item.h"

namespace {

using localrec::Index;
using localrec::Rng;
namespace nn = localrec::nn;
using nn::Matrix;

using namespace localrec::gradcheck;

// A sparse-row gradient scattered into a dense table-shaped vector.
std::vector<float> densify(const nn::SparseRows& g, size_t rows) {
  std::vector<float> out(rows * g.cols(), 0.0f);
  for (size_t s = 0; s < g.size(); ++s) {
    std::copy_n(g.row(s), g.cols(), out.begin() + static_cast<long>(static_cast<size_t>(g.ids()[s]) * g.cols()));
  }
  return out;
}

}  // namespace

TEST_CASE("nn: Dense forward matches x W^T + b and its gradients match finite differences", "[nn]") {
  Rng rng(1);
  nn::Dense layer(4, 3);
  layer.init(rng);
  nn::initUniform(layer.bias.value, -1, 1, rng);
  Matrix x = randomMatrix(5, 4, rng);
  Matrix w = randomMatrix(5, 3, rng);  // loss weights
  Matrix y;
  layer.forward(x, y);
  for (size_t i = 0; i < 5; ++i) {
    for (size_t o = 0; o < 3; ++o) {
      double ref = layer.bias.value(o, 0);
      for (size_t k = 0; k < 4; ++k) ref += double(x(i, k)) * layer.weight.value(o, k);
      CHECK(y(i, o) == Approx(ref).margin(1e-5));
    }
  }
  layer.weight.zeroGrad();
  layer.bias.zeroGrad();
  Matrix dX;
  layer.backward(x, w, &dX);
  auto loss = [&] {
    Matrix out;
    layer.forward(x, out);
    return weightedSum(out, w);
  };
  checkGradient("dense dX", x, dX, loss);
  checkGradient("dense dW", layer.weight, loss);
  checkGradient("dense db", layer.bias, loss);
}

TEST_CASE("nn: Dense candidate rows (repeated ids) give sparse gradients that match finite differences", "[nn]") {
  Rng rng(2);
  nn::Dense layer(3, 6, true, nn::GradKind::kSparseRows);
  layer.init(rng);
  nn::initUniform(layer.bias.value, -1, 1, rng);
  const std::vector<Index> ids = {4, 1, 4, 0};
  Matrix x = randomMatrix(3, 3, rng);
  Matrix w = randomMatrix(3, ids.size(), rng);
  Matrix y;
  layer.forwardRows(x, ids, y);
  for (size_t i = 0; i < 3; ++i) {
    for (size_t j = 0; j < ids.size(); ++j) {
      double ref = layer.bias.value(ids[j], 0);
      for (size_t k = 0; k < 3; ++k) ref += double(x(i, k)) * layer.weight.value(ids[j], k);
      CHECK(y(i, j) == Approx(ref).margin(1e-5));
    }
  }
  nn::SparseRows dW, db;
  dW.reset(6, 3);
  db.reset(6, 1);
  Matrix dX;
  layer.backwardRows(x, ids, w, &dX, dW, db);
  CHECK(dW.size() == 3);  // rows 4, 1, 0: the repeat is summed into one row
  auto loss = [&] {
    Matrix out;
    layer.forwardRows(x, ids, out);
    return weightedSum(out, w);
  };
  checkGradient("rows dX", x, dX, loss);
  checkGradient("rows dW", layer.weight.value.data(), layer.weight.value.size(), densify(dW, 6), loss);
  checkGradient("rows db", layer.bias.value.data(), layer.bias.value.size(), densify(db, 6), loss);
}

TEST_CASE("nn: Embedding gathers rows and sums the gradients of repeated ids", "[nn]") {
  Rng rng(3);
  nn::Embedding emb(5, 3);
  emb.init(rng, 0.5f);
  const std::vector<Index> ids = {2, 0, 2, 2, 4};
  Matrix out;
  emb.forward(ids, out);
  for (size_t i = 0; i < ids.size(); ++i) {
    for (size_t k = 0; k < 3; ++k) CHECK(out(i, k) == emb.table.value(ids[i], k));
  }
  Matrix w = randomMatrix(ids.size(), 3, rng);
  nn::SparseRows g;
  g.reset(5, 3, 8);
  emb.backward(ids, w, g);
  REQUIRE(g.size() == 3);
  CHECK(g.ids()[0] == 2);
  CHECK(g.row(0)[1] == Approx(double(w(0, 1)) + w(2, 1) + w(3, 1)));
  auto loss = [&] {
    Matrix o;
    emb.forward(ids, o);
    return weightedSum(o, w);
  };
  checkGradient("embedding", emb.table.value.data(), emb.table.value.size(), densify(g, 5), loss);
  g.clear();
  CHECK(g.size() == 0);
  CHECK(*g.rowFor(2) == 0.0f);  // a cleared row starts from zero again
  const std::vector<Index> bad = {5};
  CHECK_THROWS_AS(emb.forward(bad, out), localrec::InvalidArgument);
}

TEST_CASE("nn: GRU over a sequence with resets: gradients of inputs, state and every weight", "[nn]") {
  Rng rng(4);
  const size_t I = 3, H = 4, T = 3, B = 2;
  nn::Gru gru(I, H);
  gru.init(rng);
  nn::initUniform(gru.bInput.value, -0.5f, 0.5f, rng);
  nn::initUniform(gru.bHidden.value, -0.5f, 0.5f, rng);
  Matrix x = randomMatrix(T * B, I, rng);
  Matrix h0 = randomMatrix(B, H, rng, 0.8f);
  Matrix w = randomMatrix(T * B, H, rng);
  // Row 1 starts a new session at step 2: no gradient may reach its h0 through steps 0-1 after that.
  std::vector<uint8_t> resets(T * B, 0);
  resets[2 * B + 1] = 1;
  Matrix h;
  gru.forward(x, T, h0.data(), resets, h);

  // Step 0 against the equations written out by hand.
  {
    const size_t b = 0;
    std::vector<double> gi(3 * H), gh(3 * H);
    for (size_t g = 0; g < 3 * H; ++g) {
      gi[g] = gru.bInput.value(0, g);
      gh[g] = gru.bHidden.value(0, g);
      for (size_t k = 0; k < I; ++k) gi[g] += double(x(b, k)) * gru.wInput.value(g, k);
      for (size_t k = 0; k < H; ++k) gh[g] += double(h0(b, k)) * gru.wHidden.value(g, k);
    }
    for (size_t j = 0; j < H; ++j) {
      const double r = 1 / (1 + std::exp(-(gi[j] + gh[j])));
      const double z = 1 / (1 + std::exp(-(gi[H + j] + gh[H + j])));
      const double n = std::tanh(gi[2 * H + j] + r * gh[2 * H + j]);
      CHECK(h(b, j) == Approx((1 - z) * n + z * h0(b, j)).margin(1e-5));
    }
  }
  for (nn::Parameter* p : {&gru.wInput, &gru.wHidden, &gru.bInput, &gru.bHidden}) p->zeroGrad();
  Matrix dX, dh0;
  gru.backward(w, &dX, &dh0);
  auto loss = [&] {
    Matrix out;
    gru.forward(x, T, h0.data(), resets, out);
    return weightedSum(out, w);
  };
  checkGradient("gru dX", x, dX, loss);
  checkGradient("gru dh0", h0, dh0, loss);
  checkGradient("gru dWi", gru.wInput, loss);
  checkGradient("gru dWh", gru.wHidden, loss);
  checkGradient("gru dbi", gru.bInput, loss);
  checkGradient("gru dbh", gru.bHidden, loss);

  // infer() is the same step as forward() (streaming path), also in place.
  Matrix state = h0;
  nn::GruScratch scratch;
  for (size_t t = 0; t < T; ++t) {
    if (t == 2) std::fill_n(state.row(1), H, 0.0f);  // the reset of row 1
    gru.infer(x.row(t * B), B, state.data(), state.data(), scratch);
    for (size_t k = 0; k < B * H; ++k) CHECK(state.data()[k] == Approx(h.row(t * B)[k]).margin(1e-6));
  }
}

TEST_CASE("nn: Dropout is seeded, scales kept elements by 1/(1-p), is the identity at inference", "[nn]") {
  Rng rng(5);
  Matrix x = randomMatrix(20, 10, rng);
  nn::Dropout drop(0.25f);
  Matrix y;
  Rng a(9);
  drop.forward(x, y, true, a);
  size_t dropped = 0;
  for (size_t k = 0; k < x.size(); ++k) {
    if (y.data()[k] == 0.0f) ++dropped;
    else CHECK(y.data()[k] == Approx(x.data()[k] / 0.75f));
  }
  CHECK(dropped > 25);
  CHECK(dropped < 75);  // 200 * 0.25 = 50 expected
  Matrix y2;
  Rng b(9);
  drop.forward(x, y2, true, b);
  CHECK(std::equal(y.data(), y.data() + y.size(), y2.data()));
  Matrix w = randomMatrix(20, 10, rng);
  Matrix dX;
  drop.backward(w, dX);
  auto loss = [&] {
    Rng r(9);  // the same mask every time
    Matrix out;
    drop.forward(x, out, true, r);
    return weightedSum(out, w);
  };
  checkGradient("dropout dX", x, dX, loss);
  drop.forward(x, y, false, a);
  CHECK(std::equal(x.data(), x.data() + x.size(), y.data()));
  CHECK_THROWS_AS(nn::Dropout(1.0f), localrec::InvalidArgument);
}

namespace {

// Scores whose rows contain the row's own target as a negative (column 3 has
// the id of row 0's target, columns 0 and 2 are both item 7).
struct LossFixture {
  Matrix scores;
  std::vector<int32_t> targetCol = {0, 1, 2};
  std::vector<Index> ids = {7, 3, 7, 7, 9, 1};
  LossFixture() {
    Rng rng(6);
    scores = randomMatrix(3, 6, rng, 2.0f);
    scores(1, 4) = 30.0f;  // a large score: log-sum-exp must keep this finite
  }
};

void checkLoss(const std::string& what, Matrix& scores,
               const std::function<float(const Matrix&, Matrix&)>& lossFn) {
  Matrix d;
  const float value = lossFn(scores, d);
  CHECK(std::isfinite(value));
  auto loss = [&] {
    Matrix tmp;
    return double(lossFn(scores, tmp));
  };
  checkGradient(what, scores, d, loss);
}

}  // namespace

TEST_CASE("nn: softmax cross-entropy: known value, masking, gradient", "[nn]") {
  // Two columns with scores 0 and log 3: loss of target 0 = log(1 + 3) = log 4.
  Matrix s(1, 2);
  s(0, 1) = std::log(3.0f);
  Matrix d;
  std::vector<int32_t> t0 = {0};
  CHECK(nn::softmaxCrossEntropy(s, {t0, {}}, d) == Approx(std::log(4.0)));
  CHECK(d(0, 0) == Approx(0.25 - 1));
  CHECK(d(0, 1) == Approx(0.75));
  // Masked: column 1 is the same item as the target, so the loss is 0.
  std::vector<Index> same = {5, 5};
  CHECK(nn::softmaxCrossEntropy(s, {t0, same}, d) == Approx(0.0).margin(1e-7));
  CHECK(d(0, 1) == 0.0f);

  LossFixture f;
  checkLoss("softmax masked", f.scores, [&](const Matrix& sc, Matrix& g) {
    return nn::softmaxCrossEntropy(sc, {f.targetCol, f.ids}, g);
  });
  checkLoss("softmax full", f.scores, [&](const Matrix& sc, Matrix& g) {
    return nn::softmaxCrossEntropy(sc, {f.targetCol, {}}, g);
  });
  std::vector<int32_t> bad = {0, 1, 6};
  CHECK_THROWS_AS(nn::softmaxCrossEntropy(f.scores, {bad, {}}, d), localrec::InvalidArgument);
}

TEST_CASE("nn: BPR-max: known value, score regularization, gradient", "[nn]") {
  // One negative: weights are 1, loss = -log sigmoid(st - s1) + lambda * s1^2.
  Matrix s(1, 2);
  s(0, 0) = 1.0f;
  s(0, 1) = 0.5f;
  std::vector<int32_t> t0 = {0};
  Matrix d;
  CHECK(nn::bprMax(s, {t0, {}}, 0.5f, d) == Approx(-std::log(1 / (1 + std::exp(-0.5))) + 0.5 * 0.25));
  // Two equal negatives: same value (the softmax weights split evenly).
  Matrix s3(1, 3);
  s3(0, 0) = 1.0f;
  s3(0, 1) = 0.5f;
  s3(0, 2) = 0.5f;
  CHECK(nn::bprMax(s3, {t0, {}}, 0.5f, d) == Approx(-std::log(1 / (1 + std::exp(-0.5))) + 0.5 * 0.25));
  LossFixture f;
  for (float lambda : {0.0f, 1.0f}) {
    checkLoss("bpr-max lambda " + std::to_string(lambda), f.scores, [&](const Matrix& sc, Matrix& g) {
      return nn::bprMax(sc, {f.targetCol, f.ids}, lambda, g);
    });
  }
}

TEST_CASE("nn: binary cross-entropy (sampled and element-wise): known value, gradient", "[nn]") {
  Matrix s(1, 2);  // target logit 0, negative logit 0: 2 log 2
  std::vector<int32_t> t0 = {0};
  Matrix d;
  CHECK(nn::sampledBinaryCrossEntropy(s, {t0, {}}, d) == Approx(2 * std::log(2.0)));
  LossFixture f;
  checkLoss("sampled bce", f.scores, [&](const Matrix& sc, Matrix& g) {
    return nn::sampledBinaryCrossEntropy(sc, {f.targetCol, f.ids}, g);
  });
  Rng rng(7);
  Matrix labels = randomMatrix(3, 6, rng, 0.5f);
  for (size_t k = 0; k < labels.size(); ++k) labels.data()[k] += 0.5f;
  checkLoss("bce", f.scores, [&](const Matrix& sc, Matrix& g) { return nn::binaryCrossEntropy(sc, labels, g); });
  // Extreme logits stay finite.
  Matrix big(1, 2);
  big(0, 0) = -200.0f;
  big(0, 1) = 200.0f;
  Matrix y(1, 2);
  y(0, 0) = 1.0f;
  CHECK(nn::binaryCrossEntropy(big, y, d) == Approx(200.0));
}

TEST_CASE("nn: optimizer steps match hand-computed values", "[nn]") {
  auto scalarParam = [] {
    nn::Parameter p("w", 1, 1);
    p.value(0, 0) = 1.0f;
    return p;
  };
  SECTION("SGD with momentum") {
    auto opt = nn::makeOptimizer({nn::OptimizerKind::kSgd, 0.1f, 0.9f});
    nn::Parameter p = scalarParam();
    p.grad(0, 0) = 0.5f;
    opt->step(p);  // v = 0.5, w = 1 - 0.05
    CHECK(p.value(0, 0) == Approx(0.95).epsilon(1e-6));
    opt->step(p);  // v = 0.45 + 0.5 = 0.95, w = 0.95 - 0.095
    CHECK(p.value(0, 0) == Approx(0.855).epsilon(1e-6));
  }
  SECTION("Adagrad") {
    nn::OptimizerConfig c{nn::OptimizerKind::kAdagrad, 0.1f};
    auto opt = nn::makeOptimizer(c);
    nn::Parameter p = scalarParam();
    p.grad(0, 0) = 2.0f;
    opt->step(p);  // G = 4, w = 1 - 0.1 * 2 / 2
    CHECK(p.value(0, 0) == Approx(0.9).epsilon(1e-6));
    p.grad(0, 0) = 1.0f;
    opt->step(p);  // G = 5, w = 0.9 - 0.1 / sqrt(5)
    CHECK(p.value(0, 0) == Approx(0.8552786411500042).epsilon(1e-6));
  }
  SECTION("Adam") {
    auto opt = nn::makeOptimizer({nn::OptimizerKind::kAdam, 0.1f});
    nn::Parameter p = scalarParam();
    const float grads[] = {2.0f, 1.0f, -0.5f};
    const double expected[] = {0.9000000005, 0.8067820372085104, 0.7504158999804387};
    for (int t = 0; t < 3; ++t) {
      p.grad(0, 0) = grads[t];
      opt->step(p);
      CHECK(p.value(0, 0) == Approx(expected[t]).epsilon(1e-6));
    }
  }
}

TEST_CASE("nn: sparse-row optimizer steps touch only listed rows (lazy semantics)", "[nn]") {
  nn::Parameter p("table", 3, 2, nn::GradKind::kSparseRows);
  p.value.fill(1.0f);
  nn::SparseRows g;
  g.reset(3, 2);
  SECTION("Adam counts steps per row") {
    auto opt = nn::makeOptimizer({nn::OptimizerKind::kAdam, 0.1f});
    // Row 0 updated three times, then row 2 for the first time: row 2's step
    // is Adam's first step (w -= lr * g / |g|) regardless of row 0's count.
    for (int t = 0; t < 3; ++t) {
      g.clear();
      g.rowFor(0)[0] = 2.0f;
      opt->stepRows(p, g);
    }
    g.clear();
    g.rowFor(2)[1] = -3.0f;
    opt->stepRows(p, g);
    CHECK(p.value(2, 1) == Approx(1.1).epsilon(1e-6));
    CHECK(p.value(2, 0) == 1.0f);  // zero gradient in a touched row: no move
    CHECK(p.value(1, 0) == 1.0f);
    CHECK(p.value(1, 1) == 1.0f);
    CHECK(p.rowSteps[0] == 3);
    CHECK(p.rowSteps[1] == 0);
    CHECK(p.rowSteps[2] == 1);
    // Three steps of a constant gradient on row 0: each moves by lr (m/sqrt(v) = 1 when bias-corrected).
    CHECK(p.value(0, 0) == Approx(0.7).epsilon(1e-5));
  }
  SECTION("Adagrad sparse equals dense with zero gradients elsewhere") {
    nn::Parameter dense("d", 3, 2);
    dense.value.fill(1.0f);
    auto a = nn::makeOptimizer({nn::OptimizerKind::kAdagrad, 0.1f});
    auto b = nn::makeOptimizer({nn::OptimizerKind::kAdagrad, 0.1f});
    for (int t = 0; t < 3; ++t) {
      g.clear();
      g.rowFor(1)[0] = 0.5f * (t + 1);
      g.rowFor(1)[1] = -1.0f;
      a->stepRows(p, g);
      dense.zeroGrad();
      dense.grad(1, 0) = 0.5f * (t + 1);
      dense.grad(1, 1) = -1.0f;
      b->step(dense);
    }
    for (size_t k = 0; k < 6; ++k) CHECK(p.value.data()[k] == dense.value.data()[k]);
  }
  SECTION("SGD momentum moves only touched rows") {
    auto opt = nn::makeOptimizer({nn::OptimizerKind::kSgd, 0.1f, 0.5f});
    g.rowFor(0)[0] = 1.0f;
    opt->stepRows(p, g);  // v = 1, w = 0.9
    g.clear();
    g.rowFor(1)[0] = 1.0f;
    opt->stepRows(p, g);  // row 0 keeps its velocity but does not move
    CHECK(p.value(0, 0) == Approx(0.9));
    CHECK(p.value(1, 0) == Approx(0.9));
  }
  SECTION("bad configs and shapes are rejected") {
    CHECK_THROWS_AS(nn::makeOptimizer({nn::OptimizerKind::kAdam, 0.0f}), localrec::InvalidArgument);
    CHECK_THROWS_AS(nn::makeOptimizer({nn::OptimizerKind::kSgd, 0.1f, 1.0f}), localrec::InvalidArgument);
    CHECK_THROWS_AS(nn::parseOptimizerKind("rmsprop"), localrec::InvalidArgument);
    auto opt = nn::makeOptimizer({nn::OptimizerKind::kAdam, 0.1f});
    CHECK_THROWS_AS(opt->step(p), localrec::InvalidArgument);  // no dense gradient
    nn::SparseRows wrong;
    wrong.reset(3, 5);
    wrong.rowFor(0);
    CHECK_THROWS_AS(opt->stepRows(p, wrong), localrec::InvalidArgument);
  }
}

TEST_CASE("nn: negative sampler follows count^alpha, is seeded, and builds batch candidates", "[nn]") {
  const std::vector<double> counts = {10, 0, 1, 4, 25, 0, 60};
  for (double alpha : {0.0, 0.5, 1.0}) {
    nn::NegativeSampler sampler(counts, alpha);
    double norm = 0;
    for (double c : counts) norm += alpha == 0.0 ? 1.0 : (c > 0 ? std::pow(c, alpha) : 0.0);
    Rng rng(11);
    const size_t draws = 200000;
    std::vector<size_t> hits(counts.size(), 0);
    std::vector<Index> buf(1000);
    for (size_t d = 0; d < draws; d += buf.size()) {
      sampler.sample(rng, buf);
      for (Index id : buf) ++hits[static_cast<size_t>(id)];
    }
    for (size_t i = 0; i < counts.size(); ++i) {
      const double p = alpha == 0.0 ? 1.0 / norm : (counts[i] > 0 ? std::pow(counts[i], alpha) / norm : 0.0);
      CHECK(sampler.probability(static_cast<Index>(i)) == Approx(p));
      const double freq = double(hits[i]) / draws;
      const double sigma = std::sqrt(p * (1 - p) / draws);
      INFO("alpha " << alpha << " item " << i << ": frequency " << freq << ", probability " << p);
      CHECK(std::fabs(freq - p) <= 5 * sigma + 1e-12);  // deterministic for the seed; 5 sigma
    }
  }
  nn::NegativeSampler sampler(counts, 1.0);
  Rng a(3), b(3);
  std::vector<Index> x(50), y(50);
  sampler.sample(a, x);
  sampler.sample(b, y);
  CHECK(x == y);
  std::vector<Index> targets = {4, 6, 4};
  std::vector<Index> ids;
  std::vector<int32_t> cols;
  buildBatchCandidates(targets, sampler, 5, a, ids, cols);
  REQUIRE(ids.size() == 8);
  CHECK(ids[0] == 4);
  CHECK(ids[2] == 4);
  CHECK(cols == std::vector<int32_t>{0, 1, 2});
  CHECK_THROWS_AS(nn::NegativeSampler(std::vector<double>{0, 0}, 1.0), localrec::InvalidArgument);
  CHECK_THROWS_AS(nn::NegativeSampler(counts, -1.0), localrec::InvalidArgument);
}

TEST_CASE("nn: finite checks name what went wrong", "[nn]") {
  Matrix m(2, 300);
  CHECK(nn::allFinite(m.data(), m.size()));
  m(1, 299) = std::numeric_limits<float>::quiet_NaN();
  CHECK(nn::firstNonFinite(m.data(), m.size()) == 599);
  m(0, 3) = std::numeric_limits<float>::infinity();
  CHECK(nn::firstNonFinite(m.data(), m.size()) == 3);
  try {
    nn::requireFinite(m, "scores", "epoch 2: try a lower learning_rate");
    FAIL("no throw");
  } catch (const nn::NonFiniteError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("scores") != std::string::npos);
    CHECK(msg.find("epoch 2") != std::string::npos);
    CHECK(std::string(e.code()) == "NON_FINITE");
  }
  CHECK_THROWS_AS(nn::requireFinite(std::nanf(""), "loss"), nn::NonFiniteError);
  CHECK_NOTHROW(nn::requireFinite(1.0f, "loss"));
}

namespace {

// A cycle of 12 events over 10 items where item 0 occurs three times, so the
// item after a 0 depends on the item before it: the GRU must carry state.
const std::vector<Index> kCycle = {0, 1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9};
constexpr size_t kItems = 10;

// The tiny task's network (gru_next_item.h): Embedding(10, 8) -> GRU(8, 24) -> Dense(24, 10).
struct TinyModel {
  localrec::fixtures::GruNextItemNet net;
  size_t windows;  // windows per mini-batch (12: every offset; 6: every other, alternating)
  size_t steps = 0;

  // sampledLoss: the batch's targets + 4 uniform negatives (sparse rows); else the full softmax.
  TinyModel(nn::OptimizerConfig config, bool sampledLoss, uint64_t seed, size_t windowsPerBatch = 12)
      : net({.items = kItems, .embedding = 8, .hidden = 24, .negatives = sampledLoss ? size_t{4} : size_t{0},
             .counts = std::vector<double>(kItems, 1.0), .sampleAlpha = 0.0, .embeddingScale = 0.5f,
             .optimizer = config, .seed = seed, .rowsPerBatch = kCycle.size() * windowsPerBatch}),
        windows(windowsPerBatch) {}

  // One mini-batch: windows of T = 12 steps from a zero state, one per start
  // offset (or every other offset, alternating between steps).
  float trainStep() {
    const size_t T = kCycle.size(), B = windows, stride = kCycle.size() / windows;
    const size_t phase = steps++ % stride;
    net.inputs.resize(T * B);
    net.targets.resize(T * B);
    for (size_t t = 0; t < T; ++t) {
      for (size_t b = 0; b < B; ++b) {
        const size_t start = b * stride + phase;
        net.inputs[t * B + b] = kCycle[(start + t) % T];
        net.targets[t * B + b] = kCycle[(start + t + 1) % T];
      }
    }
    return net.step(T);
  }

  // Streams 3 cycles through infer() from a zero state; counts correct argmax
  // predictions of the next item at every position after the first.
  size_t correctPredictions() const {
    Matrix state(1, 24), e, s;
    nn::GruScratch scratch;
    size_t correct = 0;
    for (size_t t = 0; t < 3 * kCycle.size(); ++t) {
      const Index item = kCycle[t % kCycle.size()];
      gatherRows(net.emb.table.value, std::span<const Index>(&item, 1), e);
      net.gru.infer(e.data(), 1, state.data(), state.data(), scratch);
      net.out.forward(state, s);
      const size_t best = static_cast<size_t>(std::max_element(s.data(), s.data() + kItems) - s.data());
      if (t > 0 && static_cast<Index>(best) == kCycle[(t + 1) % kCycle.size()]) ++correct;
    }
    return correct;
  }
};

}  // namespace

TEST_CASE("nn: a GRU learns a cycle that needs memory (full softmax, Adam)", "[nn]") {
  TinyModel model({nn::OptimizerKind::kAdam, 0.02f}, false, 21);
  float first = model.trainStep(), last = first;
  for (int step = 0; step < 300; ++step) last = model.trainStep();
  INFO("loss " << first << " -> " << last);
  CHECK(last < 0.2f * first);
  CHECK(model.correctPredictions() == 3 * kCycle.size() - 1);
}

TEST_CASE("nn: a GRU learns the cycle with sampled softmax over shared negatives (Adagrad, sparse rows)", "[nn]") {
  // 6 windows per batch: 72 rows scored against their 72 targets + 4 samples.
  TinyModel model({nn::OptimizerKind::kAdagrad, 0.1f}, true, 22, 6);
  float first = model.trainStep(), last = first;
  for (int step = 0; step < 300; ++step) last = model.trainStep();
  INFO("loss " << first << " -> " << last);
  CHECK(last < 0.2f * first);
  CHECK(model.correctPredictions() == 3 * kCycle.size() - 1);
}

TEST_CASE("nn: training is deterministic for a seed", "[nn]") {
  TinyModel a({nn::OptimizerKind::kAdam, 0.02f}, true, 5, 6), b({nn::OptimizerKind::kAdam, 0.02f}, true, 5, 6);
  for (int step = 0; step < 5; ++step) CHECK(a.trainStep() == b.trainStep());
  for (const auto& [p, q] : {std::pair{&a.net.gru.wHidden, &b.net.gru.wHidden},
                             std::pair{&a.net.out.weight, &b.net.out.weight},
                             std::pair{&a.net.emb.table, &b.net.emb.table}}) {
    CHECK(std::equal(p->value.data(), p->value.data() + p->value.size(), q->value.data()));
  }
}

TEST_CASE("nn: softmax cross-entropy matches a double-precision reference on wide rows with repeated ids", "[nn]") {
  // Widths around the vector widths and unrolls (tails), ids with many repeats,
  // a far-behind column (exp underflows to 0) and a far-ahead masked column.
  Rng rng(21);
  for (size_t c : {1, 2, 7, 16, 37, 130}) {
    const size_t n = 5;
    Matrix s = randomMatrix(n, c, rng, 4.0f);
    std::vector<Index> ids(c);
    std::vector<int32_t> tcol(n);
    for (size_t j = 0; j < c; ++j) ids[j] = Index(rng.uniform() * 4.0);  // ids 0..3: many repeats
    for (size_t i = 0; i < n; ++i) tcol[i] = int32_t(std::min(c - 1, size_t(rng.uniform() * double(c))));
    if (c > 2) {
      s(0, c - 1) = -200.0f;
      // Row 1: a masked column far ahead of the rest must not dominate the shift.
      const size_t t1 = size_t(tcol[1]);
      for (size_t j = 0; j < c; ++j) {
        if (j != t1 && ids[j] == ids[t1]) s(1, j) = 150.0f;
      }
    }
    for (bool masked : {false, true}) {
      Matrix d;
      const std::span<const Index> useIds = masked ? std::span<const Index>(ids) : std::span<const Index>();
      const float loss = nn::softmaxCrossEntropy(s, {tcol, useIds}, d);
      double refLoss = 0.0;
      for (size_t i = 0; i < n; ++i) {
        const size_t t = size_t(tcol[i]);
        auto active = [&](size_t j) { return !masked || j == t || ids[j] != ids[t]; };
        double m = -1e300, sum = 0.0;
        for (size_t j = 0; j < c; ++j)
          if (active(j)) m = std::max(m, double(s(i, j)));
        for (size_t j = 0; j < c; ++j)
          if (active(j)) sum += std::exp(double(s(i, j)) - m);
        refLoss += std::log(sum) + m - s(i, t);
        for (size_t j = 0; j < c; ++j) {
          const double p = active(j) ? std::exp(double(s(i, j)) - m) / sum : 0.0;
          const double g = (p - (j == t ? 1.0 : 0.0)) / double(n);
          INFO("c=" << c << " masked=" << masked << " row " << i << " col " << j);
          REQUIRE(std::isfinite(d(i, j)));
          CHECK(d(i, j) == Approx(g).margin(1e-6).epsilon(1e-5));
          if (!active(j)) CHECK(d(i, j) == 0.0f);
        }
      }
      INFO("c=" << c << " masked=" << masked);
      CHECK(loss == Approx(refLoss / double(n)).epsilon(1e-5).margin(1e-6));
    }
  }
}

// ---- The shared epoch loop (nn/training.h) ----

namespace {

// A fake trainer: two parameters, 4 batches per epoch, each adding 1 to every
// value; `failAt(epoch, batch)` decides where it goes non-finite, either by a
// NaN loss (thrown at once) or by a NaN written into a weight (found at the
// end of the epoch).
struct FakeTrainer {
  nn::Parameter a{"fake a", 2, 2}, b{"fake b", 3, 1};
  nn::EpochCheckpoint checkpoint{{&a, &b}};
  std::vector<double> fractions;
  localrec::Progress progress{[this](double fraction, const std::string&) {
    fractions.push_back(fraction);
    return false;
  }};
  std::vector<float> atEpochStart;  // a's values when the failing epoch began
  int restoredCalls = 0;

  void run(int epochs, int failEpoch, bool nanInWeight) {
    auto epoch = [&](nn::TrainingEpoch& e) {
      if (e.number() == failEpoch) atEpochStart = copyOf(a.value);
      for (int batch = 0; batch < 4; ++batch) {
        e.batch(1);
        for (nn::Parameter* p : {&a, &b})
          for (size_t k = 0; k < p->value.size(); ++k) p->value.data()[k] += 1.0f;
        if (e.number() != failEpoch || batch != 1) continue;
        if (nanInWeight)
          b.value(2, 0) = std::numeric_limits<float>::quiet_NaN();
        else
          nn::requireFinite(std::numeric_limits<float>::quiet_NaN(), "fake loss", e.hint());
      }
    };
    nn::runEpochs({epochs, 4.0}, checkpoint, progress, epoch, [&] { ++restoredCalls; });
  }
};

}  // namespace

TEST_CASE("nn: runEpochs restores the last completed epoch when epoch 3 goes non-finite", "[nn]") {
  for (bool nanInWeight : {false, true}) {
    INFO("NaN " << (nanInWeight ? "in a weight" : "loss"));
    FakeTrainer t;
    REQUIRE_THROWS_AS(t.run(5, 3, nanInWeight), nn::NonFiniteError);
    try {
      FakeTrainer again;
      again.run(5, 3, nanInWeight);
    } catch (const nn::NonFiniteError& e) {
      const std::string message = e.what();
      CHECK_THAT(message, Catch::Contains("epoch 3: try a lower learning_rate"));
      CHECK_THAT(message, Catch::Contains(nanInWeight ? "fake b" : "fake loss"));
    }
    // Epoch 2 ended at start + 8; epoch 3 changed the values before failing.
    REQUIRE(t.restoredCalls == 1);
    REQUIRE(t.atEpochStart == std::vector<float>(4, 8.0f));
    REQUIRE(copyOf(t.a.value) == t.atEpochStart);
    REQUIRE(copyOf(t.b.value) == std::vector<float>(3, 8.0f));
    // Progress: one report per batch, fraction done before it, over 5 epochs of 4 units
    // (a NaN loss stops epoch 3 at its 2nd batch; a NaN weight is found after its 4th).
    REQUIRE(t.fractions.size() == (nanInWeight ? 12u : 10u));
    for (size_t k = 0; k < t.fractions.size(); ++k) CHECK(t.fractions[k] == Approx(k / 20.0));
  }
}

TEST_CASE("nn: runEpochs in the first epoch rethrows without restoring; cancel stops it", "[nn]") {
  FakeTrainer first;
  REQUIRE_THROWS_WITH(first.run(3, 1, false), Catch::Contains("epoch 1"));
  REQUIRE(first.restoredCalls == 0);
  REQUIRE_FALSE(first.checkpoint.saved());
  REQUIRE(copyOf(first.a.value) == std::vector<float>(4, 2.0f));  // left as the failed batch made them

  FakeTrainer clean;
  clean.run(3, 0, false);
  REQUIRE(copyOf(clean.a.value) == std::vector<float>(4, 12.0f));
  REQUIRE(clean.checkpoint.saved());

  FakeTrainer cancelled;
  cancelled.progress.cancel();
  REQUIRE_THROWS_AS(cancelled.run(3, 0, false), localrec::Cancelled);
  REQUIRE(cancelled.restoredCalls == 0);

  // The test seam plants a NaN in the checkpoint's parameters during epoch 2.
  FakeTrainer hooked;
  {
    nn::ScopedBatchHook hook([](int epoch, const std::vector<nn::Parameter*>& params) {
      if (epoch == 2) params[0]->value(0, 1) = std::numeric_limits<float>::infinity();
    });
    REQUIRE_THROWS_WITH(hooked.run(3, 0, false), Catch::Contains("fake a") && Catch::Contains("epoch 2"));
  }
  REQUIRE(copyOf(hooked.a.value) == std::vector<float>(4, 4.0f));
  hooked.run(1, 0, false);  // the hook is gone
  REQUIRE(copyOf(hooked.a.value) == std::vector<float>(4, 8.0f));
}

TEST_CASE("nn: the shared training options keep each model's defaults and ranges", "[nn]") {
  nn::TrainingOptionDefaults d;
  d.learningRate = "0.05";
  d.batchSize = 32;
  d.maxBatchSize = 8192;
  const auto specs = nn::trainingOptionSpecs(d);
  std::vector<std::string> names;
  for (const auto& s : specs) names.push_back(s.name);
  REQUIRE(names == std::vector<std::string>{"optimizer", "learning_rate", "momentum", "epochs", "batch_size", "seed"});
  const localrec::OptionMap given = {{"optimizer", "sgd"}, {"momentum", "0.5"}, {"batch_size", "8192"}};
  const localrec::OptionReader reader("fake", specs, given);
  const nn::TrainingOptions t = nn::readTrainingOptions(reader, d);
  CHECK(t.optimizer == nn::OptimizerKind::kSgd);
  CHECK(t.momentum == 0.5);
  CHECK(t.learningRate == 0.05);
  CHECK(t.epochs == 3);
  CHECK(t.batchSize == 8192);
  CHECK(t.seed == 42u);
  const localrec::OptionMap tooBig = {{"batch_size", "8193"}};
  REQUIRE_THROWS_WITH(nn::readTrainingOptions(localrec::OptionReader("fake", specs, tooBig), d),
                      Catch::Contains("batch_size") && Catch::Contains("8192"));

  d.chooseOptimizer = false;  // Adam only: no optimizer or momentum option
  const auto adamSpecs = nn::trainingOptionSpecs(d);
  REQUIRE(adamSpecs.size() == 4);
  const localrec::OptionMap none;
  const nn::TrainingOptions adam = nn::readTrainingOptions(localrec::OptionReader("fake", adamSpecs, none), d);
  CHECK(adam.optimizer == nn::OptimizerKind::kAdam);
  CHECK(adam.optimizerConfig().epsilon == 1e-8f);
  CHECK(t.optimizerConfig().learningRate == 0.05f);
}

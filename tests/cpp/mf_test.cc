// Known-answer tests for the factor/bias models: bias (hand-computed biases and
// the exact regularized least-squares optimum), biased_mf (a hand-computed SGD
// step, the SVD++ visit against finite differences, the exact fold-in with and
// without the implicit term, fold-in vs the trained user, RMSE on planted
// low-rank data, the layout-1 model file; with the neighbourhood term: the
// lists against a brute force, the visit against finite differences, the exact
// fold-in and explain split, the layout-3 file and a layout-2 file, progress
// and cancel in the neighbour phase, the active-entry count against a brute
// force, the divergence error, explain's lone mu + b_i reason),
// bpr (the gradient against finite differences, AUC on planted clusters,
// the best-of-candidates negative draw against a replayed brute force, the
// learning-rate schedule, the user-uniform vs row-uniform draw frequencies).
#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "data/csr.h"
#include "io/model_file.h"
#include "io/serialize.h"
#include "models/cf/bias_baseline.h"
#include "models/cf/biased_mf.h"
#include "models/cf/bpr.h"
#include "models/model_io.h"
#include "models/registry.h"

#include "gradcheck.h"

using namespace localrec;

namespace {

// users 0, 1; items 0, 1, 2, 3 (item 3 cold).
InteractionMatrix tinyRatings() {
  Interactions rows;
  rows.push(0, 0, 5, 1);
  rows.push(0, 1, 3, 2);
  rows.push(1, 0, 4, 3);
  rows.push(1, 2, 1, 4);
  return InteractionMatrix(rows, 2, 4);
}

std::vector<float> scoresOf(const Recommender& m, const History& h) {
  std::vector<float> out(static_cast<size_t>(m.numItems()));
  m.score(h, out);
  return out;
}

// A planted low-rank rating table: r = 3.5 + bu + bi + p.q (rank 3) + noise,
// clipped to [0.5, 5]; `density` of the cells observed; every 5th observed cell
// (in a seeded draw) goes to the test set.
struct Planted {
  Interactions train, test;
  Index users, items;
};
Planted plantedRatings(Index users, Index items, double density, uint64_t seed) {
  Rng rng(seed);
  auto gauss = [&]() {
    const double u1 = 1.0 - rng.uniform(), u2 = rng.uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  };
  const int rank = 3;
  std::vector<double> bu(users), bi(items), P(users * rank), Q(items * rank);
  for (auto& x : bu) x = 0.4 * gauss();
  for (auto& x : bi) x = 0.4 * gauss();
  for (auto& x : P) x = 0.6 * gauss();
  for (auto& x : Q) x = 0.6 * gauss();
  Planted out{{}, {}, users, items};
  Timestamp t = 0;
  for (Index u = 0; u < users; ++u)
    for (Index i = 0; i < items; ++i) {
      if (rng.uniform() >= density) continue;
      double r = 3.5 + bu[u] + bi[i] + 0.25 * gauss();
      for (int k = 0; k < rank; ++k) r += P[u * rank + k] * Q[i * rank + k];
      r = std::min(5.0, std::max(0.5, r));
      (rng.below(5) == 0 ? out.test : out.train).push(u, i, static_cast<float>(r), ++t);
    }
  return out;
}

// RMSE of a rating model on `test`, each user's history being their train rows.
double rmse(const Recommender& m, const InteractionMatrix& train, const Interactions& test) {
  double se = 0;
  std::vector<float> scores(static_cast<size_t>(m.numItems()));
  Index last = -1;
  for (size_t r = 0; r < test.size(); ++r) {
    if (test.users[r] != last) {
      last = test.users[r];
      m.score(train.history(last), scores);
    }
    const double e = scores[test.items[r]] - test.values[r];
    se += e * e;
  }
  return std::sqrt(se / static_cast<double>(test.size()));
}

}  // namespace

TEST_CASE("bias: one alternating pass matches hand-computed biases", "[models]") {
  BiasBaseline model(OptionMap{{"reg_item", "1"}, {"reg_user", "2"}, {"iterations", "1"}});
  model.fit(tinyRatings());
  // mu = 13/4; b_i = sum(r - mu) / (1 + n_i) with b_u = 0; then b_u = sum(r - mu - b_i) / (2 + n_u).
  REQUIRE(model.globalMean() == Approx(3.25));
  const auto& bi = model.itemBiases();
  REQUIRE(bi[0] == Approx(2.5 / 3));      // (1.75 + 0.75) / 3
  REQUIRE(bi[1] == Approx(-0.125));       // -0.25 / 2
  REQUIRE(bi[2] == Approx(-1.125));       // -2.25 / 2
  REQUIRE(bi[3] == 0.0f);                 // cold
  const auto& bu = model.userBiases();
  REQUIRE(bu[0] == Approx((1.75 - 2.5 / 3 - 0.125) / 4));
  REQUIRE(bu[1] == Approx((0.75 - 2.5 / 3 - 1.125) / 4));

  // A history folds in b_u with the same formula: a training user's own history
  // gives exactly the bias of the last pass.
  const InteractionMatrix train = tinyRatings();
  const auto s = scoresOf(model, train.history(0));
  for (Index i = 0; i < 4; ++i) REQUIRE(s[i] == Approx(3.25 + bu[0] + bi[i]).margin(1e-6));
  // Without values the user bias is 0.
  const std::vector<Index> items = {0, 1};
  const auto plain = scoresOf(model, History{items, {}, {}});
  for (Index i = 0; i < 4; ++i) REQUIRE(plain[i] == Approx(3.25 + bi[i]).margin(1e-6));
  // Explain splits b_u over the history: (v - mu - b_i) / (reg_user + n), largest first.
  const auto why = model.explain(train.history(0), 2, 5);
  REQUIRE(why.size() == 2);
  REQUIRE(why[0].source == 0);
  REQUIRE(why[0].weight == Approx((1.75 - 2.5 / 3) / 4));
  REQUIRE(why[1].source == 1);
  REQUIRE(why[1].weight == Approx((-0.25 + 0.125) / 4));
  REQUIRE(why[0].weight + why[1].weight == Approx(bu[0]));
}

TEST_CASE("bias: many passes reach the exact regularized least-squares optimum", "[models]") {
  // Dense solve of min sum (r - mu - b_u - b_i)^2 + reg_u |b_u|^2 + reg_i |b_i|^2 on random data.
  Rng rng(5);
  Interactions rows;
  const Index U = 12, I = 9;
  for (Index u = 0; u < U; ++u)
    for (Index i = 0; i < I; ++i)
      if (rng.uniform() < 0.4) rows.push(u, i, static_cast<float>(1 + rng.below(5)), 0);
  const InteractionMatrix train(rows, U, I);
  BiasBaseline model(OptionMap{{"reg_item", "3"}, {"reg_user", "1.5"}, {"iterations", "500"}});
  model.fit(train);
  double mu = 0;
  for (float v : rows.values) mu += v;
  mu /= static_cast<double>(rows.size());
  Eigen::MatrixXd A = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(rows.size()), U + I);
  Eigen::VectorXd y(static_cast<Eigen::Index>(rows.size()));
  for (size_t r = 0; r < rows.size(); ++r) {
    A(static_cast<Eigen::Index>(r), rows.users[r]) = 1;
    A(static_cast<Eigen::Index>(r), U + rows.items[r]) = 1;
    y(static_cast<Eigen::Index>(r)) = rows.values[r] - mu;
  }
  Eigen::MatrixXd G = A.transpose() * A;
  for (Index u = 0; u < U; ++u) G(u, u) += 1.5;
  for (Index i = 0; i < I; ++i) G(U + i, U + i) += 3;
  const Eigen::VectorXd x = G.ldlt().solve(A.transpose() * y);
  for (Index u = 0; u < U; ++u) REQUIRE(model.userBiases()[u] == Approx(x(u)).margin(1e-4));
  for (Index i = 0; i < I; ++i) REQUIRE(model.itemBiases()[i] == Approx(x(U + i)).margin(1e-4));
}

TEST_CASE("biased_mf: one SGD step matches a hand-computed update", "[models]") {
  // r = 4, mu = 3, bu = 0.1, bi = -0.2, p = (0.5, -1), q = (0.2, 0.4), lr 0.1, reg 0.05, reg_bias 0.02.
  // prediction 3 + 0.1 - 0.2 + (0.1 - 0.4) = 2.6, e = 1.4.
  float bu = 0.1f, bi = -0.2f;
  float p[2] = {0.5f, -1.0f}, q[2] = {0.2f, 0.4f};
  const float e = BiasedMf::sgdStep(4.0f, 3.0f, bu, bi, p, q, 2, 0.1f, 0.05f, 0.02f);
  REQUIRE(e == Approx(1.4f));
  REQUIRE(bu == Approx(0.1 + 0.1 * (1.4 - 0.02 * 0.1)));   // 0.2398
  REQUIRE(bi == Approx(-0.2 + 0.1 * (1.4 + 0.02 * 0.2)));  // -0.0596
  REQUIRE(p[0] == Approx(0.5 + 0.1 * (1.4 * 0.2 - 0.05 * 0.5)));   // 0.5255
  REQUIRE(p[1] == Approx(-1.0 + 0.1 * (1.4 * 0.4 + 0.05 * 1.0)));  // -0.939
  // q uses the OLD p.
  REQUIRE(q[0] == Approx(0.2 + 0.1 * (1.4 * 0.5 - 0.05 * 0.2)));   // 0.269
  REQUIRE(q[1] == Approx(0.4 + 0.1 * (1.4 * -1.0 - 0.05 * 0.4)));  // 0.258
}

TEST_CASE("biased_mf: a one-rating SVD++ visit is one gradient step (finite differences)", "[models]") {
  // J = e^2/2 + reg/2 (|p|^2 + |q_i|^2) + regBias/2 (bu^2 + b_i^2) + regY/2 sum_{j in N} |y_j|^2,
  // e = r - (mu + bu + b_i + q_i . (p + |N|^-1/2 sum_{j in N} y_j)); rated item i = 1, N = {0, 1, 3}.
  Rng rng(12);
  const int F = 3, I = 4;
  std::vector<float> p(F), bias(I), Q(I * F), Y(I * F);
  for (auto* v : {&p, &bias, &Q, &Y})
    for (float& x : *v) x = rng.uniform(-1.0f, 1.0f);
  float bu = 0.2f;
  const float mu = 3.1f, r = 4.5f, reg = 0.07f, regBias = 0.03f, regY = 0.11f;
  const std::vector<Index> rated = {1}, implicitItems = {0, 1, 3};
  const std::vector<float> values = {r};
  auto objective = [&]() {
    double pz[F];
    for (int k = 0; k < F; ++k) {
      double z = 0;
      for (Index j : implicitItems) z += Y[j * F + k];
      pz[k] = p[k] + z / std::sqrt(3.0);
    }
    double pred = mu + bu + bias[1], J = 0;
    for (int k = 0; k < F; ++k) pred += Q[1 * F + k] * pz[k];
    J = 0.5 * (r - pred) * (r - pred) + 0.5 * regBias * (bu * bu + bias[1] * bias[1]);
    for (int k = 0; k < F; ++k) J += 0.5 * reg * (p[k] * p[k] + Q[1 * F + k] * Q[1 * F + k]);
    for (Index j : implicitItems)
      for (int k = 0; k < F; ++k) J += 0.5 * regY * Y[j * F + k] * Y[j * F + k];
    return J;
  };
  std::vector<float*> params = {&bu};
  for (auto* v : {&bias, &p, &Q, &Y})
    for (float& x : *v) params.push_back(&x);
  const gradcheck::StepReference ref = gradcheck::stepReference(params, objective);
  const std::vector<double>& before = ref.before;
  const double j0 = objective();
  std::vector<float> scratch;
  // lr = 1: the step IS minus the gradient (taken at the old values).
  const double sq = BiasedMf::implicitVisit(rated, values, implicitItems, mu, bu, p.data(), bias.data(), Q.data(),
                                            Y.data(), F, 1.0f, reg, regBias, regY, scratch);
  // bu, b_1, p (3), q_1 (3), y_0, y_1, y_3 (9): the other items' parameters have no gradient.
  REQUIRE(gradcheck::requireStepIsMinusGradient(params, ref, 3e-4) == 1 + 1 + 3 + 3 + 9);
  // The returned squared error is e^2 before the step.
  std::vector<float> p0(before.begin() + 1 + I, before.begin() + 1 + I + F);
  double pred = mu + before[0] + before[2];
  for (int k = 0; k < F; ++k) {
    double z = 0;
    for (Index j : implicitItems) z += before[1 + I + F + I * F + j * F + k];
    pred += before[1 + I + F + F + k] * (p0[k] + z / std::sqrt(3.0));
  }
  REQUIRE(sq == Approx((r - pred) * (r - pred)).margin(1e-5));
  // And a small step from the same start lowers the objective.
  for (size_t k = 0; k < params.size(); ++k) *params[k] = static_cast<float>(before[k]);
  BiasedMf::implicitVisit(rated, values, implicitItems, mu, bu, p.data(), bias.data(), Q.data(), Y.data(), F, 0.01f,
                          reg, regBias, regY, scratch);
  REQUIRE(objective() < j0);
}

TEST_CASE("biased_mf: the fold-in is the exact ridge solve, and explain splits it exactly", "[models]") {
  const Planted data = plantedRatings(60, 40, 0.3, 11);
  const InteractionMatrix train(data.train, data.users, data.items);
  const bool implicit = GENERATE(false, true);
  INFO("implicit " << implicit);
  BiasedMf model(OptionMap{{"factors", "4"}, {"epochs", "15"}, {"reg", "0.05"}, {"reg_bias", "0.02"},
                           {"fold_in_prior", "0.7"}, {"implicit", implicit ? "true" : "false"}, {"neighbors", "0"}});
  model.fit(train);
  REQUIRE(model.implicitFactors().size() == (implicit ? 40u * 4 : 0u));
  const History h = train.history(3);
  float bu;
  std::vector<float> p, z;
  model.foldIn(h, bu, p, z);
  // The implicit sum, independently: |N|^-1/2 sum_h y_{i_h} over the history's items.
  const Eigen::Index n = static_cast<Eigen::Index>(h.size()), d = 5;
  Eigen::VectorXd zRef = Eigen::VectorXd::Zero(4);
  if (implicit) {
    for (Eigen::Index r = 0; r < n; ++r)
      for (int k = 0; k < 4; ++k) zRef(k) += model.implicitFactors()[h.items[r] * 4 + k];
    zRef /= std::sqrt(static_cast<double>(n));
    REQUIRE(z.size() == 4);
    for (int k = 0; k < 4; ++k) REQUIRE(z[k] == Approx(zRef(k)).margin(1e-6));
    REQUIRE(zRef.norm() > 1e-3);  // the term is really there
  } else {
    REQUIRE(z.empty());
  }
  // Independent dense solve of min sum_h (y_h - bu - p.q_h)^2 + n (0.02 bu^2 + 0.05 |p|^2) + 0.7 (bu^2 + |p|^2),
  // y_h = v_h - mu - b_h - q_h . z.
  Eigen::MatrixXd A(n, d);
  Eigen::VectorXd y(n);
  for (Eigen::Index r = 0; r < n; ++r) {
    A(r, 0) = 1;
    for (int k = 0; k < 4; ++k) A(r, k + 1) = model.itemFactors()[h.items[r] * 4 + k];
    y(r) = h.values[r] - model.globalMean() - model.itemBiases()[h.items[r]] - A.row(r).tail(4).dot(zRef);
  }
  Eigen::VectorXd reg(d);
  reg << 0.02, 0.05, 0.05, 0.05, 0.05;
  // Solve via QR of the stacked system [A; sqrt(n reg)] x = [y; 0] (a different method than the model's).
  Eigen::MatrixXd S(n + d, d);
  S << A, Eigen::MatrixXd((reg * static_cast<double>(n) + Eigen::VectorXd::Constant(d, 0.7)).cwiseSqrt().asDiagonal());
  Eigen::VectorXd t = Eigen::VectorXd::Zero(n + d);
  t.head(n) = y;
  const Eigen::VectorXd x = S.colPivHouseholderQr().solve(t);
  REQUIRE(bu == Approx(x(0)).margin(1e-5));
  for (int k = 0; k < 4; ++k) REQUIRE(p[k] == Approx(x(k + 1)).margin(1e-5));

  // Scores mu + bu + b_i + q_i . (p + z); explain splits everything but mu + b_i over the history.
  auto checkScoresAndExplain = [&](const History& hist, double userBias, const Eigen::VectorXd& user) {
    const auto s = scoresOf(model, hist);
    for (Index i = 0; i < data.items; ++i) {
      double expect = model.globalMean() + userBias + model.itemBiases()[i];
      for (int k = 0; k < 4; ++k) expect += user(k) * model.itemFactors()[i * 4 + k];
      REQUIRE(s[i] == Approx(expect).margin(1e-4));
      const auto why = model.explain(hist, i, hist.size());
      REQUIRE(why.size() == hist.size());
      double sum = 0;
      for (size_t k = 0; k < why.size(); ++k) {
        sum += why[k].weight;
        if (k) REQUIRE(why[k - 1].weight >= why[k].weight);
      }
      REQUIRE(sum == Approx(expect - model.globalMean() - model.itemBiases()[i]).margin(1e-4));
    }
  };
  checkScoresAndExplain(h, x(0), x.tail(4) + zRef);
  // No values: no ridge terms; with implicit=true the items alone still give q_i . z.
  const History plain{h.items, {}, {}};
  if (implicit) {
    checkScoresAndExplain(plain, 0.0, zRef);
  } else {
    const auto s = scoresOf(model, plain);
    for (Index i = 0; i < data.items; ++i) REQUIRE(s[i] == model.globalMean() + model.itemBiases()[i]);
    const auto why = model.explain(plain, 0, 5);
    REQUIRE(why.size() == 1);
    REQUIRE(why[0].source == -1);
  }
  // The empty history: mu + b_i either way.
  const auto none = scoresOf(model, History{});
  for (Index i = 0; i < data.items; ++i) REQUIRE(none[i] == model.globalMean() + model.itemBiases()[i]);
}

namespace {
std::vector<double> neighborTermRef(const BiasedMf& model, const History& h);
}  // namespace

TEST_CASE("biased_mf: folding in a training user's history reproduces the trained user's predictions",
          "[models]") {
  // With fold_in_prior = 0 the fold-in solves exactly the user's part of the
  // training objective against the final item parameters; SGD only approaches
  // that optimum (slowly along weakly determined directions, whose curvature is
  // ~n * reg, and with lr decayed to 0.02 * 0.995^400 ~ 0.003 at the end).
  // Measured: mean |difference| 0.0056, max 0.084 rating points (the same with
  // implicit=true), against predictions that spread over several points.
  // Tolerance: mean 0.02, max 0.15.
  // With implicit=true the trained prediction adds q_i . z(u), z from the final
  // y (each user's p_u last moved during their last visit, y also afterwards);
  // with neighbors=6 it adds nb_u(i) from the final w, c (neighborTermRef: the
  // training baseline residuals, so a fold-in that dropped bb_u would differ).
  const Planted data = plantedRatings(150, 100, 0.2, 3);
  const InteractionMatrix train(data.train, data.users, data.items);
  const bool implicit = GENERATE(false, true);
  const int neighbors = GENERATE(0, 6);
  INFO("implicit " << implicit << ", neighbors " << neighbors);
  BiasedMf model(OptionMap{{"factors", "4"}, {"epochs", "400"}, {"lr", "0.02"}, {"lr_decay", "0.995"},
                           {"reg", "0.05"}, {"reg_bias", "0.02"}, {"fold_in_prior", "0"},
                           {"implicit", implicit ? "true" : "false"}, {"neighbors", std::to_string(neighbors)}});
  model.fit(train);
  double sumDiff = 0, maxDiff = 0;
  size_t count = 0;
  std::vector<float> z(4, 0.0f);
  for (Index u = 0; u < data.users; ++u) {
    if (train.byUser().rowSize(u) == 0) continue;
    const auto s = scoresOf(model, train.history(u));
    if (implicit) BiasedMf::implicitSum(train.byUser().rowIndices(u), model.implicitFactors().data(), 4, z.data());
    const std::vector<double> nb =
        neighbors > 0 ? neighborTermRef(model, train.history(u)) : std::vector<double>(data.items, 0.0);
    for (Index i = 0; i < data.items; ++i) {
      double trained = model.globalMean() + model.userBiases()[u] + model.itemBiases()[i] + nb[i];
      for (int k = 0; k < 4; ++k)
        trained += (model.userFactors()[u * 4 + k] + z[k]) * model.itemFactors()[i * 4 + k];
      const double d = std::fabs(trained - s[i]);
      sumDiff += d;
      maxDiff = std::max(maxDiff, d);
      ++count;
    }
  }
  INFO("mean |fold-in - trained| = " << sumDiff / count << ", max " << maxDiff);
  REQUIRE(sumDiff / count < 0.02);
  REQUIRE(maxDiff < 0.15);
}

TEST_CASE("biased_mf: RMSE on a planted low-rank table is well below the bias baseline's", "[models]") {
  const Planted data = plantedRatings(300, 200, 0.15, 21);
  const InteractionMatrix train(data.train, data.users, data.items);
  BiasBaseline bias;
  bias.fit(train);
  const bool implicit = GENERATE(false, true);
  INFO("implicit " << implicit);
  BiasedMf mf(OptionMap{{"factors", "8"}, {"epochs", "60"}, {"lr", "0.02"}, {"lr_decay", "0.98"}, {"reg", "0.05"},
                        {"init_std", "0.1"}, {"implicit", implicit ? "true" : "false"}});
  mf.fit(train);
  const double rb = rmse(bias, train, data.test), rm = rmse(mf, train, data.test);
  INFO("bias RMSE " << rb << ", biased_mf RMSE " << rm);
  // The rank-3 part has variance 3 * 0.36^2 ~ 0.39 per cell (std ~0.62) on top of noise 0.25.
  REQUIRE(rm < 0.7 * rb);
  REQUIRE(rm < 0.45);
}

TEST_CASE("bpr: one step is one gradient-ascent step on the BPR objective (finite differences)", "[models]") {
  Rng rng(8);
  const int F = 5;
  std::vector<float> p(F), qi(F), qj(F);
  for (int k = 0; k < F; ++k) {
    p[k] = rng.uniform(-1.0f, 1.0f);
    qi[k] = rng.uniform(-1.0f, 1.0f);
    qj[k] = rng.uniform(-1.0f, 1.0f);
  }
  float bi = 0.3f, bj = -0.1f;
  const float reg = 0.07f, regBias = 0.03f;
  // Central differences of the objective in double, per parameter.
  auto numeric = [&](float* param) {
    return gradcheck::centralDifference(
        param, [&] { return Bpr::bprObjective(p.data(), qi.data(), qj.data(), bi, bj, F, reg, regBias); });
  };
  std::vector<double> grad;
  for (int k = 0; k < F; ++k) grad.push_back(numeric(&p[k]));
  for (int k = 0; k < F; ++k) grad.push_back(numeric(&qi[k]));
  for (int k = 0; k < F; ++k) grad.push_back(numeric(&qj[k]));
  grad.push_back(numeric(&bi));
  grad.push_back(numeric(&bj));
  const auto before = std::vector<std::vector<float>>{p, qi, qj, {bi, bj}};
  // lr = 1: the step IS the gradient (taken at the old values).
  Bpr::bprStep(p.data(), qi.data(), qj.data(), bi, bj, F, 1.0f, reg, regBias);
  std::vector<double> step;
  for (int k = 0; k < F; ++k) step.push_back(p[k] - before[0][k]);
  for (int k = 0; k < F; ++k) step.push_back(qi[k] - before[1][k]);
  for (int k = 0; k < F; ++k) step.push_back(qj[k] - before[2][k]);
  step.push_back(bi - before[3][0]);
  step.push_back(bj - before[3][1]);
  for (size_t k = 0; k < grad.size(); ++k) {
    INFO("parameter " << k);
    REQUIRE(step[k] == Approx(grad[k]).margin(2e-4));
  }
  // And a small step increases the objective.
  std::vector<float> p2 = before[0], qi2 = before[1], qj2 = before[2];
  float bi2 = before[3][0], bj2 = before[3][1];
  const double o0 = Bpr::bprObjective(p2.data(), qi2.data(), qj2.data(), bi2, bj2, F, reg, regBias);
  Bpr::bprStep(p2.data(), qi2.data(), qj2.data(), bi2, bj2, F, 0.01f, reg, regBias);
  REQUIRE(Bpr::bprObjective(p2.data(), qi2.data(), qj2.data(), bi2, bj2, F, reg, regBias) > o0);
}

namespace {
// Two clusters of users over two item blocks: a user holds ~30% of their own
// block's items and a few others; one own-block item per user is held out.
struct Clusters {
  InteractionMatrix train;
  std::vector<Index> heldOut;
};
Clusters plantedClusters() {
  Rng rng(17);
  const Index U = 400, I = 100;
  Interactions rows;
  std::vector<Index> held(U, -1);
  for (Index u = 0; u < U; ++u) {
    const Index lo = u < U / 2 ? 0 : 50;
    std::vector<Index> own;
    for (Index i = lo; i < lo + 50; ++i)
      if (rng.uniform() < 0.3) own.push_back(i);
    if (own.size() < 3) own = {lo, lo + 1, lo + 2};
    // A random own item is held out (not e.g. the last one: that would make
    // high-index items rare in training and bias the test against them).
    const size_t pick = rng.below(static_cast<uint32_t>(own.size()));
    held[u] = own[pick];
    own.erase(own.begin() + static_cast<std::ptrdiff_t>(pick));
    for (Index i : own) rows.push(u, i, 1, 0);
    for (int k = 0; k < 2; ++k) {
      const Index other = (lo + 50) % 100 + static_cast<Index>(rng.below(50));
      if (other != held[u]) rows.push(u, other, 1, 0);
    }
  }
  return {InteractionMatrix(rows, U, I), held};
}
}  // namespace

TEST_CASE("bpr: AUC of held-out items on planted clusters is far above chance", "[models]") {
  const Clusters data = plantedClusters();
  // Plain uniform sampling and the best of several candidates both learn the
  // blocks, with users drawn uniformly or by activity.
  const int negatives = GENERATE(1, 3, 5);
  const std::string sampling = GENERATE("users", "rows");
  INFO("negatives " << negatives << ", sampling " << sampling);
  Bpr model(OptionMap{
      {"factors", "8"}, {"epochs", "20"}, {"negatives", std::to_string(negatives)}, {"sampling", sampling}});
  model.fit(data.train);
  double aucSum = 0;
  const Index U = data.train.numUsers();
  for (Index u = 0; u < U; ++u) {
    const History h = data.train.history(u);
    const auto s = scoresOf(model, h);
    const std::set<Index> seen(h.items.begin(), h.items.end());
    size_t below = 0, negatives = 0;
    for (Index i = 0; i < 100; ++i) {
      if (seen.count(i) || i == data.heldOut[u]) continue;
      ++negatives;
      below += s[i] < s[data.heldOut[u]] ? 1 : 0;
    }
    aucSum += static_cast<double>(below) / static_cast<double>(negatives);
  }
  const double auc = aucSum / U;
  INFO("mean AUC " << auc);
  // Negatives are ~35 own-block and ~48 other-block items: a model that learned
  // only the blocks gets about (48 + 35/2) / 83 = 0.79; popularity alone (both
  // blocks equally popular) about 0.5. Best-of-k negatives are mostly unseen
  // own-block items, the held-out ones among them, so that model ranks its own
  // block's unseen items lower (0.73-0.78 measured for k = 3, 5): still far above chance.
  REQUIRE(auc > (negatives == 1 ? 0.75 : 0.70));
}

TEST_CASE("bpr: drawNegative keeps the best-scoring of its candidates and never a positive", "[models]") {
  // 6 items, 2 factors; items 1 and 4 are positives. Scores b_j + p . q_j with
  // p = (1, -1): item 0: 0.5, 2: -1.5, 3: 2, 5: -0.5 (1 and 4 would score highest).
  const std::vector<float> bias = {0.5f, 9.0f, -0.5f, 0.0f, 9.0f, 0.5f};
  const std::vector<float> q = {0, 0, 5, 0, 0, 1, 2, 0, 5, 0, 0, 1};
  const std::vector<float> p = {1.0f, -1.0f};
  const std::vector<float> expected = {0.5f, 14.0f, -1.5f, 2.0f, 14.0f, -0.5f};
  auto positive = [](Index j) { return j == 1 || j == 4; };
  for (int candidates : {1, 2, 3, 8}) {
    INFO("candidates " << candidates);
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      // The reference replays the same rejection draws and takes the first maximum.
      Rng replay(seed);
      Index want = -1;
      for (int c = 0; c < candidates; ++c) {
        Index j;
        do j = static_cast<Index>(replay.below(6)); while (positive(j));
        if (want < 0 || expected[j] > expected[want]) want = j;
      }
      Rng rng(seed);
      const Index got = Bpr::drawNegative(rng, 6, candidates, p.data(), bias.data(), q.data(), 2, positive);
      REQUIRE(got == want);
      REQUIRE_FALSE(positive(got));
      // Both consumed the same draws: the generators stay in step.
      REQUIRE(rng.below(1000) == replay.below(1000));
    }
  }
  // With many candidates the best non-positive item (3) is all but certain.
  Rng rng(7);
  REQUIRE(Bpr::drawNegative(rng, 6, 64, p.data(), bias.data(), q.data(), 2, positive) == 3);
}

TEST_CASE("bpr: the negatives option is validated", "[models]") {
  REQUIRE_THROWS_AS(Bpr(OptionMap{{"negatives", "0"}}), InvalidArgument);
  REQUIRE_THROWS_AS(Bpr(OptionMap{{"negatives", "1001"}}), InvalidArgument);
  REQUIRE_THROWS_WITH(Bpr(OptionMap{{"negatives", "0"}}), Catch::Contains("negatives"));
  REQUIRE_NOTHROW(Bpr(OptionMap{{"negatives", "1"}}));
}

TEST_CASE("bpr: the lr_final and sampling options are validated", "[models]") {
  for (const char* bad : {"0", "-0.5", "1.5", "nan"}) {
    INFO("lr_final " << bad);
    REQUIRE_THROWS_AS(Bpr(OptionMap{{"lr_final", bad}}), InvalidArgument);
    REQUIRE_THROWS_WITH(Bpr(OptionMap{{"lr_final", bad}}), Catch::Contains("lr_final"));
  }
  REQUIRE_NOTHROW(Bpr(OptionMap{{"lr_final", "1"}}));
  REQUIRE_THROWS_AS(Bpr(OptionMap{{"sampling", "items"}}), InvalidArgument);
  REQUIRE_THROWS_WITH(Bpr(OptionMap{{"sampling", "items"}}), Catch::Contains("sampling"));
  REQUIRE_NOTHROW(Bpr(OptionMap{{"sampling", "rows"}}));
}

TEST_CASE("bpr: the learning rate decays geometrically from lr to lr * lr_final", "[models]") {
  REQUIRE(Bpr::epochLearningRate(0.1, 0.05, 1, 0) == 0.1);
  REQUIRE(Bpr::epochLearningRate(0.1, 0.05, 60, 0) == Approx(0.1));
  REQUIRE(Bpr::epochLearningRate(0.1, 0.05, 60, 59) == Approx(0.005));
  REQUIRE(Bpr::epochLearningRate(0.2, 0.25, 3, 1) == Approx(0.1));  // the geometric mean of 0.2 and 0.05
  for (int e = 0; e < 10; ++e) {
    REQUIRE(Bpr::epochLearningRate(0.05, 1.0, 10, e) == 0.05);  // lr_final 1: constant, exactly
    if (e > 0)  // a constant ratio between consecutive epochs
      REQUIRE(Bpr::epochLearningRate(1.0, 0.1, 10, e) / Bpr::epochLearningRate(1.0, 0.1, 10, e - 1) ==
              Approx(std::pow(0.1, 1.0 / 9)));
  }
  // The schedule is applied: on the same draws (one uniform negative, so the
  // draws do not depend on the parameters), a decayed fit moves less.
  const Clusters data = plantedClusters();
  auto fitted = [&](const char* decay) {
    Bpr m(OptionMap{
        {"factors", "4"}, {"epochs", "4"}, {"negatives", "1"}, {"init_std", "0"}, {"lr_final", decay}});
    m.fit(data.train);
    double norm = 0;
    for (float b : m.itemBiases()) norm += std::fabs(b);
    return norm;
  };
  REQUIRE(fitted("0.01") < 0.8 * fitted("1"));
}

TEST_CASE("bpr: sampling = users draws each user equally often, rows by activity", "[models]") {
  // User 0 has item 0, user 1 items 1..9; 20 items. With init_std 0 the factors
  // stay 0 in one step, so after one step (samples 1) the one item with a
  // positive bias is the step's positive: item 0 iff user 0 was drawn.
  Interactions rows;
  rows.push(0, 0, 1, 0);
  for (Index i = 1; i < 10; ++i) rows.push(1, i, 1, 0);
  const InteractionMatrix train(rows, 2, 20);
  for (const char* sampling : {"users", "rows"}) {
    INFO("sampling " << sampling);
    int user0 = 0;
    const int fits = 400;
    for (int seed = 0; seed < fits; ++seed) {
      Bpr m(OptionMap{{"factors", "2"}, {"epochs", "1"}, {"samples", "1"}, {"init_std", "0"},
                      {"negatives", "1"}, {"sampling", sampling}, {"seed", std::to_string(seed)}});
      m.fit(train);
      const auto& b = m.itemBiases();
      REQUIRE(std::count_if(b.begin(), b.end(), [](float x) { return x > 0; }) == 1);
      user0 += b[0] > 0 ? 1 : 0;
    }
    // users: p = 1/2 (sd 0.025 over 400 fits); rows: p = 1/10 (sd 0.015).
    const double share = static_cast<double>(user0) / fits;
    INFO("share of steps on user 0: " << share);
    if (std::string(sampling) == "users")
      REQUIRE((share > 0.4 && share < 0.6));
    else
      REQUIRE((share > 0.04 && share < 0.17));
  }
}

TEST_CASE("mf models: deterministic per seed, different across seeds, exact save/load", "[models]") {
  const Planted data = plantedRatings(60, 40, 0.3, 4);
  const InteractionMatrix train(data.train, data.users, data.items);
  const History h = train.history(5);
  for (const char* name : {"biased_mf", "bpr"}) {
    INFO(name);
    // (biased_mf without the neighbourhood term: layout 2; layout 3 has its own test.)
    auto make = [&](const char* seed) {
      OptionMap o{{"factors", "4"}, {"epochs", "5"}, {"seed", seed}};
      if (std::string(name) == "biased_mf") o["neighbors"] = "0";
      return createModel(name, o);
    };
    auto a = make("1"), b = make("1"), c = make("2");
    a->fit(train);
    b->fit(train);
    c->fit(train);
    REQUIRE(saveModel(*a) == saveModel(*b));
    REQUIRE(scoresOf(*a, h) == scoresOf(*b, h));
    REQUIRE(scoresOf(*a, h) != scoresOf(*c, h));
    const auto loaded = loadModel(saveModel(*a));
    REQUIRE(scoresOf(*loaded.model, h) == scoresOf(*a, h));
    // PARM: (i32 layout marker), i32 factors, (f32 mu), u64 + n biases, u64 + n * 4 factors,
    // (u64 + n * 4 implicit factors: biased_mf's default is implicit=true).
    readModelFile(saveModel(*a), [&](const ModelFileHeader&, Reader& in) {
      const bool mf = std::string(name) == "biased_mf";
      const size_t expected = (mf ? 4u + 4u : 0u) + 4 + 8 + 40 * 4 + 8 + 40 * 4 * 4 + (mf ? 8u + 40u * 4u * 4u : 0u);
      REQUIRE(in.remaining() == expected);
      std::vector<uint8_t> rest(in.remaining());
      in.raw(rest.data(), rest.size(), "parameters");
    });
  }
  BiasBaseline bias;
  bias.fit(train);
  const auto loaded = loadModel(saveModel(bias));
  REQUIRE(scoresOf(*loaded.model, h) == scoresOf(bias, h));
}

TEST_CASE("biased_mf: a layout-1 file (before the implicit term) still loads and scores as it did", "[models]") {
  const Planted data = plantedRatings(60, 40, 0.3, 4);
  const InteractionMatrix train(data.train, data.users, data.items);
  BiasedMf plain(OptionMap{{"factors", "4"}, {"epochs", "5"}, {"implicit", "false"}, {"neighbors", "0"}});
  plain.fit(train);
  // Layout 1: i32 factors, f32 mu, floats item biases, floats item factors; its
  // header has no implicit options, so loading fills in the default implicit=true.
  OptionMap oldOptions = plain.options();
  oldOptions.erase("implicit");
  oldOptions.erase("reg_implicit");
  for (const char* k : {"neighbors", "neighbor_shrink", "lr_neighbor", "reg_neighbor"}) oldOptions.erase(k);
  const auto file = writeModelFile(ModelFileHeader{"biased_mf", oldOptions, {}}, [&](Writer& w) {
    w.i32(plain.factors());
    w.f32(plain.globalMean());
    w.floats(plain.itemBiases());
    w.floats(plain.itemFactors());
  });
  const auto loaded = loadModel(file);
  const auto& mf = dynamic_cast<const BiasedMf&>(*loaded.model);
  REQUIRE(mf.implicit());
  REQUIRE(mf.implicitFactors() == std::vector<float>(40 * 4, 0.0f));
  for (Index u : {Index{0}, Index{5}, Index{17}}) {
    const History h = train.history(u);
    REQUIRE(scoresOf(mf, h) == scoresOf(plain, h));
    for (Index i : {Index{0}, Index{9}}) {
      const auto a = mf.explain(h, i, 3), b = plain.explain(h, i, 3);
      REQUIRE(a.size() == b.size());
      for (size_t k = 0; k < a.size(); ++k) {
        REQUIRE(a[k].source == b[k].source);
        REQUIRE(a[k].weight == Approx(b[k].weight).margin(1e-6));
      }
    }
  }
  // Saved again it is a layout-2 file that loads to the same scores.
  const auto again = loadModel(saveModel(mf));
  REQUIRE(scoresOf(*again.model, train.history(5)) == scoresOf(plain, train.history(5)));
  // A layout-2 file whose implicit block does not match the options is refused.
  const auto wrong = writeModelFile(ModelFileHeader{"biased_mf", plain.options(), {}}, [&](Writer& w) {
    w.i32(-2);
    w.i32(plain.factors());
    w.f32(plain.globalMean());
    w.floats(plain.itemBiases());
    w.floats(plain.itemFactors());
    w.floats(plain.itemFactors());  // implicit=false must have none
  });
  REQUIRE_THROWS_AS(loadModel(wrong), FormatError);
  REQUIRE_THROWS_WITH(BiasedMf(OptionMap{{"implicit", "maybe"}}), Catch::Contains("implicit"));
  REQUIRE_THROWS_WITH(BiasedMf(OptionMap{{"reg_implicit", "-1"}}), Catch::Contains("reg_implicit"));
}

// ---- The neighbourhood term (Koren 2008's integrated model, neighbors > 0) ----

TEST_CASE("biased_mf: the neighbour lists are the brute-force top-k of the shrunk Pearson correlation", "[models]") {
  const Planted data = plantedRatings(50, 30, 0.35, 31);
  const InteractionMatrix train(data.train, data.users, data.items);
  Rng rng(3);
  float mu = 3.4f;
  std::vector<float> bi(30), bu(50);
  for (float& x : bi) x = rng.uniform(-0.5f, 0.5f);
  for (float& x : bu) x = rng.uniform(-0.5f, 0.5f);
  const int k = GENERATE(1, 4, 100);
  const double shrink = 7;
  INFO("k " << k);
  std::vector<int32_t> ptr;
  std::vector<Index> idx;
  BiasedMf::neighborLists(train, mu, bi, bu, k, shrink, ptr, idx);
  REQUIRE(ptr.size() == 31u);
  // Dense residual table (NaN = not rated), then every pair directly.
  std::vector<double> d(50 * 30, std::nan(""));
  for (size_t r = 0; r < data.train.size(); ++r) {
    const Index u = data.train.users[r], i = data.train.items[r];
    d[u * 30 + i] = static_cast<double>(data.train.values[r]) - mu - bu[u] - bi[i];
  }
  size_t longest = 0;
  for (Index i = 0; i < 30; ++i) {
    std::vector<std::pair<double, Index>> ref;
    for (Index j = 0; j < 30; ++j) {
      if (j == i) continue;
      double num = 0, a = 0, b = 0;
      int n = 0;
      for (Index u = 0; u < 50; ++u) {
        const double x = d[u * 30 + i], y = d[u * 30 + j];
        if (std::isnan(x) || std::isnan(y)) continue;
        num += x * y;
        a += x * x;
        b += y * y;
        ++n;
      }
      if (n == 0 || a * b <= 0) continue;
      const double s = num / std::sqrt(a * b) * n / (n + shrink);
      if (s > 0) ref.emplace_back(s, j);
    }
    std::stable_sort(ref.begin(), ref.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
    if (ref.size() > static_cast<size_t>(k)) ref.resize(k);
    INFO("item " << i);
    REQUIRE(static_cast<size_t>(ptr[i + 1] - ptr[i]) == ref.size());
    for (size_t m = 0; m < ref.size(); ++m) REQUIRE(idx[ptr[i] + m] == ref[m].second);
    longest = std::max(longest, ref.size());
  }
  // Some item really has a full list (and with k = 100 only the positive correlations count).
  if (k <= 4) REQUIRE(longest == static_cast<size_t>(k));
  else REQUIRE((longest > 4 && longest < 29));
  // fit builds its lists the same way, relative to the bias model's fit (reg 3, 10 passes).
  BiasedMf model(OptionMap{{"factors", "3"}, {"epochs", "2"}, {"neighbors", "4"}, {"neighbor_shrink", "100"}});
  model.fit(train);
  BiasBaseline bias(OptionMap{{"reg_item", "3"}, {"reg_user", "3"}, {"iterations", "10"}});
  bias.fit(train);
  REQUIRE(model.baselineItemBiases().size() == 30u);
  for (Index i = 0; i < 30; ++i) REQUIRE(model.baselineItemBiases()[i] == Approx(bias.itemBiases()[i]).margin(1e-5));
  BiasedMf::neighborLists(train, model.globalMean(), model.baselineItemBiases(), bias.userBiases(), 4, 100, ptr, idx);
  REQUIRE(model.neighborPtr() == ptr);
  REQUIRE(model.neighborItems() == idx);
}

TEST_CASE("biased_mf: a one-rating visit with the neighbourhood term is one gradient step (finite differences)",
          "[models]") {
  // J = e^2/2 + reg/2 (|p|^2 + |q_i|^2) + regBias/2 (bu^2 + b_i^2) + regY/2 sum_{j in N} |y_j|^2
  //     + regN/2 sum_{m active} (w_m^2 + c_m^2),
  // e = r - (mu + bu + b_i + q_i . (p + z) + |R|^-1/2 sum_{m active} (d_{j_m} w_m + c_m)),
  // rated item i = 1 (training row 2), N = {0, 1, 3}; item 1's list is at positions 1..3 of the
  // lists, items (3, 2, 0): items 3 and 0 are rated (active entries m = 1, 3), 2 is not.
  Rng rng(21);
  const int F = 2, I = 4;
  std::vector<float> p(F), bias(I), Q(I * F), Y(I * F), w(5), c(5), resid(I);
  for (auto* v : {&p, &bias, &Q, &Y, &w, &c, &resid})
    for (float& x : *v) x = rng.uniform(-1.0f, 1.0f);
  const std::vector<int32_t> rows = {2}, actPtr = {0, 1, 1, 3}, actM = {0, 1, 3};
  const std::vector<float> actD = {9.0f, resid[3], resid[0]};
  float bu = -0.1f;
  const float mu = 3.3f, r = 2.5f, reg = 0.06f, regBias = 0.02f, regY = 0.09f, regN = 0.13f;
  const std::vector<Index> ratedItems = {1}, implicitItems = {0, 1, 3};
  const std::vector<float> values = {r};
  auto objective = [&]() {
    double pred = mu + bu + bias[1];
    for (int k = 0; k < F; ++k) {
      double z = 0;
      for (Index j : implicitItems) z += Y[j * F + k];
      pred += Q[1 * F + k] * (p[k] + z / std::sqrt(3.0));
    }
    pred += ((resid[3] * w[1] + c[1]) + (resid[0] * w[3] + c[3])) / std::sqrt(2.0);
    double J = 0.5 * (r - pred) * (r - pred) + 0.5 * regBias * (bu * bu + bias[1] * bias[1]);
    for (int k = 0; k < F; ++k) J += 0.5 * reg * (p[k] * p[k] + Q[1 * F + k] * Q[1 * F + k]);
    for (Index j : implicitItems)
      for (int k = 0; k < F; ++k) J += 0.5 * regY * Y[j * F + k] * Y[j * F + k];
    for (int m : {1, 3}) J += 0.5 * regN * (w[m] * w[m] + c[m] * c[m]);
    return J;
  };
  std::vector<float*> params = {&bu};
  for (auto* v : {&bias, &p, &Q, &Y, &w, &c})
    for (float& x : *v) params.push_back(&x);
  const gradcheck::StepReference ref = gradcheck::stepReference(params, objective);
  const double j0 = objective();
  std::vector<float> scratch;
  NeighborVisit nb{rows.data(), actPtr.data(), actM.data(), actD.data(), w.data(), c.data(), 1.0f, regN};
  BiasedMf::implicitVisit(ratedItems, values, implicitItems, mu, bu, p.data(), bias.data(), Q.data(), Y.data(), F,
                          1.0f, reg, regBias, regY, scratch, &nb);
  // bu, b_1, p (2), q_1 (2), y_0, y_1, y_3 (6), w_1, w_3, c_1, c_3.
  REQUIRE(gradcheck::requireStepIsMinusGradient(params, ref, 3e-4) == 1 + 1 + 2 + 2 + 6 + 4);
  for (size_t k = 0; k < params.size(); ++k) *params[k] = static_cast<float>(ref.before[k]);
  NeighborVisit small = nb;
  small.lr = 0.01f;
  BiasedMf::implicitVisit(ratedItems, values, implicitItems, mu, bu, p.data(), bias.data(), Q.data(), Y.data(), F,
                          0.01f, reg, regBias, regY, scratch, &small);
  REQUIRE(objective() < j0);
}

namespace {
// The neighbourhood term of every item for a history, straight from the definition.
std::vector<double> neighborTermRef(const BiasedMf& model, const History& h) {
  const size_t n = model.itemBiases().size();
  std::vector<double> d(n, std::nan(""));
  double bbu = 0;
  if (h.hasValues()) {
    for (size_t k = 0; k < h.size(); ++k)
      bbu += h.values[k] - model.globalMean() - model.baselineItemBiases()[h.items[k]];
    bbu /= 3.0 + static_cast<double>(h.size());
  }
  for (size_t k = 0; k < h.size(); ++k)
    d[h.items[k]] =
        h.hasValues() ? h.values[k] - model.globalMean() - bbu - model.baselineItemBiases()[h.items[k]] : 0.0;
  std::vector<double> out(n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    double t = 0;
    int cnt = 0;
    for (int32_t m = model.neighborPtr()[i]; m < model.neighborPtr()[i + 1]; ++m) {
      const Index j = model.neighborItems()[m];
      if (std::isnan(d[j])) continue;
      t += d[j] * model.neighborWeights()[m] + model.neighborImplicitWeights()[m];
      ++cnt;
    }
    out[i] = cnt ? t / std::sqrt(static_cast<double>(cnt)) : 0.0;
  }
  return out;
}
}  // namespace

TEST_CASE("biased_mf: with neighbours the fold-in is the exact ridge solve, and explain splits the score exactly",
          "[models]") {
  const Planted data = plantedRatings(60, 40, 0.3, 11);
  const InteractionMatrix train(data.train, data.users, data.items);
  const bool implicit = GENERATE(false, true);
  INFO("implicit " << implicit);
  BiasedMf model(OptionMap{{"factors", "4"}, {"epochs", "15"}, {"reg", "0.05"}, {"reg_bias", "0.02"},
                           {"fold_in_prior", "0.7"}, {"implicit", implicit ? "true" : "false"}, {"neighbors", "6"},
                           {"lr_neighbor", "0.05"}});
  model.fit(train);
  REQUIRE(model.neighborPtr().size() == 41u);
  double wNorm = 0, cNorm = 0;
  for (float x : model.neighborWeights()) wNorm += x * x;
  for (float x : model.neighborImplicitWeights()) cNorm += x * x;
  REQUIRE(wNorm > 1e-3);  // the term is really trained
  REQUIRE(cNorm > 1e-4);
  // A history with a repeated item (the last value counts for the neighbour term).
  const History base = train.history(3);
  std::vector<Index> items(base.items.begin(), base.items.end());
  std::vector<float> values(base.values.begin(), base.values.end());
  items.push_back(items[0]);
  values.push_back(values[0] > 2.5f ? 1.0f : 5.0f);
  const History h{items, values, {}};
  const auto nb = neighborTermRef(model, h);
  const Eigen::Index n = static_cast<Eigen::Index>(h.size()), d = 5;
  Eigen::VectorXd z = Eigen::VectorXd::Zero(4);
  if (implicit) {
    for (Eigen::Index r = 0; r < n; ++r)
      for (int k = 0; k < 4; ++k) z(k) += model.implicitFactors()[h.items[r] * 4 + k];
    z /= std::sqrt(static_cast<double>(n));
  }
  // Independent dense solve with residuals y_h = v_h - mu - b_h - q_h . z - nb_h.
  Eigen::MatrixXd A(n, d);
  Eigen::VectorXd y(n);
  for (Eigen::Index r = 0; r < n; ++r) {
    A(r, 0) = 1;
    for (int k = 0; k < 4; ++k) A(r, k + 1) = model.itemFactors()[h.items[r] * 4 + k];
    y(r) = h.values[r] - model.globalMean() - model.itemBiases()[h.items[r]] - A.row(r).tail(4).dot(z) -
           nb[h.items[r]];
  }
  Eigen::VectorXd reg(d);
  reg << 0.02, 0.05, 0.05, 0.05, 0.05;
  Eigen::MatrixXd S(n + d, d);
  S << A, Eigen::MatrixXd((reg * static_cast<double>(n) + Eigen::VectorXd::Constant(d, 0.7)).cwiseSqrt().asDiagonal());
  Eigen::VectorXd t = Eigen::VectorXd::Zero(n + d);
  t.head(n) = y;
  const Eigen::VectorXd x = S.colPivHouseholderQr().solve(t);
  float bu;
  std::vector<float> p, zz;
  model.foldIn(h, bu, p, zz);
  REQUIRE(bu == Approx(x(0)).margin(1e-5));
  for (int k = 0; k < 4; ++k) REQUIRE(p[k] == Approx(x(k + 1)).margin(1e-5));

  auto check = [&](const History& hist, double userBias, const Eigen::VectorXd& user, const std::vector<double>& nbr) {
    const auto s = scoresOf(model, hist);
    size_t withTerm = 0;
    for (Index i = 0; i < data.items; ++i) {
      double expect = model.globalMean() + userBias + model.itemBiases()[i] + nbr[i];
      for (int k = 0; k < 4; ++k) expect += user(k) * model.itemFactors()[i * 4 + k];
      REQUIRE(s[i] == Approx(expect).margin(1e-4));
      withTerm += std::fabs(nbr[i]) > 1e-4;
      const auto why = model.explain(hist, i, hist.size());
      if (why.size() == 1u && why[0].source == -1) {
        // No user term reaches the item (no values, implicit=false, none of the history in its list).
        REQUIRE_FALSE(hist.hasValues());
        REQUIRE(expect - model.globalMean() - model.itemBiases()[i] == 0.0);
        REQUIRE(why[0].weight == model.globalMean() + model.itemBiases()[i]);
        continue;
      }
      REQUIRE(why.size() == hist.size());
      double sum = 0;
      for (const auto& c : why) sum += c.weight;
      REQUIRE(sum == Approx(expect - model.globalMean() - model.itemBiases()[i]).margin(1e-4));
    }
    REQUIRE(withTerm > 10u);
  };
  check(h, x(0), x.tail(4) + z, nb);
  // No values: b_u = p_u = 0 and only the c part of the neighbour term (and q_i . z).
  const History plain{h.items, {}, {}};
  check(plain, 0.0, z, neighborTermRef(model, plain));
}

TEST_CASE("biased_mf: layout 3 round-trips; neighbors=0 still writes layout 2; a layout-2 file scores as before",
          "[models]") {
  const Planted data = plantedRatings(60, 40, 0.3, 4);
  const InteractionMatrix train(data.train, data.users, data.items);
  const History h = train.history(5);
  BiasedMf with(OptionMap{{"factors", "4"}, {"epochs", "5"}, {"neighbors", "5"}});
  with.fit(train);
  const auto bytes = saveModel(with);
  readModelFile(bytes, [&](const ModelFileHeader&, Reader& in) {
    REQUIRE(in.i32("marker") == -3);
    std::vector<uint8_t> rest(in.remaining());
    in.raw(rest.data(), rest.size(), "parameters");
  });
  const auto loaded = loadModel(bytes);
  const auto& mf = dynamic_cast<const BiasedMf&>(*loaded.model);
  REQUIRE(scoresOf(mf, h) == scoresOf(with, h));
  REQUIRE(mf.neighborItems() == with.neighborItems());
  REQUIRE(saveModel(mf) == bytes);
  BiasedMf again(OptionMap{{"factors", "4"}, {"epochs", "5"}, {"neighbors", "5"}});
  again.fit(train);
  REQUIRE(saveModel(again) == bytes);  // deterministic per seed
  for (Index i : {Index{0}, Index{7}}) {
    const auto a = mf.explain(h, i, 4), b = with.explain(h, i, 4);
    REQUIRE(a.size() == b.size());
    for (size_t k = 0; k < a.size(); ++k) REQUIRE(a[k].weight == b[k].weight);
  }
  // neighbors = 0: layout 2, as before the term.
  BiasedMf without(OptionMap{{"factors", "4"}, {"epochs", "5"}, {"neighbors", "0"}});
  without.fit(train);
  readModelFile(saveModel(without), [&](const ModelFileHeader&, Reader& in) {
    REQUIRE(in.i32("marker") == -2);
    std::vector<uint8_t> rest(in.remaining());
    in.raw(rest.data(), rest.size(), "parameters");
  });
  // A layout-2 file written before the neighbour options: its header has none, so
  // loading fills in the defaults; it has no lists, so it scores exactly as it did.
  OptionMap oldOptions = without.options();
  for (const char* k : {"neighbors", "neighbor_shrink", "lr_neighbor", "reg_neighbor"}) oldOptions.erase(k);
  const auto old = writeModelFile(ModelFileHeader{"biased_mf", oldOptions, {}}, [&](Writer& w) {
    w.i32(-2);
    w.i32(without.factors());
    w.f32(without.globalMean());
    w.floats(without.itemBiases());
    w.floats(without.itemFactors());
    w.floats(without.implicitFactors());
  });
  const auto oldLoaded = loadModel(old);
  const auto& oldMf = dynamic_cast<const BiasedMf&>(*oldLoaded.model);
  REQUIRE(oldMf.neighborPtr().empty());
  REQUIRE(scoresOf(oldMf, h) == scoresOf(without, h));
  for (Index i : {Index{0}, Index{3}, Index{7}}) {
    const auto a = oldMf.explain(h, i, 4), b = without.explain(h, i, 4);
    REQUIRE(a.size() == b.size());
    for (size_t k = 0; k < a.size(); ++k) {
      REQUIRE(a[k].source == b[k].source);
      REQUIRE(a[k].weight == b[k].weight);
    }
  }
  // A corrupt layout-3 list (an item its own neighbour) is refused.
  const auto bad = writeModelFile(ModelFileHeader{"biased_mf", with.options(), {}}, [&](Writer& w) {
    w.i32(-3);
    w.i32(with.factors());
    w.f32(with.globalMean());
    w.floats(with.itemBiases());
    w.floats(with.itemFactors());
    w.floats(with.implicitFactors());
    w.floats(with.baselineItemBiases());
    std::vector<int32_t> ptr(41, 1);
    ptr[0] = 0;
    w.ints(ptr);
    w.ints(std::vector<int32_t>{0});
    w.floats(std::vector<float>{0.5f});
    w.floats(std::vector<float>{0.5f});
  });
  REQUIRE_THROWS_AS(loadModel(bad), FormatError);
  // The options are validated, naming the option.
  REQUIRE_THROWS_WITH(BiasedMf(OptionMap{{"neighbors", "-1"}}), Catch::Contains("neighbors"));
  REQUIRE_THROWS_WITH(BiasedMf(OptionMap{{"neighbors", "2001"}}), Catch::Contains("neighbors"));
  REQUIRE_THROWS_WITH(BiasedMf(OptionMap{{"neighbor_shrink", "-1"}}), Catch::Contains("neighbor_shrink"));
  REQUIRE_THROWS_WITH(BiasedMf(OptionMap{{"lr_neighbor", "0"}}), Catch::Contains("lr_neighbor"));
  REQUIRE_THROWS_WITH(BiasedMf(OptionMap{{"reg_neighbor", "-0.5"}}), Catch::Contains("reg_neighbor"));
}

TEST_CASE("biased_mf: the neighbour phase reports progress regularly and honours a cancel", "[models]") {
  // Fully observed 250 x 250: the lists take sum_u |items(u)|^2 ~ 250 * 200^2 = 10M
  // inner steps, several 2^20-step report intervals.
  const Planted data = plantedRatings(250, 250, 1.0, 8);
  const InteractionMatrix train(data.train, data.users, data.items);
  const OptionMap options{{"factors", "2"}, {"epochs", "2"}, {"neighbors", "5"}};
  std::vector<std::pair<double, std::string>> reports;
  Progress watch([&](double f, const std::string& stage) {
    reports.emplace_back(f, stage);
    return false;
  });
  BiasedMf model(options);
  model.fit(train, watch);
  size_t neighborReports = 0;
  bool sgdSeen = false;
  for (size_t r = 0; r < reports.size(); ++r) {
    INFO("report " << r << ": " << reports[r].first << " " << reports[r].second);
    if (r > 0) REQUIRE(reports[r].first >= reports[r - 1].first);
    if (reports[r].second == "neighbors") {
      REQUIRE_FALSE(sgdSeen);
      ++neighborReports;
    }
    sgdSeen = sgdSeen || reports[r].second == "sgd";
  }
  REQUIRE(neighborReports >= 3);  // not only the one at the start of the phase
  REQUIRE(reports.back().first == 1.0);

  // A cancel asked for at the second "neighbors" report (inside the phase) stops the fit there.
  int seen = 0;
  bool sgdAfterCancel = false;
  Progress cancelInside([&](double, const std::string& stage) {
    if (stage == "sgd") sgdAfterCancel = true;
    return stage == "neighbors" && ++seen == 2;
  });
  BiasedMf cancelled(options);
  REQUIRE_THROWS_AS(cancelled.fit(train, cancelInside), Cancelled);
  REQUIRE(seen == 2);
  REQUIRE_FALSE(sgdAfterCancel);
  REQUIRE_FALSE(cancelled.fitted());
  // neighborLists itself honours a cancel.
  std::vector<float> bi(250, 0.0f), bu(250, 0.0f);
  std::vector<int32_t> ptr;
  std::vector<Index> idx;
  Progress cancelAtOnce([](double, const std::string&) { return true; });
  REQUIRE_THROWS_AS(BiasedMf::neighborLists(train, 3.5f, bi, bu, 5, 100, ptr, idx, cancelAtOnce, 0, 1), Cancelled);
}

TEST_CASE("biased_mf: drawing the initial factors reports progress and honours a cancel", "[models]") {
  // (250 users + 2 x 250 items) x 64 factors = 48,000 draws: several 2^14-draw report intervals.
  const Planted data = plantedRatings(250, 250, 0.2, 8);
  const InteractionMatrix train(data.train, data.users, data.items);
  int inits = 0;
  bool laterStage = false;
  Progress cancelInside([&](double, const std::string& stage) {
    if (stage != "init") laterStage = true;
    return stage == "init" && ++inits == 2;
  });
  BiasedMf model(OptionMap{{"factors", "64"}, {"epochs", "1"}});
  REQUIRE_THROWS_AS(model.fit(train, cancelInside), Cancelled);
  REQUIRE(inits == 2);
  REQUIRE_FALSE(laterStage);
  REQUIRE_FALSE(model.fitted());
}

TEST_CASE("biased_mf: activeEntryCount counts each training row's rated list items (brute force)", "[models]") {
  const Planted data = plantedRatings(40, 30, 0.4, 17);
  const InteractionMatrix train(data.train, data.users, data.items);
  const int k = GENERATE(1, 5, 100);
  BiasedMf model(OptionMap{{"factors", "2"}, {"epochs", "1"}, {"neighbors", std::to_string(k)}});
  model.fit(train);
  const auto& ptr = model.neighborPtr();
  const auto& idx = model.neighborItems();
  std::set<std::pair<Index, Index>> rated;
  for (size_t r = 0; r < data.train.size(); ++r) rated.emplace(data.train.users[r], data.train.items[r]);
  int64_t expect = 0;
  for (const auto& [u, i] : rated)
    for (int32_t m = ptr[i]; m < ptr[i + 1]; ++m) expect += rated.count({u, idx[m]});
  REQUIRE(expect > 0);
  REQUIRE(BiasedMf::activeEntryCount(train, ptr, idx) == expect);
}

TEST_CASE("biased_mf: a diverging fit (too large a learning rate) fails with an error naming the rate", "[models]") {
  // Ratings on a 0-15 scale (the planted table x 3): baseline residuals of a few points,
  // so that one w, c step with lr_neighbor = 1 overshoots (lr (1 + mean d^2) > 2).
  Planted data = plantedRatings(60, 40, 0.3, 11);
  for (float& v : data.train.values) v *= 3.0f;
  const InteractionMatrix train(data.train, data.users, data.items);
  BiasedMf nb(OptionMap{{"factors", "4"}, {"epochs", "20"}, {"neighbors", "6"}, {"lr_neighbor", "1"}});
  REQUIRE_THROWS_AS(nb.fit(train), InvalidArgument);
  REQUIRE_THROWS_WITH(nb.fit(train), Catch::Contains("lr_neighbor") && Catch::Contains("epoch"));
  REQUIRE_FALSE(nb.fitted());
  const bool implicit = GENERATE(false, true);
  INFO("implicit " << implicit);
  BiasedMf big(OptionMap{{"factors", "4"}, {"epochs", "20"}, {"lr", "1"}, {"neighbors", "0"},
                         {"implicit", implicit ? "true" : "false"}});
  REQUIRE_THROWS_WITH(big.fit(train), Catch::Contains("lower lr") && Catch::Contains("epoch"));
  REQUIRE_FALSE(big.fitted());
  // The defaults' rates do not trip the check.
  BiasedMf fine(OptionMap{{"factors", "4"}, {"epochs", "20"}, {"neighbors", "6"}});
  fine.fit(train);
  REQUIRE(fine.fitted());
}

TEST_CASE("biased_mf: explain with no user term reaching the item gives the one reason mu + b_i", "[models]") {
  // implicit=false, no values: only the c part of the neighbour term can reach an item.
  const Planted data = plantedRatings(60, 40, 0.3, 11);
  const InteractionMatrix train(data.train, data.users, data.items);
  BiasedMf model(OptionMap{{"factors", "4"}, {"epochs", "15"}, {"implicit", "false"}, {"neighbors", "6"},
                           {"lr_neighbor", "0.05"}});
  model.fit(train);
  const std::vector<Index> items = {train.byUser().rowIndices(2)[0]};
  const History h{items, {}, {}};
  size_t outside = 0, inside = 0;
  for (Index i = 0; i < data.items; ++i) {
    bool listed = false;
    for (int32_t m = model.neighborPtr()[i]; m < model.neighborPtr()[i + 1]; ++m)
      listed = listed || model.neighborItems()[m] == items[0];
    const auto why = model.explain(h, i, 5);
    INFO("item " << i << (listed ? " lists" : " does not list") << " the history item");
    if (!listed) {
      REQUIRE(why.size() == 1u);
      REQUIRE(why[0].source == -1);
      REQUIRE(why[0].weight == model.globalMean() + model.itemBiases()[i]);
      ++outside;
    } else {
      REQUIRE(why.size() == 1u);
      REQUIRE(why[0].source == 0);
      REQUIRE(why[0].weight != 0.0f);
      ++inside;
    }
  }
  REQUIRE(outside > 0u);
  REQUIRE(inside > 0u);
}

TEST_CASE("mf models: non-finite values are refused with a clear error; edge histories are finite", "[models]") {
  Interactions rows;
  rows.push(0, 0, 4, 0);
  rows.push(0, 1, std::numeric_limits<float>::quiet_NaN(), 0);
  rows.push(1, 1, 3, 0);
  const InteractionMatrix bad(rows, 2, 3);
  REQUIRE_THROWS_WITH(BiasBaseline().fit(bad), Catch::Contains("not finite"));
  REQUIRE_THROWS_AS(BiasedMf().fit(bad), InvalidArgument);

  const InteractionMatrix train = tinyRatings();
  BiasBaseline bias;
  bias.fit(train);
  BiasedMf mf(OptionMap{{"factors", "2"}, {"epochs", "3"}});
  mf.fit(train);
  Bpr bpr(OptionMap{{"factors", "2"}, {"epochs", "3"}});
  bpr.fit(train);
  const std::vector<Index> items = {0, 2};
  const std::vector<float> inf = {4.0f, std::numeric_limits<float>::infinity()};
  std::vector<float> out(4);
  REQUIRE_THROWS_AS(bias.score(History{items, inf, {}}, out), InvalidArgument);
  REQUIRE_THROWS_WITH(mf.score(History{items, inf, {}}, out), Catch::Contains("history value 1"));
  REQUIRE_THROWS_AS(mf.explain(History{items, inf, {}}, 0), InvalidArgument);
  // Every item in the history (no negatives left for the bpr fold-in): finite scores.
  const std::vector<Index> all = {0, 1, 2, 3, 1};
  const std::vector<float> vals = {5, 4, 3, 2, 1};
  for (const Recommender* m : std::vector<const Recommender*>{&bias, &mf, &bpr}) {
    for (float s : scoresOf(*m, History{all, vals, {}})) REQUIRE(std::isfinite(s));
    for (float s : scoresOf(*m, History{})) REQUIRE(std::isfinite(s));
  }
  // bpr's empty history scores are its item biases.
  REQUIRE(scoresOf(bpr, History{}) == bpr.itemBiases());
}

// iALS against dense brute-force solves of the same objective, plus the
// properties Hu et al.'s formulation guarantees (monotone objective with exact
// solves, fold-in = stored factor, explanations summing to the score).
#include "models/cf/ials.h"

#include <Eigen/Dense>
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "data/csr.h"
#include "model_contract.h"
#include "models/model_io.h"

using namespace localrec;

namespace {

constexpr Index kUsers = 6, kItems = 5;
constexpr int kK = 3;

// 6 users x 5 items with ratings-like values; item 4 is seen by one user only,
// user 5 has a single event.
InteractionMatrix tinyTrain() {
  const int table[kUsers][kItems] = {
      {5, 3, 0, 1, 0}, {4, 0, 0, 1, 0}, {1, 1, 0, 5, 0}, {0, 0, 5, 4, 2}, {0, 1, 5, 4, 0}, {0, 0, 0, 2, 0}};
  Interactions rows;
  for (Index u = 0; u < kUsers; ++u)
    for (Index i = 0; i < kItems; ++i)
      if (table[u][i] > 0) rows.push(u, i, static_cast<float>(table[u][i]), u * 10 + i);
  return InteractionMatrix(rows, kUsers, kItems);
}

std::vector<float> randomFactors(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = rng.uniform(-0.5f, 0.5f);
  return v;
}

// The dense confidence matrix C (n_users x n_items) and preference P.
void denseCP(const InteractionMatrix& train, double alpha, bool logConf, double eps, Eigen::MatrixXd& C,
             Eigen::MatrixXd& P) {
  C = Eigen::MatrixXd::Ones(train.numUsers(), train.numItems());
  P = Eigen::MatrixXd::Zero(train.numUsers(), train.numItems());
  for (Index u = 0; u < train.numUsers(); ++u) {
    const auto idx = train.byUser().rowIndices(u);
    const auto vals = train.byUser().rowValues(u);
    for (size_t t = 0; t < idx.size(); ++t) {
      C(u, idx[t]) = 1 + alpha * (logConf ? std::log(1 + vals[t] / eps) : vals[t]);
      P(u, idx[t]) = 1;
    }
  }
}

Eigen::MatrixXd toDense(const std::vector<float>& f, Index rows, int k) {
  Eigen::MatrixXd m(rows, k);
  for (Index r = 0; r < rows; ++r)
    for (int d = 0; d < k; ++d) m(r, d) = f[static_cast<size_t>(r) * k + d];
  return m;
}

// x_r = (F^T C_r F + reg I)^-1 F^T C_r p_r with C_r = diag(row r of C): the
// normal equations of each row, built with the explicit diagonal.
Eigen::MatrixXd bruteSolve(const Eigen::MatrixXd& F, const Eigen::MatrixXd& C, const Eigen::MatrixXd& P,
                           double reg) {
  Eigen::MatrixXd out(C.rows(), F.cols());
  for (Index r = 0; r < C.rows(); ++r) {
    const Eigen::MatrixXd Cr = C.row(r).transpose().asDiagonal();
    const Eigen::MatrixXd A = F.transpose() * Cr * F + reg * Eigen::MatrixXd::Identity(F.cols(), F.cols());
    const Eigen::VectorXd b = F.transpose() * Cr * P.row(r).transpose();
    out.row(r) = A.fullPivLu().solve(b).transpose();
  }
  return out;
}

double bruteLoss(const Eigen::MatrixXd& X, const Eigen::MatrixXd& Y, const Eigen::MatrixXd& C,
                 const Eigen::MatrixXd& P, double reg) {
  const Eigen::MatrixXd E = P - X * Y.transpose();
  return (C.array() * E.array().square()).sum() + reg * (X.squaredNorm() + Y.squaredNorm());
}

void requireClose(const std::vector<float>& got, const Eigen::MatrixXd& want, double tol) {
  for (Index r = 0; r < want.rows(); ++r)
    for (Index d = 0; d < want.cols(); ++d) {
      INFO("row " << r << " dim " << d);
      REQUIRE(got[static_cast<size_t>(r) * want.cols() + d] == Approx(want(r, d)).margin(tol).epsilon(tol));
    }
}

double maxRelDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double scale = 0, diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
    diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
  }
  return diff / std::max(scale, 1e-30);
}

std::vector<float> scoresOf(const Recommender& m, const History& h) {
  std::vector<float> out(static_cast<size_t>(m.numItems()));
  m.score(h, out);
  return out;
}

}  // namespace

TEST_CASE("ials cholesky half-steps equal dense solves of the normal equations", "[models]") {
  const InteractionMatrix train = tinyTrain();
  for (const bool logConf : {false, true}) {
    INFO("confidence " << (logConf ? "log" : "linear"));
    const double alpha = 1.5, reg = 0.3, eps = 2.0;
    Ials model(OptionMap{{"factors", std::to_string(kK)},
                {"solver", "cholesky"},
                {"alpha", "1.5"},
                {"reg", "0.3"},
                {"confidence", logConf ? "log" : "linear"},
                {"epsilon", "2"}});
    const auto X0 = randomFactors(kUsers * kK, 1), Y0 = randomFactors(kItems * kK, 2);
    model.setFactors(kUsers, kItems, X0, Y0);
    Eigen::MatrixXd C, P;
    denseCP(train, alpha, logConf, eps, C, P);

    // User side against the initial item factors.
    model.solveUsers(train);
    const Eigen::MatrixXd Xwant = bruteSolve(toDense(Y0, kItems, kK), C, P, reg);
    requireClose(model.userFactors(), Xwant, 1e-5);
    REQUIRE(model.itemFactors() == Y0);  // a user half-step leaves the items alone

    // Item side against the new user factors: the transposed problem.
    model.solveItems(train);
    const Eigen::MatrixXd Ywant =
        bruteSolve(toDense(model.userFactors(), kUsers, kK), C.transpose(), P.transpose(), reg);
    requireClose(model.itemFactors(), Ywant, 1e-5);

    // And the objective the model reports is the dense one.
    const double want =
        bruteLoss(toDense(model.userFactors(), kUsers, kK), toDense(model.itemFactors(), kItems, kK), C, P, reg);
    REQUIRE(model.loss(train) == Approx(want).epsilon(1e-9));
  }
}

TEST_CASE("ials conjugate gradient with enough steps reaches the exact solution", "[models]") {
  const InteractionMatrix train = localrec::testing::contractTrainingData();
  const int k = 8;
  const auto X0 = randomFactors(static_cast<size_t>(train.numUsers()) * k, 3);
  const auto Y0 = randomFactors(static_cast<size_t>(train.numItems()) * k, 4);
  Ials exact(OptionMap{{"factors", "8"}, {"solver", "cholesky"}});
  Ials cg(OptionMap{{"factors", "8"}, {"solver", "cg"}, {"cg_steps", "40"}});
  Ials cg1(OptionMap{{"factors", "8"}, {"solver", "cg"}, {"cg_steps", "1"}});
  for (Ials* m : {&exact, &cg, &cg1}) m->setFactors(train.numUsers(), train.numItems(), X0, Y0);
  for (Ials* m : {&exact, &cg, &cg1}) m->solveUsers(train);
  REQUIRE(maxRelDiff(cg.userFactors(), exact.userFactors()) < 1e-4);
  REQUIRE(maxRelDiff(cg1.userFactors(), exact.userFactors()) > 1e-3);  // one step is not the answer
  for (Ials* m : {&exact, &cg}) m->solveItems(train);
  REQUIRE(maxRelDiff(cg.itemFactors(), exact.itemFactors()) < 1e-4);
}

TEST_CASE("ials objective never increases with exact solves and falls with cg", "[models]") {
  const InteractionMatrix train = localrec::testing::contractTrainingData();
  Ials model(OptionMap{{"factors", "6"}, {"solver", "cholesky"}, {"alpha", "3"}, {"reg", "0.1"}});
  model.setFactors(train.numUsers(), train.numItems(),
                   randomFactors(static_cast<size_t>(train.numUsers()) * 6, 5),
                   randomFactors(static_cast<size_t>(train.numItems()) * 6, 6));
  double previous = model.loss(train);
  const double start = previous;
  for (int it = 0; it < 12; ++it) {
    INFO("iteration " << it);
    model.solveUsers(train);
    const double afterUsers = model.loss(train);
    REQUIRE(afterUsers <= previous * (1 + 1e-9));
    model.solveItems(train);
    const double afterItems = model.loss(train);
    REQUIRE(afterItems <= afterUsers * (1 + 1e-9));
    previous = afterItems;
  }
  REQUIRE(previous < 0.5 * start);

  // A default (cg) fit ends far below its own first half-step's objective.
  Ials one(OptionMap{{"factors", "6"}, {"iterations", "1"}});
  Ials many(OptionMap{{"factors", "6"}, {"iterations", "20"}});
  one.fit(train);
  many.fit(train);
  REQUIRE(many.loss(train) < one.loss(train));
}

TEST_CASE("ials fold-in of a training user's history reproduces the stored user factor", "[models]") {
  const InteractionMatrix train = localrec::testing::contractTrainingData();
  for (const std::string solver : {"cholesky", "cg"}) {
    INFO("solver " << solver);
    // cg needs more steps per solve to land on the same fixed point within 1e-4.
    Ials model(OptionMap{{"factors", "8"}, {"iterations", "40"}, {"solver", solver}, {"cg_steps", "8"}});
    model.fit(train);
    const int k = model.factors();
    for (Index u : {0, 17, 100, 150, 199}) {
      INFO("user " << u);
      const auto viaFold = scoresOf(model, train.history(u));
      std::vector<float> viaStored(static_cast<size_t>(train.numItems()));
      for (Index i = 0; i < train.numItems(); ++i) {
        double s = 0;
        for (int d = 0; d < k; ++d)
          s += double(model.userFactors()[size_t(u) * k + d]) * model.itemFactors()[size_t(i) * k + d];
        viaStored[i] = static_cast<float>(s);
      }
      REQUIRE(maxRelDiff(viaFold, viaStored) < 1e-4);
    }
  }
}

TEST_CASE("ials explanations are Hu et al.'s s_ij c_j and sum to the score", "[models]") {
  const InteractionMatrix train = localrec::testing::contractTrainingData();
  Ials model(OptionMap{{"factors", "8"}, {"iterations", "10"}, {"alpha", "2"}, {"reg", "0.05"}});
  model.fit(train);
  const int k = model.factors();
  OwnedHistory h;
  h.items = {1, 2, 3, 20, 2};
  h.values = {5, 1, 3, 0.5f, 2};
  for (const bool withValues : {true, false}) {
    INFO("values " << withValues);
    const History view{h.items, withValues ? std::span<const float>(h.values) : std::span<const float>{}, {}};
    const auto scores = scoresOf(model, view);
    // Dense reference: A = Y^T C Y + reg I over the whole catalog, W = A^-1.
    const Eigen::MatrixXd Y = toDense(model.itemFactors(), train.numItems(), k);
    Eigen::VectorXd c = Eigen::VectorXd::Ones(train.numItems());
    Eigen::MatrixXd A = Y.transpose() * Y + 0.05 * Eigen::MatrixXd::Identity(k, k);
    std::vector<double> conf(h.items.size());
    for (size_t t = 0; t < h.items.size(); ++t) {
      conf[t] = 1 + 2.0 * (withValues ? h.values[t] : 1.0);
      A += (conf[t] - 1) * Y.row(h.items[t]).transpose() * Y.row(h.items[t]);
    }
    const Eigen::MatrixXd W = A.inverse();
    for (Index item : {0, 4, 16, 31}) {
      INFO("item " << item);
      const auto why = model.explain(view, item, h.items.size());
      REQUIRE(why.size() == h.items.size());
      double sum = 0;
      for (size_t r = 0; r < why.size(); ++r) {
        if (r > 0) REQUIRE(why[r].weight <= why[r - 1].weight);
        const Index j = why[r].source;
        const double want = Y.row(item).dot(W * Y.row(h.items[j]).transpose()) * conf[j];
        REQUIRE(why[r].weight == Approx(want).margin(1e-5).epsilon(1e-4));
        sum += why[r].weight;
      }
      REQUIRE(sum == Approx(scores[item]).margin(1e-5 * std::fabs(scores[0])).epsilon(1e-4));
      REQUIRE(model.explain(view, item, 2).size() == 2);
    }
  }
}

TEST_CASE("ials save and load round-trip factors and scores exactly", "[models]") {
  const InteractionMatrix train = localrec::testing::contractTrainingData();
  Ials model(OptionMap{{"factors", "5"}, {"iterations", "3"}});
  model.fit(train);
  const auto file = saveModel(model);
  const LoadedModel loaded = loadModel(file);
  const auto& copy = dynamic_cast<const Ials&>(*loaded.model);
  REQUIRE(copy.numUsers() == model.numUsers());
  REQUIRE(copy.userFactors() == model.userFactors());
  REQUIRE(copy.itemFactors() == model.itemFactors());
  const std::vector<Index> items = {3, 7, 21};
  REQUIRE(scoresOf(copy, History{items, {}, {}}) == scoresOf(model, History{items, {}, {}}));
  REQUIRE(saveModel(copy) == file);
  // Factors and the options must agree.
  Ials other(OptionMap{{"factors", "6"}});
  Writer w;
  model.save(w);
  Reader r(w.bytes());
  REQUIRE_THROWS_AS(other.load(r), FormatError);
}

TEST_CASE("ials update refreshes changed users then items, like one iteration from the same factors",
          "[models]") {
  const InteractionMatrix before = localrec::testing::contractTrainingData();
  // New events: users 3 and 150 interact with more items, and a new user 200 arrives.
  Interactions rows;
  for (Index u = 0; u < before.numUsers(); ++u) {
    const auto h = before.history(u);
    for (size_t t = 0; t < h.size(); ++t) rows.push(u, h.items[t], h.values[t], h.times[t]);
  }
  const Timestamp later = 2'000'000'000;
  for (Index i : {20, 21, 22}) rows.push(3, i, 4, later + i);
  rows.push(150, 5, 2, later);
  for (Index i : {1, 2, 30}) rows.push(200, i, 3, later + i);
  const InteractionMatrix after(rows, before.numUsers() + 1, before.numItems());
  const std::vector<Index> changed = {150, 3};

  for (const std::string solver : {"cholesky", "cg"}) {
    INFO("solver " << solver);
    const OptionMap options = {{"factors", "6"}, {"iterations", "6"}, {"solver", solver}};
    Ials model(options);
    model.fit(before);
    const int k = model.factors();
    // The starting point on the new data: old factors, the new user at zero.
    std::vector<float> users = model.userFactors();
    users.resize(static_cast<size_t>(after.numUsers()) * k, 0.0f);
    Ials reference(options);
    reference.setFactors(after.numUsers(), after.numItems(), users, model.itemFactors());
    const double lossBefore = reference.loss(after);

    model.update(after, changed);
    REQUIRE(model.numUsers() == after.numUsers());
    REQUIRE(model.loss(after) < lossBefore);

    if (solver == "cholesky") {
      // One full iteration from the same factors re-solves every user, but the
      // unchanged ones were already the solution for these item factors.
      reference.solveUsers(after);
      reference.solveItems(after);
      REQUIRE(maxRelDiff(model.userFactors(), reference.userFactors()) < 1e-5);
      REQUIRE(maxRelDiff(model.itemFactors(), reference.itemFactors()) < 1e-5);
    }
  }

  Ials unfitted(OptionMap{{"factors", "4"}});
  REQUIRE_THROWS_AS(unfitted.update(after, changed), StateError);
  Ials model(OptionMap{{"factors", "4"}, {"iterations", "2"}});
  model.fit(after);
  REQUIRE_THROWS_AS(model.update(before, changed), InvalidArgument);  // fewer users than fitted
  const std::vector<Index> outside = {after.numUsers()};
  REQUIRE_THROWS_AS(model.update(after, outside), InvalidArgument);
  const InteractionMatrix otherCatalog(rows, after.numUsers(), after.numItems() + 1);
  REQUIRE_THROWS_AS(model.update(otherCatalog, changed), InvalidArgument);
  // A cancelled update leaves the model as it was.
  const auto keep = model.itemFactors();
  Progress cancel([](double, const std::string&) { return true; });
  REQUIRE_THROWS_AS(model.update(after, changed, cancel), Cancelled);
  REQUIRE(model.itemFactors() == keep);
}

TEST_CASE("ials bad input: uninformative histories get the mean user, bad values are refused", "[models]") {
  const InteractionMatrix train = tinyTrain();
  Ials model(OptionMap{{"factors", "3"}, {"iterations", "3"}, {"reg", "0.5"}});
  model.fit(train);
  // Empty history: scores = Y mean(x_u), the mean training user.
  std::vector<double> mean(3, 0.0);
  for (Index u = 0; u < kUsers; ++u)
    for (int d = 0; d < 3; ++d) mean[d] += model.userFactors()[size_t(u) * 3 + d] / kUsers;
  const auto none = scoresOf(model, History{});
  for (Index i = 0; i < kItems; ++i) {
    double want = 0;
    for (int d = 0; d < 3; ++d) want += mean[d] * model.itemFactors()[size_t(i) * 3 + d];
    REQUIRE(none[i] == Approx(want).margin(1e-6).epsilon(1e-5));
  }
  REQUIRE(none[3] > none[4]);  // the mean user prefers the popular item 3 to item 4 (one user)
  const auto why = model.explain(History{}, 2, 5);
  REQUIRE(why.size() == 1);
  REQUIRE(why[0].source == -1);
  REQUIRE(why[0].weight == Approx(none[2]).margin(1e-6));
  // Items with all-zero factors carry no information either: same as empty.
  Ials zeroItem(OptionMap{{"factors", "3"}});
  std::vector<float> zeroed = model.itemFactors();
  std::fill(zeroed.begin() + 4 * 3, zeroed.end(), 0.0f);
  zeroItem.setFactors(kUsers, kItems, model.userFactors(), zeroed);
  const std::vector<Index> onlyCold = {4};
  REQUIRE(scoresOf(zeroItem, History{onlyCold, {}, {}}) == scoresOf(zeroItem, History{}));
  const std::vector<Index> items = {0, 1};
  for (float bad : {std::nanf(""), INFINITY, -1.0f}) {
    const std::vector<float> values = {1.0f, bad};
    std::vector<float> out(kItems);
    REQUIRE_THROWS_AS(model.score(History{items, values, {}}, out), InvalidArgument);
    REQUIRE_THROWS_AS(model.explain(History{items, values, {}}, 0), InvalidArgument);
  }
  // A user with every item seen still gets finite scores (the caller filters them all).
  const std::vector<Index> all = {0, 1, 2, 3, 4};
  for (float s : scoresOf(model, History{all, {}, {}})) REQUIRE(std::isfinite(s));

  Interactions negative;
  negative.push(0, 0, 1, 0);
  negative.push(1, 1, -2, 0);
  Ials fresh(OptionMap{{"factors", "2"}});
  REQUIRE_THROWS_AS(fresh.fit(InteractionMatrix(negative, 2, 2)), InvalidArgument);
  REQUIRE_THROWS_WITH(fresh.fit(InteractionMatrix(negative, 2, 2)), Catch::Contains("value"));
  REQUIRE_FALSE(fresh.fitted());
}

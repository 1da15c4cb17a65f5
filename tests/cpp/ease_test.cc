#include "models/cf/ease.h"

#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "data/csr.h"
#include "io/model_file.h"
#include "io/serialize.h"
#include "models/model_io.h"

using namespace localrec;

namespace {

// A random sparse training matrix: each user interacts with each item with a
// probability that falls with the item index (power-law-ish), values 1..5.
// Items listed in `cold` get no interactions; item `rare` gets exactly one.
InteractionMatrix randomData(Index users, Index items, uint64_t seed, std::vector<Index> cold = {},
                             Index rare = -1) {
  Rng rng(seed);
  Interactions rows;
  for (Index u = 0; u < users; ++u) {
    Timestamp t = 0;
    for (Index i = 0; i < items; ++i) {
      if (std::find(cold.begin(), cold.end(), i) != cold.end() || i == rare) continue;
      const double p = 0.05 + 0.5 / (1.0 + 0.1 * i);
      if (rng.uniform() < p) rows.push(u, i, static_cast<float>(1 + rng.below(5)), t++);
    }
    if (u == 0 && rare >= 0) rows.push(u, rare, 3.0f, t++);
  }
  return InteractionMatrix(rows, users, items);
}

// The textbook formula, dense and in double: over the items with at least
// `minSupport` interactions, G = X^T X + lambda I, P = G^-1, B_ij = -P_ij / P_jj.
struct Reference {
  std::vector<Index> warm;
  Eigen::MatrixXd g, p, b;
};

Reference reference(const InteractionMatrix& train, double lambda, bool values, int minSupport = 1) {
  Reference r;
  std::vector<Index> warmOf(train.numItems(), -1);
  for (Index i = 0; i < train.numItems(); ++i)
    if (train.byItem().rowSize(i) >= minSupport) {
      warmOf[i] = static_cast<Index>(r.warm.size());
      r.warm.push_back(i);
    }
  const Index w = static_cast<Index>(r.warm.size());
  Eigen::MatrixXd x = Eigen::MatrixXd::Zero(train.numUsers(), w);
  for (Index u = 0; u < train.numUsers(); ++u) {
    const auto items = train.byUser().rowIndices(u);
    const auto vals = train.byUser().rowValues(u);
    for (size_t k = 0; k < items.size(); ++k)
      if (warmOf[items[k]] >= 0) x(u, warmOf[items[k]]) = values ? vals[k] : 1.0;
  }
  r.g = x.transpose() * x;
  r.g.diagonal().array() += lambda;
  r.p = r.g.inverse();
  r.b = Eigen::MatrixXd(w, w);
  for (Index i = 0; i < w; ++i)
    for (Index j = 0; j < w; ++j) r.b(i, j) = i == j ? 0.0 : -r.p(i, j) / r.p(j, j);
  return r;
}

// The model's B as a dense double matrix in warm order: B(a, b) = weights()[a * W + b].
Eigen::MatrixXd modelB(const Ease& model) {
  const Index w = static_cast<Index>(model.warmItems().size());
  Eigen::MatrixXd b(w, w);
  for (Index a = 0; a < w; ++a)
    for (Index c = 0; c < w; ++c) b(a, c) = model.weights()[static_cast<size_t>(a) * w + c];
  return b;
}

double maxAbs(const Eigen::MatrixXd& m) { return m.cwiseAbs().maxCoeff(); }

std::vector<float> scoresOf(const Ease& model, const History& h) {
  std::vector<float> out(model.numItems());
  model.score(h, out);
  return out;
}

}  // namespace

TEST_CASE("ease B equals the dense closed form on a small random matrix", "[models]") {
  // 13 items: item 11 is cold (zero row and column), so B covers 12 warm items.
  const InteractionMatrix train = randomData(60, 13, 3, {11});
  for (const char* precision : {"float", "double"}) {
    for (const char* weighting : {"binary", "value"}) {
      INFO(precision << " " << weighting);
      Ease model(OptionMap{{"lambda", "2.5"}, {"precision", precision}, {"weighting", weighting}, {"min_support", "1"}});
      model.fit(train);
      const Reference ref = reference(train, 2.5, std::string(weighting) == "value");
      REQUIRE(model.warmItems() == ref.warm);
      REQUIRE(model.warmItems().size() == 12);
      const Eigen::MatrixXd b = modelB(model);
      // B entries are O(0.1..1); float arithmetic on a 12 x 12 system keeps ~1e-5.
      REQUIRE(maxAbs(b - ref.b) < (std::string(precision) == "double" ? 1e-6 : 2e-5));
      for (Index a = 0; a < 12; ++a) REQUIRE(b(a, a) == 0.0);
    }
  }
}

TEST_CASE("ease blocked inverse matches the dense formula across several blocks", "[models]") {
  // 300 warm items span three blocks of the factorization (128, 128, 44), so
  // every off-diagonal block update, the triangular inverse and X^T X run.
  const InteractionMatrix train = randomData(500, 302, 11, {0, 200});
  Ease model(OptionMap{{"lambda", "20"}, {"precision", "double"}, {"min_support", "1"}});
  model.fit(train);
  const Reference ref = reference(train, 20, false);
  REQUIRE(model.warmItems() == ref.warm);
  REQUIRE(model.warmItems().size() == 300);
  REQUIRE(maxAbs(modelB(model) - ref.b) < 1e-6);

  Ease single(OptionMap{{"lambda", "20"}, {"min_support", "1"}});
  single.fit(train);
  REQUIRE(maxAbs(modelB(single) - ref.b) < 1e-4 * std::max(1.0, maxAbs(ref.b)));
}

TEST_CASE("ease B satisfies the optimality conditions of the constrained least squares", "[models]") {
  // min_B ||X - X B||^2 + lambda ||B||^2 s.t. diag(B) = 0. With multipliers mu
  // for the constraints, the gradient condition is
  //   2 G B - 2 X^T X + 2 diag(mu) = 0, G = X^T X + lambda I,
  // i.e. G (B - I) = -lambda I - diag(mu): diagonal. Exactly, from the closed form,
  //   G B = G - G P diag(1/P_jj) = G - diag(1/P_jj), so G (B - I) = -diag(1/P_jj)
  // (mu_j = 1/P_jj - lambda). Check both: off-diagonals of G(B - I) vanish,
  // the diagonal is -1/P_jj.
  const InteractionMatrix train = randomData(80, 20, 5);
  const double lambda = 4.0;
  Ease model(OptionMap{{"lambda", "4"}, {"precision", "double"}, {"min_support", "1"}});
  model.fit(train);
  const Reference ref = reference(train, lambda, false);
  const Eigen::MatrixXd b = modelB(model);
  const Index w = static_cast<Index>(b.rows());
  const Eigen::MatrixXd kkt = ref.g * (b - Eigen::MatrixXd::Identity(w, w));
  const double scale = maxAbs(ref.g);
  for (Index i = 0; i < w; ++i)
    for (Index j = 0; j < w; ++j) {
      INFO("entry " << i << "," << j);
      if (i == j)
        REQUIRE(kkt(i, j) == Approx(-1.0 / ref.p(j, j)).epsilon(1e-5));
      else  // B is stored in float: entries carry ~1e-7 relative rounding
        REQUIRE(std::abs(kkt(i, j)) < 2e-6 * scale);
    }

  // And B is the minimizer: moving any off-diagonal weight either way costs.
  Eigen::MatrixXd x = ref.g;  // X^T X = G - lambda I; the loss in terms of it:
  x.diagonal().array() -= lambda;
  auto loss = [&](const Eigen::MatrixXd& m) {
    // ||X - X M||^2 = tr(X^T X) - 2 tr(X^T X M) + tr(M^T X^T X M)
    return x.trace() - 2 * (x * m).trace() + (m.transpose() * x * m).trace() + lambda * m.squaredNorm();
  };
  const double best = loss(b);
  Rng rng(1);
  for (int trial = 0; trial < 50; ++trial) {
    const Index i = static_cast<Index>(rng.below(w));
    Index j = static_cast<Index>(rng.below(w));
    if (j == i) j = (j + 1) % w;
    for (double step : {1e-3, -1e-3}) {
      Eigen::MatrixXd moved = b;
      moved(i, j) += step;
      REQUIRE(loss(moved) > best);
    }
  }
}

TEST_CASE("ease min_support leaves rare items out of the regression", "[models]") {
  // Item 7 has exactly one interaction; with min_support=2 it is not warm.
  const InteractionMatrix train = randomData(50, 10, 8, {}, 7);
  REQUIRE(train.byItem().rowSize(7) == 1);
  Ease model(OptionMap{{"lambda", "3"}, {"min_support", "2"}});
  model.fit(train);
  const Reference ref = reference(train, 3, false, 2);
  REQUIRE(model.warmItems() == ref.warm);
  REQUIRE(std::find(ref.warm.begin(), ref.warm.end(), 7) == ref.warm.end());
  REQUIRE(maxAbs(modelB(model) - ref.b) < 2e-5);
  // A history with a warm item scores the rare item 0.
  const std::vector<Index> items = {0, 7};
  const auto scores = scoresOf(model, History{items, {}, {}});
  REQUIRE(scores[7] == 0.0f);
}

TEST_CASE("ease scores are sums of B rows; explain names the largest contributions", "[models]") {
  const InteractionMatrix train = randomData(60, 13, 3, {11});
  Ease model(OptionMap{{"lambda", "2.5"}, {"weighting", "value"}, {"min_support", "1"}});
  model.fit(train);
  const Eigen::MatrixXd b = modelB(model);
  const auto& warm = model.warmItems();
  auto warmIndex = [&](Index item) { return static_cast<Index>(std::find(warm.begin(), warm.end(), item) - warm.begin()); };

  // Items 1, 4, 11 (cold) with values 2, 0.5, 3: the cold item contributes nothing.
  const std::vector<Index> items = {1, 4, 11};
  const std::vector<float> values = {2.0f, 0.5f, 3.0f};
  const auto scores = scoresOf(model, History{items, values, {}});
  for (Index i = 0; i < 13; ++i) {
    INFO("item " << i);
    if (i == 11) {
      REQUIRE(scores[i] == 0.0f);
      continue;
    }
    const double expected = 2.0 * b(warmIndex(1), warmIndex(i)) + 0.5 * b(warmIndex(4), warmIndex(i));
    REQUIRE(scores[i] == Approx(expected).margin(1e-6));
  }
  // Without values every history item weighs 1.
  const auto unweighted = scoresOf(model, History{items, {}, {}});
  REQUIRE(unweighted[6] == Approx(b(warmIndex(1), warmIndex(6)) + b(warmIndex(4), warmIndex(6))).margin(1e-6));

  // Explain: positive contributions value * B_j,item, largest first.
  for (Index target : {Index{0}, Index{6}, Index{12}}) {
    const auto why = model.explain(History{items, values, {}}, target, 5);
    std::vector<Contribution> expected;
    const double c0 = 2.0 * b(warmIndex(1), warmIndex(target));
    const double c1 = 0.5 * b(warmIndex(4), warmIndex(target));
    if (c0 > 0) expected.push_back({0, static_cast<float>(c0)});
    if (c1 > 0) expected.push_back({1, static_cast<float>(c1)});
    if (expected.size() == 2 && expected[1].weight > expected[0].weight) std::swap(expected[0], expected[1]);
    INFO("target " << target);
    REQUIRE(why.size() == expected.size());
    for (size_t k = 0; k < why.size(); ++k) {
      REQUIRE(why[k].source == expected[k].source);
      REQUIRE(why[k].weight == Approx(expected[k].weight).margin(1e-6));
    }
    REQUIRE(model.explain(History{items, values, {}}, target, 1).size() == std::min<size_t>(1, expected.size()));
  }
  REQUIRE(model.explain(History{items, values, {}}, 11, 5).empty());  // a cold target has no reasons
}

TEST_CASE("ease falls back to popularity for histories without warm items", "[models]") {
  const InteractionMatrix train = randomData(60, 13, 3, {11});
  Ease model(OptionMap{{"lambda", "2.5"}, {"min_support", "1"}});
  model.fit(train);
  const std::vector<Index> coldOnly = {11};
  for (const History& h : {History{}, History{coldOnly, {}, {}}}) {
    const auto scores = scoresOf(model, h);
    for (Index i = 0; i < 13; ++i) REQUIRE(scores[i] == static_cast<float>(train.byItem().rowSize(i) / 60.0));
    const auto why = model.explain(h, 2, 3);
    REQUIRE(why.size() == 1);
    REQUIRE(why[0].source == -1);
    REQUIRE(why[0].weight == scores[2]);
  }
}

TEST_CASE("ease refuses catalogs above max_items before allocating", "[models]") {
  const InteractionMatrix train = randomData(60, 13, 3, {11});
  Ease model(OptionMap{{"max_items", "10"}, {"min_support", "1"}});
  REQUIRE_THROWS_AS(model.fit(train), InvalidArgument);
  REQUIRE_THROWS_WITH(model.fit(train), Catch::Contains("EASE needs 12 x 12 floats = 0.0 MB") &&
                                            Catch::Contains("max_items=10") && Catch::Contains("item_knn or ials"));
  REQUIRE_FALSE(model.fitted());
  // The message states the real size for a big catalog (checked before any allocation:
  // 30,000 warm items would need 3.4 GB).
  Interactions rows;
  for (Index i = 0; i < 30000; ++i) rows.push(i % 7, i, 1.0f, 0);
  Ease big(OptionMap{{"min_support", "1"}});
  REQUIRE_THROWS_WITH(big.fit(InteractionMatrix(rows, 7, 30000)),
                      Catch::Contains("30000 x 30000 floats = 3433.2 MB") && Catch::Contains("max_items=20000"));
  // min_support shrinks the warm set under the limit.
  int frequent = 0;
  for (Index i = 0; i < 13; ++i) frequent += train.byItem().rowSize(i) >= 25;
  REQUIRE(frequent >= 1);
  REQUIRE(frequent <= 10);
  Ease rare(OptionMap{{"max_items", "10"}, {"min_support", "25"}});
  rare.fit(train);
  REQUIRE(rare.warmItems().size() == static_cast<size_t>(frequent));
}

TEST_CASE("ease rejects non-finite values in training data and histories", "[models]") {
  Interactions rows;
  rows.push(0, 0, 1.0f, 0);
  rows.push(0, 1, std::nanf(""), 1);
  rows.push(1, 1, 1.0f, 2);
  Ease model{OptionMap{}};
  REQUIRE_THROWS_AS(model.fit(InteractionMatrix(rows, 2, 2)), InvalidArgument);
  REQUIRE_THROWS_WITH(model.fit(InteractionMatrix(rows, 2, 2)), Catch::Contains("item 1 is not finite"));

  const InteractionMatrix train = randomData(60, 13, 3);
  model.fit(train);
  const std::vector<Index> items = {1, 2};
  const std::vector<float> values = {1.0f, INFINITY};
  std::vector<float> out(13);
  REQUIRE_THROWS_AS(model.score(History{items, values, {}}, out), InvalidArgument);
  REQUIRE_THROWS_WITH(model.score(History{items, values, {}}, out), Catch::Contains("history value 1"));
  REQUIRE_THROWS_AS(model.explain(History{items, values, {}}, 3), InvalidArgument);
}

TEST_CASE("ease save and load round-trip B exactly; damaged layouts are refused", "[models]") {
  const InteractionMatrix train = randomData(60, 13, 3, {11});
  Ease model(OptionMap{{"lambda", "2.5"}, {"min_support", "2"}});
  model.fit(train);
  const auto file = saveModel(model);
  const LoadedModel loaded = loadModel(file);
  const auto& again = dynamic_cast<const Ease&>(*loaded.model);
  REQUIRE(again.warmItems() == model.warmItems());
  REQUIRE(again.weights() == model.weights());
  const std::vector<Index> items = {0, 3, 11};
  REQUIRE(scoresOf(again, History{items, {}, {}}) == scoresOf(model, History{items, {}, {}}));
  REQUIRE(saveModel(again) == file);

  // Parameter layouts that must not load: wrong version, unsorted warm items,
  // a nonzero diagonal.
  auto rewrap = [&](auto write) {
    const ModelFileHeader header = readModelFile(file, [&](const ModelFileHeader&, Reader& in) {
      std::vector<uint8_t> rest(in.remaining());
      in.raw(rest.data(), rest.size(), "parameters");
    });
    return writeModelFile(header, write);
  };
  const size_t w = model.warmItems().size();
  std::vector<float> b = model.weights();
  std::vector<float> pop(13, 0.1f);
  REQUIRE_THROWS_AS(loadModel(rewrap([&](Writer& out) {
                      out.u32(2);
                      out.ints(model.warmItems());
                      out.floats(pop);
                      out.floats(b);
                    })),
                    FormatError);
  std::vector<Index> swapped = model.warmItems();
  std::swap(swapped[0], swapped[1]);
  REQUIRE_THROWS_AS(loadModel(rewrap([&](Writer& out) {
                      out.u32(1);
                      out.ints(swapped);
                      out.floats(pop);
                      out.floats(b);
                    })),
                    FormatError);
  b[w + 1] = 0.5f;  // diagonal entry of warm item 1
  REQUIRE_THROWS_WITH(loadModel(rewrap([&](Writer& out) {
                        out.u32(1);
                        out.ints(model.warmItems());
                        out.floats(pop);
                        out.floats(b);
                      })),
                      Catch::Contains("diagonal"));
}

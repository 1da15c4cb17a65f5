// The cold-items protocol: the split (held-out items with all their rows) and
// the evaluator's candidate set and "unable" report.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.h"
#include "core/rng.h"
#include "data/split.h"
#include "eval/evaluator.h"
#include "io/serialize.h"

using namespace localrec;

namespace {

// 300 users x 200 items, about 3,000 rows; items 190..199 never occur.
Interactions randomRows(uint64_t seed = 5) {
  Rng rng(seed);
  Interactions rows;
  for (Index u = 0; u < 300; ++u)
    for (int k = 0; k < 10; ++k) rows.push(u, static_cast<Index>(rng.below(190)), 1.0f, k);
  return rows;
}

// A model with fixed scores per item, for hand-checked rankings.
class FixedScores : public Recommender {
 public:
  FixedScores(std::vector<float> scores, bool cold) : Recommender({}), scores_(std::move(scores)), cold_(cold) {}
  std::string kind() const override { return "fixed"; }
  bool scoresColdItems() const override { return cold_; }
  void save(Writer&) const override {}

 protected:
  void fitImpl(const InteractionMatrix&, Progress&) override {}
  void scoreImpl(const History&, std::span<float> out) const override {
    std::copy(scores_.begin(), scores_.end(), out.begin());
  }
  std::vector<Contribution> explainImpl(const History&, Index, size_t) const override { return {}; }
  void loadImpl(Reader&) override {}

 private:
  std::vector<float> scores_;
  bool cold_;
};

}  // namespace

TEST_CASE("cold-items split: held-out items lose every row to test, seeded, the fraction rounded", "[data]") {
  const Interactions rows = randomRows();
  std::set<Index> withRows(rows.items.begin(), rows.items.end());
  REQUIRE(withRows.size() == 190);
  const Split s = coldItemsSplit(rows, 0.1, 42);
  REQUIRE(s.candidates.size() == 19);  // 10% of the 190 items that have rows
  REQUIRE(std::is_sorted(s.candidates.begin(), s.candidates.end()));
  const std::set<Index> heldOut(s.candidates.begin(), s.candidates.end());
  REQUIRE(heldOut.size() == 19);
  for (Index i : heldOut) REQUIRE(withRows.count(i) == 1);
  for (Index i : s.train.items) REQUIRE(heldOut.count(i) == 0);
  for (Index i : s.test.items) REQUIRE(heldOut.count(i) == 1);
  REQUIRE(s.train.size() + s.test.size() == rows.size());
  size_t heldOutRows = 0;
  for (Index i : rows.items) heldOutRows += heldOut.count(i);
  REQUIRE(s.test.size() == heldOutRows);

  // Deterministic for a seed; another seed holds out other items.
  const Split again = coldItemsSplit(rows, 0.1, 42);
  REQUIRE(again.candidates == s.candidates);
  REQUIRE(again.test.users == s.test.users);
  REQUIRE(coldItemsSplit(rows, 0.1, 43).candidates != s.candidates);
  // The spec form is the same split.
  REQUIRE(splitBySpec(rows, 300, "cold-items:0.1", 42).candidates == s.candidates);
  REQUIRE(coldItemsSplit(rows, 0.5, 1).candidates.size() == 95);
  // At least one item held out, at least one kept.
  REQUIRE(coldItemsSplit(rows, 0.0001, 1).candidates.size() == 1);
  REQUIRE(coldItemsSplit(rows, 0.9999, 1).candidates.size() == 189);
  // Other splits have no candidate set.
  REQUIRE(splitBySpec(rows, 300, "ratio:0.8", 42).candidates.empty());

  for (const char* bad : {"cold-items", "cold-items:", "cold-items:0", "cold-items:1", "cold-items:x", "cold-items:-0.1"}) {
    INFO(bad);
    REQUIRE_THROWS_AS(splitBySpec(rows, 300, bad, 42), InvalidArgument);
    REQUIRE_THROWS_WITH(splitBySpec(rows, 300, bad, 42), Catch::Contains("cold-items:F"));
  }
  Interactions one;
  one.push(0, 3, 1, 0);
  one.push(1, 3, 1, 0);
  REQUIRE_THROWS_WITH(coldItemsSplit(one, 0.1, 1), Catch::Contains("at least 2 items"));
}

TEST_CASE("evaluate with a candidate set: hand-checked ranks, coverage, sampled negatives", "[eval]") {
  // Train: user 0 had items 0, 1; user 1 had items 0, 2. Held out: 3, 4, 5.
  Interactions train;
  train.push(0, 0, 1, 0);
  train.push(0, 1, 1, 1);
  train.push(1, 0, 1, 0);
  train.push(1, 2, 1, 1);
  Interactions test;
  test.push(0, 4, 1, 2);
  test.push(1, 3, 1, 2);
  test.push(1, 5, 1, 3);
  const InteractionMatrix matrix(train, 2, 6);
  FixedScores model({9, 8, 7, 0.5f, 0.2f, 0.9f}, true);
  model.fit(matrix);

  EvalOptions options;
  options.k = 10;
  options.candidates = {3, 4, 5};
  auto report = evaluate(model, matrix, test, options);
  REQUIRE(report.unable.empty());
  REQUIRE(report.users == 2);
  // User 0: item 4 (0.2) ranks 3rd among {3, 4, 5} (the full catalog would make it 4th).
  // User 1: items 5 (0.9) and 3 (0.5) rank 1st and 2nd: a perfect list.
  REQUIRE(report.metrics.at("ndcg@10") == Approx((1.0 / std::log2(4.0) + 1.0) / 2));
  REQUIRE(report.metrics.at("hr@10") == Approx(1.0));
  REQUIRE(report.metrics.at("auc") == Approx((0.0 + 1.0) / 2));

  options.k = 1;
  report = evaluate(model, matrix, test, options);
  REQUIRE(report.metrics.at("hr@1") == Approx(0.5));
  REQUIRE(report.metrics.at("recall@1") == Approx(0.5));
  // Both top-1 lists are item 5 (the best candidate); coverage is over the 3 candidates.
  REQUIRE(report.metrics.at("coverage@1") == Approx(1.0 / 3));

  // Without candidates user 0's item ranks behind item 2 as well.
  options.k = 10;
  options.candidates.clear();
  report = evaluate(model, matrix, test, options);
  // User 0: item 4 ranks 4th (behind 2, 5, 3); user 1: item 1 outranks both, so 5 and 3 rank 2nd and 3rd.
  REQUIRE(report.metrics.at("ndcg@10") ==
          Approx((1.0 / std::log2(5.0) + (1.0 / std::log2(3.0) + 0.5) / (1.0 + 1.0 / std::log2(3.0))) / 2));
  REQUIRE(report.metrics.at("ndcg@10") < (1.0 / std::log2(4.0) + 1.0) / 2);

  // Sampled negatives come from the candidates: user 0 gets 1 of {3, 5} (both outrank item 4).
  options.candidates = {3, 4, 5};
  options.sampledNegatives = 1;
  report = evaluate(model, matrix, test, options);
  REQUIRE(report.metrics.at("ndcg@10") == Approx((1.0 / std::log2(3.0) + 1.0) / 2));

  // Bad candidate sets.
  options.sampledNegatives = 0;
  options.candidates = {3, 5};
  REQUIRE_THROWS_WITH(evaluate(model, matrix, test, options), Catch::Contains("not among the candidates"));
  options.candidates = {3, 4, 5, 4};
  REQUIRE_THROWS_WITH(evaluate(model, matrix, test, options), Catch::Contains("appears twice"));
  options.candidates = {3, 4, 6};
  REQUIRE_THROWS_WITH(evaluate(model, matrix, test, options), Catch::Contains("outside the catalog"));
}

TEST_CASE("evaluate with cold candidates: a model that cannot score them is reported unable", "[eval]") {
  Interactions train;
  train.push(0, 0, 1, 0);
  train.push(1, 1, 1, 0);
  Interactions test;
  test.push(0, 2, 1, 1);
  const InteractionMatrix matrix(train, 2, 3);
  EvalOptions options;
  options.candidates = {2};
  FixedScores cf({1, 2, 3}, false);
  // Not even fitted: the protocol rules it out before any scoring.
  auto report = evaluate(cf, matrix, test, options);
  REQUIRE(report.unable == "cannot score items without interactions");
  REQUIRE(report.metrics.empty());
  REQUIRE(report.users == 0);
  // Warm candidates are fine for any model.
  Interactions warmTest;
  warmTest.push(0, 1, 1, 1);
  options.candidates = {1, 2};
  cf.fit(matrix);
  options.candidates = {0, 1};
  REQUIRE(evaluate(cf, matrix, warmTest, options).unable.empty());
  // A model that scores cold items is evaluated.
  FixedScores content({1, 2, 3}, true);
  content.fit(matrix);
  options.candidates = {2};
  report = evaluate(content, matrix, test, options);
  REQUIRE(report.unable.empty());
  REQUIRE(report.metrics.at("hr@10") == Approx(1.0));
}

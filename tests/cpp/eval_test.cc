#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "eval/evaluator.h"
#include "eval/metrics.h"
#include "models/cf/popularity.h"

using namespace localrec;

namespace {

// A model with hand-set scores: the score vector is chosen by the history's
// first item (another table for an empty history), so each test user gets known scores.
class TableModel : public Recommender {
 public:
  TableModel(Index numItems, std::map<Index, std::vector<float>> byFirstItem, std::vector<float> whenEmpty,
             bool ratings = false)
      : Recommender({}), table_(std::move(byFirstItem)), empty_(std::move(whenEmpty)), ratings_(ratings) {
    setFitted(numItems);
  }
  std::string kind() const override { return "table"; }
  bool predictsRatings() const override { return ratings_; }
  void save(Writer&) const override {}
  void loadImpl(Reader&) override {}
  mutable int scoreCalls = 0;

 protected:
  void fitImpl(const InteractionMatrix&, Progress&) override {}
  void scoreImpl(const History& h, std::span<float> out) const override {
    ++scoreCalls;
    const auto& s = h.empty() ? empty_ : table_.at(h.items[0]);
    std::copy(s.begin(), s.end(), out.begin());
  }
  std::vector<Contribution> explainImpl(const History&, Index, size_t) const override { return {}; }

 private:
  std::map<Index, std::vector<float>> table_;
  std::vector<float> empty_;
  bool ratings_;
};

// Scores in a small integer range (many ties) that depend on the whole history.
class HashModel : public Recommender {
 public:
  explicit HashModel(Index numItems, int levels = 4) : Recommender({}), levels_(levels) {
    setFitted(numItems);
  }
  std::string kind() const override { return "hash"; }
  void save(Writer&) const override {}
  void loadImpl(Reader&) override {}

 protected:
  void fitImpl(const InteractionMatrix&, Progress&) override {}
  void scoreImpl(const History& h, std::span<float> out) const override {
    uint32_t seed = 17;
    for (Index i : h.items) seed = seed * 31 + static_cast<uint32_t>(i);
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = static_cast<float>((seed * 2654435761u + static_cast<uint32_t>(i) * 40503u) % 1000u % levels_);
  }
  std::vector<Contribution> explainImpl(const History&, Index, size_t) const override { return {}; }

 private:
  uint32_t levels_;
};

class ConstantModel : public Recommender {
 public:
  explicit ConstantModel(Index numItems) : Recommender({}) { setFitted(numItems); }
  std::string kind() const override { return "constant"; }
  void save(Writer&) const override {}
  void loadImpl(Reader&) override {}

 protected:
  void fitImpl(const InteractionMatrix&, Progress&) override {}
  void scoreImpl(const History&, std::span<float> out) const override {
    std::fill(out.begin(), out.end(), 1.0f);
  }
  std::vector<Contribution> explainImpl(const History&, Index, size_t) const override { return {}; }
};

// The hand-made case (3 train users, 6 items); every number below is worked out in the comments.
//   train: u0: 0,1   u1: 2   u2: 0,3,4,3 (3 twice)
//   test:  u0: 2,5   u1: 0,0 (duplicate)   u2: 4 (in history: dropped), 5   u3: 1 (cold: id >= 3)
//   scores: history starting with item 0 (u0, u2): A = [9, 8, 5, 5, 3, 1]
//           history starting with item 2 (u1):     B = [4, 6, 0, 2, 2, 2]
struct Tiny {
  Interactions trainRows, test;
  InteractionMatrix train;
  Tiny() {
    trainRows.push(0, 0, 1, 1);
    trainRows.push(0, 1, 1, 2);
    trainRows.push(1, 2, 1, 1);
    trainRows.push(2, 0, 1, 1);
    trainRows.push(2, 3, 1, 2);
    trainRows.push(2, 4, 1, 3);
    trainRows.push(2, 3, 1, 4);
    train = InteractionMatrix(trainRows, 3, 6);
    test.push(0, 2, 1, 9);
    test.push(0, 5, 1, 9);
    test.push(1, 0, 1, 9);
    test.push(1, 0, 1, 9);
    test.push(2, 4, 1, 9);
    test.push(2, 5, 1, 9);
    test.push(3, 1, 1, 9);
  }
  static TableModel model() {
    return TableModel(6, {{0, {9, 8, 5, 5, 3, 1}}, {2, {4, 6, 0, 2, 2, 2}}}, {2, 2, 2, 2, 2, 2});
  }
};

// Brute force: the full pessimistic order of the candidates, by sorting.
std::vector<int> bruteRanks(const std::vector<float>& s, const std::vector<bool>& excluded,
                            const std::vector<bool>& relevant, int* numCandidates) {
  std::vector<Index> order;
  for (Index i = 0; i < static_cast<Index>(s.size()); ++i)
    if (!excluded[i]) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](Index a, Index b) {
    if (s[a] != s[b]) return s[a] > s[b];
    if (relevant[a] != relevant[b]) return !relevant[a];  // ties: non-relevant first
    return a < b;
  });
  std::vector<int> ranks;
  for (size_t p = 0; p < order.size(); ++p)
    if (relevant[order[p]]) ranks.push_back(static_cast<int>(p) + 1);
  *numCandidates = static_cast<int>(order.size());
  return ranks;
}

}  // namespace

TEST_CASE("listMetrics on hand-computed rank sets", "[eval]") {
  const std::vector<int> ranks = {1, 3};  // two relevant items among 10 candidates
  // K = 2: only rank 1 is a hit.
  //   HR 1; recall 1 / min(2, 2) = 0.5; precision 1/2; DCG = 1/log2(2) = 1,
  //   IDCG = 1 + 1/log2(3) = 1.630930 -> NDCG 0.613147; MRR 1; AP = (P@1 = 1) / 2 = 0.5;
  //   AUC: 8 negatives; rank 1 beats 8, rank 3 has one negative above -> 7; (8 + 7) / 16 = 0.9375.
  ListMetrics m = listMetrics(ranks, 2, 10);
  CHECK(m.hit == 1.0);
  CHECK(m.recall == Approx(0.5));
  CHECK(m.precision == Approx(0.5));
  CHECK(m.ndcg == Approx(1.0 / (1.0 + 1.0 / std::log2(3.0))));
  CHECK(m.ndcg == Approx(0.613147).epsilon(1e-5));
  CHECK(m.mrr == Approx(1.0));
  CHECK(m.ap == Approx(0.5));
  CHECK(m.auc == Approx(0.9375));
  // K = 5: both hit. recall 2/2 = 1; precision 2/5; DCG = 1 + 1/log2(4) = 1.5 -> NDCG 1.5/1.630930
  //   = 0.919721; MRR 1; AP = (1 + 2/3) / 2 = 0.833333; AUC unchanged.
  m = listMetrics(ranks, 5, 10);
  CHECK(m.hit == 1.0);
  CHECK(m.recall == Approx(1.0));
  CHECK(m.precision == Approx(0.4));
  CHECK(m.ndcg == Approx(0.919721).epsilon(1e-5));
  CHECK(m.mrr == Approx(1.0));
  CHECK(m.ap == Approx(5.0 / 6.0));
  CHECK(m.auc == Approx(0.9375));
  // Order of the input does not matter.
  const std::vector<int> reversed = {3, 1};
  CHECK(listMetrics(reversed, 5, 10).ap == Approx(5.0 / 6.0));

  // Three relevant items at 2, 4, 7 of 8 candidates, K = 3: one hit (rank 2).
  //   recall 1 / min(3, 3) = 1/3; precision 1/3; NDCG = (1/log2 3) / (1 + 1/log2 3 + 1/log2 4) = 0.297194;
  //   MRR 1/2; AP = (1/2) / 3 = 1/6; AUC: 5 negatives; above rank 2: 1, rank 4: 2, rank 7: 4
  //   -> wins 4 + 3 + 1 = 8 of 15.
  const std::vector<int> three = {2, 4, 7};
  m = listMetrics(three, 3, 8);
  CHECK(m.hit == 1.0);
  CHECK(m.recall == Approx(1.0 / 3));
  CHECK(m.precision == Approx(1.0 / 3));
  CHECK(m.ndcg == Approx((1 / std::log2(3.0)) / (1 + 1 / std::log2(3.0) + 0.5)));
  CHECK(m.mrr == Approx(0.5));
  CHECK(m.ap == Approx(1.0 / 6));
  CHECK(m.auc == Approx(8.0 / 15));

  // Recall's denominator is min(K, |relevant|): 5 relevant, K = 2, ranks 1 and 2 hit -> recall 1.
  const std::vector<int> five = {1, 2, 6, 7, 8};
  m = listMetrics(five, 2, 10);
  CHECK(m.recall == Approx(1.0));
  CHECK(m.ap == Approx(1.0));
  CHECK(m.ndcg == Approx(1.0));

  // A miss: the only relevant item last of 5 -> zeros, AUC 0.
  const std::vector<int> last = {5};
  m = listMetrics(last, 3, 5);
  CHECK(m.hit == 0.0);
  CHECK(m.ndcg == 0.0);
  CHECK(m.mrr == 0.0);
  CHECK(m.ap == 0.0);
  CHECK(m.auc == 0.0);
  // No negatives: AUC 0.5.
  const std::vector<int> all = {1, 2};
  CHECK(listMetrics(all, 1, 2).auc == Approx(0.5));
  // No relevant items: all zeros.
  CHECK(listMetrics({}, 3, 5).hit == 0.0);
}

TEST_CASE("listMetrics rejects bad input with clear messages", "[eval]") {
  const std::vector<int> ok = {1, 2};
  const std::vector<int> twice = {2, 2};
  const std::vector<int> outside = {0, 3};
  CHECK_THROWS_WITH(listMetrics(ok, 0, 5), Catch::Contains("k must be > 0"));
  CHECK_THROWS_WITH(listMetrics(twice, 3, 5), Catch::Contains("appears twice"));
  CHECK_THROWS_WITH(listMetrics(outside, 3, 5), Catch::Contains("outside [1, 5]"));
  CHECK_THROWS_AS(listMetrics(ok, 3, 1), InvalidArgument);
}

TEST_CASE("giniIndex on known distributions", "[eval]") {
  const std::vector<int> even = {1, 1, 1, 1};
  const std::vector<int> one = {0, 0, 0, 4};
  const std::vector<int> ramp = {3, 1, 2};  // ascending 1,2,3: (-2*1 + 0*2 + 2*3) / (3*6) = 4/18
  const std::vector<int> zeros = {0, 0, 0};
  const std::vector<int> negative = {1, -1};
  CHECK(giniIndex(even) == Approx(0.0).margin(1e-12));
  CHECK(giniIndex(one) == Approx(0.75));  // (n-1)/n for n = 4: the maximum
  CHECK(giniIndex(ramp) == Approx(4.0 / 18));
  CHECK(giniIndex(zeros) == 0.0);
  CHECK(giniIndex({}) == 0.0);
  CHECK_THROWS_AS(giniIndex(negative), InvalidArgument);
}

TEST_CASE("evaluate: every metric of the hand-made case", "[eval]") {
  Tiny t;
  TableModel model = Tiny::model();
  EvalOptions options;
  options.k = 2;
  // Features (dim 2): 0 [1,0]  1 [0,1]  2 [1,1]  3 [1,0]  4 [0,0]  5 [0,1]
  options.featureDim = 2;
  options.itemFeatures = {1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1};
  const EvalReport r = evaluate(model, t.train, t.test, options);

  // u0: excluded {0,1}; candidates {2,3,4,5} (4); relevant {2 (5), 5 (1)}.
  //   item 2: non-relevant >= 5: item 3 (tie, counted: pessimistic) -> rank 2.
  //   item 5: non-relevant >= 1: items 3, 4 -> 2, plus item 2 before it -> rank 4.
  //   K=2: HR 1, recall 1/2, precision 1/2, NDCG (1/log2 3)/(1 + 1/log2 3) = 0.386853,
  //   MRR 1/2, AP (1/2)/2 = 0.25; AUC: item 2 beats 4 not 3 -> 1/2, item 5 beats none -> 0; mean 0.25.
  //   top-2 (lower index wins ties): [2, 3].
  // u1: excluded {2}; candidates {0,1,3,4,5} (5); relevant {0} (duplicate row counted once), score 4.
  //   item 1 (6) above -> rank 2. HR 1, recall 1, precision 1/2, NDCG 1/log2 3 = 0.630930, MRR 1/2,
  //   AP 1/2, AUC 3/4 (beats 3, 4, 5). top-2: [1, 0].
  // u2: excluded {0,3,4} (3 once); test item 4 is in the history, so relevant {5}; candidates {1,2,5}.
  //   item 5 (1) is below 1 (8) and 2 (5): rank 3 -> zeros, AUC 0. top-2: [1, 2].
  // u3: cold (no train row): zeros, counted.
  CHECK(r.task == "ranking");
  CHECK(r.k == 2);
  CHECK(r.users == 4);
  CHECK(r.coldUsers == 1);
  CHECK(r.skippedUsers == 0);
  CHECK(r.testRows == 7);
  const double inv3 = 1 / std::log2(3.0);
  const auto& m = r.metrics;
  CHECK(m.at("hr@2") == Approx(2.0 / 4));
  CHECK(m.at("recall@2") == Approx((0.5 + 1.0) / 4));
  CHECK(m.at("precision@2") == Approx((0.5 + 0.5) / 4));
  CHECK(m.at("ndcg@2") == Approx((inv3 / (1 + inv3) + inv3) / 4));
  CHECK(m.at("mrr@2") == Approx((0.5 + 0.5) / 4));
  CHECK(m.at("map@2") == Approx((0.25 + 0.5) / 4));
  CHECK(m.at("auc") == Approx((0.25 + 0.75) / 4));
  // Lists [2,3] [1,0] [1,2]: counts 0:1 1:2 2:2 3:1 4:0 5:0.
  CHECK(m.at("coverage@2") == Approx(4.0 / 6));
  // Gini of {0,0,1,1,2,2}: (-5*0 -3*0 -1*1 +1*1 +3*2 +5*2) / (6*6) = 16/36.
  CHECK(m.at("gini@2") == Approx(16.0 / 36));
  // Novelty: distinct train users: item 0: 2, items 1, 2, 3: 1; p = (n+1)/(3+1).
  //   -log2(3/4) = 0.415037 for item 0, -log2(2/4) = 1 for the others; 6 entries, five of them 1.
  CHECK(m.at("novelty@2") == Approx((5 - std::log2(0.75)) / 6));
  // Diversity: [2,3]: 1 - 1/sqrt2; [1,0]: 1 - 0; [1,2]: 1 - 1/sqrt2; mean of the three.
  CHECK(m.at("diversity@2") == Approx((2 * (1 - 1 / std::sqrt(2.0)) + 1) / 3));
  CHECK(m.size() == 11);

  // Without features, no diversity; the cold user is never scored (3 calls for u0, u1, u2).
  TableModel counted = Tiny::model();
  const EvalReport plain = evaluate(counted, t.train, t.test, EvalOptions{});
  CHECK(plain.metrics.count("diversity@10") == 0);
  CHECK(plain.metrics.count("hr@10") == 1);
  CHECK(counted.scoreCalls == 3);
}

TEST_CASE("evaluate: recentItems scores the last events but filters the whole history", "[eval]") {
  // u0 has items 0 then 2; the test item is 1. TableModel picks its scores by
  // the queried history's first item: [0, 2] -> A, the last event [2] -> B.
  Interactions rows;
  rows.push(0, 0, 1, 1);
  rows.push(0, 2, 1, 2);
  const InteractionMatrix train(rows, 1, 4);
  Interactions test;
  test.push(0, 1, 7, 9);
  // A: item 1 (1) below item 3 (5) -> rank 2. B: item 0 tops it (9) but is seen,
  // so among {1, 3} item 1 (7) comes first.
  TableModel model(4, {{0, {9, 1, 8, 5}}, {2, {9, 7, 0, 2}}}, {0, 0, 0, 0}, true);
  EvalOptions options;
  options.k = 1;
  CHECK(evaluate(model, train, test, options).metrics.at("hr@1") == 0.0);
  options.recentItems = 1;
  CHECK(evaluate(model, train, test, options).metrics.at("hr@1") == 1.0);
  options.recentItems = 5;  // longer than the history: the whole history
  CHECK(evaluate(model, train, test, options).metrics.at("hr@1") == 0.0);
  // Rating: the prediction for item 1 is A's 1 (error 6) or B's 7 (error 0).
  options.task = "rating";
  options.recentItems = 0;
  CHECK(evaluate(model, train, test, options).metrics.at("rmse") == Approx(6.0));
  options.recentItems = 1;
  CHECK(evaluate(model, train, test, options).metrics.at("rmse") == Approx(0.0).margin(1e-12));
  options.recentItems = -1;
  REQUIRE_THROWS_WITH(evaluate(model, train, test, options), Catch::Contains("recentItems"));
}

TEST_CASE("evaluate: a user whose test items are all in the history is skipped", "[eval]") {
  Tiny t;
  TableModel model = Tiny::model();
  Interactions test;
  test.push(0, 1, 1, 0);  // u0 saw item 1: nothing left to find
  test.push(1, 0, 1, 0);  // u1: rank 2 as in the hand-made case
  EvalOptions options;
  options.k = 1;
  const EvalReport r = evaluate(model, t.train, test, options);
  CHECK(r.users == 1);
  CHECK(r.skippedUsers == 1);
  CHECK(r.metrics.at("hr@1") == 0.0);
  CHECK(r.metrics.at("mrr@1") == 0.0);
  CHECK(r.metrics.at("auc") == Approx(0.75));
}

TEST_CASE("evaluate: cold users count as misses in the averages", "[eval]") {
  Tiny t;
  TableModel model = Tiny::model();
  // u1 alone: rank 2 -> HR@2 1. Adding two cold users (one beyond the matrix, one with an empty row) -> 1/3.
  Interactions warm;
  warm.push(1, 0, 1, 0);
  Interactions rows = t.trainRows;
  InteractionMatrix train4(rows, 4, 6);  // user 3 exists but has no train row
  Interactions mixed = warm;
  mixed.push(3, 2, 1, 0);
  mixed.push(7, 5, 1, 0);
  EvalOptions options;
  options.k = 2;
  CHECK(evaluate(model, train4, warm, options).metrics.at("hr@2") == 1.0);
  const EvalReport r = evaluate(model, train4, mixed, options);
  CHECK(r.users == 3);
  CHECK(r.coldUsers == 2);
  CHECK(r.metrics.at("hr@2") == Approx(1.0 / 3));
  CHECK(r.metrics.at("auc") == Approx(0.75 / 3));
  CHECK(r.metrics.at("coverage@2") == Approx(2.0 / 6));  // only u1's list [1, 0]
}

TEST_CASE("evaluate: a constant-score model never hits under the pessimistic rule", "[eval]") {
  // 30 users x 50 items; each user's last item held out. Every relevant item ties with
  // all candidates and goes below them, so with one relevant item and more than K
  // candidates HR@K = 0 (and AUC = 0) however the ids fall.
  Rng rng(5);
  Interactions trainRows, test;
  for (Index u = 0; u < 30; ++u) {
    for (int j = 0; j < 6; ++j) trainRows.push(u, static_cast<Index>(rng.below(50)), 1, j);
    test.push(u, static_cast<Index>(rng.below(50)), 1, 99);
  }
  InteractionMatrix train(trainRows, 30, 50);
  ConstantModel model(50);
  for (int k : {1, 5, 10, 40}) {
    EvalOptions options;
    options.k = k;
    const EvalReport r = evaluate(model, train, test, options);
    CHECK(r.users + r.skippedUsers == 30);
    CHECK(r.metrics.at("hr@" + std::to_string(k)) == 0.0);
    CHECK(r.metrics.at("ndcg@" + std::to_string(k)) == 0.0);
    CHECK(r.metrics.at("auc") == 0.0);
  }
  // With K as large as the catalog the relevant item is inside the list: HR 1.
  EvalOptions all;
  all.k = 50;
  const EvalReport r = evaluate(model, train, test, all);
  CHECK(r.metrics.at("hr@50") == 1.0);
}

TEST_CASE("evaluate: ranks match a brute-force sort on tie-heavy scores", "[eval]") {
  const Index numUsers = 40, numItems = 60;
  Rng rng(11);
  Interactions trainRows, test;
  for (Index u = 0; u < numUsers; ++u) {
    const int n = 1 + static_cast<int>(rng.below(8));
    for (int j = 0; j < n; ++j) trainRows.push(u, static_cast<Index>(rng.below(numItems)), 1, j);
    const int m = 1 + static_cast<int>(rng.below(5));  // several relevant items, some in the history
    for (int j = 0; j < m; ++j) test.push(u, static_cast<Index>(rng.below(numItems)), 1, 100);
  }
  InteractionMatrix train(trainRows, numUsers, numItems);
  HashModel model(numItems);
  const int k = 5;

  double sums[7] = {};
  std::vector<int> counts(numItems, 0);
  int users = 0, skipped = 0;
  std::vector<float> s(numItems);
  for (Index u = 0; u < numUsers; ++u) {
    std::vector<bool> excluded(numItems, false), relevant(numItems, false);
    for (Index h : train.history(u).items) excluded[h] = true;
    bool any = false;
    for (size_t r = 0; r < test.size(); ++r)
      if (test.users[r] == u && !excluded[test.items[r]]) relevant[test.items[r]] = any = true;
    if (!any) {
      ++skipped;
      continue;
    }
    ++users;
    model.score(train.history(u), s);
    int candidates = 0;
    const std::vector<int> ranks = bruteRanks(s, excluded, relevant, &candidates);
    const ListMetrics m = listMetrics(ranks, k, candidates);
    const double v[7] = {m.hit, m.recall, m.precision, m.ndcg, m.mrr, m.ap, m.auc};
    for (int i = 0; i < 7; ++i) sums[i] += v[i];
    // Top-K by the usual rule: score desc, index asc.
    std::vector<Index> order;
    for (Index i = 0; i < numItems; ++i)
      if (!excluded[i]) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return s[a] > s[b]; });
    for (int i = 0; i < k && i < static_cast<int>(order.size()); ++i) ++counts[order[i]];
  }
  EvalOptions options;
  options.k = k;
  const EvalReport r = evaluate(model, train, test, options);
  REQUIRE(r.users == users);
  REQUIRE(r.skippedUsers == skipped);
  const char* names[7] = {"hr@5", "recall@5", "precision@5", "ndcg@5", "mrr@5", "map@5", "auc"};
  for (int i = 0; i < 7; ++i) {
    INFO(names[i]);
    CHECK(r.metrics.at(names[i]) == Approx(sums[i] / users));
  }
  CHECK(r.metrics.at("gini@5") == Approx(giniIndex(counts)));
  size_t covered = 0;
  for (int c : counts) covered += c > 0;
  CHECK(r.metrics.at("coverage@5") == Approx(static_cast<double>(covered) / numItems));
}

TEST_CASE("evaluate: sampled negatives are deterministic and reduce to full ranking", "[eval]") {
  const Index numUsers = 50, numItems = 40;
  Rng rng(3);
  Interactions trainRows, test;
  for (Index u = 0; u < numUsers; ++u) {
    for (int j = 0; j < 5; ++j) trainRows.push(u, static_cast<Index>(rng.below(numItems)), 1, j);
    for (int j = 0; j < 3; ++j) test.push(u, static_cast<Index>(rng.below(numItems)), 1, 10);
  }
  InteractionMatrix train(trainRows, numUsers, numItems);
  HashModel model(numItems);
  EvalOptions options;
  options.k = 5;
  const EvalReport full = evaluate(model, train, test, options);

  options.sampledNegatives = 10;
  options.seed = 7;
  const EvalReport a = evaluate(model, train, test, options);
  const EvalReport b = evaluate(model, train, test, options);
  CHECK(a.metrics == b.metrics);  // same seed, same numbers, to the last bit
  options.seed = 8;
  const EvalReport c = evaluate(model, train, test, options);
  CHECK(c.metrics.at("auc") != a.metrics.at("auc"));
  // Fewer competitors can only help a relevant item.
  CHECK(a.metrics.at("hr@5") >= full.metrics.at("hr@5"));
  // Sampling never touches the top-K lists.
  CHECK(a.metrics.at("coverage@5") == full.metrics.at("coverage@5"));

  // At least as many samples as candidates: exactly the full ranking.
  options.sampledNegatives = numItems;
  const EvalReport same = evaluate(model, train, test, options);
  CHECK(same.metrics == full.metrics);
}

TEST_CASE("evaluate: sampled ranks on a constant model are known", "[eval]") {
  // A constant model puts the one relevant item below all m sampled negatives: rank m + 1.
  // So HR@K = 1 for m = K - 1 and 0 for m = K; AUC = 0 either way.
  Tiny t;
  Interactions test;
  test.push(1, 0, 1, 0);  // u1: 5 candidates, 4 negatives
  ConstantModel model(6);
  EvalOptions options;
  options.k = 3;
  options.sampledNegatives = 2;
  EvalReport r = evaluate(model, t.train, test, options);
  CHECK(r.metrics.at("hr@3") == 1.0);
  CHECK(r.metrics.at("mrr@3") == Approx(1.0 / 3));
  CHECK(r.metrics.at("auc") == 0.0);
  options.sampledNegatives = 3;
  r = evaluate(model, t.train, test, options);
  CHECK(r.metrics.at("hr@3") == 0.0);
}

TEST_CASE("evaluate: rating task RMSE and MAE by hand", "[eval]") {
  Tiny t;
  TableModel model(6, {{0, {9, 8, 5, 5, 3, 1}}, {2, {4, 6, 0, 2, 2, 2}}}, {2, 2, 2, 2, 2, 2}, true);
  Interactions test;
  test.push(0, 2, 4, 0);  // pred 5: error  1
  test.push(0, 5, 2, 0);  // pred 1: error -1
  test.push(1, 0, 4, 0);  // pred 4: error  0
  test.push(2, 4, 5, 0);  // pred 3: error -2 (history items are predicted too)
  test.push(3, 1, 3, 0);  // cold, empty-history scores: pred 2, error -1
  test.push(4, 0, 2, 0);  // cold: pred 2, error 0
  EvalOptions options;
  options.task = "rating";
  const EvalReport r = evaluate(model, t.train, test, options);
  // Squared errors 1+1+0+4+1+0 = 7 over 6 rows; absolute 5 over 6.
  CHECK(r.metrics.at("rmse") == Approx(std::sqrt(7.0 / 6)));
  CHECK(r.metrics.at("mae") == Approx(5.0 / 6));
  CHECK(r.metrics.size() == 2);
  CHECK(r.users == 5);
  CHECK(r.coldUsers == 2);
  CHECK(r.testRows == 6);
  CHECK(model.scoreCalls == 4);  // once per warm user, once for all cold users
}

TEST_CASE("evaluate: validation errors name the problem", "[eval]") {
  Tiny t;
  TableModel model = Tiny::model();
  auto run = [&](EvalOptions o) { return evaluate(model, t.train, t.test, o); };
  EvalOptions o;
  o.k = 0;
  CHECK_THROWS_WITH(run(o), Catch::Contains("k must be > 0, got 0"));
  o = {};
  o.task = "regression";
  CHECK_THROWS_WITH(run(o),
                    Catch::Contains("unknown task 'regression'") && Catch::Contains("ranking, rating"));
  o = {};
  o.sampledNegatives = -1;
  CHECK_THROWS_WITH(run(o), Catch::Contains("sampledNegatives must be >= 0"));
  o = {};
  o.featureDim = 2;
  o.itemFeatures = {1, 2, 3};
  CHECK_THROWS_WITH(run(o), Catch::Contains("itemFeatures has 3 floats") && Catch::Contains("6 items"));
  o = {};
  o.task = "rating";
  CHECK_THROWS_WITH(run(o), Catch::Contains("model table does not predict ratings; use --task ranking"));
  CHECK_THROWS_AS(run(o), InvalidArgument);

  Popularity unfitted{OptionMap{}};
  CHECK_THROWS_AS(evaluate(unfitted, t.train, t.test, EvalOptions{}), StateError);
  CHECK_THROWS_WITH(evaluate(unfitted, t.train, t.test, EvalOptions{}), Catch::Contains("not fitted"));

  TableModel wide(7, {}, {});
  CHECK_THROWS_WITH(evaluate(wide, t.train, t.test, EvalOptions{}),
                    Catch::Contains("scores 7 items but the train matrix has 6"));

  Interactions bad = t.test;
  bad.push(0, 6, 1, 0);
  CHECK_THROWS_WITH(evaluate(model, t.train, bad, EvalOptions{}),
                    Catch::Contains("test row 7: item 6 outside the catalog [0, 6)"));
  bad = t.test;
  bad.push(-1, 0, 1, 0);
  CHECK_THROWS_WITH(evaluate(model, t.train, bad, EvalOptions{}), Catch::Contains("negative user id"));
  CHECK_THROWS_WITH(evaluate(model, t.train, Interactions{}, EvalOptions{}),
                    Catch::Contains("test set is empty"));
}

TEST_CASE("evaluate: progress reports about every 1% and cancellation stops it", "[eval]") {
  const Index numUsers = 500, numItems = 30;
  Interactions trainRows, test;
  for (Index u = 0; u < numUsers; ++u) {
    trainRows.push(u, u % numItems, 1, 0);
    test.push(u, (u + 1) % numItems, 1, 1);
  }
  InteractionMatrix train(trainRows, numUsers, numItems);
  Popularity model{OptionMap{}};
  model.fit(train);

  std::vector<double> fractions;
  Progress progress([&](double f, const std::string&) {
    fractions.push_back(f);
    return false;
  });
  evaluate(model, train, test, EvalOptions{}, progress);
  // 500 users, a report every 5: 100, plus the final "done".
  CHECK(fractions.size() == 101);
  CHECK(std::is_sorted(fractions.begin(), fractions.end()));
  CHECK(fractions.back() == 1.0);

  int calls = 0;
  Progress cancelling([&](double, const std::string&) { return ++calls == 10; });
  CHECK_THROWS_AS(evaluate(model, train, test, EvalOptions{}, cancelling), Cancelled);
  CHECK(calls == 10);
}

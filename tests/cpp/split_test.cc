#include "data/split.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/rng.h"

using namespace localrec;
using Catch::Contains;

namespace {

// Rows tagged by their position in `values` (value = position), so a split's
// parts can be traced back to the input rows whatever the times are.
Interactions tagged(const std::vector<Index>& users, const std::vector<Timestamp>& times) {
  Interactions t;
  for (size_t r = 0; r < users.size(); ++r)
    t.push(users[r], static_cast<Index>(r % 7), static_cast<float>(r), times[r]);
  return t;
}

std::vector<int> tags(const Interactions& t) {
  std::vector<int> out;
  for (float v : t.values) out.push_back(static_cast<int>(v));
  return out;
}

Interactions randomTable(size_t n, Index numUsers, uint64_t seed) {
  Rng rng(seed);
  std::vector<Index> users(n);
  std::vector<Timestamp> times(n);
  for (size_t r = 0; r < n; ++r) {
    users[r] = static_cast<Index>(rng.below(static_cast<uint32_t>(numUsers)));
    times[r] = rng.below(50);  // many ties on purpose
  }
  return tagged(users, times);
}

// Train and test are disjoint, cover every row, and each keeps file order.
void requirePartition(const Split& s, size_t n) {
  const std::vector<int> train = tags(s.train), test = tags(s.test);
  REQUIRE(std::is_sorted(train.begin(), train.end()));
  REQUIRE(std::is_sorted(test.begin(), test.end()));
  std::vector<int> all = train;
  all.insert(all.end(), test.begin(), test.end());
  std::sort(all.begin(), all.end());
  std::vector<int> expected(n);
  for (size_t r = 0; r < n; ++r) expected[r] = static_cast<int>(r);
  REQUIRE(all == expected);
}

}  // namespace

TEST_CASE("leave-last-out: last by time, ties to the later row, single-row users stay in train", "[data]") {
  const Interactions t = tagged({0, 0, 1, 0, 2, 1, 1}, {5, 7, 3, 7, 1, 9, 2});
  // u0: rows 0 (t5), 1 (t7), 3 (t7): the tie goes to row 3. u1: rows 2, 5 (t9), 6: row 5. u2: only row 4.
  const Split s = leaveLastOut(t, 4);
  REQUIRE(tags(s.test) == std::vector<int>{3, 5});
  REQUIRE(tags(s.train) == std::vector<int>{0, 1, 2, 4, 6});
  REQUIRE(s.test.times == std::vector<Timestamp>{7, 9});
  REQUIRE_THROWS_AS(leaveLastOut(t, 2), InvalidArgument);
}

TEST_CASE("temporal split: a global cut by time, ties by file order", "[data]") {
  const Interactions t = tagged({0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {5, 1, 3, 3, 9, 0, 3, 7, 2, 8});
  // Order by (time, row): 5, 1, 8, 2, 3, 6, 0, 7, 9, 4; the first half is train.
  const Split s = temporalSplit(t, 0.5);
  REQUIRE(tags(s.train) == std::vector<int>{1, 2, 3, 5, 8});
  REQUIRE(tags(s.test) == std::vector<int>{0, 4, 6, 7, 9});
  REQUIRE(temporalSplit(t, 0.34).train.size() == 3);
  for (double bad : {0.0, 1.0, -0.5, 2.0, std::nan("")})
    REQUIRE_THROWS_AS(temporalSplit(t, bad), InvalidArgument);

  const Interactions r = randomTable(500, 20, 9);
  const Split big = temporalSplit(r, 0.8);
  requirePartition(big, r.size());
  REQUIRE(big.train.size() == 400);
  const Timestamp latestTrain = *std::max_element(big.train.times.begin(), big.train.times.end());
  const Timestamp earliestTest = *std::min_element(big.test.times.begin(), big.test.times.end());
  REQUIRE(latestTrain <= earliestTest);
}

TEST_CASE("ratio split: per-user rounded share in train (at least one), seeded", "[data]") {
  const Interactions r = randomTable(600, 25, 5);
  const Split a = ratioSplit(r, 26, 0.8, 42);  // user 25 has no rows
  requirePartition(a, r.size());
  std::map<Index, size_t> total, inTrain;
  for (Index u : r.users) ++total[u];
  for (Index u : a.train.users) ++inTrain[u];
  for (const auto& [u, n] : total)
    REQUIRE(inTrain[u] ==
            std::max<size_t>(1, static_cast<size_t>(std::llround(0.8 * static_cast<double>(n)))));
  const Split again = ratioSplit(r, 26, 0.8, 42);
  REQUIRE(tags(again.train) == tags(a.train));
  REQUIRE(tags(ratioSplit(r, 26, 0.8, 43).train) != tags(a.train));

  // One row: stays in train even at a small fraction; round(0.1 * 3) = 0 -> 1.
  const Interactions small = tagged({0, 1, 1, 1}, {0, 0, 0, 0});
  const Split s = ratioSplit(small, 2, 0.1, 1);
  REQUIRE(s.train.size() == 2);
  REQUIRE(s.train.users == std::vector<Index>{0, 1});
  REQUIRE_THROWS_AS(ratioSplit(small, 1, 0.5, 1), InvalidArgument);
  REQUIRE_THROWS_AS(ratioSplit(small, 2, 1.0, 1), InvalidArgument);
}

TEST_CASE("k-fold: folds partition the rows, sizes within one, seeded", "[data]") {
  const Interactions r = randomTable(103, 10, 2);
  const int k = 5;
  std::vector<int> seen;
  for (int fold = 0; fold < k; ++fold) {
    const Split s = kfoldSplit(r, k, fold, 7);
    requirePartition(s, r.size());
    REQUIRE((s.test.size() == 20 || s.test.size() == 21));
    const std::vector<int> t = tags(s.test);
    seen.insert(seen.end(), t.begin(), t.end());
    REQUIRE(tags(kfoldSplit(r, k, fold, 7).test) == t);
  }
  std::sort(seen.begin(), seen.end());
  REQUIRE(seen.size() == r.size());
  REQUIRE(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  REQUIRE(tags(kfoldSplit(r, k, 0, 8).test) != tags(kfoldSplit(r, k, 0, 7).test));
  REQUIRE_THROWS_WITH(kfoldSplit(r, 5, 5, 1), Contains("fold must be in [0, 5)"));
  REQUIRE_THROWS_AS(kfoldSplit(r, 5, -1, 1), InvalidArgument);
  REQUIRE_THROWS_AS(kfoldSplit(r, 1, 0, 1), InvalidArgument);
}

TEST_CASE("splitBySpec parses the valid forms and lists them otherwise", "[data]") {
  const Interactions r = randomTable(200, 12, 4);
  REQUIRE(tags(splitBySpec(r, 12, "leave-last-out", 1).test) == tags(leaveLastOut(r, 12).test));
  REQUIRE(tags(splitBySpec(r, 12, "temporal:0.8", 1).test) == tags(temporalSplit(r, 0.8).test));
  REQUIRE(tags(splitBySpec(r, 12, "ratio:0.7", 3).test) == tags(ratioSplit(r, 12, 0.7, 3).test));
  REQUIRE(tags(splitBySpec(r, 12, "kfold:5", 3).test) == tags(kfoldSplit(r, 5, 0, 3).test));
  REQUIRE(tags(splitBySpec(r, 12, "kfold:5:2", 3).test) == tags(kfoldSplit(r, 5, 2, 3).test));
  REQUIRE(tags(splitBySpec(r, 12, "kfold:100:99", 3).test) == tags(kfoldSplit(r, 100, 99, 3).test));
  for (const char* bad : {"", "loo", "leave-last-out:1", "temporal", "temporal:", "temporal:0", "temporal:1",
                          "temporal:abc", "temporal:0.5x", "ratio:1.5", "ratio:-0.2", "kfold", "kfold:1",
                          "kfold:101", "kfold:5:5", "kfold:5:-1", "kfold:x", "kfold:5:", "random:0.5"}) {
    INFO(bad);
    REQUIRE_THROWS_AS(splitBySpec(r, 12, bad, 1), InvalidArgument);
    REQUIRE_THROWS_WITH(splitBySpec(r, 12, bad, 1),
                        Contains("leave-last-out, temporal:F, ratio:F") && Contains("kfold:K:FOLD"));
  }
}

#include "models/cf/popularity.h"

#include <catch2/catch.hpp>

#include "core/error.h"
#include "data/csr.h"
#include "io/model_file.h"
#include "models/model_io.h"

using namespace localrec;

namespace {

constexpr Timestamp kDay = 86'400;

// 3 users, 4 items; item 3 has no interactions. The newest event is on day 20.
//   item 0: values 5 (day 0), 3 (day 10), 1 (day 20)
//   item 1: value 4 (day 20)
//   item 2: values 2 (day 0), 2 (day 20)
InteractionMatrix tinyTable() {
  Interactions rows;
  rows.push(0, 0, 5, 0 * kDay);
  rows.push(1, 0, 3, 10 * kDay);
  rows.push(2, 0, 1, 20 * kDay);
  rows.push(0, 1, 4, 20 * kDay);
  rows.push(1, 2, 2, 0 * kDay);
  rows.push(2, 2, 2, 20 * kDay);
  return InteractionMatrix(rows, 3, 4);
}

std::vector<float> fitted(const OptionMap& options) {
  Popularity model(options);
  model.fit(tinyTable());
  return model.itemScores();
}

}  // namespace

TEST_CASE("popularity counts interactions per item", "[models]") {
  REQUIRE(fitted({}) == std::vector<float>{3, 1, 2, 0});
}

TEST_CASE("popularity min_value counts only values at or above it", "[models]") {
  REQUIRE(fitted({{"min_value", "3"}}) == std::vector<float>{2, 1, 0, 0});
  REQUIRE(fitted({{"min_value", "2"}}) == std::vector<float>{2, 1, 2, 0});  // "at least": the 2s count
  REQUIRE(fitted({{"min_value", "5.5"}}) == std::vector<float>{0, 0, 0, 0});
}

TEST_CASE("popularity half_life_days halves an interaction's weight per half-life of age", "[models]") {
  // Ages from day 20: item 0 -> 20, 10, 0 days = 0.25 + 0.5 + 1; item 2 -> 20, 0 days = 0.25 + 1.
  const auto decayed = fitted({{"half_life_days", "10"}});
  REQUIRE(decayed[0] == Approx(1.75).epsilon(1e-6));
  REQUIRE(decayed[1] == Approx(1.0).epsilon(1e-6));
  REQUIRE(decayed[2] == Approx(1.25).epsilon(1e-6));
  REQUIRE(decayed[3] == 0.0f);
  // Both together: item 0 keeps 5 (day 0) and 3 (day 10) = 0.25 + 0.5.
  const auto both = fitted({{"half_life_days", "10"}, {"min_value", "3"}});
  REQUIRE(both[0] == Approx(0.75).epsilon(1e-6));
  REQUIRE(both[1] == Approx(1.0).epsilon(1e-6));
  REQUIRE(both[2] == 0.0f);
  // A half-life of 20 days: item 0 -> 0.5 + 2^-0.5 + 1.
  REQUIRE(fitted({{"half_life_days", "20"}})[0] == Approx(0.5 + 0.70710678 + 1.0).epsilon(1e-6));
}

TEST_CASE("popularity ignores the history, explains by the item's own score, saves its scores", "[models]") {
  Popularity model;
  model.fit(tinyTable());
  std::vector<float> a(4), b(4);
  const std::vector<Index> history = {0, 2};
  model.score({}, a);
  model.score({history, {}, {}}, b);
  REQUIRE(a == std::vector<float>{3, 1, 2, 0});
  REQUIRE(b == a);  // seen items are filtered by the caller, not here

  const auto why = model.explain({history, {}, {}}, 2, 5);
  REQUIRE(why.size() == 1);
  REQUIRE(why[0].source == -1);
  REQUIRE(why[0].weight == 2.0f);
  REQUIRE(model.explain({}, 2, 0).empty());

  // PARM holds exactly a u64 count and the float scores.
  const auto file = saveModel(model);
  readModelFile(file, [](const ModelFileHeader& h, Reader& in) {
    REQUIRE(h.kind == "popularity");
    REQUIRE(in.remaining() == 8 + 4 * 4);
    REQUIRE(in.floats("scores") == std::vector<float>{3, 1, 2, 0});
  });

  REQUIRE_THROWS_WITH(Popularity(OptionMap{{"half_life_days", "-1"}}), Catch::Contains("half_life_days"));
  REQUIRE_THROWS_WITH(Popularity(OptionMap{{"min_value", "x"}}), Catch::Contains("min_value"));
}

TEST_CASE("popularity decay works with timestamps before the epoch", "[models]") {
  // All times negative: the newest (-10) has weight 1, one half-life older (-86410) weight 0.5.
  Interactions rows;
  rows.push(0, 0, 1, -10);
  rows.push(1, 1, 1, -10 - 86400);
  Popularity model(OptionMap{{"half_life_days", "1"}});
  model.fit(InteractionMatrix(rows, 2, 2));
  REQUIRE(model.itemScores()[0] == Approx(1.0f));
  REQUIRE(model.itemScores()[1] == Approx(0.5f));
}

TEST_CASE("a model without incremental update refuses update() with StateError", "[models]") {
  Popularity model{OptionMap{}};
  const InteractionMatrix train = tinyTable();
  model.fit(train);
  REQUIRE_FALSE(model.supportsUpdate());
  const std::vector<Index> changed{0};
  REQUIRE_THROWS_WITH(model.update(train, changed), Catch::Contains("no incremental update"));
  REQUIRE_THROWS_AS(model.update(train, changed), StateError);
}

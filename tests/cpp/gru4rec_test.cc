// GRU4Rec: learning a sequence task, truncation, explain, NaN handling,
// cancel, and streaming sessions (also the generic session of a CF model).
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/progress.h"
#include "data/csr.h"
#include "models/registry.h"
#include "models/cf/ials.h"
#include "models/seq/gru4rec.h"
#include "model_contract.h"
#include "nn/finite.h"
#include "nn/training.h"
#include "test_data.h"

using namespace localrec;
using namespace localrec::test;

namespace {

// init=random: these tiny tasks test the network (see ials_start.h).
OptionMap smallOptions() {
  return {{"init", "random"}, {"hidden", "16"}, {"epochs", "30"}, {"n_sample", "4"}, {"batch_size", "8"},
          {"learning_rate", "0.1"}};
}

void requireClose(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) REQUIRE(std::abs(a[i] - b[i]) <= 1e-5f * std::max(1.0f, std::abs(b[i])));
}

}  // namespace

TEST_CASE("gru4rec learns a deterministic cycle of items", "[models]") {
  Gru4Rec model(smallOptions());
  model.fit(cycleData());
  std::vector<float> scores(kCycle);
  for (Index start = 0; start < kCycle; ++start) {
    // Histories of length 1 and 3 ending at `start`: the next item is start + 1.
    const std::vector<Index> one = {start};
    model.score(History{one, {}, {}}, scores);
    REQUIRE(argmax(scores) == (start + 1) % kCycle);
    const std::vector<Index> three = {(start + 8) % kCycle, (start + 9) % kCycle, start};
    model.score(History{three, {}, {}}, scores);
    REQUIRE(argmax(scores) == (start + 1) % kCycle);
  }
}

TEST_CASE("gru4rec with init=ials starts both item tables from iALS item factors", "[models]") {
  // A learning rate near zero leaves the start visible after one epoch.
  const InteractionMatrix data = cycleData();
  auto ialsFactors = [&](int factors) {
    Ials cf(OptionMap{{"factors", std::to_string(factors)}, {"reg", "10"}, {"iterations", "30"}, {"seed", "42"}});
    cf.fit(data);
    return cf.itemFactors();
  };
  auto requireStart = [&](std::span<const float> row, const std::vector<float>& factors, Index item) {
    for (size_t k = 0; k < row.size(); ++k)
      REQUIRE(row[k] == Approx(factors[static_cast<size_t>(item) * row.size() + k]).margin(1e-4));
  };
  OptionMap o = smallOptions();
  o["init"] = "ials";
  o["epochs"] = "1";
  o["optimizer"] = "adagrad";
  o["learning_rate"] = "1e-6";
  for (const char* embedding : {"0", "8"}) {  // 0: as wide as hidden (one fit), 8: two fits
    INFO("embedding " << embedding);
    o["embedding"] = embedding;
    Gru4Rec model(o);
    model.fit(data);
    const std::vector<float> in = ialsFactors(std::string(embedding) == "0" ? 16 : 8), out = ialsFactors(16);
    for (Index i = 0; i < kCycle; ++i) {
      REQUIRE(model.inputEmbedding(i).size() == (std::string(embedding) == "0" ? 16u : 8u));
      REQUIRE(model.outputEmbedding(i).size() == 16u);
      requireStart(model.inputEmbedding(i), in, i);
      requireStart(model.outputEmbedding(i), out, i);
    }
  }
  o["init"] = "random";
  o["embedding"] = "0";
  Gru4Rec randomInit(o);
  randomInit.fit(data);
  const std::vector<float> out = ialsFactors(16);
  double far = 0.0;
  for (size_t k = 0; k < 16; ++k) far = std::max(far, std::abs(double(randomInit.outputEmbedding(0)[k]) - out[k]));
  REQUIRE(far > 1e-2);
  REQUIRE_THROWS_AS(randomInit.inputEmbedding(kCycle), InvalidArgument);
  REQUIRE_THROWS_WITH(Gru4Rec(OptionMap{{"init_iterations", "0"}}), Catch::Contains("init_iterations"));
}

TEST_CASE("gru4rec: both losses and all optimizers train", "[models]") {
  for (const char* loss : {"cross-entropy", "bpr-max"})
    for (const char* opt : {"adagrad", "adam", "sgd"}) {
      INFO(loss << " " << opt);
      OptionMap o = smallOptions();
      o["loss"] = loss;
      o["optimizer"] = opt;
      o["learning_rate"] = std::string(opt) == "adam" ? "0.01" : "0.1";
      if (std::string(opt) == "sgd") o["momentum"] = "0.9";
      o["dropout_input"] = "0.1";
      o["dropout_hidden"] = "0.1";
      Gru4Rec model(o);
      model.fit(cycleData());
      std::vector<float> scores(kCycle);
      int right = 0;
      for (Index start = 0; start < kCycle; ++start) {
        const std::vector<Index> h = {start};
        model.score(History{h, {}, {}}, scores);
        right += argmax(scores) == (start + 1) % kCycle;
      }
      REQUIRE(right >= 9);
    }
}

TEST_CASE("gru4rec truncates histories to max_history and explains by leaving one out", "[models]") {
  OptionMap o = smallOptions();
  o["max_history"] = "3";
  o["epochs"] = "3";
  Gru4Rec model(o);
  model.fit(cycleData());
  const std::vector<Index> longer = {5, 9, 1, 2, 3}, last3 = {1, 2, 3};
  std::vector<float> a(kCycle), b(kCycle);
  model.score(History{longer, {}, {}}, a);
  model.score(History{last3, {}, {}}, b);
  REQUIRE(a == b);

  // Leave-one-out against brute force: positions refer to the full history.
  const Index item = 4;
  const auto reasons = model.explain(History{longer, {}, {}}, item, 10);
  REQUIRE(reasons.size() == 3);
  for (size_t k = 0; k < reasons.size(); ++k) {
    REQUIRE(reasons[k].source >= 2);
    if (k > 0) REQUIRE(reasons[k - 1].weight >= reasons[k].weight);
    std::vector<Index> without = last3;
    without.erase(without.begin() + (reasons[k].source - 2));
    model.score(History{without, {}, {}}, a);
    REQUIRE(reasons[k].weight == Approx(b[item] - a[item]).margin(1e-5));
  }
  REQUIRE(model.explain(History{longer, {}, {}}, item, 1).size() == 1);
  REQUIRE(model.explain(History{}, item, 5).empty());
}

TEST_CASE("gru4rec refuses empty sequence data and too many layers", "[models]") {
  REQUIRE_THROWS_WITH(Gru4Rec(OptionMap{{"layers", "5"}}), Catch::Contains("layers") && Catch::Contains("[1, 4]"));
  Interactions rows;
  rows.push(0, 0, 1.0f, 1);
  rows.push(1, 1, 1.0f, 2);
  Gru4Rec model(smallOptions());
  REQUIRE_THROWS_AS(model.fit(InteractionMatrix(rows, 2, 2)), InvalidArgument);
}

TEST_CASE("gru4rec with stacked layers learns the cycle and passes the model contract", "[models]") {
  OptionMap o = smallOptions();
  o["layers"] = "2";
  Gru4Rec model(o);
  REQUIRE(model.stateSize() == 32);
  model.fit(cycleData());
  std::vector<float> scores(kCycle);
  for (Index start = 0; start < kCycle; ++start) {
    const std::vector<Index> three = {(start + 8) % kCycle, (start + 9) % kCycle, start};
    model.score(History{three, {}, {}}, scores);
    REQUIRE(argmax(scores) == (start + 1) % kCycle);
  }
  // A session steps every layer per push and scores from the top one.
  auto session = model.openSession();
  std::vector<float> fromSession(kCycle), fromHistory(kCycle);
  const std::vector<Index> history = {4, 5, 6, 2};
  for (Index item : history) session->push(item);
  session->score(fromSession);
  model.score(History{history, {}, {}}, fromHistory);
  requireClose(fromSession, fromHistory);
  localrec::testing::runModelContract(
      "gru4rec", {{"hidden", "8"}, {"layers", "2"}, {"epochs", "4"}, {"n_sample", "16"}, {"batch_size", "16"}},
      {/*findsBestItem=*/false, /*deterministic=*/true, /*prepare=*/{}});
}

TEST_CASE("gru4rec stops on NaN with an error naming the epoch", "[models]") {
  // bpr-max's score regularization grows quadratically with the scores: with a
  // huge learning rate the scores explode within the first epoch.
  OptionMap o = smallOptions();
  o["loss"] = "bpr-max";
  o["bpr_max_reg"] = "100";
  o["optimizer"] = "sgd";
  o["learning_rate"] = "10";
  Gru4Rec model(o);
  REQUIRE_THROWS_AS(model.fit(cycleData()), nn::NonFiniteError);
  REQUIRE_THROWS_WITH(model.fit(cycleData()), Catch::Contains("epoch 1") && Catch::Contains("learning_rate"));
  REQUIRE_FALSE(model.fitted());  // no completed epoch: no good weights to keep
}

TEST_CASE("gru4rec keeps the weights of the last completed epoch when a later epoch fails", "[models]") {
  // The restore itself is tested on nn::runEpochs (nn_test.cc); here: gru4rec
  // hands it every parameter. A NaN planted in all of them in epoch 3 must stop
  // training there and leave exactly the weights of 2 epochs.
  OptionMap o = smallOptions();
  o["epochs"] = "5";
  Gru4Rec failed(o);
  {
    const nn::ScopedBatchHook nan(nn::ScopedBatchHook::nanInEpoch(3));
    REQUIRE_THROWS_WITH(failed.fit(cycleData()), Catch::Contains("epoch 3") && Catch::Contains("learning_rate"));
  }
  REQUIRE(failed.fitted());
  o["epochs"] = "2";
  Gru4Rec reference(o);
  reference.fit(cycleData());
  std::vector<float> a(kCycle), b(kCycle);
  for (Index start = 0; start < kCycle; ++start) {
    const std::vector<Index> history = {start, (start + 1) % kCycle};
    failed.score(History{history, {}, {}}, a);
    reference.score(History{history, {}, {}}, b);
    REQUIRE(a == b);
  }
}

TEST_CASE("gru4rec cancels within one mini-batch", "[models]") {
  Gru4Rec model(smallOptions());
  int calls = 0;
  double lastFraction = 0;
  Progress progress([&](double fraction, const std::string&) {
    lastFraction = fraction;
    return ++calls == 5;  // cancel at the 5th report, in the middle of epoch 1
  });
  REQUIRE_THROWS_AS(model.fit(cycleData(), progress), Cancelled);
  REQUIRE(calls == 5);
  REQUIRE(lastFraction < 1.0 / 30);
  REQUIRE_FALSE(model.fitted());
}

TEST_CASE("sessions pushed event by event score like score(history)", "[models]") {
  const InteractionMatrix train = cycleData();
  for (const char* name : {"gru4rec", "ials", "popularity"}) {
    INFO(name);
    auto model = createModel(name, std::string(name) == "gru4rec" ? smallOptions() : OptionMap{});
    REQUIRE_THROWS_AS(model->openSession(), StateError);
    model->fit(train);
    auto session = model->openSession();
    const std::vector<Index> history = {3, 4, 5, 7, 1, 1};
    std::vector<float> fromSession(kCycle), fromHistory(kCycle);
    session->score(fromSession);
    model->score(History{}, fromHistory);
    requireClose(fromSession, fromHistory);
    for (size_t k = 0; k < history.size(); ++k) {
      session->push(history[k]);
      REQUIRE(session->size() == k + 1);
      session->score(fromSession);
      model->score(History{std::span<const Index>(history).first(k + 1), {}, {}}, fromHistory);
      requireClose(fromSession, fromHistory);
    }
    REQUIRE_THROWS_AS(session->push(kCycle), InvalidArgument);
    REQUIRE(session->size() == history.size());
    session->reset();
    REQUIRE(session->size() == 0);
    session->score(fromSession);
    model->score(History{}, fromHistory);
    requireClose(fromSession, fromHistory);
  }
}

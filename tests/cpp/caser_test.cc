// Caser: learning a sequence task (also with L larger than every history),
// windowing and padding, explain, save/load, NaN handling, cancel, options.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/progress.h"
#include "data/csr.h"
#include "io/model_file.h"
#include "io/serialize.h"
#include "models/model_io.h"
#include "models/registry.h"
#include "models/cf/ials.h"
#include "models/seq/caser.h"
#include "model_contract.h"
#include "nn/finite.h"
#include "nn/training.h"
#include "test_data.h"

using namespace localrec;
using namespace localrec::test;

namespace {

// 0 9 1 9 2 9 ... 8 9 0 9 ... (90 users, 14 events from different starts):
// after the shared item 9 comes the successor (mod 9) of the item before it.
InteractionMatrix twoBackData() {
  Interactions rows;
  for (Index u = 0; u < 90; ++u)
    for (Index k = 0; k < 14; ++k) {
      const Index step = u + k;
      const Index item = step % 2 == 1 ? 9 : (step / 2) % 9;
      rows.push(u, item, 1.0f, Timestamp{1000} * u + k);
    }
  return InteractionMatrix(rows, 90, kCycle);
}

// init=random: these tiny tasks test the network, and on them iALS's item
// factors carry nothing (every user has nearly every item), see caser.h.
// One network (networks=1): the tiny-task tests check what a single network learns;
// the networks test checks the mean of several.
OptionMap smallOptions() {
  return {{"init", "random"},           {"networks", "1"},
          {"L", "3"},          {"d", "16"},        {"n_h", "4"},         {"n_v", "2"},
          {"dropout", "0"},    {"epochs", "40"},   {"negatives", "8"},   {"batch_size", "32"},
          {"learning_rate", "0.01"}, {"optimizer", "adam"}};
}

std::vector<float> scoresOf(const Recommender& model, std::vector<Index> items) {
  std::vector<float> out(static_cast<size_t>(model.numItems()));
  model.score(History{items, {}, {}}, out);
  return out;
}

}  // namespace

TEST_CASE("caser bce: known value, unused columns, gradient by finite differences", "[models]") {
  // Two rows (targets 4 and 7 in columns 0 and 1), shared negatives 7, 2, 4.
  const std::vector<Index> candidates = {4, 7, 7, 2, 4};
  nn::Matrix scores(2, 5), dScores;
  const std::vector<float> values = {0.5f, -1.0f, 0.25f, -0.5f, 2.0f,  //
                                     1.5f, 0.75f, 3.0f, 0.1f, -2.0f};
  std::copy(values.begin(), values.end(), scores.data());
  auto softplus = [](double x) { return std::log1p(std::exp(x)); };
  // Row 0: positive 0.5; negatives at columns 2, 3 (column 4 is its own target; column 1 is another row's target).
  // Row 1: positive 0.75; negatives at columns 3, 4 (column 2 is its own target).
  const double expected =
      (softplus(-0.5) + softplus(0.25) + softplus(-0.5) + softplus(-0.75) + softplus(0.1) + softplus(-2.0)) / 2;
  REQUIRE(caser_detail::sharedNegativeBce(scores, candidates, 2, dScores) == Approx(expected).epsilon(1e-6));
  for (auto [r, c] : std::vector<std::pair<int, int>>{{0, 1}, {0, 4}, {1, 0}, {1, 2}}) REQUIRE(dScores(r, c) == 0.0f);
  const std::vector<float> analytic(dScores.data(), dScores.data() + dScores.size());
  for (size_t k = 0; k < scores.size(); ++k) {
    const float saved = scores.data()[k];
    nn::Matrix unused;
    scores.data()[k] = saved + 1e-2f;
    const double up = caser_detail::sharedNegativeBce(scores, candidates, 2, unused);
    scores.data()[k] = saved - 1e-2f;
    const double down = caser_detail::sharedNegativeBce(scores, candidates, 2, unused);
    scores.data()[k] = saved;
    const double numeric = (up - down) / 2e-2;
    INFO("component " << k);
    REQUIRE(std::fabs(numeric - analytic[k]) <= 2e-3 + 1e-2 * std::fabs(analytic[k]));
  }
}

TEST_CASE("caser learns a deterministic cycle of items (both losses)", "[models]") {
  for (const char* loss : {"bce", "cross-entropy"}) {
    INFO(loss);
    OptionMap o = smallOptions();
    o["loss"] = loss;
    Caser model(o);
    model.fit(cycleData());
    for (Index start = 0; start < kCycle; ++start) {
      REQUIRE(argmax(scoresOf(model, {start})) == (start + 1) % kCycle);
      REQUIRE(argmax(scoresOf(model, {(start + 8) % kCycle, (start + 9) % kCycle, start})) == (start + 1) % kCycle);
    }
  }
}

TEST_CASE("caser uses the window: the next item depends on the item two steps back", "[models]") {
  // After the shared item 9, the next item is the successor (mod 9) of the
  // item before the 9: a model that saw only the last item could not do it.
  OptionMap o = smallOptions();
  o["loss"] = "cross-entropy";
  Caser model(o);
  model.fit(twoBackData());
  int right = 0;
  for (Index a = 0; a < 9; ++a) right += argmax(scoresOf(model, {a, 9})) == (a + 1) % 9;
  REQUIRE(right == 9);
}

TEST_CASE("caser with targets=2 also learns the item two steps ahead (the paper's skip targets)", "[models]") {
  // Every user's sequence is a, x, b(a): a in 0..8, b(a) = 9 + a, and x one of
  // 20 noise items 18..37 (each (a, x) pair once). With L = 1 the window [a]
  // only ever precedes x when targets = 1, so b(a) cannot come first for [a];
  // with targets = 2 the window [a] also predicts b(a), 20 times as often as any x.
  Interactions rows;
  for (Index u = 0; u < 180; ++u) {
    const Index a = u % 9, x = 18 + (u * 7) % 20;
    rows.push(u, a, 1.0f, Timestamp{10} * u);
    rows.push(u, x, 1.0f, Timestamp{10} * u + 1);
    rows.push(u, 9 + a, 1.0f, Timestamp{10} * u + 2);
  }
  const InteractionMatrix data(rows, 180, 38);
  for (int targets : {1, 2}) {
    INFO("targets " << targets);
    OptionMap o = smallOptions();
    o["L"] = "1";
    o["loss"] = "cross-entropy";
    o["targets"] = std::to_string(targets);
    Caser model(o);
    model.fit(data);
    int skipFirst = 0;
    for (Index a = 0; a < 9; ++a) skipFirst += argmax(scoresOf(model, {a})) == 9 + a;
    REQUIRE(skipFirst == (targets == 2 ? 9 : 0));
  }
}

TEST_CASE("caser with init=ials starts its item embeddings from the iALS item factors", "[models]") {
  // A learning rate near zero leaves the starting point visible after one epoch
  // (adagrad moves a weight by at most learning_rate per step).
  OptionMap o = smallOptions();
  o["init"] = "ials";
  o["epochs"] = "1";
  o["optimizer"] = "adagrad";
  o["learning_rate"] = "1e-6";
  o["l2"] = "0";
  const InteractionMatrix data = cycleData();
  Caser model(o);
  model.fit(data);
  Ials cf(OptionMap{{"factors", "16"}, {"reg", "10"}, {"iterations", "30"}, {"seed", "42"}});
  cf.fit(data);
  for (Index i = 0; i < kCycle; ++i) {
    const std::span<const float> in = model.inputEmbedding(i), out = model.outputEmbedding(i);
    REQUIRE(in.size() == 16);
    REQUIRE(out.size() == 16);
    for (size_t k = 0; k < 16; ++k) {
      const float q = cf.itemFactors()[static_cast<size_t>(i) * 16 + k];
      REQUIRE(in[k] == Approx(q).margin(1e-4));
      REQUIRE(out[k] == Approx(q).margin(1e-4));
    }
  }
  // init=random does not start there.
  o["init"] = "random";
  Caser randomInit(o);
  randomInit.fit(data);
  double far = 0.0;
  for (size_t k = 0; k < 16; ++k) far = std::max(far, std::abs(double(randomInit.inputEmbedding(0)[k]) - cf.itemFactors()[k]));
  REQUIRE(far > 1e-2);
  REQUIRE_THROWS_AS(model.inputEmbedding(kCycle), InvalidArgument);
  REQUIRE_THROWS_AS(Caser(OptionMap{{"init", "bpr"}}), InvalidArgument);
  REQUIRE_THROWS_WITH(Caser(OptionMap{{"init_reg", "0"}}), Catch::Contains("init_reg"));
  REQUIRE_THROWS_WITH(Caser(OptionMap{{"init_iterations", "0"}}), Catch::Contains("init_iterations"));
  // The inner fit follows init_reg and init_iterations.
  o["init"] = "ials";
  o["init_reg"] = "1";
  o["init_iterations"] = "4";
  Caser other(o);
  other.fit(data);
  Ials otherCf(OptionMap{{"factors", "16"}, {"reg", "1"}, {"iterations", "4"}, {"seed", "42"}});
  otherCf.fit(data);
  double fromDefault = 0.0;
  for (size_t k = 0; k < 16; ++k) {
    REQUIRE(other.inputEmbedding(0)[k] == Approx(otherCf.itemFactors()[k]).margin(1e-4));
    fromDefault = std::max(fromDefault, std::abs(double(otherCf.itemFactors()[k]) - cf.itemFactors()[k]));
  }
  REQUIRE(fromDefault > 1e-3);
}

TEST_CASE("caser with L larger than every history pads and still learns", "[models]") {
  OptionMap o = smallOptions();
  o["L"] = "13";  // every training sequence has 12 events
  Caser model(o);
  model.fit(cycleData());
  REQUIRE(model.window(std::vector<Index>{4, 5}).size() == 13);
  REQUIRE(model.window(std::vector<Index>{4, 5})[10] == kCycle);  // the padding id N
  REQUIRE(model.window(std::vector<Index>{4, 5})[12] == 5);
  REQUIRE(model.window(std::vector<Index>{4, 5})[11] == 4);
  for (Index start = 0; start < kCycle; ++start) {
    REQUIRE(argmax(scoresOf(model, {start})) == (start + 1) % kCycle);
    REQUIRE(argmax(scoresOf(model, {(start + 9) % kCycle, start})) == (start + 1) % kCycle);
  }
  for (float v : scoresOf(model, {})) REQUIRE(std::isfinite(v));  // all padding
}

TEST_CASE("caser scores only the last L items and explains by leaving one out", "[models]") {
  OptionMap o = smallOptions();
  o["epochs"] = "3";
  Caser model(o);
  model.fit(cycleData());
  REQUIRE(scoresOf(model, {5, 9, 1, 2, 3}) == scoresOf(model, {1, 2, 3}));

  const std::vector<Index> history = {5, 9, 1, 2, 3};
  const Index item = 4;
  const auto full = scoresOf(model, history);
  const auto reasons = model.explain(History{history, {}, {}}, item, 10);
  REQUIRE(reasons.size() == 3);  // the last L positions
  for (size_t k = 0; k < reasons.size(); ++k) {
    REQUIRE(reasons[k].source >= 2);
    if (k > 0) REQUIRE(reasons[k - 1].weight >= reasons[k].weight);
    std::vector<Index> without = history;
    without.erase(without.begin() + reasons[k].source);
    REQUIRE(reasons[k].weight == Approx(full[item] - scoresOf(model, without)[item]).margin(1e-5));
  }
  REQUIRE(model.explain(History{history, {}, {}}, item, 1).size() == 1);
  REQUIRE(model.explain(History{}, item, 5).empty());
}

TEST_CASE("caser save and load round-trip exactly; mismatched layouts are refused", "[models]") {
  OptionMap o = smallOptions();
  o["epochs"] = "2";
  Caser small(o);
  small.fit(cycleData());
  const auto file = saveModel(small);
  const LoadedModel loaded = loadModel(file);
  REQUIRE(loaded.model->kind() == "caser");
  for (const auto& h : std::vector<std::vector<Index>>{{}, {3}, {1, 2, 3, 4, 5}})
    REQUIRE(scoresOf(*loaded.model, h) == scoresOf(small, h));
  REQUIRE(saveModel(*loaded.model) == file);

  // The same parameters under options with another shape, and an unknown layout version.
  auto rewrap = [&](auto write) {
    const ModelFileHeader header = readModelFile(file, [&](const ModelFileHeader&, Reader& in) {
      std::vector<uint8_t> rest(in.remaining());
      in.raw(rest.data(), rest.size(), "parameters");
    });
    return writeModelFile(header, write);
  };
  REQUIRE_THROWS_AS(loadModel(rewrap([&](Writer& out) { out.u32(7); })), FormatError);
  REQUIRE_THROWS_WITH(loadModel(rewrap([&](Writer& out) {
                        out.u32(1);
                        out.i32(kCycle);
                        out.i32(4);  // L differs from the options
                        out.i32(16);
                        out.i32(4);
                        out.i32(2);
                        out.i32(0);
                      })),
                      Catch::Contains("L 4"));
}

TEST_CASE("caser with networks=K scores with the mean of K networks, each on its own seed", "[models]") {
  OptionMap o = smallOptions();
  o["epochs"] = "3";
  o["init"] = "ials";  // each network has its own iALS start too
  o["seed"] = "7";
  o["networks"] = "3";
  const InteractionMatrix data = cycleData();
  Caser ensemble(o);
  ensemble.fit(data);
  REQUIRE(ensemble.networkCount() == 3);
  o["networks"] = "1";
  std::vector<std::unique_ptr<Caser>> singles;
  Rng stream(7);
  std::vector<uint64_t> seeds;
  for (int k = 0; k < 3; ++k) {
    const uint64_t seed = k == 0 ? 7 : caser_detail::networkSeed(stream);
    REQUIRE(seed < (uint64_t{1} << 31));
    // Not seed + k: then seeds 7 and 8 would share a network.
    if (k > 0) REQUIRE(seed != 7 + static_cast<uint64_t>(k));
    for (uint64_t earlier : seeds) REQUIRE(seed != earlier);
    seeds.push_back(seed);
    o["seed"] = std::to_string(seed);
    singles.push_back(std::make_unique<Caser>(o));
    singles.back()->fit(data);
    REQUIRE(singles.back()->networkCount() == 1);
    for (Index i : {Index{0}, Index{5}})
      REQUIRE(std::vector<float>(ensemble.inputEmbedding(i, static_cast<size_t>(k)).begin(),
                                 ensemble.inputEmbedding(i, static_cast<size_t>(k)).end()) ==
              std::vector<float>(singles.back()->inputEmbedding(i).begin(), singles.back()->inputEmbedding(i).end()));
  }
  REQUIRE_THROWS_WITH(ensemble.inputEmbedding(0, 3), Catch::Contains("network 3 outside [0, 3)"));
  // The networks differ (each has its own iALS start and training).
  auto row = [](std::span<const float> v) { return std::vector<float>(v.begin(), v.end()); };
  REQUIRE(row(ensemble.inputEmbedding(0, 1)) != row(ensemble.inputEmbedding(0, 0)));
  REQUIRE(row(ensemble.outputEmbedding(0, 2)) != row(ensemble.outputEmbedding(0, 1)));
  const std::vector<Index> history = {5, 9, 1, 2, 3};
  for (const auto& h : std::vector<std::vector<Index>>{{}, {4}, history}) {
    const auto mean = scoresOf(ensemble, h);
    const auto a = scoresOf(*singles[0], h), b = scoresOf(*singles[1], h), c = scoresOf(*singles[2], h);
    for (size_t i = 0; i < mean.size(); ++i) REQUIRE(mean[i] == Approx((a[i] + b[i] + c[i]) / 3).margin(1e-5));
  }
  // Explain: leave-one-out on the mean score.
  const auto full = scoresOf(ensemble, history);
  for (const auto& r : ensemble.explain(History{history, {}, {}}, 4, 10)) {
    std::vector<Index> without = history;
    without.erase(without.begin() + r.source);
    REQUIRE(r.weight == Approx(full[4] - scoresOf(ensemble, without)[4]).margin(1e-5));
  }
  // Round trip; a file with more networks than the option allows is refused.
  const auto file = saveModel(ensemble);
  const LoadedModel loaded = loadModel(file);
  REQUIRE(dynamic_cast<const Caser&>(*loaded.model).networkCount() == 3);
  REQUIRE(scoresOf(*loaded.model, history) == full);
  REQUIRE(saveModel(*loaded.model) == file);
  const ModelFileHeader header = readModelFile(file, [](const ModelFileHeader&, Reader& in) {
    std::vector<uint8_t> rest(in.remaining());
    in.raw(rest.data(), rest.size(), "parameters");
  });
  ModelFileHeader fewer = header;
  fewer.options["networks"] = "2";
  REQUIRE_THROWS_WITH(loadModel(writeModelFile(fewer, [&](Writer& out) { ensemble.save(out); })),
                      Catch::Contains("3 caser networks; expected 1 to 2"));
  // A count of 0 or below is refused before any network is read.
  for (int32_t count : {0, -1}) {
    Writer shape;
    ensemble.save(shape);
    std::vector<uint8_t> b = shape.bytes();
    std::memcpy(b.data() + 28, &count, 4);  // after u32 version and 6 x i32 shape
    REQUIRE_THROWS_WITH(loadModel(writeModelFile(header, [&](Writer& out) { out.raw(b.data(), b.size()); })),
                        Catch::Contains("holds " + std::to_string(count) + " caser networks"));
  }
}

TEST_CASE("caser with networks=2: a NaN in the second network keeps the first; in the first, nothing", "[models]") {
  OptionMap o = smallOptions();
  o["epochs"] = "2";
  // The mini-batches of one epoch (the batch hook counts every network's batches of that epoch).
  int batches = 0;
  {
    const nn::ScopedBatchHook count([&](int epoch, const std::vector<nn::Parameter*>&) { batches += epoch == 1; });
    Caser(o).fit(cycleData());
  }
  REQUIRE(batches > 2);
  Caser single(o);
  single.fit(cycleData());
  o["networks"] = "2";
  Caser second(o);
  {
    // The second network's 2nd batch of epoch 1: it has no completed epoch, so it is dropped.
    const nn::ScopedBatchHook nan(nn::ScopedBatchHook::nanInEpoch(1, batches + 2));
    REQUIRE_THROWS_WITH(second.fit(cycleData()),
                        Catch::Contains("caser network 2 of 2 (the model keeps 1)") && Catch::Contains("epoch 1:"));
  }
  REQUIRE(second.fitted());
  REQUIRE(second.networkCount() == 1);
  for (const auto& h : std::vector<std::vector<Index>>{{}, {3}, {1, 2, 3, 4}})
    REQUIRE(scoresOf(second, h) == scoresOf(single, h));  // the first network, as trained alone
  const LoadedModel reloaded = loadModel(saveModel(second));
  REQUIRE(dynamic_cast<const Caser&>(*reloaded.model).networkCount() == 1);
  REQUIRE(scoresOf(*reloaded.model, {1, 2, 3}) == scoresOf(second, {1, 2, 3}));

  Caser first(o);
  {
    const nn::ScopedBatchHook nan(nn::ScopedBatchHook::nanInEpoch(1, 2));
    REQUIRE_THROWS_WITH(first.fit(cycleData()), Catch::Contains("caser network 1 of 2 (the model keeps 0)"));
  }
  REQUIRE_FALSE(first.fitted());
}

TEST_CASE("caser: a layout-1 file (before networks) loads as one network", "[models]") {
  OptionMap o = smallOptions();
  o["epochs"] = "2";
  Caser one(o);
  one.fit(cycleData());
  // Layout 2 = u32 version, 6 x i32 shape, i32 networks, then the floats; layout 1 has no networks field.
  Writer current;
  one.save(current);
  const std::vector<uint8_t>& b = current.bytes();
  REQUIRE(b.size() > 32);
  OptionMap oldOptions = one.options();
  oldOptions.erase("networks");
  const auto file = writeModelFile(ModelFileHeader{"caser", oldOptions, {}}, [&](Writer& out) {
    out.u32(1);
    out.raw(b.data() + 4, 24);
    out.raw(b.data() + 32, b.size() - 32);
  });
  const LoadedModel loaded = loadModel(file);
  REQUIRE(dynamic_cast<const Caser&>(*loaded.model).networkCount() == 1);
  for (const auto& h : std::vector<std::vector<Index>>{{}, {3}, {1, 2, 3, 4, 5}})
    REQUIRE(scoresOf(*loaded.model, h) == scoresOf(one, h));
}

TEST_CASE("caser with user_vector=mean folds the history into a user part", "[models]") {
  OptionMap o = smallOptions();
  o["user_vector"] = "mean";
  Caser model(o);
  model.fit(cycleData());
  for (Index start = 0; start < kCycle; ++start)
    REQUIRE(argmax(scoresOf(model, {(start + 8) % kCycle, (start + 9) % kCycle, start})) == (start + 1) % kCycle);
  // The user part sees the whole history (up to max_history), not only the last L items.
  REQUIRE(scoresOf(model, {5, 9, 1, 2, 3}) != scoresOf(model, {1, 2, 3}));
  // Explain is still leave-one-out over the last L positions.
  const std::vector<Index> history = {5, 9, 1, 2, 3};
  const auto full = scoresOf(model, history);
  const auto reasons = model.explain(History{history, {}, {}}, 4, 10);
  REQUIRE(reasons.size() == 3);
  for (const auto& r : reasons) {
    std::vector<Index> without = history;
    without.erase(without.begin() + r.source);
    REQUIRE(r.weight == Approx(full[4] - scoresOf(model, without)[4]).margin(1e-5));
  }
  // Round trip, and the flag must match the options.
  const auto file = saveModel(model);
  const LoadedModel loaded = loadModel(file);
  REQUIRE(scoresOf(*loaded.model, history) == full);
  REQUIRE(saveModel(*loaded.model) == file);
  localrec::testing::runModelContract("caser", {{"d", "8"}, {"n_h", "4"}, {"n_v", "2"}, {"epochs", "4"}, {"user_vector", "mean"}},
                                      {/*findsBestItem=*/false, /*deterministic=*/true, /*prepare=*/{}});
}

TEST_CASE("caser refuses bad options and data without pairs", "[models]") {
  REQUIRE_THROWS_WITH(Caser(OptionMap{{"n_h", "0"}, {"n_v", "0"}}), Catch::Contains("n_h and n_v"));
  REQUIRE_THROWS_WITH(Caser(OptionMap{{"L", "0"}}), Catch::Contains("L") && Catch::Contains("[1, 50]"));
  REQUIRE_THROWS_AS(Caser(OptionMap{{"dropout", "1"}}), InvalidArgument);
  REQUIRE_THROWS_AS(Caser(OptionMap{{"loss", "mse"}}), InvalidArgument);
  REQUIRE_THROWS_WITH(Caser(OptionMap{{"targets", "0"}}), Catch::Contains("targets") && Catch::Contains("[1, 20]"));
  REQUIRE_THROWS_WITH(Caser(OptionMap{{"networks", "0"}}), Catch::Contains("networks") && Catch::Contains("[1, 16]"));
  Interactions rows;
  rows.push(0, 0, 1.0f, 1);
  rows.push(1, 1, 1.0f, 2);
  Caser model(smallOptions());
  REQUIRE_THROWS_AS(model.fit(InteractionMatrix(rows, 2, 2)), InvalidArgument);
}

TEST_CASE("caser with only horizontal or only vertical filters learns the cycle", "[models]") {
  for (const char* which : {"n_h", "n_v"}) {
    INFO(which << " = 0");
    OptionMap o = smallOptions();
    o[which] = "0";
    Caser model(o);
    model.fit(cycleData());
    int right = 0;
    for (Index start = 0; start < kCycle; ++start)
      right += argmax(scoresOf(model, {(start + 9) % kCycle, start})) == (start + 1) % kCycle;
    REQUIRE(right >= 9);
  }
}

TEST_CASE("caser stops on NaN with an error naming the epoch", "[models]") {
  // SGD with momentum and a huge step: the multiplicative layers blow the
  // scores up. The first of a few such settings that fails in epoch 1 (for
  // this seed and build) must leave the model unfitted.
  bool found = false;
  for (const char* loss : {"cross-entropy", "bce"})
    for (const char* rate : {"10", "5", "2"}) {
      if (found) break;
      OptionMap o = smallOptions();
      o["optimizer"] = "sgd";
      o["momentum"] = "0.9";
      o["loss"] = loss;
      o["learning_rate"] = rate;
      Caser model(o);
      try {
        model.fit(cycleData());
      } catch (const nn::NonFiniteError& e) {
        const std::string message = e.what();
        REQUIRE(message.find("learning_rate") != std::string::npos);
        if (message.find("epoch 1:") == std::string::npos) continue;
        INFO(loss << " at learning rate " << rate << ": " << message);
        REQUIRE_FALSE(model.fitted());
        std::vector<float> out(kCycle);
        REQUIRE_THROWS_AS(model.score(History{}, out), StateError);
        found = true;
      }
    }
  REQUIRE(found);
}

TEST_CASE("caser keeps the weights of the last completed epoch when a later epoch fails", "[models]") {
  // As for gru4rec (the restore is tested on nn::runEpochs in nn_test.cc):
  // with user_vector=mean every parameter, including the history table, must
  // come back to its epoch-2 value.
  // With networks=2 the first network fails, so the model keeps it alone.
  OptionMap o = smallOptions();
  o["user_vector"] = "mean";
  o["epochs"] = "4";
  o["networks"] = "2";
  Caser failed(o);
  {
    const nn::ScopedBatchHook nan(nn::ScopedBatchHook::nanInEpoch(3));
    REQUIRE_THROWS_WITH(failed.fit(cycleData()), Catch::Contains("caser") && Catch::Contains("epoch 3: try a lower"));
  }
  REQUIRE(failed.fitted());
  REQUIRE(failed.networkCount() == 1);
  const LoadedModel reloaded = loadModel(saveModel(failed));  // one network of two loads
  REQUIRE(reloaded.model->options().at("networks") == "2");
  REQUIRE(dynamic_cast<const Caser&>(*reloaded.model).networkCount() == 1);
  REQUIRE(scoresOf(*reloaded.model, {1, 2, 3}) == scoresOf(failed, {1, 2, 3}));
  o["epochs"] = "2";
  o["networks"] = "1";
  Caser reference(o);
  reference.fit(cycleData());
  for (Index start = 0; start < kCycle; ++start) {
    const auto scores = scoresOf(failed, {start, (start + 1) % kCycle, (start + 2) % kCycle});
    REQUIRE(scores == scoresOf(reference, {start, (start + 1) % kCycle, (start + 2) % kCycle}));
  }
}

TEST_CASE("caser cancels within one mini-batch and trains deterministically", "[models]") {
  Caser model(smallOptions());
  int calls = 0;
  double lastFraction = 0;
  Progress progress([&](double fraction, const std::string&) {
    lastFraction = fraction;
    return ++calls == 5;
  });
  REQUIRE_THROWS_AS(model.fit(cycleData(), progress), Cancelled);
  REQUIRE(calls == 5);
  REQUIRE(lastFraction < 1.0 / 40);
  REQUIRE_FALSE(model.fitted());

  OptionMap o = smallOptions();
  o["epochs"] = "2";
  o["dropout"] = "0.3";
  Caser a(o), b(o);
  a.fit(cycleData());
  b.fit(cycleData());
  REQUIRE(scoresOf(a, {1, 2, 3}) == scoresOf(b, {1, 2, 3}));
}

TEST_CASE("caser is in the registry and passes the model contract", "[models]") {
  auto model = createModel("caser", {{"L", "4"}});
  REQUIRE(model->kind() == "caser");
  REQUIRE(model->options().at("L") == "4");
  localrec::testing::runModelContract("caser", {{"d", "8"}, {"n_h", "4"}, {"n_v", "2"}, {"epochs", "4"}},
                                      {/*findsBestItem=*/false, /*deterministic=*/true, /*prepare=*/{}});
}

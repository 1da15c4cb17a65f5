// text_cnn: a synthetic catalog whose words decide the cluster (cold items must
// follow their words), the vocabulary rules (cap, min_count, unknown bucket,
// padding), empty and very long texts, save/load, determinism, cancel, NaN
// during training.
#include "models/content/text_cnn.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/rng.h"
#include "io/serialize.h"
#include "models/content/tokenize.h"
#include "models/model_io.h"
#include "models/registry.h"
#include "nn/finite.h"
#include "nn/training.h"

using namespace localrec;

namespace {

constexpr Index kWarmPerCluster = 20, kColdPerCluster = 5;
constexpr Index kItems = 4 * kWarmPerCluster / 2 + 2 * kColdPerCluster + 1;  // + one empty cold item
// Items [0, 20) cluster A, [20, 40) cluster B (with interactions); [40, 45)
// cold A, [45, 50) cold B; item 50 cold with an empty text.
constexpr Index kColdA = 40, kColdB = 45, kEmpty = 50;

bool clusterA(Index i) { return i < 20 || (i >= kColdA && i < kColdB); }

// Each text: 3 of its cluster's 6 words, 2 of 4 neutral words, a word of its own.
ItemText syntheticTexts() {
  const std::vector<std::string> a = {"apple", "amber", "anchor", "arrow", "azure", "atlas"};
  const std::vector<std::string> b = {"banana", "bronze", "bridge", "blade", "beryl", "basin"};
  const std::vector<std::string> neutral = {"film", "story", "night", "day"};
  Rng rng(11);
  ItemText text;
  text.texts.resize(static_cast<size_t>(kItems));
  for (Index i = 0; i < kEmpty; ++i) {
    const auto& words = clusterA(i) ? a : b;
    std::string s;
    for (int k = 0; k < 3; ++k) s += words[rng.below(words.size())] + " ";
    for (int k = 0; k < 2; ++k) s += neutral[rng.below(neutral.size())] + " ";
    s += "own" + std::to_string(i);
    text.texts[static_cast<size_t>(i)] = s;
  }
  return text;  // item 50: ""
}

// 80 users, each in one cluster, 8 distinct warm items of that cluster.
InteractionMatrix syntheticTrain() {
  Rng rng(5);
  Interactions rows;
  for (Index u = 0; u < 80; ++u) {
    const Index base = u % 2 == 0 ? 0 : 20;
    std::vector<Index> pool(20);
    for (Index k = 0; k < 20; ++k) pool[static_cast<size_t>(k)] = base + k;
    rng.shuffle(pool.begin(), pool.end());
    for (int k = 0; k < 8; ++k) rows.push(u, pool[static_cast<size_t>(k)], 1, k);
  }
  return InteractionMatrix(rows, 80, kItems);
}

OptionMap smallOptions() {
  return {{"factors", "8"}, {"embedding_dim", "8"}, {"filters", "8"}, {"epochs", "60"}, {"batch_size", "8"},
          {"cf_reg", "10"}, {"learning_rate", "0.01"}, {"dropout", "0"}};
}

std::vector<float> scoresFor(const Recommender& model, std::vector<Index> items) {
  std::vector<float> out(static_cast<size_t>(model.numItems()));
  model.score(History{items, {}, {}}, out);
  return out;
}

}  // namespace

TEST_CASE("text_cnn: cold items follow their words into the history's cluster", "[models]") {
  const InteractionMatrix train = syntheticTrain();
  const ItemText text = syntheticTexts();
  TextCnn model(smallOptions());
  model.fit(TrainSet{train, &text});
  REQUIRE(model.numItems() == kItems);

  for (const bool historyA : {true, false}) {
    INFO("history in cluster " << (historyA ? "A" : "B"));
    const auto s = scoresFor(model, historyA ? std::vector<Index>{1, 4, 9} : std::vector<Index>{21, 24, 29});
    // Every cold item of the history's cluster above every cold item of the other.
    float worstSame = INFINITY, bestOther = -INFINITY;
    for (Index i = kColdA; i < kEmpty; ++i) {
      const bool same = clusterA(i) == historyA;
      if (same) worstSame = std::min(worstSame, s[static_cast<size_t>(i)]);
      else bestOther = std::max(bestOther, s[static_cast<size_t>(i)]);
    }
    REQUIRE(worstSame > bestOther);
  }
  // The empty cold item has the zero vector and scores exactly 0.
  const auto s = scoresFor(model, {1, 4, 9});
  REQUIRE(s[kEmpty] == 0.0f);
  for (size_t d = 0; d < 8; ++d) REQUIRE(model.itemVectors()[static_cast<size_t>(kEmpty) * 8 + d] == 0.0f);
}

TEST_CASE("text_cnn: a cold item's vector is the network's output for its text", "[models]") {
  const InteractionMatrix train = syntheticTrain();
  const ItemText text = syntheticTexts();
  OptionMap options = smallOptions();
  options["epochs"] = "3";
  options["blend_weight"] = "0.25";
  TextCnn model(options);
  model.fit(TrainSet{train, &text});
  const size_t k = 8;
  for (Index i : {kColdA, kColdB + 2}) {
    const auto v = model.embedText(model.wordIds(text.of(i)));
    for (size_t d = 0; d < k; ++d) REQUIRE(model.itemVectors()[static_cast<size_t>(i) * k + d] == Approx(v[d]).margin(1e-6));
  }
  // A warm item: the blend of its iALS factors and its network output.
  const Index warm = 3;
  const auto cnn = model.embedText(model.wordIds(text.of(warm)));
  for (size_t d = 0; d < k; ++d)
    REQUIRE(model.itemVectors()[warm * k + d] ==
            Approx(0.75f * model.cfItemFactors()[warm * k + d] + 0.25f * cnn[d]).margin(1e-5));
}

TEST_CASE("text_cnn: vocabulary cap, min_count, unknown bucket, padding", "[models]") {
  const InteractionMatrix train = syntheticTrain();
  const ItemText text = syntheticTexts();
  OptionMap options = smallOptions();
  options["epochs"] = "1";
  {
    // min_count 2 drops the "ownN" words (one text each).
    TextCnn model(options);
    model.fit(TrainSet{train, &text});
    const auto& vocab = model.vocabulary();
    REQUIRE(vocab.size() == 16);  // 6 + 6 + 4
    REQUIRE(std::is_sorted(vocab.begin(), vocab.end()));
    REQUIRE(model.wordIds("own7 Apple zzz") ==
            std::vector<Index>{TextCnn::kUnknownId, static_cast<Index>(std::find(vocab.begin(), vocab.end(), "apple") - vocab.begin()) + 2,
                               TextCnn::kUnknownId});
    REQUIRE(model.wordIds("") == std::vector<Index>{});
    // Ids outside [0, vocabulary + 2) are refused.
    REQUIRE_THROWS_AS(model.embedText(std::vector<Index>{999}), InvalidArgument);
    // Words outside the vocabulary still give a (non-zero) network output.
    const auto unk = model.embedText(model.wordIds("qqq www"));
    float norm = 0;
    for (float v : unk) norm += v * v;
    REQUIRE(norm > 0.0f);
  }
  {
    // max_vocab 5: the 5 words with the highest item counts (ties by bytes).
    options["max_vocab"] = "5";
    options["min_count"] = "1";
    TextCnn model(options);
    model.fit(TrainSet{train, &text});
    REQUIRE(model.vocabulary().size() == 5);
    // The 4 neutral words are in ~60-80% of the texts: all kept.
    for (const char* w : {"film", "story", "night", "day"})
      REQUIRE(std::find(model.vocabulary().begin(), model.vocabulary().end(), w) != model.vocabulary().end());
  }
}

TEST_CASE("text_cnn: very long texts are truncated to max_tokens", "[models]") {
  const InteractionMatrix train = syntheticTrain();
  ItemText text = syntheticTexts();
  std::string longText;
  for (int k = 0; k < 50000; ++k) longText += (k % 2 ? "apple " : "film ");
  text.texts[kColdA] = longText;
  OptionMap options = smallOptions();
  options["epochs"] = "2";
  options["max_tokens"] = "16";
  TextCnn model(options);
  model.fit(TrainSet{train, &text});
  const auto ids = model.wordIds(longText);
  REQUIRE(ids.size() == 16);
  // The vector of the long text equals that of its first 16 tokens.
  std::string first;
  for (int k = 0; k < 16; ++k) first += (k % 2 ? "apple " : "film ");
  const auto v = model.embedText(model.wordIds(first));
  for (size_t d = 0; d < 8; ++d) REQUIRE(model.itemVectors()[static_cast<size_t>(kColdA) * 8 + d] == Approx(v[d]).margin(1e-6));
  // A text in another script and invalid UTF-8: no crash, finite scores.
  text.texts[kColdA + 1] = "\xE6\x98\xA0\xE7\x94\xBB \xD0\xA4\xD0\xB8\xD0\xBB\xD1\x8C\xD0\xBC \xFF\xFE apple";
  TextCnn again(options);
  again.fit(TrainSet{train, &text});
  for (float s : scoresFor(again, {1, 2})) REQUIRE(std::isfinite(s));
}

TEST_CASE("text_cnn: same seed, same model; save/load round trip", "[models]") {
  const InteractionMatrix train = syntheticTrain();
  const ItemText text = syntheticTexts();
  OptionMap options = smallOptions();
  options["epochs"] = "5";
  options["dropout"] = "0.3";
  auto a = createModel("text_cnn", options);
  auto b = createModel("text_cnn", options);
  a->fit(TrainSet{train, &text});
  b->fit(TrainSet{train, &text});
  const auto& va = static_cast<TextCnn&>(*a).itemVectors();
  const auto& vb = static_cast<TextCnn&>(*b).itemVectors();
  REQUIRE(va.size() == vb.size());
  REQUIRE(std::memcmp(va.data(), vb.data(), va.size() * sizeof(float)) == 0);
  options["seed"] = "43";
  auto c = createModel("text_cnn", options);
  c->fit(TrainSet{train, &text});
  REQUIRE(static_cast<TextCnn&>(*c).itemVectors() != va);

  const std::vector<uint8_t> bytes = saveModel(*a);
  const auto loadedFile = loadModel(bytes);
  const auto& loaded = loadedFile.model;
  REQUIRE(loaded->kind() == "text_cnn");
  const auto& tl = static_cast<const TextCnn&>(*loaded);
  REQUIRE(tl.vocabulary() == static_cast<TextCnn&>(*a).vocabulary());
  REQUIRE(std::memcmp(tl.itemVectors().data(), va.data(), va.size() * sizeof(float)) == 0);
  const auto s1 = scoresFor(*a, {1, 25, 3});
  const auto s2 = scoresFor(*loaded, {1, 25, 3});
  REQUIRE(std::memcmp(s1.data(), s2.data(), s1.size() * sizeof(float)) == 0);
  // The network survives the round trip too.
  const auto ids = tl.wordIds("apple anchor film own3");
  REQUIRE(tl.embedText(ids) == static_cast<TextCnn&>(*a).embedText(ids));
  // explain: contributions sum to the score.
  const auto why = loaded->explain(History{std::vector<Index>{1, 25, 3}, {}, {}}, kColdA, 10);
  float sum = 0;
  for (const auto& c2 : why) sum += c2.weight;
  REQUIRE(sum == Approx(s2[kColdA]).margin(1e-4));
}

TEST_CASE("text_cnn: options and fit errors", "[models]") {
  REQUIRE_THROWS_AS(TextCnn({{"min_width", "4"}, {"max_width", "2"}}), InvalidArgument);
  const InteractionMatrix train = syntheticTrain();
  TextCnn model(smallOptions());
  REQUIRE_THROWS_AS(model.fit(train), InvalidArgument);  // no texts
  REQUIRE_FALSE(model.fitted());
}

TEST_CASE("text_cnn cancels within one mini-batch", "[models]") {
  const InteractionMatrix train = syntheticTrain();
  const ItemText text = syntheticTexts();
  int calls = 0, trainCalls = 0;
  Progress progress([&](double, const std::string& stage) {
    ++calls;
    if (stage == "train") ++trainCalls;
    return trainCalls == 3;
  });
  TextCnn model(smallOptions());
  REQUIRE_THROWS_AS(model.fit(TrainSet{train, &text}, progress), Cancelled);
  REQUIRE(trainCalls == 3);
  REQUIRE_FALSE(model.fitted());
}

TEST_CASE("text_cnn: a NaN during training names the epoch and keeps the last good weights", "[models]") {
  OptionMap o = smallOptions();
  o["epochs"] = "4";
  const InteractionMatrix train = syntheticTrain();
  const ItemText text = syntheticTexts();
  // A NaN in every weight (nn::ScopedBatchHook) in the first epoch: no good weights, the model stays unfitted.
  TextCnn early(o);
  {
    const nn::ScopedBatchHook nan(nn::ScopedBatchHook::nanInEpoch(1));
    REQUIRE_THROWS_WITH(early.fit(TrainSet{train, &text}),
                        Catch::Contains("text_cnn training loss") && Catch::Contains("epoch 1: try a lower learning_rate"));
  }
  REQUIRE_FALSE(early.fitted());
  // In epoch 3: the error names epoch 3, and the model keeps (and scores with) the weights of 2 epochs.
  TextCnn failed(o);
  {
    const nn::ScopedBatchHook nan(nn::ScopedBatchHook::nanInEpoch(3));
    REQUIRE_THROWS_WITH(failed.fit(TrainSet{train, &text}), Catch::Contains("epoch 3: try a lower learning_rate"));
  }
  REQUIRE(failed.fitted());
  o["epochs"] = "2";
  TextCnn reference(o);
  reference.fit(TrainSet{train, &text});
  REQUIRE(failed.itemVectors() == reference.itemVectors());
  for (float v : failed.itemVectors()) REQUIRE(std::isfinite(v));
  REQUIRE(scoresFor(failed, {1, 25, kColdA}) == scoresFor(reference, {1, 25, kColdA}));
}

// TF-IDF content model and its tokenizer: hand-computed weights and cosines on
// a 3-item catalog, the options, Unicode, invalid UTF-8, empty and long texts.
#include "models/content/tfidf.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "core/error.h"
#include "models/content/tokenize.h"
#include "models/model_io.h"
#include "models/registry.h"

using namespace localrec;

namespace {

using Tokens = std::vector<std::string>;

// 2 users, 3 items (every item has an interaction; the texts are what matters).
InteractionMatrix threeItems(Index numItems = 3) {
  Interactions rows;
  for (Index i = 0; i < numItems; ++i) rows.push(i % 2, i, 1, i);
  return InteractionMatrix(rows, 2, numItems);
}

// item 0 "red apple", item 1 "red red car", item 2 "blue car":
// df: apple 1, blue 1, car 2, red 2; N = 3;
// idf(df=1) = ln(4/2) + 1 = 1.6931472, idf(df=2) = ln(4/3) + 1 = 1.2876821.
ItemText threeTexts() { return ItemText{{"Red apple.", "red RED car", "blue, car"}}; }

// Hand-computed (see the derivation above each number).
// x0: apple 1.6931472 / 2.1271750 = 0.7959605, red 1.2876821 / 2.1271750 = 0.6053485
constexpr double kX0Apple = 0.7959605415681652, kX0Red = 0.6053485081062916;
// x1: red (1 + ln 2) * 1.2876821 = 2.1802274, car 1.2876821; norm 2.5320987
constexpr double kX1Car = 0.5085423203783268, kX1Red = 0.8610369959439765;

std::vector<float> scoresFor(const Recommender& model, std::vector<Index> items, std::vector<float> values = {}) {
  std::vector<float> out(static_cast<size_t>(model.numItems()));
  model.score(History{items, values, {}}, out);
  return out;
}

TfIdf fitted(const OptionMap& options, const ItemText& text = threeTexts(), Index numItems = 3) {
  TfIdf model(options);
  const InteractionMatrix train = threeItems(numItems);
  model.fit(TrainSet{train, &text});
  return model;
}

}  // namespace

TEST_CASE("tokenize: ASCII words, case, punctuation, short tokens", "[models]") {
  REQUIRE(tokenize("") == Tokens{});
  REQUIRE(tokenize("  ,;  ") == Tokens{});
  REQUIRE(tokenize("Toy Story (1995)\nAdventure|Animation") ==
          Tokens{"toy", "story", "1995", "adventure", "animation"});
  // Single ASCII characters are dropped; apostrophes and hyphens split.
  REQUIRE(tokenize("a Sci-Fi don't x 7 42") == Tokens{"sci", "fi", "don", "42"});
}

TEST_CASE("tokenize: any script gives tokens; Latin-1, Latin Extended-A, Greek, Cyrillic fold", "[models]") {
  REQUIRE(tokenize("Ёлка ПАЛКА, Straße ÉCOLE ŁÓDŹ ΑΘΗΝΑ Ώρα") ==
          Tokens{"ёлка", "палка", "straße", "école", "łódź", "αθηνα", "ώρα"});
  // CJK: no segmentation, CJK punctuation (U+3001) separates; one CJK character (3 bytes) is a token.
  REQUIRE(tokenize("東京、大阪 京 タワー") == Tokens{"東京", "大阪", "京", "タワー"});
  // Arabic and Hebrew are kept as they are (no case).
  REQUIRE(tokenize("مرحبا שלום") == Tokens{"مرحبا", "שלום"});
  // Dotted capital I (U+0130) is not folded (its lower case is two code points); dotless i stays.
  REQUIRE(tokenize("İstanbul ıi") == Tokens{"İstanbul", "ıi"});
  // A single accented letter is 2 bytes: kept. Guillemets, NBSP and the em dash separate.
  REQUIRE(tokenize("é «film»\xC2\xA0noir\xE2\x80\x94" "2") == Tokens{"é", "film", "noir"});
  // Emoji (4-byte sequences) count as word characters.
  REQUIRE(tokenize("I \xF0\x9F\x8E\xAC movies") == Tokens{"\xF0\x9F\x8E\xAC", "movies"});
}

TEST_CASE("tokenize: invalid UTF-8 is skipped, never a crash", "[models]") {
  REQUIRE(tokenize("ab\xFF" "cd") == Tokens{"ab", "cd"});             // a byte that is never valid
  REQUIRE(tokenize("ab\x80\x80" "cd") == Tokens{"ab", "cd"});         // stray continuation bytes
  REQUIRE(tokenize("ab\xC0\xAF" "cd") == Tokens{"ab", "cd"});         // overlong '/'
  REQUIRE(tokenize("ab\xED\xA0\x80" "cd") == Tokens{"ab", "cd"});     // a surrogate
  REQUIRE(tokenize("ab\xF4\x90\x80\x80" "cd") == Tokens{"ab", "cd"});  // above U+10FFFF
  REQUIRE(tokenize("abc\xC3") == Tokens{"abc"});                       // truncated at the end
  REQUIRE(tokenize("\xE6\x9D") == Tokens{});
  std::string noise;
  for (int b = 0; b < 256; ++b) noise += static_cast<char>(b);
  const auto tokens = tokenize(noise + noise);
  for (const auto& t : tokens) REQUIRE(t.size() >= 2);
}

TEST_CASE("tokenize: long texts and long tokens are capped", "[models]") {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "word ";
  REQUIRE(tokenize(text).size() == kMaxTokens);
  REQUIRE(tokenize(text, 3).size() == 3);
  REQUIRE(tokenize(std::string(300, 'a')) == Tokens{std::string(kMaxTokenBytes, 'a')});
  std::string cjk;
  for (int i = 0; i < 50; ++i) cjk += "東";  // 150 bytes: cut at a code point boundary (99 bytes)
  const auto cut = tokenize(cjk);
  REQUIRE(cut.size() == 1);
  REQUIRE(cut[0].size() == 99);
  REQUIRE(tokenize(cut[0]) == cut);
}

TEST_CASE("tfidf: hand-computed vocabulary, idf and item vectors", "[models]") {
  const TfIdf model = fitted({});
  REQUIRE(model.vocabulary() == Tokens{"apple", "blue", "car", "red"});
  REQUIRE(model.idf()[0] == Approx(1.6931471805599454));
  REQUIRE(model.idf()[2] == Approx(1.2876820724517808));
  REQUIRE(model.idf()[3] == Approx(1.2876820724517808));
  const auto t0 = model.itemTerms(0);
  const auto w0 = model.itemWeights(0);
  REQUIRE(std::vector<Index>(t0.begin(), t0.end()) == std::vector<Index>{0, 3});
  REQUIRE(w0[0] == Approx(kX0Apple).epsilon(1e-6));
  REQUIRE(w0[1] == Approx(kX0Red).epsilon(1e-6));
  const auto w1 = model.itemWeights(1);
  REQUIRE(w1[0] == Approx(kX1Car).epsilon(1e-6));
  REQUIRE(w1[1] == Approx(kX1Red).epsilon(1e-6));
  // item 2 mirrors item 0 (blue/car have the same df as apple/red).
  REQUIRE(model.itemWeights(2)[0] == Approx(kX0Apple).epsilon(1e-6));
  REQUIRE(model.termId("car") == 2);
  REQUIRE(model.termId("truck") == -1);
}

TEST_CASE("tfidf: cosine scores and explanations, hand-computed", "[models]") {
  const TfIdf model = fitted({});
  auto s = scoresFor(model, {0});
  REQUIRE(s[0] == Approx(1.0).epsilon(1e-6));
  REQUIRE(s[1] == Approx(kX0Red * kX1Red).epsilon(1e-6));  // 0.5212275: only "red" is shared
  REQUIRE(s[2] == 0.0f);
  // History {0, 2}: x0 and x2 are orthogonal, |x0 + x2| = sqrt(2).
  s = scoresFor(model, {0, 2});
  const double expected = (kX1Car * kX0Red + kX1Red * kX0Red) / std::sqrt(2.0);  // 0.5862430
  REQUIRE(s[1] == Approx(expected).epsilon(1e-6));
  REQUIRE(s[0] == Approx(1.0 / std::sqrt(2.0)).epsilon(1e-6));
  const auto why = model.explain(History{std::vector<Index>{0, 2}, {}, {}}, 1, 5);
  REQUIRE(why.size() == 2);
  REQUIRE(why[0].feature == "red");
  REQUIRE(why[0].source == -1);
  REQUIRE(why[0].weight == Approx(0.3685634721564776).epsilon(1e-6));
  REQUIRE(why[1].feature == "car");
  REQUIRE(why[1].weight == Approx(0.2176795238997409).epsilon(1e-6));
  REQUIRE(why[0].weight + why[1].weight == Approx(s[1]).epsilon(1e-6));  // contributions sum to the score
  REQUIRE(model.explain(History{std::vector<Index>{0, 2}, {}, {}}, 1, 1).size() == 1);
  // Nothing shared: no reasons. Empty history: all zeros.
  REQUIRE(model.explain(History{std::vector<Index>{0}, {}, {}}, 2, 5).empty());
  for (float v : scoresFor(model, {})) REQUIRE(v == 0.0f);
}

TEST_CASE("tfidf: rating-centered weighting", "[models]") {
  const TfIdf model = fitted({{"weighting", "rating-centered"}});
  // Values 5 and 1: mean 3, coefficients +2 and -2; p = 2 x0 - 2 x2, |p| = 2 sqrt(2).
  auto s = scoresFor(model, {0, 2}, {5.0f, 1.0f});
  REQUIRE(s[0] == Approx(1.0 / std::sqrt(2.0)).epsilon(1e-6));
  REQUIRE(s[2] == Approx(-1.0 / std::sqrt(2.0)).epsilon(1e-6));
  REQUIRE(s[1] == Approx(kX0Red * (kX1Red - kX1Car) / std::sqrt(2.0)).epsilon(1e-5));  // 0.1508839
  // Equal values, or none: the plain sum.
  const auto plain = scoresFor(model, {0, 2});
  REQUIRE(scoresFor(model, {0, 2}, {4.0f, 4.0f}) == plain);
  REQUIRE(scoresFor(fitted({}), {0, 2}, {5.0f, 1.0f}) == plain);  // weighting=none ignores values
}

TEST_CASE("tfidf: raw tf, min_df and max_vocab", "[models]") {
  // Raw tf: item 1 has red 2 x idf, car 1 x idf (equal idf): weights 2/sqrt(5), 1/sqrt(5).
  const TfIdf raw = fitted({{"sublinear_tf", "false"}});
  REQUIRE(raw.itemWeights(1)[0] == Approx(1.0 / std::sqrt(5.0)).epsilon(1e-6));
  REQUIRE(raw.itemWeights(1)[1] == Approx(2.0 / std::sqrt(5.0)).epsilon(1e-6));

  const TfIdf common = fitted({{"min_df", "2"}});
  REQUIRE(common.vocabulary() == Tokens{"car", "red"});
  REQUIRE(common.itemWeights(0).size() == 1);
  REQUIRE(common.itemWeights(0)[0] == Approx(1.0));
  REQUIRE(scoresFor(common, {0})[2] == 0.0f);

  // max_vocab 1: car and red tie on df 2; byte order keeps car.
  const TfIdf one = fitted({{"max_vocab", "1"}});
  REQUIRE(one.vocabulary() == Tokens{"car"});
  REQUIRE(one.itemTerms(0).empty());
  REQUIRE(scoresFor(one, {1})[2] == Approx(1.0));
}

TEST_CASE("tfidf: empty and missing texts score 0; any script works; save and load", "[models]") {
  // Item 1 has an empty text, item 3 none at all (the texts end before it), item 2 is invalid UTF-8 noise.
  const ItemText text{{"Москва река", "", "\xFF\xFE\x80", }};
  const TfIdf model = fitted({}, ItemText{{"Москва река", "", "\xFF\xFE\x80", "МОСКВА город"}}, 4);
  auto s = scoresFor(model, {0});
  REQUIRE(s[1] == 0.0f);
  REQUIRE(s[2] == 0.0f);
  REQUIRE(s[3] > 0.0f);  // "москва" matches across case
  REQUIRE(model.explain(History{std::vector<Index>{0}, {}, {}}, 3, 5)[0].feature == "москва");
  for (float v : scoresFor(model, {1, 2})) REQUIRE(v == 0.0f);  // a profile of texts without terms

  const TfIdf partial = fitted({}, text, 4);
  REQUIRE(partial.itemTerms(3).empty());

  const auto file = saveModel(model);
  const auto loaded = loadModel(file);
  REQUIRE(scoresFor(*loaded.model, {0, 3}) == scoresFor(model, {0, 3}));
  const auto* back = dynamic_cast<const TfIdf*>(loaded.model.get());
  REQUIRE(back != nullptr);
  REQUIRE(back->vocabulary() == model.vocabulary());
}

TEST_CASE("tfidf: fit without texts names what to pass", "[models]") {
  auto model = createModel("tfidf");
  REQUIRE(model->needsItemText());
  REQUIRE(model->scoresColdItems());
  const InteractionMatrix train = threeItems();
  REQUIRE_THROWS_AS(model->fit(train), InvalidArgument);
  REQUIRE_THROWS_WITH(model->fit(train), Catch::Contains("needs item texts") && Catch::Contains("itemText"));
  REQUIRE_FALSE(createModel("popularity")->scoresColdItems());
  REQUIRE_FALSE(createModel("popularity")->needsItemText());
  REQUIRE(createModel("random")->scoresColdItems());
}

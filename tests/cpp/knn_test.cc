// item_knn and user_knn against brute-force dense computations of the same
// formulas on random sparse data.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "data/csr.h"
#include "io/serialize.h"
#include "models/cf/item_knn.h"
#include "models/cf/user_knn.h"
#include "models/model_io.h"

using namespace localrec;

namespace {

// A random sparse matrix with half-star ratings, plus its dense copy (0 = absent).
struct RandomData {
  Index users, items;
  InteractionMatrix train;
  std::vector<std::vector<double>> dense;  // [user][item]
};

RandomData randomData(uint64_t seed, Index users = 40, Index items = 25, double density = 0.18) {
  Rng rng(seed);
  RandomData d{users, items, {}, std::vector<std::vector<double>>(users, std::vector<double>(items, 0.0))};
  Interactions rows;
  for (Index u = 0; u < users; ++u) {
    Timestamp t = 1000;
    for (Index i = 0; i < items; ++i) {
      // Popular low-index items make uneven columns (and so varied similarities).
      if (rng.uniform() < density * (1.0 + 2.0 * (items - i) / items)) {
        const float v = 0.5f * static_cast<float>(1 + rng.below(10));
        rows.push(u, i, v, t++);
        d.dense[u][i] = v;
      }
    }
  }
  d.train = InteractionMatrix(rows, users, items);
  return d;
}

// Brute-force item-item similarity (0 on the diagonal).
std::vector<std::vector<double>> bruteItemSims(const RandomData& d, bool jaccard, bool values, double shrink,
                                               double alpha = 0.5, double userPower = 0, double penalty = 0) {
  std::vector<std::vector<double>> s(d.items, std::vector<double>(d.items, 0.0));
  auto x = [&](Index u, Index i) { return d.dense[u][i] == 0 ? 0.0 : (values && !jaccard ? d.dense[u][i] : 1.0); };
  std::vector<double> w(d.users, 1.0);
  for (Index u = 0; u < d.users; ++u) {
    double count = 0;
    for (Index i = 0; i < d.items; ++i) count += d.dense[u][i] != 0;
    if (count > 0) w[u] = std::pow(count, -userPower);
  }
  std::vector<double> sq(d.items, 0.0);  // weighted squared norm (binary: weighted count)
  for (Index i = 0; i < d.items; ++i)
    for (Index u = 0; u < d.users; ++u) sq[i] += w[u] * x(u, i) * x(u, i);
  for (Index i = 0; i < d.items; ++i)
    for (Index j = 0; j < d.items; ++j) {
      if (i == j) continue;
      double dot = 0;
      for (Index u = 0; u < d.users; ++u) dot += w[u] * x(u, i) * x(u, j);
      const double denom = jaccard ? sq[i] + sq[j] - dot + shrink
                                   : std::pow(sq[i], alpha) * std::pow(sq[j], 1 - alpha) + shrink;
      s[i][j] = denom > 0 ? dot / denom : 0.0;
      // The RP3beta-style discount of popular candidates j.
      double users = 0;
      for (Index u = 0; u < d.users; ++u) users += d.dense[u][j] != 0;
      if (users > 0) s[i][j] *= std::pow(users, -penalty);
    }
  return s;
}

// The brute-force neighbour set of item i: the n largest positive sims, ties by lower index.
std::vector<Index> bruteTopN(const std::vector<double>& sims, Index self, int n) {
  std::vector<Index> idx;
  for (Index j = 0; j < static_cast<Index>(sims.size()); ++j)
    if (j != self && sims[j] > 0) idx.push_back(j);
  std::sort(idx.begin(), idx.end(), [&](Index a, Index b) { return sims[a] > sims[b] || (sims[a] == sims[b] && a < b); });
  if (idx.size() > static_cast<size_t>(n)) idx.resize(static_cast<size_t>(n));
  std::sort(idx.begin(), idx.end());
  return idx;
}

// The stored similarities of item `self`'s kept neighbours: the top n of `sims`,
// each raised to `exponent`, then divided by their sum when `normalize`.
std::vector<std::pair<Index, double>> bruteKept(const std::vector<double>& sims, Index self, int n, double exponent,
                                                bool normalize) {
  std::vector<std::pair<Index, double>> kept;
  double total = 0;
  for (Index j : bruteTopN(sims, self, n)) {
    kept.emplace_back(j, std::pow(sims[j], exponent));
    total += kept.back().second;
  }
  if (normalize)
    for (auto& k : kept) k.second /= total;
  return kept;
}

std::vector<float> scoresOf(const Recommender& m, const History& h) {
  std::vector<float> out(static_cast<size_t>(m.numItems()));
  m.score(h, out);
  return out;
}

OwnedHistory historyOf(std::vector<Index> items, std::vector<float> values = {}) {
  OwnedHistory h;
  h.items = std::move(items);
  h.values = std::move(values);
  return h;
}

}  // namespace

TEST_CASE("item_knn similarities equal a brute-force dense computation", "[models]") {
  for (uint64_t seed : {1u, 2u, 3u, 4u}) {
    const RandomData d = randomData(seed);
    for (const char* measure : {"cosine", "jaccard"})
      for (const char* values : {"false", "true"})
        for (const char* shrink : {"0", "3.5"})
          for (const auto& [alpha, power] : std::vector<std::pair<const char*, const char*>>{
                   {"0.5", "0"}, {"0.2", "0"}, {"0.9", "0.7"}, {"0.5", "1"}}) {
          INFO("seed " << seed << " " << measure << " use_values=" << values << " shrink=" << shrink
                       << " alpha=" << alpha << " user_power=" << power);
          ItemKnn model(OptionMap{{"similarity", measure}, {"use_values", values}, {"shrink", shrink},
                                  {"alpha", alpha}, {"user_power", power}, {"neighbors", "1000"},
                                  {"popularity_weight", "0"}, {"popularity_penalty", "0"},
                                  {"sim_exponent", "1"}, {"normalize", "false"}});
          model.fit(d.train);
          const auto brute = bruteItemSims(d, std::string(measure) == "jaccard", std::string(values) == "true",
                                           std::stod(shrink), std::stod(alpha), std::stod(power));
          for (Index i = 0; i < d.items; ++i) {
            REQUIRE(model.neighborItems(i).size() == bruteTopN(brute[i], i, 1000).size());
            for (Index j = 0; j < d.items; ++j) {
              INFO("pair " << i << ", " << j);
              REQUIRE(model.similarity(i, j) == Approx(std::max(0.0, brute[i][j])).margin(1e-6));
            }
          }
        }
  }
}

TEST_CASE("item_knn keeps exactly the N most similar items per item", "[models]") {
  for (uint64_t seed : {5u, 6u, 7u}) {
    const RandomData d = randomData(seed);
    for (const char* measure : {"cosine", "jaccard"})
      for (int n : {1, 3, 7}) {
        INFO("seed " << seed << " " << measure << " neighbors=" << n);
        ItemKnn model(OptionMap{{"similarity", measure}, {"neighbors", std::to_string(n)}, {"shrink", "2"},
                                {"alpha", "0.5"}, {"user_power", "0"}, {"popularity_penalty", "0"},
                                {"sim_exponent", "1"}, {"normalize", "false"}});
        model.fit(d.train);
        const auto brute = bruteItemSims(d, std::string(measure) == "jaccard", false, 2.0);
        for (Index i = 0; i < d.items; ++i) {
          INFO("item " << i);
          const auto kept = model.neighborItems(i);
          // Binary data has many exact ties: the set must follow (sim desc, index asc).
          REQUIRE(std::vector<Index>(kept.begin(), kept.end()) == bruteTopN(brute[i], i, n));
          const auto sims = model.neighborSimilarities(i);
          for (size_t k = 0; k < kept.size(); ++k)
            REQUIRE(sims[k] == Approx(brute[i][kept[k]]).margin(1e-7));
        }
      }
  }
}

TEST_CASE("item_knn scores and explanations equal brute force over the kept neighbours", "[models]") {
  const RandomData d = randomData(11);
  for (const char* values : {"false", "true"})
    for (int n : {4, 1000}) {
      INFO("use_values=" << values << " neighbors=" << n);
      const bool useValues = std::string(values) == "true";
      ItemKnn model(OptionMap{{"neighbors", std::to_string(n)}, {"shrink", "1"}, {"use_values", values},
                              {"popularity_weight", "0"}, {"alpha", "0.5"}, {"user_power", "0"},
                              {"popularity_penalty", "0"}, {"sim_exponent", "1"}, {"normalize", "false"}});
      model.fit(d.train);
      const auto brute = bruteItemSims(d, false, useValues, 1.0);
      // Item 3 appears twice: only its last occurrence (position 4, value 1) counts.
      const OwnedHistory h = historyOf({3, 0, 7, 12, 3}, {5, 2, 4, 3.5f, 1});
      std::vector<double> expect(d.items, 0.0);
      const std::vector<std::pair<Index, double>> distinctItems = {{0, 2}, {7, 4}, {12, 3.5}, {3, 1}};
      for (const auto& [item, value] : distinctItems) {
        const auto kept = bruteTopN(brute[item], item, n);
        for (Index j : kept) expect[j] += (useValues ? value : 1.0) * static_cast<float>(brute[item][j]);
      }
      const auto scores = scoresOf(model, h.view());
      for (Index j = 0; j < d.items; ++j) REQUIRE(scores[j] == Approx(expect[j]).margin(1e-5));

      // Explain: positions by w * sim(h, item), strongest first, duplicates at the last position.
      for (Index target : {Index{1}, Index{5}, Index{20}}) {
        std::vector<Contribution> want;
        const std::vector<std::pair<Index, Index>> positions = {{1, 0}, {2, 7}, {3, 12}, {4, 3}};
        for (const auto& [pos, item] : positions) {
          const float w = (useValues ? h.values[pos] : 1.0f) * model.similarity(item, target);
          if (w > 0) want.push_back({pos, w});
        }
        std::sort(want.begin(), want.end(), [](auto& a, auto& b) { return a.weight > b.weight; });
        const auto got = model.explain(h.view(), target, 10);
        REQUIRE(got.size() == want.size());
        for (size_t k = 0; k < got.size(); ++k) {
          REQUIRE(got[k].source == want[k].source);
          REQUIRE(got[k].weight == Approx(want[k].weight));
        }
        REQUIRE(model.explain(h.view(), target, 1).size() == std::min<size_t>(1, want.size()));
      }
    }
}

TEST_CASE("item_knn popularity penalty, similarity exponent and row normalisation equal brute force",
          "[models]") {
  for (uint64_t seed : {8u, 9u}) {
    const RandomData d = randomData(seed);
    for (const char* penalty : {"0", "0.7"})
      for (const char* exponent : {"1", "2.5", "0.5"})
        for (const char* normalize : {"false", "true"})
          for (int n : {3, 1000}) {
            INFO("seed " << seed << " popularity_penalty=" << penalty << " sim_exponent=" << exponent
                         << " normalize=" << normalize << " neighbors=" << n);
            ItemKnn model(OptionMap{{"neighbors", std::to_string(n)}, {"shrink", "1.5"}, {"alpha", "0.6"},
                                    {"user_power", "0.5"}, {"popularity_penalty", penalty},
                                    {"sim_exponent", exponent}, {"normalize", normalize},
                                    {"popularity_weight", "0.01"}});
            model.fit(d.train);
            const auto brute = bruteItemSims(d, false, false, 1.5, 0.6, 0.5, std::stod(penalty));
            std::vector<double> expect(d.items, 0.0);
            const OwnedHistory h = historyOf({2, 9, 15, 21});
            for (Index i = 0; i < d.items; ++i) {
              INFO("item " << i);
              // The penalty changes which neighbours are kept; the exponent and
              // the normalisation change only their weights.
              const auto want = bruteKept(brute[i], i, n, std::stod(exponent), std::string(normalize) == "true");
              const auto kept = model.neighborItems(i);
              const auto sims = model.neighborSimilarities(i);
              REQUIRE(kept.size() == want.size());
              double total = 0;
              for (size_t k = 0; k < kept.size(); ++k) {
                REQUIRE(kept[k] == want[k].first);
                REQUIRE(sims[k] == Approx(want[k].second).epsilon(1e-5));
                total += sims[k];
              }
              if (std::string(normalize) == "true" && !kept.empty()) REQUIRE(total == Approx(1.0));
              if (std::find(h.items.begin(), h.items.end(), i) != h.items.end())
                for (const auto& [j, w] : want) expect[j] += w;
            }
            // Scores: the kept weights of the history items plus the prior;
            // explain's credits add up to the score minus the prior.
            const auto scores = scoresOf(model, h.view());
            const auto prior = scoresOf(model, {});
            for (Index j = 0; j < d.items; ++j) {
              REQUIRE(scores[j] == Approx(expect[j] + prior[j]).margin(1e-5));
              double credited = 0;
              for (const auto& c : model.explain(h.view(), j, 100))
                if (c.source >= 0) credited += c.weight;
              REQUIRE(credited == Approx(expect[j]).margin(1e-5));
            }
          }
  }
}

TEST_CASE("item_knn: empty history, popularity prior, duplicates and non-finite values", "[models]") {
  const RandomData d = randomData(21);
  std::vector<double> counts(d.items, 0.0);
  for (Index i = 0; i < d.items; ++i)
    for (Index u = 0; u < d.users; ++u) counts[i] += d.dense[u][i] != 0;
  const double most = *std::max_element(counts.begin(), counts.end());

  ItemKnn off(OptionMap{{"popularity_weight", "0"}});
  off.fit(d.train);
  for (float s : scoresOf(off, {})) REQUIRE(s == 0.0f);
  REQUIRE(off.explain({}, 3, 5).empty());

  ItemKnn prior(OptionMap{{"popularity_weight", "0.5"}});
  prior.fit(d.train);
  const auto s = scoresOf(prior, {});
  for (Index i = 0; i < d.items; ++i) REQUIRE(s[i] == Approx(0.5 * counts[i] / most));
  const auto why = prior.explain({}, 3, 5);
  REQUIRE(why.size() == 1);
  REQUIRE(why[0].source == -1);
  REQUIRE(why[0].weight == Approx(0.5 * counts[3] / most));

  // A repeated (user, item) counts once, with its latest value.
  Interactions dup, clean;
  dup.push(0, 0, 5, 1);
  dup.push(0, 1, 2, 2);
  dup.push(0, 0, 1, 3);
  dup.push(1, 0, 4, 1);
  dup.push(1, 1, 3, 2);
  clean.push(0, 1, 2, 2);
  clean.push(0, 0, 1, 3);
  clean.push(1, 0, 4, 1);
  clean.push(1, 1, 3, 2);
  const OptionMap plainCosine = {{"use_values", "true"}, {"shrink", "10"},          {"alpha", "0.5"},
                                 {"user_power", "0"},    {"popularity_penalty", "0"}, {"sim_exponent", "1"},
                                 {"normalize", "false"}};
  ItemKnn a(plainCosine), b(plainCosine);
  a.fit(InteractionMatrix(dup, 2, 2));
  b.fit(InteractionMatrix(clean, 2, 2));
  REQUIRE(a.similarity(0, 1) == b.similarity(0, 1));
  REQUIRE(a.similarity(0, 1) == Approx((1 * 2 + 4 * 3) / (std::sqrt(17.0) * std::sqrt(13.0) + 10)));

  Interactions bad = clean;
  bad.values[2] = std::numeric_limits<float>::quiet_NaN();
  ItemKnn c;
  REQUIRE_THROWS_AS(c.fit(InteractionMatrix(bad, 2, 2)), InvalidArgument);
  REQUIRE_THROWS_WITH(c.fit(InteractionMatrix(bad, 2, 2)), Catch::Contains("not finite"));
  REQUIRE_FALSE(c.fitted());
  const OwnedHistory nan = historyOf({0, 1}, {1.0f, std::numeric_limits<float>::infinity()});
  std::vector<float> out(2);
  REQUIRE_THROWS_AS(b.score(nan.view(), out), InvalidArgument);
  REQUIRE_THROWS_AS(b.explain(nan.view(), 0), InvalidArgument);
}

TEST_CASE("item_knn and user_knn reject bad options naming them", "[models]") {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"neighbors", "0"}, {"neighbors", "-3"}, {"shrink", "-1"}, {"use_values", "maybe"},
      {"popularity_weight", "-0.1"}};
  for (const auto& [key, value] : bad) {
    INFO(key << "=" << value);
    REQUIRE_THROWS_AS(ItemKnn(OptionMap{{key, value}}), InvalidArgument);
    REQUIRE_THROWS_WITH(ItemKnn(OptionMap{{key, value}}), Catch::Contains(key));
    REQUIRE_THROWS_AS(UserKnn(OptionMap{{key, value}}), InvalidArgument);
    REQUIRE_THROWS_WITH(UserKnn(OptionMap{{key, value}}), Catch::Contains(key));
  }
  // Options of one model only, with the valid range in the message.
  const std::vector<std::tuple<std::string, std::string, std::string>> itemOnly = {
      {"popularity_penalty", "-0.1", "[0, 2]"}, {"popularity_penalty", "2.5", "[0, 2]"},
      {"sim_exponent", "0", "[0.1, 10]"},       {"sim_exponent", "11", "[0.1, 10]"},
      {"normalize", "yes please", "true|false"}};
  for (const auto& [key, value, range] : itemOnly) {
    INFO(key << "=" << value);
    REQUIRE_THROWS_AS(ItemKnn(OptionMap{{key, value}}), InvalidArgument);
    REQUIRE_THROWS_WITH(ItemKnn(OptionMap{{key, value}}), Catch::Contains(key) && Catch::Contains(range));
  }
  for (const char* value : {"-0.1", "2.5", "nan"}) {
    INFO("user_knn popularity_penalty=" << value);
    REQUIRE_THROWS_WITH(UserKnn(OptionMap{{"popularity_penalty", value}}),
                        Catch::Contains("popularity_penalty") && Catch::Contains("[0, 2]"));
  }
  REQUIRE_THROWS_WITH(ItemKnn(OptionMap{{"similarity", "pearson"}}), Catch::Contains("cosine|jaccard"));
  REQUIRE_THROWS_WITH(UserKnn(OptionMap{{"similarity", "jaccard"}}), Catch::Contains("cosine|pearson"));
  REQUIRE_THROWS_WITH(ItemKnn(OptionMap{{"neighbours", "5"}}), Catch::Contains("neighbours"));
}

namespace {

// Brute-force user-kNN pieces for one history.
struct BruteUser {
  std::vector<double> sims;
  std::vector<Index> neighbors;
  std::vector<double> scores;
};

BruteUser bruteUser(const RandomData& d, const OwnedHistory& h, bool pearson, bool values, double shrink, int k,
                    double exponent = 1, double penalty = 0) {
  // User vectors.
  std::vector<std::vector<double>> x(d.users, std::vector<double>(d.items, 0.0));
  for (Index u = 0; u < d.users; ++u) {
    double sum = 0, n = 0;
    for (Index i = 0; i < d.items; ++i)
      if (d.dense[u][i] != 0) sum += d.dense[u][i], ++n;
    const double mean = n > 0 ? sum / n : 0;
    for (Index i = 0; i < d.items; ++i)
      if (d.dense[u][i] != 0) x[u][i] = pearson ? d.dense[u][i] - mean : (values ? d.dense[u][i] : 1.0);
  }
  // History vector (items distinct here).
  std::vector<double> q(d.items, 0.0);
  double mean = 0;
  for (float v : h.values) mean += v;
  mean /= static_cast<double>(h.items.size());
  for (size_t p = 0; p < h.items.size(); ++p)
    q[h.items[p]] = pearson ? h.values[p] - mean : (values ? h.values[p] : 1.0);
  double qn = 0;
  for (double v : q) qn += v * v;
  qn = std::sqrt(qn);
  BruteUser out;
  for (Index u = 0; u < d.users; ++u) {
    double dot = 0, un = 0;
    for (Index i = 0; i < d.items; ++i) dot += q[i] * x[u][i], un += x[u][i] * x[u][i];
    const double denom = qn * std::sqrt(un) + shrink;
    out.sims.push_back(denom > 0 ? dot / denom : 0.0);
  }
  for (Index u = 0; u < d.users; ++u)
    if (out.sims[u] > 0) out.neighbors.push_back(u);
  std::sort(out.neighbors.begin(), out.neighbors.end(), [&](Index a, Index b) {
    return out.sims[a] > out.sims[b] || (out.sims[a] == out.sims[b] && a < b);
  });
  if (out.neighbors.size() > static_cast<size_t>(k)) out.neighbors.resize(static_cast<size_t>(k));
  out.scores.assign(d.items, 0.0);
  for (Index v : out.neighbors)
    for (Index i = 0; i < d.items; ++i) out.scores[i] += std::pow(out.sims[v], exponent) * x[v][i];
  // Votes for item i are divided by (users of i)^penalty.
  for (Index i = 0; i < d.items; ++i) {
    double users = 0;
    for (Index u = 0; u < d.users; ++u) users += d.dense[u][i] != 0;
    if (users > 0) out.scores[i] *= std::pow(users, -penalty);
  }
  return out;
}

}  // namespace

TEST_CASE("user_knn similarities, neighbours and scores equal brute force", "[models]") {
  for (uint64_t seed : {31u, 32u, 33u}) {
    const RandomData d = randomData(seed);
    const std::vector<OwnedHistory> histories = {historyOf({0, 2, 5, 9}, {4, 3.5f, 1, 5}),
                                                 historyOf({1, 17, 22}, {2, 2.5f, 4.5f}),
                                                 historyOf({4}, {3})};
    for (const char* measure : {"cosine", "pearson"})
      for (const char* values : {"false", "true"})
        for (const char* shrink : {"0", "2.5"})
          for (int k : {3, 1000}) {
            const bool pearson = std::string(measure) == "pearson";
            const double exponent = k == 3 ? 2.5 : 1.0;
            // The popularity penalty varies with the shrink to cover both values in every setting.
            const double penalty = std::string(shrink) == "0" ? 0.0 : 0.6;
            UserKnn model(OptionMap{{"similarity", measure}, {"use_values", values}, {"shrink", shrink},
                                    {"neighbors", std::to_string(k)}, {"popularity_weight", "0"},
                                    {"exponent", k == 3 ? "2.5" : "1"},
                                    {"popularity_penalty", std::to_string(penalty)}});
            model.fit(d.train);
            REQUIRE(model.numUsers() == d.users);
            for (size_t hi = 0; hi < histories.size(); ++hi) {
              INFO("seed " << seed << " " << measure << " use_values=" << values << " shrink=" << shrink
                           << " k=" << k << " history " << hi);
              const auto& h = histories[hi];
              const auto want = bruteUser(d, h, pearson, std::string(values) == "true", std::stod(shrink), k,
                                          exponent, penalty);
              const auto sims = model.similarities(h.view());
              for (Index u = 0; u < d.users; ++u) REQUIRE(sims[u] == Approx(want.sims[u]).margin(1e-12));
              REQUIRE(model.neighbors(h.view()) == want.neighbors);
              const auto scores = scoresOf(model, h.view());
              for (Index i = 0; i < d.items; ++i) REQUIRE(scores[i] == Approx(want.scores[i]).margin(1e-5));
              // Explain splits the score exactly over the history positions.
              for (Index target : {Index{3}, Index{6}, Index{11}}) {
                const auto why = model.explain(h.view(), target, 100);
                double sum = 0;
                for (const auto& c : why) {
                  REQUIRE(c.source >= 0);
                  REQUIRE(c.weight > 0);
                  sum += c.weight;
                }
                for (size_t k2 = 1; k2 < why.size(); ++k2) REQUIRE(why[k2 - 1].weight >= why[k2].weight);
                if (!pearson) REQUIRE(sum == Approx(want.scores[target]).margin(1e-5));  // all credits >= 0
              }
            }
          }
  }
}

TEST_CASE("user_knn explain credits the shared history items of the voting neighbours", "[models]") {
  // Users: 0 = {0, 1, 2}, 1 = {0, 3}, 2 = {4}. History {0, 1} (binary cosine, no shrink):
  // sim(h, 0) = 2 / (sqrt2 sqrt3), sim(h, 1) = 1 / (sqrt2 sqrt2), sim(h, 2) = 0.
  Interactions rows;
  for (auto [u, i] : std::vector<std::pair<Index, Index>>{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 3}, {2, 4}})
    rows.push(u, i, 1, 0);
  const InteractionMatrix train(rows, 3, 5);
  UserKnn model(OptionMap{{"shrink", "0"},
                          {"popularity_weight", "0"},
                          {"exponent", "1"},
                          {"use_values", "false"},
                          {"popularity_penalty", "0"}});
  model.fit(train);
  const OwnedHistory h = historyOf({0, 1});
  REQUIRE(model.neighbors(h.view()) == std::vector<Index>{0, 1});
  const auto scores = scoresOf(model, h.view());
  const double s0 = 2 / (std::sqrt(2.0) * std::sqrt(3.0)), s1 = 0.5;
  REQUIRE(scores[2] == Approx(s0));
  REQUIRE(scores[3] == Approx(s1));
  REQUIRE(scores[4] == 0.0f);
  // Item 2 is voted by user 0, who shares both history items equally.
  auto why = model.explain(h.view(), 2, 5);
  REQUIRE(why.size() == 2);
  REQUIRE(why[0].source == 0);
  REQUIRE(why[0].weight == Approx(s0 / 2));
  REQUIRE(why[1].source == 1);
  REQUIRE(why[1].weight == Approx(s0 / 2));
  // Item 3 is voted by user 1 through history item 0 only.
  why = model.explain(h.view(), 3, 5);
  REQUIRE(why.size() == 1);
  REQUIRE(why[0].source == 0);
  REQUIRE(why[0].weight == Approx(s1));
  // No neighbour has item 4: no reason (the prior is off).
  REQUIRE(model.explain(h.view(), 4, 5).empty());
  // A training user's own history finds that user first.
  const History own = train.history(0);
  REQUIRE(model.neighbors(own).front() == 0);
  REQUIRE(model.similarities(own)[0] == Approx(1.0));
}

TEST_CASE("user_knn: empty history, pearson without values, non-finite values", "[models]") {
  const RandomData d = randomData(41);
  UserKnn off(OptionMap{{"popularity_weight", "0"}});
  off.fit(d.train);
  for (float s : scoresOf(off, {})) REQUIRE(s == 0.0f);
  REQUIRE(off.neighbors({}).empty());
  REQUIRE(off.explain({}, 0, 5).empty());

  UserKnn pearson(OptionMap{{"similarity", "pearson"}, {"popularity_weight", "2"}});
  pearson.fit(d.train);
  std::vector<double> counts(d.items, 0.0);
  for (Index i = 0; i < d.items; ++i)
    for (Index u = 0; u < d.users; ++u) counts[i] += d.dense[u][i] != 0;
  const double most = *std::max_element(counts.begin(), counts.end());
  // Without values every entry centres to zero: no neighbours, popularity only.
  const OwnedHistory plain = historyOf({0, 1, 2});
  REQUIRE(pearson.neighbors(plain.view()).empty());
  const auto s = scoresOf(pearson, plain.view());
  for (Index i = 0; i < d.items; ++i) REQUIRE(s[i] == Approx(2 * counts[i] / most));
  const auto why = pearson.explain(plain.view(), 4, 3);
  REQUIRE(why.size() == 1);
  REQUIRE(why[0].source == -1);

  const OwnedHistory nan = historyOf({0, 1}, {1.0f, std::numeric_limits<float>::quiet_NaN()});
  std::vector<float> out(d.items);
  REQUIRE_THROWS_AS(pearson.score(nan.view(), out), InvalidArgument);
  REQUIRE_THROWS_AS(pearson.explain(nan.view(), 0), InvalidArgument);
  Interactions bad;
  bad.push(0, 0, std::numeric_limits<float>::infinity(), 0);
  UserKnn c;
  REQUIRE_THROWS_WITH(c.fit(InteractionMatrix(bad, 1, 1)), Catch::Contains("not finite"));
  REQUIRE_THROWS_AS(UserKnn().similarities({}), StateError);
}

TEST_CASE("item_knn and user_knn save and load round-trip exactly", "[models]") {
  const RandomData d = randomData(51);
  const OwnedHistory h = historyOf({0, 3, 8, 14}, {4, 1.5f, 3, 5});
  const std::vector<OptionMap> itemSettings = {
      {},
      {{"similarity", "jaccard"}, {"neighbors", "3"}},
      {{"use_values", "true"}, {"shrink", "0"}},
      {{"popularity_penalty", "1.2"}, {"sim_exponent", "3"}, {"normalize", "false"}}};
  for (const auto& options : itemSettings) {
    ItemKnn model(options);
    model.fit(d.train);
    Writer w;
    model.save(w);
    ItemKnn copy(options);
    Reader r(w.bytes());
    copy.load(r);
    r.expectEnd("item_knn parameters");
    REQUIRE(copy.numItems() == d.items);
    REQUIRE(scoresOf(copy, h.view()) == scoresOf(model, h.view()));
    for (Index i = 0; i < d.items; ++i) {
      const auto a = model.neighborItems(i), b = copy.neighborItems(i);
      REQUIRE(std::vector<Index>(a.begin(), a.end()) == std::vector<Index>(b.begin(), b.end()));
    }
    const auto file = saveModel(model);
    REQUIRE(saveModel(*loadModel(file).model) == file);
  }
  const std::vector<OptionMap> userSettings = {
      {}, {{"similarity", "pearson"}, {"neighbors", "4"}}, {{"use_values", "true"}, {"popularity_penalty", "0.8"}}};
  for (const auto& options : userSettings) {
    UserKnn model(options);
    model.fit(d.train);
    Writer w;
    model.save(w);
    UserKnn copy(options);
    Reader r(w.bytes());
    copy.load(r);
    r.expectEnd("user_knn parameters");
    REQUIRE(copy.numItems() == d.items);
    REQUIRE(copy.numUsers() == d.users);
    REQUIRE(scoresOf(copy, h.view()) == scoresOf(model, h.view()));
    REQUIRE(copy.similarities(h.view()) == model.similarities(h.view()));
    const auto file = saveModel(model);
    REQUIRE(saveModel(*loadModel(file).model) == file);
  }
  // Binary user_knn stores no values: 4 bytes per stored entry plus the offsets.
  UserKnn binary(OptionMap{{"use_values", "false"}});
  binary.fit(d.train);
  Writer w;
  binary.save(w);
  REQUIRE(w.size() == 4 + 4 + (8 + 4 * (d.users + 1)) + (8 + 4 * d.train.nnz()) + 8);
}

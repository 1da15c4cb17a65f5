// The shared model contract: every registered recommender must pass these
// checks; model_contract_test.cc runs them for every entry of modelRegistry().
// A model family that needs other inputs or cannot meet a check says so through
// ContractExpectations, in the table in model_contract_test.cc, with a reason.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/options.h"
#include "core/progress.h"
#include "core/recommender.h"
#include "core/rng.h"
#include "data/csr.h"
#include "io/model_file.h"
#include "io/serialize.h"
#include "models/model_io.h"
#include "models/registry.h"

namespace localrec::testing {

struct ContractExpectations {
  // The planted best item (item 0, the most popular overall and co-occurring
  // with everything) must rank first among the unseen items of each probe.
  bool findsBestItem = true;
  // Two fits from the same options and data give bit-identical scores.
  bool deterministic = true;
  // Called on every freshly created model before fit (for models that need
  // extra inputs, e.g. item texts).
  std::function<void(Recommender&)> prepare;
};

// Catalog of the synthetic data: 30 items with interactions, then 2 cold ones.
constexpr Index kContractItems = 32;
constexpr Index kContractUsers = 200;

// Two clusters of 100 users: cluster A likes items 1..14, cluster B 15..29.
// Item 0 is liked by about 85% of all users, always with value 5 (cluster items
// get 1..4), so it is the best unseen item for popularity, neighbourhood, MF
// and sequence models alike. Items 30 and 31 are in the catalog but cold.
// Each user's items are shuffled and get increasing timestamps a minute apart.
inline InteractionMatrix contractTrainingData(uint64_t seed = 7) {
  Rng rng(seed);
  Interactions rows;
  for (Index u = 0; u < kContractUsers; ++u) {
    const bool clusterA = u < kContractUsers / 2;
    std::vector<std::pair<Index, float>> liked;
    if (rng.uniform() < 0.85) liked.push_back({0, 5.0f});
    for (Index i = 1; i < 30; ++i) {
      const bool own = clusterA == (i < 15);
      if (rng.uniform() < (own ? 0.35 : 0.03)) liked.push_back({i, static_cast<float>(1 + rng.below(4))});
    }
    while (liked.size() < 3) {  // every user has a few events (sequence models need pairs)
      const Index i =
          clusterA ? 1 + static_cast<Index>(rng.below(14)) : 15 + static_cast<Index>(rng.below(15));
      if (std::none_of(liked.begin(), liked.end(), [&](const auto& p) { return p.first == i; }))
        liked.push_back({i, static_cast<float>(1 + rng.below(4))});
    }
    rng.shuffle(liked.begin(), liked.end());
    for (size_t k = 0; k < liked.size(); ++k)
      rows.push(u, liked[k].first, liked[k].second,
                1'600'000'000 + Timestamp{u} * 86'400 + Timestamp(k) * 60);
  }
  return InteractionMatrix(rows, kContractUsers, kContractItems);
}

// Item texts for the synthetic catalog (content models need them; the others
// get them too and must ignore them). Item 0 names both clusters' words, so a
// text model also finds it best; items 1..14 share "alpha", 15..29 "beta", each
// with a word of its own; item 30 (cold) has both cluster words, item 31 (cold)
// has no text at all.
inline ItemText contractItemText() {
  ItemText text;
  text.texts.resize(kContractItems);
  text.texts[0] = "Alpha, beta!";
  for (Index i = 1; i < 30; ++i)
    text.texts[static_cast<size_t>(i)] = std::string(i < 15 ? "alpha" : "BETA") + " word" + std::to_string(i);
  text.texts[30] = "alpha beta coldword";
  return text;
}

namespace contract_detail {

inline std::unique_ptr<Recommender> make(const std::string& name, const OptionMap& options,
                                         const ContractExpectations& expect) {
  auto model = createModel(name, options);
  if (expect.prepare) expect.prepare(*model);
  return model;
}

inline std::vector<float> scoresOf(const Recommender& model, const History& history) {
  std::vector<float> out(static_cast<size_t>(model.numItems()), std::nanf(""));
  model.score(history, out);
  return out;
}

inline bool bitIdentical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

inline bool sameContributions(const std::vector<Contribution>& a, const std::vector<Contribution>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].source != b[i].source || a[i].feature != b[i].feature ||
        std::memcmp(&a[i].weight, &b[i].weight, sizeof(float)) != 0)
      return false;
  return true;
}

inline OwnedHistory probe(std::vector<Index> items, bool withValues, bool withTimes) {
  OwnedHistory h;
  h.items = std::move(items);
  for (size_t k = 0; k < h.items.size(); ++k) {
    if (withValues) h.values.push_back(static_cast<float>(1 + k % 4));
    if (withTimes) h.times.push_back(1'700'000'000 + Timestamp(k) * 60);
  }
  return h;
}

// Values that the spec must reject: out of range and unparsable.
inline std::vector<std::string> badValues(const OptionSpec& s) {
  auto text = [](double v) {
    std::ostringstream os;
    os.precision(17);
    os << v;
    return os.str();
  };
  if (s.type == "int") return {text(s.min - 1), text(s.max + 1), "abc", "1.5", "", "99999999999999999999"};
  if (s.type == "float")
    return {text(s.min - std::max(1.0, std::fabs(s.min))),
            text(s.max + std::max(1.0, std::fabs(s.max))),
            "abc",
            "nan",
            "inf",
            ""};
  if (s.type == "bool") return {"maybe", "2", ""};
  if (s.type == "choice") return {"no_such_choice", ""};
  return {};
}

// A model's parameters as written into its file, for re-wrapping damaged copies.
inline std::vector<uint8_t> parameterBytes(std::span<const uint8_t> file, ModelFileHeader& header) {
  std::vector<uint8_t> params;
  header = readModelFile(file, [&](const ModelFileHeader&, Reader& in) {
    params.resize(in.remaining());
    in.raw(params.data(), params.size(), "parameters");
  });
  return params;
}

}  // namespace contract_detail

// Runs every check of the contract for the registry model `name` created with
// `options` (small/fast settings). Fails through Catch2 REQUIREs.
inline void runModelContract(const std::string& name, const OptionMap& options,
                             const ContractExpectations& expect = {}) {
  using namespace contract_detail;
  INFO("model " << name);
  const InteractionMatrix train = contractTrainingData();
  const ItemText itemText = contractItemText();
  const TrainSet trainSet{train, &itemText};
  const ModelInfo* info = nullptr;
  for (const auto& entry : modelRegistry())
    if (entry.name == name) info = &entry;
  REQUIRE(info != nullptr);

  // Probe histories: cluster A, cluster B, mixed, items only, and training
  // users who lack item 0. None contains item 0.
  std::vector<OwnedHistory> probes = {probe({1, 2, 3}, true, true), probe({15, 20, 25, 29}, true, true),
                                      probe({5, 18}, true, false), probe({7, 9, 11, 13}, false, false),
                                      probe({30}, true, true)};
  for (Index u = 0, found = 0; u < train.numUsers() && found < 2; ++u) {
    const auto items = train.byUser().rowIndices(u);
    if (std::find(items.begin(), items.end(), 0) != items.end()) continue;
    const auto values = train.byUser().rowValues(u);
    const auto times = train.byUser().rowTimes(u);
    probes.push_back(
        {{items.begin(), items.end()}, {values.begin(), values.end()}, {times.begin(), times.end()}});
    ++found;
  }
  const OwnedHistory empty;

  SECTION("options: defaults valid, resolved map complete, bad values named") {
    REQUIRE_NOTHROW(createModel(name, {}));
    auto model = createModel(name, options);
    REQUIRE(model->kind() == name);
    std::set<std::string> specNames;
    for (const auto& s : info->options()) specNames.insert(s.name);
    std::set<std::string> resolvedNames;
    for (const auto& [key, value] : model->options()) resolvedNames.insert(key);
    REQUIRE(resolvedNames == specNames);
    for (const auto& [key, value] : options) REQUIRE(model->options().at(key) == value);

    OptionMap unknown = options;
    unknown["no_such_option_q"] = "1";
    REQUIRE_THROWS_AS(createModel(name, unknown), InvalidArgument);
    REQUIRE_THROWS_WITH(createModel(name, unknown), Catch::Contains("no_such_option_q"));
    for (const auto& spec : info->options()) {
      for (const auto& value : badValues(spec)) {
        INFO("option " << spec.name << " = '" << value << "'");
        OptionMap bad = options;
        bad[spec.name] = value;
        REQUIRE_THROWS_AS(createModel(name, bad), InvalidArgument);
        REQUIRE_THROWS_WITH(createModel(name, bad), Catch::Contains(spec.name));
      }
    }
  }

  SECTION("unfitted: score, explain and save throw StateError; empty data is refused") {
    auto model = make(name, options, expect);
    REQUIRE_FALSE(model->fitted());
    REQUIRE(model->numItems() == 0);
    std::vector<float> out(kContractItems);
    REQUIRE_THROWS_AS(model->score(empty.view(), out), StateError);
    REQUIRE_THROWS_AS(model->score(probes[0].view(), out), StateError);
    REQUIRE_THROWS_AS(model->explain(probes[0].view(), 0), StateError);
    REQUIRE_THROWS_AS(saveModel(*model), StateError);
    REQUIRE_THROWS_AS(model->fit(InteractionMatrix()), InvalidArgument);
    REQUIRE_THROWS_AS(model->fit(InteractionMatrix(Interactions{}, 5, kContractItems)), InvalidArgument);
    REQUIRE_FALSE(model->fitted());
  }

  SECTION("item texts: content models refuse a fit without them, nobody takes more texts than items") {
    auto model = make(name, options, expect);
    if (model->needsItemText()) {
      REQUIRE_THROWS_AS(model->fit(train), InvalidArgument);
      REQUIRE_THROWS_WITH(model->fit(train), Catch::Contains("item texts"));
      REQUIRE_FALSE(model->fitted());
    }
    ItemText tooMany = itemText;
    tooMany.texts.push_back("one more");
    REQUIRE_THROWS_AS(model->fit(TrainSet{train, &tooMany}), InvalidArgument);
    REQUIRE_FALSE(model->fitted());
    // Fewer texts than items: the rest have none (and a content model scores them 0).
    ItemText fewer = itemText;
    fewer.texts.resize(10);
    model->fit(TrainSet{train, &fewer});
    REQUIRE(model->fitted());
    const auto scores = scoresOf(*model, probes[0].view());
    for (float s : scores) REQUIRE(std::isfinite(s));
    if (model->needsItemText()) REQUIRE(model->scoresColdItems());
  }

  SECTION("cancel: a cancelled fit throws Cancelled and leaves the model unfitted") {
    auto model = make(name, options, expect);
    int calls = 0;
    Progress cancelAtOnce([&](double, const std::string&) {
      ++calls;
      return true;
    });
    REQUIRE_THROWS_AS(model->fit(trainSet, cancelAtOnce), Cancelled);
    REQUIRE(calls >= 1);
    REQUIRE_FALSE(model->fitted());
    std::vector<float> out(kContractItems);
    REQUIRE_THROWS_AS(model->score(empty.view(), out), StateError);

    // A cancelled refit must not leave the earlier fit looking current.
    model->fit(trainSet);
    REQUIRE(model->fitted());
    Progress cancelLater([&](double, const std::string&) { return true; });
    REQUIRE_THROWS_AS(model->fit(trainSet, cancelLater), Cancelled);
    REQUIRE_FALSE(model->fitted());
    REQUIRE_THROWS_AS(model->score(empty.view(), out), StateError);
    // And the model can still be fitted afterwards.
    model->fit(trainSet);
    REQUIRE(model->fitted());
    REQUIRE(model->numItems() == kContractItems);
  }

  SECTION("fit and score: progress, shapes, finite scores, the planted best item, argument checks") {
    auto model = make(name, options, expect);
    std::vector<double> fractions;
    Progress progress([&](double f, const std::string&) {
      fractions.push_back(f);
      return false;
    });
    model->fit(trainSet, progress);
    REQUIRE(model->fitted());
    REQUIRE(model->numItems() == kContractItems);
    REQUIRE_FALSE(fractions.empty());
    for (size_t i = 0; i < fractions.size(); ++i) {
      INFO("progress report " << i << " = " << fractions[i]);
      REQUIRE(fractions[i] >= 0.0);
      REQUIRE(fractions[i] <= 1.0);
      if (i > 0) REQUIRE(fractions[i] >= fractions[i - 1]);
    }

    for (size_t p = 0; p < probes.size(); ++p) {
      INFO("probe " << p);
      const History h = probes[p].view();
      const auto scores = scoresOf(*model, h);
      REQUIRE(scores.size() == static_cast<size_t>(kContractItems));
      for (Index i = 0; i < kContractItems; ++i) {
        INFO("item " << i);
        REQUIRE(std::isfinite(scores[i]));
      }
      REQUIRE(bitIdentical(scores, scoresOf(*model, h)));  // scoring has no hidden state
      if (expect.findsBestItem) {
        for (Index i = 1; i < kContractItems; ++i) {
          if (std::find(h.items.begin(), h.items.end(), i) != h.items.end()) continue;
          INFO("unseen item " << i << " scores " << scores[i] << ", the best item 0 scores " << scores[0]);
          REQUIRE(scores[0] > scores[i]);
        }
      }
    }
    const auto none = scoresOf(*model, empty.view());
    for (float s : none) REQUIRE(std::isfinite(s));

    std::vector<float> out(kContractItems);
    for (Index bad : {kContractItems, Index{-1}, Index{1 << 30}}) {
      const std::vector<Index> items = {1, bad};
      REQUIRE_THROWS_AS(model->score(History{items, {}, {}}, out), InvalidArgument);
      REQUIRE_THROWS_AS(model->explain(History{items, {}, {}}, 0), InvalidArgument);
    }
    const std::vector<Index> two = {1, 2};
    const std::vector<float> oneValue = {1.0f};
    REQUIRE_THROWS_AS(model->score(History{two, oneValue, {}}, out), InvalidArgument);
    for (size_t size : {size_t{0}, size_t(kContractItems - 1), size_t(kContractItems + 1)}) {
      std::vector<float> wrong(size);
      REQUIRE_THROWS_AS(model->score(probes[0].view(), wrong), InvalidArgument);
    }
    REQUIRE_THROWS_AS(model->explain(probes[0].view(), kContractItems), InvalidArgument);
    REQUIRE_THROWS_AS(model->explain(probes[0].view(), -1), InvalidArgument);

    for (const OwnedHistory* h :
         std::vector<const OwnedHistory*>{&probes[0], &probes[1], &probes[3], &empty}) {
      for (Index item : {Index{0}, Index{1}, Index{16}, Index{kContractItems - 1}}) {
        for (size_t maxCount : {size_t{0}, size_t{1}, size_t{3}, size_t{10}}) {
          INFO("explain item " << item << " with maxCount " << maxCount << ", history of "
                               << h->items.size());
          const auto why = model->explain(h->view(), item, maxCount);
          REQUIRE(why.size() <= maxCount);
          for (const auto& c : why) {
            REQUIRE(std::isfinite(c.weight));
            REQUIRE(c.source >= -1);
            REQUIRE(c.source < static_cast<Index>(h->items.size()));
          }
        }
      }
    }
  }

  SECTION("determinism: the same options and data give bit-identical scores") {
    if (!expect.deterministic) return;
    auto a = make(name, options, expect);
    auto b = make(name, options, expect);
    a->fit(trainSet);
    b->fit(trainSet);
    for (size_t p = 0; p < probes.size(); ++p) {
      INFO("probe " << p);
      REQUIRE(bitIdentical(scoresOf(*a, probes[p].view()), scoresOf(*b, probes[p].view())));
      REQUIRE(sameContributions(a->explain(probes[p].view(), 0), b->explain(probes[p].view(), 0)));
    }
    REQUIRE(saveModel(*a) == saveModel(*b));
  }

  SECTION("save and load: bit-identical scores and explanations, damaged parameters are FormatErrors") {
    auto model = make(name, options, expect);
    model->fit(trainSet);
    std::vector<std::string> ids;
    for (Index i = 0; i < kContractItems; ++i) ids.push_back("item-" + std::to_string(i));
    const auto file = saveModel(*model, ids);
    const LoadedModel loaded = loadModel(file);
    REQUIRE(loaded.model->kind() == name);
    REQUIRE(loaded.model->options() == model->options());
    REQUIRE(loaded.model->fitted());
    REQUIRE(loaded.model->numItems() == kContractItems);
    REQUIRE(loaded.itemIds == ids);
    REQUIRE(loaded.model->predictsRatings() == model->predictsRatings());
    for (size_t p = 0; p < probes.size(); ++p) {
      INFO("probe " << p);
      REQUIRE(bitIdentical(scoresOf(*model, probes[p].view()), scoresOf(*loaded.model, probes[p].view())));
      for (Index item : {Index{0}, Index{2}, Index{17}})
        REQUIRE(sameContributions(model->explain(probes[p].view(), item),
                                  loaded.model->explain(probes[p].view(), item)));
    }
    REQUIRE(bitIdentical(scoresOf(*model, empty.view()), scoresOf(*loaded.model, empty.view())));
    // Saving what was loaded reproduces the file byte for byte.
    REQUIRE(saveModel(*loaded.model, loaded.itemIds) == file);

    // Damaged parameters inside a valid container (the CRC is recomputed, so
    // only the model's own load() stands between the bytes and the model).
    ModelFileHeader header;
    const auto params = parameterBytes(file, header);
    REQUIRE_FALSE(params.empty());
    std::vector<size_t> cuts;
    const size_t stride = params.size() <= 2048 ? 1 : params.size() / 512;
    for (size_t n = 0; n < params.size(); n += stride) cuts.push_back(n);
    for (size_t n = params.size() > 64 ? params.size() - 64 : 0; n < params.size(); ++n) cuts.push_back(n);
    for (size_t n : cuts) {
      INFO("parameters cut to " << n << " of " << params.size() << " bytes");
      const auto cut = writeModelFile(header, [&](Writer& w) { w.raw(params.data(), n); });
      REQUIRE_THROWS_AS(loadModel(cut), FormatError);
    }
    const auto longer = writeModelFile(header, [&](Writer& w) {
      w.raw(params.data(), params.size());
      w.u32(0);
    });
    REQUIRE_THROWS_AS(loadModel(longer), FormatError);

    // Random byte changes: the model either loads (a changed weight is still a
    // model) or throws FormatError; never another error, never a crash.
    Rng rng(99);
    for (int trial = 0; trial < 300; ++trial) {
      auto bad = params;
      const int count = 1 + static_cast<int>(rng.below(4));
      for (int k = 0; k < count; ++k) bad[rng.below(static_cast<uint32_t>(bad.size()))] ^= 1 + rng.below(255);
      const auto damaged = writeModelFile(header, [&](Writer& w) { w.raw(bad.data(), bad.size()); });
      INFO("trial " << trial);
      try {
        const LoadedModel survivor = loadModel(damaged);
        REQUIRE(survivor.model->numItems() == kContractItems);
        std::vector<float> out(kContractItems);
        survivor.model->score(probes[0].view(), out);
        survivor.model->explain(probes[0].view(), 0);
      } catch (const FormatError&) {
        // the expected outcome for most damage
      }
    }
  }
}

}  // namespace localrec::testing

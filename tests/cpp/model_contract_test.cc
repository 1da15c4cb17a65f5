#include "model_contract.h"

#include <map>

#include "models/registry.h"

using namespace localrec;
using localrec::testing::ContractExpectations;

namespace {

// Small, fast settings per model; a model missing here runs with its defaults.
// An expectation turned off must say why.
struct ContractSettings {
  OptionMap options;
  ContractExpectations expect;
};

const std::map<std::string, ContractSettings>& contractSettings() {
  static const std::map<std::string, ContractSettings> table = {
      {"popularity", {{{"min_value", "0"}}, {}}},
      // The planted best item is the most popular one: item_knn's popularity
      // discounts (alpha < 0.5, popularity_penalty > 0) are set to neutral.
      {"item_knn", {{{"neighbors", "10"}, {"shrink", "2"}, {"alpha", "0.5"}, {"popularity_penalty", "0"}}, {}}},
      {"user_knn", {{{"neighbors", "20"}, {"shrink", "2"}}, {}}},
      {"ease", {{{"lambda", "200"}}, {}}},
      {"bias", {{{"iterations", "3"}}, {}}},
      {"biased_mf", {{{"factors", "8"}, {"epochs", "10"}, {"lr", "0.01"}}, {}}},
      {"bpr", {{{"factors", "8"}, {"epochs", "10"}, {"fold_in_epochs", "10"}}, {}}},
      {"ials", {{{"factors", "8"}, {"iterations", "8"}}, {}}},
      // findsBestItem off: gru4rec scores the NEXT item given the order of the
      // recent events, not overall preference; item 0 sits at a random position
      // of each (shuffled) history, so after a probe's last events a cluster
      // item can rightly outscore it. gru4rec_test.cc checks what it must learn.
      {"gru4rec",
       {{{"hidden", "16"}, {"epochs", "10"}, {"n_sample", "16"}, {"batch_size", "16"}},
        {/*findsBestItem=*/false, /*deterministic=*/true, /*prepare=*/{}}}},
      // caser, like gru4rec, predicts the next item from the last L events
      // (same reason for findsBestItem off); caser_test.cc checks what it learns.
      {"caser",
       {{{"d", "8"}, {"n_h", "4"}, {"n_v", "2"}, {"epochs", "4"}},
        {/*findsBestItem=*/false, /*deterministic=*/true, /*prepare=*/{}}}},
      // findsBestItem off: random scores ignore preference by design.
      {"random", {{{"seed", "3"}}, {/*findsBestItem=*/false, /*deterministic=*/true, /*prepare=*/{}}}},
      // The contract supplies item texts (contractItemText) in which item 0 shares words with both clusters.
      {"tfidf", {{{"min_df", "1"}}, {}}},
      // text_cnn: the contract texts again; small network, the inner iALS as in the ials entry.
      {"text_cnn",
       {{{"factors", "8"}, {"cf_iterations", "8"}, {"embedding_dim", "8"}, {"filters", "4"}, {"epochs", "5"},
         {"min_count", "1"}, {"batch_size", "8"}},
        {}}},
  };
  return table;
}

}  // namespace

TEST_CASE("every registered model passes the model contract", "[models]") {
  for (const auto& info : modelRegistry()) {
    DYNAMIC_SECTION("model " << info.name) {
      const auto it = contractSettings().find(info.name);
      const ContractSettings settings = it == contractSettings().end() ? ContractSettings{} : it->second;
      localrec::testing::runModelContract(info.name, settings.options, settings.expect);
    }
  }
}

TEST_CASE("the contract settings table names only registered models", "[models]") {
  for (const auto& [name, settings] : contractSettings()) {
    INFO("contract settings for " << name);
    bool registered = false;
    for (const auto& info : modelRegistry()) registered = registered || info.name == name;
    REQUIRE(registered);
  }
}

TEST_CASE("the contract training data has the planted structure", "[models]") {
  const InteractionMatrix train = localrec::testing::contractTrainingData();
  REQUIRE(train.numUsers() == localrec::testing::kContractUsers);
  REQUIRE(train.numItems() == localrec::testing::kContractItems);
  // Item 0 is the most popular item by a wide margin; items 30 and 31 are cold.
  const Csr& byItem = train.byItem();
  for (Index i = 1; i < 30; ++i) {
    INFO("item " << i);
    REQUIRE(byItem.rowSize(i) > 0);
    REQUIRE(byItem.rowSize(0) > 2 * byItem.rowSize(i));
  }
  REQUIRE(byItem.rowSize(30) == 0);
  REQUIRE(byItem.rowSize(31) == 0);
  for (Index u = 0; u < train.numUsers(); ++u) REQUIRE(train.byUser().rowSize(u) >= 3);
  // Some users lack item 0, so the probes include real training histories.
  REQUIRE(byItem.rowSize(0) < train.numUsers());
  // Same seed, same data.
  const InteractionMatrix again = localrec::testing::contractTrainingData();
  REQUIRE(again.byUser().indices == train.byUser().indices);
  REQUIRE(again.byUser().values == train.byUser().values);
}

#include "models/registry.h"

#include <sstream>

#include "core/error.h"
#include "models/cf/ials.h"
#include "models/cf/bias_baseline.h"
#include "models/cf/biased_mf.h"
#include "models/cf/bpr.h"
#include "models/cf/ease.h"
#include "models/cf/item_knn.h"
#include "models/cf/popularity.h"
#include "models/cf/random.h"
#include "models/cf/user_knn.h"
#include "models/content/text_cnn.h"
#include "models/content/tfidf.h"
#include "models/seq/caser.h"
#include "models/seq/gru4rec.h"

namespace localrec {

namespace {
template <class M>
ModelInfo entry(std::string name, std::string summary) {
  return {std::move(name), std::move(summary), []() -> const std::vector<OptionSpec>& { return M::optionSpecs(); },
          [](const OptionMap& o) -> std::unique_ptr<Recommender> { return std::make_unique<M>(o); }};
}
}  // namespace

const std::vector<ModelInfo>& modelRegistry() {
  static const std::vector<ModelInfo> registry = {
      entry<Popularity>("popularity", "most interacted-with items (optionally recency-decayed)"),
      entry<ItemKnn>("item_knn", "item-based kNN: cosine (shrunk) or Jaccard, top-N neighbours per item"),
      entry<UserKnn>("user_knn", "user-based kNN: cosine or Pearson against every training user, top-K vote"),
      entry<BiasBaseline>("bias", "rating baseline: global mean + regularized user and item biases"),
      entry<BiasedMf>("biased_mf", "explicit-rating MF with biases and the SVD++ implicit term (SGD, Koren 2008/2009); ridge fold-in of any history"),
      entry<Bpr>("bpr", "BPR-MF (Rendle 2009), uniform negatives; SGD fold-in of any history"),
      entry<Ials>("ials", "implicit-feedback ALS (Hu et al. 2008), CG or exact solves; fold-in of any history"),
      entry<Ease>("ease", "EASE^R closed-form item-item regression (Steck 2019); dense items^2 weights, max_items limit"),
      entry<Gru4Rec>("gru4rec", "GRU4Rec (Hidasi et al. 2016/2018): a GRU over the time-ordered history, next-item scores; streaming sessions"),
      entry<Caser>("caser", "Caser (Tang & Wang 2018): horizontal and vertical convolutions over the last L item embeddings, next-item scores"),
      entry<RandomScores>("random", "seeded uniform random scores per history (a floor, e.g. for the cold-items table)"),
      entry<TfIdf>("tfidf", "TF-IDF content filtering: cosine between item texts and the history's profile; scores items without interactions (needs item texts)"),
      entry<TextCnn>("text_cnn", "ConvMF-style text CNN (Kim et al. 2016): word CNN regressed onto iALS item factors; vectors for items without interactions (needs item texts)"),
  };
  return registry;
}

std::unique_ptr<Recommender> createModel(const std::string& name, const OptionMap& options) {
  for (const auto& info : modelRegistry())
    if (info.name == name) return info.create(options);
  std::ostringstream os;
  os << "unknown model '" << name << "'; valid models: ";
  const auto& all = modelRegistry();
  for (size_t i = 0; i < all.size(); ++i) os << (i ? ", " : "") << all[i].name;
  throw InvalidArgument(os.str());
}

}  // namespace localrec

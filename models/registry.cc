#include "models/registry.h"

#include <sstream>

#include "core/error.h"
#include "models/cf/popularity.h"

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

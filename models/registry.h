// Maps model names to factories and option lists, for the CLI, the bindings and
// the model file loader. Add a model here and it is available everywhere.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/recommender.h"

namespace localrec {

struct ModelInfo {
  std::string name;
  std::string summary;
  std::function<const std::vector<OptionSpec>&()> options;
  std::function<std::unique_ptr<Recommender>(const OptionMap&)> create;
};

const std::vector<ModelInfo>& modelRegistry();

// Throws InvalidArgument listing the valid names when `name` is unknown, or
// naming the option when an option is bad.
std::unique_ptr<Recommender> createModel(const std::string& name, const OptionMap& options = {});

}  // namespace localrec

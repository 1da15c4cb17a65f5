// Saving and loading whole models: the model file container (io/model_file.h)
// around a model's own parameters, with the registry creating the right class.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/recommender.h"

namespace localrec {

// The model file for a fitted model. `itemIds` is empty or one external id per
// item in dense order. Throws StateError for an unfitted model and
// InvalidArgument for a wrong number of ids.
std::vector<uint8_t> saveModel(const Recommender& model, const std::vector<std::string>& itemIds = {});

struct LoadedModel {
  std::unique_ptr<Recommender> model;
  std::vector<std::string> itemIds;  // empty when the file has none
};

// Recreates the model a file describes. Throws FormatError on any damage,
// including an unknown model kind or options this library rejects.
LoadedModel loadModel(std::span<const uint8_t> bytes);

}  // namespace localrec

#include "models/model_io.h"

#include <string_view>
#include <unordered_set>

#include "core/error.h"
#include "io/model_file.h"
#include "io/serialize.h"
#include "models/registry.h"

namespace localrec {

std::vector<uint8_t> saveModel(const Recommender& model, const std::vector<std::string>& itemIds) {
  if (!model.fitted()) fail<StateError>(model.kind(), ": cannot save a model that is not fitted");
  if (!itemIds.empty() && itemIds.size() != static_cast<size_t>(model.numItems()))
    fail<InvalidArgument>("saveModel: ", itemIds.size(), " item ids for a ", model.kind(), " model over ",
                          model.numItems(), " items (pass none or one per item)");
  ModelFileHeader header{model.kind(), model.options(), itemIds};
  return writeModelFile(header, [&](Writer& out) { model.save(out); });
}

LoadedModel loadModel(std::span<const uint8_t> bytes) {
  LoadedModel loaded;
  ModelFileHeader header = readModelFile(bytes, [&](const ModelFileHeader& h, Reader& in) {
    // The file passed its checksum, so a kind or option we reject comes from a
    // different library version: report it as a file problem, not a caller's.
    try {
      loaded.model = createModel(h.kind, h.options);
    } catch (const InvalidArgument& e) {
      fail<FormatError>("model file: ", e.what());
    }
    loaded.model->load(in);
  });
  if (!loaded.model->fitted())
    fail<FormatError>("model file: the ", header.kind, " parameters did not produce a fitted model");
  if (!header.itemIds.empty() && header.itemIds.size() != static_cast<size_t>(loaded.model->numItems()))
    fail<FormatError>("model file: ", header.itemIds.size(), " item ids for a ", header.kind, " model over ",
                      loaded.model->numItems(), " items");
  {
    std::unordered_set<std::string_view> seen;
    for (size_t i = 0; i < header.itemIds.size(); ++i)
      if (!seen.insert(header.itemIds[i]).second)
        fail<FormatError>("model file: item id '", header.itemIds[i], "' appears twice (second at position ", i, ")");
  }
  loaded.itemIds = std::move(header.itemIds);
  return loaded;
}

}  // namespace localrec

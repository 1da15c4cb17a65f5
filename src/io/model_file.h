// The model file: a versioned, checksummed container around a model's parameters.
// Layout in docs/model-format.md.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/options.h"
#include "io/serialize.h"

namespace localrec {

constexpr uint32_t kModelFormatVersion = 1;

struct ModelFileHeader {
  std::string kind;                  // registry name of the model
  OptionMap options;                 // resolved options the model was created with
  std::vector<std::string> itemIds;  // external item ids, dense order (may be empty)
};

// Writes the header, then the payload that `writeParameters` produces, then the CRC32.
std::vector<uint8_t> writeModelFile(const ModelFileHeader& header,
                                    const std::function<void(Writer&)>& writeParameters);

// Checks magic, version and CRC32 before anything else, then parses the header
// and calls `readParameters` with a Reader over exactly the parameter bytes
// (which it must consume entirely). Throws FormatError on any damage.
ModelFileHeader readModelFile(std::span<const uint8_t> bytes,
                              const std::function<void(const ModelFileHeader&, Reader&)>& readParameters);

// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320).
uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace localrec

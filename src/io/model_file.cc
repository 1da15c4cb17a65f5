#include "io/model_file.h"

#include <array>
#include <cstring>
#include <sstream>

#include "core/error.h"

namespace localrec {

namespace {

constexpr char kMagic[8] = {'L', 'R', 'E', 'C', 'M', 'O', 'D', 'L'};
// magic + version + flags + total length: the part of the layout no version may change.
constexpr size_t kPreambleSize = 8 + 4 + 4 + 8;
constexpr size_t kCrcSize = 4;
constexpr size_t kMinFileSize = kPreambleSize + kCrcSize;

constexpr std::array<uint32_t, 256> makeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kCrcTable = makeCrcTable();

uint32_t loadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t loadU64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Section tags are printed in errors; show unprintable bytes as \xNN.
std::string printableTag(std::span<const uint8_t> tag) {
  std::ostringstream os;
  const char* hex = "0123456789abcdef";
  for (uint8_t c : tag) {
    if (c >= 0x20 && c < 0x7f)
      os << static_cast<char>(c);
    else
      os << "\\x" << hex[c >> 4] << hex[c & 15];
  }
  return os.str();
}

// Writes tag + u64 length placeholder, runs `body`, then patches the length.
template <class Body>
void writeSection(Writer& w, const char (&tag)[5], Body&& body) {
  w.raw(tag, 4);
  const size_t lengthAt = w.size();
  w.u64(0);
  body();
  w.patchU64(lengthAt, w.size() - lengthAt - 8);
}

// The layout checks that need no parsing: size, length field, CRC, magic.
void checkContainer(std::span<const uint8_t> bytes) {
  const bool magicOk = bytes.size() >= 8 && std::memcmp(bytes.data(), kMagic, 8) == 0;
  if (bytes.size() < kMinFileSize) {
    if (bytes.size() >= 8 && !magicOk)
      fail<FormatError>("model file: not a localrec model file (does not start with \"LRECMODL\")");
    fail<FormatError>("model file: truncated: ", bytes.size(), " bytes, the smallest valid file has ",
                      kMinFileSize);
  }
  const uint64_t claimed = loadU64(bytes.data() + 16);
  if (claimed != bytes.size()) {
    // A different kind of file reads as a nonsense length; say what it is instead.
    if (!magicOk)
      fail<FormatError>("model file: not a localrec model file (does not start with \"LRECMODL\")");
    if (claimed > bytes.size())
      fail<FormatError>("model file: truncated: the header says ", claimed, " bytes, only ", bytes.size(),
                        " are present");
    fail<FormatError>("model file: length mismatch: the header says ", claimed, " bytes, but ", bytes.size(),
                      " are present (trailing data or a damaged length field)");
  }
  const size_t body = bytes.size() - kCrcSize;
  const uint32_t stored = loadU32(bytes.data() + body);
  const uint32_t computed = crc32(bytes.first(body));
  if (stored != computed) {
    std::ostringstream os;
    os << std::hex << "model file: checksum mismatch (stored 0x" << stored << ", computed 0x" << computed
       << "): the file is corrupted";
    throw FormatError(os.str());
  }
  if (!magicOk) fail<FormatError>("model file: not a localrec model file (does not start with \"LRECMODL\")");
}

// Known sections in their required order; `required` ones must be present.
struct SectionRule {
  const char* tag;
  bool required;
};
constexpr SectionRule kSections[] = {
    {"KIND", true}, {"OPTS", true}, {"ITEM", false}, {"PARM", true}, {"END ", true}};
constexpr int kNumSections = sizeof(kSections) / sizeof(kSections[0]);

int sectionIndex(std::span<const uint8_t> tag) {
  for (int i = 0; i < kNumSections; ++i)
    if (std::memcmp(tag.data(), kSections[i].tag, 4) == 0) return i;
  return -1;
}

}  // namespace

uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc) {
  uint32_t c = crc ^ 0xFFFFFFFFu;
  for (uint8_t b : bytes) c = kCrcTable[(c ^ b) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::vector<uint8_t> writeModelFile(const ModelFileHeader& header,
                                    const std::function<void(Writer&)>& writeParameters) {
  Writer w;
  w.raw(kMagic, 8);
  w.u32(kModelFormatVersion);
  w.u32(0);  // flags: none defined in version 1
  w.u64(0);  // total length, patched below
  writeSection(w, "KIND", [&] { w.string(header.kind); });
  writeSection(w, "OPTS", [&] {
    w.u32(static_cast<uint32_t>(header.options.size()));
    for (const auto& [key, value] : header.options) {
      w.string(key);
      w.string(value);
    }
  });
  if (!header.itemIds.empty()) {
    writeSection(w, "ITEM", [&] {
      w.u32(static_cast<uint32_t>(header.itemIds.size()));
      for (const auto& id : header.itemIds) w.string(id);
    });
  }
  writeSection(w, "PARM", [&] {
    if (writeParameters) writeParameters(w);
  });
  writeSection(w, "END ", [] {});
  w.patchU64(16, w.size() + kCrcSize);
  w.u32(crc32(w.bytes()));
  return std::move(w.bytes());
}

ModelFileHeader readModelFile(std::span<const uint8_t> bytes,
                              const std::function<void(const ModelFileHeader&, Reader&)>& readParameters) {
  checkContainer(bytes);

  Reader in(bytes.first(bytes.size() - kCrcSize));
  in.view(8, "magic");
  const uint32_t version = in.u32("format version");
  if (version > kModelFormatVersion)
    fail<FormatError>("model file format version ", version, " is newer than this library's ",
                      kModelFormatVersion, "; upgrade localrec to read it");
  if (version == 0) fail<FormatError>("model file: format version 0 is invalid (versions start at 1)");
  const uint32_t flags = in.u32("flags");
  if (flags != 0)
    fail<FormatError>("model file: flags 0x", std::hex, flags, " are not supported (format version ",
                      std::dec, kModelFormatVersion, " defines none)");
  in.u64("total length");  // checked in checkContainer

  ModelFileHeader header;
  std::span<const uint8_t> parameters;
  int last = -1;  // index in kSections of the last known section seen
  bool seen[kNumSections] = {};
  while (!seen[kNumSections - 1]) {
    if (in.remaining() == 0) break;
    const size_t at = in.offset();
    const auto tag = in.view(4, "section tag");
    const uint64_t length = in.u64("section length");
    if (length > in.remaining())
      fail<FormatError>("model file: section '", printableTag(tag), "' at byte ", at, " claims ", length,
                        " bytes, only ", in.remaining(), " are left");
    const auto payload = in.view(static_cast<size_t>(length), "section payload");
    const int index = sectionIndex(tag);
    if (index < 0) {
      for (uint8_t c : tag)
        if (c < 0x20 || c >= 0x7f)
          fail<FormatError>("model file: section tag '", printableTag(tag), "' at byte ", at,
                            " is not ASCII");
      continue;  // a section from a newer writer that this version does not need
    }
    if (index <= last)
      fail<FormatError>("model file: section '", kSections[index].tag, "' at byte ", at,
                        seen[index] ? " appears twice" : " is out of order",
                        " (order: KIND, OPTS, ITEM, PARM, END)");
    for (int skipped = last + 1; skipped < index; ++skipped)
      if (kSections[skipped].required)
        fail<FormatError>("model file: the required section '", kSections[skipped].tag, "' is missing");
    last = index;
    seen[index] = true;

    const std::string tagName(kSections[index].tag);
    Reader section(payload, "model file section " + tagName);
    if (tagName == "KIND") {
      header.kind = section.string("model kind", 256);
      if (header.kind.empty()) fail<FormatError>("model file: the model kind is empty");
    } else if (tagName == "OPTS") {
      const uint32_t count = section.u32("option count");
      // Each entry holds at least two u32 lengths.
      if (count > section.remaining() / 8)
        fail<FormatError>("model file: ", count, " options claimed, only ", section.remaining(),
                          " bytes left");
      for (uint32_t i = 0; i < count; ++i) {
        std::string key = section.string("option name", 4096);
        std::string value = section.string("option value", 1 << 16);
        if (!header.options.emplace(std::move(key), std::move(value)).second)
          fail<FormatError>("model file: option ", i, " repeats a name");
      }
    } else if (tagName == "ITEM") {
      const uint32_t count = section.u32("item count");
      if (count > section.remaining() / 4)
        fail<FormatError>("model file: ", count, " item ids claimed, only ", section.remaining(),
                          " bytes left");
      header.itemIds.reserve(count);
      for (uint32_t i = 0; i < count; ++i) header.itemIds.push_back(section.string("item id", 1 << 16));
    } else if (tagName == "PARM") {
      parameters = payload;
      section.view(section.remaining(), "parameters");
    } else if (tagName == "END ") {
      // Nothing after END is covered by any version's meaning.
      if (in.remaining() != 0)
        fail<FormatError>("model file: ", in.remaining(), " bytes after the END section");
    }
    section.expectEnd(tagName.c_str());
  }
  if (!seen[kNumSections - 1]) {
    for (int i = 0; i < kNumSections; ++i)
      if (kSections[i].required && !seen[i])
        fail<FormatError>("model file: the required section '", kSections[i].tag, "' is missing");
  }

  if (readParameters) {
    Reader params(parameters, "model file parameters (" + header.kind + ")");
    readParameters(header, params);
    if (params.remaining() != 0)
      fail<FormatError>("model file: the ", header.kind, " parameters left ", params.remaining(), " of ",
                        parameters.size(), " bytes unread (a damaged or mismatched file)");
  }
  return header;
}

}  // namespace localrec

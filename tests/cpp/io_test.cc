#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "core/error.h"
#include "core/rng.h"
#include "data/csr.h"
#include "io/model_file.h"
#include "io/serialize.h"
#include "models/cf/popularity.h"
#include "models/model_io.h"

using namespace localrec;

namespace {

std::span<const uint8_t> asBytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// A fitted popularity model over 4 items: counts 3, 1, 0, 2.
Popularity smallPopularity() {
  Interactions rows;
  rows.push(0, 0, 1, 10);
  rows.push(1, 0, 1, 11);
  rows.push(2, 0, 1, 12);
  rows.push(0, 1, 1, 13);
  rows.push(1, 3, 1, 14);
  rows.push(2, 3, 1, 15);
  Popularity model;
  model.fit(InteractionMatrix(rows, 3, 4));
  return model;
}

std::vector<uint8_t> smallModelFile() { return saveModel(smallPopularity(), {"a", "b", "c", "d"}); }

// Recomputes the CRC (and optionally the length field) so that a deliberately
// edited file gets past the container checks and reaches the parser.
void reseal(std::vector<uint8_t>& file) {
  const uint64_t size = file.size();
  std::memcpy(file.data() + 16, &size, 8);
  const uint32_t crc = crc32(std::span<const uint8_t>(file).first(file.size() - 4));
  std::memcpy(file.data() + file.size() - 4, &crc, 4);
}

// Builds a file by hand from a raw preamble-less list of sections.
std::vector<uint8_t> handmade(uint32_t version,
                              const std::vector<std::pair<std::string, std::vector<uint8_t>>>& sections) {
  Writer w;
  w.raw("LRECMODL", 8);
  w.u32(version);
  w.u32(0);
  w.u64(0);
  for (const auto& [tag, payload] : sections) {
    w.raw(tag.data(), 4);
    w.u64(payload.size());
    w.raw(payload.data(), payload.size());
  }
  w.u32(0);
  auto out = w.bytes();
  reseal(out);
  return out;
}

std::vector<uint8_t> payloadOf(const std::function<void(Writer&)>& f) {
  Writer w;
  f(w);
  return w.bytes();
}

}  // namespace

TEST_CASE("Writer and Reader round-trip every type bit-exactly", "[io]") {
  Writer w;
  w.u8(0xAB);
  w.u32(0xDEADBEEFu);
  w.i32(-123456789);
  w.u64(0x0123456789ABCDEFull);
  w.i64(std::numeric_limits<int64_t>::min());
  w.f32(-0.0f);
  w.f32(std::numeric_limits<float>::quiet_NaN());
  w.f32(std::numeric_limits<float>::infinity());
  w.f32(1.17549435e-38f);
  w.f64(3.141592653589793);
  w.f64(-std::numeric_limits<double>::denorm_min());
  w.string("");
  w.string(std::string("nul\0inside", 10));
  w.string("héllo");
  const std::vector<float> fs = {1.5f, -2.25f, 1e30f};
  const std::vector<int32_t> is = {0, -1, std::numeric_limits<int32_t>::max()};
  w.floats(fs);
  w.ints(is);
  w.floats(std::vector<float>{});
  w.raw("xyz", 3);
  // 1+4+4+8+8 + 4*4 + 8+8 + 4 + 14 + 10 + (8+12)*2 + 8 + 3
  REQUIRE(w.size() == 1 + 4 + 4 + 8 + 8 + 16 + 16 + 4 + 14 + 10 + 40 + 8 + 3);
  // Little-endian on the wire.
  REQUIRE(w.bytes()[1] == 0xEF);
  REQUIRE(w.bytes()[4] == 0xDE);

  Reader r(w.bytes());
  REQUIRE(r.u8("a") == 0xAB);
  REQUIRE(r.u32("b") == 0xDEADBEEFu);
  REQUIRE(r.i32("c") == -123456789);
  REQUIRE(r.u64("d") == 0x0123456789ABCDEFull);
  REQUIRE(r.i64("e") == std::numeric_limits<int64_t>::min());
  REQUIRE(bitsOf(r.f32("f")) == 0x80000000u);
  REQUIRE(bitsOf(r.f32("g")) == bitsOf(std::numeric_limits<float>::quiet_NaN()));
  REQUIRE(r.f32("h") == std::numeric_limits<float>::infinity());
  REQUIRE(r.f32("i") == 1.17549435e-38f);
  REQUIRE(r.f64("j") == 3.141592653589793);
  REQUIRE(r.f64("k") == -std::numeric_limits<double>::denorm_min());
  REQUIRE(r.string("l").empty());
  REQUIRE(r.string("m") == std::string("nul\0inside", 10));
  REQUIRE(r.string("n") == "héllo");
  REQUIRE(r.floats("o", 3) == fs);
  REQUIRE(r.ints("p") == is);
  REQUIRE(r.floats("q").empty());
  char tail[3];
  r.raw(tail, 3, "r");
  REQUIRE(std::string(tail, 3) == "xyz");
  REQUIRE(r.remaining() == 0);
  REQUIRE_NOTHROW(r.expectEnd("everything"));
  REQUIRE_THROWS_AS(r.u8("past the end"), FormatError);
}

TEST_CASE("Reader errors name the field and offset, and never allocate from a bad count", "[io]") {
  Writer w;
  w.u32(7);
  Reader r(w.bytes(), "unit");
  REQUIRE_THROWS_WITH(r.u64("the count"), Catch::Contains("unit") && Catch::Contains("truncated at byte 0") &&
                                              Catch::Contains("the count"));
  REQUIRE(r.offset() == 0);  // a failed read consumes nothing

  // A count of 2^62 floats must fail on the size check, not in the allocator.
  Writer huge;
  huge.u64(uint64_t{1} << 62);
  huge.f32(1.0f);
  Reader rh(huge.bytes());
  REQUIRE_THROWS_WITH(rh.floats("weights"), Catch::Contains("weights") && Catch::Contains("fit"));
  Reader ri(huge.bytes());
  REQUIRE_THROWS_AS(ri.ints("ids"), FormatError);

  // A string length of 4 GB - 1 within the limit but past the buffer.
  Writer s;
  s.u32(0xFFFFFFFFu);
  s.raw("ab", 2);
  Reader rs(s.bytes());
  REQUIRE_THROWS_AS(rs.string("name", SIZE_MAX), FormatError);
  Reader rl(s.bytes());
  REQUIRE_THROWS_WITH(rl.string("name", 100), Catch::Contains("limit 100"));

  // A count that disagrees with the expected size.
  Writer e;
  e.floats(std::vector<float>{1, 2});
  Reader re(e.bytes());
  REQUIRE_THROWS_WITH(re.floats("bias", 3), Catch::Contains("expected 3"));

  Reader left(e.bytes());
  left.u64("n");
  REQUIRE_THROWS_WITH(left.expectEnd("the count"), Catch::Contains("8 unexpected bytes"));
}

TEST_CASE("crc32 matches the IEEE known answers", "[io]") {
  REQUIRE(crc32(asBytes("123456789")) == 0xCBF43926u);
  REQUIRE(crc32(asBytes("")) == 0u);
  REQUIRE(crc32(asBytes("a")) == 0xE8B7BE43u);
  REQUIRE(crc32(asBytes("The quick brown fox jumps over the lazy dog")) == 0x414FA339u);
  // Chaining continues a running checksum.
  REQUIRE(crc32(asBytes("6789"), crc32(asBytes("12345"))) == 0xCBF43926u);
}

TEST_CASE("model file round-trips the header and the parameters", "[io]") {
  ModelFileHeader header{"popularity", {{"min_value", "2"}, {"half_life_days", "0"}}, {"x", "", "yé"}};
  const std::vector<float> params = {1, 2, 3};
  const auto file = writeModelFile(header, [&](Writer& w) { w.floats(params); });

  // Header fields at their documented offsets.
  REQUIRE(file.size() > 28);
  REQUIRE(std::memcmp(file.data(), "LRECMODL", 8) == 0);
  uint32_t version, flags, crc;
  uint64_t length;
  std::memcpy(&version, file.data() + 8, 4);
  std::memcpy(&flags, file.data() + 12, 4);
  std::memcpy(&length, file.data() + 16, 8);
  std::memcpy(&crc, file.data() + file.size() - 4, 4);
  REQUIRE(version == kModelFormatVersion);
  REQUIRE(flags == 0);
  REQUIRE(length == file.size());
  REQUIRE(crc == crc32(std::span<const uint8_t>(file).first(file.size() - 4)));
  REQUIRE(std::memcmp(file.data() + 24, "KIND", 4) == 0);
  uint64_t kindLength;
  std::memcpy(&kindLength, file.data() + 28, 8);
  REQUIRE(kindLength == 4 + 10);  // u32 length + "popularity"
  // The last section before the CRC is an empty END.
  REQUIRE(std::memcmp(file.data() + file.size() - 16, "END ", 4) == 0);

  std::vector<float> read;
  const auto back = readModelFile(file, [&](const ModelFileHeader& h, Reader& r) {
    REQUIRE(h.kind == "popularity");
    read = r.floats("params");
  });
  REQUIRE(back.kind == header.kind);
  REQUIRE(back.options == header.options);
  REQUIRE(back.itemIds == header.itemIds);
  REQUIRE(read == params);

  // No item ids: the optional ITEM section is absent.
  const auto bare = writeModelFile({"popularity", {}, {}}, [&](Writer& w) { w.floats(params); });
  REQUIRE(bare.size() < file.size());
  REQUIRE(readModelFile(bare, [](const ModelFileHeader&, Reader& r) { r.floats("p"); }).itemIds.empty());
}

TEST_CASE("the parameter reader must consume exactly the PARM bytes", "[io]") {
  const auto file = writeModelFile({"popularity", {}, {}}, [](Writer& w) {
    w.u32(1);
    w.u32(2);
  });
  REQUIRE_THROWS_WITH(readModelFile(file, [](const ModelFileHeader&, Reader& r) { r.u32("a"); }),
                      Catch::Contains("4 of 8 bytes unread"));
  REQUIRE_THROWS_AS(readModelFile(file,
                                  [](const ModelFileHeader&, Reader& r) {
                                    r.raw(nullptr, 0, "");
                                    r.u64("a");
                                    r.u8("b");
                                  }),
                    FormatError);
  REQUIRE_NOTHROW(readModelFile(file, [](const ModelFileHeader&, Reader& r) { r.u64("a"); }));
}

TEST_CASE("saveModel and loadModel round-trip a popularity model", "[io]") {
  const Popularity model = smallPopularity();
  REQUIRE(model.itemScores() == std::vector<float>{3, 1, 0, 2});
  const auto file = saveModel(model, {"a", "b", "c", "d"});
  const LoadedModel loaded = loadModel(file);
  REQUIRE(loaded.model->kind() == "popularity");
  REQUIRE(loaded.model->options() == model.options());
  REQUIRE(loaded.itemIds == std::vector<std::string>{"a", "b", "c", "d"});
  REQUIRE(loaded.model->numItems() == 4);
  std::vector<float> scores(4);
  loaded.model->score({}, scores);
  REQUIRE(scores == std::vector<float>{3, 1, 0, 2});
  // Saving the loaded model gives the same bytes.
  REQUIRE(saveModel(*loaded.model, loaded.itemIds) == file);
  REQUIRE(loadModel(saveModel(model)).itemIds.empty());

  REQUIRE_THROWS_AS(saveModel(Popularity()), StateError);
  REQUIRE_THROWS_WITH(saveModel(model, {"a"}), Catch::Contains("1 item ids") && Catch::Contains("4 items"));
}

TEST_CASE("every truncation of a model file is a FormatError", "[io]") {
  const auto file = smallModelFile();
  for (size_t n = 0; n < file.size(); ++n) {
    INFO("truncated to " << n << " of " << file.size() << " bytes");
    const std::vector<uint8_t> cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(n));
    REQUIRE_THROWS_AS(loadModel(cut), FormatError);
  }
  REQUIRE_THROWS_WITH(loadModel(std::span<const uint8_t>(file).first(file.size() - 1)),
                      Catch::Contains("truncated"));
  // Trailing bytes are damage too.
  auto longer = file;
  longer.push_back(0);
  REQUIRE_THROWS_WITH(loadModel(longer), Catch::Contains("length mismatch"));
}

TEST_CASE("random corruption of a model file is a FormatError", "[io]") {
  const auto file = smallModelFile();
  Rng rng(2024);
  for (int trial = 0; trial < 2000; ++trial) {
    auto bad = file;
    const size_t at = rng.below(static_cast<uint32_t>(bad.size()));
    const uint8_t flip = static_cast<uint8_t>(1 + rng.below(255));  // never a no-op
    bad[at] ^= flip;
    INFO("trial " << trial << ": byte " << at << " xor " << int(flip));
    REQUIRE_THROWS_AS(loadModel(bad), FormatError);
  }
  for (int trial = 0; trial < 500; ++trial) {
    auto bad = file;
    const int count = 2 + static_cast<int>(rng.below(15));
    for (int k = 0; k < count; ++k)
      bad[rng.below(static_cast<uint32_t>(bad.size()))] = static_cast<uint8_t>(rng.below(256));
    if (bad == file) continue;  // the random writes happened to restore every byte
    INFO("multi-byte trial " << trial);
    REQUIRE_THROWS_AS(loadModel(bad), FormatError);
  }
  // A single flip is always caught by the CRC (or, in the length field, the size check).
  auto flipped = file;
  flipped[file.size() / 2] ^= 0x10;
  REQUIRE_THROWS_WITH(loadModel(flipped), Catch::Contains("checksum mismatch"));
  REQUIRE_THROWS_WITH(loadModel(asBytes("not a model file, just some text")),
                      Catch::Contains("not a localrec model file"));
}

TEST_CASE("a newer format version is refused with both versions named", "[io]") {
  auto file = smallModelFile();
  const uint32_t newer = kModelFormatVersion + 1;
  std::memcpy(file.data() + 8, &newer, 4);
  reseal(file);
  REQUIRE_THROWS_WITH(
      loadModel(file),
      Catch::Equals("model file format version " + std::to_string(newer) + " is newer than this library's " +
                    std::to_string(kModelFormatVersion) + "; upgrade localrec to read it"));
  auto zero = smallModelFile();
  std::memset(zero.data() + 8, 0, 4);
  reseal(zero);
  REQUIRE_THROWS_AS(loadModel(zero), FormatError);
  auto flagged = smallModelFile();
  flagged[12] = 1;
  reseal(flagged);
  REQUIRE_THROWS_WITH(loadModel(flagged), Catch::Contains("flags"));
}

TEST_CASE("unknown sections are skipped, required ones enforced", "[io]") {
  const auto kind = payloadOf([](Writer& w) { w.string("popularity"); });
  const auto opts = payloadOf([](Writer& w) { w.u32(0); });
  const auto items = payloadOf([](Writer& w) {
    w.u32(2);
    w.string("p");
    w.string("q");
  });
  const auto parm = payloadOf([](Writer& w) { w.floats(std::vector<float>{5, 7}); });
  const std::vector<uint8_t> future = {1, 2, 3, 4, 5};

  const auto withUnknown = handmade(1, {{"KIND", kind},
                                        {"XTRA", future},
                                        {"OPTS", opts},
                                        {"ITEM", items},
                                        {"Zzz9", {}},
                                        {"PARM", parm},
                                        {"NEWS", future},
                                        {"END ", {}}});
  const LoadedModel loaded = loadModel(withUnknown);
  REQUIRE(loaded.itemIds == std::vector<std::string>{"p", "q"});
  std::vector<float> scores(2);
  loaded.model->score({}, scores);
  REQUIRE(scores == std::vector<float>{5, 7});
  // Options absent from the file take their defaults.
  REQUIRE(loaded.model->options().at("min_value") == "-1e9");

  REQUIRE_THROWS_WITH(loadModel(handmade(1, {{"KIND", kind}, {"PARM", parm}, {"END ", {}}})),
                      Catch::Contains("'OPTS' is missing"));
  REQUIRE_THROWS_WITH(loadModel(handmade(1, {{"KIND", kind}, {"OPTS", opts}, {"END ", {}}})),
                      Catch::Contains("'PARM' is missing"));
  REQUIRE_THROWS_WITH(loadModel(handmade(1, {{"KIND", kind}, {"OPTS", opts}, {"PARM", parm}})),
                      Catch::Contains("'END ' is missing"));
  REQUIRE_THROWS_WITH(loadModel(handmade(1, {{"OPTS", opts}, {"KIND", kind}, {"PARM", parm}, {"END ", {}}})),
                      Catch::Contains("'KIND' is missing"));
  REQUIRE_THROWS_WITH(
      loadModel(handmade(1, {{"KIND", kind}, {"OPTS", opts}, {"PARM", parm}, {"ITEM", items}, {"END ", {}}})),
      Catch::Contains("'ITEM'") && Catch::Contains("out of order"));
  REQUIRE_THROWS_WITH(
      loadModel(handmade(1, {{"KIND", kind}, {"KIND", kind}, {"OPTS", opts}, {"PARM", parm}, {"END ", {}}})),
      Catch::Contains("twice"));
  REQUIRE_THROWS_WITH(
      loadModel(handmade(1, {{"KIND", kind}, {"OPTS", opts}, {"PARM", parm}, {"END ", {}}, {"XTRA", {}}})),
      Catch::Contains("after the END"));
  REQUIRE_THROWS_WITH(loadModel(handmade(1, {{"KIND", kind}, {"OPTS", opts}, {"PARM", parm}, {"END ", {9}}})),
                      Catch::Contains("unexpected bytes"));
  REQUIRE_THROWS_WITH(loadModel(handmade(1, {{"KIND", kind},
                                             {std::string("\x01\x02\x03\x04", 4), {}},
                                             {"OPTS", opts},
                                             {"PARM", parm},
                                             {"END ", {}}})),
                      Catch::Contains("not ASCII"));
  // Item ids that disagree with the model's catalog.
  const auto threeItems = payloadOf([](Writer& w) {
    w.u32(3);
    for (const char* id : {"a", "b", "c"}) w.string(id);
  });
  REQUIRE_THROWS_WITH(
      loadModel(
          handmade(1, {{"KIND", kind}, {"OPTS", opts}, {"ITEM", threeItems}, {"PARM", parm}, {"END ", {}}})),
      Catch::Contains("3 item ids") && Catch::Contains("2 items"));
  // A kind or an option this library does not know is a file problem.
  const auto alien = payloadOf([](Writer& w) { w.string("no_such_model"); });
  REQUIRE_THROWS_WITH(loadModel(handmade(1, {{"KIND", alien}, {"OPTS", opts}, {"PARM", parm}, {"END ", {}}})),
                      Catch::Contains("no_such_model"));
  REQUIRE_THROWS_AS(loadModel(handmade(1, {{"KIND", alien}, {"OPTS", opts}, {"PARM", parm}, {"END ", {}}})),
                    FormatError);
  const auto badOpts = payloadOf([](Writer& w) {
    w.u32(1);
    w.string("half_life_days");
    w.string("-5");
  });
  REQUIRE_THROWS_AS(loadModel(handmade(1, {{"KIND", kind}, {"OPTS", badOpts}, {"PARM", parm}, {"END ", {}}})),
                    FormatError);
  // Non-finite parameters are refused by the model.
  const auto nanParm = payloadOf([](Writer& w) { w.floats(std::vector<float>{1, std::nanf("")}); });
  REQUIRE_THROWS_WITH(
      loadModel(handmade(1, {{"KIND", kind}, {"OPTS", opts}, {"PARM", nanParm}, {"END ", {}}})),
      Catch::Contains("not finite"));
}

TEST_CASE("huge claimed lengths and counts are refused without allocating", "[io]") {
  const auto kind = payloadOf([](Writer& w) { w.string("popularity"); });
  const auto opts = payloadOf([](Writer& w) { w.u32(0); });
  const auto end = std::pair<std::string, std::vector<uint8_t>>{"END ", {}};

  // A PARM that claims 2^60 floats (and the CRC is valid, so the count reaches the parser).
  const auto hugeParm = payloadOf([](Writer& w) {
    w.u64(uint64_t{1} << 60);
    w.f32(1);
  });
  REQUIRE_THROWS_WITH(loadModel(handmade(1, {{"KIND", kind}, {"OPTS", opts}, {"PARM", hugeParm}, end})),
                      Catch::Contains("values claimed"));
  // 4 billion options / item ids / a 4 GB kind string.
  const auto manyOpts = payloadOf([](Writer& w) { w.u32(0xFFFFFFFFu); });
  REQUIRE_THROWS_WITH(loadModel(handmade(1, {{"KIND", kind}, {"OPTS", manyOpts}, {"PARM", {}}, end})),
                      Catch::Contains("options claimed"));
  REQUIRE_THROWS_WITH(
      loadModel(handmade(1, {{"KIND", kind}, {"OPTS", opts}, {"ITEM", manyOpts}, {"PARM", {}}, end})),
      Catch::Contains("item ids claimed"));
  REQUIRE_THROWS_AS(loadModel(handmade(1, {{"KIND", manyOpts}, {"OPTS", opts}, {"PARM", {}}, end})),
                    FormatError);

  // A section length of 2^63: patch the KIND length of a valid file and reseal.
  auto file = smallModelFile();
  const uint64_t huge = uint64_t{1} << 63;
  std::memcpy(file.data() + 28, &huge, 8);
  reseal(file);
  REQUIRE_THROWS_WITH(loadModel(file), Catch::Contains("section 'KIND'") && Catch::Contains("claims"));
  // A total length field of 2^64 - 1.
  auto file2 = smallModelFile();
  std::memset(file2.data() + 16, 0xFF, 8);
  REQUIRE_THROWS_WITH(loadModel(file2), Catch::Contains("truncated"));
}

TEST_CASE("a model file whose catalog repeats an item id is refused", "[io]") {
  const auto file = saveModel(smallPopularity(), {"a", "b", "a", "d"});
  REQUIRE_THROWS_WITH(loadModel(file), Catch::Contains("item id 'a' appears twice"));
}

TEST_CASE("a failed load leaves a previously fitted model unfitted", "[io]") {
  Popularity model = smallPopularity();
  Writer w;
  w.u64(1000);  // claims 1000 floats, has none
  Reader r(w.bytes());
  REQUIRE_THROWS_AS(model.load(r), FormatError);
  REQUIRE_FALSE(model.fitted());
  std::vector<float> scores(4);
  REQUIRE_THROWS_AS(model.score({}, scores), StateError);
}

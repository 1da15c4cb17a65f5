#include "models/cf/random.h"

#include "core/error.h"
#include "core/rng.h"
#include "io/serialize.h"

namespace localrec {

namespace {
constexpr uint32_t kLayoutVersion = 1;

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  h = (h ^ (h >> 31)) * 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 29);
}
}  // namespace

const std::vector<OptionSpec>& RandomScores::optionSpecs() {
  static const std::vector<OptionSpec> specs = {
      {"seed", "int", "42", 0, 2147483647, {}, "seed of the scores (with the history's items)"},
  };
  return specs;
}

RandomScores::RandomScores(const OptionMap& options)
    : RandomScores(OptionReader("random", optionSpecs(), options)) {}

RandomScores::RandomScores(const OptionReader& reader)
    : Recommender(reader.resolved()), seed_(static_cast<uint64_t>(reader.getInt("seed"))) {
  reader.finish();
}

void RandomScores::fitImpl(const InteractionMatrix&, Progress& progress) { progress.report(1.0, "done"); }

void RandomScores::scoreImpl(const History& history, std::span<float> out) const {
  uint64_t h = mix(seed_, history.size());
  for (Index item : history.items) h = mix(h, static_cast<uint64_t>(item));
  Rng rng(h);
  for (float& s : out) s = static_cast<float>(rng.uniform());
}

std::vector<Contribution> RandomScores::explainImpl(const History&, Index, size_t) const {
  return {};  // chance has no reasons
}

void RandomScores::save(Writer& out) const {
  out.u32(kLayoutVersion);
  out.i32(numItems());
}

void RandomScores::loadImpl(Reader& in) {
  const uint32_t version = in.u32("random layout version");
  if (version != kLayoutVersion)
    fail<FormatError>(in.what(), ": random layout version ", version, " is not supported (this library reads ",
                      kLayoutVersion, ")");
  const int32_t numItems = in.i32("random catalog size");
  if (numItems <= 0) fail<FormatError>(in.what(), ": random catalog size ", numItems, " must be > 0");
  setFitted(numItems);
}

}  // namespace localrec

#include "models/cf/popularity.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "io/serialize.h"

namespace localrec {

const std::vector<OptionSpec>& Popularity::optionSpecs() {
  static const std::vector<OptionSpec> specs = {
      {"min_value", "float", "-1e9", -1e9, 1e9, {}, "count only interactions whose value is at least this"},
      {"half_life_days", "float", "0", 0, 1e6, {},
       "weight an interaction by 0.5^(age/half-life), age from the newest training event; 0 = no decay"},
  };
  return specs;
}

Popularity::Popularity(const OptionMap& options) : Popularity(OptionReader("popularity", optionSpecs(), options)) {}

Popularity::Popularity(const OptionReader& reader)
    : Recommender(reader.resolved()),
      minValue_(static_cast<float>(reader.getFloat("min_value"))),
      halfLifeDays_(reader.getFloat("half_life_days")) {
  reader.finish();
}

void Popularity::fitImpl(const InteractionMatrix& train, Progress& progress) {
  const Csr& byItem = train.byItem();
  Timestamp newest = std::numeric_limits<Timestamp>::min();
  if (halfLifeDays_ > 0)
    for (Timestamp t : byItem.times) newest = std::max(newest, t);
  const double decayPerSecond = halfLifeDays_ > 0 ? std::log(2.0) / (halfLifeDays_ * 86400.0) : 0.0;
  scores_.assign(static_cast<size_t>(train.numItems()), 0.0f);
  for (Index i = 0; i < train.numItems(); ++i) {
    const auto values = byItem.rowValues(i);
    const auto times = byItem.rowTimes(i);
    double sum = 0;
    for (size_t k = 0; k < values.size(); ++k) {
      if (values[k] < minValue_) continue;
      sum += decayPerSecond > 0 ? std::exp(-decayPerSecond * static_cast<double>(newest - times[k])) : 1.0;
    }
    scores_[i] = static_cast<float>(sum);
    if ((i & 4095) == 0) progress.report(static_cast<double>(i) / train.numItems(), "counting");
  }
  progress.report(1.0, "done");
}

void Popularity::scoreImpl(const History&, std::span<float> out) const {
  std::copy(scores_.begin(), scores_.end(), out.begin());
}

std::vector<Contribution> Popularity::explainImpl(const History&, Index item, size_t maxCount) const {
  // No history item contributes: the one reason is the item's own popularity (source -1).
  if (maxCount == 0) return {};
  return {Contribution{-1, scores_[item]}};
}

void Popularity::save(Writer& out) const { out.floats(scores_); }

void Popularity::loadImpl(Reader& in) {
  auto scores = in.floats("popularity scores");
  for (size_t i = 0; i < scores.size(); ++i)
    if (!std::isfinite(scores[i])) fail<FormatError>(in.what(), ": popularity score ", i, " is not finite");
  scores_ = std::move(scores);
  setFitted(static_cast<Index>(scores_.size()));
}

}  // namespace localrec

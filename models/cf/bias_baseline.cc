#include "models/cf/bias_baseline.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "io/serialize.h"

namespace localrec {

const std::vector<OptionSpec>& BiasBaseline::optionSpecs() {
  static const std::vector<OptionSpec> specs = {
      {"reg_item", "float", "3", 0, 1e6, {}, "shrinkage of item biases towards 0 (pseudo-count of ratings)"},
      {"reg_user", "float", "3", 0, 1e6, {}, "shrinkage of user biases towards 0 (pseudo-count of ratings)"},
      {"iterations", "int", "10", 1, 1000, {}, "alternating passes (item biases, then user biases)"},
  };
  return specs;
}

BiasBaseline::BiasBaseline(const OptionMap& options) : BiasBaseline(OptionReader("bias", optionSpecs(), options)) {}

BiasBaseline::BiasBaseline(const OptionReader& reader)
    : Recommender(reader.resolved()),
      regItem_(reader.getFloat("reg_item")),
      regUser_(reader.getFloat("reg_user")),
      iterations_(reader.getInt("iterations")) {
  reader.finish();
}

void BiasBaseline::fitImpl(const InteractionMatrix& train, Progress& progress) {
  mf::checkFiniteValues(kind(), train);
  const Csr& byUser = train.byUser();
  const Csr& byItem = train.byItem();
  double sum = 0;
  for (float v : byUser.values) sum += v;
  const double mu = sum / static_cast<double>(train.nnz());
  std::vector<double> bu(static_cast<size_t>(train.numUsers()), 0.0);
  std::vector<double> bi(static_cast<size_t>(train.numItems()), 0.0);
  progress.report(0.0, "biases");
  for (int it = 0; it < iterations_; ++it) {
    for (Index i = 0; i < train.numItems(); ++i) {
      const auto users = byItem.rowIndices(i);
      const auto values = byItem.rowValues(i);
      double s = 0;
      for (size_t k = 0; k < users.size(); ++k) s += values[k] - mu - bu[users[k]];
      // reg 0 with no ratings: 0/0; such an item simply keeps bias 0.
      bi[i] = users.empty() ? 0.0 : s / (regItem_ + static_cast<double>(users.size()));
    }
    for (Index u = 0; u < train.numUsers(); ++u) {
      const auto items = byUser.rowIndices(u);
      const auto values = byUser.rowValues(u);
      double s = 0;
      for (size_t k = 0; k < items.size(); ++k) s += values[k] - mu - bi[items[k]];
      bu[u] = items.empty() ? 0.0 : s / (regUser_ + static_cast<double>(items.size()));
    }
    progress.report(static_cast<double>(it + 1) / iterations_, "biases");
  }
  mu_ = static_cast<float>(mu);
  itemBias_.assign(bi.begin(), bi.end());
  userBias_.assign(bu.begin(), bu.end());
}

float BiasBaseline::foldInUserBias(const History& history) const {
  if (!history.hasValues() || history.empty()) return 0.0f;
  mf::checkFiniteHistory(kind(), history);
  double s = 0;
  for (size_t k = 0; k < history.size(); ++k) s += history.values[k] - mu_ - itemBias_[history.items[k]];
  return static_cast<float>(s / (regUser_ + static_cast<double>(history.size())));
}

void BiasBaseline::scoreImpl(const History& history, std::span<float> out) const {
  const float base = mu_ + foldInUserBias(history);
  for (size_t i = 0; i < out.size(); ++i) out[i] = base + itemBias_[i];
}

std::vector<Contribution> BiasBaseline::explainImpl(const History& history, Index item, size_t maxCount) const {
  if (maxCount == 0) return {};
  if (!history.hasValues() || history.empty()) return {Contribution{-1, mu_ + itemBias_[item]}};
  mf::checkFiniteHistory(kind(), history);
  std::vector<Contribution> out;
  const double denom = regUser_ + static_cast<double>(history.size());
  for (size_t k = 0; k < history.size(); ++k)
    out.push_back({static_cast<Index>(k),
                   static_cast<float>((history.values[k] - mu_ - itemBias_[history.items[k]]) / denom)});
  return mf::strongestFirst(std::move(out), maxCount);
}

void BiasBaseline::save(Writer& out) const {
  out.f32(mu_);
  out.floats(itemBias_);
}

void BiasBaseline::loadImpl(Reader& in) {
  const float mu = in.f32("global mean");
  auto bias = in.floats("item biases");
  if (!std::isfinite(mu)) fail<FormatError>(in.what(), ": the global mean is not finite");
  if (bias.empty()) fail<FormatError>(in.what(), ": a bias model over 0 items");
  mf::checkFiniteParams(in, "item bias", bias);
  mu_ = mu;
  itemBias_ = std::move(bias);
  userBias_.clear();
  setFitted(static_cast<Index>(itemBias_.size()));
}

}  // namespace localrec

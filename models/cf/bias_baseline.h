// Bias baseline for explicit ratings: r(u, i) = mu + b_u + b_i, the "global
// mean + regularized user and item biases" predictor that rating models are
// measured against (Koren 2010, section 2.1).
//
// Fit: mu = mean training value; then `iterations` alternating passes of the
// closed-form regularized means (each pass solves one side exactly with the
// other fixed, so the squared error + reg objective never increases):
//   b_i = sum_{u rated i} (r - mu - b_u) / (reg_item + n_i)
//   b_u = sum_{i rated by u} (r - mu - b_i) / (reg_user + n_u)
// Score(history): the user is the history, so b_u is recomputed from it with
// the same formula, b_u = sum_h (v_h - mu - b_{i_h}) / (reg_user + n), and every
// item gets mu + b_u + b_i. A history WITHOUT values (or an empty one) carries
// no rating information: b_u = 0 and the scores are mu + b_i.
// Explain: the user bias is additive over the history, so history item h's
// share is (v_h - mu - b_{i_h}) / (reg_user + n); strongest (largest) first.
// Without values the one reason is the item's own term mu + b_i (source -1).
// Items with no training rows get b_i = 0. Training and history values must be
// finite (InvalidArgument otherwise).
// PARM: f32 mu, floats item biases (count = catalog size).
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/recommender.h"
#include "io/serialize.h"

namespace localrec {

// Small checks shared by the rating/factor models (bias, biased_mf, bpr).
namespace mf {

inline void checkFiniteValues(const std::string& model, const InteractionMatrix& train) {
  const Csr& byUser = train.byUser();
  for (Index u = 0; u < train.numUsers(); ++u) {
    const auto values = byUser.rowValues(u);
    for (size_t k = 0; k < values.size(); ++k)
      if (!std::isfinite(values[k]))
        fail<InvalidArgument>(model, ".fit: the value of user ", u, "'s interaction with item ",
                              byUser.rowIndices(u)[k], " is not finite (", values[k], ")");
  }
}

inline void checkFiniteHistory(const std::string& model, const History& history) {
  for (size_t k = 0; k < history.values.size(); ++k)
    if (!std::isfinite(history.values[k]))
      fail<InvalidArgument>(model, ": history value ", k, " (item ", history.items[k], ") is not finite (",
                            history.values[k], ")");
}

inline void checkFiniteParams(const Reader& in, const char* what, std::span<const float> v) {
  for (size_t k = 0; k < v.size(); ++k)
    if (!std::isfinite(v[k])) fail<FormatError>(in.what(), ": ", what, " ", k, " is not finite");
}

// Sorts by weight descending (ties: earlier history position first), keeps maxCount.
inline std::vector<Contribution> strongestFirst(std::vector<Contribution> c, size_t maxCount) {
  std::stable_sort(c.begin(), c.end(), [](const Contribution& a, const Contribution& b) { return a.weight > b.weight; });
  if (c.size() > maxCount) c.resize(maxCount);
  return c;
}

}  // namespace mf

class BiasBaseline : public Recommender {
 public:
  static const std::vector<OptionSpec>& optionSpecs();
  explicit BiasBaseline(const OptionMap& options = {});

  std::string kind() const override { return "bias"; }
  bool predictsRatings() const override { return true; }
  void save(Writer& out) const override;

  float globalMean() const { return mu_; }
  const std::vector<float>& itemBiases() const { return itemBias_; }
  // The training users' biases from the last fit (not saved: scoring recomputes
  // a user's bias from the history it is given).
  const std::vector<float>& userBiases() const { return userBias_; }
  // The user bias a history implies (0 without values).
  float foldInUserBias(const History& history) const;

 protected:
  void fitImpl(const InteractionMatrix& train, Progress& progress) override;
  void scoreImpl(const History& history, std::span<float> out) const override;
  std::vector<Contribution> explainImpl(const History& history, Index item, size_t maxCount) const override;
  void loadImpl(Reader& in) override;

 private:
  explicit BiasBaseline(const OptionReader& reader);
  double regItem_;
  double regUser_;
  int iterations_;
  float mu_ = 0.0f;
  std::vector<float> itemBias_;
  std::vector<float> userBias_;
};

}  // namespace localrec

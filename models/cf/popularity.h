// Most-popular baseline: scores every item by how many training interactions it
// has (optionally only those at or above a value, optionally decayed by age).
// Ignores the history except that the caller filters seen items.
#pragma once

#include <vector>

#include "core/recommender.h"

namespace localrec {

class Popularity : public Recommender {
 public:
  static const std::vector<OptionSpec>& optionSpecs();
  explicit Popularity(const OptionMap& options = {});

  std::string kind() const override { return "popularity"; }
  void save(Writer& out) const override;

  // The fitted popularity of each item.
  const std::vector<float>& itemScores() const { return scores_; }

 protected:
  void fitImpl(const InteractionMatrix& train, Progress& progress) override;
  void scoreImpl(const History& history, std::span<float> out) const override;
  std::vector<Contribution> explainImpl(const History& history, Index item, size_t maxCount) const override;
  void loadImpl(Reader& in) override;

 private:
  Popularity(const OptionReader& reader);
  float minValue_;
  double halfLifeDays_;
  std::vector<float> scores_;
};

}  // namespace localrec

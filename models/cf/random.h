// Random baseline: every item gets a seeded uniform score in [0, 1), drawn
// afresh for each history (the stream is seeded by `seed` and the history's
// items, so the same history always gets the same scores, and different people
// get different orders). It scores items without interactions like any other
// (scoresColdItems), which makes it the floor of the cold-items table.
#pragma once

#include <vector>

#include "core/recommender.h"

namespace localrec {

class RandomScores : public Recommender {
 public:
  static const std::vector<OptionSpec>& optionSpecs();
  explicit RandomScores(const OptionMap& options = {});

  std::string kind() const override { return "random"; }
  bool scoresColdItems() const override { return true; }
  void save(Writer& out) const override;

 protected:
  void fitImpl(const InteractionMatrix& train, Progress& progress) override;
  void scoreImpl(const History& history, std::span<float> out) const override;
  std::vector<Contribution> explainImpl(const History& history, Index item, size_t maxCount) const override;
  void loadImpl(Reader& in) override;

 private:
  explicit RandomScores(const OptionReader& reader);
  uint64_t seed_;
};

}  // namespace localrec

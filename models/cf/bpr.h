// BPR-MF (Rendle, Freudenthaler, Gantner & Schmidt-Thieme 2009) for implicit
// feedback, ranking only: x_ui = b_i + p_u . q_i, trained to rank a user's items
// above items the user has not interacted with.
//
// Fit: p_u, q_i ~ N(0, init_std^2), b_i = 0. Each epoch draws `samples` triples
// (0 = as many as training rows): (u, i) a uniformly drawn training row (so
// users are weighted by activity, as in LearnBPR's bootstrap), j the
// highest-scoring (b_j + p_u . q_j) of `negatives` candidates drawn uniformly
// over the items u has not interacted with (rejection sampling; dynamic
// negative sampling, Zhang et al. 2013; negatives = 1 is plain uniform
// sampling; drawNegative below). One SGD ascent step
// on ln sigma(x_uij) - reg/2 (|p_u|^2 + |q_i|^2 + |q_j|^2) - reg_bias/2 (b_i^2 + b_j^2),
// x_uij = x_ui - x_uj (bprStep below). All draws come from Rng(seed). Values
// and times are ignored (every training row is a positive). A user who has
// every item has no negatives and is skipped.
//
// Score(history): the user is the history. p is folded in against the fixed
// item parameters by the same SGD on p alone: p = 0, then
// fold_in_epochs * |history| steps, each with a positive drawn uniformly from
// the history and a negative drawn as in fit over the items not in it, with the training
// lr and reg; the p of the second half of the steps are averaged (Polyak), which
// removes most of the sampling noise. The draws come from an Rng seeded by
// `seed` and a hash of the history's items, so a history always gets the same
// scores. Scores = b + Q p (one gemv). An empty history (or one holding every
// item) gives p = 0: scores are the item biases, which BPR learns as a
// popularity prior. Values and times of the history are ignored.
//
// Explain: the fold-in moves p along the history items' factors, so history
// item h's part of p . q_i is taken as q_h . q_i (strongest first); an empty
// history's one reason is b_i (source -1). This is an approximation (the
// negatives also move p), not an exact split.
// PARM: i32 factors, floats item biases (n), floats item factors (n x factors, row-major).
#pragma once

#include <vector>

#include "core/recommender.h"
#include "core/rng.h"
#include "linalg/kernels.h"

namespace localrec {

class Bpr : public Recommender {
 public:
  static const std::vector<OptionSpec>& optionSpecs();
  explicit Bpr(const OptionMap& options = {});

  std::string kind() const override { return "bpr"; }
  void save(Writer& out) const override;

  // One SGD ascent step on the BPR objective of one triple (u, i, j), updating
  // p, qi, qj, bi, bj in place with the gradients at the old values. Returns x_uij.
  static float bprStep(float* p, float* qi, float* qj, float& bi, float& bj, int factors, float lr, float reg,
                       float regBias);
  // Draws `candidates` items uniformly from [0, nItems) among those isPositive()
  // rejects and returns the one with the highest bias[j] + p . factors_j (the
  // first drawn on ties); with candidates = 1 the single draw, unscored. The
  // caller guarantees that some item is not positive.
  template <class IsPositive>
  static Index drawNegative(Rng& rng, Index nItems, int candidates, const float* p, const float* bias,
                            const float* factors, size_t f, IsPositive isPositive);
  // The per-triple objective that bprStep ascends (for tests).
  static double bprObjective(const float* p, const float* qi, const float* qj, float bi, float bj, int factors,
                             float reg, float regBias);

  int factors() const { return factors_; }
  const std::vector<float>& itemBiases() const { return itemBias_; }
  const std::vector<float>& itemFactors() const { return itemFactors_; }
  // The folded-in user vector of a history (factors long).
  std::vector<float> foldIn(const History& history) const;

 protected:
  void fitImpl(const InteractionMatrix& train, Progress& progress) override;
  void scoreImpl(const History& history, std::span<float> out) const override;
  std::vector<Contribution> explainImpl(const History& history, Index item, size_t maxCount) const override;
  void loadImpl(Reader& in) override;

 private:
  explicit Bpr(const OptionReader& reader);
  int factors_;
  int epochs_;
  double lr_;
  double reg_;
  double regBias_;
  double initStd_;
  int samples_;
  int foldInEpochs_;
  int negatives_;
  uint64_t seed_;

  std::vector<float> itemBias_;
  std::vector<float> itemFactors_;  // numItems x factors_
};

template <class IsPositive>
Index Bpr::drawNegative(Rng& rng, Index nItems, int candidates, const float* p, const float* bias,
                        const float* factors, size_t f, IsPositive isPositive) {
  Index best = -1;
  float bestScore = 0.0f;
  for (int c = 0; c < candidates; ++c) {
    Index j;
    do {
      j = static_cast<Index>(rng.below(static_cast<uint32_t>(nItems)));
    } while (isPositive(j));
    if (candidates == 1) return j;  // plain uniform sampling: no score needed
    const float score = bias[j] + linalg::dot(p, factors + static_cast<size_t>(j) * f, f);
    if (best < 0 || score > bestScore) best = j, bestScore = score;
  }
  return best;
}

}  // namespace localrec

// Biased matrix factorization for explicit ratings (Funk 2006; Koren, Bell &
// Volinsky 2009): r(u, i) = mu + b_u + b_i + p_u . q_i.
//
// Fit: mu = mean training value (fixed); b_u, b_i = 0; p_u, q_i ~ N(0, init_std^2)
// (Box-Muller over the seeded Rng). Each epoch visits every training row once
// in a seeded shuffled order and takes one SGD step on
//   e^2 + reg (|p_u|^2 + |q_i|^2) + reg_bias (b_u^2 + b_i^2)
// (sgdStep below, the update of Koren et al. eq. 5); the learning rate is
// multiplied by lr_decay after every epoch. Items without training rows keep
// q_i = 0 and b_i = 0.
//
// Score(history): the user is the history. Its (b_u, p_u) is folded in by ONE
// ridge solve against the fixed item parameters: with a_h = [1, q_{i_h}] and
// residual y_h = v_h - mu - b_{i_h},
//   (sum_h a_h a_h^T + n diag(reg_bias, reg, ..., reg) + fold_in_prior I) x = sum_h y_h a_h,  x = [b_u, p_u]
// The n-scaled penalty is the per-row regularization SGD applies (each of the
// user's n rows regularizes p_u once per epoch), so with fold_in_prior = 0 the
// solve minimizes the training objective with the items fixed; for a training
// user it is the exact optimum SGD only approaches. fold_in_prior (default 1,
// tuned on a validation split) adds a length-independent penalty, which shrinks
// short histories a little more. Then scores = mu + b_u + b_i + Q p_u
// (one gemv). A history WITHOUT values carries no rating information: its user
// terms are 0 (the same as taking v_h = mu + b_{i_h}, whose residuals are 0), so
// it scores mu + b_i, as does the empty history. Values must be finite.
//
// Explain: the fold-in is linear in the residuals, x = G^-1 sum_h y_h a_h, so
// the user part of item i's score splits exactly over the history:
//   b_u + p_u . q_i = sum_h y_h (a_i^T G^-1 a_h)
// (as Hu, Koren & Volinsky 2008 explain ALS); history positions strongest
// first. With no user terms the one reason is mu + b_i (source -1).
//
// The training users' (b_u, p_u) are kept after fit for inspection only and are
// not saved (scoring always folds in the history it is given).
// PARM: i32 factors, f32 mu, floats item biases (n), floats item factors (n x factors, row-major).
#pragma once

#include <vector>

#include "core/recommender.h"

namespace localrec {

class BiasedMf : public Recommender {
 public:
  static const std::vector<OptionSpec>& optionSpecs();
  explicit BiasedMf(const OptionMap& options = {});

  std::string kind() const override { return "biased_mf"; }
  bool predictsRatings() const override { return true; }
  void save(Writer& out) const override;

  // One SGD step on one rating r (the update fit uses): e = r - (mu + bu + bi + p.q),
  // bu += lr (e - regBias bu), bi += lr (e - regBias bi),
  // p += lr (e q - reg p), q += lr (e p_old - reg q). Returns e.
  static float sgdStep(float r, float mu, float& bu, float& bi, float* p, float* q, int factors, float lr,
                       float reg, float regBias);

  int factors() const { return factors_; }
  float globalMean() const { return mu_; }
  const std::vector<float>& itemBiases() const { return itemBias_; }
  const std::vector<float>& itemFactors() const { return itemFactors_; }
  const std::vector<float>& userBiases() const { return userBias_; }
  const std::vector<float>& userFactors() const { return userFactors_; }
  // The folded-in user terms of a history: bu and p (factors long).
  void foldIn(const History& history, float& bu, std::vector<float>& p) const;

 protected:
  void fitImpl(const InteractionMatrix& train, Progress& progress) override;
  void scoreImpl(const History& history, std::span<float> out) const override;
  std::vector<Contribution> explainImpl(const History& history, Index item, size_t maxCount) const override;
  void loadImpl(Reader& in) override;

 private:
  explicit BiasedMf(const OptionReader& reader);
  int factors_;
  int epochs_;
  double lr_;
  double lrDecay_;
  double reg_;
  double regBias_;
  double initStd_;
  double foldInPrior_;
  uint64_t seed_;

  float mu_ = 0.0f;
  std::vector<float> itemBias_;
  std::vector<float> itemFactors_;  // numItems x factors_
  std::vector<float> userBias_;
  std::vector<float> userFactors_;
};

}  // namespace localrec

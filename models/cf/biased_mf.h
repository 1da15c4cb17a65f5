// Biased matrix factorization for explicit ratings (Funk 2006; Koren, Bell &
// Volinsky 2009), by default with the implicit-feedback term of SVD++ (Koren
// 2008): r(u, i) = mu + b_u + b_i + q_i . (p_u + z_u),
//   z_u = |N(u)|^-1/2 sum_{j in N(u)} y_j,  N(u) = the items u rated in training
// (implicit=false drops z_u: plain biased MF, exactly the model before SVD++).
//
// Fit: mu = mean training value (fixed); b_u, b_i = 0; p_u, q_i (and y_j) ~
// N(0, init_std^2) (Box-Muller over the seeded Rng, y drawn after p and q). SGD
// on the per-row objective
//   sum_(u,i) e^2 + reg (|p_u|^2 + |q_i|^2) + reg_bias (b_u^2 + b_i^2) [+ reg_implicit sum_{j in N(u)} |y_j|^2]
// with the learning rate multiplied by lr_decay after every epoch.
// - implicit=false: each epoch visits every training row once in a seeded
//   shuffled order (sgdStep, the update of Koren et al. eq. 5).
// - implicit=true: each epoch visits the users in a seeded shuffled order, each
//   user's rows in a shuffled order (implicitVisit): z_u is formed once per
//   visit, the rows take SGD steps on b_u, b_i, p_u, q_i with z_u fixed, and the
//   visit's summed y-gradient is applied once at its end (the usual efficient
//   SVD++ update: O(|N(u)| f) per visit for y instead of per row). A fit costs
//   about what a plain fit with the same factors and epochs does.
// Items without training rows keep q_i = y_i = 0 and b_i = 0.
//
// Defaults (factors 128, epochs 50, lr 0.01, lr_decay 0.98, reg 0.08, reg_bias
// 0.05, reg_implicit 0.02, init_std 0.02, fold_in_prior 1, implicit true) were
// chosen on validation splits carved from the training part of kfold:5 folds 0
// and 1 (scripts/validation-split.mjs --split kfold:5:F) of the embedded
// ml-latest-small (native driver): validation RMSE 0.8376 / 0.8534 (seeds 42,
// 1, 2: 0.8365-0.8378 / 0.8531-0.8539) against bias 0.8565 / 0.8695 and the
// earlier plain defaults (implicit=false, 64 factors, 100 epochs, init_std
// 0.05) 0.8454 / 0.8604. The surface is flat near the defaults: factors 64 or
// 200, epochs 70 or 100, reg 0.09-0.1, reg_bias 0.02, reg_implicit 0.01-0.1,
// lr_decay 0.97-0.99, fold_in_prior 0.3-3 each moved it by about 0.001 or less
// (the seed alone moves it by 0.001); lr 0.007 or 0.02, reg 0.05, init_std
// 0.01 or 0.1 and reg_implicit 0.3 and above were worse. See docs/benchmarks.md
// for the 5-fold test numbers.
//
// Score(history): the user is the history. z = |n|^-1/2 sum_h y_{i_h} over its
// n items (values or not), then (b_u, p_u) is folded in by ONE ridge solve
// against the fixed item parameters: with a_h = [1, q_{i_h}] and residual
// y_h = v_h - mu - b_{i_h} - q_{i_h} . z,
//   (sum_h a_h a_h^T + n diag(reg_bias, reg, ..., reg) + fold_in_prior I) x = sum_h y_h a_h,  x = [b_u, p_u]
// The n-scaled penalty is the per-row regularization SGD applies (each of the
// user's n rows regularizes p_u once per epoch), so with fold_in_prior = 0 the
// solve minimizes the training objective with the items fixed (z depends only
// on the items); for a training user it is the exact optimum SGD only
// approaches. fold_in_prior (default 1, tuned on a validation split) adds a
// length-independent penalty, which shrinks short histories a little more.
// Then scores = mu + b_u + b_i + Q (p_u + z) (one gemv). A history WITHOUT
// values carries no rating information: b_u = 0 and p_u = 0, so it scores
// mu + b_i + q_i . z (mu + b_i with implicit=false), and the empty history
// mu + b_i. Values must be finite.
//
// Explain: the fold-in is linear in the residuals, x = G^-1 sum_h y_h a_h, and
// z is a sum over the history, so the user part of item i's score splits
// exactly over the history positions:
//   b_u + q_i . (p_u + z) = sum_h [ y_h (a_i^T G^-1 a_h) + |n|^-1/2 q_i . y_{i_h} ]
// (as Hu, Koren & Volinsky 2008 explain ALS); strongest first. With no user
// terms at all the one reason is mu + b_i (source -1).
//
// The training users' (b_u, p_u) are kept after fit for inspection only and are
// not saved (scoring always folds in the history it is given).
// PARM layout 2: i32 -2 (the layout marker), i32 factors, f32 mu, floats item
// biases (n), floats item factors (n x factors, row-major), floats implicit
// factors y (n x factors with implicit=true, none with implicit=false).
// Layout 1 (before SVD++: i32 factors, f32 mu, floats biases, floats factors)
// still loads; with implicit=true its y is 0, which scores exactly as before.
#pragma once

#include <span>
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

  // The implicit sum z = |items|^-1/2 sum_{j in items} Y_j (0 for no items) into z[0..factors).
  static void implicitSum(std::span<const Index> items, const float* Y, int factors, float* z);
  // One SVD++ user visit (the update fit uses with implicit=true): z = implicitSum(implicitItems);
  // then for each rated item i in order, with e = r - (mu + bu + b_i + q_i . (p + z)):
  //   bu += lr (e - regBias bu), b_i += lr (e - regBias b_i), p += lr (e q_i - reg p),
  //   q_i += lr (e (p_old + z) - reg q_i), g += e q_i_old;
  // z stays fixed during the visit, and at its end every j in implicitItems takes
  //   y_j += lr (|N|^-1/2 g - regImplicit y_j)
  // (the summed gradient of the visit's squared errors, applied once). itemBias,
  // Q and Y are indexed by item (Q and Y row-major, factors wide). Returns the
  // sum of the visit's squared errors (before each step).
  static double implicitVisit(std::span<const Index> rated, std::span<const float> values,
                              std::span<const Index> implicitItems, float mu, float& bu, float* p, float* itemBias,
                              float* Q, float* Y, int factors, float lr, float reg, float regBias, float regImplicit,
                              std::vector<float>& scratch);

  int factors() const { return factors_; }
  bool implicit() const { return implicit_; }
  float globalMean() const { return mu_; }
  const std::vector<float>& itemBiases() const { return itemBias_; }
  const std::vector<float>& itemFactors() const { return itemFactors_; }
  // The implicit factors y_j (items x factors; empty with implicit=false).
  const std::vector<float>& implicitFactors() const { return implicitFactors_; }
  const std::vector<float>& userBiases() const { return userBias_; }
  const std::vector<float>& userFactors() const { return userFactors_; }
  // The folded-in user terms of a history: bu and p (factors long), and with
  // implicit=true its implicit sum z (factors long; empty otherwise or for an
  // empty history). The history's scores are mu + bu + b_i + q_i . (p + z).
  void foldIn(const History& history, float& bu, std::vector<float>& p, std::vector<float>& z) const;

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
  bool implicit_;
  double regImplicit_;
  // The first i32 of PARM layout 2 (layout 1 began with the positive factor count).
  static constexpr int32_t kLayoutMarker = -2;

  float mu_ = 0.0f;
  std::vector<float> itemBias_;
  std::vector<float> itemFactors_;  // numItems x factors_
  std::vector<float> implicitFactors_;  // numItems x factors_, or empty (implicit=false)
  std::vector<float> userBias_;
  std::vector<float> userFactors_;
};

}  // namespace localrec

// Biased matrix factorization for explicit ratings (Funk 2006; Koren, Bell &
// Volinsky 2009), by default with the implicit-feedback term of SVD++ and the
// neighbourhood term of Koren 2008's integrated model:
//   r(u, i) = mu + b_u + b_i + q_i . (p_u + z_u) + nb_u(i),
//   z_u = |N(u)|^-1/2 sum_{j in N(u)} y_j,  N(u) = the items u rated in training,
//   nb_u(i) = |R^k(i;u)|^-1/2 sum_{j in R^k(i;u)} [(r_uj - b_uj) w_ij + c_ij],
// R^k(i;u) = the items u rated among i's fixed list N^k(i) of k = `neighbors`
// items (Koren's N^k(i;u) of implicit items is the same set here: the implicit
// items are the rated ones, so the two sums share one normalization).
// (implicit=false drops z_u; neighbors=0 drops nb_u; implicit=false with
// neighbors=0 is plain biased MF, exactly the model before SVD++.)
// The neighbourhood term is relative to a FIXED baseline b_uj = mu + bb_u + bb_j:
// the bias model's fit on the training rows (reg_item = reg_user = 3, 10
// alternating passes, mu the same mean), so that it depends only on the
// history: bb_u = sum_h (v_h - mu - bb_{i_h}) / (3 + n) (for a training user
// exactly the baseline's last pass). The lists: for each item i the k items j
// with the largest POSITIVE shrunk Pearson correlation of the baseline
// residuals d = r - b over their n_ij common raters in training,
//   s_ij = n_ij / (n_ij + neighbor_shrink) * sum d_ui d_uj / sqrt(sum d_ui^2 sum d_uj^2)
// (ties: smaller j first; fewer than k where fewer qualify). w and c start at 0.
//
// Fit: mu = mean training value (fixed); b_u, b_i = 0; p_u, q_i (and y_j) ~
// N(0, init_std^2) (Box-Muller over the seeded Rng, y drawn after p and q). SGD
// on the per-row objective
//   sum_(u,i) e^2 + reg (|p_u|^2 + |q_i|^2) + reg_bias (b_u^2 + b_i^2) [+ reg_implicit sum_{j in N(u)} |y_j|^2]
//     [+ reg_neighbor sum_{j in R^k(i;u)} (w_ij^2 + c_ij^2)]
// with the learning rates (lr, and lr_neighbor for w and c) multiplied by
// lr_decay after every epoch. If an epoch's errors (or, at the end, any
// parameter) are not finite the fit stops with InvalidArgument naming the epoch
// and lr (and lr_neighbor): too large a learning rate diverges.
// Progress: with neighbors > 0 the baseline, lists and active entries report
// "neighbors" in [0, 0.1) (every ~2^20 inner steps, honouring a cancel), the
// epochs "sgd" in [0.1, 1]; with neighbors = 0 the epochs span [0, 1].
// - implicit=false, neighbors=0: each epoch visits every training row once in a
//   seeded shuffled order (sgdStep, the update of Koren et al. eq. 5).
// - otherwise each epoch visits the users in a seeded shuffled order, each
//   user's rows in a shuffled order (implicitVisit): z_u is formed once per
//   visit, the rows take SGD steps on b_u, b_i, p_u, q_i (and w_ij, c_ij of the
//   row's R^k(i;u), precomputed once per training row) with z_u fixed, and the
//   visit's summed y-gradient is applied once at its end (the usual efficient
//   SVD++ update: O(|N(u)| f) per visit for y instead of per row).
// Items without training rows keep q_i = y_i = 0, b_i = 0 and empty lists.
//
// Defaults (factors 128, epochs 50, lr 0.01, lr_decay 0.98, reg 0.06, reg_bias
// 0.05, reg_implicit 0.02, init_std 0.02, fold_in_prior 1, implicit true,
// neighbors 30, neighbor_shrink 300, lr_neighbor 0.002, reg_neighbor 0.015)
// were chosen on validation splits carved from the training part of kfold:5
// folds 0 and 1 (scripts/validation-split.mjs --split kfold:5:F) of the
// embedded ml-latest-small (native driver), validation RMSE fold 0 / fold 1:
// - these defaults: 0.8323 / 0.8489 (seeds 42, 1, 2: 0.8316-0.8329 / 0.8485-0.8492);
// - SVD++ alone (neighbors=0, reg 0.08, the previous defaults): 0.8376 / 0.8534
//   (seeds: 0.8365-0.8378 / 0.8531-0.8539); neighbors=0 with reg 0.06: 0.8370 / 0.8524;
// - bias 0.8565 / 0.8695; plain MF (implicit=false, neighbors=0, 64 factors, 100
//   epochs, init_std 0.05) 0.8454 / 0.8604.
// With the neighbourhood term (at reg 0.08): neighbors 20-50 with lr_neighbor
// 0.002-0.003 all gave 0.8336-0.8347 / 0.8505-0.8518, neighbors 100 0.8345-0.8358
// / 0.8516 (and fits twice as long); lr_neighbor 0.001 0.8350 / 0.8513, 0.005-0.01
// 0.8361-0.8400 / 0.8537-0.8573 (w overfits); reg_neighbor 0.05-0.1 +-0.0005,
// 0.3 worse; neighbor_shrink 25 / 100 / 300: 0.8339 / 0.8336 / 0.8334. The term
// then prefers less factor regularization: reg 0.06 0.8326 / 0.8492 (0.05:
// 0.8328 / 0.8492, 0.1: 0.8352 / 0.8524); epochs 70 and reg_implicit 0.05 were no
// better. SVD++ alone (from the earlier tuning): factors 64 or 200, epochs 70 or
// 100, reg_bias 0.02, reg_implicit 0.01-0.1, lr_decay 0.97-0.99, fold_in_prior
// 0.3-3 each moved it by about 0.001 or less; lr 0.007 or 0.02, init_std 0.01 or
// 0.1 and reg_implicit 0.3 and above were worse. See docs/benchmarks.md for the
// 5-fold test numbers.
// Ranking by predicted rating is poor at top-N (0.32x popularity's Recall@20 on
// ratio:0.8). Training on imputed missing ratings (Steck 2010) was prototyped and
// not merged: no weight served both tasks (docs/benchmarks.md, "Can biased_mf rank?").
//
// Score(history): the user is the history. z = |n|^-1/2 sum_h y_{i_h} over its
// n items (values or not) and every item's nb(i) (with bb_u from the history
// as above; R^k(i) = the history's items in i's list, a repeated item counted
// once with its last value) depend only on the history and the item
// parameters; then (b_u, p_u) is folded in by ONE ridge solve against the fixed
// item parameters: with a_h = [1, q_{i_h}] and residual
// y_h = v_h - mu - b_{i_h} - q_{i_h} . z - nb(i_h),
//   (sum_h a_h a_h^T + n diag(reg_bias, reg, ..., reg) + fold_in_prior I) x = sum_h y_h a_h,  x = [b_u, p_u]
// The n-scaled penalty is the per-row regularization SGD applies (each of the
// user's n rows regularizes p_u once per epoch), so with fold_in_prior = 0 the
// solve minimizes the training objective with the items fixed (z and nb depend
// only on the items and the history); for a training user it is the exact
// optimum SGD only approaches. fold_in_prior (default 1, tuned on a validation split) adds a
// length-independent penalty, which shrinks short histories a little more.
// Then scores = mu + b_u + b_i + Q (p_u + z) + nb (one gemv; nb through reverse
// lists in O(sum of the history items' in-degrees)). A history WITHOUT values
// carries no rating information: b_u = 0, p_u = 0 and the w part of nb is 0,
// so it scores mu + b_i + q_i . z + |R^k(i)|^-1/2 sum c_ij (mu + b_i + that c
// part with implicit=false), and the empty history mu + b_i. Values must be finite.
//
// Explain: the fold-in is linear in the residuals, x = G^-1 sum_h y_h a_h, and
// z is a sum over the history, so the user part of item i's score splits
// exactly over the history positions:
//   b_u + q_i . (p_u + z) = sum_h [ y_h (a_i^T G^-1 a_h) + |n|^-1/2 q_i . y_{i_h} ]
// (as Hu, Koren & Volinsky 2008 explain ALS), and so does nb(i): with
// d_h = v_h - mu - bb_{i_h}, bb_u = sum_h d_h / (3 + n) and c1 = |R^k(i)|^-1/2,
//   nb(i) = sum_{j in R^k(i)} c1 (d_{h(j)} w_ij + c_ij) - sum_h c1 (sum_{j in R^k(i)} w_ij) d_h / (3 + n),
// h(j) = j's last position; strongest first. With no user terms at all (every
// share exactly 0) the one reason is mu + b_i (source -1).
//
// The training users' (b_u, p_u) are kept after fit for inspection only and are
// not saved (scoring always folds in the history it is given).
// PARM layout 2: i32 -2 (the layout marker), i32 factors, f32 mu, floats item
// biases (n), floats item factors (n x factors, row-major), floats implicit
// factors y (n x factors with implicit=true, none with implicit=false).
// Layout 1 (before SVD++: i32 factors, f32 mu, floats biases, floats factors)
// still loads; with implicit=true its y is 0, which scores exactly as before.
// PARM layout 3 (the neighbourhood term; written when the model has lists,
// neighbors > 0): i32 -3, the layout-2 fields, floats baseline item biases bb
// (n), ints list offsets (n + 1), ints list items, floats w, floats c (one per
// list entry). neighbors=0 writes layout 2 as before; a layout 1 or 2 file
// loads with no lists and scores exactly as before whatever `neighbors` says.
#pragma once

#include <span>
#include <vector>

#include "core/recommender.h"

namespace localrec {

// The neighbourhood term of one user visit (Koren 2008's integrated model). The
// fixed lists make each training row's active set fixed, so fit precomputes it:
// row r (a position in the by-user CSR) of item i by user u has the entries
// [act_ptr[r], act_ptr[r+1]): the positions m (into w and c) of i's list whose
// item j the user rated, with the user's baseline residual d_uj = r_uj - b_uj.
struct NeighborVisit {
  const int32_t* rows;    // per rated item of the visit (in its order): its training row r
  const int32_t* actPtr;  // per training row: its entries
  const int32_t* actM;    // per entry: the list position m
  const float* actD;      // per entry: d_uj
  float* w;
  float* c;
  float lr;
  float reg;
};

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
                              std::vector<float>& scratch, const NeighborVisit* neighbors = nullptr);

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

  // The neighbourhood term (neighbors > 0): the fixed lists (CSR by item), their
  // weights w_ij and c_ij, and the baseline predictor b_uj = mu + bb_u + bb_j
  // they are relative to (all empty with neighbors = 0 or a layout 1/2 file).
  int neighbors() const { return neighbors_; }
  const std::vector<int32_t>& neighborPtr() const { return nbrPtr_; }
  const std::vector<Index>& neighborItems() const { return nbrIdx_; }
  const std::vector<float>& neighborWeights() const { return nbrW_; }
  const std::vector<float>& neighborImplicitWeights() const { return nbrC_; }
  const std::vector<float>& baselineItemBiases() const { return baseItemBias_; }
  // The baseline user bias of a history: sum_h (v_h - mu - bb_{i_h}) / (baseline_reg + n) (0 without values).
  float baselineUserBias(const History& history) const;
  // Every item's neighbourhood term for a history into out (numItems long; all 0
  // without lists): |N^k(i)|^-1/2 sum_{j in N^k(i)} [(v_j - b_uj) w_ij + c_ij],
  // N^k(i) = the history's items in i's list (the w part only with values; a
  // repeated item counts once, with its last value).
  void neighborScores(const History& history, std::vector<float>& out) const;
  // The top-k lists of a training matrix as fit builds them: for every item i,
  // the items j != i co-rated with it whose shrunk Pearson correlation of the
  // baseline residuals d = r - (mu + bb_u + bb_j) over the n_ij common users,
  //   s_ij = n_ij / (n_ij + shrink) * sum d_ui d_uj / sqrt(sum d_ui^2 sum d_uj^2),
  // is positive, the k largest (ties: smaller j first), in that order. Reports
  // "neighbors" progress in [fractionBase, fractionBase + fractionSpan] every ~2^20
  // inner steps (throws Cancelled when asked to stop); InvalidArgument if the
  // lists would hold more than 2^31 - 1 entries.
  static void neighborLists(const InteractionMatrix& train, float mu, const std::vector<float>& baseItemBias,
                            const std::vector<float>& baseUserBias, int k, double shrink,
                            std::vector<int32_t>& ptr, std::vector<Index>& idx, Progress& progress = Progress::none(),
                            double fractionBase = 0.0, double fractionSpan = 0.0);
  // The number of active entries of every training row (see NeighborVisit) with
  // the lists (ptr, idx): sum over the rows (u, i) of |{j in i's list : u rated j}|
  // (64-bit: fit refuses more than 2^31 - 1). Progress as neighborLists.
  static int64_t activeEntryCount(const InteractionMatrix& train, const std::vector<int32_t>& ptr,
                                  const std::vector<Index>& idx, Progress& progress = Progress::none(),
                                  double fractionBase = 0.0, double fractionSpan = 0.0);
  // The baseline (the bias model's fit with reg_item = reg_user = 3, 10 passes).
  static constexpr float kBaselineReg = 3.0f;
  static constexpr int kBaselinePasses = 10;

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
  int neighbors_;
  double shrink_;
  double lrNeighbor_;
  double regNeighbor_;
  // The first i32 of PARM layout 2 (layout 1 began with the positive factor count).
  static constexpr int32_t kLayoutMarker = -2;
  // The first i32 of PARM layout 3 (layout 2 plus the neighbourhood term).
  static constexpr int32_t kLayout3Marker = -3;
  void foldInWith(const History& history, const std::vector<float>& nb, float& bu, std::vector<float>& p,
                  std::vector<float>& z) const;

  float mu_ = 0.0f;
  std::vector<float> itemBias_;
  std::vector<float> itemFactors_;  // numItems x factors_
  std::vector<float> implicitFactors_;  // numItems x factors_, or empty (implicit=false)
  std::vector<float> userBias_;
  std::vector<float> userFactors_;
  std::vector<int32_t> nbrPtr_;  // numItems + 1, or empty (no neighbourhood term)
  std::vector<Index> nbrIdx_;
  std::vector<float> nbrW_, nbrC_;
  std::vector<float> baseItemBias_;
  // Derived (not saved): the reverse lists, for scoring: the list positions m
  // holding item j are revM_[revPtr_[j] .. revPtr_[j+1]); nbrItemOf_[m] = the list's item.
  std::vector<int32_t> revPtr_, revM_;
  std::vector<Index> nbrItemOf_;
  void buildReverseLists();
};

}  // namespace localrec

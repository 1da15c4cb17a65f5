#include "models/cf/biased_mf.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "io/serialize.h"
#include "linalg/kernels.h"
#include "models/cf/bias_baseline.h"

namespace localrec {

namespace {
// Steps between progress reports: a few ms of work, so a cancel lands quickly.
constexpr size_t kReportEvery = 1 << 14;
// Inner steps between progress reports of the neighbour phase: ~25 ms natively
// on ml-latest-small (the list step's scattered accumulator access dominates).
constexpr size_t kNeighborReportEvery = size_t{1} << 20;
// With neighbors > 0 the neighbour phase (baseline, lists, active entries) reports
// progress in [0, kNeighborShare) and the SGD epochs in [kNeighborShare, 1].
constexpr double kNeighborShare = 0.1;
// Within the neighbour phase: the baseline passes, then the lists, then the active entries.
constexpr double kBaselineEnd = 0.1, kListsEnd = 0.8;

// Reports `stage` progress base + span * done / total about every kNeighborReportEvery
// steps of work (and so honours a cancel that often).
class WorkTicker {
 public:
  WorkTicker(Progress& progress, double base, double span, double total, const char* stage)
      : progress_(progress), base_(base), span_(span), total_(total > 0 ? total : 1), stage_(stage) {}
  // `steps` of the `total` the fraction counts.
  void add(size_t steps) {
    done_ += steps;
    extra(steps);
  }
  // `steps` of work outside the total: they only bring the next report closer.
  void extra(size_t steps) {
    work_ += steps;
    if (work_ < next_) return;
    progress_.report(base_ + span_ * std::min(1.0, static_cast<double>(done_) / total_), stage_);
    next_ = work_ + kNeighborReportEvery;
  }

 private:
  Progress& progress_;
  double base_, span_, total_;
  const char* stage_;
  size_t done_ = 0, work_ = 0, next_ = kNeighborReportEvery;
};

constexpr int64_t kInt32Max = 2147483647;
}  // namespace

const std::vector<OptionSpec>& BiasedMf::optionSpecs() {
  static const std::vector<OptionSpec> specs = {
      {"factors", "int", "128", 1, 1024, {}, "latent dimensions"},
      {"epochs", "int", "50", 1, 10000, {}, "passes over the training rows"},
      {"lr", "float", "0.01", 1e-6, 1, {}, "initial SGD learning rate"},
      {"lr_decay", "float", "0.98", 0.01, 1, {}, "learning rate multiplier after each epoch"},
      {"reg", "float", "0.06", 1e-6, 100, {}, "L2 regularization of the factors (per training row)"},
      {"reg_bias", "float", "0.05", 1e-6, 100, {}, "L2 regularization of the biases (per training row)"},
      {"init_std", "float", "0.02", 0, 10, {}, "standard deviation of the initial factors"},
      {"fold_in_prior", "float", "1", 0, 1e6, {},
       "extra ridge penalty on a folded-in user's (b_u, p_u), independent of the history length; 0 = exactly the training objective"},
      {"seed", "int", "42", 0, 2147483647, {}, "seed of the initialization and the row order"},
      {"implicit", "bool", "true", 0, 0, {},
       "SVD++: add the implicit-feedback term |N(u)|^-1/2 sum_{j in N(u)} y_j to p_u (Koren 2008)"},
      {"reg_implicit", "float", "0.02", 1e-6, 100, {},
       "L2 regularization of the implicit factors y_j (per training row)"},
      {"neighbors", "int", "30", 0, 2000, {},
       "integrated model (Koren 2008): each item's k most similar items (shrunk Pearson on training co-ratings) "
       "add a learned neighbourhood term; 0 = off"},
      {"neighbor_shrink", "float", "300", 0, 1e6, {},
       "shrinkage n_ij / (n_ij + shrink) of the similarity that picks the neighbour lists"},
      {"lr_neighbor", "float", "0.002", 1e-6, 1, {}, "initial SGD learning rate of the neighbour weights w_ij, c_ij"},
      {"reg_neighbor", "float", "0.015", 1e-6, 100, {},
       "L2 regularization of the neighbour weights w_ij, c_ij (per training row)"},
  };
  return specs;
}

BiasedMf::BiasedMf(const OptionMap& options) : BiasedMf(OptionReader("biased_mf", optionSpecs(), options)) {}

BiasedMf::BiasedMf(const OptionReader& reader)
    : Recommender(reader.resolved()),
      factors_(reader.getInt("factors")),
      epochs_(reader.getInt("epochs")),
      lr_(reader.getFloat("lr")),
      lrDecay_(reader.getFloat("lr_decay")),
      reg_(reader.getFloat("reg")),
      regBias_(reader.getFloat("reg_bias")),
      initStd_(reader.getFloat("init_std")),
      foldInPrior_(reader.getFloat("fold_in_prior")),
      seed_(static_cast<uint64_t>(reader.getInt("seed"))),
      implicit_(reader.getBool("implicit")),
      regImplicit_(reader.getFloat("reg_implicit")),
      neighbors_(reader.getInt("neighbors")),
      shrink_(reader.getFloat("neighbor_shrink")),
      lrNeighbor_(reader.getFloat("lr_neighbor")),
      regNeighbor_(reader.getFloat("reg_neighbor")) {
  reader.finish();
}

float BiasedMf::sgdStep(float r, float mu, float& bu, float& bi, float* p, float* q, int factors, float lr,
                        float reg, float regBias) {
  const float e = r - (mu + bu + bi + linalg::dot(p, q, static_cast<size_t>(factors)));
  bu += lr * (e - regBias * bu);
  bi += lr * (e - regBias * bi);
  for (int f = 0; f < factors; ++f) {
    const float pf = p[f];
    p[f] += lr * (e * q[f] - reg * pf);
    q[f] += lr * (e * pf - reg * q[f]);
  }
  return e;
}

void BiasedMf::implicitSum(std::span<const Index> items, const float* Y, int factors, float* z) {
  const size_t f = static_cast<size_t>(factors);
  std::fill(z, z + f, 0.0f);
  if (items.empty()) return;
  for (Index j : items) linalg::axpy(1.0f, &Y[static_cast<size_t>(j) * f], z, f);
  const float c = 1.0f / std::sqrt(static_cast<float>(items.size()));
  for (size_t k = 0; k < f; ++k) z[k] *= c;
}

double BiasedMf::implicitVisit(std::span<const Index> rated, std::span<const float> values,
                               std::span<const Index> implicitItems, float mu, float& bu, float* p, float* itemBias,
                               float* Q, float* Y, int factors, float lr, float reg, float regBias, float regImplicit,
                               std::vector<float>& scratch, const NeighborVisit* nb) {
  const size_t f = static_cast<size_t>(factors);
  scratch.resize(3 * f);
  float* z = scratch.data();
  float* pz = z + f;
  float* gz = pz + f;
  implicitSum(implicitItems, Y, factors, z);
  std::fill(gz, gz + f, 0.0f);
  double squared = 0;
  for (size_t k = 0; k < rated.size(); ++k) {
    const Index i = rated[k];
    float* q = &Q[static_cast<size_t>(i) * f];
    for (size_t d = 0; d < f; ++d) pz[d] = p[d] + z[d];
    // The neighbourhood term |R^k(i;u)|^-1/2 sum_{j in R^k(i;u)} (d_uj w_ij + c_ij).
    float term = 0.0f, scale = 0.0f;
    int32_t begin = 0, end = 0;
    if (nb != nullptr) {
      begin = nb->actPtr[nb->rows[k]];
      end = nb->actPtr[nb->rows[k] + 1];
      for (int32_t a = begin; a < end; ++a) term += nb->actD[a] * nb->w[nb->actM[a]] + nb->c[nb->actM[a]];
      if (end > begin) scale = 1.0f / std::sqrt(static_cast<float>(end - begin));
      term *= scale;
    }
    const float e = values[k] - (mu + bu + itemBias[i] + linalg::dot(q, pz, f) + term);
    squared += static_cast<double>(e) * e;
    if (nb != nullptr) {
      const float g = nb->lr * e * scale, keep = std::max(0.0f, 1.0f - nb->lr * nb->reg);
      for (int32_t a = begin; a < end; ++a) {
        const int32_t m = nb->actM[a];
        nb->w[m] = keep * nb->w[m] + g * nb->actD[a];
        nb->c[m] = keep * nb->c[m] + g;
      }
    }
    bu += lr * (e - regBias * bu);
    itemBias[i] += lr * (e - regBias * itemBias[i]);
    for (size_t d = 0; d < f; ++d) {
      const float qd = q[d];
      p[d] += lr * (e * qd - reg * p[d]);
      q[d] += lr * (e * pz[d] - reg * qd);
      gz[d] += e * qd;
    }
  }
  if (implicitItems.empty()) return squared;
  // d(e^2/2)/dy_j = -e |N|^-1/2 q_i for every j in N(u): the visit's summed
  // gradient, applied once; the L2 term shrinks y_j once per rated row of the
  // visit, as that many single-row steps would: (1 - lr regImplicit)^rows.
  const float c = 1.0f / std::sqrt(static_cast<float>(implicitItems.size()));
  const float keep = std::pow(std::max(0.0f, 1.0f - lr * regImplicit), static_cast<float>(rated.size()));
  for (size_t d = 0; d < f; ++d) gz[d] *= lr * c;
  for (Index j : implicitItems) {
    float* y = &Y[static_cast<size_t>(j) * f];
    for (size_t d = 0; d < f; ++d) y[d] = keep * y[d] + gz[d];
  }
  return squared;
}

void BiasedMf::fitImpl(const InteractionMatrix& train, Progress& progress) {
  mf::checkFiniteValues(kind(), train);
  progress.report(0.0, "init");
  const Csr& byUser = train.byUser();
  const size_t nnz = train.nnz();
  const size_t f = static_cast<size_t>(factors_);
  const Index nUsers = train.numUsers();
  const Index nItems = train.numItems();

  double sum = 0;
  for (float v : byUser.values) sum += v;
  const float mu = static_cast<float>(sum / static_cast<double>(nnz));

  Rng rng(seed_);
  std::vector<float> bu(static_cast<size_t>(nUsers), 0.0f), bi(static_cast<size_t>(nItems), 0.0f);
  std::vector<float> P(static_cast<size_t>(nUsers) * f), Q(static_cast<size_t>(nItems) * f), Y;
  // The draws take about 0.1 s in wasm on ml-latest-small and grow with the
  // catalog, so they report (and honour a cancel) every kReportEvery draws.
  auto drawNormal = [&](std::vector<float>& v) {
    for (size_t k = 0; k < v.size(); ++k) {
      if (k % kReportEvery == 0) progress.report(0.0, "init");
      v[k] = static_cast<float>(initStd_) * static_cast<float>(rng.normal());
    }
  };
  drawNormal(P);
  drawNormal(Q);
  if (implicit_) {
    Y.resize(static_cast<size_t>(nItems) * f);
    drawNormal(Y);
  }

  // The neighbourhood term: the baseline, the fixed lists, w = c = 0.
  std::vector<int32_t> nbrPtr;
  std::vector<Index> nbrIdx;
  std::vector<float> nbrW, nbrC, baseItem, resid, actD;
  std::vector<int32_t> actPtr, actM;
  std::vector<uint8_t> ratedMark;
  std::vector<float> baseUser;
  if (neighbors_ > 0) {
    // Progress in [0, kNeighborShare): the baseline passes, the lists, the active entries.
    progress.report(0.0, "neighbors");
    const Csr& byItem = train.byItem();
    std::vector<double> bbu(static_cast<size_t>(nUsers), 0.0), bbi(static_cast<size_t>(nItems), 0.0);
    WorkTicker baseTicker(progress, 0.0, kNeighborShare * kBaselineEnd,
                          2.0 * kBaselinePasses * static_cast<double>(nnz), "neighbors");
    for (int it = 0; it < kBaselinePasses; ++it) {
      for (Index i = 0; i < nItems; ++i) {
        const auto users = byItem.rowIndices(i);
        const auto vals = byItem.rowValues(i);
        double t = 0;
        for (size_t k = 0; k < users.size(); ++k) t += vals[k] - mu - bbu[users[k]];
        bbi[i] = users.empty() ? 0.0 : t / (kBaselineReg + static_cast<double>(users.size()));
        baseTicker.add(users.size() + 1);
      }
      for (Index u = 0; u < nUsers; ++u) {
        const auto items = byUser.rowIndices(u);
        const auto vals = byUser.rowValues(u);
        double t = 0;
        // With the float item biases a fold-in will use (the last pass then matches it).
        for (size_t k = 0; k < items.size(); ++k) t += vals[k] - mu - static_cast<float>(bbi[items[k]]);
        bbu[u] = items.empty() ? 0.0 : t / (kBaselineReg + static_cast<double>(items.size()));
        baseTicker.add(items.size() + 1);
      }
    }
    baseItem.assign(bbi.begin(), bbi.end());
    baseUser.assign(bbu.begin(), bbu.end());
    neighborLists(train, mu, baseItem, baseUser, neighbors_, shrink_, nbrPtr, nbrIdx, progress,
                  kNeighborShare * kBaselineEnd, kNeighborShare * (kListsEnd - kBaselineEnd));
    nbrW.assign(nbrIdx.size(), 0.0f);
    nbrC.assign(nbrIdx.size(), 0.0f);
    // Every training row's active entries (see NeighborVisit), once: counted first
    // (their offsets are int32), then stored.
    const double activeSpan = kNeighborShare * (1.0 - kListsEnd) / 2;
    const int64_t active =
        activeEntryCount(train, nbrPtr, nbrIdx, progress, kNeighborShare * kListsEnd, activeSpan);
    if (active > kInt32Max)
      fail<InvalidArgument>("biased_mf.fit: the neighbourhood term needs ", active,
                            " (training row, rated neighbour) entries, more than 2^31 - 1; lower neighbors (now ",
                            neighbors_, ")");
    actM.reserve(static_cast<size_t>(active));
    actD.reserve(static_cast<size_t>(active));
    actPtr.reserve(nnz + 1);
    WorkTicker actTicker(progress, kNeighborShare * kListsEnd + activeSpan, activeSpan,
                         static_cast<double>(nnz) + static_cast<double>(active), "neighbors");
    resid.assign(static_cast<size_t>(nItems), 0.0f);
    ratedMark.assign(static_cast<size_t>(nItems), 0);
    actPtr.assign(1, 0);
    for (Index u = 0; u < nUsers; ++u) {
      const auto items = byUser.rowIndices(u);
      const auto vals = byUser.rowValues(u);
      for (size_t k = 0; k < items.size(); ++k) {
        ratedMark[items[k]] = 1;
        resid[items[k]] = vals[k] - mu - baseUser[u] - baseItem[items[k]];
      }
      for (Index i : items) {
        for (int32_t m = nbrPtr[i]; m < nbrPtr[i + 1]; ++m)
          if (ratedMark[nbrIdx[m]]) {
            actM.push_back(m);
            actD.push_back(resid[nbrIdx[m]]);
          }
        actPtr.push_back(static_cast<int32_t>(actM.size()));
        actTicker.add(static_cast<size_t>(nbrPtr[i + 1] - nbrPtr[i]) + 1);
      }
      for (Index j : items) ratedMark[j] = 0;
    }
  }
  // The SGD epochs report progress in [sgdBase, 1].
  const double sgdBase = neighbors_ > 0 ? kNeighborShare : 0.0;
  const double sgdSpan = 1.0 - sgdBase;
  auto diverged = [&](int epoch) {
    if (neighbors_ > 0)
      fail<InvalidArgument>("biased_mf.fit: SGD diverged in epoch ", epoch + 1, " of ", epochs_,
                            " (non-finite errors or parameters); lower lr (now ", lr_, ") or lr_neighbor (now ",
                            lrNeighbor_, ")");
    fail<InvalidArgument>("biased_mf.fit: SGD diverged in epoch ", epoch + 1, " of ", epochs_,
                          " (non-finite errors or parameters); lower lr (now ", lr_, ")");
  };

  float lr = static_cast<float>(lr_);
  const float reg = static_cast<float>(reg_), regBias = static_cast<float>(regBias_);
  if (!implicit_ && neighbors_ == 0) {
    // Row positions in the by-user CSR, with their user, shuffled every epoch.
    std::vector<Index> rowUser(nnz);
    for (Index u = 0; u < nUsers; ++u)
      for (int32_t k = byUser.indptr[u]; k < byUser.indptr[u + 1]; ++k) rowUser[k] = u;
    std::vector<uint32_t> order(nnz);
    for (size_t k = 0; k < nnz; ++k) order[k] = static_cast<uint32_t>(k);
    for (int epoch = 0; epoch < epochs_; ++epoch) {
      rng.shuffle(order.begin(), order.end());
      double squared = 0;
      for (size_t s = 0; s < nnz; ++s) {
        if (s % kReportEvery == 0)
          progress.report(sgdBase + sgdSpan * (epoch + static_cast<double>(s) / nnz) / epochs_, "sgd");
        const uint32_t k = order[s];
        const Index u = rowUser[k];
        const Index i = byUser.indices[k];
        const float e = sgdStep(byUser.values[k], mu, bu[u], bi[i], &P[u * f], &Q[i * f], factors_, lr, reg, regBias);
        squared += static_cast<double>(e) * e;
      }
      if (!std::isfinite(squared)) diverged(epoch);
      lr *= static_cast<float>(lrDecay_);
    }
  } else {
    // SVD++: users are visited in a seeded shuffled order, each user's rows in a
    // shuffled order; the implicit sum is formed once per visit and its gradient
    // applied once at the end of it (implicitVisit).
    std::vector<Index> users;
    for (Index u = 0; u < nUsers; ++u)
      if (byUser.rowSize(u) > 0) users.push_back(u);
    std::vector<Index> rated;
    std::vector<int32_t> rows;
    std::vector<float> values, scratch;
    const float regImplicit = static_cast<float>(regImplicit_);
    float lrN = static_cast<float>(lrNeighbor_);
    for (int epoch = 0; epoch < epochs_; ++epoch) {
      rng.shuffle(users.begin(), users.end());
      size_t done = 0, nextReport = 0;
      double squared = 0;
      for (Index u : users) {
        if (done >= nextReport) {
          progress.report(sgdBase + sgdSpan * (epoch + static_cast<double>(done) / nnz) / epochs_, "sgd");
          nextReport = done + kReportEvery;
        }
        const auto items = byUser.rowIndices(u);
        const auto vals = byUser.rowValues(u);
        rated.assign(items.begin(), items.end());
        values.assign(vals.begin(), vals.end());
        rows.resize(items.size());
        for (size_t k = 0; k < items.size(); ++k) rows[k] = byUser.indptr[u] + static_cast<int32_t>(k);
        // One shuffle of the (item, value, row) triples through a shared permutation.
        for (size_t k = rated.size(); k > 1; --k) {
          const size_t j = rng.below(static_cast<uint32_t>(k));
          std::swap(rated[k - 1], rated[j]);
          std::swap(values[k - 1], values[j]);
          std::swap(rows[k - 1], rows[j]);
        }
        // Without the implicit term (implicit=false with neighbours) the visit has no implicit items.
        const std::span<const Index> implicitItems = implicit_ ? items : std::span<const Index>();
        if (neighbors_ > 0) {
          const NeighborVisit nb{rows.data(), actPtr.data(), actM.data(), actD.data(),
                                 nbrW.data(), nbrC.data(), lrN, static_cast<float>(regNeighbor_)};
          squared += implicitVisit(rated, values, implicitItems, mu, bu[u], &P[u * f], bi.data(), Q.data(), Y.data(),
                                   factors_, lr, reg, regBias, regImplicit, scratch, &nb);
        } else {
          squared += implicitVisit(rated, values, implicitItems, mu, bu[u], &P[u * f], bi.data(), Q.data(), Y.data(),
                                   factors_, lr, reg, regBias, regImplicit, scratch);
        }
        done += items.size();
      }
      if (!std::isfinite(squared)) diverged(epoch);
      lr *= static_cast<float>(lrDecay_);
      lrN *= static_cast<float>(lrDecay_);
    }
  }
  // Items nobody rated were never updated: their random factors would only add noise.
  for (Index i = 0; i < nItems; ++i)
    if (train.byItem().rowSize(i) == 0) {
      std::fill(&Q[i * f], &Q[i * f] + f, 0.0f);
      if (implicit_) std::fill(&Y[i * f], &Y[i * f] + f, 0.0f);
    }
  // A divergence late in the last epoch may not have reached an error yet.
  for (const auto* v : {&bu, &bi, &P, &Q, &Y, &nbrW, &nbrC})
    for (float x : *v)
      if (!std::isfinite(x)) diverged(epochs_ - 1);
  progress.report(1.0, "done");

  mu_ = mu;
  itemBias_ = std::move(bi);
  itemFactors_ = std::move(Q);
  implicitFactors_ = std::move(Y);
  userBias_ = std::move(bu);
  userFactors_ = std::move(P);
  nbrPtr_ = std::move(nbrPtr);
  nbrIdx_ = std::move(nbrIdx);
  nbrW_ = std::move(nbrW);
  nbrC_ = std::move(nbrC);
  baseItemBias_ = std::move(baseItem);
  buildReverseLists();
}

void BiasedMf::neighborLists(const InteractionMatrix& train, float mu, const std::vector<float>& baseItemBias,
                             const std::vector<float>& baseUserBias, int k, double shrink, std::vector<int32_t>& ptr,
                             std::vector<Index>& idx, Progress& progress, double fractionBase, double fractionSpan) {
  const Csr& byUser = train.byUser();
  const Csr& byItem = train.byItem();
  const Index nItems = train.numItems();
  ptr.assign(1, 0);
  idx.clear();
  // The work: every user's row once per item they rated, sum_u |items(u)|^2 steps.
  double total = 0;
  for (Index u = 0; u < train.numUsers(); ++u) total += static_cast<double>(byUser.rowSize(u)) * byUser.rowSize(u);
  WorkTicker ticker(progress, fractionBase, fractionSpan, total, "neighbors");
  struct Acc {
    double num = 0, si = 0, sj = 0;
    int64_t count = 0;
  };
  std::vector<Acc> acc(static_cast<size_t>(nItems));
  std::vector<Index> touched;
  std::vector<std::pair<double, Index>> cand;
  for (Index i = 0; i < nItems; ++i) {
    touched.clear();
    const auto users = byItem.rowIndices(i);
    const auto ivals = byItem.rowValues(i);
    for (size_t a = 0; a < users.size(); ++a) {
      const Index u = users[a];
      const double du = static_cast<double>(ivals[a]) - mu - baseUserBias[u] - baseItemBias[i];
      const auto items = byUser.rowIndices(u);
      const auto vals = byUser.rowValues(u);
      for (size_t b = 0; b < items.size(); ++b) {
        const Index j = items[b];
        if (j == i) continue;
        const double dj = static_cast<double>(vals[b]) - mu - baseUserBias[u] - baseItemBias[j];
        Acc& x = acc[j];
        if (x.count++ == 0) touched.push_back(j);
        x.num += du * dj;
        x.si += du * du;
        x.sj += dj * dj;
      }
      ticker.add(items.size());
    }
    cand.clear();
    for (Index j : touched) {
      Acc& x = acc[j];
      const double den = std::sqrt(x.si * x.sj);
      if (den > 0) {
        const double n = static_cast<double>(x.count);
        const double s = x.num / den * n / (n + shrink);
        if (s > 0) cand.emplace_back(-s, j);
      }
      x = Acc{};
    }
    ticker.extra(touched.size());
    const size_t keep = std::min(cand.size(), static_cast<size_t>(k));
    if (static_cast<int64_t>(idx.size() + keep) > kInt32Max)
      fail<InvalidArgument>("biased_mf.fit: the neighbour lists of ", nItems, " items would hold more than 2^31 - 1 ",
                            "entries; lower neighbors (now ", k, ")");
    std::partial_sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(keep), cand.end());
    for (size_t m = 0; m < keep; ++m) idx.push_back(cand[m].second);
    ptr.push_back(static_cast<int32_t>(idx.size()));
  }
}

int64_t BiasedMf::activeEntryCount(const InteractionMatrix& train, const std::vector<int32_t>& ptr,
                                   const std::vector<Index>& idx, Progress& progress, double fractionBase,
                                   double fractionSpan) {
  const Csr& byUser = train.byUser();
  const Index nItems = train.numItems();
  std::vector<uint8_t> ratedMark(static_cast<size_t>(nItems), 0);
  double total = 0;
  for (Index u = 0; u < train.numUsers(); ++u)
    for (Index i : byUser.rowIndices(u)) total += ptr[i + 1] - ptr[i] + 1;
  WorkTicker ticker(progress, fractionBase, fractionSpan, total, "neighbors");
  int64_t count = 0;
  for (Index u = 0; u < train.numUsers(); ++u) {
    const auto items = byUser.rowIndices(u);
    for (Index i : items) ratedMark[i] = 1;
    for (Index i : items) {
      for (int32_t m = ptr[i]; m < ptr[i + 1]; ++m) count += ratedMark[idx[m]];
      ticker.add(static_cast<size_t>(ptr[i + 1] - ptr[i]) + 1);
    }
    for (Index i : items) ratedMark[i] = 0;
  }
  return count;
}

float BiasedMf::baselineUserBias(const History& history) const {
  if (baseItemBias_.empty() || !history.hasValues() || history.empty()) return 0.0f;
  double t = 0;
  for (size_t h = 0; h < history.size(); ++h)
    t += history.values[h] - mu_ - baseItemBias_[history.items[h]];
  return static_cast<float>(t / (kBaselineReg + static_cast<double>(history.size())));
}

void BiasedMf::neighborScores(const History& history, std::vector<float>& out) const {
  const size_t n = itemBias_.size();
  out.assign(n, 0.0f);
  if (nbrPtr_.empty() || history.empty()) return;
  // The last history position of each item, and its baseline residual.
  std::vector<int32_t> slot(n, -1);
  std::vector<float> d(n, 0.0f);
  for (size_t h = 0; h < history.size(); ++h) slot[history.items[h]] = static_cast<int32_t>(h);
  const bool values = history.hasValues();
  if (values) {
    mf::checkFiniteHistory(kind(), history);
    const float bbu = baselineUserBias(history);
    for (size_t h = 0; h < history.size(); ++h) {
      const Index j = history.items[h];
      d[j] = history.values[h] - mu_ - bbu - baseItemBias_[j];
    }
  }
  // Through the reverse lists: each distinct history item j (at its last position)
  // adds to the items whose list holds it, O(sum of their in-degrees).
  std::vector<int32_t> cnt(n, 0);
  for (size_t h = 0; h < history.size(); ++h) {
    const Index j = history.items[h];
    if (slot[j] != static_cast<int32_t>(h)) continue;
    for (int32_t r = revPtr_[j]; r < revPtr_[j + 1]; ++r) {
      const int32_t m = revM_[r];
      const Index i = nbrItemOf_[m];
      ++cnt[i];
      out[i] += d[j] * nbrW_[m] + nbrC_[m];
    }
  }
  for (size_t i = 0; i < n; ++i)
    if (cnt[i] > 0) out[i] /= std::sqrt(static_cast<float>(cnt[i]));
}

void BiasedMf::buildReverseLists() {
  revPtr_.clear();
  revM_.clear();
  nbrItemOf_.clear();
  if (nbrPtr_.empty()) return;
  const size_t n = nbrPtr_.size() - 1;
  nbrItemOf_.resize(nbrIdx_.size());
  revPtr_.assign(n + 1, 0);
  for (size_t i = 0; i < n; ++i)
    for (int32_t m = nbrPtr_[i]; m < nbrPtr_[i + 1]; ++m) {
      nbrItemOf_[m] = static_cast<Index>(i);
      ++revPtr_[nbrIdx_[m] + 1];
    }
  for (size_t j = 0; j < n; ++j) revPtr_[j + 1] += revPtr_[j];
  revM_.resize(nbrIdx_.size());
  std::vector<int32_t> fill(revPtr_.begin(), revPtr_.end() - 1);
  for (size_t m = 0; m < nbrIdx_.size(); ++m) revM_[fill[nbrIdx_[m]]++] = static_cast<int32_t>(m);
}

namespace {
// The fold-in system of a history: A has rows a_h = [1, q_h] and
// G = A^T A + n diag(regBias, reg, ..., reg).
void foldInSystem(const History& history, const std::vector<float>& Q, int factors, double reg, double regBias,
                  double prior, Eigen::MatrixXd& A, Eigen::MatrixXd& G) {
  const size_t f = static_cast<size_t>(factors);
  const Eigen::Index n = static_cast<Eigen::Index>(history.size());
  A.resize(n, factors + 1);
  for (Eigen::Index h = 0; h < n; ++h) {
    A(h, 0) = 1.0;
    const float* q = &Q[static_cast<size_t>(history.items[h]) * f];
    for (Eigen::Index k = 0; k < factors; ++k) A(h, k + 1) = q[k];
  }
  G.noalias() = A.transpose() * A;
  G(0, 0) += static_cast<double>(n) * regBias + prior;
  for (Eigen::Index k = 1; k <= factors; ++k) G(k, k) += static_cast<double>(n) * reg + prior;
}

// The fold-in residuals v_h - mu - b_{i_h} - q_{i_h} . z - nb_{i_h} (z empty: no
// implicit term; nb: every item's neighbourhood term, all 0 without one).
Eigen::VectorXd foldInResiduals(const History& history, float mu, const std::vector<float>& itemBias,
                                const std::vector<float>& Q, int factors, const std::vector<float>& z,
                                const std::vector<float>& nb) {
  const size_t f = static_cast<size_t>(factors);
  Eigen::VectorXd y(static_cast<Eigen::Index>(history.size()));
  for (size_t h = 0; h < history.size(); ++h) {
    const Index i = history.items[h];
    double r = static_cast<double>(history.values[h]) - mu - itemBias[i] - nb[i];
    if (!z.empty()) r -= linalg::dot(&Q[static_cast<size_t>(i) * f], z.data(), f);
    y(static_cast<Eigen::Index>(h)) = r;
  }
  return y;
}
}  // namespace

void BiasedMf::foldIn(const History& history, float& bu, std::vector<float>& p, std::vector<float>& z) const {
  std::vector<float> nb;
  neighborScores(history, nb);
  foldInWith(history, nb, bu, p, z);
}

void BiasedMf::foldInWith(const History& history, const std::vector<float>& nb, float& bu, std::vector<float>& p,
                          std::vector<float>& z) const {
  const size_t f = static_cast<size_t>(factors_);
  bu = 0.0f;
  p.assign(f, 0.0f);
  z.clear();
  if (history.empty()) return;
  if (!implicitFactors_.empty()) {
    z.resize(f);
    implicitSum(history.items, implicitFactors_.data(), factors_, z.data());
  }
  if (!history.hasValues()) return;
  mf::checkFiniteHistory(kind(), history);
  Eigen::MatrixXd A, G;
  foldInSystem(history, itemFactors_, factors_, reg_, regBias_, foldInPrior_, A, G);
  const Eigen::VectorXd y = foldInResiduals(history, mu_, itemBias_, itemFactors_, factors_, z, nb);
  const Eigen::VectorXd x = G.ldlt().solve(A.transpose() * y);
  bu = static_cast<float>(x(0));
  for (size_t k = 0; k < f; ++k) p[k] = static_cast<float>(x(static_cast<Eigen::Index>(k) + 1));
}

void BiasedMf::scoreImpl(const History& history, std::span<float> out) const {
  float bu;
  std::vector<float> p, z, nb;
  neighborScores(history, nb);
  foldInWith(history, nb, bu, p, z);
  for (size_t k = 0; k < z.size(); ++k) p[k] += z[k];
  const float base = mu_ + bu;
  for (size_t i = 0; i < out.size(); ++i) out[i] = base + itemBias_[i] + nb[i];
  linalg::gemv(itemFactors_.data(), out.size(), static_cast<size_t>(factors_), static_cast<size_t>(factors_),
               p.data(), out.data(), 1.0f);
}

std::vector<Contribution> BiasedMf::explainImpl(const History& history, Index item, size_t maxCount) const {
  const bool implicit = !implicitFactors_.empty();
  const bool neighbors = !nbrPtr_.empty();
  if (maxCount == 0) return {};
  if (history.empty() || (!history.hasValues() && !implicit && !neighbors))
    return {Contribution{-1, mu_ + itemBias_[item]}};
  const size_t f = static_cast<size_t>(factors_);
  const Eigen::Index n = static_cast<Eigen::Index>(history.size());
  const float* qi = &itemFactors_[static_cast<size_t>(item) * f];
  // The implicit part q_i . z = sum_h |N|^-1/2 q_i . y_{i_h}.
  Eigen::VectorXd weight = Eigen::VectorXd::Zero(n);
  std::vector<float> z;
  if (implicit) {
    const double c = 1.0 / std::sqrt(static_cast<double>(n));
    for (Eigen::Index h = 0; h < n; ++h)
      weight(h) = c * linalg::dot(qi, &implicitFactors_[static_cast<size_t>(history.items[h]) * f], f);
    z.resize(f);
    implicitSum(history.items, implicitFactors_.data(), factors_, z.data());
  }
  std::vector<float> nb;
  neighborScores(history, nb);  // checks the values' finiteness
  if (neighbors) {
    // The item's own neighbourhood term |N|^-1/2 sum_{j in N} [(v_j - mu - bb_u - bb_j) w_ij + c_ij]
    // with bb_u = sum_h d_h / (baseline_reg + n), d_h = v_h - mu - bb_{i_h}: position h
    // (the last one of j) takes |N|^-1/2 (d_h w_ij + c_ij), and every position h the
    // share -|N|^-1/2 (sum_{j in N} w_ij) d_h / (baseline_reg + n) of bb_u.
    std::vector<int32_t> slot(itemBias_.size(), -1);
    for (Eigen::Index h = 0; h < n; ++h) slot[history.items[h]] = static_cast<int32_t>(h);
    const bool values = history.hasValues();
    int cnt = 0;
    for (int32_t m = nbrPtr_[item]; m < nbrPtr_[item + 1]; ++m) cnt += slot[nbrIdx_[m]] >= 0;
    if (cnt > 0) {
      const double c1 = 1.0 / std::sqrt(static_cast<double>(cnt));
      auto d0 = [&](Eigen::Index h) {
        return static_cast<double>(history.values[h]) - mu_ - baseItemBias_[history.items[h]];
      };
      double wsum = 0;
      for (int32_t m = nbrPtr_[item]; m < nbrPtr_[item + 1]; ++m) {
        const int32_t h = slot[nbrIdx_[m]];
        if (h < 0) continue;
        weight(h) += c1 * nbrC_[m];
        if (values) {
          weight(h) += c1 * nbrW_[m] * d0(h);
          wsum += nbrW_[m];
        }
      }
      if (values)
        for (Eigen::Index h = 0; h < n; ++h) weight(h) -= c1 * wsum * d0(h) / (kBaselineReg + static_cast<double>(n));
    }
  }
  if (history.hasValues()) {
    Eigen::MatrixXd A, G;
    foldInSystem(history, itemFactors_, factors_, reg_, regBias_, foldInPrior_, A, G);
    Eigen::VectorXd ai(factors_ + 1);
    ai(0) = 1.0;
    for (Eigen::Index k = 0; k < factors_; ++k) ai(k + 1) = qi[k];
    const Eigen::VectorXd share = A * G.ldlt().solve(ai);  // G symmetric: a_i^T G^-1 a_h = a_h . (G^-1 a_i)
    weight += foldInResiduals(history, mu_, itemBias_, itemFactors_, factors_, z, nb).cwiseProduct(share);
  }
  // No user term reached the item (e.g. no values, implicit=false and none of the
  // history in its list): the one reason is mu + b_i, as with an empty history.
  bool anyWeight = false;
  for (Eigen::Index h = 0; h < n; ++h) anyWeight = anyWeight || weight(h) != 0.0;
  if (!anyWeight) return {Contribution{-1, mu_ + itemBias_[item]}};
  std::vector<Contribution> out;
  out.reserve(history.size());
  for (Eigen::Index h = 0; h < n; ++h) {
    const float w = static_cast<float>(weight(h));
    out.push_back({static_cast<Index>(h), std::isfinite(w) ? w : 0.0f});
  }
  return mf::strongestFirst(std::move(out), maxCount);
}

void BiasedMf::save(Writer& out) const {
  // Without the neighbourhood term the file is layout 2, byte for byte as before it.
  const bool layout3 = !nbrPtr_.empty();
  out.i32(layout3 ? kLayout3Marker : kLayoutMarker);
  out.i32(factors_);
  out.f32(mu_);
  out.floats(itemBias_);
  out.floats(itemFactors_);
  out.floats(implicitFactors_);
  if (!layout3) return;
  out.floats(baseItemBias_);
  out.ints(nbrPtr_);
  out.ints(nbrIdx_);
  out.floats(nbrW_);
  out.floats(nbrC_);
}

void BiasedMf::loadImpl(Reader& in) {
  // Layout 1 began directly with the (positive) factor count; layout 2 with the
  // marker -2, layout 3 (layout 2 + the neighbourhood term) with -3.
  int32_t factors = in.i32("factors or layout");
  const bool layout3 = factors == kLayout3Marker;
  const bool layout2 = factors == kLayoutMarker || layout3;
  if (layout2) factors = in.i32("factors");
  if (factors != factors_)
    fail<FormatError>(in.what(), ": the parameters have ", factors, " factors, the options say ", factors_);
  const float mu = in.f32("global mean");
  if (!std::isfinite(mu)) fail<FormatError>(in.what(), ": the global mean is not finite");
  auto bias = in.floats("item biases");
  if (bias.empty()) fail<FormatError>(in.what(), ": a biased_mf model over 0 items");
  const size_t size = bias.size() * static_cast<size_t>(factors_);
  auto q = in.floats("item factors", size);
  std::vector<float> y;
  if (layout2) {
    // n x factors with implicit=true, none with implicit=false.
    y = in.floats("implicit factors", implicit_ ? size : 0);
  } else if (implicit_) {
    y.assign(size, 0.0f);  // a layout-1 model has no implicit term: y = 0 scores exactly as it did
  }
  mf::checkFiniteParams(in, "item bias", bias);
  mf::checkFiniteParams(in, "item factor", q);
  mf::checkFiniteParams(in, "implicit factor", y);
  std::vector<float> baseItem, w, c;
  std::vector<int32_t> ptr, idx;
  if (layout3) {
    const size_t n = bias.size();
    baseItem = in.floats("baseline item biases", n);
    ptr = in.ints("neighbour list offsets", n + 1);
    idx = in.ints("neighbour items");
    w = in.floats("neighbour weights", idx.size());
    c = in.floats("neighbour implicit weights", idx.size());
    if (ptr[0] != 0 || static_cast<size_t>(ptr[n]) != idx.size())
      fail<FormatError>(in.what(), ": the neighbour list offsets do not span the ", idx.size(), " neighbour items");
    for (size_t i = 0; i < n; ++i) {
      if (ptr[i + 1] < ptr[i] || ptr[i + 1] - ptr[i] > neighbors_)
        fail<FormatError>(in.what(), ": item ", i, "'s neighbour list has a bad length (the neighbors option is ",
                          neighbors_, ")");
      for (int32_t m = ptr[i]; m < ptr[i + 1]; ++m)
        if (idx[m] < 0 || static_cast<size_t>(idx[m]) >= n || static_cast<size_t>(idx[m]) == i)
          fail<FormatError>(in.what(), ": item ", i, "'s neighbour ", idx[m], " is out of range or itself");
    }
    mf::checkFiniteParams(in, "baseline item bias", baseItem);
    mf::checkFiniteParams(in, "neighbour weight", w);
    mf::checkFiniteParams(in, "neighbour implicit weight", c);
  }
  mu_ = mu;
  baseItemBias_ = std::move(baseItem);
  nbrPtr_ = std::move(ptr);
  nbrIdx_ = std::move(idx);
  nbrW_ = std::move(w);
  nbrC_ = std::move(c);
  buildReverseLists();
  itemBias_ = std::move(bias);
  itemFactors_ = std::move(q);
  implicitFactors_ = std::move(y);
  userBias_.clear();
  userFactors_.clear();
  setFitted(static_cast<Index>(itemBias_.size()));
}

}  // namespace localrec

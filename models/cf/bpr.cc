#include "models/cf/bpr.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "io/serialize.h"
#include "linalg/kernels.h"
#include "models/cf/bias_baseline.h"

namespace localrec {

namespace {
constexpr size_t kReportEvery = 1 << 14;

// sigma(-x) = 1 / (1 + e^x), the weight of a BPR gradient; stable for large |x|.
float sigmoidNeg(float x) {
  if (x >= 0) {
    const float e = std::exp(-x);
    return e / (1.0f + e);
  }
  return 1.0f / (1.0f + std::exp(x));
}
}  // namespace

const std::vector<OptionSpec>& Bpr::optionSpecs() {
  static const std::vector<OptionSpec> specs = {
      {"factors", "int", "128", 1, 1024, {}, "latent dimensions"},
      {"epochs", "int", "60", 1, 10000, {}, "training epochs"},
      {"lr", "float", "0.1", 1e-6, 10, {}, "SGD learning rate of the first epoch (also used by the fold-in)"},
      {"lr_final", "float", "0.05", 1e-4, 1, {},
       "learning rate of the last epoch as a fraction of lr, reached by a geometric decay per epoch "
       "(1 = constant; unlike biased_mf's lr_decay, not a per-epoch factor)"},
      {"reg", "float", "0.02", 0, 100, {}, "L2 regularization of the factors (also used by the fold-in)"},
      {"reg_bias", "float", "0.1", 0, 100, {}, "L2 regularization of the item biases"},
      {"init_std", "float", "0.1", 0, 10, {}, "standard deviation of the initial factors"},
      {"samples", "int", "0", 0, 1000000000, {}, "triples per epoch; 0 = the number of training rows"},
      {"fold_in_epochs", "int", "20", 1, 10000, {}, "fold-in SGD steps per history item at score time"},
      {"negatives", "int", "5", 1, 1000, {},
       "candidate negatives drawn per step; the highest-scoring one is used (1 = plain uniform sampling)"},
      {"sampling", "choice", "users", 0, 0, {"users", "rows"},
       "how a step's (user, positive) is drawn: users = a uniform user, then one of its items; "
       "rows = a uniform training row (users weighted by activity)"},
      {"seed", "int", "42", 0, 2147483647, {}, "seed of the initialization, the sampling and the fold-in"},
  };
  return specs;
}

Bpr::Bpr(const OptionMap& options) : Bpr(OptionReader("bpr", optionSpecs(), options)) {}

Bpr::Bpr(const OptionReader& reader)
    : Recommender(reader.resolved()),
      factors_(reader.getInt("factors")),
      epochs_(reader.getInt("epochs")),
      lr_(reader.getFloat("lr")),
      lrFinal_(reader.getFloat("lr_final")),
      reg_(reader.getFloat("reg")),
      regBias_(reader.getFloat("reg_bias")),
      initStd_(reader.getFloat("init_std")),
      samples_(reader.getInt("samples")),
      foldInEpochs_(reader.getInt("fold_in_epochs")),
      negatives_(reader.getInt("negatives")),
      sampleUsers_(reader.getChoice("sampling") == "users"),
      seed_(static_cast<uint64_t>(reader.getInt("seed"))) {
  reader.finish();
}

double Bpr::epochLearningRate(double lr, double lrFinal, int epochs, int epoch) {
  return epochs > 1 ? lr * std::pow(lrFinal, static_cast<double>(epoch) / (epochs - 1)) : lr;
}

float Bpr::bprStep(float* p, float* qi, float* qj, float& bi, float& bj, int factors, float lr, float reg,
                   float regBias) {
  // x_uij through the SIMD dot: a plain loop is one serial chain of adds (no
  // reassociation without fast-math), the step's critical path.
  const size_t n = static_cast<size_t>(factors);
  const float x = (bi - bj) + (linalg::dot(p, qi, n) - linalg::dot(p, qj, n));
  const float g = sigmoidNeg(x);  // d ln sigma(x) / dx
  for (int f = 0; f < factors; ++f) {
    const float pf = p[f], qif = qi[f], qjf = qj[f];
    p[f] += lr * (g * (qif - qjf) - reg * pf);
    qi[f] += lr * (g * pf - reg * qif);
    qj[f] += lr * (-g * pf - reg * qjf);
  }
  const float bi0 = bi, bj0 = bj;
  bi += lr * (g - regBias * bi0);
  bj += lr * (-g - regBias * bj0);
  return x;
}

double Bpr::bprObjective(const float* p, const float* qi, const float* qj, float bi, float bj, int factors,
                         float reg, float regBias) {
  double x = static_cast<double>(bi) - bj, norm = 0;
  for (int f = 0; f < factors; ++f) {
    x += static_cast<double>(p[f]) * (static_cast<double>(qi[f]) - qj[f]);
    norm += static_cast<double>(p[f]) * p[f] + static_cast<double>(qi[f]) * qi[f] + static_cast<double>(qj[f]) * qj[f];
  }
  const double logSigma = x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x));
  return logSigma - 0.5 * reg * norm - 0.5 * regBias * (static_cast<double>(bi) * bi + static_cast<double>(bj) * bj);
}

void Bpr::fitImpl(const InteractionMatrix& train, Progress& progress) {
  progress.report(0.0, "init");
  const Csr& byUser = train.byUser();
  const size_t nnz = train.nnz();
  const size_t f = static_cast<size_t>(factors_);
  const Index nUsers = train.numUsers();
  const Index nItems = train.numItems();

  // Each user's distinct items, sorted, for the "not interacted with" test.
  std::vector<int32_t> setPtr(static_cast<size_t>(nUsers) + 1, 0);
  std::vector<Index> sets;
  sets.reserve(nnz);
  std::vector<Index> rowUser(nnz);
  for (Index u = 0; u < nUsers; ++u) {
    const auto items = byUser.rowIndices(u);
    const size_t start = sets.size();
    sets.insert(sets.end(), items.begin(), items.end());
    std::sort(sets.begin() + static_cast<std::ptrdiff_t>(start), sets.end());
    sets.erase(std::unique(sets.begin() + static_cast<std::ptrdiff_t>(start), sets.end()), sets.end());
    setPtr[u + 1] = static_cast<int32_t>(sets.size());
    for (int32_t k = byUser.indptr[u]; k < byUser.indptr[u + 1]; ++k) rowUser[k] = u;
  }

  Rng rng(seed_);
  std::vector<float> P(static_cast<size_t>(nUsers) * f), Q(static_cast<size_t>(nItems) * f);
  std::vector<float> b(static_cast<size_t>(nItems), 0.0f);
  for (float& x : P) x = static_cast<float>(initStd_) * static_cast<float>(rng.normal());
  for (float& x : Q) x = static_cast<float>(initStd_) * static_cast<float>(rng.normal());

  // The users a step can use: at least one item and at least one negative.
  std::vector<Index> active;
  for (Index u = 0; u < nUsers; ++u)
    if (setPtr[u + 1] > setPtr[u] && setPtr[u + 1] - setPtr[u] < nItems) active.push_back(u);

  const size_t perEpoch = samples_ > 0 ? static_cast<size_t>(samples_) : nnz;
  const float reg = static_cast<float>(reg_), regBias = static_cast<float>(regBias_);
  for (int epoch = 0; epoch < epochs_ && !active.empty(); ++epoch) {
    const float lr = static_cast<float>(epochLearningRate(lr_, lrFinal_, epochs_, epoch));
    for (size_t s = 0; s < perEpoch; ++s) {
      if (s % kReportEvery == 0) progress.report((epoch + static_cast<double>(s) / perEpoch) / epochs_, "sgd");
      Index u, i;
      if (sampleUsers_) {
        u = active[rng.below(static_cast<uint32_t>(active.size()))];
        const uint32_t count = static_cast<uint32_t>(setPtr[u + 1] - setPtr[u]);
        i = sets[setPtr[u] + static_cast<int32_t>(rng.below(count))];
      } else {
        const uint32_t k = static_cast<uint32_t>(rng.below(static_cast<uint32_t>(nnz)));
        u = rowUser[k];
        i = byUser.indices[k];
      }
      const Index* first = sets.data() + setPtr[u];
      const Index* last = sets.data() + setPtr[u + 1];
      if (last - first >= nItems) continue;  // no negatives for this user
      // Several candidates, the best-scoring kept: a uniform negative is mostly
      // ranked low already, so sigma(-x_uij) is near 0 and its step teaches little.
      const Index j = drawNegative(rng, nItems, negatives_, &P[u * f], b.data(), Q.data(), f,
                                   [&](Index c) { return std::binary_search(first, last, c); });
      bprStep(&P[u * f], &Q[i * f], &Q[j * f], b[i], b[j], factors_, lr, reg, regBias);
    }
  }
  progress.report(1.0, "done");
  itemBias_ = std::move(b);
  itemFactors_ = std::move(Q);
}

std::vector<float> Bpr::foldIn(const History& history) const {
  const size_t f = static_cast<size_t>(factors_);
  std::vector<float> p(f, 0.0f);
  const Index nItems = numItems();
  std::vector<uint8_t> inHistory(static_cast<size_t>(nItems), 0);
  size_t distinct = 0;
  uint64_t hash = 0xcbf29ce484222325ull ^ seed_;  // FNV-1a over the item ids
  for (Index item : history.items) {
    distinct += inHistory[item] ? 0 : 1;
    inHistory[item] = 1;
    for (int s = 0; s < 32; s += 8) hash = (hash ^ ((static_cast<uint32_t>(item) >> s) & 0xff)) * 0x100000001b3ull;
  }
  if (history.empty() || distinct >= static_cast<size_t>(nItems)) return p;

  Rng rng(hash);
  const size_t steps = static_cast<size_t>(foldInEpochs_) * history.size();
  const size_t averageFrom = steps / 2;
  std::vector<float> sum(f, 0.0f), qi(f), qj(f);
  const float lr = static_cast<float>(lr_), reg = static_cast<float>(reg_);
  for (size_t s = 0; s < steps; ++s) {
    const Index i = history.items[rng.below(static_cast<uint32_t>(history.size()))];
    const Index j = drawNegative(rng, nItems, negatives_, p.data(), itemBias_.data(), itemFactors_.data(), f,
                                 [&](Index c) { return inHistory[c] != 0; });
    // The item parameters stay fixed: step on copies and with zero bias rates.
    std::copy_n(&itemFactors_[i * f], f, qi.data());
    std::copy_n(&itemFactors_[j * f], f, qj.data());
    float bi = itemBias_[i], bj = itemBias_[j];
    bprStep(p.data(), qi.data(), qj.data(), bi, bj, factors_, lr, reg, 0.0f);
    if (s >= averageFrom) linalg::axpy(1.0f, p.data(), sum.data(), f);
  }
  const float scale = 1.0f / static_cast<float>(steps - averageFrom);
  for (size_t k = 0; k < f; ++k) p[k] = sum[k] * scale;
  return p;
}

void Bpr::scoreImpl(const History& history, std::span<float> out) const {
  const std::vector<float> p = foldIn(history);
  std::copy(itemBias_.begin(), itemBias_.end(), out.begin());
  linalg::gemv(itemFactors_.data(), out.size(), static_cast<size_t>(factors_), static_cast<size_t>(factors_),
               p.data(), out.data(), 1.0f);
}

std::vector<Contribution> Bpr::explainImpl(const History& history, Index item, size_t maxCount) const {
  if (maxCount == 0) return {};
  if (history.empty()) return {Contribution{-1, itemBias_[item]}};
  const size_t f = static_cast<size_t>(factors_);
  std::vector<Contribution> out;
  out.reserve(history.size());
  for (size_t h = 0; h < history.size(); ++h)
    out.push_back({static_cast<Index>(h),
                   linalg::dot(&itemFactors_[static_cast<size_t>(history.items[h]) * f],
                               &itemFactors_[static_cast<size_t>(item) * f], f)});
  return mf::strongestFirst(std::move(out), maxCount);
}

void Bpr::save(Writer& out) const {
  out.i32(factors_);
  out.floats(itemBias_);
  out.floats(itemFactors_);
}

void Bpr::loadImpl(Reader& in) {
  const int32_t factors = in.i32("factors");
  if (factors != factors_)
    fail<FormatError>(in.what(), ": the parameters have ", factors, " factors, the options say ", factors_);
  auto bias = in.floats("item biases");
  if (bias.empty()) fail<FormatError>(in.what(), ": a bpr model over 0 items");
  auto q = in.floats("item factors", bias.size() * static_cast<size_t>(factors_));
  mf::checkFiniteParams(in, "item bias", bias);
  mf::checkFiniteParams(in, "item factor", q);
  itemBias_ = std::move(bias);
  itemFactors_ = std::move(q);
  setFitted(static_cast<Index>(itemBias_.size()));
}

}  // namespace localrec

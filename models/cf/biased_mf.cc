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

// A standard normal draw (Box-Muller on the portable Rng).
float normal(Rng& rng) {
  const double u1 = 1.0 - rng.uniform();  // (0, 1]
  const double u2 = rng.uniform();
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}
}  // namespace

const std::vector<OptionSpec>& BiasedMf::optionSpecs() {
  static const std::vector<OptionSpec> specs = {
      {"factors", "int", "128", 1, 1024, {}, "latent dimensions"},
      {"epochs", "int", "50", 1, 10000, {}, "passes over the training rows"},
      {"lr", "float", "0.01", 1e-6, 1, {}, "initial SGD learning rate"},
      {"lr_decay", "float", "0.98", 0.01, 1, {}, "learning rate multiplier after each epoch"},
      {"reg", "float", "0.08", 1e-6, 100, {}, "L2 regularization of the factors (per training row)"},
      {"reg_bias", "float", "0.05", 1e-6, 100, {}, "L2 regularization of the biases (per training row)"},
      {"init_std", "float", "0.02", 0, 10, {}, "standard deviation of the initial factors"},
      {"fold_in_prior", "float", "1", 0, 1e6, {},
       "extra ridge penalty on a folded-in user's (b_u, p_u), independent of the history length; 0 = exactly the training objective"},
      {"seed", "int", "42", 0, 2147483647, {}, "seed of the initialization and the row order"},
      {"implicit", "bool", "true", 0, 0, {},
       "SVD++: add the implicit-feedback term |N(u)|^-1/2 sum_{j in N(u)} y_j to p_u (Koren 2008)"},
      {"reg_implicit", "float", "0.02", 1e-6, 100, {},
       "L2 regularization of the implicit factors y_j (per training row)"},
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
      regImplicit_(reader.getFloat("reg_implicit")) {
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
                               std::vector<float>& scratch) {
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
    const float e = values[k] - (mu + bu + itemBias[i] + linalg::dot(q, pz, f));
    squared += static_cast<double>(e) * e;
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
  for (float& x : P) x = static_cast<float>(initStd_) * normal(rng);
  for (float& x : Q) x = static_cast<float>(initStd_) * normal(rng);
  if (implicit_) {
    Y.resize(static_cast<size_t>(nItems) * f);
    for (float& x : Y) x = static_cast<float>(initStd_) * normal(rng);
  }

  float lr = static_cast<float>(lr_);
  const float reg = static_cast<float>(reg_), regBias = static_cast<float>(regBias_);
  if (!implicit_) {
    // Row positions in the by-user CSR, with their user, shuffled every epoch.
    std::vector<Index> rowUser(nnz);
    for (Index u = 0; u < nUsers; ++u)
      for (int32_t k = byUser.indptr[u]; k < byUser.indptr[u + 1]; ++k) rowUser[k] = u;
    std::vector<uint32_t> order(nnz);
    for (size_t k = 0; k < nnz; ++k) order[k] = static_cast<uint32_t>(k);
    for (int epoch = 0; epoch < epochs_; ++epoch) {
      rng.shuffle(order.begin(), order.end());
      for (size_t s = 0; s < nnz; ++s) {
        if (s % kReportEvery == 0) progress.report((epoch + static_cast<double>(s) / nnz) / epochs_, "sgd");
        const uint32_t k = order[s];
        const Index u = rowUser[k];
        const Index i = byUser.indices[k];
        sgdStep(byUser.values[k], mu, bu[u], bi[i], &P[u * f], &Q[i * f], factors_, lr, reg, regBias);
      }
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
    std::vector<float> values, scratch;
    const float regImplicit = static_cast<float>(regImplicit_);
    for (int epoch = 0; epoch < epochs_; ++epoch) {
      rng.shuffle(users.begin(), users.end());
      size_t done = 0, nextReport = 0;
      for (Index u : users) {
        if (done >= nextReport) {
          progress.report((epoch + static_cast<double>(done) / nnz) / epochs_, "sgd");
          nextReport = done + kReportEvery;
        }
        const auto items = byUser.rowIndices(u);
        const auto vals = byUser.rowValues(u);
        rated.assign(items.begin(), items.end());
        values.assign(vals.begin(), vals.end());
        // One shuffle of the (item, value) pairs through a shared permutation.
        for (size_t k = rated.size(); k > 1; --k) {
          const size_t j = rng.below(static_cast<uint32_t>(k));
          std::swap(rated[k - 1], rated[j]);
          std::swap(values[k - 1], values[j]);
        }
        implicitVisit(rated, values, items, mu, bu[u], &P[u * f], bi.data(), Q.data(), Y.data(), factors_, lr, reg,
                      regBias, regImplicit, scratch);
        done += items.size();
      }
      lr *= static_cast<float>(lrDecay_);
    }
  }
  // Items nobody rated were never updated: their random factors would only add noise.
  for (Index i = 0; i < nItems; ++i)
    if (train.byItem().rowSize(i) == 0) {
      std::fill(&Q[i * f], &Q[i * f] + f, 0.0f);
      if (implicit_) std::fill(&Y[i * f], &Y[i * f] + f, 0.0f);
    }
  progress.report(1.0, "done");

  mu_ = mu;
  itemBias_ = std::move(bi);
  itemFactors_ = std::move(Q);
  implicitFactors_ = std::move(Y);
  userBias_ = std::move(bu);
  userFactors_ = std::move(P);
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

// The fold-in residuals v_h - mu - b_{i_h} - q_{i_h} . z (z empty: no implicit term).
Eigen::VectorXd foldInResiduals(const History& history, float mu, const std::vector<float>& itemBias,
                                const std::vector<float>& Q, int factors, const std::vector<float>& z) {
  const size_t f = static_cast<size_t>(factors);
  Eigen::VectorXd y(static_cast<Eigen::Index>(history.size()));
  for (size_t h = 0; h < history.size(); ++h) {
    const Index i = history.items[h];
    double r = static_cast<double>(history.values[h]) - mu - itemBias[i];
    if (!z.empty()) r -= linalg::dot(&Q[static_cast<size_t>(i) * f], z.data(), f);
    y(static_cast<Eigen::Index>(h)) = r;
  }
  return y;
}
}  // namespace

void BiasedMf::foldIn(const History& history, float& bu, std::vector<float>& p, std::vector<float>& z) const {
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
  const Eigen::VectorXd y = foldInResiduals(history, mu_, itemBias_, itemFactors_, factors_, z);
  const Eigen::VectorXd x = G.ldlt().solve(A.transpose() * y);
  bu = static_cast<float>(x(0));
  for (size_t k = 0; k < f; ++k) p[k] = static_cast<float>(x(static_cast<Eigen::Index>(k) + 1));
}

void BiasedMf::scoreImpl(const History& history, std::span<float> out) const {
  float bu;
  std::vector<float> p, z;
  foldIn(history, bu, p, z);
  for (size_t k = 0; k < z.size(); ++k) p[k] += z[k];
  const float base = mu_ + bu;
  for (size_t i = 0; i < out.size(); ++i) out[i] = base + itemBias_[i];
  linalg::gemv(itemFactors_.data(), out.size(), static_cast<size_t>(factors_), static_cast<size_t>(factors_),
               p.data(), out.data(), 1.0f);
}

std::vector<Contribution> BiasedMf::explainImpl(const History& history, Index item, size_t maxCount) const {
  const bool implicit = !implicitFactors_.empty();
  if (maxCount == 0) return {};
  if (history.empty() || (!history.hasValues() && !implicit)) return {Contribution{-1, mu_ + itemBias_[item]}};
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
  if (history.hasValues()) {
    mf::checkFiniteHistory(kind(), history);
    Eigen::MatrixXd A, G;
    foldInSystem(history, itemFactors_, factors_, reg_, regBias_, foldInPrior_, A, G);
    Eigen::VectorXd ai(factors_ + 1);
    ai(0) = 1.0;
    for (Eigen::Index k = 0; k < factors_; ++k) ai(k + 1) = qi[k];
    const Eigen::VectorXd share = A * G.ldlt().solve(ai);  // G symmetric: a_i^T G^-1 a_h = a_h . (G^-1 a_i)
    weight += foldInResiduals(history, mu_, itemBias_, itemFactors_, factors_, z).cwiseProduct(share);
  }
  std::vector<Contribution> out;
  out.reserve(history.size());
  for (Eigen::Index h = 0; h < n; ++h) {
    const float w = static_cast<float>(weight(h));
    out.push_back({static_cast<Index>(h), std::isfinite(w) ? w : 0.0f});
  }
  return mf::strongestFirst(std::move(out), maxCount);
}

void BiasedMf::save(Writer& out) const {
  out.i32(kLayoutMarker);
  out.i32(factors_);
  out.f32(mu_);
  out.floats(itemBias_);
  out.floats(itemFactors_);
  out.floats(implicitFactors_);
}

void BiasedMf::loadImpl(Reader& in) {
  // Layout 1 began directly with the (positive) factor count; layout 2 with the marker -2.
  int32_t factors = in.i32("factors or layout");
  const bool layout2 = factors == kLayoutMarker;
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
  mu_ = mu;
  itemBias_ = std::move(bias);
  itemFactors_ = std::move(q);
  implicitFactors_ = std::move(y);
  userBias_.clear();
  userFactors_.clear();
  setFitted(static_cast<Index>(itemBias_.size()));
}

}  // namespace localrec

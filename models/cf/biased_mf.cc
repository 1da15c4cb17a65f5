#include "models/cf/biased_mf.h"

#include <Eigen/Dense>
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
      {"factors", "int", "64", 1, 1024, {}, "latent dimensions"},
      {"epochs", "int", "100", 1, 10000, {}, "passes over the training rows"},
      {"lr", "float", "0.01", 1e-6, 1, {}, "initial SGD learning rate"},
      {"lr_decay", "float", "0.98", 0.01, 1, {}, "learning rate multiplier after each epoch"},
      {"reg", "float", "0.08", 1e-6, 100, {}, "L2 regularization of the factors (per training row)"},
      {"reg_bias", "float", "0.05", 1e-6, 100, {}, "L2 regularization of the biases (per training row)"},
      {"init_std", "float", "0.05", 0, 10, {}, "standard deviation of the initial factors"},
      {"fold_in_prior", "float", "1", 0, 1e6, {},
       "extra ridge penalty on a folded-in user's (b_u, p_u), independent of the history length; 0 = exactly the training objective"},
      {"seed", "int", "42", 0, 2147483647, {}, "seed of the initialization and the row order"},
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
      seed_(static_cast<uint64_t>(reader.getInt("seed"))) {
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
  std::vector<float> P(static_cast<size_t>(nUsers) * f), Q(static_cast<size_t>(nItems) * f);
  for (float& x : P) x = static_cast<float>(initStd_) * normal(rng);
  for (float& x : Q) x = static_cast<float>(initStd_) * normal(rng);

  // Row positions in the by-user CSR, with their user, shuffled every epoch.
  std::vector<Index> rowUser(nnz);
  for (Index u = 0; u < nUsers; ++u)
    for (int32_t k = byUser.indptr[u]; k < byUser.indptr[u + 1]; ++k) rowUser[k] = u;
  std::vector<uint32_t> order(nnz);
  for (size_t k = 0; k < nnz; ++k) order[k] = static_cast<uint32_t>(k);

  float lr = static_cast<float>(lr_);
  const float reg = static_cast<float>(reg_), regBias = static_cast<float>(regBias_);
  for (int epoch = 0; epoch < epochs_; ++epoch) {
    rng.shuffle(order.begin(), order.end());
    for (size_t s = 0; s < nnz; ++s) {
      if (s % kReportEvery == 0)
        progress.report((epoch + static_cast<double>(s) / nnz) / epochs_, "sgd");
      const uint32_t k = order[s];
      const Index u = rowUser[k];
      const Index i = byUser.indices[k];
      sgdStep(byUser.values[k], mu, bu[u], bi[i], &P[u * f], &Q[i * f], factors_, lr, reg, regBias);
    }
    lr *= static_cast<float>(lrDecay_);
  }
  // Items nobody rated were never updated: their random factors would only add noise.
  for (Index i = 0; i < nItems; ++i)
    if (train.byItem().rowSize(i) == 0) std::fill(&Q[i * f], &Q[i * f] + f, 0.0f);
  progress.report(1.0, "done");

  mu_ = mu;
  itemBias_ = std::move(bi);
  itemFactors_ = std::move(Q);
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
}  // namespace

void BiasedMf::foldIn(const History& history, float& bu, std::vector<float>& p) const {
  const size_t f = static_cast<size_t>(factors_);
  bu = 0.0f;
  p.assign(f, 0.0f);
  if (history.empty() || !history.hasValues()) return;
  mf::checkFiniteHistory(kind(), history);
  Eigen::MatrixXd A, G;
  foldInSystem(history, itemFactors_, factors_, reg_, regBias_, foldInPrior_, A, G);
  Eigen::VectorXd y(A.rows());
  for (Eigen::Index h = 0; h < A.rows(); ++h)
    y(h) = static_cast<double>(history.values[h]) - mu_ - itemBias_[history.items[h]];
  const Eigen::VectorXd x = G.ldlt().solve(A.transpose() * y);
  bu = static_cast<float>(x(0));
  for (size_t k = 0; k < f; ++k) p[k] = static_cast<float>(x(static_cast<Eigen::Index>(k) + 1));
}

void BiasedMf::scoreImpl(const History& history, std::span<float> out) const {
  float bu;
  std::vector<float> p;
  foldIn(history, bu, p);
  const float base = mu_ + bu;
  for (size_t i = 0; i < out.size(); ++i) out[i] = base + itemBias_[i];
  linalg::gemv(itemFactors_.data(), out.size(), static_cast<size_t>(factors_), static_cast<size_t>(factors_),
               p.data(), out.data(), 1.0f);
}

std::vector<Contribution> BiasedMf::explainImpl(const History& history, Index item, size_t maxCount) const {
  if (maxCount == 0) return {};
  if (history.empty() || !history.hasValues()) return {Contribution{-1, mu_ + itemBias_[item]}};
  mf::checkFiniteHistory(kind(), history);
  const size_t f = static_cast<size_t>(factors_);
  const Eigen::Index n = static_cast<Eigen::Index>(history.size());
  Eigen::MatrixXd A, G;
  foldInSystem(history, itemFactors_, factors_, reg_, regBias_, foldInPrior_, A, G);
  Eigen::VectorXd ai(factors_ + 1);
  ai(0) = 1.0;
  for (Eigen::Index k = 0; k < factors_; ++k) ai(k + 1) = itemFactors_[static_cast<size_t>(item) * f + k];
  const Eigen::VectorXd z = G.ldlt().solve(ai);  // G symmetric: a_i^T G^-1 a_h = a_h . z
  const Eigen::VectorXd share = A * z;
  std::vector<Contribution> out;
  out.reserve(history.size());
  for (Eigen::Index h = 0; h < n; ++h) {
    const double y = static_cast<double>(history.values[h]) - mu_ - itemBias_[history.items[h]];
    const float w = static_cast<float>(y * share(h));
    out.push_back({static_cast<Index>(h), std::isfinite(w) ? w : 0.0f});
  }
  return mf::strongestFirst(std::move(out), maxCount);
}

void BiasedMf::save(Writer& out) const {
  out.i32(factors_);
  out.f32(mu_);
  out.floats(itemBias_);
  out.floats(itemFactors_);
}

void BiasedMf::loadImpl(Reader& in) {
  const int32_t factors = in.i32("factors");
  if (factors != factors_)
    fail<FormatError>(in.what(), ": the parameters have ", factors, " factors, the options say ", factors_);
  const float mu = in.f32("global mean");
  if (!std::isfinite(mu)) fail<FormatError>(in.what(), ": the global mean is not finite");
  auto bias = in.floats("item biases");
  if (bias.empty()) fail<FormatError>(in.what(), ": a biased_mf model over 0 items");
  auto q = in.floats("item factors", bias.size() * static_cast<size_t>(factors_));
  mf::checkFiniteParams(in, "item bias", bias);
  mf::checkFiniteParams(in, "item factor", q);
  mu_ = mu;
  itemBias_ = std::move(bias);
  itemFactors_ = std::move(q);
  userBias_.clear();
  userFactors_.clear();
  setFitted(static_cast<Index>(itemBias_.size()));
}

}  // namespace localrec

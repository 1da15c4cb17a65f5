#include "models/cf/ials.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "io/serialize.h"
#include "linalg/kernels.h"

namespace localrec {

namespace {

using RowMatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowMatD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr uint32_t kLayoutVersion = 1;
// Entities solved between progress reports: a few ms of work at most, so a
// cancel lands well within 100 ms, while the (possibly JS) callback stays cheap.
constexpr Index kReportEvery = 256;

// F^T F (+ reg I) for a row-major n x k factor table, in double. SYRK on the
// lower half, then mirrored: the exact solves and fold-in share this Gramian.
Eigen::MatrixXd gramDouble(const std::vector<float>& f, Index n, int k, double reg) {
  Eigen::Map<const RowMatF> F(f.data(), n, k);
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(k, k);
  if (n > 0) {
    const RowMatD Fd = F.cast<double>();
    g.selfadjointView<Eigen::Lower>().rankUpdate(Fd.transpose());
  }
  g.triangularView<Eigen::StrictlyUpper>() = g.transpose();
  g.diagonal().array() += reg;
  return g;
}

// The same in float for the CG path (a GEMM-speed SYRK; CG only needs A p).
std::vector<float> gramFloat(const std::vector<float>& f, Index n, int k, double reg) {
  Eigen::Map<const RowMatF> F(f.data(), n, k);
  Eigen::MatrixXf g = Eigen::MatrixXf::Zero(k, k);
  if (n > 0) g.selfadjointView<Eigen::Lower>().rankUpdate(F.transpose());
  g.triangularView<Eigen::StrictlyUpper>() = g.transpose();
  g.diagonal().array() += static_cast<float>(reg);
  return {g.data(), g.data() + static_cast<size_t>(k) * k};
}

// A = gram + reg I + sum_j w_j y_j y_j^T and b = sum_j (1 + w_j) y_j for the rows
// `idx` of the factor table `y` (w_j = c_j - 1 >= 0).
void buildSystem(const Eigen::Ref<const Eigen::MatrixXd>& gram, double reg, const float* y, int k,
                 std::span<const Index> idx, const std::vector<double>& w, Eigen::MatrixXd& A, Eigen::VectorXd& b) {
  A = gram;
  A.diagonal().array() += reg;
  b = Eigen::VectorXd::Zero(k);
  const Index n = static_cast<Index>(idx.size());
  if (n == 0) return;
  Eigen::MatrixXd scaled(k, n);  // column t = sqrt(w_t) y_t
  for (Index t = 0; t < n; ++t) {
    const float* row = y + static_cast<size_t>(idx[t]) * k;
    const double s = std::sqrt(w[t]);
    for (int d = 0; d < k; ++d) {
      scaled(d, t) = s * row[d];
      b[d] += (1.0 + w[t]) * row[d];
    }
  }
  A.selfadjointView<Eigen::Lower>().rankUpdate(scaled);
  A.triangularView<Eigen::StrictlyUpper>() = A.transpose();
}

// Solves A X = B for symmetric positive definite A. A damaged model file can
// make A numerically indefinite; LDLT then still gives an answer (no crash).
template <class Rhs>
Eigen::MatrixXd solveSpd(const Eigen::MatrixXd& A, const Rhs& B) {
  Eigen::LLT<Eigen::MatrixXd> llt(A);
  if (llt.info() == Eigen::Success) return llt.solve(B);
  return A.ldlt().solve(B);
}

}  // namespace

const std::vector<OptionSpec>& Ials::optionSpecs() {
  static const std::vector<OptionSpec> specs = {
      {"factors", "int", "128", 1, 1024, {}, "latent dimensions k"},
      {"iterations", "int", "15", 1, 1000, {}, "ALS iterations (each a user then an item half-step)"},
      {"reg", "float", "50", 1e-6, 1e6, {}, "L2 regularisation of every user and item vector"},
      {"reg_exponent", "float", "0", 0, 2, {},
       "per-row regularisation reg * (1 + interactions of the row)^reg_exponent (0 = plain reg)"},
      {"alpha", "float", "2", 0, 1e6, {}, "confidence slope: c = 1 + alpha * value (or its log form)"},
      {"confidence", "choice", "linear", 0, 0, {"linear", "log"},
       "linear: c = 1 + alpha*value; log: c = 1 + alpha*log(1 + value/epsilon)"},
      {"epsilon", "float", "1", 1e-9, 1e9, {}, "value scale of the log confidence"},
      {"solver", "choice", "cg", 0, 0, {"cg", "cholesky"},
       "cg: cg_steps warm-started conjugate-gradient steps per row (fast); cholesky: exact solves"},
      {"cg_steps", "int", "3", 1, 1024, {}, "conjugate-gradient steps per row and half-step (solver=cg)"},
      {"seed", "int", "42", 0, 2147483647, {}, "seed of the random initial factors"},
      {"init_scale", "float", "0.01", 1e-6, 10, {}, "initial factors are uniform in [0, init_scale)"},
  };
  return specs;
}

Ials::Ials(const OptionMap& options) : Ials(OptionReader("ials", optionSpecs(), options)) {}

Ials::Ials(const OptionReader& reader)
    : Recommender(reader.resolved()),
      factors_(reader.getInt("factors")),
      iterations_(reader.getInt("iterations")),
      reg_(reader.getFloat("reg")),
      regExponent_(reader.getFloat("reg_exponent")),
      alpha_(reader.getFloat("alpha")),
      logConfidence_(reader.getChoice("confidence") == "log"),
      epsilon_(reader.getFloat("epsilon")),
      cholesky_(reader.getChoice("solver") == "cholesky"),
      cgSteps_(reader.getInt("cg_steps")),
      seed_(reader.getInt("seed")),
      initScale_(reader.getFloat("init_scale")) {
  reader.finish();
}

float Ials::confidenceMinusOne(float value) const {
  return static_cast<float>(logConfidence_ ? alpha_ * std::log1p(static_cast<double>(value) / epsilon_)
                                           : alpha_ * value);
}

void Ials::checkTrain(const InteractionMatrix& train, const char* where) const {
  const Csr& byUser = train.byUser();
  for (Index u = 0; u < byUser.rows; ++u) {
    const auto values = byUser.rowValues(u);
    for (size_t t = 0; t < values.size(); ++t)
      if (!std::isfinite(values[t]) || values[t] < 0)
        fail<InvalidArgument>("ials.", where, ": user ", u, ", item ", byUser.rowIndices(u)[t], " has value ",
                              values[t], "; confidence needs finite values >= 0");
  }
}

void Ials::solveSide(const Csr& rows, const std::vector<float>& other, std::vector<float>& factors,
                     const std::vector<Index>* which, Progress& progress, double fractionBase,
                     double fractionSpan, const char* stage) {
  const int k = factors_;
  const Index nOther = static_cast<Index>(other.size() / k);
  const Index count = which ? static_cast<Index>(which->size()) : rows.rows;
  progress.report(fractionBase, stage);

  if (cholesky_) {
    const Eigen::MatrixXd gram = gramDouble(other, nOther, k, 0.0);
    Eigen::MatrixXd A;
    Eigen::VectorXd b;
    std::vector<double> w;
    for (Index n = 0; n < count; ++n) {
      const Index e = which ? (*which)[n] : n;
      const auto idx = rows.rowIndices(e);
      const auto vals = rows.rowValues(e);
      w.resize(idx.size());
      for (size_t t = 0; t < idx.size(); ++t) w[t] = confidenceMinusOne(vals[t]);
      buildSystem(gram, regFor(idx.size()), other.data(), k, idx, w, A, b);
      const Eigen::VectorXd x = solveSpd(A, b);
      float* out = factors.data() + static_cast<size_t>(e) * k;
      for (int d = 0; d < k; ++d) out[d] = static_cast<float>(x[d]);
      if (n % kReportEvery == kReportEvery - 1)
        progress.report(fractionBase + fractionSpan * (n + 1) / count, stage);
    }
    return;
  }

  // Conjugate gradient on A x = b, A = G + Y_u^T (C_u - I) Y_u, b = Y_u^T C_u 1,
  // warm-started from the current x. A p = G p (a k x k gemv) plus, per
  // interaction, (c_j - 1)(y_j . p) y_j (a dot and an axpy).
  const std::vector<float> gram = gramFloat(other, nOther, k, 0.0);
  const float* G = gram.data();
  const float* Y = other.data();
  std::vector<float> r(k), p(k), ap(k), w, base, negW;
  for (Index n = 0; n < count; ++n) {
    const Index e = which ? (*which)[n] : n;
    const auto idx = rows.rowIndices(e);
    const auto vals = rows.rowValues(e);
    const size_t m = idx.size();
    float* x = factors.data() + static_cast<size_t>(e) * k;
    if (m == 0) {
      // b = 0: the exact solution is 0, no need to iterate towards it.
      std::fill(x, x + k, 0.0f);
    } else {
      w.resize(m);
      base.resize(m);
      negW.resize(m);
      for (size_t t = 0; t < m; ++t) {
        w[t] = confidenceMinusOne(vals[t]);
        base[t] = 1.0f + w[t];
        negW[t] = -w[t];
      }
      const float reg = static_cast<float>(regFor(m));
      // r = b - A x = -(G + reg I) x + sum_j ((1 + w_j) - w_j (y_j . x)) y_j
      linalg::symv(G, x, r.data(), k);
      for (int d = 0; d < k; ++d) r[d] = -r[d] - reg * x[d];
      linalg::sparseGramApply(Y, idx.data(), base.data(), negW.data(), m, x, r.data(), k);
      std::copy(r.begin(), r.end(), p.begin());
      float rs = linalg::dot(r.data(), r.data(), k);
      for (int step = 0; step < cgSteps_; ++step) {
        if (!(rs > 1e-20f)) break;  // converged (also stops on NaN)
        linalg::symv(G, p.data(), ap.data(), k);
        linalg::axpy(reg, p.data(), ap.data(), k);
        linalg::sparseGramApply(Y, idx.data(), nullptr, w.data(), m, p.data(), ap.data(), k);
        const float pap = linalg::dot(p.data(), ap.data(), k);
        if (!(pap > 0)) break;
        const float a = rs / pap;
        linalg::axpy(a, p.data(), x, k);
        linalg::axpy(-a, ap.data(), r.data(), k);
        const float rsNew = linalg::dot(r.data(), r.data(), k);
        const float beta = rsNew / rs;
        for (int d = 0; d < k; ++d) p[d] = r[d] + beta * p[d];
        rs = rsNew;
      }
    }
    if (n % kReportEvery == kReportEvery - 1)
      progress.report(fractionBase + fractionSpan * (n + 1) / count, stage);
  }
}

double Ials::regFor(size_t count) const {
  return regExponent_ == 0 ? reg_ : reg_ * std::pow(static_cast<double>(count) + 1.0, regExponent_);
}

void Ials::refreshItemGram() {
  const Eigen::MatrixXd g = gramDouble(items_, static_cast<Index>(items_.size() / factors_), factors_, 0.0);
  itemGram_.assign(g.data(), g.data() + g.size());
  // The fallback user for histories that carry no information: the mean training user.
  meanUser_.assign(static_cast<size_t>(factors_), 0.0f);
  if (numUsers_ > 0) {
    std::vector<double> sum(static_cast<size_t>(factors_), 0.0);
    for (Index u = 0; u < numUsers_; ++u)
      for (int d = 0; d < factors_; ++d) sum[d] += users_[static_cast<size_t>(u) * factors_ + d];
    for (int d = 0; d < factors_; ++d) meanUser_[d] = static_cast<float>(sum[d] / numUsers_);
  }
}

void Ials::fitImpl(const InteractionMatrix& train, Progress& progress) {
  checkTrain(train, "fit");
  const int k = factors_;
  numUsers_ = train.numUsers();
  Rng rng(static_cast<uint64_t>(seed_));
  users_.resize(static_cast<size_t>(numUsers_) * k);
  items_.resize(static_cast<size_t>(train.numItems()) * k);
  const float scale = static_cast<float>(initScale_);
  for (float& v : users_) v = rng.uniform(0.0f, scale);
  for (float& v : items_) v = rng.uniform(0.0f, scale);

  const double halfSteps = 2.0 * iterations_ + 1;
  for (int it = 0; it < iterations_; ++it) {
    solveSide(train.byUser(), items_, users_, nullptr, progress, (2 * it) / halfSteps, 1 / halfSteps, "users");
    solveSide(train.byItem(), users_, items_, nullptr, progress, (2 * it + 1) / halfSteps, 1 / halfSteps,
              "items");
  }
  // The stored user factors are then those of the final item factors.
  solveSide(train.byUser(), items_, users_, nullptr, progress, (halfSteps - 1) / halfSteps, 1 / halfSteps,
            "users");
  refreshItemGram();
  progress.report(1.0, "done");
}

void Ials::setFactors(Index numUsers, Index numItems, std::vector<float> userFactors,
                      std::vector<float> itemFactors) {
  if (numUsers < 0 || numItems <= 0)
    fail<InvalidArgument>("ials.setFactors: need numUsers >= 0 and numItems > 0, got ", numUsers, " and ",
                          numItems);
  if (userFactors.size() != static_cast<size_t>(numUsers) * factors_ ||
      itemFactors.size() != static_cast<size_t>(numItems) * factors_)
    fail<InvalidArgument>("ials.setFactors: expected ", numUsers, " x ", factors_, " user and ", numItems,
                          " x ", factors_, " item factors, got ", userFactors.size(), " and ",
                          itemFactors.size(), " values");
  numUsers_ = numUsers;
  users_ = std::move(userFactors);
  items_ = std::move(itemFactors);
  refreshItemGram();
  setFitted(numItems);
}

void Ials::solveUsers(const InteractionMatrix& train) {
  if (!fitted() || train.numUsers() != numUsers_ || train.numItems() != numItems())
    fail<InvalidArgument>("ials.solveUsers: the data (", train.numUsers(), " x ", train.numItems(),
                          ") does not match the factors (", numUsers_, " x ", numItems(), ")");
  checkTrain(train, "solveUsers");
  solveSide(train.byUser(), items_, users_, nullptr, Progress::none(), 0, 1, "users");
}

void Ials::solveItems(const InteractionMatrix& train) {
  if (!fitted() || train.numUsers() != numUsers_ || train.numItems() != numItems())
    fail<InvalidArgument>("ials.solveItems: the data (", train.numUsers(), " x ", train.numItems(),
                          ") does not match the factors (", numUsers_, " x ", numItems(), ")");
  checkTrain(train, "solveItems");
  solveSide(train.byItem(), users_, items_, nullptr, Progress::none(), 0, 1, "items");
  refreshItemGram();
}

double Ials::loss(const InteractionMatrix& train) const {
  if (!fitted() || train.numUsers() != numUsers_ || train.numItems() != numItems())
    fail<InvalidArgument>("ials.loss: the data (", train.numUsers(), " x ", train.numItems(),
                          ") does not match the factors (", numUsers_, " x ", numItems(), ")");
  const int k = factors_;
  // sum over all pairs of s^2 = sum_u x_u^T (Y^T Y) x_u; observed pairs then
  // replace their s^2 by c (1 - s)^2.
  const Eigen::MatrixXd gy = gramDouble(items_, numItems(), k, 0.0);
  Eigen::Map<const RowMatF> X(users_.data(), numUsers_, k);
  const RowMatD Xd = X.cast<double>();
  double total = ((Xd * gy).array() * Xd.array()).sum();
  const Csr& byUser = train.byUser();
  for (Index u = 0; u < numUsers_; ++u) {
    const auto idx = byUser.rowIndices(u);
    const auto vals = byUser.rowValues(u);
    const float* x = users_.data() + static_cast<size_t>(u) * k;
    for (size_t t = 0; t < idx.size(); ++t) {
      const float* y = items_.data() + static_cast<size_t>(idx[t]) * k;
      double s = 0;
      for (int d = 0; d < k; ++d) s += static_cast<double>(x[d]) * y[d];
      const double c = 1.0 + confidenceMinusOne(vals[t]);
      total += c * (1 - s) * (1 - s) - s * s;
    }
  }
  auto penalty = [&](const std::vector<float>& f, const Csr& rows) {
    double sum = 0;
    for (Index e = 0; e < rows.rows; ++e) {
      double norm = 0;
      for (int d = 0; d < k; ++d) norm += static_cast<double>(f[static_cast<size_t>(e) * k + d]) * f[static_cast<size_t>(e) * k + d];
      sum += regFor(static_cast<size_t>(rows.rowSize(e))) * norm;
    }
    return sum;
  };
  return total + penalty(users_, train.byUser()) + penalty(items_, train.byItem());
}

void Ials::updateImpl(const InteractionMatrix& train, std::span<const Index> changedUsers, Progress& progress) {
  if (train.numUsers() < numUsers_)
    fail<InvalidArgument>("ials.update: the data has ", train.numUsers(), " users, fewer than the ", numUsers_,
                          " the model was fitted on");
  checkTrain(train, "update");

  std::vector<Index> which(changedUsers.begin(), changedUsers.end());
  for (Index u = numUsers_; u < train.numUsers(); ++u) which.push_back(u);
  std::sort(which.begin(), which.end());
  which.erase(std::unique(which.begin(), which.end()), which.end());

  // Work on copies so a cancelled update leaves the model as it was.
  std::vector<float> users = users_;
  users.resize(static_cast<size_t>(train.numUsers()) * factors_, 0.0f);  // new users start at zero
  std::vector<float> items = items_;
  solveSide(train.byUser(), items, users, &which, progress, 0.0, 0.5, "users");
  solveSide(train.byItem(), users, items, nullptr, progress, 0.5, 0.5, "items");
  progress.report(1.0, "done");
  numUsers_ = train.numUsers();
  users_ = std::move(users);
  items_ = std::move(items);
  refreshItemGram();
}

std::vector<float> Ials::foldIn(const History& history) const {
  if (!fitted()) fail<StateError>("ials.foldIn: the model is not fitted; call fit() or load() first");
  const int k = factors_;
  for (size_t t = 0; t < history.items.size(); ++t)
    if (history.items[t] < 0 || history.items[t] >= numItems())
      fail<InvalidArgument>("history[", t, "]: item ", history.items[t], " outside the catalog [0, ", numItems(),
                            ")");
  if (history.hasValues()) {
    if (history.values.size() != history.items.size())
      fail<InvalidArgument>("history: ", history.values.size(), " values for ", history.items.size(), " items");
    for (size_t t = 0; t < history.values.size(); ++t)
      if (!std::isfinite(history.values[t]) || history.values[t] < 0)
        fail<InvalidArgument>("history[", t, "]: value ", history.values[t],
                              " is not allowed; ials needs finite values >= 0");
  }
  std::vector<float> x(static_cast<size_t>(k), 0.0f);
  if (!informative(history)) return meanUser_;
  std::vector<double> w(history.size());
  for (size_t t = 0; t < w.size(); ++t) w[t] = confidenceMinusOne(history.hasValues() ? history.values[t] : 1.0f);
  const Eigen::Map<const Eigen::MatrixXd> gram(itemGram_.data(), k, k);
  Eigen::MatrixXd A;
  Eigen::VectorXd b;
  buildSystem(gram, regFor(history.size()), items_.data(), k, history.items, w, A, b);
  const Eigen::VectorXd xd = solveSpd(A, b);
  for (int d = 0; d < k; ++d) x[d] = static_cast<float>(xd[d]);
  return x;
}

bool Ials::informative(const History& history) const {
  for (Index i : history.items) {
    const float* y = items_.data() + static_cast<size_t>(i) * factors_;
    for (int d = 0; d < factors_; ++d)
      if (y[d] != 0.0f) return true;
  }
  return false;
}

void Ials::scoreImpl(const History& history, std::span<float> out) const {
  const std::vector<float> x = foldIn(history);
  linalg::gemv(items_.data(), static_cast<size_t>(numItems()), factors_, factors_, x.data(), out.data());
}

std::vector<Contribution> Ials::explainImpl(const History& history, Index item, size_t maxCount) const {
  const std::vector<float> x = foldIn(history);  // also validates the values as scoring does
  if (maxCount == 0) return {};
  if (!informative(history)) {
    // No history item carries information: the score is the mean user's (source -1).
    return {Contribution{-1, linalg::dot(x.data(), items_.data() + static_cast<size_t>(item) * factors_, factors_)}};
  }
  const int k = factors_;
  std::vector<double> w(history.size());
  for (size_t t = 0; t < w.size(); ++t) w[t] = confidenceMinusOne(history.hasValues() ? history.values[t] : 1.0f);
  const Eigen::Map<const Eigen::MatrixXd> gram(itemGram_.data(), k, k);
  Eigen::MatrixXd A;
  Eigen::VectorXd b;
  buildSystem(gram, regFor(history.size()), items_.data(), k, history.items, w, A, b);
  // W y_i, then s_ij c_j = (W y_i) . y_j c_j for every history position j.
  Eigen::VectorXd yi(k);
  const float* yiF = items_.data() + static_cast<size_t>(item) * k;
  for (int d = 0; d < k; ++d) yi[d] = yiF[d];
  const Eigen::VectorXd wy = solveSpd(A, yi);
  std::vector<Contribution> all(history.size());
  for (size_t t = 0; t < history.size(); ++t) {
    const float* yj = items_.data() + static_cast<size_t>(history.items[t]) * k;
    double s = 0;
    for (int d = 0; d < k; ++d) s += wy[d] * yj[d];
    all[t] = {static_cast<Index>(t), static_cast<float>(s * (1.0 + w[t]))};
  }
  // Strongest first; ties (and NaN from a damaged model) by position, deterministically.
  auto key = [](float v) { return std::isnan(v) ? -INFINITY : v; };
  std::stable_sort(all.begin(), all.end(),
                   [&](const Contribution& a, const Contribution& b) { return key(a.weight) > key(b.weight); });
  if (all.size() > maxCount) all.resize(maxCount);
  return all;
}

void Ials::save(Writer& out) const {
  if (!fitted()) fail<StateError>("ials.save: the model is not fitted");
  out.u32(kLayoutVersion);
  out.i32(factors_);
  out.i32(numUsers_);
  out.i32(numItems());
  out.floats(items_);
  out.floats(users_);
}

void Ials::loadImpl(Reader& in) {
  const uint32_t version = in.u32("ials layout version");
  if (version != kLayoutVersion)
    fail<FormatError>(in.what(), ": ials layout version ", version, " is not supported (expected ",
                      kLayoutVersion, ")");
  const int32_t k = in.i32("ials factors");
  if (k != factors_)
    fail<FormatError>(in.what(), ": ials parameters have ", k, " factors, the options say ", factors_);
  const int32_t nu = in.i32("ials users");
  const int32_t ni = in.i32("ials items");
  if (nu < 0 || ni <= 0) fail<FormatError>(in.what(), ": ials shape ", nu, " users x ", ni, " items is invalid");
  // Check the sizes against the bytes left before allocating (and before a
  // size_t product can overflow in 32-bit wasm).
  const uint64_t itemCount = static_cast<uint64_t>(ni) * static_cast<uint64_t>(k);
  const uint64_t userCount = static_cast<uint64_t>(nu) * static_cast<uint64_t>(k);
  if ((itemCount + userCount) * 4 + 16 > in.remaining())
    fail<FormatError>(in.what(), ": ials parameters are truncated (", nu, " users and ", ni, " items of ", k,
                      " factors need more than the ", in.remaining(), " bytes left)");
  auto items = in.floats("ials item factors", static_cast<size_t>(itemCount));
  auto users = in.floats("ials user factors", static_cast<size_t>(userCount));
  for (size_t i = 0; i < items.size(); ++i)
    if (!std::isfinite(items[i])) fail<FormatError>(in.what(), ": ials item factor ", i, " is not finite");
  for (size_t i = 0; i < users.size(); ++i)
    if (!std::isfinite(users[i])) fail<FormatError>(in.what(), ": ials user factor ", i, " is not finite");
  numUsers_ = nu;
  users_ = std::move(users);
  items_ = std::move(items);
  refreshItemGram();
  setFitted(ni);
}

}  // namespace localrec

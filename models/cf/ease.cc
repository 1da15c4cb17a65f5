#include "models/cf/ease.h"

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/error.h"
#include "io/serialize.h"
#include "linalg/kernels.h"

namespace localrec {

namespace {

constexpr uint32_t kLayoutVersion = 1;
// Pivot block size of the inverse: small enough that one step of work (a GEMM
// of at most 128 x W x 128) ends well within 100 ms in
// wasm at W = 10,000, so a cancel lands quickly; large enough for GEMM speed.
constexpr size_t kBlock = 128;

std::string megabytes(double bytes) {
  char text[64];
  std::snprintf(text, sizeof text, "%.1f MB", bytes / (1024.0 * 1024.0));
  return text;
}

// Reports progress through one phase of the fit, which spans [from, to] of the
// whole, as a count of equal-ish steps (monotone, as the contract requires).
class Phase {
 public:
  Phase(Progress& progress, double from, double to, const char* stage, double steps)
      : progress_(progress), from_(from), to_(to), stage_(stage), steps_(std::max(1.0, steps)) {}
  void step() {
    done_ += 1;
    progress_.report(from_ + (to_ - from_) * std::min(1.0, done_ / steps_), stage_);
  }

 private:
  Progress& progress_;
  double from_, to_;
  const char* stage_;
  double steps_, done_ = 0;
};

// C = alpha * op(A) * B + beta * C on row-major matrices (the linalg::gemm
// contract): float goes through linalg::gemm (the packed SIMD kernel in
// wasm), double through Eigen.
template <class T>
void multiply(bool transposeA, size_t m, size_t n, size_t k, T alpha, const T* A, size_t lda, const T* B,
              size_t ldb, T beta, T* C, size_t ldc) {
  if constexpr (std::is_same_v<T, float>) {
    linalg::gemm(transposeA ? linalg::Op::kTranspose : linalg::Op::kNone, linalg::Op::kNone, m, n, k, alpha, A,
                 lda, B, ldb, beta, C, ldc);
  } else {
    using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using E = Eigen::Index;
    Eigen::Map<RowMajor, Eigen::Unaligned, Eigen::OuterStride<>> c(C, E(m), E(n), Eigen::OuterStride<>(E(ldc)));
    Eigen::Map<const RowMajor, Eigen::Unaligned, Eigen::OuterStride<>> b(B, E(k), E(n),
                                                                          Eigen::OuterStride<>(E(ldb)));
    if (beta == T(0)) c.setZero();
    else if (beta != T(1)) c *= beta;
    if (transposeA) {
      Eigen::Map<const RowMajor, Eigen::Unaligned, Eigen::OuterStride<>> a(A, E(k), E(m),
                                                                            Eigen::OuterStride<>(E(lda)));
      c.noalias() += alpha * a.transpose() * b;
    } else {
      Eigen::Map<const RowMajor, Eigen::Unaligned, Eigen::OuterStride<>> a(A, E(m), E(k),
                                                                            Eigen::OuterStride<>(E(lda)));
      c.noalias() += alpha * a * b;
    }
  }
}

// The dense linear algebra of the fit, in place on one W x W row-major buffer
// holding a symmetric matrix by its upper triangle (a[i * W + j], j >= i).
//
// The inverse comes from block Gauss-Jordan sweeps (Goodnight 1979): sweeping
// pivot block K of a symmetric A with D = A_KK^-1 sets, for i, j outside K,
//   A_ij -= A_iK D A_Kj,   A_iK := A_iK D,   A_KK := -D,
// and sweeping every block in turn leaves -A^-1. Each pivot's pivot block is
// a Schur complement of the positive definite G, so its Cholesky never fails
// for a well-posed G. Per pivot the work is one rank-128 update of the upper
// triangle: about W^3 flops in all, the same as Cholesky + triangular inverse
// + L^-T L^-1, but as a few large GEMMs with a depth of 128 instead of the
// triangular solves and products (slow in wasm) of the factorization route.
template <class T>
class InPlaceInverse {
 public:
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

  InPlaceInverse(T* data, size_t n)
      : a_(data), n_(n), blocks_((n + kBlock - 1) / kBlock), ut_(static_cast<size_t>(kBlock) * n), v_(ut_.size()) {}

  // Steps invert() reports: one per pivot and row block.
  double steps() const { return static_cast<double>(blocks_) * blocks_; }

  // Replaces the upper triangle of G with the upper triangle of -G^-1.
  void invert(Phase& phase) {
    const size_t block = static_cast<size_t>(kBlock);
    for (size_t k0 = 0; k0 < n_; k0 += block) {
      const size_t b = std::min(block, n_ - k0), k1 = k0 + b;
      // Ut (b x n) = rows K of A; its columns inside K stay zero.
      std::fill(ut_.begin(), ut_.end(), T(0));
      for (size_t i = 0; i < k0; ++i)
        for (size_t p = 0; p < b; ++p) ut_[p * n_ + i] = a_[i * n_ + k0 + p];
      for (size_t p = 0; p < b; ++p)
        std::copy(a_ + (k0 + p) * n_ + k1, a_ + (k0 + p) * n_ + n_, ut_.data() + p * n_ + k1);
      // D = A_KK^-1 through its Cholesky factor.
      Mat pivot(static_cast<Eigen::Index>(b), static_cast<Eigen::Index>(b));
      for (size_t p = 0; p < b; ++p)
        for (size_t q = p; q < b; ++q) pivot(p, q) = pivot(q, p) = a_[(k0 + p) * n_ + k0 + q];
      Eigen::LLT<Mat> llt(pivot);
      if (llt.info() != Eigen::Success)
        fail<Error>("ease: X^T X + lambda I is not numerically positive definite near warm item ", k0,
                    "; increase lambda or use precision=double");
      const Mat d = llt.solve(Mat::Identity(pivot.rows(), pivot.cols()));  // symmetric: row- = column-major
      // V (n x b) = A_:K D = Ut^T D.
      multiply<T>(true, n_, b, b, T(1), ut_.data(), n_, d.data(), b, T(0), v_.data(), b);
      // A_IJ -= V_I Ut_J over the upper triangle outside K, one row block at a time.
      for (size_t i0 = 0; i0 < n_; i0 += block) {
        const size_t rows = std::min(block, n_ - i0);
        if (i0 != k0) {
          if (i0 < k0) update(i0, rows, i0, k0, b);
          update(i0, rows, std::max(i0, k1), n_, b);
        }
        phase.step();
      }
      // A_iK := V_i, A_KK := -D.
      for (size_t i = 0; i < k0; ++i) std::copy(v_.data() + i * b, v_.data() + i * b + b, a_ + i * n_ + k0);
      for (size_t i = k1; i < n_; ++i)
        for (size_t p = 0; p < b; ++p) a_[(k0 + p) * n_ + i] = v_[i * b + p];
      for (size_t p = 0; p < b; ++p)
        for (size_t q = p; q < b; ++q) a_[(k0 + p) * n_ + k0 + q] = -d(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(q));
    }
  }

  // Copies the upper triangle onto the lower one, in tiles (cache friendly).
  void symmetrize() {
    constexpr size_t tile = 64;
    for (size_t ic = 0; ic < n_; ic += tile)
      for (size_t jc = ic; jc < n_; jc += tile)
        for (size_t i = ic; i < std::min(ic + tile, n_); ++i)
          for (size_t j = std::max(jc, i + 1); j < std::min(jc + tile, n_); ++j) a_[j * n_ + i] = a_[i * n_ + j];
  }

 private:
  // A[i0 .. i0 + rows, j0 .. j1) -= V[i0 .. i0 + rows, :] Ut[:, j0 .. j1).
  void update(size_t i0, size_t rows, size_t j0, size_t j1, size_t b) {
    if (j1 <= j0) return;
    multiply<T>(false, rows, j1 - j0, b, T(-1), v_.data() + i0 * b, b, ut_.data() + j0, n_, T(1), a_ + i0 * n_ + j0,
                n_);
  }

  T* a_;
  size_t n_, blocks_;
  std::vector<T> ut_, v_;
};

// Fits B over the W warm items of `train` into `b` (row-major, W x W floats).
template <class T>
void fitWeights(const InteractionMatrix& train, const std::vector<Index>& warmOf, Index w, double lambda,
                double dropout, bool useValues, Progress& progress, std::vector<float>& b) {
  const size_t n = static_cast<size_t>(w);
  std::vector<T> a(n * n, T(0));  // row-major; G's upper triangle first

  // G = X^T X (upper triangle) by one pass over the users' co-occurrences.
  Phase gram(progress, 0.0, 0.08, "co-occurrence", train.numUsers() / 256.0 + 1);
  const Csr& byUser = train.byUser();
  std::vector<std::pair<Index, T>> row;
  for (Index u = 0; u < train.numUsers(); ++u) {
    row.clear();
    const auto items = byUser.rowIndices(u);
    const auto values = byUser.rowValues(u);
    for (size_t k = 0; k < items.size(); ++k) {
      const Index wi = warmOf[items[k]];
      if (wi >= 0) row.push_back({wi, useValues ? static_cast<T>(values[k]) : T(1)});
    }
    std::sort(row.begin(), row.end());
    for (size_t p = 0; p < row.size(); ++p) {
      T* upper = a.data() + static_cast<size_t>(row[p].first) * n;  // row p, columns >= p
      const T xp = row[p].second;
      for (size_t q = p; q < row.size(); ++q) upper[row[q].first] += xp * row[q].second;
    }
    if ((u & 255) == 255) gram.step();
  }
  // Dropout emphasis (Steck 2020, EDLAE): an L2 penalty proportional to each
  // item's own diagonal, p / (1 - p) * (X^T X)_jj, on top of the plain lambda.
  const double emphasis = dropout / (1.0 - dropout);
  for (size_t i = 0; i < n; ++i) a[i * n + i] += static_cast<T>(lambda + emphasis * static_cast<double>(a[i * n + i]));

  InPlaceInverse<T> inverse(a.data(), n);
  Phase sweeps(progress, 0.08, 0.97, "inverse", inverse.steps());
  inverse.invert(sweeps);
  inverse.symmetrize();
  progress.report(0.97, "weights");

  // The buffer now holds Q = -P, P = G^-1, symmetric. B_ji = -P_ji / P_ii =
  // -Q_ji / Q_ii, so row j of B is row j of Q scaled elementwise by -1 / diag(Q).
  std::vector<T> scale(n);
  for (size_t i = 0; i < n; ++i) {
    const T d = a[i * n + i];
    if (!(d < T(0)) || !std::isfinite(static_cast<double>(d)))
      fail<Error>("ease: the inverse of X^T X + lambda I is numerically unstable (diagonal ", -static_cast<double>(d),
                  " at warm item ", i, "); increase lambda or use precision=double");
    scale[i] = T(-1) / d;
  }
  // In float the buffer becomes B in place (peak memory W^2 floats); in double
  // B is a second, float buffer.
  if constexpr (!std::is_same_v<T, float>) b.resize(n * n);
  for (size_t j = 0; j < n; ++j) {
    const T* p = a.data() + j * n;
    float* out = std::is_same_v<T, float> ? reinterpret_cast<float*>(a.data()) + j * n : b.data() + j * n;
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(p[i] * scale[i]);
    out[j] = 0.0f;
    if ((j & 511) == 0) progress.report(0.97 + 0.03 * static_cast<double>(j) / n, "weights");
  }
  if constexpr (std::is_same_v<T, float>) b = std::move(a);
}

}  // namespace

const std::vector<OptionSpec>& Ease::optionSpecs() {
  static const std::vector<OptionSpec> specs = {
      {"lambda", "float", "200", 1e-3, 1e9, {},
       "L2 regularization added to the diagonal of X^T X (Steck used 500 on ML-20M; 200 tuned on ml-latest-small)"},
      {"dropout", "float", "0", 0, 0.95, {},
       "EDLAE emphasis (Steck 2020): adds dropout/(1-dropout) * (X^T X)_jj to item j's diagonal penalty"},
      {"weighting", "choice", "binary", 0, 0, {"binary", "value"},
       "X entries: 1 per interaction (binary) or the interaction value (value); history values likewise"},
      {"min_support", "int", "5", 1, 1000000, {},
       "only items with at least this many training interactions get weights (others score 0)"},
      {"max_items", "int", "20000", 1, 46340, {},
       "refuse to fit when more items than this would enter the model (B needs items^2 floats)"},
      {"precision", "choice", "float", 0, 0, {"float", "double"},
       "arithmetic of the inverse: float (half the memory) or double (for tiny lambda)"},
  };
  return specs;
}

Ease::Ease(const OptionMap& options) : Ease(OptionReader("ease", optionSpecs(), options)) {}

Ease::Ease(const OptionReader& reader)
    : Recommender(reader.resolved()),
      lambda_(reader.getFloat("lambda")),
      dropout_(reader.getFloat("dropout")),
      useValues_(reader.getChoice("weighting") == "value"),
      minSupport_(reader.getInt("min_support")),
      maxItems_(reader.getInt("max_items")),
      doublePrecision_(reader.getChoice("precision") == "double") {
  reader.finish();
}

void Ease::fitImpl(const InteractionMatrix& train, Progress& progress) {
  const Csr& byItem = train.byItem();
  for (Index i = 0; i < train.numItems(); ++i)
    for (float v : byItem.rowValues(i))
      if (!std::isfinite(v)) fail<InvalidArgument>("ease.fit: a training value of item ", i, " is not finite (", v, ")");

  const Index numItems = train.numItems();
  std::vector<Index> warm, warmOf(static_cast<size_t>(numItems), -1);
  std::vector<float> popularity(static_cast<size_t>(numItems));
  const double users = std::max<Index>(1, train.numUsers());
  for (Index i = 0; i < numItems; ++i) {
    popularity[i] = static_cast<float>(byItem.rowSize(i) / users);
    if (byItem.rowSize(i) >= minSupport_) {
      warmOf[i] = static_cast<Index>(warm.size());
      warm.push_back(i);
    }
  }
  const Index w = static_cast<Index>(warm.size());
  const double bytes = static_cast<double>(w) * w * 4.0;
  if (w > maxItems_)
    fail<InvalidArgument>("ease: EASE needs ", w, " x ", w, " floats = ", megabytes(bytes), " (", w,
                          " items with at least min_support=", minSupport_,
                          " interactions); the limit is max_items=", maxItems_,
                          "; use item_knn or ials for larger catalogs, or raise min_support or max_items");
  progress.report(0.0, "co-occurrence");

  std::vector<float> b;
  if (w > 0) {
    try {
      if (doublePrecision_)
        fitWeights<double>(train, warmOf, w, lambda_, dropout_, useValues_, progress, b);
      else
        fitWeights<float>(train, warmOf, w, lambda_, dropout_, useValues_, progress, b);
    } catch (const std::bad_alloc&) {
      fail<Error>("ease: out of memory allocating ", w, " x ", w, " ", doublePrecision_ ? "doubles" : "floats",
                  " (", megabytes(bytes * (doublePrecision_ ? 3 : 1)),
                  "); lower max_items, raise min_support, or use item_knn or ials");
    } catch (const std::length_error&) {
      fail<Error>("ease: out of memory allocating ", w, " x ", w, " ", doublePrecision_ ? "doubles" : "floats",
                  " (", megabytes(bytes * (doublePrecision_ ? 3 : 1)),
                  "); lower max_items, raise min_support, or use item_knn or ials");
    }
  }
  progress.report(1.0, "done");
  warm_ = std::move(warm);
  warmOf_ = std::move(warmOf);
  b_ = std::move(b);
  popularity_ = std::move(popularity);
}

std::vector<float> Ease::historyWeights(const History& history) const {
  std::vector<float> weights(history.size(), 1.0f);
  for (size_t k = 0; k < history.values.size(); ++k) {
    if (!std::isfinite(history.values[k]))
      fail<InvalidArgument>("ease: history value ", k, " (item ", history.items[k], ") is not finite");
    if (useValues_) weights[k] = history.values[k];
  }
  return weights;
}

bool Ease::anyWarm(const History& history, const std::vector<float>& weights) const {
  for (size_t k = 0; k < history.size(); ++k)
    if (warmOf_[history.items[k]] >= 0 && weights[k] != 0.0f) return true;
  return false;
}

void Ease::scoreImpl(const History& history, std::span<float> out) const {
  const auto weights = historyWeights(history);
  if (!anyWarm(history, weights)) {
    std::copy(popularity_.begin(), popularity_.end(), out.begin());
    return;
  }
  const size_t w = warm_.size();
  const bool allWarm = w == out.size();
  std::vector<float> compact(allWarm ? 0 : w, 0.0f);
  float* acc = allWarm ? out.data() : compact.data();
  if (allWarm) std::fill(out.begin(), out.end(), 0.0f);
  for (size_t k = 0; k < history.size(); ++k) {
    const Index j = warmOf_[history.items[k]];
    if (j >= 0 && weights[k] != 0.0f) linalg::axpy(weights[k], b_.data() + static_cast<size_t>(j) * w, acc, w);
  }
  if (!allWarm) {
    std::fill(out.begin(), out.end(), 0.0f);
    for (size_t a = 0; a < w; ++a) out[warm_[a]] = compact[a];
  }
}

std::vector<Contribution> Ease::explainImpl(const History& history, Index item, size_t maxCount) const {
  if (maxCount == 0) return {};
  const auto weights = historyWeights(history);
  if (!anyWarm(history, weights)) return {Contribution{-1, popularity_[item]}};
  const Index target = warmOf_[item];
  if (target < 0) return {};
  const size_t w = warm_.size();
  std::vector<Contribution> all;
  for (size_t k = 0; k < history.size(); ++k) {
    const Index j = warmOf_[history.items[k]];
    if (j < 0) continue;
    const float c = weights[k] * b_[static_cast<size_t>(j) * w + target];
    if (c > 0.0f) all.push_back({static_cast<Index>(k), c});
  }
  const size_t keep = std::min(maxCount, all.size());
  std::partial_sort(all.begin(), all.begin() + keep, all.end(), [](const Contribution& x, const Contribution& y) {
    return x.weight != y.weight ? x.weight > y.weight : x.source < y.source;
  });
  all.resize(keep);
  return all;
}

// PARM: u32 layout 1, ints warm items (ascending catalog indices), floats
// popularity (one per catalog item), floats B (W x W row-major).
void Ease::save(Writer& out) const {
  out.u32(kLayoutVersion);
  out.ints(warm_);
  out.floats(popularity_);
  out.floats(b_);
}

void Ease::loadImpl(Reader& in) {
  const uint32_t layout = in.u32("ease layout");
  if (layout != kLayoutVersion) fail<FormatError>(in.what(), ": ease parameter layout ", layout, " is not 1");
  auto warm = in.ints("ease warm items");
  auto popularity = in.floats("ease popularity");
  const size_t numItems = popularity.size();
  if (numItems == 0 || numItems > 0x7fffffff) fail<FormatError>(in.what(), ": ease catalog of ", numItems, " items");
  if (warm.size() > numItems)
    fail<FormatError>(in.what(), ": ease has ", warm.size(), " warm items in a catalog of ", numItems);
  std::vector<Index> warmOf(numItems, -1);
  for (size_t a = 0; a < warm.size(); ++a) {
    if (warm[a] < 0 || static_cast<size_t>(warm[a]) >= numItems || (a > 0 && warm[a] <= warm[a - 1]))
      fail<FormatError>(in.what(), ": ease warm item ", a, " (", warm[a],
                        ") is out of order or outside the catalog");
    warmOf[warm[a]] = static_cast<Index>(a);
  }
  for (size_t i = 0; i < numItems; ++i)
    if (!std::isfinite(popularity[i]) || popularity[i] < 0)
      fail<FormatError>(in.what(), ": ease popularity ", i, " is not a finite count share");
  const size_t w = warm.size();
  // W <= 46,340 keeps W^2 within 32 bits (wasm's size_t); fit never writes more.
  if (w > 46340) fail<FormatError>(in.what(), ": ease has ", w, " warm items, more than max_items allows");
  auto b = in.floats("ease weights", w * w);
  for (size_t k = 0; k < b.size(); ++k)
    if (!std::isfinite(b[k])) fail<FormatError>(in.what(), ": ease weight ", k, " is not finite");
  for (size_t a = 0; a < w; ++a)
    if (b[a * w + a] != 0.0f) fail<FormatError>(in.what(), ": ease weight diagonal ", a, " is not 0");
  warm_ = std::move(warm);
  warmOf_ = std::move(warmOf);
  popularity_ = std::move(popularity);
  b_ = std::move(b);
  setFitted(static_cast<Index>(numItems));
}

}  // namespace localrec

// The SIMD kernels against their scalar references, plus known answers.
//
// Tolerances (float, eps = 2^-23):
//  - dot: any summation order of n products has |error| <= n*eps*sum|a_i b_i|
//    (first-order bound), so two orders differ by at most 2*n*eps*sum|a_i b_i|.
//    Small-integer data is exact in every order, so there the results must be equal.
//  - axpy: y + alpha*x rounds twice without FMA and once with it: the difference is
//    at most 2*eps*(|y| + |alpha*x|) per element.
//  - gemv: each row is a dot (plus beta*y, one more rounding).
//  - topK: exact equality with the full-sort reference (indices and scores).
#include <catch2/catch.hpp>

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "linalg/kernels.h"

namespace {

using localrec::Index;
namespace la = localrec::linalg;

constexpr float kEps = std::numeric_limits<float>::epsilon();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Sizes 0..1037 that cover every tail length of every vector width and unroll
// factor, plus random ones.
std::vector<size_t> testSizes(std::mt19937& gen) {
  std::vector<size_t> sizes;
  for (size_t n = 0; n <= 40; ++n) sizes.push_back(n);
  for (size_t n : {63, 64, 65, 127, 128, 129, 255, 256, 257, 1023, 1024, 1025, 1036, 1037}) sizes.push_back(n);
  std::uniform_int_distribution<size_t> pick(0, 1037);
  for (int i = 0; i < 40; ++i) sizes.push_back(pick(gen));
  return sizes;
}

// A buffer whose data() starts `offset` floats past a fresh allocation, so the
// kernels see pointers that are not 16/32-byte aligned.
struct Shifted {
  std::vector<float> storage;
  size_t offset;
  Shifted(size_t n, size_t off) : storage(n + off + 1), offset(off) {}
  float* data() { return storage.data() + offset; }
};

void fillRandom(float* p, size_t n, std::mt19937& gen) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (size_t i = 0; i < n; ++i) p[i] = u(gen);
}

void fillSmallInts(float* p, size_t n, std::mt19937& gen) {
  std::uniform_int_distribution<int> u(-8, 8);
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<float>(u(gen));
}

}  // namespace

TEST_CASE("dot matches the scalar reference on every size and alignment", "[linalg]") {
  std::mt19937 gen(42);
  for (size_t n : testSizes(gen)) {
    for (size_t offA : {0, 1, 3}) {
      const size_t offB = (offA + 2) % 5;
      Shifted a(n, offA), b(n, offB);
      fillRandom(a.data(), n, gen);
      fillRandom(b.data(), n, gen);
      double absSum = 0;
      for (size_t i = 0; i < n; ++i) absSum += std::fabs(double(a.data()[i]) * b.data()[i]);
      const float fast = la::dot(a.data(), b.data(), n);
      const float ref = la::scalar::dot(a.data(), b.data(), n);
      INFO("n=" << n << " offA=" << offA << " offB=" << offB);
      REQUIRE(std::fabs(double(fast) - ref) <= 2.0 * n * kEps * absSum + 1e-30);

      // Integer data is exact whatever the order, so both must agree bit for bit.
      fillSmallInts(a.data(), n, gen);
      fillSmallInts(b.data(), n, gen);
      double exact = 0;
      for (size_t i = 0; i < n; ++i) exact += double(a.data()[i]) * b.data()[i];
      REQUIRE(la::dot(a.data(), b.data(), n) == float(exact));
      REQUIRE(la::scalar::dot(a.data(), b.data(), n) == float(exact));
    }
  }
}

TEST_CASE("dot known answer", "[linalg]") {
  const float a[5] = {1, 2, 3, 4, 5};
  const float b[5] = {5, 4, 3, 2, 1};
  CHECK(la::dot(a, b, 5) == 35.0f);
  CHECK(la::scalar::dot(a, b, 5) == 35.0f);
  CHECK(la::dot(a, b, 0) == 0.0f);
}

TEST_CASE("axpy matches the scalar reference on every size and alignment", "[linalg]") {
  std::mt19937 gen(7);
  for (size_t n : testSizes(gen)) {
    for (size_t offX : {0, 1, 2}) {
      const size_t offY = (offX + 3) % 4;
      Shifted x(n, offX), y(n, offY), yRef(n, offY);
      fillRandom(x.data(), n, gen);
      fillRandom(y.data(), n, gen);
      std::copy(y.data(), y.data() + n, yRef.data());
      // Guard cells just past the end must stay untouched.
      y.data()[n] = 12345.0f;
      const float alpha = -0.37f;
      la::axpy(alpha, x.data(), y.data(), n);
      std::vector<float> before(yRef.data(), yRef.data() + n);
      la::scalar::axpy(alpha, x.data(), yRef.data(), n);
      INFO("n=" << n << " offX=" << offX << " offY=" << offY);
      REQUIRE(y.data()[n] == 12345.0f);
      for (size_t i = 0; i < n; ++i) {
        const float bound = 2 * kEps * (std::fabs(before[i]) + std::fabs(alpha * x.data()[i]));
        REQUIRE(std::fabs(y.data()[i] - yRef.data()[i]) <= bound);
      }
    }
  }
}

TEST_CASE("axpy known answer", "[linalg]") {
  const float x[7] = {1, 2, 3, 4, 5, 6, 7};
  float y[7] = {1, 1, 1, 1, 1, 1, 1};
  la::axpy(2.0f, x, y, 7);
  const float want[7] = {3, 5, 7, 9, 11, 13, 15};
  for (int i = 0; i < 7; ++i) CHECK(y[i] == want[i]);
}

TEST_CASE("gemv matches the scalar reference, with padding and beta", "[linalg]") {
  std::mt19937 gen(3);
  std::uniform_int_distribution<size_t> pickRows(0, 37), pickCols(0, 1037), pickPad(0, 5);
  for (int trial = 0; trial < 120; ++trial) {
    const size_t rows = trial < 10 ? size_t(trial) : pickRows(gen);
    const size_t cols = trial < 40 ? size_t(trial) : pickCols(gen);
    const size_t lda = cols + pickPad(gen);
    Shifted A(rows * lda, trial % 3), x(cols, (trial + 1) % 4);
    fillRandom(A.data(), rows * lda, gen);
    fillRandom(x.data(), cols, gen);
    std::vector<double> absSum(rows, 0.0);
    for (size_t r = 0; r < rows; ++r)
      for (size_t j = 0; j < cols; ++j) absSum[r] += std::fabs(double(A.data()[r * lda + j]) * x.data()[j]);
    INFO("rows=" << rows << " cols=" << cols << " lda=" << lda);

    // beta == 0: y is write-only, so NaN garbage in it must not leak through.
    std::vector<float> y(rows, kNaN), yRef(rows, kNaN);
    la::gemv(A.data(), rows, cols, lda, x.data(), y.data());
    la::scalar::gemv(A.data(), rows, cols, lda, x.data(), yRef.data());
    for (size_t r = 0; r < rows; ++r) {
      REQUIRE(std::isfinite(y[r]));
      REQUIRE(std::fabs(double(y[r]) - yRef[r]) <= 2.0 * cols * kEps * absSum[r] + 1e-30);
    }

    const float beta = 0.5f;
    std::vector<float> y0(rows);
    fillRandom(y0.data(), rows, gen);
    y = y0;
    yRef = y0;
    la::gemv(A.data(), rows, cols, lda, x.data(), y.data(), beta);
    la::scalar::gemv(A.data(), rows, cols, lda, x.data(), yRef.data(), beta);
    for (size_t r = 0; r < rows; ++r) {
      const double bound = 2.0 * (cols + 1) * kEps * (absSum[r] + std::fabs(beta * y0[r])) + 1e-30;
      REQUIRE(std::fabs(double(y[r]) - yRef[r]) <= bound);
    }
  }
}

TEST_CASE("gemv known answer and bad lda", "[linalg]") {
  // 2x3 stored with lda 4 (the padding column holds junk that must be ignored).
  const float A[8] = {1, 2, 3, 99, 4, 5, 6, 99};
  const float x[3] = {1, 0, -1};
  float y[2] = {10, 20};
  la::gemv(A, 2, 3, 4, x, y, 1.0f);
  CHECK(y[0] == 8.0f);   // 1 - 3 + 10
  CHECK(y[1] == 18.0f);  // 4 - 6 + 20
  CHECK_THROWS_AS(la::gemv(A, 2, 3, 2, x, y), localrec::InvalidArgument);
  CHECK_THROWS_AS(la::scalar::gemv(A, 2, 3, 2, x, y), localrec::InvalidArgument);
}

TEST_CASE("topK known answers: ties, -inf, NaN, k = 0, k > n", "[linalg]") {
  // NaN scores are treated as -infinity: never returned.
  const std::vector<float> s = {1, 3, 3, -kInf, kNaN, 2, 3, kInf};
  Index idx[16];
  float val[16];
  for (auto* f : {&la::topK, &la::scalar::topK}) {
    REQUIRE(f(s, 3, idx, val) == 3);
    CHECK(idx[0] == 7);
    CHECK(val[0] == kInf);
    CHECK(idx[1] == 1);
    CHECK(idx[2] == 2);  // the tie at 3 goes to the lower index
    CHECK(val[2] == 3.0f);

    // k > n: only the 6 scores above -inf come back.
    REQUIRE(f(s, 16, idx, val) == 6);
    const Index want[6] = {7, 1, 2, 6, 5, 0};
    for (int r = 0; r < 6; ++r) CHECK(idx[r] == want[r]);

    CHECK(f(s, 0, nullptr, nullptr) == 0);
    CHECK(f(std::span<const float>(), 5, idx, val) == 0);
    const std::vector<float> none = {-kInf, kNaN, -kInf};
    CHECK(f(none, 2, idx, val) == 0);
    // outScores is optional.
    REQUIRE(f(s, 2, idx, nullptr) == 2);
    CHECK(idx[1] == 1);
    CHECK_THROWS_AS(f(s, 1, nullptr, val), localrec::InvalidArgument);
  }
}

TEST_CASE("topK matches the full-sort reference on random scores with ties", "[linalg]") {
  std::mt19937 gen(11);
  std::uniform_int_distribution<int> level(0, 20);  // few distinct values: many ties
  std::uniform_real_distribution<float> u(-1.0f, 1.0f), coin(0.0f, 1.0f);
  for (size_t n : testSizes(gen)) {
    for (int mode = 0; mode < 3; ++mode) {
      std::vector<float> s(n);
      for (auto& v : s) {
        v = mode == 0 ? u(gen) : static_cast<float>(level(gen));
        const float c = coin(gen);
        if (mode == 2 && c < 0.2f) v = -kInf;
        if (mode == 2 && c > 0.95f) v = kNaN;
      }
      // Ascending scores make every item beat the threshold: the heap's worst case.
      if (mode == 1 && n % 2 == 0) {
        for (size_t i = 0; i < n; ++i) s[i] = static_cast<float>(i / 3);
      }
      for (size_t k : {size_t(0), size_t(1), size_t(2), size_t(10), size_t(31), size_t(32), size_t(33),
                       size_t(100), n / 2, n, n + 3}) {
        std::vector<Index> idx(k + 1, -7), idxRef(k + 1, -7);
        std::vector<float> val(k + 1), valRef(k + 1);
        const size_t got = la::topK(s, k, idx.data(), val.data());
        const size_t want = la::scalar::topK(s, k, idxRef.data(), valRef.data());
        INFO("n=" << n << " mode=" << mode << " k=" << k);
        REQUIRE(got == want);
        REQUIRE(got <= k);
        for (size_t r = 0; r < got; ++r) {
          REQUIRE(idx[r] == idxRef[r]);
          REQUIRE(val[r] == valRef[r]);
          REQUIRE(val[r] > -kInf);
        }
        REQUIRE(idx[got] == -7);  // nothing written past the count
      }
    }
  }
}

TEST_CASE("the build is vectorized", "[linalg]") {
  const std::string path = la::simdPath();
  const std::string eigen = Eigen::SimdInstructionSetsInUse();
  INFO("simdPath=" << path << " Eigen=" << eigen);
#if defined(__EMSCRIPTEN__)
#if defined(LOCALREC_SCALAR_ONLY)
  CHECK(path == "scalar");
#else
#if !defined(__wasm_simd128__)
  FAIL("wasm build without -msimd128: __wasm_simd128__ is not defined");
#endif
  CHECK(path == "wasm-simd128");
  // -msse2 + the mmintrin.h shim + -fgnuc-version=5.13 put Eigen on its SSE path.
  CHECK(eigen.find("SSE") != std::string::npos);
#endif
#elif defined(__x86_64__) || defined(_M_X64)
#if !defined(LOCALREC_SCALAR_ONLY)
  CHECK(path != "scalar");
  CHECK(eigen.find("SSE") != std::string::npos);
#endif
#else
  SUCCEED("no vectorization requirement on this target");
#endif
}

TEST_CASE("symv and sparseGramApply match their scalar twins and a double reference", "[linalg]") {
  std::mt19937 gen(17);
  for (size_t k : {1, 3, 4, 7, 8, 9, 31, 32, 33, 64, 65, 128}) {
    std::vector<float> S(k * k), v(k);
    fillRandom(v.data(), k, gen);
    for (size_t i = 0; i < k; ++i)
      for (size_t j = 0; j <= i; ++j) S[i * k + j] = S[j * k + i] = std::uniform_real_distribution<float>(-1, 1)(gen);
    std::vector<float> out(k, kNaN), outRef(k, kNaN);  // write-only: NaN must not leak
    la::symv(S.data(), v.data(), out.data(), k);
    la::scalar::symv(S.data(), v.data(), outRef.data(), k);
    for (size_t c = 0; c < k; ++c) {
      double ref = 0, absSum = 0;
      for (size_t d = 0; d < k; ++d) {
        ref += double(S[d * k + c]) * v[d];
        absSum += std::fabs(double(S[d * k + c]) * v[d]);
      }
      INFO("symv k=" << k << " c=" << c);
      REQUIRE(std::fabs(out[c] - ref) <= 2.0 * k * kEps * absSum + 1e-30);
      REQUIRE(std::fabs(outRef[c] - ref) <= 2.0 * k * kEps * absSum + 1e-30);
    }

    const size_t rowsY = 23;
    std::vector<float> Y(rowsY * k);
    fillRandom(Y.data(), Y.size(), gen);
    for (size_t n : {0, 1, 3, 4, 5, 9, 40}) {
      for (bool withBase : {false, true}) {
        std::vector<localrec::Index> idx(n);
        std::vector<float> base(n), mult(n);
        for (size_t t = 0; t < n; ++t) idx[t] = static_cast<localrec::Index>(gen() % rowsY);  // repeats allowed
        fillRandom(base.data(), n, gen);
        fillRandom(mult.data(), n, gen);
        std::vector<float> acc(k), accRef(k);
        fillRandom(acc.data(), k, gen);
        accRef = acc;
        std::vector<double> ref(acc.begin(), acc.end()), mag(k);
        for (size_t t = 0; t < n; ++t) {
          const float* y = Y.data() + static_cast<size_t>(idx[t]) * k;
          double dotYV = 0, dotAbs = 0;
          for (size_t c = 0; c < k; ++c) {
            dotYV += double(y[c]) * v[c];
            dotAbs += std::fabs(double(y[c]) * v[c]);
          }
          const double q = (withBase ? base[t] : 0.0) + double(mult[t]) * dotYV;
          const double qAbs = (withBase ? std::fabs(base[t]) : 0.0) + std::fabs(mult[t]) * dotAbs;
          for (size_t c = 0; c < k; ++c) {
            ref[c] += q * y[c];
            mag[c] += qAbs * std::fabs(y[c]);
          }
        }
        const float* b = withBase ? base.data() : nullptr;
        la::sparseGramApply(Y.data(), idx.data(), b, mult.data(), n, v.data(), acc.data(), k);
        la::scalar::sparseGramApply(Y.data(), idx.data(), b, mult.data(), n, v.data(), accRef.data(), k);
        for (size_t c = 0; c < k; ++c) {
          INFO("sparseGramApply k=" << k << " n=" << n << " base=" << withBase << " c=" << c);
          const double tol = 4.0 * (k + n + 2) * kEps * (mag[c] + 1.0);
          REQUIRE(std::fabs(acc[c] - ref[c]) <= tol);
          REQUIRE(std::fabs(accRef[c] - ref[c]) <= tol);
        }
      }
    }
  }
}

TEST_CASE("gemm known answer for every transpose combination", "[linalg]") {
  // op(A) = [[1,2,3],[4,5,6]] (2x3), op(B) = [[1,0],[0,1],[1,1]] (3x2):
  // op(A) op(B) = [[4,5],[10,11]].
  const float aN[6] = {1, 2, 3, 4, 5, 6}, aT[6] = {1, 4, 2, 5, 3, 6};
  const float bN[6] = {1, 0, 0, 1, 1, 1}, bT[6] = {1, 0, 1, 0, 1, 1};
  const float want[4] = {4, 5, 10, 11};
  for (la::Op opA : {la::Op::kNone, la::Op::kTranspose}) {
    for (la::Op opB : {la::Op::kNone, la::Op::kTranspose}) {
      const float* A = opA == la::Op::kNone ? aN : aT;
      const float* B = opB == la::Op::kNone ? bN : bT;
      const size_t lda = opA == la::Op::kNone ? 3 : 2, ldb = opB == la::Op::kNone ? 2 : 3;
      for (const auto impl : {&la::gemm, &la::gemmPacked}) {
        float c[4] = {kNaN, kNaN, kNaN, kNaN};
        impl(opA, opB, 2, 2, 3, 1.0f, A, lda, B, ldb, 0.0f, c, 2);
        for (int i = 0; i < 4; ++i) CHECK(c[i] == want[i]);
        float c2[4] = {1, 1, 1, 1};  // alpha 2, beta -1
        impl(opA, opB, 2, 2, 3, 2.0f, A, lda, B, ldb, -1.0f, c2, 2);
        for (int i = 0; i < 4; ++i) CHECK(c2[i] == 2 * want[i] - 1);
      }
    }
  }
  float c[1] = {0};
  CHECK_THROWS_AS(la::gemm(la::Op::kNone, la::Op::kNone, 1, 1, 3, 1.0f, aN, 2, bN, 1, 0.0f, c, 1), localrec::InvalidArgument);
  CHECK_THROWS_AS(la::gemmPacked(la::Op::kNone, la::Op::kNone, 1, 1, 3, 1.0f, aN, 2, bN, 1, 0.0f, c, 1),
                  localrec::InvalidArgument);
}

TEST_CASE("gemm matches the scalar reference on random shapes, strides and transposes", "[linalg]") {
  std::mt19937 gen(11);
  std::uniform_int_distribution<size_t> pickDim(0, 70), pickPad(0, 3);
  for (int trial = 0; trial < 80; ++trial) {
    const size_t m = pickDim(gen), n = pickDim(gen), k = trial < 5 ? 0 : pickDim(gen);
    const la::Op opA = trial % 2 ? la::Op::kTranspose : la::Op::kNone;
    const la::Op opB = (trial / 2) % 2 ? la::Op::kTranspose : la::Op::kNone;
    const size_t aRows = opA == la::Op::kNone ? m : k, aCols = opA == la::Op::kNone ? k : m;
    const size_t bRows = opB == la::Op::kNone ? k : n, bCols = opB == la::Op::kNone ? n : k;
    const size_t lda = aCols + pickPad(gen), ldb = bCols + pickPad(gen), ldc = n + pickPad(gen);
    std::vector<float> A(aRows * lda + 1), B(bRows * ldb + 1), C0(m * ldc + 1);
    fillRandom(A.data(), A.size(), gen);
    fillRandom(B.data(), B.size(), gen);
    fillRandom(C0.data(), C0.size(), gen);
    const float alpha = 1.5f, beta = trial % 3 == 0 ? 0.0f : 0.25f;
    std::vector<float> CRef = C0;
    la::scalar::gemm(opA, opB, m, n, k, alpha, A.data(), lda, B.data(), ldb, beta, CRef.data(), ldc);
    // Both implementations: gemm (Eigen natively, packed in wasm) and the packed one.
    for (const auto impl : {&la::gemm, &la::gemmPacked}) {
      std::vector<float> C = C0;
      INFO("m=" << m << " n=" << n << " k=" << k << " trial=" << trial << " packed=" << (impl == &la::gemmPacked));
      impl(opA, opB, m, n, k, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
      for (size_t i = 0; i < m; ++i) {
        for (size_t j = 0; j < n; ++j) {
          double absSum = std::fabs(beta * C0[i * ldc + j]);
          for (size_t p = 0; p < k; ++p) {
            const float a = opA == la::Op::kNone ? A[i * lda + p] : A[p * lda + i];
            const float b = opB == la::Op::kNone ? B[p * ldb + j] : B[j * ldb + p];
            absSum += std::fabs(double(alpha) * a * b);
          }
          REQUIRE(std::fabs(double(C[i * ldc + j]) - CRef[i * ldc + j]) <= 2.0 * (k + 2) * kEps * absSum + 1e-30);
        }
        // Padding columns of C are never written.
        for (size_t j = n; j < ldc; ++j) REQUIRE(C[i * ldc + j] == C0[i * ldc + j]);
      }
    }
  }
}

TEST_CASE("packed gemm crosses its depth, row and column blocks correctly", "[linalg]") {
  // Shapes past the packed kernel's blocks (depth 256, rows 128, columns 2048)
  // and not multiples of its register tile, each transpose combination once.
  struct Shape {
    size_t m, n, k;
  };
  std::mt19937 gen(5);
  int trial = 0;
  // {45, 1100, 300}: two depth blocks, each split into column panels of 512
  // (the panel size shrinks with the depth block to stay in L2).
  for (const Shape s : {Shape{261, 37, 530}, Shape{137, 2061, 13}, Shape{5, 3, 777}, Shape{45, 1100, 300}}) {
    for (const la::Op opA : {la::Op::kNone, la::Op::kTranspose}) {
      for (const la::Op opB : {la::Op::kNone, la::Op::kTranspose}) {
        const size_t lda = (opA == la::Op::kNone ? s.k : s.m) + 1, ldb = (opB == la::Op::kNone ? s.n : s.k) + 2;
        const size_t aRows = opA == la::Op::kNone ? s.m : s.k, bRows = opB == la::Op::kNone ? s.k : s.n;
        std::vector<float> A(aRows * lda), B(bRows * ldb), C(s.m * s.n);
        fillRandom(A.data(), A.size(), gen);
        fillRandom(B.data(), B.size(), gen);
        fillRandom(C.data(), C.size(), gen);
        std::vector<float> CRef = C;
        const float beta = (trial++ % 2) ? 0.5f : 0.0f;
        INFO("m=" << s.m << " n=" << s.n << " k=" << s.k << " beta=" << beta);
        la::gemmPacked(opA, opB, s.m, s.n, s.k, -0.75f, A.data(), lda, B.data(), ldb, beta, C.data(), s.n);
        la::scalar::gemm(opA, opB, s.m, s.n, s.k, -0.75f, A.data(), lda, B.data(), ldb, beta, CRef.data(), s.n);
        double worst = 0;
        for (size_t i = 0; i < C.size(); ++i) worst = std::max(worst, std::fabs(double(C[i]) - CRef[i]));
        // Entries are sums of k products of values in [-1, 1]: |C| <= 0.75 k + 1.
        REQUIRE(worst <= 2.0 * (s.k + 2) * kEps * (0.75 * s.k + 1));
      }
    }
  }
}

TEST_CASE("packed gemm: whole and partial strips, depth tails, alpha 1 or not, beta 0 over NaN", "[linalg]") {
  // The packing reads 4-row strips of A and 4-column groups of B as 4 x 4
  // blocks (SIMD paths with 4 lanes) with a scalar tail for depths past the
  // last multiple of 4; partial strips take the element-wise path. Every
  // combination of those, every transpose, rows misaligned by a padded stride.
  std::mt19937 gen(23);
  for (const size_t m : {4, 8, 9, 13}) {
    for (const size_t n : {8, 13, 16, 33}) {
      for (const size_t k : {1, 3, 4, 6, 9, 17}) {
        for (const la::Op opA : {la::Op::kNone, la::Op::kTranspose}) {
          for (const la::Op opB : {la::Op::kNone, la::Op::kTranspose}) {
            const size_t aRows = opA == la::Op::kNone ? m : k, aCols = opA == la::Op::kNone ? k : m;
            const size_t bRows = opB == la::Op::kNone ? k : n, bCols = opB == la::Op::kNone ? n : k;
            const size_t lda = aCols + 1, ldb = bCols + 3, ldc = n + 1;
            std::vector<float> A(aRows * lda), B(bRows * ldb), C0(m * ldc);
            fillRandom(A.data(), A.size(), gen);
            fillRandom(B.data(), B.size(), gen);
            fillRandom(C0.data(), C0.size(), gen);
            for (const float alpha : {1.0f, -0.5f}) {
              for (const float beta : {0.0f, 1.0f, 0.5f}) {
                std::vector<float> C = C0, CRef = C0;
                if (beta == 0.0f) {
                  for (size_t i = 0; i < m; ++i)
                    for (size_t j = 0; j < n; ++j) C[i * ldc + j] = kNaN;  // must not be read
                }
                INFO("m=" << m << " n=" << n << " k=" << k << " opA=" << int(opA) << " opB=" << int(opB)
                          << " alpha=" << alpha << " beta=" << beta);
                la::gemmPacked(opA, opB, m, n, k, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
                la::scalar::gemm(opA, opB, m, n, k, alpha, A.data(), lda, B.data(), ldb, beta, CRef.data(), ldc);
                for (size_t i = 0; i < m; ++i) {
                  for (size_t j = 0; j < n; ++j) {
                    // |entries| <= k |alpha| + |beta| (values in [-1, 1]).
                    REQUIRE(std::fabs(double(C[i * ldc + j]) - CRef[i * ldc + j]) <= 2.0 * (k + 2) * kEps * (k + 1));
                  }
                  REQUIRE(C[i * ldc + n] == C0[i * ldc + n]);  // the padding column is never written
                }
              }
            }
          }
        }
      }
    }
  }
}

// expShifted is a polynomial exp: compare with exp in double of the same float
// argument (x - shift, as the kernel forms it). Bound: 1.5e-7 relative (about 1.3
// FLT_EPSILON) on [-87.33, 88.37]; the measured max is reported as a WARN.
TEST_CASE("expShifted matches std::exp to a few ulps, flushes tiny results to 0, keeps NaN", "[linalg]") {
  // A dense sweep over the whole accurate range, in place and out of place.
  std::vector<float> x;
  for (double v = -87.33; v <= 88.37; v += 0.000731) x.push_back(static_cast<float>(v));
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 0.34657359f, -0.34657359f, 0.6931472f, -0.6931472f, 1.0f, -1.0f,
                  -87.3365f, 88.376f, 88.0f, -87.0f})
    x.push_back(v);
  std::vector<float> out(x.size());
  la::expShifted(x.data(), 0.0f, out.data(), x.size());  // the sum overflows float here
  double worst = 0.0;
  float worstAt = 0.0f;
  for (size_t i = 0; i < x.size(); ++i) {
    const double ref = std::exp(static_cast<double>(x[i]));
    REQUIRE(std::isfinite(out[i]));
    const double rel = std::fabs(out[i] - ref) / ref;
    if (rel > worst) {
      worst = rel;
      worstAt = x[i];
    }
  }
  INFO("max relative error " << worst << " at x = " << worstAt << " over " << x.size() << " arguments");
  CHECK(worst <= 1.5e-7);
  WARN("expShifted: max relative error vs exp in double " << worst << " (at x = " << worstAt << ")");

  // With a shift, unaligned pointers, every tail length, in place; sum vs a double sum.
  std::mt19937 gen(11);
  std::uniform_real_distribution<float> u(-60.0f, 5.0f);
  for (size_t n : testSizes(gen)) {
    for (size_t off = 0; off < 3; ++off) {
      Shifted in(n, off), res(n, off);
      for (size_t i = 0; i < n; ++i) in.data()[i] = u(gen);
      const float shift = n > 0 ? la::maxValue(in.data(), n) : 0.0f;
      const float s = la::expShifted(in.data(), shift, res.data(), n);
      double ref = 0.0;
      for (size_t i = 0; i < n; ++i) {
        const double e = std::exp(static_cast<double>(in.data()[i] - shift));
        ref += e;
        INFO("n=" << n << " off=" << off << " i=" << i);
        REQUIRE(std::fabs(res.data()[i] - e) <= 1.5e-7 * e);
      }
      INFO("n=" << n << " off=" << off);
      CHECK(std::fabs(s - ref) <= 1e-6 * (1.0 + ref));
      if (n > 0) CHECK(s >= 1.0f - 1e-6f);  // the max term is exp(0) = 1
      // In place gives the same values.
      const float s2 = la::expShifted(in.data(), shift, in.data(), n);
      CHECK(s2 == s);
      for (size_t i = 0; i < n; ++i) REQUIRE(in.data()[i] == res.data()[i]);
    }
  }

  // Large negative (softmax of far-behind scores) and -inf give exactly 0; NaN gives NaN.
  std::vector<float> special = {-87.34f, -88.0f, -100.0f, -1e4f, -3e38f, -kInf, kNaN, 0.0f, -87.3f};
  std::vector<float> e(special.size());
  for (size_t len : {special.size(), size_t(3), size_t(7)}) {  // vector body and tail
    const float s = la::expShifted(special.data(), 0.0f, e.data(), len);
    for (size_t i = 0; i < len; ++i) {
      INFO("x = " << special[i] << " len " << len);
      if (std::isnan(special[i])) {
        CHECK(std::isnan(e[i]));
      } else if (special[i] < -87.3365f) {
        CHECK(e[i] == 0.0f);
      } else {
        CHECK(e[i] == Approx(std::exp(double(special[i]))).epsilon(1.5e-7));
      }
    }
    if (len == 3) CHECK(s == 0.0f);
  }
  // The scalar twin is the std::exp reference.
  std::vector<float> r(3);
  const float in3[3] = {1.0f, 0.0f, -2.0f};
  CHECK(la::scalar::expShifted(in3, 1.0f, r.data(), 3) == Approx(1.0 + std::exp(-1.0) + std::exp(-3.0)));
}

TEST_CASE("maxValue matches the scalar reference and ignores NaN", "[linalg]") {
  std::mt19937 gen(12);
  for (size_t n : testSizes(gen)) {
    for (size_t off = 0; off < 3; ++off) {
      Shifted a(n, off);
      fillRandom(a.data(), n, gen);
      if (n > 2) a.data()[n / 2] = kNaN;
      INFO("n=" << n << " off=" << off);
      CHECK(la::maxValue(a.data(), n) == la::scalar::maxValue(a.data(), n));
      if (n > 0) {
        a.data()[n - 1] = 5.0f;  // the max in the tail
        CHECK(la::maxValue(a.data(), n) == 5.0f);
        a.data()[0] = 6.0f;
        CHECK(la::maxValue(a.data(), n) == 6.0f);
      }
    }
  }
  CHECK(la::maxValue(nullptr, 0) == -kInf);
  const float allNaN[5] = {kNaN, kNaN, kNaN, kNaN, kNaN};
  CHECK(la::maxValue(allNaN, 5) == -kInf);
}

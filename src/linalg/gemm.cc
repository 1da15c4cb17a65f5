// Row-major single-precision GEMM (see kernels.h for the contract).
//
// The production path maps the operands onto Eigen and lets its blocked GEMM
// do the work (in wasm Eigen takes its SSE path, which Emscripten lowers onto
// SIMD128; toolchain.md measured about 21 GFLOP/s there). The scalar triple
// loop is the reference the tests compare against.
#include <Eigen/Core>

#include "core/error.h"
#include "linalg/kernels.h"

namespace localrec::linalg {

namespace {

void checkGemmArgs(const char* where, Op opA, Op opB, size_t m, size_t n, size_t k, const float* A,
                   size_t lda, const float* B, size_t ldb, const float* C, size_t ldc) {
  const size_t aCols = opA == Op::kNone ? k : m;
  const size_t aRows = opA == Op::kNone ? m : k;
  const size_t bCols = opB == Op::kNone ? n : k;
  const size_t bRows = opB == Op::kNone ? k : n;
  if (aRows > 0 && lda < aCols) fail<InvalidArgument>(where, ": lda must be >= ", aCols, ", got ", lda);
  if (bRows > 0 && ldb < bCols) fail<InvalidArgument>(where, ": ldb must be >= ", bCols, ", got ", ldb);
  if (m > 0 && ldc < n) fail<InvalidArgument>(where, ": ldc must be >= n (", n, "), got ", ldc);
  if ((m > 0 && n > 0 && C == nullptr) || (m > 0 && k > 0 && A == nullptr) || (n > 0 && k > 0 && B == nullptr)) {
    fail<InvalidArgument>(where, ": a null matrix pointer with a nonzero dimension (m=", m, ", n=", n, ", k=", k, ")");
  }
}

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMajor, Eigen::Unaligned, Eigen::OuterStride<>>;
using MutMap = Eigen::Map<RowMajor, Eigen::Unaligned, Eigen::OuterStride<>>;

}  // namespace

void gemm(Op opA, Op opB, size_t m, size_t n, size_t k, float alpha, const float* A, size_t lda,
          const float* B, size_t ldb, float beta, float* C, size_t ldc) {
  checkGemmArgs("linalg::gemm", opA, opB, m, n, k, A, lda, B, ldb, C, ldc);
  if (m == 0 || n == 0) return;
  using E = Eigen::Index;
  MutMap c(C, E(m), E(n), Eigen::OuterStride<>(E(ldc)));
  if (beta == 0.0f) {
    c.setZero();
  } else if (beta != 1.0f) {
    c *= beta;
  }
  if (k == 0 || alpha == 0.0f) return;
  const bool ta = opA == Op::kTranspose, tb = opB == Op::kTranspose;
  ConstMap a(A, ta ? E(k) : E(m), ta ? E(m) : E(k), Eigen::OuterStride<>(E(lda)));
  ConstMap b(B, tb ? E(n) : E(k), tb ? E(k) : E(n), Eigen::OuterStride<>(E(ldb)));
  if (!ta && !tb) c.noalias() += alpha * a * b;
  else if (ta && !tb) c.noalias() += alpha * a.transpose() * b;
  else if (!ta && tb) c.noalias() += alpha * a * b.transpose();
  else c.noalias() += alpha * a.transpose() * b.transpose();
}

namespace scalar {

void gemm(Op opA, Op opB, size_t m, size_t n, size_t k, float alpha, const float* A, size_t lda,
          const float* B, size_t ldb, float beta, float* C, size_t ldc) {
  checkGemmArgs("linalg::scalar::gemm", opA, opB, m, n, k, A, lda, B, ldb, C, ldc);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      float sum = 0.0f;
      for (size_t p = 0; p < k; ++p) {
        const float aip = opA == Op::kNone ? A[i * lda + p] : A[p * lda + i];
        const float bpj = opB == Op::kNone ? B[p * ldb + j] : B[j * ldb + p];
        sum += aip * bpj;
      }
      float& c = C[i * ldc + j];
      c = alpha * sum + (beta == 0.0f ? 0.0f : beta * c);
    }
  }
}

}  // namespace scalar

}  // namespace localrec::linalg

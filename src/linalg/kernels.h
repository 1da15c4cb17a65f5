// Dense kernels on float spans: SIMD versions (through linalg/simd.h) and the
// scalar references they are tested against. Hot loops in models go through these.
#pragma once

#include <cstddef>
#include <span>

#include "core/types.h"

namespace localrec::linalg {

float dot(const float* a, const float* b, size_t n);
// y += alpha * x
void axpy(float alpha, const float* x, float* y, size_t n);
// y = A x (+ beta y), A row-major rows x cols with leading dimension lda >= cols.
void gemv(const float* A, size_t rows, size_t cols, size_t lda, const float* x, float* y, float beta = 0.0f);

// out = S v for a symmetric row-major k x k S (read as sum_d v[d] * row d of S).
void symv(const float* S, const float* v, float* out, size_t k);
// out += sum_t (base[t] + mult[t] * (y_t . v)) y_t over the rows y_t = Y[idx[t]]
// of a row-major Y with k columns (base may be null: 0). The sparse part of the
// iALS normal equations, (Y^T C Y) v over one user's items, in one fused pass.
void sparseGramApply(const float* Y, const Index* idx, const float* base, const float* mult, size_t n,
                     const float* v, float* out, size_t k);

// The largest of x[0..n), ignoring NaN; -infinity when n == 0 or all are NaN.
float maxValue(const float* x, size_t n);

// out[i] = exp(x[i] - shift) for i < n; returns the sum of the out[i] (float
// accumulation in several partial sums). out may be x (in place). The softmax
// kernel: a vectorized exp (Cody-Waite range reduction to |r| <= ln2/2, a
// degree-7 polynomial, 2^n through the exponent bits) with a relative error
// of about 1e-7 (max 9.9e-8 measured natively, 0.83 FLT_EPSILON; glibc expf:
// 6e-8; linalg_test.cc requires <= 1.5e-7 on every path) for arguments in
// [-87.33, 88.37]. Arguments below -87.33 (where exp < FLT_MIN), -inf included,
// give exactly 0; above 88.37 the result saturates near 2.4e38 instead of inf;
// NaN gives NaN.
float expShifted(const float* x, float shift, float* out, size_t n);

// Whether gemm reads an operand as stored or transposed.
enum class Op { kNone, kTranspose };

// C = alpha * op(A) * op(B) + beta * C, every matrix row-major: op(A) is m x k,
// op(B) is k x n, C is m x n; lda, ldb, ldc are the row strides of the STORED
// matrices (A stored m x k for kNone, k x m for kTranspose; likewise B).
// beta == 0 overwrites C without reading it (NaN in C does not propagate).
// The batched products of the neural layers and the dense blocks of EASE go
// through it. Implemented in linalg/gemm.cc.
void gemm(Op opA, Op opB, size_t m, size_t n, size_t k, float alpha, const float* A, size_t lda,
          const float* B, size_t ldb, float beta, float* C, size_t ldc);

// The hand-written packed SIMD GEMM (same contract). gemm uses it in wasm
// builds, where it beats Eigen; natively gemm uses Eigen, which wins there.
// Exposed so tests cover it on every platform and benchmarks compare both.
void gemmPacked(Op opA, Op opB, size_t m, size_t n, size_t k, float alpha, const float* A, size_t lda,
                const float* B, size_t ldb, float beta, float* C, size_t ldc);

namespace scalar {
// The triple loop gemm is tested against (same contract).
void gemm(Op opA, Op opB, size_t m, size_t n, size_t k, float alpha, const float* A, size_t lda,
          const float* B, size_t ldb, float beta, float* C, size_t ldc);
}  // namespace scalar

namespace scalar {
float maxValue(const float* x, size_t n);
float expShifted(const float* x, float shift, float* out, size_t n);  // std::exp, double sum
float dot(const float* a, const float* b, size_t n);
void axpy(float alpha, const float* x, float* y, size_t n);
void gemv(const float* A, size_t rows, size_t cols, size_t lda, const float* x, float* y, float beta = 0.0f);
void symv(const float* S, const float* v, float* out, size_t k);
void sparseGramApply(const float* Y, const Index* idx, const float* base, const float* mult, size_t n,
                     const float* v, float* out, size_t k);
}  // namespace scalar

// Top-K: the indices of the k largest scores, best first; ties broken by lower
// index. Entries with score -infinity (or NaN, treated as -infinity) are never
// returned (used for exclusion), so fewer than k may come back. Writes into
// caller buffers (outScores may be null), returns the count.
size_t topK(std::span<const float> scores, size_t k, Index* outIndices, float* outScores);

namespace scalar {
size_t topK(std::span<const float> scores, size_t k, Index* outIndices, float* outScores);
}  // namespace scalar

// Name of the SIMD path compiled in: "wasm-simd128", "avx2", "sse2" or "scalar".
const char* simdPath();

}  // namespace localrec::linalg

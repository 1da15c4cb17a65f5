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

namespace scalar {
float dot(const float* a, const float* b, size_t n);
void axpy(float alpha, const float* x, float* y, size_t n);
void gemv(const float* A, size_t rows, size_t cols, size_t lda, const float* x, float* y, float beta = 0.0f);
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

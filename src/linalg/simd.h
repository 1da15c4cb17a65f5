// The one place that maps float vector operations onto an instruction set.
// Kernels are written once against `simd::Vec` and these inline functions; the
// branch picked at compile time is, in order:
//   - wasm SIMD128 when __wasm_simd128__ (the shipped module, built with -msimd128).
//     Checked before x86 because the wasm build also defines __SSE2__ (-msse2 is
//     there for Eigen's sake) and wasm_simd128.h is the native spelling.
//   - AVX2 + FMA when both are enabled (native -march=native on this machine kind).
//   - SSE2 on any other x86 (SSE2 is baseline on x86-64).
//   - plain scalar floats otherwise, or always when LOCALREC_SCALAR_ONLY is set
//     (the wasm-scalar benchmark reference build).
// The 4-wide branches (wasm, SSE2) also have transpose4 and define
// LOCALREC_SIMD_HAS_TRANSPOSE4 (GEMM packing uses it when present).
// Every kernel still needs a scalar tail for n % kWidth; `kWidth == 1` in the
// scalar branch makes the vector loop the whole loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if !defined(LOCALREC_SCALAR_ONLY) && defined(__wasm_simd128__)
#define LOCALREC_SIMD_WASM 1
#include <wasm_simd128.h>
#elif !defined(LOCALREC_SCALAR_ONLY) && !defined(__wasm__) && defined(__AVX2__) && defined(__FMA__)
#define LOCALREC_SIMD_AVX2 1
#include <immintrin.h>
#elif !defined(LOCALREC_SCALAR_ONLY) && !defined(__wasm__) && (defined(__SSE2__) || defined(_M_X64))
#define LOCALREC_SIMD_SSE2 1
#include <emmintrin.h>
#else
#define LOCALREC_SIMD_SCALAR 1
#endif

namespace localrec::linalg::simd {

#if defined(LOCALREC_SIMD_WASM)

using Vec = v128_t;
inline constexpr size_t kWidth = 4;
inline constexpr const char* kPath = "wasm-simd128";

inline Vec zero() { return wasm_f32x4_splat(0.0f); }
inline Vec splat(float v) { return wasm_f32x4_splat(v); }
inline Vec load(const float* p) { return wasm_v128_load(p); }  // no alignment needed
inline void store(float* p, Vec v) { wasm_v128_store(p, v); }
inline Vec add(Vec a, Vec b) { return wasm_f32x4_add(a, b); }
inline Vec mul(Vec a, Vec b) { return wasm_f32x4_mul(a, b); }
// SIMD128 has no fused multiply-add; Emscripten 3.1.6 cannot emit relaxed SIMD's
// in a form engines accept (docs/toolchain.md).
inline Vec fmadd(Vec a, Vec b, Vec acc) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }
inline Vec sub(Vec a, Vec b) { return wasm_f32x4_sub(a, b); }
// max(a, b) = a < b ? b : a and min(a, b) = b < a ? b : a: both return a when
// the compare is unordered, so a NaN in a propagates and a NaN in b is ignored.
inline Vec max(Vec a, Vec b) { return wasm_f32x4_pmax(a, b); }
inline Vec min(Vec a, Vec b) { return wasm_f32x4_pmin(a, b); }
// x < t ? 0 : v, lane-wise (NaN in x keeps v).
inline Vec zeroWhereLess(Vec v, Vec x, Vec t) { return wasm_v128_andnot(v, wasm_f32x4_lt(x, t)); }
// 2^n as floats for t = n + 1.5 * 2^23 (the round-to-integer trick: the low
// mantissa bits of t hold n); n must be in [-126, 127].
inline Vec pow2FromRounded(Vec t) {
  return wasm_i32x4_shl(wasm_i32x4_add(t, wasm_i32x4_splat(127 - 0x4B400000)), 23);
}
inline float hmax(Vec v) {
  Vec m = wasm_f32x4_pmax(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  m = wasm_f32x4_pmax(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(m, 0);
}
inline float hsum(Vec v) {
  // Pairwise: (v0+v2) + (v1+v3).
  Vec s = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1);
}
// True when any lane of v is > t; false for NaN lanes (ordered compare).
inline bool anyGreater(Vec v, Vec t) { return wasm_v128_any_true(wasm_f32x4_gt(v, t)); }
// Transposes the 4 x 4 block held in rows r0..r3 in place (r0 gets column 0).
#define LOCALREC_SIMD_HAS_TRANSPOSE4 1
inline void transpose4(Vec& r0, Vec& r1, Vec& r2, Vec& r3) {
  const Vec t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5);  // a0 b0 a1 b1
  const Vec t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);  // a2 b2 a3 b3
  const Vec t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);  // c0 d0 c1 d1
  const Vec t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);  // c2 d2 c3 d3
  r0 = wasm_i64x2_shuffle(t0, t2, 0, 2);  // a0 b0 c0 d0
  r1 = wasm_i64x2_shuffle(t0, t2, 1, 3);
  r2 = wasm_i64x2_shuffle(t1, t3, 0, 2);
  r3 = wasm_i64x2_shuffle(t1, t3, 1, 3);
}

#elif defined(LOCALREC_SIMD_AVX2)

using Vec = __m256;
inline constexpr size_t kWidth = 8;
inline constexpr const char* kPath = "avx2";

inline Vec zero() { return _mm256_setzero_ps(); }
inline Vec splat(float v) { return _mm256_set1_ps(v); }
inline Vec load(const float* p) { return _mm256_loadu_ps(p); }
inline void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
inline Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
inline Vec mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
inline Vec fmadd(Vec a, Vec b, Vec acc) { return _mm256_fmadd_ps(a, b, acc); }
inline Vec sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
// maxps/minps return their second operand when unordered: see the wasm branch.
inline Vec max(Vec a, Vec b) { return _mm256_max_ps(b, a); }
inline Vec min(Vec a, Vec b) { return _mm256_min_ps(b, a); }
inline Vec zeroWhereLess(Vec v, Vec x, Vec t) { return _mm256_andnot_ps(_mm256_cmp_ps(x, t, _CMP_LT_OQ), v); }
inline Vec pow2FromRounded(Vec t) {
  const __m256i n = _mm256_add_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(127 - 0x4B400000));
  return _mm256_castsi256_ps(_mm256_slli_epi32(n, 23));
}
inline float hmax(Vec v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 0x55));
  return _mm_cvtss_f32(m);
}
inline float hsum(Vec v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
  return _mm_cvtss_f32(s);
}
inline bool anyGreater(Vec v, Vec t) { return _mm256_movemask_ps(_mm256_cmp_ps(v, t, _CMP_GT_OQ)) != 0; }

#elif defined(LOCALREC_SIMD_SSE2)

using Vec = __m128;
inline constexpr size_t kWidth = 4;
inline constexpr const char* kPath = "sse2";

inline Vec zero() { return _mm_setzero_ps(); }
inline Vec splat(float v) { return _mm_set1_ps(v); }
inline Vec load(const float* p) { return _mm_loadu_ps(p); }
inline void store(float* p, Vec v) { _mm_storeu_ps(p, v); }
inline Vec add(Vec a, Vec b) { return _mm_add_ps(a, b); }
inline Vec mul(Vec a, Vec b) { return _mm_mul_ps(a, b); }
inline Vec fmadd(Vec a, Vec b, Vec acc) { return _mm_add_ps(acc, _mm_mul_ps(a, b)); }
inline Vec sub(Vec a, Vec b) { return _mm_sub_ps(a, b); }
inline Vec max(Vec a, Vec b) { return _mm_max_ps(b, a); }
inline Vec min(Vec a, Vec b) { return _mm_min_ps(b, a); }
inline Vec zeroWhereLess(Vec v, Vec x, Vec t) { return _mm_andnot_ps(_mm_cmplt_ps(x, t), v); }
inline Vec pow2FromRounded(Vec t) {
  const __m128i n = _mm_add_epi32(_mm_castps_si128(t), _mm_set1_epi32(127 - 0x4B400000));
  return _mm_castsi128_ps(_mm_slli_epi32(n, 23));
}
inline float hmax(Vec v) {
  __m128 m = _mm_max_ps(v, _mm_movehl_ps(v, v));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 0x55));
  return _mm_cvtss_f32(m);
}
inline float hsum(Vec v) {
  __m128 s = _mm_add_ps(v, _mm_movehl_ps(v, v));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
  return _mm_cvtss_f32(s);
}
inline bool anyGreater(Vec v, Vec t) { return _mm_movemask_ps(_mm_cmpgt_ps(v, t)) != 0; }
#define LOCALREC_SIMD_HAS_TRANSPOSE4 1
inline void transpose4(Vec& r0, Vec& r1, Vec& r2, Vec& r3) {
  const Vec t0 = _mm_unpacklo_ps(r0, r1), t1 = _mm_unpackhi_ps(r0, r1);
  const Vec t2 = _mm_unpacklo_ps(r2, r3), t3 = _mm_unpackhi_ps(r2, r3);
  r0 = _mm_movelh_ps(t0, t2);
  r1 = _mm_movehl_ps(t2, t0);
  r2 = _mm_movelh_ps(t1, t3);
  r3 = _mm_movehl_ps(t3, t1);
}

#else

using Vec = float;
inline constexpr size_t kWidth = 1;
inline constexpr const char* kPath = "scalar";

inline Vec zero() { return 0.0f; }
inline Vec splat(float v) { return v; }
inline Vec load(const float* p) { return *p; }
inline void store(float* p, Vec v) { *p = v; }
inline Vec add(Vec a, Vec b) { return a + b; }
inline Vec mul(Vec a, Vec b) { return a * b; }
inline Vec fmadd(Vec a, Vec b, Vec acc) { return acc + a * b; }
inline Vec sub(Vec a, Vec b) { return a - b; }
inline Vec max(Vec a, Vec b) { return a < b ? b : a; }
inline Vec min(Vec a, Vec b) { return b < a ? b : a; }
inline Vec zeroWhereLess(Vec v, Vec x, Vec t) { return x < t ? 0.0f : v; }
inline Vec pow2FromRounded(Vec t) {
  uint32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  bits = (bits + uint32_t(127 - 0x4B400000)) << 23;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}
inline float hmax(Vec v) { return v; }
inline float hsum(Vec v) { return v; }
inline bool anyGreater(Vec v, Vec t) { return v > t; }

#endif

}  // namespace localrec::linalg::simd

// The two products the iALS conjugate-gradient loop spends its time in, fused
// and register-blocked on the linalg/simd.h vector type. linalg::gemv ends
// every row with a horizontal sum and dot+axpy per interaction reads each
// factor row twice through two calls; these keep accumulators in registers.
#pragma once

#include <cstddef>

#include "core/types.h"
#include "linalg/simd.h"

namespace localrec::ials_detail {

namespace simd = localrec::linalg::simd;
using simd::Vec;
constexpr int W = static_cast<int>(simd::kWidth);

// out = S v for a symmetric row-major k x k S, as sum_d v[d] * S[d, :]: eight
// column accumulators per block, no horizontal sums.
inline void symv(const float* S, const float* v, float* out, int k) {
  int c = 0;
  for (; c + 8 * W <= k; c += 8 * W) {
    Vec a0 = simd::zero(), a1 = simd::zero(), a2 = simd::zero(), a3 = simd::zero();
    Vec a4 = simd::zero(), a5 = simd::zero(), a6 = simd::zero(), a7 = simd::zero();
    const float* row = S + c;
    for (int d = 0; d < k; ++d, row += k) {
      const Vec pv = simd::splat(v[d]);
      a0 = simd::fmadd(simd::load(row), pv, a0);
      a1 = simd::fmadd(simd::load(row + W), pv, a1);
      a2 = simd::fmadd(simd::load(row + 2 * W), pv, a2);
      a3 = simd::fmadd(simd::load(row + 3 * W), pv, a3);
      a4 = simd::fmadd(simd::load(row + 4 * W), pv, a4);
      a5 = simd::fmadd(simd::load(row + 5 * W), pv, a5);
      a6 = simd::fmadd(simd::load(row + 6 * W), pv, a6);
      a7 = simd::fmadd(simd::load(row + 7 * W), pv, a7);
    }
    simd::store(out + c, a0);
    simd::store(out + c + W, a1);
    simd::store(out + c + 2 * W, a2);
    simd::store(out + c + 3 * W, a3);
    simd::store(out + c + 4 * W, a4);
    simd::store(out + c + 5 * W, a5);
    simd::store(out + c + 6 * W, a6);
    simd::store(out + c + 7 * W, a7);
  }
  for (; c + W <= k; c += W) {
    Vec a0 = simd::zero(), a1 = simd::zero();
    int d = 0;
    for (; d + 2 <= k; d += 2) {
      a0 = simd::fmadd(simd::load(S + d * k + c), simd::splat(v[d]), a0);
      a1 = simd::fmadd(simd::load(S + (d + 1) * k + c), simd::splat(v[d + 1]), a1);
    }
    if (d < k) a0 = simd::fmadd(simd::load(S + d * k + c), simd::splat(v[d]), a0);
    simd::store(out + c, simd::add(a0, a1));
  }
  for (; c < k; ++c) {
    float s = 0;
    for (int d = 0; d < k; ++d) s += S[d * k + c] * v[d];
    out[c] = s;
  }
}

namespace detail {
inline float dotRow(const float* y, const float* v, int k) {
  Vec s0 = simd::zero(), s1 = simd::zero();
  int c = 0;
  for (; c + 2 * W <= k; c += 2 * W) {
    s0 = simd::fmadd(simd::load(y + c), simd::load(v + c), s0);
    s1 = simd::fmadd(simd::load(y + c + W), simd::load(v + c + W), s1);
  }
  for (; c + W <= k; c += W) s0 = simd::fmadd(simd::load(y + c), simd::load(v + c), s0);
  float s = simd::hsum(simd::add(s0, s1));
  for (; c < k; ++c) s += y[c] * v[c];
  return s;
}
}  // namespace detail

// out += sum_t (base[t] + mult[t] * (y_t . v)) y_t over the rows y_t = Y[idx[t]]
// (base may be null = 0). Four rows at a time: their dots share each load of
// v, then the four scaled rows go into out in one read-modify-write pass while
// they are still in L1.
inline void sparseApply(const float* Y, const Index* idx, const float* base, const float* mult, size_t n,
                        const float* v, float* out, int k) {
  size_t t = 0;
  for (; t + 4 <= n; t += 4) {
    const float* y0 = Y + static_cast<size_t>(idx[t]) * k;
    const float* y1 = Y + static_cast<size_t>(idx[t + 1]) * k;
    const float* y2 = Y + static_cast<size_t>(idx[t + 2]) * k;
    const float* y3 = Y + static_cast<size_t>(idx[t + 3]) * k;
    Vec s0 = simd::zero(), s1 = simd::zero(), s2 = simd::zero(), s3 = simd::zero();
    Vec u0 = simd::zero(), u1 = simd::zero(), u2 = simd::zero(), u3 = simd::zero();
    int c = 0;
    for (; c + 2 * W <= k; c += 2 * W) {
      const Vec va = simd::load(v + c);
      const Vec vb = simd::load(v + c + W);
      s0 = simd::fmadd(simd::load(y0 + c), va, s0);
      s1 = simd::fmadd(simd::load(y1 + c), va, s1);
      s2 = simd::fmadd(simd::load(y2 + c), va, s2);
      s3 = simd::fmadd(simd::load(y3 + c), va, s3);
      u0 = simd::fmadd(simd::load(y0 + c + W), vb, u0);
      u1 = simd::fmadd(simd::load(y1 + c + W), vb, u1);
      u2 = simd::fmadd(simd::load(y2 + c + W), vb, u2);
      u3 = simd::fmadd(simd::load(y3 + c + W), vb, u3);
    }
    for (; c + W <= k; c += W) {
      const Vec va = simd::load(v + c);
      s0 = simd::fmadd(simd::load(y0 + c), va, s0);
      s1 = simd::fmadd(simd::load(y1 + c), va, s1);
      s2 = simd::fmadd(simd::load(y2 + c), va, s2);
      s3 = simd::fmadd(simd::load(y3 + c), va, s3);
    }
    float d0 = simd::hsum(simd::add(s0, u0)), d1 = simd::hsum(simd::add(s1, u1));
    float d2 = simd::hsum(simd::add(s2, u2)), d3 = simd::hsum(simd::add(s3, u3));
    for (int r = c; r < k; ++r) {
      d0 += y0[r] * v[r];
      d1 += y1[r] * v[r];
      d2 += y2[r] * v[r];
      d3 += y3[r] * v[r];
    }
    const float q0 = (base ? base[t] : 0.0f) + mult[t] * d0;
    const float q1 = (base ? base[t + 1] : 0.0f) + mult[t + 1] * d1;
    const float q2 = (base ? base[t + 2] : 0.0f) + mult[t + 2] * d2;
    const float q3 = (base ? base[t + 3] : 0.0f) + mult[t + 3] * d3;
    const Vec c0 = simd::splat(q0), c1 = simd::splat(q1), c2 = simd::splat(q2), c3 = simd::splat(q3);
    c = 0;
    for (; c + W <= k; c += W) {
      // Two partial sums keep the adds of the four rows in two short chains.
      const Vec a = simd::fmadd(simd::load(y1 + c), c1, simd::mul(simd::load(y0 + c), c0));
      const Vec b = simd::fmadd(simd::load(y3 + c), c3, simd::mul(simd::load(y2 + c), c2));
      simd::store(out + c, simd::add(simd::load(out + c), simd::add(a, b)));
    }
    for (; c < k; ++c) out[c] += q0 * y0[c] + q1 * y1[c] + q2 * y2[c] + q3 * y3[c];
  }
  for (; t < n; ++t) {
    const float* y = Y + static_cast<size_t>(idx[t]) * k;
    const float q = (base ? base[t] : 0.0f) + mult[t] * detail::dotRow(y, v, k);
    const Vec cq = simd::splat(q);
    int c = 0;
    for (; c + W <= k; c += W) simd::store(out + c, simd::fmadd(simd::load(y + c), cq, simd::load(out + c)));
    for (; c < k; ++c) out[c] += q * y[c];
  }
}

}  // namespace localrec::ials_detail

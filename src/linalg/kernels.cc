#include "linalg/kernels.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "linalg/simd.h"

namespace localrec::linalg {

namespace {

using simd::Vec;
constexpr size_t W = simd::kWidth;

void checkGemvArgs(const char* where, size_t rows, size_t cols, size_t lda) {
  if (rows > 0 && lda < cols) {
    fail<InvalidArgument>(where, ": lda must be >= cols (", cols, "), got ", lda);
  }
}

void checkTopKArgs(const char* where, size_t n, size_t k, const Index* outIndices) {
  if (n > static_cast<size_t>(std::numeric_limits<Index>::max())) {
    fail<InvalidArgument>(where, ": at most ", std::numeric_limits<Index>::max(),
                          " scores can be indexed by Index (int32), got ", n);
  }
  if (k > 0 && outIndices == nullptr) {
    fail<InvalidArgument>(where, ": outIndices must not be null when k > 0 (k = ", k, ")");
  }
}

// (score desc, index asc): the order topK returns.
struct Scored {
  float score;
  Index index;
};
inline bool better(const Scored& a, const Scored& b) {
  return a.score > b.score || (a.score == b.score && a.index < b.index);
}

// Up to this k the selection keeps a sorted buffer on the stack; beyond it a heap.
// An insertion costs O(k) moves but, with the threshold check skipping most items,
// it only happens O(k log(n/k)) times on random data.
constexpr size_t kSmallK = 32;

// Feeds scores[i] for every i in order to offer(i, s) except those that cannot beat
// `threshold()` (the current k-th best score, -inf while not full). NaN and -inf
// never pass the strict `>` test, which is how they are excluded. Items equal to
// the threshold can be skipped because they come later, so lose the index tie.
template <class Threshold, class Offer>
void scan(const float* s, size_t n, Threshold threshold, Offer offer) {
  size_t i = 0;
  float t = threshold();
  Vec tv = simd::splat(t);
  for (; i + W <= n; i += W) {
    if (!simd::anyGreater(simd::load(s + i), tv)) continue;
    for (size_t j = i; j < i + W; ++j) {
      if (s[j] > t) {
        offer(j, s[j]);
        t = threshold();
      }
    }
    tv = simd::splat(t);
  }
  for (; i < n; ++i) {
    if (s[i] > t) {
      offer(i, s[i]);
      t = threshold();
    }
  }
}

size_t topKSmall(const float* s, size_t n, size_t k, Index* outIndices, float* outScores) {
  std::array<float, kSmallK> bs;  // descending; ties keep insertion (= index) order
  std::array<Index, kSmallK> bi;
  size_t count = 0;
  const size_t last = std::min(k, kSmallK) - 1;  // k >= 1 here; min() tells the compiler too
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  scan(
      s, n, [&] { return count <= last ? kNegInf : bs[last]; },
      [&](size_t i, float v) {
        size_t pos = count <= last ? count++ : last;
        // Strict '<' keeps an equal earlier score ahead of the newcomer.
        while (pos > 0 && bs[pos - 1] < v) {
          bs[pos] = bs[pos - 1];
          bi[pos] = bi[pos - 1];
          --pos;
        }
        bs[pos] = v;
        bi[pos] = static_cast<Index>(i);
      });
  for (size_t r = 0; r < count; ++r) {
    outIndices[r] = bi[r];
    if (outScores) outScores[r] = bs[r];
  }
  return count;
}

size_t topKHeap(const float* s, size_t n, size_t k, Index* outIndices, float* outScores) {
  // std heap functions keep the "largest" under the comparator on top; with
  // better() as the comparator that is the worst kept item, the one to evict.
  std::vector<Scored> heap;
  heap.reserve(k);
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  scan(
      s, n, [&] { return heap.size() < k ? kNegInf : heap.front().score; },
      [&](size_t i, float v) {
        if (heap.size() == k) {
          std::pop_heap(heap.begin(), heap.end(), better);
          heap.back() = {v, static_cast<Index>(i)};
        } else {
          heap.push_back({v, static_cast<Index>(i)});
        }
        std::push_heap(heap.begin(), heap.end(), better);
      });
  std::sort_heap(heap.begin(), heap.end(), better);  // best first
  for (size_t r = 0; r < heap.size(); ++r) {
    outIndices[r] = heap[r].index;
    if (outScores) outScores[r] = heap[r].score;
  }
  return heap.size();
}

// exp on a vector, the kernel of expShifted (see kernels.h for the contract).
// exp(x) = 2^n exp(r) with n = round(x / ln2) and r = x - n ln2 in two parts
// (Cody-Waite: kLn2Hi has few enough bits that n * kLn2Hi is exact for
// |n| <= 127, so r is accurate without an FMA). exp(r) on |r| <= ln2/2 is
// the Taylor polynomial to degree 7 (truncation error < 0.35^8 / 8! = 6e-9,
// below a float ulp). Rounding of x / ln2 to n uses the 1.5 * 2^23 trick.
inline Vec expVec(Vec x) {
  constexpr float kLo = -87.3365402f;   // ln(FLT_MIN): n >= -126 keeps 2^n a normal float
  constexpr float kHi = 88.3762589f;    // 127.5 ln2: n <= 127, the result below FLT_MAX
  constexpr float kLog2e = 1.44269504f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23
  constexpr float kLn2Hi = 0.693359375f;
  constexpr float kLn2Lo = -2.12194440e-4f;
  const Vec xc = simd::min(simd::max(x, simd::splat(kLo)), simd::splat(kHi));  // NaN stays NaN
  const Vec t = simd::fmadd(xc, simd::splat(kLog2e), simd::splat(kRound));
  const Vec n = simd::sub(t, simd::splat(kRound));
  Vec r = simd::fmadd(n, simd::splat(-kLn2Hi), xc);
  r = simd::fmadd(n, simd::splat(-kLn2Lo), r);
  Vec p = simd::splat(1.0f / 5040.0f);
  p = simd::fmadd(p, r, simd::splat(1.0f / 720.0f));
  p = simd::fmadd(p, r, simd::splat(1.0f / 120.0f));
  p = simd::fmadd(p, r, simd::splat(1.0f / 24.0f));
  p = simd::fmadd(p, r, simd::splat(1.0f / 6.0f));
  p = simd::fmadd(p, r, simd::splat(0.5f));
  p = simd::fmadd(p, r, simd::splat(1.0f));
  p = simd::fmadd(p, r, simd::splat(1.0f));
  return simd::zeroWhereLess(simd::mul(p, simd::pow2FromRounded(t)), x, simd::splat(kLo));
}

// The loop shape of the one-pass reductions below: body(i, u) for every whole
// vector at i of [0, n), first in groups of kAcc consecutive vectors (u = 0 ..
// kAcc - 1: the caller keeps kAcc independent accumulators, which hides the
// latency of the dependent adds; wasm has no FMA), then the vectors left over
// with u = 0. Returns where the scalar tail starts (n rounded down to W).
template <size_t kAcc, class Body>
inline size_t forEachVector(size_t n, Body&& body) {
  size_t i = 0;
  for (; i + kAcc * W <= n; i += kAcc * W)
    for (size_t u = 0; u < kAcc; ++u) body(i + u * W, u);
  for (; i + W <= n; i += W) body(i, 0);
  return i;
}

constexpr auto kAdd = [](Vec p, Vec q) { return simd::add(p, q); };
constexpr auto kMax = [](Vec p, Vec q) { return simd::max(p, q); };

// acc[0] op acc[1] op ... as a tree, into acc[0] (kAcc a power of 2).
template <size_t kAcc, class Combine>
inline Vec combine(Vec (&acc)[kAcc], Combine op) {
  for (size_t half = kAcc / 2; half > 0; half /= 2)
    for (size_t u = 0; u < half; ++u) acc[u] = op(acc[u], acc[u + half]);
  return acc[0];
}

}  // namespace

float maxValue(const float* x, size_t n) {
  const Vec negInf = simd::splat(-std::numeric_limits<float>::infinity());
  Vec m[2] = {negInf, negInf};
  size_t i = forEachVector<2>(n, [&](size_t j, size_t u) { m[u] = simd::max(m[u], simd::load(x + j)); });
  float best = simd::hmax(combine(m, kMax));
  for (; i < n; ++i) best = best < x[i] ? x[i] : best;
  return best;
}

// Not through forEachVector: with a store after each vector's exp it measured
// 15-20% slower in Node 20, likely because out may be x, so the next vector's
// load has to wait behind the store; here both exps come before both stores.
float expShifted(const float* x, float shift, float* out, size_t n) {
  const Vec sv = simd::splat(shift);
  Vec s0 = simd::zero(), s1 = simd::zero();
  size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    const Vec e0 = expVec(simd::sub(simd::load(x + i), sv));
    const Vec e1 = expVec(simd::sub(simd::load(x + i + W), sv));
    simd::store(out + i, e0);
    simd::store(out + i + W, e1);
    s0 = simd::add(s0, e0);
    s1 = simd::add(s1, e1);
  }
  float sum = simd::hsum(simd::add(s0, s1));
  // The tail through a padded vector, so every element takes the same path.
  if (i < n) {
    float buf[2 * W];
    const size_t rest = n - i;
    for (size_t j = 0; j < 2 * W; ++j) buf[j] = j < rest ? x[i + j] - shift : -std::numeric_limits<float>::infinity();
    for (size_t j = 0; j < 2 * W; j += W) simd::store(buf + j, expVec(simd::load(buf + j)));
    for (size_t j = 0; j < rest; ++j) {
      out[i + j] = buf[j];
      sum += buf[j];
    }
  }
  return sum;
}

// Eight accumulators; the final tree sum means results differ from the
// sequential scalar sum by rounding only.
float dot(const float* a, const float* b, size_t n) {
  Vec s[8];
  for (auto& v : s) v = simd::zero();
  size_t i = forEachVector<8>(
      n, [&](size_t j, size_t u) { s[u] = simd::fmadd(simd::load(a + j), simd::load(b + j), s[u]); });
  float sum = simd::hsum(combine(s, kAdd));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void axpy(float alpha, const float* x, float* y, size_t n) {
  const Vec av = simd::splat(alpha);
  size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    Vec y0 = simd::fmadd(av, simd::load(x + i), simd::load(y + i));
    Vec y1 = simd::fmadd(av, simd::load(x + i + W), simd::load(y + i + W));
    Vec y2 = simd::fmadd(av, simd::load(x + i + 2 * W), simd::load(y + i + 2 * W));
    Vec y3 = simd::fmadd(av, simd::load(x + i + 3 * W), simd::load(y + i + 3 * W));
    simd::store(y + i, y0);
    simd::store(y + i + W, y1);
    simd::store(y + i + 2 * W, y2);
    simd::store(y + i + 3 * W, y3);
  }
  for (; i + W <= n; i += W) simd::store(y + i, simd::fmadd(av, simd::load(x + i), simd::load(y + i)));
  for (; i < n; ++i) y[i] += alpha * x[i];
}

// Four rows at a time share each load of x; two accumulators per row keep eight
// independent add chains in flight. Not through forEachVector: loading both x
// vectors before the eight products measured 5% faster in Node 20. With
// beta == 0, y is write-only (may hold garbage).
void gemv(const float* A, size_t rows, size_t cols, size_t lda, const float* x, float* y, float beta) {
  checkGemvArgs("linalg::gemv", rows, cols, lda);
  auto finish = [&](size_t r, float v) { y[r] = beta == 0.0f ? v : v + beta * y[r]; };
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* a0 = A + r * lda;
    const float* a1 = a0 + lda;
    const float* a2 = a1 + lda;
    const float* a3 = a2 + lda;
    Vec s0 = simd::zero(), s1 = simd::zero(), s2 = simd::zero(), s3 = simd::zero();
    Vec t0 = simd::zero(), t1 = simd::zero(), t2 = simd::zero(), t3 = simd::zero();
    size_t j = 0;
    for (; j + 2 * W <= cols; j += 2 * W) {
      const Vec xa = simd::load(x + j);
      const Vec xb = simd::load(x + j + W);
      s0 = simd::fmadd(simd::load(a0 + j), xa, s0);
      s1 = simd::fmadd(simd::load(a1 + j), xa, s1);
      s2 = simd::fmadd(simd::load(a2 + j), xa, s2);
      s3 = simd::fmadd(simd::load(a3 + j), xa, s3);
      t0 = simd::fmadd(simd::load(a0 + j + W), xb, t0);
      t1 = simd::fmadd(simd::load(a1 + j + W), xb, t1);
      t2 = simd::fmadd(simd::load(a2 + j + W), xb, t2);
      t3 = simd::fmadd(simd::load(a3 + j + W), xb, t3);
    }
    for (; j + W <= cols; j += W) {
      const Vec xa = simd::load(x + j);
      s0 = simd::fmadd(simd::load(a0 + j), xa, s0);
      s1 = simd::fmadd(simd::load(a1 + j), xa, s1);
      s2 = simd::fmadd(simd::load(a2 + j), xa, s2);
      s3 = simd::fmadd(simd::load(a3 + j), xa, s3);
    }
    float v0 = simd::hsum(simd::add(s0, t0));
    float v1 = simd::hsum(simd::add(s1, t1));
    float v2 = simd::hsum(simd::add(s2, t2));
    float v3 = simd::hsum(simd::add(s3, t3));
    for (; j < cols; ++j) {
      v0 += a0[j] * x[j];
      v1 += a1[j] * x[j];
      v2 += a2[j] * x[j];
      v3 += a3[j] * x[j];
    }
    finish(r, v0);
    finish(r + 1, v1);
    finish(r + 2, v2);
    finish(r + 3, v3);
  }
  for (; r < rows; ++r) finish(r, dot(A + r * lda, x, cols));
}

// NaN scores are treated as -infinity: never returned. Fewer than k indices come
// back when fewer than k scores are > -infinity. outScores may be null.
// out = S v for a symmetric row-major k x k S, computed as sum_d v[d] * S[d, :]:
// eight column accumulators per block stay in registers and no row ends in a
// horizontal sum (gemv's row dots would need one per output).
void symv(const float* S, const float* v, float* out, size_t k) {
  size_t c = 0;
  for (; c + 8 * W <= k; c += 8 * W) {
    Vec a0 = simd::zero(), a1 = simd::zero(), a2 = simd::zero(), a3 = simd::zero();
    Vec a4 = simd::zero(), a5 = simd::zero(), a6 = simd::zero(), a7 = simd::zero();
    const float* row = S + c;
    for (size_t d = 0; d < k; ++d, row += k) {
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
    size_t d = 0;
    for (; d + 2 <= k; d += 2) {
      a0 = simd::fmadd(simd::load(S + d * k + c), simd::splat(v[d]), a0);
      a1 = simd::fmadd(simd::load(S + (d + 1) * k + c), simd::splat(v[d + 1]), a1);
    }
    if (d < k) a0 = simd::fmadd(simd::load(S + d * k + c), simd::splat(v[d]), a0);
    simd::store(out + c, simd::add(a0, a1));
  }
  for (; c < k; ++c) {
    float s = 0;
    for (size_t d = 0; d < k; ++d) s += S[d * k + c] * v[d];
    out[c] = s;
  }
}

// Four rows at a time: their dots share each load of v, then the four scaled
// rows go into out in one read-modify-write pass while they are still in L1.
void sparseGramApply(const float* Y, const Index* idx, const float* base, const float* mult, size_t n,
                     const float* v, float* out, size_t k) {
  size_t t = 0;
  for (; t + 4 <= n; t += 4) {
    const float* y0 = Y + static_cast<size_t>(idx[t]) * k;
    const float* y1 = Y + static_cast<size_t>(idx[t + 1]) * k;
    const float* y2 = Y + static_cast<size_t>(idx[t + 2]) * k;
    const float* y3 = Y + static_cast<size_t>(idx[t + 3]) * k;
    Vec s0 = simd::zero(), s1 = simd::zero(), s2 = simd::zero(), s3 = simd::zero();
    Vec u0 = simd::zero(), u1 = simd::zero(), u2 = simd::zero(), u3 = simd::zero();
    size_t c = 0;
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
    for (size_t r = c; r < k; ++r) {
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
    const float q = (base ? base[t] : 0.0f) + mult[t] * dot(y, v, k);
    const Vec cq = simd::splat(q);
    size_t c = 0;
    for (; c + W <= k; c += W) simd::store(out + c, simd::fmadd(simd::load(y + c), cq, simd::load(out + c)));
    for (; c < k; ++c) out[c] += q * y[c];
  }
}

size_t topK(std::span<const float> scores, size_t k, Index* outIndices, float* outScores) {
  const size_t n = scores.size();
  checkTopKArgs("linalg::topK", n, k, outIndices);
  k = std::min(k, n);
  if (k == 0) return 0;
  if (k <= kSmallK) return topKSmall(scores.data(), n, k, outIndices, outScores);
  return topKHeap(scores.data(), n, k, outIndices, outScores);
}

const char* simdPath() { return simd::kPath; }

namespace scalar {

// The references: the plain loops, in the obvious order.
float maxValue(const float* x, size_t n) {
  float m = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) m = std::max(m, x[i]);
  return m;
}

float expShifted(const float* x, float shift, float* out, size_t n) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    out[i] = std::exp(x[i] - shift);
    sum += out[i];
  }
  return static_cast<float>(sum);
}

float dot(const float* a, const float* b, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void axpy(float alpha, const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

void gemv(const float* A, size_t rows, size_t cols, size_t lda, const float* x, float* y, float beta) {
  checkGemvArgs("linalg::scalar::gemv", rows, cols, lda);
  for (size_t r = 0; r < rows; ++r) {
    const float v = scalar::dot(A + r * lda, x, cols);
    y[r] = beta == 0.0f ? v : v + beta * y[r];
  }
}

// Full sort of every eligible (score, index) pair; eligible means > -infinity,
// which also rules out NaN.
void symv(const float* S, const float* v, float* out, size_t k) {
  for (size_t c = 0; c < k; ++c) {
    float s = 0.0f;
    for (size_t d = 0; d < k; ++d) s += S[d * k + c] * v[d];
    out[c] = s;
  }
}

void sparseGramApply(const float* Y, const Index* idx, const float* base, const float* mult, size_t n,
                     const float* v, float* out, size_t k) {
  for (size_t t = 0; t < n; ++t) {
    const float* y = Y + static_cast<size_t>(idx[t]) * k;
    const float q = (base ? base[t] : 0.0f) + mult[t] * dot(y, v, k);
    for (size_t c = 0; c < k; ++c) out[c] += q * y[c];
  }
}

size_t topK(std::span<const float> scores, size_t k, Index* outIndices, float* outScores) {
  const size_t n = scores.size();
  checkTopKArgs("linalg::scalar::topK", n, k, outIndices);
  std::vector<Scored> all;
  for (size_t i = 0; i < n; ++i) {
    if (scores[i] > -std::numeric_limits<float>::infinity()) all.push_back({scores[i], static_cast<Index>(i)});
  }
  std::sort(all.begin(), all.end(), better);
  const size_t count = std::min(k, all.size());
  for (size_t r = 0; r < count; ++r) {
    outIndices[r] = all[r].index;
    if (outScores) outScores[r] = all[r].score;
  }
  return count;
}

}  // namespace scalar

}  // namespace localrec::linalg

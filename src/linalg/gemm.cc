// Row-major single-precision GEMM (see kernels.h for the contract).
//
// Two implementations of the same contract:
//  - gemmPacked: a hand-written blocked GEMM on the linalg/simd.h vector type
//    (operands packed into panels, a register-blocked micro-kernel). It is
//    the production path in wasm builds, where Eigen has no SIMD128 path of
//    its own and its SSE path (lowered onto SIMD128 by Emscripten) is slower.
//  - Eigen's blocked GEMM on maps of the operands: the production path in
//    native builds, where Eigen's AVX kernels are faster than ours.
// bench/kernels_bench.cc measures both in every build; gemm() picks one at
// compile time. The scalar triple loop is the reference the tests compare with.
#include <Eigen/Core>
#include <algorithm>
#include <vector>

#include "core/error.h"
#include "linalg/kernels.h"
#include "linalg/simd.h"

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

// C := beta * C for an m x n block (beta == 0 writes zeros without reading).
void scaleC(size_t m, size_t n, float beta, float* C, size_t ldc) {
  if (beta == 1.0f) return;
  for (size_t i = 0; i < m; ++i) {
    float* row = C + i * ldc;
    if (beta == 0.0f)
      std::fill(row, row + n, 0.0f);
    else
      for (size_t j = 0; j < n; ++j) row[j] *= beta;
  }
}

// ---- Eigen path -------------------------------------------------------------

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMajor, Eigen::Unaligned, Eigen::OuterStride<>>;
using MutMap = Eigen::Map<RowMajor, Eigen::Unaligned, Eigen::OuterStride<>>;

[[maybe_unused]] void gemmEigen(Op opA, Op opB, size_t m, size_t n, size_t k, float alpha, const float* A, size_t lda,
               const float* B, size_t ldb, float beta, float* C, size_t ldc) {
  if (m == 0 || n == 0) return;
  scaleC(m, n, beta, C, ldc);
  if (k == 0 || alpha == 0.0f) return;
  using E = Eigen::Index;
  MutMap c(C, E(m), E(n), Eigen::OuterStride<>(E(ldc)));
  const bool ta = opA == Op::kTranspose, tb = opB == Op::kTranspose;
  ConstMap a(A, ta ? E(k) : E(m), ta ? E(m) : E(k), Eigen::OuterStride<>(E(lda)));
  ConstMap b(B, tb ? E(n) : E(k), tb ? E(k) : E(n), Eigen::OuterStride<>(E(ldb)));
  if (!ta && !tb) c.noalias() += alpha * a * b;
  else if (ta && !tb) c.noalias() += alpha * a.transpose() * b;
  else if (!ta && tb) c.noalias() += alpha * a * b.transpose();
  else c.noalias() += alpha * a.transpose() * b.transpose();
}

// ---- Packed path ------------------------------------------------------------
//
// The classic blocking (Goto and van de Geijn 2008): a kc x nc panel of op(B)
// is packed once into strips kNr columns wide, then every mc x kc block of
// op(A) is packed into strips kMr rows tall (times alpha), and for each A
// strip the micro-kernel sweeps the panel's B strips left to right, computing
// one kMr x kNr tile of C per B strip. Packing turns every operand layout
// (either transpose, any stride) into the same contiguous, zero-padded
// stream, so one micro-kernel serves all four cases.
//
// The tile: kMr rows times kNv vectors of C accumulate in registers. In wasm
// the engine maps v128 values onto the 16 x64 xmm registers, one of which V8
// keeps as scratch: 4 x 2 needs 8 accumulators, 2 B vectors, 4 A broadcasts
// (all loaded before the products, in the order clang emits) and a product
// register, 15, and compiles without spills; 5 x 2 spilled two accumulators
// in the loop (seen with node --print-wasm-code); 4 x 3 and 6 x 2 need more
// than 15. With operands in L1 the tiles 2 x 4 to 5 x 2 all ran at 19-24
// GFLOP/s in Node 20 (the limit of one mul and one add per vector, no FMA in
// SIMD128), so the differences on real shapes came from around the kernel:
//  - packing: element-by-element packing of a transposed operand took 45% of
//    3416 x 1280 x 64 (A transposed). 4-row A strips and 4-column groups of B
//    strips are now moved as whole vectors, through 4 x 4 register transposes
//    where the stored layout runs the other way (kVectorPack);
//  - the order of the tiles: with the B strips outside, C was written down a
//    column of tiles, one cache line per row; at 1280 x 64 x 3416 (C 17 MB, k
//    64) that ran at 13 GFLOP/s. Row strips outside write C left to right,
//    4 rows at a time, and ran at 20.7. The B panel then has to stay in L2,
//    so nc is capped at kPanel / kc.
//
// GFLOP/s in Node 20 (wasm), Xeon @ 2.5 GHz, per CPU second of the process
// (the machine was shared), best of 5 runs interleaved in one process, beta 1
// (issue 4, a scratch harness; old = the previous 5 x 2 kernel with scalar
// packing and B strips outside; bench/kernels_bench.cc measures the new one
// and Eigen in wall time):
//   m x k x n, op          old   new   Eigen (SSE path)
//   1280 x 64 x 3416 B^T   13.3  20.7   9.7    GRU4Rec output scores, H 64
//   3416 x 1280 x 64 A^T    9.1  19.0  13.2    its weight gradient
//   1280 x 3416 x 64       14.6  19.0  13.6    its input gradient
//   1280 x 128 x 3416 B^T  16.1  21.4  11.9    the same at H 128
//   3416 x 1280 x 128 A^T  12.4  21.0  13.6
//   1280 x 3416 x 128      16.9  20.5  14.9
//   64 x 64 x 192 B^T      17.1  20.4  13.5    GRU step, hidden product
//   64 x 192 x 64          17.3  21.0  13.6    its gradient
//   192 x 1280 x 64 A^T    13.8  20.2  13.5    GRU weight gradient
// Eigen's SSE path is slower on every GRU shape, so wasm uses the packed
// kernel throughout. Relaxed SIMD (a fused multiply-add) would lift the
// mul + add limit, but Emscripten 3.1.6's clang encodes it with the proposal's
// early opcode, which V8 rejects even behind --experimental-wasm-relaxed-simd
// (docs/toolchain.md), and Safari has none.

using simd::Vec;
constexpr size_t kW = simd::kWidth;
#if defined(LOCALREC_SIMD_SCALAR)
constexpr size_t kMr = 4, kNv = 4;  // scalar floats: a 4 x 4 tile of scalars
#elif defined(LOCALREC_SIMD_AVX2)
constexpr size_t kMr = 6, kNv = 2;  // 12 of the 16 ymm registers
#else
constexpr size_t kMr = 4, kNv = 2;
#endif
constexpr size_t kNr = kNv * kW;
// Block sizes: an A strip (kc x kMr, 4 KB at 256 x 4) stays in L1 while the
// B panel (kc x nc, at most kPanel floats = 512 KB) streams from L2; the A
// block (mc x kc, 128 KB) is packed once per panel. mc and nc are whole
// numbers of strips; nc shrinks for deep blocks to keep the panel in L2.
constexpr size_t kKc = 256, kMc = 128 / kMr * kMr, kNc = 2048 / kNr * kNr, kPanel = 128 * 1024;

#if defined(LOCALREC_SIMD_HAS_TRANSPOSE4)
// Whole-vector packing: 4-row A strips and 4-column groups of B strips are
// read as 4 x 4 blocks (transposed in registers where the stored layout
// runs the other way), never element by element.
constexpr bool kVectorPack = kW == 4 && kMr == 4 && kNr % 4 == 0;
#else
constexpr bool kVectorPack = false;
#endif

// Writes the 4 x kc block of src (4 rows at src, src + ld, ...; depths along
// each row) as kc groups of 4 (one per depth) with a stride of `step` floats
// between groups, times alpha unless alpha == 1. Only when kVectorPack.
[[maybe_unused]] void packRows4(const float* src, size_t ld, size_t kc, float alpha, float* dst,
                                size_t step) {
#if defined(LOCALREC_SIMD_HAS_TRANSPOSE4)
  const float* r0 = src;
  const float* r1 = r0 + ld;
  const float* r2 = r1 + ld;
  const float* r3 = r2 + ld;
  const bool scale = alpha != 1.0f;
  const Vec av = simd::splat(alpha);
  size_t p = 0;
  for (; p + 4 <= kc; p += 4) {
    Vec v0 = simd::load(r0 + p), v1 = simd::load(r1 + p), v2 = simd::load(r2 + p), v3 = simd::load(r3 + p);
    simd::transpose4(v0, v1, v2, v3);
    if (scale) {
      v0 = simd::mul(v0, av);
      v1 = simd::mul(v1, av);
      v2 = simd::mul(v2, av);
      v3 = simd::mul(v3, av);
    }
    float* d = dst + p * step;
    simd::store(d, v0);
    simd::store(d + step, v1);
    simd::store(d + 2 * step, v2);
    simd::store(d + 3 * step, v3);
  }
  for (; p < kc; ++p) {
    float* d = dst + p * step;
    d[0] = alpha * r0[p];
    d[1] = alpha * r1[p];
    d[2] = alpha * r2[p];
    d[3] = alpha * r3[p];
  }
#endif
}

// Packs rows [i0, i0 + mc) and depths [p0, p0 + kc) of op(A), times alpha, into
// strips of kMr rows: strip s holds, for each depth p, kMr consecutive values.
void packA(Op opA, const float* A, size_t lda, size_t i0, size_t mc, size_t p0, size_t kc, float alpha,
           float* out) {
  for (size_t s = 0; s < mc; s += kMr) {
    const size_t rows = std::min(kMr, mc - s);
    float* strip = out + s * kc;
    if (kVectorPack && rows == kMr) {
      if (opA == Op::kNone) {
        packRows4(A + (i0 + s) * lda + p0, lda, kc, alpha, strip, kMr);
      } else {
        // op(A)'s 4 rows at depth p are 4 consecutive stored values.
        const float* src = A + p0 * lda + i0 + s;
        const Vec av = simd::splat(alpha);
        for (size_t p = 0; p < kc; ++p, src += lda) {
          const Vec v = simd::load(src);
          simd::store(strip + p * kMr, alpha == 1.0f ? v : simd::mul(v, av));
        }
      }
      continue;
    }
    if (opA == Op::kNone) {
      for (size_t r = 0; r < rows; ++r) {
        const float* src = A + (i0 + s + r) * lda + p0;
        for (size_t p = 0; p < kc; ++p) strip[p * kMr + r] = alpha * src[p];
      }
    } else {
      for (size_t p = 0; p < kc; ++p) {
        const float* src = A + (p0 + p) * lda + i0 + s;
        for (size_t r = 0; r < rows; ++r) strip[p * kMr + r] = alpha * src[r];
      }
    }
    for (size_t r = rows; r < kMr; ++r)
      for (size_t p = 0; p < kc; ++p) strip[p * kMr + r] = 0.0f;
  }
}

// Packs depths [p0, p0 + kc) and columns [j0, j0 + nc) of op(B) into strips of
// kNr columns: strip s holds, for each depth p, kNr consecutive values.
void packB(Op opB, const float* B, size_t ldb, size_t p0, size_t kc, size_t j0, size_t nc, float* out) {
  for (size_t s = 0; s < nc; s += kNr) {
    const size_t cols = std::min(kNr, nc - s);
    float* strip = out + s * kc;
    if (opB == Op::kNone) {
      for (size_t p = 0; p < kc; ++p) {
        const float* src = B + (p0 + p) * ldb + j0 + s;
        float* dst = strip + p * kNr;
        if (cols == kNr) {
          for (size_t v = 0; v < kNv; ++v) simd::store(dst + v * kW, simd::load(src + v * kW));
        } else {
          for (size_t c = 0; c < cols; ++c) dst[c] = src[c];
          for (size_t c = cols; c < kNr; ++c) dst[c] = 0.0f;
        }
      }
    } else if (kVectorPack && cols == kNr) {
      // op(B)'s columns are stored rows: 4 of them at a time, transposed.
      for (size_t c = 0; c < kNr; c += 4)
        packRows4(B + (j0 + s + c) * ldb + p0, ldb, kc, 1.0f, strip + c, kNr);
    } else {
      for (size_t c = 0; c < cols; ++c) {
        const float* src = B + (j0 + s + c) * ldb + p0;
        for (size_t p = 0; p < kc; ++p) strip[p * kNr + c] = src[p];
      }
      for (size_t c = cols; c < kNr; ++c)
        for (size_t p = 0; p < kc; ++p) strip[p * kNr + c] = 0.0f;
    }
  }
}

// The kMr x kNr tile of a (packed A strip) times b (packed B strip) over kc
// depths, added to C (rows x cols valid): C = acc + beta * C when `first`
// (beta == 0: C = acc, C not read), else C += acc.
void microKernel(size_t kc, const float* a, const float* b, float* C, size_t ldc, size_t rows, size_t cols,
                 bool first, float beta) {
  Vec acc[kMr][kNv];
  for (size_t r = 0; r < kMr; ++r)
    for (size_t v = 0; v < kNv; ++v) acc[r][v] = simd::zero();
  for (size_t p = 0; p < kc; ++p, a += kMr, b += kNr) {
    Vec bv[kNv];
    for (size_t v = 0; v < kNv; ++v) bv[v] = simd::load(b + v * kW);
    for (size_t r = 0; r < kMr; ++r) {
      const Vec av = simd::splat(a[r]);
      for (size_t v = 0; v < kNv; ++v) acc[r][v] = simd::fmadd(av, bv[v], acc[r][v]);
    }
  }
  if (rows == kMr && cols == kNr) {
    for (size_t r = 0; r < kMr; ++r) {
      float* c = C + r * ldc;
      for (size_t v = 0; v < kNv; ++v) {
        Vec out = acc[r][v];
        if (!first) out = simd::add(out, simd::load(c + v * kW));
        else if (beta != 0.0f) out = simd::fmadd(simd::splat(beta), simd::load(c + v * kW), out);
        simd::store(c + v * kW, out);
      }
    }
    return;
  }
  // A partial tile at the bottom or right edge: through a buffer.
  float tile[kMr * kNr];
  for (size_t r = 0; r < kMr; ++r)
    for (size_t v = 0; v < kNv; ++v) simd::store(tile + r * kNr + v * kW, acc[r][v]);
  for (size_t r = 0; r < rows; ++r) {
    float* c = C + r * ldc;
    for (size_t j = 0; j < cols; ++j) {
      const float t = tile[r * kNr + j];
      c[j] = !first ? c[j] + t : (beta == 0.0f ? t : t + beta * c[j]);
    }
  }
}

// Packing buffers, kept between calls (the engine is single-threaded per
// instance; thread_local keeps concurrent native callers apart).
struct PackBuffers {
  std::vector<float> a, b;
};

PackBuffers& packBuffers() {
  thread_local PackBuffers buffers;
  return buffers;
}

void packedProduct(Op opA, Op opB, size_t m, size_t n, size_t k, float alpha, const float* A, size_t lda,
                   const float* B, size_t ldb, float beta, float* C, size_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0.0f) {
    scaleC(m, n, beta, C, ldc);
    return;
  }
  PackBuffers& buf = packBuffers();
  const size_t kcMax = std::min(k, kKc);
  const size_t ncBlock = std::min(kNc, std::max(kNr, kPanel / kcMax / kNr * kNr));
  const size_t ncMax = std::min((n + kNr - 1) / kNr * kNr, ncBlock);
  const size_t mcMax = std::min((m + kMr - 1) / kMr * kMr, kMc);
  if (buf.a.size() < mcMax * kcMax) buf.a.resize(mcMax * kcMax);
  if (buf.b.size() < ncMax * kcMax) buf.b.resize(ncMax * kcMax);
  for (size_t j0 = 0; j0 < n; j0 += ncBlock) {
    const size_t nc = std::min(ncBlock, n - j0);
    for (size_t p0 = 0; p0 < k; p0 += kKc) {
      const size_t kc = std::min(kKc, k - p0);
      const bool first = p0 == 0;
      packB(opB, B, ldb, p0, kc, j0, nc, buf.b.data());
      for (size_t i0 = 0; i0 < m; i0 += kMc) {
        const size_t mc = std::min(kMc, m - i0);
        packA(opA, A, lda, i0, mc, p0, kc, alpha, buf.a.data());
        // Row strips outside: C is written 4 rows at a time from left to
        // right, a stream the hardware prefetcher follows (column strips
        // outside walk down C one cache line per row: 1.6x slower at
        // 1280 x 64 x 3416, where C is 17 MB and k is small).
        for (size_t is = 0; is < mc; is += kMr) {
          const float* aStrip = buf.a.data() + is * kc;
          const size_t rows = std::min(kMr, mc - is);
          for (size_t js = 0; js < nc; js += kNr) {
            microKernel(kc, aStrip, buf.b.data() + js * kc, C + (i0 + is) * ldc + j0 + js, ldc, rows,
                        std::min(kNr, nc - js), first, beta);
          }
        }
      }
    }
  }
}

}  // namespace

void gemmPacked(Op opA, Op opB, size_t m, size_t n, size_t k, float alpha, const float* A, size_t lda,
                const float* B, size_t ldb, float beta, float* C, size_t ldc) {
  checkGemmArgs("linalg::gemmPacked", opA, opB, m, n, k, A, lda, B, ldb, C, ldc);
  packedProduct(opA, opB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm(Op opA, Op opB, size_t m, size_t n, size_t k, float alpha, const float* A, size_t lda,
          const float* B, size_t ldb, float beta, float* C, size_t ldc) {
  checkGemmArgs("linalg::gemm", opA, opB, m, n, k, A, lda, B, ldb, C, ldc);
#if defined(__wasm__)
  packedProduct(opA, opB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
#else
  gemmEigen(opA, opB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
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

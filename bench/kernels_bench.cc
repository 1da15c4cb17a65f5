// Dense kernel throughput: each SIMD kernel against its scalar reference, and
// Eigen's GEMM against a scalar one. One JSON line per measurement, e.g.
//   {"bench":"dot","impl":"simd","n":4096,"gflops":21.3,"path":"wasm-simd128"}
// Timing: calls are batched (a batch lasts >= 1 ms), batches repeat until a
// sample lasts >= 0.3 s; the reported figure is the median of 5 samples, and
// best_* the fastest of them (the least disturbed one on a shared machine).
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 flags Eigen's AVX-512 packet code with -march=native; a false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "linalg/kernels.h"

namespace {

namespace la = localrec::linalg;
using Clock = std::chrono::steady_clock;

volatile float gSink = 0.0f;  // keeps results alive so calls are not optimized away

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Timing {
  double median;  // seconds per call
  double best;
};

// Median and minimum over 5 samples of the seconds one call of f takes.
template <class F>
Timing secondsPerCall(F&& f) {
  f();  // warm up caches and (in wasm) the tiering compiler
  size_t batch = 1;
  for (;;) {
    auto t0 = Clock::now();
    for (size_t i = 0; i < batch; ++i) f();
    if (secondsSince(t0) >= 1e-3) break;
    batch *= 2;
  }
  std::vector<double> samples;
  for (int s = 0; s < 5; ++s) {
    size_t calls = 0;
    auto t0 = Clock::now();
    double elapsed = 0;
    do {
      for (size_t i = 0; i < batch; ++i) f();
      calls += batch;
      elapsed = secondsSince(t0);
    } while (elapsed < 0.3);
    samples.push_back(elapsed / static_cast<double>(calls));
  }
  std::sort(samples.begin(), samples.end());
  return {samples[2], samples[0]};
}

void printGflops(const char* bench, const char* impl, const std::string& shape, double flops, Timing t) {
  std::printf("{\"bench\":\"%s\",\"impl\":\"%s\",%s,\"gflops\":%.3f,\"best_gflops\":%.3f,\"path\":\"%s\"}\n", bench,
              impl, shape.c_str(), flops / t.median * 1e-9, flops / t.best * 1e-9, la::simdPath());
  std::fflush(stdout);
}

std::vector<float> randomVector(size_t n, std::mt19937& gen) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(gen);
  return v;
}

void benchDot(std::mt19937& gen) {
  const size_t n = 4096;
  auto a = randomVector(n, gen), b = randomVector(n, gen);
  const std::string shape = "\"n\":" + std::to_string(n);
  printGflops("dot", "simd", shape, 2.0 * n, secondsPerCall([&] { gSink = gSink + la::dot(a.data(), b.data(), n); }));
  printGflops("dot", "scalar", shape, 2.0 * n,
              secondsPerCall([&] { gSink = gSink + la::scalar::dot(a.data(), b.data(), n); }));
}

void benchAxpy(std::mt19937& gen) {
  const size_t n = 4096;
  auto x = randomVector(n, gen), y = randomVector(n, gen);
  // A tiny alpha keeps y bounded over millions of calls.
  const float alpha = 1e-7f;
  const std::string shape = "\"n\":" + std::to_string(n);
  printGflops("axpy", "simd", shape, 2.0 * n, secondsPerCall([&] { la::axpy(alpha, x.data(), y.data(), n); }));
  printGflops("axpy", "scalar", shape, 2.0 * n,
              secondsPerCall([&] { la::scalar::axpy(alpha, x.data(), y.data(), n); }));
  gSink = gSink + y[n / 2];
}

void benchGemv(std::mt19937& gen) {
  const size_t rows = 2000, cols = 64;
  auto A = randomVector(rows * cols, gen), x = randomVector(cols, gen);
  std::vector<float> y(rows);
  const std::string shape = "\"rows\":" + std::to_string(rows) + ",\"cols\":" + std::to_string(cols);
  const double flops = 2.0 * rows * cols;
  printGflops("gemv", "simd", shape, flops, secondsPerCall([&] {
                la::gemv(A.data(), rows, cols, cols, x.data(), y.data());
                gSink = gSink + y[7];
              }));
  printGflops("gemv", "scalar", shape, flops, secondsPerCall([&] {
                la::scalar::gemv(A.data(), rows, cols, cols, x.data(), y.data());
                gSink = gSink + y[7];
              }));
}

void benchGemm() {
  const int m = 256, k = 64, n = 2000;
  Eigen::MatrixXf A = Eigen::MatrixXf::Random(m, k);
  Eigen::MatrixXf B = Eigen::MatrixXf::Random(k, n);
  Eigen::MatrixXf C(m, n);
  const std::string shape = "\"m\":" + std::to_string(m) + ",\"k\":" + std::to_string(k) + ",\"n\":" + std::to_string(n);
  const double flops = 2.0 * m * k * n;
  const Timing eigen = secondsPerCall([&] {
    C.noalias() = A * B;
    gSink = gSink + C(3, 5);
  });
  std::printf("{\"bench\":\"gemm\",\"impl\":\"eigen\",%s,\"gflops\":%.3f,\"best_gflops\":%.3f,\"eigen_simd\":\"%s\"}\n",
              shape.c_str(), flops / eigen.median * 1e-9, flops / eigen.best * 1e-9, Eigen::SimdInstructionSetsInUse());
  std::fflush(stdout);

  // The scalar reference: one sequential dot per output, over A's rows (a
  // row-major copy) and B's columns (contiguous in column-major B).
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> Ar = A;
  printGflops("gemm", "scalar", shape, flops, secondsPerCall([&] {
                for (int j = 0; j < n; ++j)
                  for (int i = 0; i < m; ++i) C(i, j) = la::scalar::dot(Ar.data() + i * k, B.data() + j * k, k);
                gSink = gSink + C(3, 5);
              }));
}

// linalg::gemm at the shapes the models use, against its two implementations:
//   impl "gemm"   the library entry point (Eigen natively, the packed kernel in wasm),
//   impl "packed" the hand-written packed SIMD kernel (linalg::gemmPacked),
//   impl "eigen"  Eigen's GEMM on the same row-major operands.
// Shapes (m x k times k x n): EASE's sweep update (128 rows of 3,500 columns,
// depth 128) and its V = U^T D (3,500 x 128 x 128, A transposed); the GRU's
// input and hidden products (batch 64 or 1,280, hidden 64 or 128, 3 gates; B
// transposed: the gate weights are stored one gate per row); a full-catalog
// score of 1,280 hidden states against 3,416 item embeddings (B transposed:
// the embeddings are stored one item per row) and, at hidden 64 and 128, its
// two gradients (the weight gradient dY^T h, A transposed, and dY W into the
// hidden states); the GRU's per-step hidden gradient (64 x 192 x 64) and its
// weight gradient over the batch (A transposed).
void benchGemmShapes(std::mt19937& gen) {
  struct Shape {
    size_t m, k, n;
    bool transA, transB;
  };
  const Shape shapes[] = {{128, 128, 3500, false, false}, {3500, 128, 128, true, false}, {64, 64, 192, false, true},
                          {1280, 64, 192, false, true},   {64, 128, 384, false, true},   {1280, 128, 384, false, true},
                          {1280, 64, 3416, false, true},  {3416, 1280, 64, true, false}, {1280, 3416, 64, false, false},
                          {1280, 128, 3416, false, true}, {3416, 1280, 128, true, false}, {1280, 3416, 128, false, false},
                          {64, 192, 64, false, false},    {192, 1280, 64, true, false}};
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Map = Eigen::Map<const RowMajor>;
  for (const Shape& s : shapes) {
    const la::Op opA = s.transA ? la::Op::kTranspose : la::Op::kNone;
    const la::Op opB = s.transB ? la::Op::kTranspose : la::Op::kNone;
    const size_t lda = s.transA ? s.m : s.k, ldb = s.transB ? s.k : s.n;
    auto A = randomVector(s.m * s.k, gen), B = randomVector(s.k * s.n, gen);
    std::vector<float> C(s.m * s.n);
    const std::string shape = "\"m\":" + std::to_string(s.m) + ",\"k\":" + std::to_string(s.k) + ",\"n\":" +
                              std::to_string(s.n) + ",\"trans_a\":" + std::to_string(int(s.transA)) +
                              ",\"trans_b\":" + std::to_string(int(s.transB));
    const double flops = 2.0 * s.m * s.k * s.n;
    printGflops("gemm", "gemm", shape, flops, secondsPerCall([&] {
                  la::gemm(opA, opB, s.m, s.n, s.k, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(), s.n);
                  gSink = gSink + C[7];
                }));
    printGflops("gemm", "packed", shape, flops, secondsPerCall([&] {
                  la::gemmPacked(opA, opB, s.m, s.n, s.k, 1.0f, A.data(), lda, B.data(), ldb, 0.0f, C.data(), s.n);
                  gSink = gSink + C[7];
                }));
    const Map a(A.data(), s.transA ? s.k : s.m, s.transA ? s.m : s.k);
    const Map b(B.data(), s.transB ? s.n : s.k, s.transB ? s.k : s.n);
    Eigen::Map<RowMajor> c(C.data(), s.m, s.n);
    printGflops("gemm", "eigen", shape, flops, secondsPerCall([&] {
                  if (s.transA) c.noalias() = a.transpose() * b;
                  else if (s.transB) c.noalias() = a * b.transpose();
                  else c.noalias() = a * b;
                  gSink = gSink + C[7];
                }));
  }
}

void benchTopK(std::mt19937& gen) {
  const size_t n = 10000, k = 10;
  auto scores = randomVector(n, gen);
  std::vector<localrec::Index> idx(k);
  std::vector<float> val(k);
  auto run = [&](const char* impl, auto fn) {
    const Timing t = secondsPerCall([&] {
      fn(scores, k, idx.data(), val.data());
      gSink = gSink + val[0];
    });
    std::printf("{\"bench\":\"topk\",\"impl\":\"%s\",\"n\":%zu,\"k\":%zu,\"ns\":%.1f,\"best_ns\":%.1f,\"path\":\"%s\"}\n", impl,
                n, k, t.median * 1e9, t.best * 1e9, la::simdPath());
    std::fflush(stdout);
  };
  run("simd", la::topK);
  run("scalar", la::scalar::topK);
}

}  // namespace

// Optional arguments name the benchmarks to run (dot axpy gemv gemm gemm_shapes topk); none runs all.
int main(int argc, char** argv) {
  auto wanted = [&](const char* name) {
    if (argc < 2) return true;
    for (int i = 1; i < argc; ++i)
      if (std::string(argv[i]) == name) return true;
    return false;
  };
  std::mt19937 gen(2024);
  if (wanted("dot")) benchDot(gen);
  if (wanted("axpy")) benchAxpy(gen);
  if (wanted("gemv")) benchGemv(gen);
  if (wanted("gemm")) benchGemm();
  if (wanted("gemm_shapes")) benchGemmShapes(gen);
  if (wanted("topk")) benchTopK(gen);
  return 0;
}

// Convolution over time (src/nn/conv1d.h) and the Caser model.
//  - conv1d_fwd_bwd: Conv1d forward + backward (dX, dW, db) GFLOP/s on a
//    Caser-like shape (B = 256 windows of L = 5 item embeddings of d = 50,
//    16 filters of height 3) and a text-CNN-like shape (B = 64 texts of 100
//    words, 64-dim embeddings, 100 filters of width 3 and 5). FLOPs counted:
//    2*B*To*F*w*C for the forward GEMM and twice that for the two backward
//    GEMMs (im2col/col2im copies, the bias and pooling are not counted).
//  - caser_train: Caser fit events/s (one event = one target position) with
//    the model's network defaults on synthetic data: 600 users x 150 events
//    over 3,416 items drawn Zipf(1), one epoch, pinned to the training step
//    bench/tfjs_caser.mjs mirrors: one target per window (targets=1), random
//    item embeddings (init=random, no inner iALS fit), adagrad lr 0.05, one
//    network (networks=1).
// Prints one JSON line per measurement. Usage: bench_conv_bench [seconds per run]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/rng.h"
#include "data/csr.h"
#include "models/seq/caser.h"
#include "nn/conv1d.h"
#include "synthetic.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace nn = localrec::nn;
using localrec::Index;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void benchConv(size_t B, size_t T, size_t C, size_t F, size_t w, double seconds) {
  localrec::Rng rng(5);
  nn::Conv1d conv(C, F, w);
  conv.init(rng);
  nn::Matrix x(B * T, C), y, dX;
  nn::initUniform(x, -1, 1, rng);
  const size_t To = nn::Conv1d::outputSteps(T, w);
  nn::Matrix dY(B * To, F);
  nn::initUniform(dY, -1, 1, rng);
  const double flops = 3.0 * 2.0 * double(B) * double(To) * double(F) * double(w) * double(C);
  // Warm up (allocations), then time whole forward+backward passes.
  conv.forward(x, T, y);
  conv.backward(dY, &dX);
  size_t reps = 0;
  double elapsed = 0, forwardSeconds = 0;
  while (elapsed < seconds) {
    conv.weight.zeroGrad();
    conv.bias.zeroGrad();
    const auto t0 = Clock::now();
    conv.forward(x, T, y);
    const auto t1 = Clock::now();
    conv.backward(dY, &dX);
    forwardSeconds += std::chrono::duration<double>(t1 - t0).count();
    elapsed += secondsSince(t0);
    ++reps;
  }
  std::printf(
      "{\"bench\":\"conv1d_fwd_bwd\",\"impl\":\"nn::Conv1d\",\"batch\":%zu,\"steps\":%zu,\"channels\":%zu,"
      "\"filters\":%zu,\"width\":%zu,\"gflops\":%.2f,\"pass_us\":%.1f,\"forward_us\":%.1f}\n",
      B, T, C, F, w, flops * double(reps) / elapsed / 1e9, elapsed / double(reps) * 1e6,
      forwardSeconds / double(reps) * 1e6);
  std::fflush(stdout);
}

void benchCaser(double seconds) {
  constexpr Index kItems = 3416, kUsers = 600, kPerUser = 150;
  const localrec::InteractionMatrix train = localrec::bench::zipfInteractions(kItems, kUsers, kPerUser, 9);
  // One epoch of the pinned step; repeated until `seconds` have passed (at least once).
  const double events = double(kUsers) * double(kPerUser - 1);
  size_t fits = 0;
  const auto t0 = Clock::now();
  double elapsed = 0;
  do {
    localrec::Caser model(localrec::OptionMap{
        {"epochs", "1"}, {"targets", "1"}, {"init", "random"}, {"learning_rate", "0.05"}, {"networks", "1"}});
    model.fit(train);
    ++fits;
    elapsed = secondsSince(t0);
  } while (elapsed < seconds);
  const localrec::Caser defaults;
  std::printf(
      "{\"bench\":\"caser_train\",\"impl\":\"localrec caser (1 epoch, T=1, random init, lr 0.05)\",\"items\":%zu,\"L\":%d,\"d\":%d,"
      "\"events_per_s\":%.0f}\n",
      size_t(kItems), defaults.windowLength(), defaults.dimension(), events * double(fits) / elapsed);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  benchConv(256, 5, 50, 16, 3, seconds);   // Caser: height-3 horizontal filters
  benchConv(64, 100, 64, 100, 3, seconds);  // text CNN
  benchConv(64, 100, 64, 100, 5, seconds);
  benchCaser(seconds);
  return 0;
}

// The neural engine on the GRU4Rec-like peer config of notes/peers.md:
// catalog N = 3416, Embedding(N, 64) -> GRU(64, H) -> Dense(H, N), full
// softmax cross-entropy at each of 20 positions, windows of 20 from a zero
// state, 64 windows per batch (1,280 events), Adam lr 1e-3; items Zipf(1.0).
// Also a sampled-softmax variant (targets of the batch + K shared negatives)
// and inference (one GRU step + scores for all N items, batch 1).
// Prints one JSON line per measurement. Usage: bench_nn_bench [seconds per run]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "core/rng.h"
#include "nn/embedding.h"
#include "nn/gru.h"
#include "nn/optimizer.h"
#include "synthetic.h"
#include "tests/cpp/gru_next_item.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace nn = localrec::nn;
using localrec::Index;

constexpr size_t kItems = 3416, kEmb = 64, kT = 20, kB = 64;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The network and its training step are the ones tests/cpp/nn_test.cc trains
// on its tiny task (gru_next_item.h); here at the peer config's sizes.
using Net = localrec::fixtures::GruNextItemNet;

Net makeNet(size_t hidden, size_t neg, const std::vector<double>& counts) {
  return Net({.items = kItems, .embedding = kEmb, .hidden = hidden, .negatives = neg, .counts = counts,
              .sampleAlpha = 0.5, .embeddingScale = 0.05f, .optimizer = {nn::OptimizerKind::kAdam, 1e-3f},
              .seed = 7, .rowsPerBatch = kT * kB});
}

// One training step on kB windows of kT + 1 consecutive events of `data`.
float step(Net& net, const std::vector<Index>& data, size_t windowStart) {
  net.inputs.resize(kT * kB);
  net.targets.resize(kT * kB);
  for (size_t b = 0; b < kB; ++b) {
    const size_t base = (windowStart + b * (kT + 1)) % (data.size() - kT - 1);
    for (size_t t = 0; t < kT; ++t) {
      net.inputs[t * kB + b] = data[base + t];
      net.targets[t * kB + b] = data[base + t + 1];
    }
  }
  return net.step(kT);
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  localrec::Rng rng(1);
  const std::vector<Index> data = localrec::bench::ZipfItems(kItems).draw(1000 * 100, rng);
  std::vector<double> counts(kItems, 0.0);
  for (Index id : data) counts[size_t(id)] += 1;
  for (size_t hidden : {64, 128}) {
    for (size_t neg : {0, 512, 2048}) {
      Net net = makeNet(hidden, neg, counts);
      step(net, data, 0);  // warm-up (sizes the workspaces)
      size_t batches = 0;
      float loss = 0;
      const auto start = Clock::now();
      while (secondsSince(start) < seconds) loss = step(net, data, ++batches * 997);
      const double elapsed = secondsSince(start);
      std::printf("{\"bench\":\"nn_gru_train\",\"hidden\":%zu,\"negatives\":%zu,\"loss\":\"%s\",\"events_per_s\":%.0f,\"last_loss\":%.4f}\n",
                  hidden, neg, neg ? "sampled_softmax" : "full_softmax", double(batches * kT * kB) / elapsed, loss);
      std::fflush(stdout);
    }
    // Inference: one step + scores for every item, batch 1.
    Net net = makeNet(hidden, 0, counts);
    nn::GruScratch scratch;
    nn::Matrix state(1, hidden), e, s;
    size_t steps = 0;
    const auto start = Clock::now();
    while (secondsSince(start) < seconds / 2) {
      const Index item = data[steps % data.size()];
      localrec::nn::gatherRows(net.emb.table.value, std::span<const Index>(&item, 1), e);
      net.gru.infer(e.data(), 1, state.data(), state.data(), scratch);
      net.out.forward(state, s);
      ++steps;
    }
    std::printf("{\"bench\":\"nn_gru_infer_step\",\"hidden\":%zu,\"items\":%zu,\"step_us\":%.1f}\n", hidden, kItems,
                secondsSince(start) * 1e6 / double(steps));
  }
  return 0;
}

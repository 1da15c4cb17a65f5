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
#include "nn/dense.h"
#include "nn/embedding.h"
#include "nn/gru.h"
#include "nn/loss.h"
#include "nn/optimizer.h"
#include "nn/sampler.h"
#include "synthetic.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace nn = localrec::nn;
using localrec::Index;

constexpr size_t kItems = 3416, kEmb = 64, kT = 20, kB = 64;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Net {
  nn::Embedding emb{kItems, kEmb};
  nn::Gru gru;
  nn::Dense out;
  std::unique_ptr<nn::Optimizer> opt = nn::makeOptimizer({nn::OptimizerKind::kAdam, 1e-3f});
  nn::SparseRows embGrad, outGrad, outBiasGrad;
  nn::Matrix x, h, scores, dScores, dH, dX;
  std::vector<Index> inputs, targets, candidates;
  std::vector<int32_t> targetCol;
  nn::NegativeSampler sampler;
  localrec::Rng rng{7};
  size_t negatives;  // 0: full softmax

  Net(size_t hidden, size_t neg, const std::vector<double>& counts)
      : gru(kEmb, hidden), out(hidden, kItems, true, neg ? nn::GradKind::kSparseRows : nn::GradKind::kDense),
        sampler(counts, 0.5), negatives(neg) {
    emb.init(rng, 0.05f);
    gru.init(rng);
    out.init(rng);
    embGrad.reset(kItems, kEmb, kT * kB);
    outGrad.reset(kItems, hidden, kT * kB + neg);
    outBiasGrad.reset(kItems, 1, kT * kB + neg);
  }

  float step(const std::vector<Index>& data, size_t windowStart) {
    inputs.resize(kT * kB);
    targets.resize(kT * kB);
    for (size_t b = 0; b < kB; ++b) {
      const size_t base = (windowStart + b * (kT + 1)) % (data.size() - kT - 1);
      for (size_t t = 0; t < kT; ++t) {
        inputs[t * kB + b] = data[base + t];
        targets[t * kB + b] = data[base + t + 1];
      }
    }
    emb.forward(inputs, x);
    gru.forward(x, kT, nullptr, {}, h);
    float loss;
    for (nn::Parameter* p : {&gru.wInput, &gru.wHidden, &gru.bInput, &gru.bHidden}) p->zeroGrad();
    if (negatives) {
      buildBatchCandidates(targets, sampler, negatives, rng, candidates, targetCol);
      out.forwardRows(h, candidates, scores);
      loss = nn::softmaxCrossEntropy(scores, {targetCol, candidates}, dScores);
      outGrad.clear();
      outBiasGrad.clear();
      out.backwardRows(h, candidates, dScores, &dH, outGrad, outBiasGrad);
      opt->stepRows(out.weight, outGrad);
      opt->stepRows(out.bias, outBiasGrad);
    } else {
      out.forward(h, scores);
      targetCol.assign(targets.begin(), targets.end());
      loss = nn::softmaxCrossEntropy(scores, {targetCol, {}}, dScores);
      out.weight.zeroGrad();
      out.bias.zeroGrad();
      out.backward(h, dScores, &dH);
      opt->step(out.weight);
      opt->step(out.bias);
    }
    gru.backward(dH, &dX, nullptr);
    embGrad.clear();
    emb.backward(inputs, dX, embGrad);
    for (nn::Parameter* p : {&gru.wInput, &gru.wHidden, &gru.bInput, &gru.bHidden}) opt->step(*p);
    opt->stepRows(emb.table, embGrad);
    return loss;
  }
};

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  localrec::Rng rng(1);
  const std::vector<Index> data = localrec::bench::ZipfItems(kItems).draw(1000 * 100, rng);
  std::vector<double> counts(kItems, 0.0);
  for (Index id : data) counts[size_t(id)] += 1;
  for (size_t hidden : {64, 128}) {
    for (size_t neg : {0, 512, 2048}) {
      Net net(hidden, neg, counts);
      net.step(data, 0);  // warm-up (sizes the workspaces)
      size_t batches = 0;
      float loss = 0;
      const auto start = Clock::now();
      while (secondsSince(start) < seconds) loss = net.step(data, ++batches * 997);
      const double elapsed = secondsSince(start);
      std::printf("{\"bench\":\"nn_gru_train\",\"hidden\":%zu,\"negatives\":%zu,\"loss\":\"%s\",\"events_per_s\":%.0f,\"last_loss\":%.4f}\n",
                  hidden, neg, neg ? "sampled_softmax" : "full_softmax", double(batches * kT * kB) / elapsed, loss);
      std::fflush(stdout);
    }
    // Inference: one step + scores for every item, batch 1.
    Net net(hidden, 0, counts);
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

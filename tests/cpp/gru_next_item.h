// A GRU next-item network assembled from the engine's layers, with one
// mini-batch training step: Embedding(items, embedding) -> Gru(embedding,
// hidden) from a zero state -> Dense(hidden, items) -> softmax cross-entropy
// at every position, over all items (negatives = 0) or over the batch's
// targets plus `negatives` shared samples (sparse-row gradients for the
// output layer).
//
// One definition for two users: tests/cpp/nn_test.cc (a GRU must learn a
// cycle with it) and bench/nn_bench.cc (it times the same step). It lives with
// the tests, which are always built, and the optional benchmarks include it
// (through the project root on localrec's include path); header only, no
// Catch2, so the benchmarks do not depend on the test framework.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/rng.h"
#include "core/types.h"
#include "nn/dense.h"
#include "nn/embedding.h"
#include "nn/finite.h"
#include "nn/gru.h"
#include "nn/loss.h"
#include "nn/matrix.h"
#include "nn/optimizer.h"
#include "nn/parameter.h"
#include "nn/sampler.h"

namespace localrec::fixtures {

struct GruNextItemConfig {
  size_t items = 0;
  size_t embedding = 0;
  size_t hidden = 0;
  size_t negatives = 0;          // shared negatives per step; 0: full softmax over every item
  std::vector<double> counts;    // one per item: the negatives are drawn proportional to count^sampleAlpha
  double sampleAlpha = 0.0;
  float embeddingScale = 0.05f;  // the embedding table's initial scale (Embedding::init)
  nn::OptimizerConfig optimizer;
  uint64_t seed = 0;             // initialization, then the negative draws
  size_t rowsPerBatch = 0;       // positions per step (steps x sequences): sizes the sparse gradients
};

struct GruNextItemNet {
  nn::Embedding emb;
  nn::Gru gru;
  nn::Dense out;
  std::unique_ptr<nn::Optimizer> opt;
  nn::NegativeSampler sampler;
  Rng rng;
  size_t negatives;
  // The next step's batch, time-major (row t * sequences + b): the caller fills both.
  std::vector<Index> inputs, targets;
  // Workspaces reused across steps.
  nn::Matrix x, h, scores, dScores, dH, dX;
  nn::SparseRows embGrad, outGrad, outBiasGrad;
  std::vector<Index> candidates;
  std::vector<int32_t> targetCol;

  explicit GruNextItemNet(const GruNextItemConfig& c)
      : emb(c.items, c.embedding),
        gru(c.embedding, c.hidden),
        out(c.hidden, c.items, true, c.negatives ? nn::GradKind::kSparseRows : nn::GradKind::kDense),
        opt(nn::makeOptimizer(c.optimizer)),
        sampler(c.counts, c.sampleAlpha),
        rng(c.seed),
        negatives(c.negatives) {
    emb.init(rng, c.embeddingScale);
    gru.init(rng);
    out.init(rng);
    embGrad.reset(c.items, c.embedding, std::min(c.items, c.rowsPerBatch));
    outGrad.reset(c.items, c.hidden, std::min(c.items, c.rowsPerBatch + c.negatives));
    outBiasGrad.reset(c.items, 1, std::min(c.items, c.rowsPerBatch + c.negatives));
  }

  // One optimizer step on inputs/targets read as `steps` positions of
  // inputs.size() / steps sequences; returns the batch's mean loss (throws
  // NonFiniteError, before any update, if it is not finite).
  float step(size_t steps) {
    emb.forward(inputs, x);
    gru.forward(x, steps, nullptr, {}, h);
    float loss;
    if (negatives) {
      nn::buildBatchCandidates(targets, sampler, negatives, rng, candidates, targetCol);
      out.forwardRows(h, candidates, scores);
      loss = nn::softmaxCrossEntropy(scores, {targetCol, candidates}, dScores);
    } else {
      out.forward(h, scores);
      targetCol.assign(targets.begin(), targets.end());
      loss = nn::softmaxCrossEntropy(scores, {targetCol, {}}, dScores);
    }
    nn::requireFinite(loss, "GRU next-item loss");
    for (nn::Parameter* p : {&gru.wInput, &gru.wHidden, &gru.bInput, &gru.bHidden}) p->zeroGrad();
    if (negatives) {
      outGrad.clear();
      outBiasGrad.clear();
      out.backwardRows(h, candidates, dScores, &dH, outGrad, outBiasGrad);
      opt->stepRows(out.weight, outGrad);
      opt->stepRows(out.bias, outBiasGrad);
    } else {
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

}  // namespace localrec::fixtures

// What every neural trainer shares: the training options (optimizer,
// learning_rate, momentum, epochs, batch_size, seed) and the epoch loop with
// progress, cancellation and the non-finite rule (docs/nn.md, "Training loop").
//
// The non-finite rule: a NaN or infinity (NonFiniteError, nn/finite.h) stops
// training with an error naming the epoch and suggesting a lower
// learning_rate; the parameters then hold the values they had at the END OF
// THE LAST COMPLETED EPOCH. If the first epoch fails there are no such values
// and the error simply propagates (the caller stays unfitted).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/options.h"
#include "core/progress.h"
#include "nn/optimizer.h"
#include "nn/parameter.h"

namespace localrec::nn {

// One model's defaults, valid ranges and wording for the shared options (a
// literal type, so each model's table is constant-initialized).
struct TrainingOptionDefaults {
  // true: the options optimizer (adagrad, adam, sgd) and momentum exist;
  // false: the model always uses Adam and has neither.
  bool chooseOptimizer = true;
  const char* optimizer = "adagrad";
  const char* learningRate = "0.1";  // as text, like every OptionSpec default
  double minLearningRate = 1e-6;
  int epochs = 3;
  int maxEpochs = 1000;
  const char* epochPasses = "the training examples";  // "passes over <this>"
  int batchSize = 64;
  int maxBatchSize = 4096;
  const char* batchUnit = "examples";  // "<this> per mini-batch"
  const char* seedOf = "the initialization, the shuffling, dropout and sampling";  // "seed of <this>"
};

// The specs, in this order: [optimizer,] learning_rate, [momentum,] epochs, batch_size, seed.
std::vector<OptionSpec> trainingOptionSpecs(const TrainingOptionDefaults& defaults);
// A model's own specs followed by trainingOptionSpecs(defaults).
std::vector<OptionSpec> withTrainingOptions(std::vector<OptionSpec> own, const TrainingOptionDefaults& defaults);

struct TrainingOptions {
  OptimizerKind optimizer = OptimizerKind::kAdam;
  double learningRate = 1e-3;
  double momentum = 0.0;
  int epochs = 1;
  int batchSize = 1;
  uint64_t seed = 0;

  // The optimizer config (Adagrad with epsilon 1e-6, the others at their defaults).
  OptimizerConfig optimizerConfig() const;
};

// Reads (and validates) the shared options; the model is Adam-only when !defaults.chooseOptimizer.
TrainingOptions readTrainingOptions(const OptionReader& reader, const TrainingOptionDefaults& defaults);

// Snapshots of some parameters' values (not their gradients or optimizer state).
class EpochCheckpoint {
 public:
  explicit EpochCheckpoint(std::vector<Parameter*> params) : params_(std::move(params)) {}
  // Copies every parameter's current value.
  void save();
  // Puts the saved values back (requires a save()).
  void restore() const;
  bool saved() const { return saved_; }
  const std::vector<Parameter*>& parameters() const { return params_; }

 private:
  std::vector<Parameter*> params_;
  std::vector<Matrix> values_;
  bool saved_ = false;
};

// The shape of an epoch loop: how many epochs, the work units of one epoch
// (events, examples, items) and the part of the fit's progress the loop fills.
struct EpochLoopConfig {
  int epochs = 1;
  double workPerEpoch = 1.0;
  double progressFrom = 0.0;
  double progressSpan = 1.0;  // progress goes from progressFrom to progressFrom + progressSpan
  std::string stage = "train";
};

// What an epoch body sees.
class TrainingEpoch {
 public:
  int number() const { return number_; }  // 1-based
  // "epoch N: try a lower learning_rate": the hint for every requireFinite of this epoch.
  const std::string& hint() const { return hint_; }
  // Call before each mini-batch of `work` units: reports the progress so far
  // (throws Cancelled if the caller asked to stop), then counts the batch.
  void batch(size_t work);

 private:
  friend void runEpochs(const EpochLoopConfig&, EpochCheckpoint&, Progress&,
                        const std::function<void(TrainingEpoch&)>&, const std::function<void()>&);
  TrainingEpoch(int number, const EpochLoopConfig& config, const EpochCheckpoint& checkpoint, Progress& progress,
                double& done);

  int number_;
  std::string hint_;
  const EpochLoopConfig& config_;
  const EpochCheckpoint& checkpoint_;
  Progress& progress_;
  double& done_;
};

// Test seam (fault injection): while a ScopedBatchHook lives, every
// TrainingEpoch::batch() on this thread calls it after reporting progress with
// the epoch number and the checkpoint's parameters, so a test can plant a NaN
// in a real model's weights mid-training. Hooks do not nest.
class ScopedBatchHook {
 public:
  using Hook = std::function<void(int epoch, const std::vector<Parameter*>& params)>;
  explicit ScopedBatchHook(Hook hook);
  ~ScopedBatchHook();
  ScopedBatchHook(const ScopedBatchHook&) = delete;
  ScopedBatchHook& operator=(const ScopedBatchHook&) = delete;

  // A hook that writes NaN into the first value of every parameter at the
  // start of the `batch`-th mini-batch (1-based) of `epoch`: after the default 2,
  // one batch of the epoch has already changed the weights.
  static Hook nanInEpoch(int epoch, int batch = 2);
};

// Runs config.epochs epochs of `epoch`. After each epoch, every checkpoint
// parameter must be finite (a step can leave finite gradients but overflow a
// weight) and the checkpoint saves them. On a NonFiniteError (from the body or
// that check) after at least one completed epoch: restores the checkpoint,
// calls `restored` (e.g. setFitted) and rethrows; in the first epoch it just
// rethrows. Cancelled and other errors propagate unchanged.
void runEpochs(const EpochLoopConfig& config, EpochCheckpoint& checkpoint, Progress& progress,
               const std::function<void(TrainingEpoch&)>& epoch, const std::function<void()>& restored);

}  // namespace localrec::nn

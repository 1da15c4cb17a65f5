#include "nn/training.h"

#include <limits>
#include <string>
#include <utility>

#include "core/error.h"
#include "nn/finite.h"

namespace localrec::nn {

std::vector<OptionSpec> trainingOptionSpecs(const TrainingOptionDefaults& d) {
  std::vector<OptionSpec> specs;
  if (d.chooseOptimizer)
    specs.push_back({"optimizer", "choice", d.optimizer, 0, 0, {"adagrad", "adam", "sgd"}, "optimizer (sgd uses momentum)"});
  specs.push_back({"learning_rate", "float", d.learningRate, d.minLearningRate, 10, {},
                   d.chooseOptimizer ? "optimizer step size" : "Adam step size"});
  if (d.chooseOptimizer)
    specs.push_back({"momentum", "float", "0", 0, 0.99, {}, "momentum of sgd (ignored by adagrad and adam)"});
  specs.push_back({"epochs", "int", std::to_string(d.epochs), 1, static_cast<double>(d.maxEpochs), {},
                   std::string("passes over ") + d.epochPasses});
  specs.push_back({"batch_size", "int", std::to_string(d.batchSize), 1, static_cast<double>(d.maxBatchSize), {},
                   std::string(d.batchUnit) + " per mini-batch"});
  specs.push_back({"seed", "int", "42", 0, 2147483647, {}, std::string("seed of ") + d.seedOf});
  return specs;
}

std::vector<OptionSpec> withTrainingOptions(std::vector<OptionSpec> own, const TrainingOptionDefaults& defaults) {
  for (auto& spec : trainingOptionSpecs(defaults)) own.push_back(std::move(spec));
  return own;
}

OptimizerConfig TrainingOptions::optimizerConfig() const {
  OptimizerConfig config;
  config.kind = optimizer;
  config.learningRate = static_cast<float>(learningRate);
  config.momentum = static_cast<float>(momentum);
  if (optimizer == OptimizerKind::kAdagrad) config.epsilon = 1e-6f;
  return config;
}

TrainingOptions readTrainingOptions(const OptionReader& reader, const TrainingOptionDefaults& defaults) {
  TrainingOptions t;
  if (defaults.chooseOptimizer) {
    t.optimizer = parseOptimizerKind(reader.getChoice("optimizer"));
    t.momentum = reader.getFloat("momentum");
  }
  t.learningRate = reader.getFloat("learning_rate");
  t.epochs = reader.getInt("epochs");
  t.batchSize = reader.getInt("batch_size");
  t.seed = static_cast<uint64_t>(reader.getInt("seed"));
  return t;
}

void EpochCheckpoint::save() {
  values_.clear();
  values_.reserve(params_.size());
  for (const Parameter* p : params_) values_.push_back(p->value);
  saved_ = true;
}

void EpochCheckpoint::restore() const {
  if (!saved()) fail<StateError>("EpochCheckpoint::restore: nothing was saved");
  for (size_t k = 0; k < params_.size(); ++k) params_[k]->value = values_[k];
}

namespace {
thread_local ScopedBatchHook::Hook batchHook;
}  // namespace

ScopedBatchHook::ScopedBatchHook(Hook hook) {
  if (batchHook) fail<StateError>("ScopedBatchHook: a hook is already installed on this thread");
  batchHook = std::move(hook);
}
ScopedBatchHook::~ScopedBatchHook() { batchHook = nullptr; }

ScopedBatchHook::Hook ScopedBatchHook::nanInEpoch(int epoch, int batch) {
  return [epoch, batch, seen = 0](int current, const std::vector<Parameter*>& params) mutable {
    if (current != epoch || ++seen != batch) return;
    for (Parameter* p : params)
      if (p->value.size() > 0) p->value.data()[0] = std::numeric_limits<float>::quiet_NaN();
  };
}

TrainingEpoch::TrainingEpoch(int number, const EpochLoopConfig& config, const EpochCheckpoint& checkpoint,
                             Progress& progress, double& done)
    : number_(number),
      hint_("epoch " + std::to_string(number) + ": try a lower learning_rate"),
      config_(config),
      checkpoint_(checkpoint),
      progress_(progress),
      done_(done) {}

void TrainingEpoch::batch(size_t work) {
  const double total = config_.workPerEpoch * config_.epochs;
  progress_.report(config_.progressFrom + config_.progressSpan * done_ / total, config_.stage);
  done_ += static_cast<double>(work);
  if (batchHook) batchHook(number_, checkpoint_.parameters());
}

void runEpochs(const EpochLoopConfig& config, EpochCheckpoint& checkpoint, Progress& progress,
               const std::function<void(TrainingEpoch&)>& epoch, const std::function<void()>& restored) {
  double done = 0.0;
  for (int e = 1; e <= config.epochs; ++e) {
    TrainingEpoch context(e, config, checkpoint, progress, done);
    try {
      epoch(context);
      for (const Parameter* p : checkpoint.parameters()) requireFinite(p->value, p->name, context.hint());
    } catch (const NonFiniteError&) {
      if (!checkpoint.saved()) throw;  // no completed epoch: nothing good to keep
      checkpoint.restore();
      if (restored) restored();
      throw;
    }
    checkpoint.save();
  }
}

}  // namespace localrec::nn

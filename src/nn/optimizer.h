// First-order optimizers with dense and sparse-row updates.
//
// Dense update: every element of `p.value` from `p.grad`.
// Sparse-row update: only the rows listed in a SparseRows, from its packed
// gradient rows; the state of untouched rows is left alone ("lazy"):
//  - SGD with momentum: velocity v = mu*v + g, w -= lr*v. Sparse: only touched
//    rows' velocities decay and move their rows (a dense step would keep moving
//    every row with a nonzero velocity).
//  - Adagrad: G += g^2, w -= lr*g/(sqrt(G)+eps). Sparse is exactly the dense
//    step with zero gradient on untouched rows.
//  - Adam: m = b1*m + (1-b1)*g, v = b2*v + (1-b2)*g^2,
//    w -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps), where t counts the
//    updates of THAT ROW (Parameter::rowSteps). So a sparse row behaves exactly
//    as dense Adam run on the sequence of that row's own gradients (lazy Adam,
//    like TF's LazyAdam but with per-row bias correction); for dense updates
//    every row's count is the global step count, i.e. standard Adam.
// The optimizer sizes the state in Parameter on first use. No weight decay.
#pragma once

#include <memory>
#include <string>

#include "nn/parameter.h"

namespace localrec::nn {

enum class OptimizerKind { kSgd, kAdagrad, kAdam };

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kAdam;
  float learningRate = 1e-3f;
  float momentum = 0.0f;   // SGD only
  float beta1 = 0.9f;      // Adam
  float beta2 = 0.999f;    // Adam
  float epsilon = 1e-8f;   // Adam and Adagrad (Adagrad commonly uses 1e-10..1e-6)
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Updates every element from p.grad (p must be GradKind::kDense). Does not clear the gradient.
  virtual void step(Parameter& p) = 0;
  // Updates only the rows in `g` (g.cols() must equal p.cols()).
  virtual void stepRows(Parameter& p, const SparseRows& g) = 0;

  float learningRate() const { return learningRate_; }
  void setLearningRate(float lr) { learningRate_ = lr; }

 protected:
  explicit Optimizer(float lr) : learningRate_(lr) {}
  float learningRate_;
};

// Validates the config (positive learning rate, momentum and betas in [0, 1),
// epsilon > 0) and builds the optimizer.
std::unique_ptr<Optimizer> makeOptimizer(const OptimizerConfig& config);
// "sgd", "adagrad", "adam" (throws InvalidArgument naming the valid values).
OptimizerKind parseOptimizerKind(const std::string& name);

}  // namespace localrec::nn

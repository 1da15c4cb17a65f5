#include "nn/optimizer.h"

#include <cmath>

#include "core/error.h"

namespace localrec::nn {

namespace {

void requireDense(const char* who, const Parameter& p) {
  if (p.kind != GradKind::kDense || p.grad.size() != p.value.size()) {
    fail<InvalidArgument>(who, ": parameter '", p.name, "' has no dense gradient (use stepRows)");
  }
}

void requireRows(const char* who, const Parameter& p, const SparseRows& g) {
  if (g.cols() != p.cols() || (g.size() > 0 && g.tableRows() != p.rows())) {
    fail<InvalidArgument>(who, ": sparse gradient of shape ", g.tableRows(), " x ", g.cols(),
                          " does not match parameter '", p.name, "' (", p.rows(), " x ", p.cols(), ")");
  }
}

// Sizes the optimizer state on first use (and after a reshape).
void ensureState(Parameter& p, bool second, bool steps) {
  if (p.state1.rows() != p.rows() || p.state1.cols() != p.cols()) {
    p.state1.resize(p.rows(), p.cols());
    p.state1.setZero();
  }
  if (second && (p.state2.rows() != p.rows() || p.state2.cols() != p.cols())) {
    p.state2.resize(p.rows(), p.cols());
    p.state2.setZero();
  }
  if (steps && p.rowSteps.size() != p.rows()) p.rowSteps.assign(p.rows(), 0);
}

class Sgd final : public Optimizer {
 public:
  Sgd(float lr, float momentum) : Optimizer(lr), momentum_(momentum) {}

  void step(Parameter& p) override {
    requireDense("Sgd::step", p);
    if (momentum_ == 0.0f) {
      float* w = p.value.data();
      const float* g = p.grad.data();
      for (size_t i = 0, n = p.value.size(); i < n; ++i) w[i] -= learningRate_ * g[i];
      return;
    }
    ensureState(p, false, false);
    updateRow(p.value.data(), p.state1.data(), p.grad.data(), p.value.size());
  }

  void stepRows(Parameter& p, const SparseRows& g) override {
    requireRows("Sgd::stepRows", p, g);
    if (momentum_ != 0.0f) ensureState(p, false, false);
    const size_t c = p.cols();
    for (size_t s = 0; s < g.size(); ++s) {
      const size_t r = static_cast<size_t>(g.ids()[s]);
      if (momentum_ == 0.0f) {
        float* w = p.value.row(r);
        const float* gr = g.row(s);
        for (size_t j = 0; j < c; ++j) w[j] -= learningRate_ * gr[j];
      } else {
        updateRow(p.value.row(r), p.state1.row(r), g.row(s), c);
      }
    }
  }

 private:
  void updateRow(float* w, float* v, const float* g, size_t n) const {
    for (size_t j = 0; j < n; ++j) {
      v[j] = momentum_ * v[j] + g[j];
      w[j] -= learningRate_ * v[j];
    }
  }
  float momentum_;
};

class Adagrad final : public Optimizer {
 public:
  Adagrad(float lr, float eps) : Optimizer(lr), eps_(eps) {}

  void step(Parameter& p) override {
    requireDense("Adagrad::step", p);
    ensureState(p, false, false);
    updateRow(p.value.data(), p.state1.data(), p.grad.data(), p.value.size());
  }

  void stepRows(Parameter& p, const SparseRows& g) override {
    requireRows("Adagrad::stepRows", p, g);
    ensureState(p, false, false);
    for (size_t s = 0; s < g.size(); ++s) {
      const size_t r = static_cast<size_t>(g.ids()[s]);
      updateRow(p.value.row(r), p.state1.row(r), g.row(s), p.cols());
    }
  }

 private:
  void updateRow(float* w, float* acc, const float* g, size_t n) const {
    for (size_t j = 0; j < n; ++j) {
      acc[j] += g[j] * g[j];
      w[j] -= learningRate_ * g[j] / (std::sqrt(acc[j]) + eps_);
    }
  }
  float eps_;
};

class Adam final : public Optimizer {
 public:
  Adam(float lr, float b1, float b2, float eps) : Optimizer(lr), b1_(b1), b2_(b2), eps_(eps) {}

  void step(Parameter& p) override {
    requireDense("Adam::step", p);
    ensureState(p, true, true);
    const size_t c = p.cols();
    for (size_t r = 0; r < p.rows(); ++r) updateRow(p, r, p.grad.row(r), c);
  }

  void stepRows(Parameter& p, const SparseRows& g) override {
    requireRows("Adam::stepRows", p, g);
    ensureState(p, true, true);
    for (size_t s = 0; s < g.size(); ++s) updateRow(p, static_cast<size_t>(g.ids()[s]), g.row(s), p.cols());
  }

 private:
  void updateRow(Parameter& p, size_t r, const float* g, size_t n) const {
    const int32_t t = ++p.rowSteps[r];
    // Bias corrections in double: b2^t stays accurate for large t.
    const double c1 = 1.0 - std::pow(static_cast<double>(b1_), t);
    const double c2 = 1.0 - std::pow(static_cast<double>(b2_), t);
    // w -= lr/c1 * m / (sqrt(v)/sqrt(c2) + eps)
    const float stepSize = static_cast<float>(learningRate_ / c1);
    const float invSqrtC2 = static_cast<float>(1.0 / std::sqrt(c2));
    float* w = p.value.row(r);
    float* m = p.state1.row(r);
    float* v = p.state2.row(r);
    for (size_t j = 0; j < n; ++j) {
      m[j] = b1_ * m[j] + (1.0f - b1_) * g[j];
      v[j] = b2_ * v[j] + (1.0f - b2_) * g[j] * g[j];
      w[j] -= stepSize * m[j] / (std::sqrt(v[j]) * invSqrtC2 + eps_);
    }
  }
  float b1_, b2_, eps_;
};

}  // namespace

std::unique_ptr<Optimizer> makeOptimizer(const OptimizerConfig& c) {
  if (!(c.learningRate > 0.0f) || !std::isfinite(c.learningRate)) {
    fail<InvalidArgument>("optimizer: learning rate must be a finite number > 0, got ", c.learningRate);
  }
  switch (c.kind) {
    case OptimizerKind::kSgd:
      if (!(c.momentum >= 0.0f && c.momentum < 1.0f)) {
        fail<InvalidArgument>("optimizer: momentum must be in [0, 1), got ", c.momentum);
      }
      return std::make_unique<Sgd>(c.learningRate, c.momentum);
    case OptimizerKind::kAdagrad:
      if (!(c.epsilon > 0.0f)) fail<InvalidArgument>("optimizer: epsilon must be > 0, got ", c.epsilon);
      return std::make_unique<Adagrad>(c.learningRate, c.epsilon);
    case OptimizerKind::kAdam:
      if (!(c.beta1 >= 0.0f && c.beta1 < 1.0f)) fail<InvalidArgument>("optimizer: beta1 must be in [0, 1), got ", c.beta1);
      if (!(c.beta2 >= 0.0f && c.beta2 < 1.0f)) fail<InvalidArgument>("optimizer: beta2 must be in [0, 1), got ", c.beta2);
      if (!(c.epsilon > 0.0f)) fail<InvalidArgument>("optimizer: epsilon must be > 0, got ", c.epsilon);
      return std::make_unique<Adam>(c.learningRate, c.beta1, c.beta2, c.epsilon);
  }
  fail<InvalidArgument>("optimizer: unknown kind");
}

OptimizerKind parseOptimizerKind(const std::string& name) {
  if (name == "sgd") return OptimizerKind::kSgd;
  if (name == "adagrad") return OptimizerKind::kAdagrad;
  if (name == "adam") return OptimizerKind::kAdam;
  fail<InvalidArgument>("optimizer must be one of sgd, adagrad, adam; got '", name, "'");
}

}  // namespace localrec::nn

#include "nn/finite.h"

#include <cmath>
#include <string>

namespace localrec::nn {

size_t firstNonFinite(const float* data, size_t n) {
  // One cheap pass: x - x is 0 for finite x and NaN for NaN and +-inf, so the
  // sum of differences is finite exactly when every element is (no branch per element).
  constexpr size_t kBlock = 256;
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t end = std::min(n, start + kBlock);
    float acc = 0.0f;
    for (size_t i = start; i < end; ++i) acc += data[i] - data[i];
    if (acc != 0.0f || std::isnan(acc)) {
      for (size_t i = start; i < end; ++i) {
        if (!std::isfinite(data[i])) return i;
      }
    }
  }
  return n;
}

namespace {
[[noreturn]] void report(std::string_view what, size_t pos, float value, std::string_view hint) {
  fail<NonFiniteError>("non-finite value ", value, " in ", what, " (element ", pos, ")",
                       hint.empty() ? "" : ": ", hint);
}
}  // namespace

void requireFinite(float value, std::string_view what, std::string_view hint) {
  if (!std::isfinite(value)) report(what, 0, value, hint);
}

void requireFinite(const Matrix& m, std::string_view what, std::string_view hint) {
  const size_t pos = firstNonFinite(m.data(), m.size());
  if (pos != m.size()) report(what, pos, m.data()[pos], hint);
}

void requireFiniteGrad(const Parameter& p, std::string_view hint) {
  const size_t pos = firstNonFinite(p.grad.data(), p.grad.size());
  if (pos != p.grad.size()) {
    report(std::string("the gradient of ") + p.name, pos, p.grad.data()[pos], hint);
  }
}

void requireFinite(const SparseRows& g, std::string_view what, std::string_view hint) {
  for (size_t s = 0; s < g.size(); ++s) {
    const size_t pos = firstNonFinite(g.row(s), g.cols());
    if (pos != g.cols()) report(what, s * g.cols() + pos, g.row(s)[pos], hint);
  }
}

}  // namespace localrec::nn

#include "nn/loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "linalg/kernels.h"

namespace localrec::nn {

namespace {

void checkTargets(const char* who, const Matrix& scores, ScoreTargets t) {
  const size_t n = scores.rows(), c = scores.cols();
  if (t.targetCol.size() != n) fail<InvalidArgument>(who, ": ", t.targetCol.size(), " targets for ", n, " score rows");
  if (!t.candidateIds.empty() && t.candidateIds.size() != c) {
    fail<InvalidArgument>(who, ": ", t.candidateIds.size(), " candidate ids for ", c, " score columns");
  }
  for (size_t i = 0; i < n; ++i) {
    if (t.targetCol[i] < 0 || static_cast<size_t>(t.targetCol[i]) >= c) {
      fail<InvalidArgument>(who, ": target column ", t.targetCol[i], " of row ", i, " outside [0, ", c, ")");
    }
  }
}

// Whether column j takes part in row i's loss (the target column always does).
struct Mask {
  std::span<const Index> ids;
  Index targetId = -1;
  size_t targetCol = 0;
  void setRow(ScoreTargets t, size_t i) {
    targetCol = static_cast<size_t>(t.targetCol[i]);
    targetId = ids.empty() ? -1 : ids[targetCol];
  }
  bool active(size_t j) const { return ids.empty() || j == targetCol || ids[j] != targetId; }
};

inline float softplus(float x) { return std::max(x, 0.0f) + std::log1p(std::exp(-std::fabs(x))); }
inline float sigmoid(float x) {
  // Stable for large |x| in both directions.
  if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

}  // namespace

float softmaxCrossEntropy(const Matrix& scores, ScoreTargets targets, Matrix& dScores) {
  checkTargets("softmaxCrossEntropy", scores, targets);
  const size_t n = scores.rows(), c = scores.cols();
  dScores.resize(n, c);
  if (n == 0) return 0.0f;
  const float invN = 1.0f / static_cast<float>(n);
  const std::span<const Index> ids = targets.candidateIds;
  // With candidate ids, the columns of each id (sorted by id, then column):
  // row i masks the columns of its target's id other than its target column.
  std::vector<std::pair<Index, size_t>> byId;
  if (!ids.empty()) {
    byId.resize(c);
    for (size_t j = 0; j < c; ++j) byId[j] = {ids[j], j};
    std::sort(byId.begin(), byId.end());
  }
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const size_t tc = static_cast<size_t>(targets.targetCol[i]);
    const float* s = scores.row(i);
    float* d = dScores.row(i);
    // The columns row i masks: those of its target's id other than tc.
    auto maskedBegin = byId.end();
    if (!ids.empty()) {
      const auto lo = std::lower_bound(byId.begin(), byId.end(), std::pair<Index, size_t>{ids[tc], 0});
      if (lo + 1 != byId.end() && (lo + 1)->first == ids[tc]) maskedBegin = lo;
    }
    float m = linalg::maxValue(s, c);
    float sum;
    if (maskedBegin == byId.end()) {
      sum = linalg::expShifted(s, m, d, c);
    } else {
      float maskedMax = kNegInf;
      for (auto it = maskedBegin; it != byId.end() && it->first == ids[tc]; ++it) {
        if (it->second != tc) maskedMax = std::max(maskedMax, s[it->second]);
      }
      // The max over all columns is the max over the active ones when no masked
      // column exceeds the target's score (always so when equal ids mean equal
      // scores, as with shared candidate rows) or none reaches it. Then exp over
      // the row and drop the masked terms; else (or when the masked terms were
      // most of the sum) mask a copy of the row with -inf and start again.
      bool exact = maskedMax <= s[tc] || maskedMax < m;
      if (exact) {
        sum = linalg::expShifted(s, m, d, c);
        float removed = 0.0f;
        for (auto it = maskedBegin; it != byId.end() && it->first == ids[tc]; ++it) {
          if (it->second == tc) continue;
          removed += d[it->second];
          d[it->second] = 0.0f;
        }
        exact = removed <= 0.5f * sum;
        sum -= removed;
      }
      if (!exact) {
        std::copy_n(s, c, d);
        for (auto it = maskedBegin; it != byId.end() && it->first == ids[tc]; ++it) {
          if (it->second != tc) d[it->second] = kNegInf;
        }
        m = linalg::maxValue(d, c);
        sum = linalg::expShifted(d, m, d, c);
      }
    }
    total += std::log(static_cast<double>(sum)) + m - s[tc];
    const float scale = invN / sum;
    for (size_t j = 0; j < c; ++j) d[j] *= scale;
    d[tc] -= invN;
  }
  return static_cast<float>(total / static_cast<double>(n));
}

float bprMax(const Matrix& scores, ScoreTargets targets, float lambda, Matrix& dScores) {
  checkTargets("bprMax", scores, targets);
  const size_t n = scores.rows(), c = scores.cols();
  dScores.resize(n, c);
  if (n == 0) return 0.0f;
  const double invN = 1.0 / static_cast<double>(n);
  Mask mask{targets.candidateIds};
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    mask.setRow(targets, i);
    const size_t tc = mask.targetCol;
    const float* s = scores.row(i);
    float* d = dScores.row(i);
    const float st = s[tc];
    auto negative = [&](size_t j) { return j != tc && mask.active(j); };
    float m = -std::numeric_limits<float>::infinity();
    for (size_t j = 0; j < c; ++j) {
      if (negative(j)) m = std::max(m, s[j]);
    }
    if (m == -std::numeric_limits<float>::infinity()) {  // no negative in this row
      std::fill(d, d + c, 0.0f);
      continue;
    }
    // d[j] holds exp(s_j - m) for now; softmax weights are d[j] / expSum.
    double expSum = 0.0;
    for (size_t j = 0; j < c; ++j) {
      const float e = negative(j) ? std::exp(s[j] - m) : 0.0f;
      d[j] = e;
      expSum += e;
    }
    const double invExpSum = 1.0 / expSum;
    double p = 0.0, reg = 0.0, dTarget = 0.0;
    for (size_t j = 0; j < c; ++j) {
      if (d[j] == 0.0f) continue;
      const double w = d[j] * invExpSum;
      const double sig = sigmoid(st - s[j]);
      p += w * sig;
      reg += w * static_cast<double>(s[j]) * s[j];
      dTarget += w * sig * (1.0 - sig);
    }
    const double pFloored = std::max(p, 1e-30);
    total += -std::log(pFloored) + static_cast<double>(lambda) * reg;
    const double invP = 1.0 / pFloored;
    for (size_t j = 0; j < c; ++j) {
      if (d[j] == 0.0f) continue;
      const double w = d[j] * invExpSum;
      const double sig = sigmoid(st - s[j]);
      const double sj = s[j];
      const double g = -w * invP * (sig - p - sig * (1.0 - sig)) + lambda * w * (sj * sj - reg + 2.0 * sj);
      d[j] = static_cast<float>(g * invN);
    }
    d[tc] = static_cast<float>(-invP * dTarget * invN);
  }
  return static_cast<float>(total * invN);
}

float sampledBinaryCrossEntropy(const Matrix& scores, ScoreTargets targets, Matrix& dScores) {
  checkTargets("sampledBinaryCrossEntropy", scores, targets);
  const size_t n = scores.rows(), c = scores.cols();
  dScores.resize(n, c);
  if (n == 0) return 0.0f;
  const float invN = 1.0f / static_cast<float>(n);
  Mask mask{targets.candidateIds};
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    mask.setRow(targets, i);
    const float* s = scores.row(i);
    float* d = dScores.row(i);
    for (size_t j = 0; j < c; ++j) {
      if (j == mask.targetCol) {
        total += softplus(-s[j]);
        d[j] = (sigmoid(s[j]) - 1.0f) * invN;
      } else if (mask.active(j)) {
        total += softplus(s[j]);
        d[j] = sigmoid(s[j]) * invN;
      } else {
        d[j] = 0.0f;
      }
    }
  }
  return static_cast<float>(total / static_cast<double>(n));
}

float binaryCrossEntropy(const Matrix& logits, const Matrix& labels, Matrix& dLogits) {
  if (labels.rows() != logits.rows() || labels.cols() != logits.cols()) {
    fail<InvalidArgument>("binaryCrossEntropy: labels are ", labels.rows(), " x ", labels.cols(), ", logits ",
                          logits.rows(), " x ", logits.cols());
  }
  const size_t count = logits.size();
  dLogits.resize(logits.rows(), logits.cols());
  if (count == 0) return 0.0f;
  const float inv = 1.0f / static_cast<float>(count);
  const float* x = logits.data();
  const float* y = labels.data();
  float* d = dLogits.data();
  double total = 0.0;
  for (size_t k = 0; k < count; ++k) {
    total += std::max(x[k], 0.0f) - x[k] * y[k] + std::log1p(std::exp(-std::fabs(x[k])));
    d[k] = (sigmoid(x[k]) - y[k]) * inv;
  }
  return static_cast<float>(total / static_cast<double>(count));
}

}  // namespace localrec::nn

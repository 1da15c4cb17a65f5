#include "eval/evaluator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"
#include "eval/metrics.h"
#include "linalg/kernels.h"

namespace localrec {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// NaN scores rank like -infinity (last), which is also how topK drops them.
inline float sane(float s) { return s == s ? s : kNegInf; }

// The test rows of one user, in file order.
struct UserRows {
  Index user;
  size_t begin, end;  // into TestGroups::rows
};

struct TestGroups {
  std::vector<size_t> rows;  // test row positions ordered by user, then file order
  std::vector<UserRows> users;
};

// Sorting (not counting) because test user ids may lie far beyond the train matrix.
TestGroups groupByUser(const Interactions& test) {
  TestGroups g;
  g.rows.resize(test.size());
  std::iota(g.rows.begin(), g.rows.end(), size_t{0});
  std::stable_sort(g.rows.begin(), g.rows.end(),
                   [&](size_t a, size_t b) { return test.users[a] < test.users[b]; });
  for (size_t at = 0; at < g.rows.size();) {
    const Index u = test.users[g.rows[at]];
    size_t end = at;
    while (end < g.rows.size() && test.users[g.rows[end]] == u) ++end;
    g.users.push_back({u, at, end});
    at = end;
  }
  return g;
}

// Reports about every 1% of users; Progress::report throws Cancelled on request.
class Ticker {
 public:
  Ticker(Progress& progress, size_t total)
      : progress_(progress), total_(total), step_(std::max<size_t>(1, total / 100)) {}
  void tick() {
    ++done_;
    if (done_ % step_ == 0 || done_ == total_)
      progress_.report(static_cast<double>(done_) / static_cast<double>(total_), "evaluating");
  }

 private:
  Progress& progress_;
  size_t total_, step_, done_ = 0;
};

void validate(const Recommender& model, const InteractionMatrix& train, const Interactions& test,
              const EvalOptions& options) {
  const bool rating = options.task == "rating";
  if (!rating && options.task != "ranking")
    fail<InvalidArgument>("evaluate: unknown task '", options.task, "'; valid tasks: ranking, rating");
  if (options.k <= 0) fail<InvalidArgument>("evaluate: k must be > 0, got ", options.k);
  if (options.recentItems < 0)
    fail<InvalidArgument>("evaluate: recentItems must be >= 0 (0 = the whole history), got ", options.recentItems);
  if (options.sampledNegatives < 0)
    fail<InvalidArgument>("evaluate: sampledNegatives must be >= 0 (0 = full ranking), got ",
                          options.sampledNegatives);
  if (rating && !model.predictsRatings())
    fail<InvalidArgument>("evaluate: model ", model.kind(), " does not predict ratings; use --task ranking");
  if (!options.itemFeatures.empty() || options.featureDim != 0) {
    const size_t expected =
        static_cast<size_t>(train.numItems()) * static_cast<size_t>(std::max(0, options.featureDim));
    if (options.featureDim <= 0 || options.itemFeatures.size() != expected)
      fail<InvalidArgument>("evaluate: itemFeatures has ", options.itemFeatures.size(),
                            " floats with featureDim ", options.featureDim, "; expected featureDim > 0 and ",
                            train.numItems(), " items x featureDim floats");
  }
  const size_t n = test.size();
  if (n == 0) fail<InvalidArgument>("evaluate: the test set is empty");
  if (test.items.size() != n)
    fail<InvalidArgument>("evaluate: the test set has ", n, " users but ", test.items.size(), " items");
  if (rating && test.values.size() != n)
    fail<InvalidArgument>("evaluate: the rating task needs a value per test row; got ", test.values.size(),
                          " values for ", n, " rows");
  for (size_t r = 0; r < n; ++r) {
    if (test.users[r] < 0)
      fail<InvalidArgument>("evaluate: test row ", r, ": negative user id ", test.users[r]);
    if (test.items[r] < 0 || test.items[r] >= train.numItems())
      fail<InvalidArgument>("evaluate: test row ", r, ": item ", test.items[r], " outside the catalog [0, ",
                            train.numItems(), ")");
  }
  if (!options.candidates.empty()) {
    std::vector<char> isCandidate(static_cast<size_t>(train.numItems()), 0);
    for (size_t c = 0; c < options.candidates.size(); ++c) {
      const Index item = options.candidates[c];
      if (item < 0 || item >= train.numItems())
        fail<InvalidArgument>("evaluate: candidates[", c, "] = ", item, " outside the catalog [0, ",
                              train.numItems(), ")");
      if (isCandidate[item]) fail<InvalidArgument>("evaluate: candidates[", c, "] = ", item, " appears twice");
      isCandidate[item] = 1;
    }
    for (size_t r = 0; r < n; ++r)
      if (!isCandidate[test.items[r]])
        fail<InvalidArgument>("evaluate: test row ", r, ": item ", test.items[r],
                              " is not among the candidates (every test item must be one)");
  }
}

// The model's state, checked after the inputs (and after the unable check).
void validateModel(const Recommender& model, const InteractionMatrix& train) {
  if (!model.fitted())
    fail<StateError>("evaluate: model ", model.kind(), " is not fitted; call fit() or load() first");
  if (model.numItems() != train.numItems())
    fail<InvalidArgument>("evaluate: model ", model.kind(), " scores ", model.numItems(),
                          " items but the train matrix has ", train.numItems(),
                          "; pass the matrix the model was fitted on");
}

// Why the model cannot be evaluated here ("" = it can).
std::string unableReason(const Recommender& model, const InteractionMatrix& train, const EvalOptions& options) {
  if (options.candidates.empty() || model.scoresColdItems()) return {};
  for (Index item : options.candidates)
    if (train.byItem().rowSize(item) == 0) return "cannot score items without interactions";
  return {};
}

History historyOf(const InteractionMatrix& train, Index user) {
  return user < train.numUsers() ? train.history(user) : History{};
}

// What the model is asked to score: the last `recent` events of `history` (all when 0).
History queryOf(const History& history, int recent) {
  const size_t n = history.size();
  if (recent <= 0 || static_cast<size_t>(recent) >= n) return history;
  const size_t from = n - static_cast<size_t>(recent);
  return {history.items.subspan(from), history.hasValues() ? history.values.subspan(from) : history.values,
          history.times.empty() ? history.times : history.times.subspan(from)};
}

// Ranking: all buffers are sized once and reused across users.
class RankingRun {
 public:
  RankingRun(const Recommender& model, const InteractionMatrix& train, const Interactions& test,
             const EvalOptions& options)
      : model_(model),
        train_(train),
        test_(test),
        options_(options),
        numItems_(train.numItems()),
        scores_(static_cast<size_t>(numItems_)),
        seenMark_(static_cast<size_t>(numItems_), 0),
        relevantMark_(static_cast<size_t>(numItems_), 0),
        topIndices_(static_cast<size_t>(options.k)),
        topScores_(static_cast<size_t>(options.k)),
        recommended_(static_cast<size_t>(numItems_), 0),
        selfInformation_(static_cast<size_t>(numItems_)),
        rng_(options.seed) {
    if (!options.candidates.empty()) {
      candidateMark_.assign(static_cast<size_t>(numItems_), 0);
      for (Index c : options.candidates) candidateMark_[c] = 1;
      candidateScores_.resize(options.candidates.size());
    }
    // Novelty: -log2 p_i, p_i = (distinct train users of i + 1) / (numUsers + 1).
    const Csr& byItem = train.byItem();
    const double denominator = static_cast<double>(train.numUsers()) + 1.0;
    for (Index i = 0; i < numItems_; ++i) {
      const auto users = byItem.rowIndices(i);  // ordered by user, so duplicates are adjacent
      size_t distinct = 0;
      for (size_t j = 0; j < users.size(); ++j) distinct += (j == 0 || users[j] != users[j - 1]);
      selfInformation_[i] = -std::log2((static_cast<double>(distinct) + 1.0) / denominator);
    }
    if (options.featureDim > 0) {
      featureNorms_.resize(static_cast<size_t>(numItems_));
      for (Index i = 0; i < numItems_; ++i) {
        const float* f = feature(i);
        double sq = 0;
        for (int d = 0; d < options.featureDim; ++d) sq += static_cast<double>(f[d]) * f[d];
        featureNorms_[i] = std::sqrt(sq);
      }
    }
  }

  void evaluateUser(Index user, size_t begin, size_t end, const std::vector<size_t>& rows,
                    EvalReport& report) {
    const History history = historyOf(train_, user);
    if (history.empty()) {
      // Cold: never scored, a miss on every per-list metric, still in the averages.
      ++report.coldUsers;
      ++report.users;
      return;
    }
    ++generation_;
    seen_.clear();
    for (Index h : history.items)
      if (seenMark_[h] != generation_) {
        seenMark_[h] = generation_;
        seen_.push_back(h);
      }
    relevant_.clear();
    for (size_t at = begin; at < end; ++at) {
      const Index item = test_.items[rows[at]];
      // A test item already in the history is filtered like any seen item, so it cannot count.
      if (seenMark_[item] == generation_ || relevantMark_[item] == generation_) continue;
      relevantMark_[item] = generation_;
      relevant_.push_back(item);
    }
    if (relevant_.empty()) {
      ++report.skippedUsers;
      return;
    }
    ++report.users;
    model_.score(queryOf(history, options_.recentItems), scores_);

    rankRelevant();
    const ListMetrics m = listMetrics(ranks_, options_.k, numCandidates_);
    hit_ += m.hit;
    recall_ += m.recall;
    precision_ += m.precision;
    ndcg_ += m.ndcg;
    mrr_ += m.mrr;
    ap_ += m.ap;
    auc_ += m.auc;

    recordTopK();
  }

  void finish(EvalReport& report) const {
    const std::string at = "@" + std::to_string(options_.k);
    const double users = report.users > 0 ? report.users : 1.0;  // all zeros when nobody was evaluated
    auto& out = report.metrics;
    out["hr" + at] = hit_ / users;
    out["recall" + at] = recall_ / users;
    out["precision" + at] = precision_ / users;
    out["ndcg" + at] = ndcg_ / users;
    out["mrr" + at] = mrr_ / users;
    out["map" + at] = ap_ / users;
    out["auc"] = auc_ / users;
    size_t covered = 0;
    for (int c : recommended_) covered += c > 0;
    const size_t universe = options_.candidates.empty() ? static_cast<size_t>(numItems_) : options_.candidates.size();
    out["coverage" + at] = universe > 0 ? static_cast<double>(covered) / static_cast<double>(universe) : 0.0;
    out["novelty" + at] = recommendations_ > 0 ? novelty_ / static_cast<double>(recommendations_) : 0.0;
    out["gini" + at] = giniIndex(recommended_);
    if (options_.featureDim > 0)
      out["diversity" + at] = diverseLists_ > 0 ? diversity_ / static_cast<double>(diverseLists_) : 0.0;
  }

 private:
  const float* feature(Index item) const {
    return options_.itemFeatures.data() +
           static_cast<size_t>(item) * static_cast<size_t>(options_.featureDim);
  }

  // Bucket b of a candidate score: it is counted ahead of relevant items b, b+1, ...
  // (thresholds_ descending; the first threshold <= s).
  size_t bucketOf(float s) const {
    if (thresholds_.size() == 1) return s >= thresholds_[0] ? 0 : 1;
    return static_cast<size_t>(
        std::lower_bound(thresholds_.begin(), thresholds_.end(), s, [](float t, float v) { return t > v; }) -
        thresholds_.begin());
  }

  // Pessimistic ranks of relevant_ into ranks_, and numCandidates_.
  void rankRelevant() {
    for (Index r : relevant_) scores_[r] = sane(scores_[r]);
    std::sort(relevant_.begin(), relevant_.end(), [&](Index a, Index b) {
      return scores_[a] > scores_[b] || (scores_[a] == scores_[b] && a < b);
    });
    thresholds_.resize(relevant_.size());
    for (size_t j = 0; j < relevant_.size(); ++j) thresholds_[j] = scores_[relevant_[j]];
    buckets_.assign(relevant_.size() + 1, 0);

    const bool restricted = !options_.candidates.empty();
    size_t seenCandidates = seen_.size();
    if (restricted) {
      seenCandidates = 0;
      for (Index h : seen_) seenCandidates += candidateMark_[h];
    }
    const size_t universe = restricted ? options_.candidates.size() : static_cast<size_t>(numItems_);
    const size_t candidates = universe - seenCandidates;
    const size_t negatives = candidates - relevant_.size();
    const size_t sampled = static_cast<size_t>(options_.sampledNegatives);
    if (restricted && (sampled == 0 || sampled >= negatives)) {
      // Only the candidates (not seen, not relevant) count as negatives.
      const float* s = scores_.data();
      for (Index c : options_.candidates)
        if (seenMark_[c] != generation_ && relevantMark_[c] != generation_) ++buckets_[bucketOf(sane(s[c]))];
      numCandidates_ = static_cast<int>(candidates);
    } else if (sampled == 0 || sampled >= negatives) {
      // Full ranking: count every item, then take the seen and relevant ones back out;
      // cheaper than testing two marks per item in the hot loop.
      const float* s = scores_.data();
      if (relevant_.size() == 1) {
        const float t = thresholds_[0];
        size_t ahead = 0;
        if (t == kNegInf) {
          ahead = static_cast<size_t>(numItems_);
        } else {
          for (Index i = 0; i < numItems_; ++i) ahead += s[i] >= t;  // NaN never passes, as wanted
        }
        buckets_[0] = static_cast<int>(ahead);
      } else {
        for (Index i = 0; i < numItems_; ++i) ++buckets_[bucketOf(sane(s[i]))];
      }
      for (Index h : seen_) --buckets_[bucketOf(sane(s[h]))];
      for (Index r : relevant_) --buckets_[bucketOf(s[r])];
      numCandidates_ = static_cast<int>(candidates);
    } else {
      // One sample of distinct negatives for the user, shared by all its relevant
      // items so the ranks stay one consistent list (partial Fisher-Yates).
      pool_.clear();
      for (Index i = 0; i < numItems_; ++i)
        if (seenMark_[i] != generation_ && relevantMark_[i] != generation_ && (!restricted || candidateMark_[i]))
          pool_.push_back(i);
      for (size_t a = 0; a < sampled; ++a) {
        const size_t b = a + rng_.below(static_cast<uint32_t>(pool_.size() - a));
        std::swap(pool_[a], pool_[b]);
      }
      for (size_t a = 0; a < sampled; ++a) ++buckets_[bucketOf(sane(scores_[pool_[a]]))];
      numCandidates_ = static_cast<int>(relevant_.size() + sampled);
    }
    ranks_.resize(relevant_.size());
    int ahead = 0;
    for (size_t j = 0; j < relevant_.size(); ++j) {
      ahead += buckets_[j];
      ranks_[j] = 1 + ahead + static_cast<int>(j);
    }
  }

  // The user's top-K list (usual tie rule: lower index first) for the catalog metrics.
  void recordTopK() {
    for (Index h : seen_) scores_[h] = kNegInf;
    size_t count = 0;
    if (options_.candidates.empty()) {
      count = linalg::topK(scores_, static_cast<size_t>(options_.k), topIndices_.data(), topScores_.data());
    } else {
      // Top-K among the candidates (ascending, so ties still go to the lower item index).
      for (size_t c = 0; c < options_.candidates.size(); ++c) candidateScores_[c] = scores_[options_.candidates[c]];
      count = linalg::topK(candidateScores_, static_cast<size_t>(options_.k), topIndices_.data(), topScores_.data());
      for (size_t r = 0; r < count; ++r) topIndices_[r] = options_.candidates[static_cast<size_t>(topIndices_[r])];
    }
    for (size_t r = 0; r < count; ++r) {
      ++recommended_[topIndices_[r]];
      novelty_ += selfInformation_[topIndices_[r]];
    }
    recommendations_ += count;
    if (options_.featureDim > 0 && count >= 2) {
      double sum = 0;
      for (size_t a = 0; a < count; ++a)
        for (size_t b = a + 1; b < count; ++b) sum += 1.0 - cosine(topIndices_[a], topIndices_[b]);
      diversity_ += sum / (static_cast<double>(count) * static_cast<double>(count - 1) / 2.0);
      ++diverseLists_;
    }
  }

  // Cosine of two items' features; 0 when either has no features (all zeros).
  double cosine(Index a, Index b) const {
    const double norms = featureNorms_[a] * featureNorms_[b];
    if (norms == 0) return 0.0;
    const float* fa = feature(a);
    const float* fb = feature(b);
    double dot = 0;
    for (int d = 0; d < options_.featureDim; ++d) dot += static_cast<double>(fa[d]) * fb[d];
    return dot / norms;
  }

  const Recommender& model_;
  const InteractionMatrix& train_;
  const Interactions& test_;
  const EvalOptions& options_;
  const Index numItems_;

  std::vector<float> scores_;
  // Per-user item marks: equal to generation_ means set for the current user (no clearing).
  std::vector<uint32_t> seenMark_, relevantMark_;
  uint32_t generation_ = 0;
  std::vector<Index> seen_;        // distinct history items
  std::vector<Index> relevant_;    // sorted by score desc, then id asc
  std::vector<float> thresholds_;  // their scores
  std::vector<int> buckets_;
  std::vector<int> ranks_;
  int numCandidates_ = 0;
  std::vector<Index> pool_;
  std::vector<char> candidateMark_;     // 1 for the candidates (candidate mode only)
  std::vector<float> candidateScores_;  // the candidates' scores, for their top-K
  std::vector<Index> topIndices_;
  std::vector<float> topScores_;
  std::vector<int> recommended_;
  std::vector<double> selfInformation_;
  std::vector<double> featureNorms_;
  Rng rng_;

  double hit_ = 0, recall_ = 0, precision_ = 0, ndcg_ = 0, mrr_ = 0, ap_ = 0, auc_ = 0;
  double novelty_ = 0, diversity_ = 0;
  size_t recommendations_ = 0, diverseLists_ = 0;
};

void evaluateRanking(const Recommender& model, const InteractionMatrix& train, const Interactions& test,
                     const EvalOptions& options, const TestGroups& groups, Progress& progress,
                     EvalReport& report) {
  RankingRun run(model, train, test, options);
  Ticker ticker(progress, groups.users.size());
  for (const UserRows& g : groups.users) {
    run.evaluateUser(g.user, g.begin, g.end, groups.rows, report);
    ticker.tick();
  }
  run.finish(report);
}

void evaluateRating(const Recommender& model, const InteractionMatrix& train, const Interactions& test,
                    const TestGroups& groups, int recentItems, Progress& progress, EvalReport& report) {
  const size_t numItems = static_cast<size_t>(train.numItems());
  std::vector<float> scores(numItems);
  std::vector<float> coldScores;  // every cold user has the same (empty) history: score it once
  Ticker ticker(progress, groups.users.size());
  double squared = 0, absolute = 0;
  for (const UserRows& g : groups.users) {
    const History history = historyOf(train, g.user);
    const float* predicted = scores.data();
    if (history.empty()) {
      ++report.coldUsers;
      if (coldScores.empty()) {
        coldScores.resize(numItems);
        model.score(History{}, coldScores);
      }
      predicted = coldScores.data();
    } else {
      model.score(queryOf(history, recentItems), scores);
    }
    ++report.users;
    for (size_t at = g.begin; at < g.end; ++at) {
      const size_t r = groups.rows[at];
      const double error = static_cast<double>(predicted[test.items[r]]) - test.values[r];
      squared += error * error;
      absolute += std::abs(error);
    }
    ticker.tick();
  }
  const double rows = static_cast<double>(test.size());
  report.metrics["rmse"] = std::sqrt(squared / rows);
  report.metrics["mae"] = absolute / rows;
}

}  // namespace

EvalReport evaluate(const Recommender& model, const InteractionMatrix& train, const Interactions& test,
                    const EvalOptions& options, Progress& progress) {
  validate(model, train, test, options);
  EvalReport report;
  report.task = options.task;
  report.k = options.k;
  report.testRows = test.size();
  report.unable = unableReason(model, train, options);
  if (!report.unable.empty()) return report;
  validateModel(model, train);
  progress.checkCancelled();
  const TestGroups groups = groupByUser(test);
  if (options.task == "rating")
    evaluateRating(model, train, test, groups, options.recentItems, progress, report);
  else
    evaluateRanking(model, train, test, options, groups, progress, report);
  progress.report(1.0, "done");
  return report;
}

}  // namespace localrec

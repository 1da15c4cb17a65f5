// Full-ranking evaluation of any Recommender over a split.
//
// Ranking task: for each test user, history = their train rows (by time, then
// file order); the model scores the whole catalog; items in the history are
// excluded; the user's distinct test items not in the history are the relevant
// set (a user left with none is skipped and counted in `skippedUsers`). Ties are
// broken pessimistically: a relevant item ranks after every non-relevant item
// with an equal score (among tied relevant items, by item id). A test user with
// no train rows (or an id beyond the train matrix) is never scored, scores zero
// on every per-list metric, stays in the averages and is counted in
// `coldUsers`. With `sampledNegatives` > 0 (on request only), the user's
// relevant items are ranked against one seeded sample of that many distinct
// unseen, non-relevant items instead (all of them if there are fewer).
// Catalog metrics (coverage, novelty, gini, diversity) use each scored user's
// top-K list (linalg::topK: ties by lower index). Definitions: docs/metrics.md.
//
// Candidate set (EvalOptions::candidates, e.g. the cold-items split's held-out
// items): each test user ranks only the candidates (minus their history) instead
// of the whole catalog, the same way; every test item must be a candidate; the
// top-K lists and coverage are over the candidates. If a candidate has no
// training interaction and the model cannot score such items
// (!scoresColdItems()), nothing is evaluated: the report's `unable` says why and
// it has no metrics (the model need not even be fitted).
//
// Rating task: every test row's value is compared with the model's score for
// that item given the user's history (RMSE, MAE); the model must predict ratings.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/progress.h"
#include "core/recommender.h"
#include "data/csr.h"
#include "data/interactions.h"

namespace localrec {

struct EvalOptions {
  std::string task = "ranking";  // "ranking" or "rating"
  int k = 10;                    // cutoff for the @K metrics, > 0
  int sampledNegatives = 0;      // 0 = full ranking
  uint64_t seed = 42;            // for sampled negatives
  // Optional item features for intra-list diversity: numItems rows of
  // `featureDim` floats, row-major (e.g. genre multi-hot). Empty = not reported.
  std::vector<float> itemFeatures;
  int featureDim = 0;
  // The items to rank (distinct, in the catalog); empty = the whole catalog.
  std::vector<Index> candidates;
  // > 0: the model scores only each user's last `recentItems` training events
  // (a "what next" query); the seen-item filter still uses the whole history.
  // 0 = the whole history.
  int recentItems = 0;
};

struct EvalReport {
  std::string task;
  int k = 10;
  // Ranking: "hr@K", "recall@K", "precision@K", "ndcg@K", "mrr@K", "map@K",
  // "auc", "coverage@K", "novelty@K", "gini@K", and "diversity@K" with features.
  // Rating: "rmse", "mae".
  std::map<std::string, double> metrics;
  int users = 0;      // test users evaluated (including cold ones)
  int coldUsers = 0;  // test users without train rows (counted as misses)
  // Ranking: test users left out because every test item was in their history.
  int skippedUsers = 0;
  size_t testRows = 0;
  // Non-empty when the model cannot be evaluated on this protocol (then
  // `metrics` is empty), e.g. "cannot score items without interactions".
  std::string unable;
};

// `train` must be the matrix the model was fitted on (it supplies histories and
// the seen-item filter); `test` rows are in the same id space.
EvalReport evaluate(const Recommender& model, const InteractionMatrix& train, const Interactions& test,
                    const EvalOptions& options, Progress& progress = Progress::none());

}  // namespace localrec

// Full-ranking evaluation speed: 6,000 users x 4,000 items, ~1M power-law
// interactions (seeded), leave-last-out test, popularity model. Prints JSON lines.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/rng.h"
#include "eval/evaluator.h"
#include "models/cf/popularity.h"

using namespace localrec;

int main() {
  constexpr Index kUsers = 6000, kItems = 4000;
  Rng rng(2024);

  // Item popularity ~ 1 / (rank + 1)^0.9, sampled by inverse CDF.
  std::vector<double> cdf(kItems);
  double total = 0;
  for (Index i = 0; i < kItems; ++i) cdf[i] = total += 1.0 / std::pow(i + 1.0, 0.9);
  for (double& c : cdf) c /= total;

  Interactions trainRows, test;
  trainRows.reserve(1'050'000);
  test.reserve(kUsers);
  std::vector<Index> lastUser(kItems, -1);  // distinct items per user, as after dedupe
  for (Index u = 0; u < kUsers; ++u) {
    const int length = 10 + static_cast<int>(rng.below(314));  // mean ~166: ~1M rows
    for (int t = 0; t < length; ++t) {
      Index item;
      do {
        const auto at = std::lower_bound(cdf.begin(), cdf.end(), rng.uniform());
        item = static_cast<Index>(std::min<ptrdiff_t>(at - cdf.begin(), kItems - 1));
      } while (lastUser[item] == u);
      lastUser[item] = u;
      // The user's newest event is held out (leave-last-out).
      if (t + 1 == length)
        test.push(u, item, 1.0f, t);
      else
        trainRows.push(u, item, 1.0f, t);
    }
  }
  const InteractionMatrix train(trainRows, kUsers, kItems);
  Popularity model{OptionMap{}};
  model.fit(train);

  EvalOptions options;
  options.k = 10;
  std::vector<double> ms;
  EvalReport report;
  for (int run = 0; run < 3; ++run) {
    const auto start = std::chrono::steady_clock::now();
    report = evaluate(model, train, test, options);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf(
      "{\"bench\":\"evaluate\",\"model\":\"popularity\",\"users\":%d,\"items\":%d,\"interactions\":%zu,"
      "\"k\":%d,\"ms\":%.2f,\"evaluated\":%d,\"skipped\":%d,\"hr@10\":%.5f,\"ndcg@10\":%.5f}\n",
      kUsers, kItems, train.nnz() + test.size(), options.k, ms[1], report.users, report.skippedUsers,
      report.metrics.at("hr@10"), report.metrics.at("ndcg@10"));
  return 0;
}

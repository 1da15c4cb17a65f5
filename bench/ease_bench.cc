// EASE fit time: a synthetic 3,500-item set (power-law popularity, ~300k
// interactions, seeded) and the embedded MovieLens data (every item with at
// least one rating, then the default min_support). Prints JSON lines
//   {"bench":"ease_fit","data":...,"items":W,"interactions":...,"precision":...,"ms":...}
// where items = the warm items that enter the W x W inverse.
// Usage: bench_ease_bench [ratings.csv|none] [min_support values for the embedded data, comma
// separated; default "1,5": every item (9,724 x 9,724; minutes in wasm), then the default]
// (the embedded data defaults to data/ml-latest-small/ratings.csv relative to the
// working directory; "none" skips it, e.g. for a quick wasm run).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "core/rng.h"
#include "data/csr.h"
#include "data/csv_reader.h"
#include "models/cf/ease.h"

#include "bench_io.h"

using namespace localrec;

namespace {

using Clock = std::chrono::steady_clock;

// Distinct (user, item) pairs, items drawn with popularity ~ 1 / (rank + 1)^0.8.
InteractionMatrix synthetic(Index users, Index items, size_t target, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> cdf(static_cast<size_t>(items));
  double total = 0;
  for (Index i = 0; i < items; ++i) cdf[i] = total += 1.0 / std::pow(i + 1.0, 0.8);
  for (double& c : cdf) c /= total;
  Interactions rows;
  rows.reserve(target + users);
  std::vector<Index> lastUser(static_cast<size_t>(items), -1);
  const uint32_t spread = static_cast<uint32_t>(2 * target / users);
  for (Index u = 0; u < users; ++u) {
    const uint32_t length = 5 + rng.below(spread);
    for (uint32_t t = 0; t < length; ++t) {
      Index item;
      int tries = 0;
      do {
        const auto at = std::lower_bound(cdf.begin(), cdf.end(), rng.uniform());
        item = static_cast<Index>(std::min<ptrdiff_t>(at - cdf.begin(), items - 1));
      } while (lastUser[item] == u && ++tries < 100);
      if (lastUser[item] == u) continue;
      lastUser[item] = u;
      rows.push(u, item, 1.0f, t);
    }
  }
  return InteractionMatrix(rows, users, items);
}

void fitOnce(const char* data, const InteractionMatrix& train, const OptionMap& options) {
  Ease model(options);
  const auto start = Clock::now();
  model.fit(train);
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  std::printf(
      "{\"bench\":\"ease_fit\",\"data\":\"%s\",\"items\":%zu,\"catalog\":%d,\"interactions\":%zu,"
      "\"min_support\":\"%s\",\"precision\":\"%s\",\"ms\":%.1f}\n",
      data, model.warmItems().size(), train.numItems(), train.nnz(), model.options().at("min_support").c_str(),
      model.options().at("precision").c_str(), ms);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const InteractionMatrix syn = synthetic(6000, 3500, 300'000, 2024);
    fitOnce("synthetic", syn, {});
    fitOnce("synthetic", syn, {{"precision", "double"}});

    const std::string path = argc > 1 ? argv[1] : "data/ml-latest-small/ratings.csv";
    if (path == "none") return 0;
    std::string text;
    if (!bench::readFile(path.c_str(), text)) {
      std::fprintf(stderr, "ease_bench: cannot read %s (pass the path or 'none')\n", path.c_str());
      return 1;
    }
    const Dataset data = readDataset(text, path);
    const InteractionMatrix train(data.rows, data.numUsers(), data.numItems());
    std::string supports = argc > 2 ? argv[2] : "1,5";
    for (size_t at = 0; at < supports.size();) {
      const size_t comma = std::min(supports.find(',', at), supports.size());
      fitOnce("ml-latest-small", train, {{"min_support", supports.substr(at, comma - at)}});
      at = comma + 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ease_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}

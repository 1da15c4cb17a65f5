// iALS speed: fit (64 factors, 15 iterations, default cg solver) on the
// embedded MovieLens data (argv[1] = ratings.csv), on a synthetic 1M-interaction
// power-law set (6,000 users x 4,000 items) and a synthetic 10M one (60,000 x
// 20,000; skipped with --skip-10m), then recommend(history) top-10 over 10,000
// items with 64 factors. Prints JSON lines; memory is the peak RSS natively and
// the wasm heap size under Emscripten.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "core/rng.h"
#include "data/csr.h"
#include "data/csv_reader.h"
#include "models/cf/ials.h"
#include "rank/recommend.h"

#include "bench_io.h"

using namespace localrec;

namespace {

double nowMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double peakMemoryMb() {
#ifdef __EMSCRIPTEN__
  return static_cast<double>(__builtin_wasm_memory_size(0)) * 65536.0 / (1024.0 * 1024.0);
#else
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
#endif
}

// Users with 10..(2*mean-10) distinct items, item popularity ~ 1/(rank+1)^0.9
// (the same generator as eval_bench), values 1.
InteractionMatrix synthetic(Index users, Index items, int meanLength, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> cdf(items);
  double total = 0;
  for (Index i = 0; i < items; ++i) cdf[i] = total += 1.0 / std::pow(i + 1.0, 0.9);
  for (double& c : cdf) c /= total;
  Interactions rows;
  rows.reserve(static_cast<size_t>(users) * meanLength);
  std::vector<Index> lastUser(items, -1);
  for (Index u = 0; u < users; ++u) {
    const int length = 10 + static_cast<int>(rng.below(static_cast<uint32_t>(2 * meanLength - 20)));
    for (int t = 0; t < length; ++t) {
      Index item;
      do {
        const auto at = std::lower_bound(cdf.begin(), cdf.end(), rng.uniform());
        item = static_cast<Index>(std::min<ptrdiff_t>(at - cdf.begin(), items - 1));
      } while (lastUser[item] == u);
      lastUser[item] = u;
      rows.push(u, item, 1.0f, t);
    }
  }
  return InteractionMatrix(rows, users, items);
}

void benchFit(const char* dataset, const InteractionMatrix& train) {
  Ials model(OptionMap{{"factors", "64"}, {"iterations", "15"}});
  const double start = nowMs();
  const std::clock_t cpuStart = std::clock();
  model.fit(train);
  const double ms = nowMs() - start;
  const double cpuMs = 1000.0 * static_cast<double>(std::clock() - cpuStart) / CLOCKS_PER_SEC;
  std::printf(
      "{\"bench\":\"ials_fit\",\"dataset\":\"%s\",\"users\":%d,\"items\":%d,\"interactions\":%zu,"
      "\"factors\":64,\"iterations\":15,\"ms\":%.1f,\"cpu_ms\":%.1f,\"loss\":%.6g,\"peak_mb\":%.1f}\n",
      dataset, train.numUsers(), train.numItems(), train.nnz(), ms, cpuMs, model.loss(train), peakMemoryMb());
  // The same time per iteration, in a row of its own (no iterations field), to
  // sit beside peers that run fewer iterations (bench/ml_matrix_cf.mjs).
  std::printf("{\"bench\":\"ials_fit\",\"dataset\":\"%s\",\"users\":%d,\"items\":%d,\"interactions\":%zu,"
              "\"factors\":64,\"iteration_ms\":%.1f}\n",
              dataset, train.numUsers(), train.numItems(), train.nnz(), ms / 15.0);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ials_bench path/to/ratings.csv [--skip-10m]\n");
    return 2;
  }
  // --skip-10m, or --only=ml|1m|rec|10m to run one part (for timing under load).
  bool skip10m = false;
  std::string only;
  for (int a = 2; a < argc; ++a) {
    if (std::strcmp(argv[a], "--skip-10m") == 0) skip10m = true;
    if (std::strncmp(argv[a], "--only=", 7) == 0) only = argv[a] + 7;
  }
  auto runs = [&](const char* part) { return only.empty() ? !(skip10m && std::strcmp(part, "10m") == 0) : only == part; };

  if (runs("ml")) {
    std::string text;
    if (!bench::readFile(argv[1], text)) {
      std::fprintf(stderr, "cannot read %s\n", argv[1]);
      return 1;
    }
    const Dataset data = readDataset(text, argv[1]);
    benchFit("ml-latest-small", InteractionMatrix(data.rows, data.numUsers(), data.numItems()));
  }
  if (runs("1m")) benchFit("synthetic-1m", synthetic(6000, 4000, 166, 2024));

  // recommend(history): fold-in + gemv over 10,000 items + top-10, history of 30.
  if (runs("rec")) {
    constexpr Index kItems = 10000;
    constexpr int kFactors = 64;
    Rng rng(7);
    std::vector<float> items(static_cast<size_t>(kItems) * kFactors);
    for (float& v : items) v = rng.uniform(-0.3f, 0.3f);
    Ials model(OptionMap{{"factors", "64"}});
    model.setFactors(0, kItems, {}, std::move(items));
    std::vector<Index> history(30);
    std::vector<double> us;
    RecommendOptions options;
    options.k = 10;
    size_t sink = 0;
    for (int run = 0; run < 300; ++run) {
      for (Index& h : history) h = static_cast<Index>(rng.below(kItems));
      const double start = nowMs();
      const auto list = recommend(model, History{history, {}, {}}, options);
      us.push_back((nowMs() - start) * 1000.0);
      sink += list.size();
    }
    std::sort(us.begin(), us.end());
    std::printf(
        "{\"bench\":\"ials_recommend\",\"items\":%d,\"factors\":%d,\"history\":30,\"k\":10,"
        "\"median_us\":%.1f,\"p90_us\":%.1f,\"returned\":%zu}\n",
        kItems, kFactors, us[us.size() / 2], us[us.size() * 9 / 10], sink / us.size());
    std::fflush(stdout);
  }

  if (runs("10m")) benchFit("synthetic-10m", synthetic(60000, 20000, 166, 2025));
  return 0;
}

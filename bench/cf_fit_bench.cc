// Fit time of the collaborative-filtering models that have no bench of their
// own (ials_bench and ease_bench time those two), each with its default
// options, on the embedded MovieLens data (argv[1] = ratings.csv, every row).
// One fit per model: the fits take seconds, and the machine's noise is larger
// than the run-to-run spread of one fit. Prints one JSON line per model.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "data/csr.h"
#include "data/csv_reader.h"
#include "models/registry.h"

#include "bench_io.h"

using namespace localrec;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: cf_fit_bench path/to/ratings.csv [model ...]\n");
    return 2;
  }
  std::string text;
  if (!bench::readFile(argv[1], text)) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 1;
  }
  const Dataset data = readDataset(text, argv[1]);
  const InteractionMatrix train(data.rows, data.numUsers(), data.numItems());

  const char* defaults[] = {"item_knn", "user_knn", "bias", "biased_mf", "bpr"};
  std::vector<std::string> models;
  for (int a = 2; a < argc; ++a) models.emplace_back(argv[a]);
  if (models.empty()) models.assign(std::begin(defaults), std::end(defaults));

  for (const std::string& name : models) {
    auto model = createModel(name, {});
    const auto start = std::chrono::steady_clock::now();
    const std::clock_t cpuStart = std::clock();
    model->fit(train);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const double cpuMs = 1000.0 * static_cast<double>(std::clock() - cpuStart) / CLOCKS_PER_SEC;
    std::printf(
        "{\"bench\":\"cf_fit\",\"impl\":\"%s\",\"users\":%d,\"items\":%d,\"interactions\":%zu,"
        "\"ms\":%.1f,\"cpu_ms\":%.1f}\n",
        name.c_str(), train.numUsers(), train.numItems(), train.nnz(), ms, cpuMs);
    std::fflush(stdout);
  }
  return 0;
}

// Loading speed: the CSV reader on a ratings file, then the InteractionMatrix
// build. Prints one JSON line per measurement (median over repetitions).
// Usage: bench_data_bench [ratings.csv [repetitions]] (default
// data/ml-latest-small/ratings.csv relative to the working directory, 21 repetitions).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "data/csr.h"
#include "data/csv_reader.h"

#include "bench_io.h"

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Minimum: the least disturbed run, worth reporting next to the median on a shared machine.
double minimum(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "data/ml-latest-small/ratings.csv";
  std::string text;
  if (!localrec::bench::readFile(path, text)) {
    std::fprintf(stderr, "cannot read %s (pass the ratings file as the first argument)\n", path);
    return 1;
  }
  try {
    const int kReps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 21;
    std::vector<double> loadMs;
    localrec::Dataset dataset;
    for (int rep = 0; rep < kReps; ++rep) {
      const auto start = Clock::now();
      dataset = localrec::readDataset(text, path);
      loadMs.push_back(msSince(start));
    }
    const double load = median(loadMs);
    std::printf(
        "{\"bench\":\"csv_load\",\"rows\":%zu,\"bytes\":%zu,\"users\":%d,\"items\":%d,\"ms\":%.3f,"
        "\"mb_per_s\":%.1f,\"min_ms\":%.3f}\n",
        dataset.numInteractions(), text.size(), dataset.numUsers(), dataset.numItems(), load,
        static_cast<double>(text.size()) / 1e6 / (load / 1e3), minimum(loadMs));

    std::vector<double> matrixMs;
    size_t nnz = 0;
    for (int rep = 0; rep < kReps; ++rep) {
      const auto start = Clock::now();
      const localrec::InteractionMatrix matrix(dataset.rows, dataset.numUsers(), dataset.numItems());
      matrixMs.push_back(msSince(start));
      nnz = matrix.nnz();
    }
    const double build = median(matrixMs);
    std::printf(
        "{\"bench\":\"interaction_matrix\",\"rows\":%zu,\"nnz\":%zu,\"ms\":%.3f,\"mrows_per_s\":%.1f,"
        "\"min_ms\":%.3f}\n",
        dataset.numInteractions(), nnz, build, static_cast<double>(nnz) / 1e6 / (build / 1e3),
        minimum(matrixMs));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}

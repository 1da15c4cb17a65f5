#include "data/split.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "core/rng.h"

namespace localrec {

namespace {

constexpr const char* kSpecForms =
    "leave-last-out, temporal:F, ratio:F (F a fraction in (0, 1)), kfold:K or kfold:K:FOLD "
    "(K in [2, 100], FOLD in [0, K)), cold-items:F (F = the fraction of items held out, in (0, 1))";

void checkUsers(const Interactions& rows, Index numUsers, const char* what) {
  if (numUsers < 0) fail<InvalidArgument>(what, ": numUsers must be >= 0, got ", numUsers);
  for (size_t r = 0; r < rows.size(); ++r)
    if (rows.users[r] < 0 || rows.users[r] >= numUsers)
      fail<InvalidArgument>(what, ": interaction ", r, " has user ", rows.users[r], " outside [0, ", numUsers,
                            ")");
}

void checkFraction(double fraction, const char* what) {
  if (!(fraction > 0.0 && fraction < 1.0))
    fail<InvalidArgument>(what, ": train fraction must be in (0, 1), got ", fraction);
}

// Rows flagged as test go to test, the rest to train; both keep file order.
Split partition(const Interactions& rows, const std::vector<char>& isTest) {
  std::vector<size_t> train, test;
  train.reserve(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) (isTest[r] ? test : train).push_back(r);
  return {rows.select(train), rows.select(test)};
}

// Each user's row positions in file order.
std::vector<std::vector<size_t>> rowsByUser(const Interactions& rows, Index numUsers) {
  std::vector<std::vector<size_t>> out(static_cast<size_t>(numUsers));
  for (size_t r = 0; r < rows.size(); ++r) out[static_cast<size_t>(rows.users[r])].push_back(r);
  return out;
}

bool parseFraction(std::string_view text, double& out) {
  if (text.empty() || text.size() > 32) return false;
  const std::string s(text);
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

bool parseInt(std::string_view text, int& out) {
  if (text.empty() || text.size() > 9) return false;
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

}  // namespace

Split leaveLastOut(const Interactions& rows, Index numUsers) {
  checkUsers(rows, numUsers, "leave-last-out");
  std::vector<size_t> last(static_cast<size_t>(numUsers), SIZE_MAX);
  std::vector<size_t> count(static_cast<size_t>(numUsers), 0);
  for (size_t r = 0; r < rows.size(); ++r) {
    const size_t u = static_cast<size_t>(rows.users[r]);
    ++count[u];
    // ">=": among rows with the same time the later one in the file is last.
    if (last[u] == SIZE_MAX || rows.times[r] >= rows.times[last[u]]) last[u] = r;
  }
  std::vector<char> isTest(rows.size(), 0);
  for (size_t u = 0; u < last.size(); ++u)
    if (count[u] >= 2) isTest[last[u]] = 1;
  return partition(rows, isTest);
}

Split temporalSplit(const Interactions& rows, double trainFraction) {
  checkFraction(trainFraction, "temporal split");
  const size_t n = rows.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rows.times[a] < rows.times[b]; });
  const size_t numTrain =
      std::min(n, static_cast<size_t>(std::llround(trainFraction * static_cast<double>(n))));
  std::vector<char> isTest(n, 0);
  for (size_t k = numTrain; k < n; ++k) isTest[order[k]] = 1;
  return partition(rows, isTest);
}

Split ratioSplit(const Interactions& rows, Index numUsers, double trainFraction, uint64_t seed) {
  checkUsers(rows, numUsers, "ratio split");
  checkFraction(trainFraction, "ratio split");
  Rng rng(seed);
  std::vector<char> isTest(rows.size(), 0);
  for (std::vector<size_t>& mine : rowsByUser(rows, numUsers)) {
    if (mine.empty()) continue;
    rng.shuffle(mine.begin(), mine.end());
    const size_t n = mine.size();
    const size_t numTrain =
        std::clamp<size_t>(static_cast<size_t>(std::llround(trainFraction * static_cast<double>(n))), 1, n);
    for (size_t k = numTrain; k < n; ++k) isTest[mine[k]] = 1;
  }
  return partition(rows, isTest);
}

Split kfoldSplit(const Interactions& rows, int k, int fold, uint64_t seed) {
  if (k < 2) fail<InvalidArgument>("kfold: k must be >= 2, got ", k);
  if (fold < 0 || fold >= k) fail<InvalidArgument>("kfold: fold must be in [0, ", k, "), got ", fold);
  const size_t n = rows.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  Rng rng(seed);
  rng.shuffle(order.begin(), order.end());
  // Position p of the shuffle falls in fold p % k, so fold sizes differ by at most one.
  std::vector<char> isTest(n, 0);
  for (size_t p = static_cast<size_t>(fold); p < n; p += static_cast<size_t>(k)) isTest[order[p]] = 1;
  return partition(rows, isTest);
}

Split coldItemsSplit(const Interactions& rows, double heldOutFraction, uint64_t seed) {
  if (!(heldOutFraction > 0.0 && heldOutFraction < 1.0))
    fail<InvalidArgument>("cold-items split: held-out item fraction must be in (0, 1), got ", heldOutFraction);
  std::vector<Index> items(rows.items.begin(), rows.items.end());
  for (size_t r = 0; r < items.size(); ++r)
    if (items[r] < 0) fail<InvalidArgument>("cold-items split: interaction ", r, " has negative item ", items[r]);
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  if (items.size() < 2)
    fail<InvalidArgument>("cold-items split: needs at least 2 items with interactions, got ", items.size());
  const size_t heldOut = std::clamp<size_t>(
      static_cast<size_t>(std::llround(heldOutFraction * static_cast<double>(items.size()))), 1, items.size() - 1);
  Rng rng(seed);
  rng.shuffle(items.begin(), items.end());
  items.resize(heldOut);
  std::sort(items.begin(), items.end());
  std::vector<char> isTest(rows.size(), 0);
  for (size_t r = 0; r < rows.size(); ++r)
    isTest[r] = std::binary_search(items.begin(), items.end(), rows.items[r]);
  Split out = partition(rows, isTest);
  out.candidates = std::move(items);
  return out;
}

Split splitBySpec(const Interactions& rows, Index numUsers, std::string_view spec, uint64_t seed) {
  const auto invalid = [&]() {
    fail<InvalidArgument>("invalid split '", spec, "'; expected one of ", kSpecForms);
  };
  if (spec == "leave-last-out") return leaveLastOut(rows, numUsers);
  const size_t colon = spec.find(':');
  if (colon == std::string_view::npos) invalid();
  const std::string_view kind = spec.substr(0, colon);
  const std::string_view rest = spec.substr(colon + 1);
  if (kind == "cold-items") {
    double fraction = 0;
    if (!parseFraction(rest, fraction) || !(fraction > 0.0 && fraction < 1.0)) invalid();
    return coldItemsSplit(rows, fraction, seed);
  }
  if (kind == "temporal" || kind == "ratio") {
    double fraction = 0;
    if (!parseFraction(rest, fraction) || !(fraction > 0.0 && fraction < 1.0)) invalid();
    return kind == "temporal" ? temporalSplit(rows, fraction) : ratioSplit(rows, numUsers, fraction, seed);
  }
  if (kind == "kfold") {
    const size_t second = rest.find(':');
    int k = 0, fold = 0;
    if (!parseInt(rest.substr(0, second), k) || k < 2 || k > 100) invalid();
    if (second != std::string_view::npos && (!parseInt(rest.substr(second + 1), fold) || fold >= k))
      invalid();
    return kfoldSplit(rows, k, fold, seed);
  }
  invalid();
  return {};
}

}  // namespace localrec

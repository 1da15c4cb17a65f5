#include "models/cf/item_knn.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "io/serialize.h"

namespace localrec {

namespace knn_detail {

UserRows userRows(const InteractionMatrix& train, bool keepValues, const char* model) {
  const Csr& byUser = train.byUser();
  UserRows out;
  out.numUsers = train.numUsers();
  out.numItems = train.numItems();
  out.indptr.assign(1, 0);
  out.indptr.reserve(static_cast<size_t>(out.numUsers) + 1);
  out.items.reserve(byUser.nnz());
  if (keepValues) out.values.reserve(byUser.nnz());
  // (item, position) pairs of one row, sorted so that the last occurrence of an
  // item comes last among its equals.
  std::vector<std::pair<Index, int32_t>> row;
  for (Index u = 0; u < out.numUsers; ++u) {
    const auto items = byUser.rowIndices(u);
    const auto values = byUser.rowValues(u);
    row.clear();
    for (size_t k = 0; k < items.size(); ++k) {
      if (!std::isfinite(values[k]))
        fail<InvalidArgument>(model, ".fit: the training value of user ", u, " for item ", items[k],
                              " is not finite (", values[k], ")");
      row.emplace_back(items[k], static_cast<int32_t>(k));
    }
    std::sort(row.begin(), row.end());
    for (size_t k = 0; k < row.size(); ++k) {
      if (k + 1 < row.size() && row[k + 1].first == row[k].first) continue;  // a later duplicate wins
      out.items.push_back(row[k].first);
      if (keepValues) out.values.push_back(values[static_cast<size_t>(row[k].second)]);
    }
    out.indptr.push_back(static_cast<int32_t>(out.items.size()));
  }
  return out;
}

UserRows transpose(const UserRows& rows) {
  UserRows t;
  t.numUsers = rows.numItems;  // rows of the transpose are items
  t.numItems = rows.numUsers;
  t.indptr.assign(static_cast<size_t>(rows.numItems) + 1, 0);
  for (Index i : rows.items) ++t.indptr[static_cast<size_t>(i) + 1];
  for (size_t i = 0; i < static_cast<size_t>(rows.numItems); ++i) t.indptr[i + 1] += t.indptr[i];
  t.items.resize(rows.items.size());
  if (!rows.values.empty()) t.values.resize(rows.values.size());
  std::vector<int32_t> next(t.indptr.begin(), t.indptr.end() - 1);
  for (Index u = 0; u < rows.numUsers; ++u) {
    for (int32_t k = rows.indptr[u]; k < rows.indptr[u + 1]; ++k) {
      const int32_t at = next[static_cast<size_t>(rows.items[k])]++;
      t.items[at] = u;  // users arrive in ascending order
      if (!rows.values.empty()) t.values[at] = rows.values[k];
    }
  }
  return t;
}

DistinctHistory distinct(const History& history, const char* model) {
  std::vector<std::pair<Index, Index>> byItem;  // (item, position)
  byItem.reserve(history.size());
  for (size_t p = 0; p < history.size(); ++p) {
    if (history.hasValues() && !std::isfinite(history.values[p]))
      fail<InvalidArgument>(model, ": history value ", p, " (item ", history.items[p], ") is not finite (",
                            history.values[p], ")");
    byItem.emplace_back(history.items[p], static_cast<Index>(p));
  }
  std::sort(byItem.begin(), byItem.end());
  DistinctHistory out;
  for (size_t k = 0; k < byItem.size(); ++k) {
    if (k + 1 < byItem.size() && byItem[k + 1].first == byItem[k].first) continue;
    out.items.push_back(byItem[k].first);
    out.positions.push_back(byItem[k].second);
    out.values.push_back(history.hasValues() ? history.values[static_cast<size_t>(byItem[k].second)] : 1.0f);
  }
  return out;
}

std::vector<float> popularityPrior(const std::vector<int32_t>& counts, double weight) {
  std::vector<float> prior(counts.size(), 0.0f);
  const int32_t most = counts.empty() ? 0 : *std::max_element(counts.begin(), counts.end());
  if (weight <= 0 || most <= 0) return prior;
  for (size_t i = 0; i < counts.size(); ++i)
    prior[i] = static_cast<float>(weight * static_cast<double>(counts[i]) / static_cast<double>(most));
  return prior;
}

}  // namespace knn_detail

using namespace knn_detail;

const std::vector<OptionSpec>& ItemKnn::optionSpecs() {
  static const std::vector<OptionSpec> specs = {
      {"similarity", "choice", "cosine", 0, 0, {"cosine", "jaccard"},
       "item-item similarity: cosine (dot / (|i||j| + shrink)) or jaccard (binary overlap / (union + shrink))"},
      {"neighbors", "int", "30", 1, 1'000'000, {}, "most similar items kept per item"},
      {"shrink", "float", "20", 0, 1e6, {}, "added to the similarity denominator: damps pairs with little support"},
      {"alpha", "float", "0.6", 0, 1, {},
       "cosine asymmetry (Aiolli 2013): dot / (|i|^(2 alpha) |j|^(2 (1 - alpha)) + shrink); 0.5 = plain cosine"},
      {"user_power", "float", "0.5", 0, 2, {},
       "each user's co-occurrences weigh |user row|^-user_power, damping heavy users (0: all users equal)"},
      {"popularity_penalty", "float", "0.3", 0, 2, {},
       "divides sim(i, j) by (users of j)^popularity_penalty before the neighbours are chosen (as RP3beta)"},
      {"sim_exponent", "float", "1.5", 0.1, 10, {},
       "kept similarities are raised to this power: > 1 sharpens towards the closest neighbours"},
      {"normalize", "bool", "true", 0, 0, {},
       "divide each item's kept similarities by their sum, so that every history item adds the same total "
       "(as RP3beta does)"},
      {"use_values", "bool", "false", 0, 0, {},
       "cosine over the rating values and history values as weights (false: binary interactions)"},
      {"popularity_weight", "float", "0.001", 0, 1e6, {},
       "adds weight * count / max count to every score, ordering items the history says nothing about "
       "by popularity (0: off)"},
  };
  return specs;
}

ItemKnn::ItemKnn(const OptionMap& options) : ItemKnn(OptionReader("item_knn", optionSpecs(), options)) {}

ItemKnn::ItemKnn(const OptionReader& reader)
    : Recommender(reader.resolved()),
      jaccard_(reader.getChoice("similarity") == "jaccard"),
      popularityPenalty_(reader.getFloat("popularity_penalty")),
      simExponent_(reader.getFloat("sim_exponent")),
      normalize_(reader.getBool("normalize")),
      neighbors_(reader.getInt("neighbors")),
      shrink_(reader.getFloat("shrink")),
      alpha_(reader.getFloat("alpha")),
      userPower_(reader.getFloat("user_power")),
      useValues_(reader.getBool("use_values")),
      popularityWeight_(reader.getFloat("popularity_weight")) {
  reader.finish();
}

void ItemKnn::fitImpl(const InteractionMatrix& train, Progress& progress) {
  progress.report(0.0, "similarities");
  const bool values = useValues_ && !jaccard_;
  const UserRows rows = userRows(train, values, "item_knn");
  const Index n = train.numItems();
  std::vector<int32_t> counts(static_cast<size_t>(n), 0);
  for (Index i : rows.items) ++counts[i];
  const UserRows cols = transpose(rows);  // item -> users

  // User weights |row|^-user_power (all 1 when the power is 0).
  std::vector<double> userWeight(static_cast<size_t>(rows.numUsers), 1.0);
  if (userPower_ > 0)
    for (Index u = 0; u < rows.numUsers; ++u)
      if (rows.indptr[u + 1] > rows.indptr[u])
        userWeight[u] = std::pow(static_cast<double>(rows.indptr[u + 1] - rows.indptr[u]), -userPower_);
  // Column sizes: the weighted sum of squares for cosine (the squared norm),
  // the weighted user count for Jaccard.
  std::vector<double> size(static_cast<size_t>(n), 0.0);
  for (Index i = 0; i < n; ++i) {
    double s = 0;
    for (int32_t k = cols.indptr[i]; k < cols.indptr[i + 1]; ++k) {
      const double v = values ? cols.values[k] : 1.0;
      s += userWeight[cols.items[k]] * v * v;
    }
    size[i] = s;
  }
  // Cosine denominators factor as left(i) * right(j) + shrink.
  std::vector<double> left(static_cast<size_t>(n)), right(static_cast<size_t>(n));
  for (Index i = 0; i < n; ++i) {
    left[i] = alpha_ == 0.5 ? std::sqrt(size[i]) : std::pow(size[i], alpha_);
    right[i] = alpha_ == 0.5 ? left[i] : std::pow(size[i], 1.0 - alpha_);
  }
  // The popularity penalty of a candidate j: (users of j)^-popularity_penalty.
  std::vector<double> penalty(static_cast<size_t>(n), 1.0);
  if (popularityPenalty_ > 0)
    for (Index i = 0; i < n; ++i)
      if (counts[i] > 0) penalty[i] = std::pow(static_cast<double>(counts[i]), -popularityPenalty_);

  std::vector<int32_t> indptr(1, 0);
  indptr.reserve(static_cast<size_t>(n) + 1);
  std::vector<Index> nbrIndex;
  std::vector<float> nbrSim;
  std::vector<double> acc(static_cast<size_t>(n), 0.0);  // dot products (or overlaps) with item i
  std::vector<uint8_t> touched(static_cast<size_t>(n), 0);
  std::vector<Index> touchedList;
  std::vector<std::pair<double, Index>> cand;
  // (sim desc, index asc): a strict order, so the kept set is deterministic.
  auto better = [](const std::pair<double, Index>& a, const std::pair<double, Index>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  size_t workSinceReport = 0;
  for (Index i = 0; i < n; ++i) {
    touchedList.clear();
    for (int32_t a = cols.indptr[i]; a < cols.indptr[i + 1]; ++a) {
      const Index u = cols.items[a];
      const double vi = (values ? cols.values[a] : 1.0) * userWeight[u];
      const int32_t begin = rows.indptr[u], end = rows.indptr[u + 1];
      workSinceReport += static_cast<size_t>(end - begin);
      for (int32_t b = begin; b < end; ++b) {
        const Index j = rows.items[b];
        if (!touched[j]) {
          touched[j] = 1;
          touchedList.push_back(j);
        }
        acc[j] += values ? vi * rows.values[b] : vi;
      }
    }
    cand.clear();
    for (Index j : touchedList) {
      if (j != i) {
        const double dot = acc[j];
        const double denom = jaccard_ ? size[i] + size[j] - dot + shrink_ : left[i] * right[j] + shrink_;
        double sim = denom > 0 ? dot / denom : 0.0;
        sim *= penalty[j];
        if (sim > 0 && static_cast<float>(sim) > 0) cand.emplace_back(sim, j);
      }
      acc[j] = 0.0;
      touched[j] = 0;
    }
    if (cand.size() > static_cast<size_t>(neighbors_)) {
      std::nth_element(cand.begin(), cand.begin() + neighbors_, cand.end(), better);
      cand.resize(static_cast<size_t>(neighbors_));
    }
    std::sort(cand.begin(), cand.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    // The exponent is monotone, so it is applied to the kept neighbours only
    // (the same set and order as before it, at a fraction of the pow calls).
    if (simExponent_ != 1.0)
      for (auto& c : cand) c.first = std::pow(c.first, simExponent_);
    double total = 0;
    for (const auto& c : cand) total += c.first;
    for (const auto& [sim, j] : cand) {
      const float kept = static_cast<float>(normalize_ ? sim / total : sim);
      if (!(kept > 0)) continue;  // a tiny share can underflow to zero in float
      nbrIndex.push_back(j);
      nbrSim.push_back(kept);
    }
    indptr.push_back(static_cast<int32_t>(nbrIndex.size()));
    // A block of items at a time, sized by work so that a cancel lands quickly
    // even when a block meets the heaviest users.
    if (workSinceReport > (1u << 21) || (i & 255) == 255) {
      progress.report(static_cast<double>(i + 1) / n, "similarities");
      workSinceReport = 0;
    }
  }
  indptr_ = std::move(indptr);
  neighborIndex_ = std::move(nbrIndex);
  neighborSim_ = std::move(nbrSim);
  counts_ = std::move(counts);
  prior_ = popularityPrior(counts_, popularityWeight_);
  progress.report(1.0, "done");
}

std::span<const Index> ItemKnn::neighborItems(Index item) const {
  if (!fitted() || item < 0 || item >= numItems())
    fail<InvalidArgument>("item_knn.neighborItems: item ", item, " outside the catalog [0, ", numItems(), ")");
  return {neighborIndex_.data() + indptr_[item], static_cast<size_t>(indptr_[item + 1] - indptr_[item])};
}

std::span<const float> ItemKnn::neighborSimilarities(Index item) const {
  if (!fitted() || item < 0 || item >= numItems())
    fail<InvalidArgument>("item_knn.neighborSimilarities: item ", item, " outside the catalog [0, ",
                          numItems(), ")");
  return {neighborSim_.data() + indptr_[item], static_cast<size_t>(indptr_[item + 1] - indptr_[item])};
}

float ItemKnn::similarity(Index item, Index other) const {
  const auto items = neighborItems(item);
  const auto it = std::lower_bound(items.begin(), items.end(), other);
  if (it == items.end() || *it != other) return 0.0f;
  return neighborSimilarities(item)[static_cast<size_t>(it - items.begin())];
}

void ItemKnn::scoreImpl(const History& history, std::span<float> out) const {
  const DistinctHistory h = distinct(history, "item_knn");
  std::fill(out.begin(), out.end(), 0.0f);
  for (size_t k = 0; k < h.items.size(); ++k) {
    const float w = historyWeight(h.values[k]);
    const Index item = h.items[k];
    for (int32_t a = indptr_[item]; a < indptr_[item + 1]; ++a) out[neighborIndex_[a]] += w * neighborSim_[a];
  }
  for (size_t j = 0; j < out.size(); ++j) out[j] += prior_[j];
}

std::vector<Contribution> ItemKnn::explainImpl(const History& history, Index item, size_t maxCount) const {
  const DistinctHistory h = distinct(history, "item_knn");
  std::vector<Contribution> why;
  for (size_t k = 0; k < h.items.size(); ++k) {
    const float w = historyWeight(h.values[k]) * similarity(h.items[k], item);
    if (w > 0) why.push_back({h.positions[k], w});
  }
  std::sort(why.begin(), why.end(), [](const Contribution& a, const Contribution& b) {
    return a.weight > b.weight || (a.weight == b.weight && a.source < b.source);
  });
  if (why.empty() && prior_[item] > 0) why.push_back({-1, prior_[item]});
  if (why.size() > maxCount) why.resize(maxCount);
  return why;
}

namespace {
constexpr uint32_t kLayout = 1;
}

void ItemKnn::save(Writer& out) const {
  out.u32(kLayout);
  out.ints(indptr_);
  out.ints(neighborIndex_);
  out.floats(neighborSim_);
  out.ints(counts_);
}

void ItemKnn::loadImpl(Reader& in) {
  const uint32_t layout = in.u32("item_knn layout");
  if (layout != kLayout) fail<FormatError>(in.what(), ": item_knn parameter layout ", layout, " is not supported");
  auto indptr = in.ints("item_knn neighbour offsets");
  if (indptr.size() < 2 || indptr.size() > static_cast<size_t>(INT32_MAX))
    fail<FormatError>(in.what(), ": item_knn needs at least one item, got ", indptr.size(), " offsets");
  const Index n = static_cast<Index>(indptr.size() - 1);
  auto index = in.ints("item_knn neighbour items");
  auto sims = in.floats("item_knn similarities", index.size());
  auto counts = in.ints("item_knn item counts", static_cast<size_t>(n));
  if (indptr[0] != 0 || static_cast<size_t>(indptr[n]) != index.size())
    fail<FormatError>(in.what(), ": item_knn neighbour offsets do not span the ", index.size(), " neighbours");
  for (Index i = 0; i < n; ++i) {
    if (indptr[i + 1] < indptr[i])
      fail<FormatError>(in.what(), ": item_knn neighbour offsets decrease at item ", i);
    for (int32_t a = indptr[i]; a < indptr[i + 1]; ++a) {
      if (index[a] < 0 || index[a] >= n || (a > indptr[i] && index[a] <= index[a - 1]))
        fail<FormatError>(in.what(), ": item_knn neighbour ", a, " of item ", i,
                          " is out of range or out of order");
      // Only positive, finite similarities are ever kept.
      if (!(sims[a] > 0.0f && std::isfinite(sims[a])))
        fail<FormatError>(in.what(), ": item_knn similarity ", a, " (", sims[a], ") is not positive and finite");
    }
    if (counts[i] < 0) fail<FormatError>(in.what(), ": item_knn count of item ", i, " is negative");
  }
  indptr_ = std::move(indptr);
  neighborIndex_ = std::move(index);
  neighborSim_ = std::move(sims);
  counts_ = std::move(counts);
  prior_ = popularityPrior(counts_, popularityWeight_);
  setFitted(n);
}

}  // namespace localrec

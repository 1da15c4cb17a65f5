#include "models/cf/user_knn.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "io/serialize.h"
#include "models/cf/item_knn.h"  // knn_detail helpers shared by the pair

namespace localrec {

using namespace knn_detail;

const std::vector<OptionSpec>& UserKnn::optionSpecs() {
  static const std::vector<OptionSpec> specs = {
      {"similarity", "choice", "cosine", 0, 0, {"cosine", "pearson"},
       "history-user similarity: cosine, or pearson (cosine of mean-centred ratings)"},
      {"neighbors", "int", "50", 1, 1'000'000, {}, "most similar training users who vote"},
      {"shrink", "float", "10", 0, 1e6, {}, "added to the similarity denominator: damps users with little overlap"},
      {"exponent", "float", "3", 0.1, 10, {},
       "a neighbour's vote weighs sim^exponent (case amplification, Breese et al. 1998): > 1 favours the closest"},
      {"popularity_penalty", "float", "0.1", 0, 2, {},
       "divides each item's neighbour votes by (users of the item)^popularity_penalty (0: off)"},
      {"use_values", "bool", "true", 0, 0, {},
       "cosine over the rating values (false: binary interactions); pearson always uses the values"},
      {"popularity_weight", "float", "0.001", 0, 1e6, {},
       "adds weight * count / max count to every score, ordering items no neighbour voted for by popularity "
       "(0: off)"},
  };
  return specs;
}

UserKnn::UserKnn(const OptionMap& options) : UserKnn(OptionReader("user_knn", optionSpecs(), options)) {}

UserKnn::UserKnn(const OptionReader& reader)
    : Recommender(reader.resolved()),
      pearson_(reader.getChoice("similarity") == "pearson"),
      neighbors_(reader.getInt("neighbors")),
      shrink_(reader.getFloat("shrink")),
      exponent_(reader.getFloat("exponent")),
      popularityPenalty_(reader.getFloat("popularity_penalty")),
      useValues_(reader.getBool("use_values")),
      popularityWeight_(reader.getFloat("popularity_weight")) {
  reader.finish();
}

void UserKnn::fitImpl(const InteractionMatrix& train, Progress& progress) {
  progress.report(0.0, "user rows");
  UserRows rows = userRows(train, keepsValues(), "user_knn");
  progress.report(0.5, "user rows");
  numUsers_ = rows.numUsers;
  numItemsStored_ = rows.numItems;
  indptr_ = std::move(rows.indptr);
  items_ = std::move(rows.items);
  values_ = std::move(rows.values);
  derive();
  progress.report(1.0, "done");
}

void UserKnn::derive() {
  const size_t users = static_cast<size_t>(numUsers_);
  const size_t n = static_cast<size_t>(numItemsStored_);
  std::vector<int32_t> counts(n, 0);
  for (Index i : items_) ++counts[static_cast<size_t>(i)];
  // The votes for an item are scaled by (users of the item)^-popularity_penalty.
  voteScale_.assign(n, 1.0);
  if (popularityPenalty_ > 0)
    for (size_t i = 0; i < n; ++i)
      if (counts[i] > 0) voteScale_[i] = std::pow(static_cast<double>(counts[i]), -popularityPenalty_);
  mean_.assign(users, 0.0);
  norm_.assign(users, 0.0);
  for (Index u = 0; u < numUsers_; ++u) {
    const int32_t begin = indptr_[u], end = indptr_[u + 1];
    if (pearson_ && end > begin) {
      double s = 0;
      for (int32_t k = begin; k < end; ++k) s += values_[k];
      mean_[u] = s / (end - begin);
    }
    double sq = 0;
    for (int32_t k = begin; k < end; ++k) {
      const double x = entry(u, k);
      sq += x * x;
    }
    norm_[u] = std::sqrt(sq);
  }
  // item -> (user, position) lists; users ascending.
  colPtr_.assign(n + 1, 0);
  for (size_t i = 0; i < n; ++i) colPtr_[i + 1] = colPtr_[i] + counts[i];
  colUser_.resize(items_.size());
  colPos_.resize(items_.size());
  std::vector<int32_t> next(colPtr_.begin(), colPtr_.end() - 1);
  for (Index u = 0; u < numUsers_; ++u)
    for (int32_t k = indptr_[u]; k < indptr_[u + 1]; ++k) {
      const int32_t at = next[static_cast<size_t>(items_[k])]++;
      colUser_[at] = u;
      colPos_[at] = k;
    }
  prior_ = popularityPrior(counts, popularityWeight_);
}

double UserKnn::entry(Index user, int32_t k) const {
  if (pearson_) return static_cast<double>(values_[k]) - mean_[user];
  return useValues_ ? static_cast<double>(values_[k]) : 1.0;
}

UserKnn::Query UserKnn::query(const History& history) const {
  const DistinctHistory h = distinct(history, "user_knn");
  Query q;
  q.items = h.items;
  q.positions = h.positions;
  q.x.resize(h.items.size(), 1.0);
  if (pearson_) {
    double mean = 0;
    for (float v : h.values) mean += v;
    if (!h.values.empty()) mean /= static_cast<double>(h.values.size());
    for (size_t k = 0; k < h.values.size(); ++k) q.x[k] = static_cast<double>(h.values[k]) - mean;
  } else if (useValues_) {
    for (size_t k = 0; k < h.values.size(); ++k) q.x[k] = h.values[k];
  }
  double sq = 0;
  for (double x : q.x) sq += x * x;
  q.norm = std::sqrt(sq);
  return q;
}

std::vector<double> UserKnn::similaritiesOf(const Query& q) const {
  std::vector<double> dot(static_cast<size_t>(numUsers_), 0.0);
  for (size_t k = 0; k < q.items.size(); ++k) {
    const Index i = q.items[k];
    const double xh = q.x[k];
    if (xh == 0) continue;
    for (int32_t a = colPtr_[i]; a < colPtr_[i + 1]; ++a) dot[colUser_[a]] += xh * entry(colUser_[a], colPos_[a]);
  }
  for (Index u = 0; u < numUsers_; ++u) {
    const double denom = q.norm * norm_[u] + shrink_;
    dot[u] = denom > 0 ? dot[u] / denom : 0.0;
  }
  return dot;
}

std::vector<std::pair<Index, double>> UserKnn::topNeighbors(const std::vector<double>& sims) const {
  std::vector<std::pair<Index, double>> cand;
  for (Index u = 0; u < numUsers_; ++u)
    if (sims[u] > 0) cand.emplace_back(u, sims[u]);
  auto better = [](const std::pair<Index, double>& a, const std::pair<Index, double>& b) {
    return a.second > b.second || (a.second == b.second && a.first < b.first);
  };
  if (cand.size() > static_cast<size_t>(neighbors_)) {
    std::nth_element(cand.begin(), cand.begin() + neighbors_, cand.end(), better);
    cand.resize(static_cast<size_t>(neighbors_));
  }
  std::sort(cand.begin(), cand.end(), better);
  return cand;
}

std::vector<double> UserKnn::similarities(const History& history) const {
  if (!fitted()) fail<StateError>("user_knn: the model is not fitted; call fit() or load() first");
  if (history.hasValues() && history.values.size() != history.items.size())
    fail<InvalidArgument>("history: ", history.values.size(), " values for ", history.items.size(), " items");
  for (size_t p = 0; p < history.size(); ++p)
    if (history.items[p] < 0 || history.items[p] >= numItems())
      fail<InvalidArgument>("history[", p, "]: item ", history.items[p], " outside the catalog [0, ", numItems(),
                            ")");
  return similaritiesOf(query(history));
}

std::vector<Index> UserKnn::neighbors(const History& history) const {
  std::vector<Index> out;
  for (const auto& [u, s] : topNeighbors(similarities(history))) out.push_back(u);
  return out;
}

void UserKnn::scoreImpl(const History& history, std::span<float> out) const {
  const Query q = query(history);
  const auto nbrs = topNeighbors(similaritiesOf(q));
  std::vector<double> acc(out.size(), 0.0);
  for (const auto& [v, sim] : nbrs) {
    const double w = voteWeight(sim);
    for (int32_t k = indptr_[v]; k < indptr_[v + 1]; ++k) acc[static_cast<size_t>(items_[k])] += w * entry(v, k);
  }
  for (size_t j = 0; j < out.size(); ++j) out[j] = static_cast<float>(acc[j] * voteScale_[j]) + prior_[j];
}

std::vector<Contribution> UserKnn::explainImpl(const History& history, Index item, size_t maxCount) const {
  const Query q = query(history);
  const auto nbrs = topNeighbors(similaritiesOf(q));
  std::vector<double> credit(q.items.size(), 0.0);
  bool voted = false;
  for (const auto& [v, sim] : nbrs) {
    const Index* begin = items_.data() + indptr_[v];
    const Index* end = items_.data() + indptr_[v + 1];
    const Index* at = std::lower_bound(begin, end, item);
    if (at == end || *at != item) continue;
    const double vote = entry(v, static_cast<int32_t>(at - items_.data())) * voteScale_[static_cast<size_t>(item)];
    if (vote == 0) continue;
    voted = true;
    const double denom = q.norm * norm_[v] + shrink_;  // > 0: sim > 0
    // The vote weighs sim^e = sim^(e-1) * sum over shared items of x_h x_v / denom.
    const double scale = voteWeight(sim) / sim;
    for (size_t k = 0; k < q.items.size(); ++k) {
      const Index* shared = std::lower_bound(begin, end, q.items[k]);
      if (shared == end || *shared != q.items[k]) continue;
      credit[k] += q.x[k] * entry(v, static_cast<int32_t>(shared - items_.data())) / denom * vote * scale;
    }
  }
  std::vector<Contribution> why;
  for (size_t k = 0; k < q.items.size(); ++k) {
    const float w = static_cast<float>(credit[k]);
    if (w > 0) why.push_back({q.positions[k], w});
  }
  std::sort(why.begin(), why.end(), [](const Contribution& a, const Contribution& b) {
    return a.weight > b.weight || (a.weight == b.weight && a.source < b.source);
  });
  if (!voted && prior_[item] > 0) why.push_back({-1, prior_[item]});
  if (why.size() > maxCount) why.resize(maxCount);
  return why;
}

namespace {
constexpr uint32_t kLayout = 1;
}

void UserKnn::save(Writer& out) const {
  out.u32(kLayout);
  out.i32(numItemsStored_);
  out.ints(indptr_);
  out.ints(items_);
  out.floats(values_);
}

void UserKnn::loadImpl(Reader& in) {
  const uint32_t layout = in.u32("user_knn layout");
  if (layout != kLayout) fail<FormatError>(in.what(), ": user_knn parameter layout ", layout, " is not supported");
  const Index n = in.i32("user_knn item count");
  if (n < 1) fail<FormatError>(in.what(), ": user_knn item count ", n, " is not positive");
  auto indptr = in.ints("user_knn row offsets");
  if (indptr.empty() || indptr.size() > static_cast<size_t>(INT32_MAX))
    fail<FormatError>(in.what(), ": user_knn row offsets are missing");
  const Index users = static_cast<Index>(indptr.size() - 1);
  auto items = in.ints("user_knn row items");
  auto values = in.floats("user_knn row values", keepsValues() ? items.size() : 0);
  if (indptr[0] != 0 || static_cast<size_t>(indptr[users]) != items.size())
    fail<FormatError>(in.what(), ": user_knn row offsets do not span the ", items.size(), " entries");
  for (Index u = 0; u < users; ++u) {
    if (indptr[u + 1] < indptr[u]) fail<FormatError>(in.what(), ": user_knn row offsets decrease at user ", u);
    for (int32_t k = indptr[u]; k < indptr[u + 1]; ++k)
      if (items[k] < 0 || items[k] >= n || (k > indptr[u] && items[k] <= items[k - 1]))
        fail<FormatError>(in.what(), ": user_knn entry ", k, " of user ", u, " is out of range or out of order");
  }
  for (size_t k = 0; k < values.size(); ++k)
    if (!std::isfinite(values[k])) fail<FormatError>(in.what(), ": user_knn value ", k, " is not finite");
  numUsers_ = users;
  numItemsStored_ = n;
  indptr_ = std::move(indptr);
  items_ = std::move(items);
  values_ = std::move(values);
  derive();
  setFitted(n);
}

}  // namespace localrec

#include "models/content/tfidf.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "core/error.h"
#include "io/serialize.h"
#include "models/content/tokenize.h"

namespace localrec {

namespace {
constexpr uint32_t kLayoutVersion = 1;
}

const std::vector<OptionSpec>& TfIdf::optionSpecs() {
  static const std::vector<OptionSpec> specs = {
      {"min_df", "int", "1", 1, 1e6, {}, "keep terms found in at least this many item texts"},
      {"max_vocab", "int", "100000", 1, 1e7, {}, "keep at most this many terms (the most frequent by document count)"},
      {"sublinear_tf", "bool", "true", 0, 0, {}, "term weight 1 + ln(tf) instead of the raw count tf"},
      {"weighting", "choice", "none", 0, 0, {"none", "rating-centered"},
       "history profile: plain sum of item vectors, or weighted by rating minus the history's mean rating"},
  };
  return specs;
}

TfIdf::TfIdf(const OptionMap& options) : TfIdf(OptionReader("tfidf", optionSpecs(), options)) {}

TfIdf::TfIdf(const OptionReader& reader)
    : Recommender(reader.resolved()),
      minDf_(reader.getInt("min_df")),
      maxVocab_(reader.getInt("max_vocab")),
      sublinear_(reader.getBool("sublinear_tf")),
      ratingCentered_(reader.getChoice("weighting") == "rating-centered") {
  reader.finish();
}

void TfIdf::fitImpl(const InteractionMatrix&, Progress&) {
  // Recommender::fit refuses a fit without texts before this point.
  fail<InvalidArgument>("tfidf.fit: needs item texts (TrainSet::itemText)");
}

void TfIdf::fitWithText(const TrainSet& train, Progress& progress) {
  const Index numItems = train.interactions.numItems();
  const ItemText& text = *train.itemText;
  progress.report(0.0, "tokenizing");

  // Term frequencies per item over provisional ids (first appearance order).
  std::unordered_map<std::string, Index> provisional;
  std::vector<std::string> provisionalTerms;
  std::vector<int> df;
  std::vector<std::vector<std::pair<Index, int>>> counts(static_cast<size_t>(numItems));
  for (Index i = 0; i < numItems; ++i) {
    std::vector<Index> ids;
    for (std::string& token : tokenize(text.of(i))) {
      auto [it, fresh] = provisional.try_emplace(std::move(token), static_cast<Index>(provisionalTerms.size()));
      if (fresh) {
        provisionalTerms.push_back(it->first);
        df.push_back(0);
      }
      ids.push_back(it->second);
    }
    std::sort(ids.begin(), ids.end());
    auto& mine = counts[static_cast<size_t>(i)];
    for (size_t k = 0; k < ids.size();) {
      size_t end = k;
      while (end < ids.size() && ids[end] == ids[k]) ++end;
      mine.push_back({ids[k], static_cast<int>(end - k)});
      ++df[static_cast<size_t>(ids[k])];
      k = end;
    }
    if ((i & 1023) == 0) progress.report(0.8 * i / numItems, "tokenizing");
  }

  // The vocabulary: df >= min_df, the max_vocab most frequent, ids in byte order.
  std::vector<Index> kept;
  for (Index t = 0; t < static_cast<Index>(provisionalTerms.size()); ++t)
    if (df[static_cast<size_t>(t)] >= minDf_) kept.push_back(t);
  if (kept.size() > static_cast<size_t>(maxVocab_)) {
    std::sort(kept.begin(), kept.end(), [&](Index a, Index b) {
      return df[a] != df[b] ? df[a] > df[b] : provisionalTerms[a] < provisionalTerms[b];
    });
    kept.resize(static_cast<size_t>(maxVocab_));
  }
  std::sort(kept.begin(), kept.end(),
            [&](Index a, Index b) { return provisionalTerms[a] < provisionalTerms[b]; });
  std::vector<Index> finalId(provisionalTerms.size(), -1);
  vocab_.clear();
  idf_.clear();
  const double n = static_cast<double>(numItems);
  for (Index t : kept) {
    finalId[static_cast<size_t>(t)] = static_cast<Index>(vocab_.size());
    vocab_.push_back(provisionalTerms[static_cast<size_t>(t)]);
    idf_.push_back(static_cast<float>(std::log((1.0 + n) / (1.0 + df[static_cast<size_t>(t)])) + 1.0));
  }
  progress.report(0.85, "weighting");

  // Normalized item vectors.
  offsets_.assign(1, 0);
  terms_.clear();
  weights_.clear();
  std::vector<std::pair<Index, double>> row;
  for (Index i = 0; i < numItems; ++i) {
    row.clear();
    for (const auto& [t, tf] : counts[static_cast<size_t>(i)]) {
      const Index id = finalId[static_cast<size_t>(t)];
      if (id < 0) continue;
      const double w = (sublinear_ ? 1.0 + std::log(static_cast<double>(tf)) : tf) * idf_[static_cast<size_t>(id)];
      row.push_back({id, w});
    }
    std::sort(row.begin(), row.end());
    double norm = 0;
    for (const auto& [t, w] : row) norm += w * w;
    norm = std::sqrt(norm);
    for (const auto& [t, w] : row) {
      terms_.push_back(t);
      weights_.push_back(static_cast<float>(w / norm));
    }
    offsets_.push_back(static_cast<int32_t>(terms_.size()));
  }
  buildPostings(numItems);
  progress.report(1.0, "done");
}

void TfIdf::buildPostings(Index numItems) {
  const size_t v = vocab_.size();
  postingOffsets_.assign(v + 1, 0);
  for (Index t : terms_) ++postingOffsets_[static_cast<size_t>(t) + 1];
  for (size_t t = 0; t < v; ++t) postingOffsets_[t + 1] += postingOffsets_[t];
  postingItems_.resize(terms_.size());
  postingWeights_.resize(terms_.size());
  std::vector<int32_t> next(postingOffsets_.begin(), postingOffsets_.end() - 1);
  for (Index i = 0; i < numItems; ++i)
    for (int32_t k = offsets_[i]; k < offsets_[i + 1]; ++k) {
      const int32_t at = next[static_cast<size_t>(terms_[k])]++;
      postingItems_[at] = i;
      postingWeights_[at] = weights_[k];
    }
}

std::span<const Index> TfIdf::itemTerms(Index item) const {
  return {terms_.data() + offsets_.at(item), static_cast<size_t>(offsets_.at(item + 1) - offsets_[item])};
}

std::span<const float> TfIdf::itemWeights(Index item) const {
  return {weights_.data() + offsets_.at(item), static_cast<size_t>(offsets_.at(item + 1) - offsets_[item])};
}

Index TfIdf::termId(const std::string& term) const {
  const auto it = std::lower_bound(vocab_.begin(), vocab_.end(), term);
  return it != vocab_.end() && *it == term ? static_cast<Index>(it - vocab_.begin()) : -1;
}

std::vector<std::pair<Index, double>> TfIdf::profile(const History& history) const {
  std::vector<double> coefficient(history.size(), 1.0);
  if (ratingCentered_ && history.hasValues()) {
    double mean = 0;
    for (float v : history.values) mean += v;
    mean /= static_cast<double>(history.size());
    bool anyNonZero = false;
    for (size_t j = 0; j < history.size(); ++j) {
      coefficient[j] = static_cast<double>(history.values[j]) - mean;
      anyNonZero = anyNonZero || coefficient[j] != 0.0;
    }
    if (!anyNonZero) std::fill(coefficient.begin(), coefficient.end(), 1.0);
  }
  std::vector<std::pair<Index, double>> parts;
  for (size_t j = 0; j < history.size(); ++j) {
    const Index item = history.items[j];
    for (int32_t k = offsets_[item]; k < offsets_[item + 1]; ++k)
      parts.push_back({terms_[k], coefficient[j] * weights_[k]});
  }
  // Sum equal terms; the stable sort keeps history order among them, so the sums are reproducible.
  std::stable_sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<Index, double>> p;
  double norm = 0;
  for (size_t k = 0; k < parts.size();) {
    double sum = 0;
    size_t end = k;
    for (; end < parts.size() && parts[end].first == parts[k].first; ++end) sum += parts[end].second;
    if (sum != 0.0) {
      p.push_back({parts[k].first, sum});
      norm += sum * sum;
    }
    k = end;
  }
  if (!(norm > 0.0) || !std::isfinite(norm)) return {};
  norm = std::sqrt(norm);
  for (auto& [t, w] : p) w /= norm;
  return p;
}

void TfIdf::scoreImpl(const History& history, std::span<float> out) const {
  std::fill(out.begin(), out.end(), 0.0f);
  for (const auto& [t, pw] : profile(history)) {
    const float w = static_cast<float>(pw);
    for (int32_t k = postingOffsets_[t]; k < postingOffsets_[t + 1]; ++k)
      out[postingItems_[k]] += postingWeights_[k] * w;
  }
}

std::vector<Contribution> TfIdf::explainImpl(const History& history, Index item, size_t maxCount) const {
  const auto p = profile(history);
  std::vector<Contribution> out;
  for (int32_t k = offsets_[item]; k < offsets_[item + 1]; ++k) {
    const Index t = terms_[k];
    const auto it = std::lower_bound(p.begin(), p.end(), t, [](const auto& e, Index v) { return e.first < v; });
    if (it == p.end() || it->first != t) continue;
    const float w = weights_[k] * static_cast<float>(it->second);
    if (w > 0.0f) out.push_back(Contribution{-1, w, vocab_[static_cast<size_t>(t)]});
  }
  // Strongest first; ties by term (byte order).
  std::stable_sort(out.begin(), out.end(), [](const Contribution& a, const Contribution& b) { return a.weight > b.weight; });
  if (out.size() > maxCount) out.resize(maxCount);
  return out;
}

void TfIdf::save(Writer& out) const {
  out.u32(kLayoutVersion);
  out.i32(numItems());
  out.u32(static_cast<uint32_t>(vocab_.size()));
  for (const auto& term : vocab_) out.string(term);
  out.floats(idf_);
  out.ints(offsets_);
  out.ints(terms_);
  out.floats(weights_);
}

void TfIdf::loadImpl(Reader& in) {
  const uint32_t version = in.u32("tfidf layout version");
  if (version != kLayoutVersion)
    fail<FormatError>(in.what(), ": tfidf layout version ", version, " is not supported (this library reads ",
                      kLayoutVersion, ")");
  const int32_t numItems = in.i32("tfidf catalog size");
  if (numItems <= 0) fail<FormatError>(in.what(), ": tfidf catalog size ", numItems, " must be > 0");
  const uint32_t v = in.u32("tfidf vocabulary size");
  if (v > in.remaining() / 4)  // every term takes at least its 4-byte length
    fail<FormatError>(in.what(), ": tfidf vocabulary size ", v, " does not fit in the ", in.remaining(),
                      " bytes left");
  std::vector<std::string> vocab;
  vocab.reserve(v);
  for (uint32_t t = 0; t < v; ++t) vocab.push_back(in.string("tfidf term", kMaxTokenBytes));
  auto idf = in.floats("tfidf idf", v);
  for (size_t t = 0; t < idf.size(); ++t)
    if (!std::isfinite(idf[t])) fail<FormatError>(in.what(), ": tfidf idf ", t, " is not finite");
  auto offsets = in.ints("tfidf item offsets", static_cast<size_t>(numItems) + 1);
  if (offsets[0] != 0) fail<FormatError>(in.what(), ": tfidf item offsets must start at 0");
  for (int32_t i = 0; i < numItems; ++i)
    if (offsets[i + 1] < offsets[i])
      fail<FormatError>(in.what(), ": tfidf item offsets decrease at item ", i);
  auto terms = in.ints("tfidf item terms", static_cast<size_t>(offsets.back()));
  for (int32_t i = 0; i < numItems; ++i)
    for (int32_t k = offsets[i]; k < offsets[i + 1]; ++k) {
      if (terms[k] < 0 || static_cast<uint32_t>(terms[k]) >= v)
        fail<FormatError>(in.what(), ": tfidf item ", i, " has term ", terms[k], " outside the vocabulary [0, ", v, ")");
      if (k > offsets[i] && terms[k] <= terms[k - 1])
        fail<FormatError>(in.what(), ": tfidf item ", i, " terms are not strictly ascending");
    }
  auto weights = in.floats("tfidf item weights", terms.size());
  for (size_t k = 0; k < weights.size(); ++k)
    if (!std::isfinite(weights[k])) fail<FormatError>(in.what(), ": tfidf weight ", k, " is not finite");
  vocab_ = std::move(vocab);
  idf_ = std::move(idf);
  offsets_ = std::move(offsets);
  terms_ = std::move(terms);
  weights_ = std::move(weights);
  buildPostings(numItems);
  setFitted(numItems);
}

}  // namespace localrec

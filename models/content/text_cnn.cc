#include "models/content/text_cnn.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <sstream>
#include <unordered_map>

#include "core/error.h"
#include "core/rng.h"
#include "io/serialize.h"
#include "linalg/kernels.h"
#include "models/cf/ials.h"
#include "models/content/tokenize.h"
#include "nn/dropout.h"
#include "nn/finite.h"
#include "nn/optimizer.h"

namespace localrec {

namespace {

constexpr uint32_t kLayoutVersion = 1;

// The shared training options (nn/training.h): this model's defaults and ranges (always Adam).
constexpr nn::TrainingOptionDefaults kTraining{
    .chooseOptimizer = false, .learningRate = "0.003", .minLearningRate = 1e-7, .epochs = 20,
    .maxEpochs = 10000, .epochPasses = "the items with interactions", .batchSize = 64, .maxBatchSize = 65536,
    .batchUnit = "items", .seedOf = "the initial weights, the batch order and dropout"};

// Items per inference batch (embedTexts): big enough for GEMM speed, small
// enough that the im2col scratch stays a few MB.
constexpr size_t kInferBatch = 256;

// Valid output steps of an item of `length` tokens under a window of `width`
// (the Conv1d rule: a text shorter than the window gives one zero-padded step).
// A double as text that parses back to the same value (options of the inner ials).
std::string exactText(double v) {
  std::ostringstream os;
  os << std::setprecision(17) << v;
  return os.str();
}

inline size_t validSteps(size_t length, size_t width) { return length >= width ? length - width + 1 : 1; }

void activate(nn::Matrix& m, bool useTanh) {
  float* p = m.data();
  const size_t n = m.size();
  if (useTanh)
    for (size_t k = 0; k < n; ++k) p[k] = std::tanh(p[k]);
  else
    for (size_t k = 0; k < n; ++k) p[k] = p[k] > 0.0f ? p[k] : 0.0f;
}

// d *= f'(.) expressed through the output y.
void activateBackward(const nn::Matrix& y, nn::Matrix& d, bool useTanh) {
  const float* py = y.data();
  float* pd = d.data();
  const size_t n = y.size();
  if (useTanh)
    for (size_t k = 0; k < n; ++k) pd[k] *= 1.0f - py[k] * py[k];
  else
    for (size_t k = 0; k < n; ++k) pd[k] = py[k] > 0.0f ? pd[k] : 0.0f;
}

// Max over each sequence's first valid[b] steps of a (B*To) x F input, written
// into columns [col, col + F) of y (B x width). argmax (B*F) gets the row of x.
void maskedMaxPool(const nn::Matrix& x, size_t To, const std::vector<int32_t>& valid, nn::Matrix& y, size_t col,
                   std::vector<int32_t>* argmax) {
  const size_t F = x.cols();
  const size_t B = valid.size();
  if (argmax) argmax->assign(B * F, 0);
  for (size_t b = 0; b < B; ++b) {
    float* out = y.row(b) + col;
    const size_t first = b * To;
    std::copy_n(x.row(first), F, out);
    int32_t* arg = argmax ? argmax->data() + b * F : nullptr;
    if (arg) std::fill_n(arg, F, static_cast<int32_t>(first));
    for (size_t t = 1; t < static_cast<size_t>(valid[b]); ++t) {
      const float* row = x.row(first + t);
      for (size_t f = 0; f < F; ++f)
        if (row[f] > out[f]) {
          out[f] = row[f];
          if (arg) arg[f] = static_cast<int32_t>(first + t);
        }
    }
  }
}

// Routes columns [col, col + F) of dY (B x width) to the winning rows of dX ((B*To) x F, zeroed here).
void maskedMaxPoolBackward(const nn::Matrix& dY, size_t col, const std::vector<int32_t>& argmax, size_t rows,
                           size_t F, nn::Matrix& dX) {
  dX.resize(rows, F);
  dX.setZero();
  const size_t B = dY.rows();
  for (size_t b = 0; b < B; ++b)
    for (size_t f = 0; f < F; ++f) dX(static_cast<size_t>(argmax[b * F + f]), f) += dY(b, col + f);
}

// A batch of items as padded word ids (B*T, batch-major) and lengths.
struct Batch {
  std::vector<Index> ids;
  std::vector<int32_t> lengths;
  size_t steps = 0;

  void build(const std::vector<std::vector<Index>>& words, std::span<const Index> items) {
    steps = 1;
    for (Index i : items) steps = std::max(steps, words[static_cast<size_t>(i)].size());
    ids.assign(items.size() * steps, TextCnn::kPadId);
    lengths.resize(items.size());
    for (size_t b = 0; b < items.size(); ++b) {
      const auto& w = words[static_cast<size_t>(items[b])];
      std::copy(w.begin(), w.end(), ids.begin() + static_cast<std::ptrdiff_t>(b * steps));
      lengths[b] = static_cast<int32_t>(w.size());
    }
  }
  std::vector<int32_t> valid(size_t width) const {
    std::vector<int32_t> v(lengths.size());
    for (size_t b = 0; b < v.size(); ++b)
      v[b] = static_cast<int32_t>(std::min(validSteps(static_cast<size_t>(lengths[b]), width),
                                           nn::Conv1d::outputSteps(steps, width)));
    return v;
  }
};

}  // namespace

const std::vector<OptionSpec>& TextCnn::optionSpecs() {
  static const std::vector<OptionSpec> specs = nn::withTrainingOptions({
      {"factors", "int", "64", 1, 512, {}, "latent dimensions of the item vectors (and of the inner iALS model)"},
      {"embedding_dim", "int", "32", 1, 512, {}, "word embedding size"},
      {"filters", "int", "32", 1, 1024, {}, "convolution filters per window width"},
      {"min_width", "int", "1", 1, 16, {}, "smallest convolution window (tokens)"},
      {"max_width", "int", "3", 1, 16, {}, "largest convolution window (tokens); one Conv1d per width in [min_width, max_width]"},
      {"activation", "choice", "relu", 0, 0, {"relu", "tanh"}, "non-linearity after each convolution"},
      {"output", "choice", "linear", 0, 0, {"linear", "tanh"}, "item vector = Dense output as is, or tanh of it"},
      {"dropout", "float", "0.2", 0, 0.95, {}, "dropout on the pooled features during training"},
      {"max_tokens", "int", "64", 1, 10000, {}, "tokens per item text; longer texts are truncated to their first max_tokens"},
      {"max_vocab", "int", "20000", 1, 1e7, {}, "keep at most this many words (the most frequent by item count); others share the unknown-word id"},
      {"min_count", "int", "2", 1, 1e6, {}, "keep words found in at least this many catalog item texts"},
      {"l2", "float", "0.0001", 0, 100, {}, "L2 penalty l2/2 |w|^2 on the weights (embedding rows of the batch, conv, dense)"},
      {"blend_weight", "float", "0.2", 0, 1, {}, "item with interactions: (1 - b) * CF vector + b * CNN vector"},
      {"cf_iterations", "int", "15", 1, 1000, {}, "iterations of the inner iALS fit"},
      {"cf_reg", "float", "50", 1e-6, 1e6, {}, "iALS regularisation (fit and history fold-in)"},
      {"cf_alpha", "float", "2", 0, 1e6, {}, "iALS confidence slope c = 1 + alpha * value (fit and fold-in)"},
  }, kTraining);
  return specs;
}

TextCnn::TextCnn(const OptionMap& options) : TextCnn(OptionReader("text_cnn", optionSpecs(), options)) {}

TextCnn::TextCnn(const OptionReader& reader)
    : Recommender(reader.resolved()),
      factors_(reader.getInt("factors")),
      embeddingDim_(reader.getInt("embedding_dim")),
      filters_(reader.getInt("filters")),
      minWidth_(reader.getInt("min_width")),
      maxWidth_(reader.getInt("max_width")),
      maxTokens_(reader.getInt("max_tokens")),
      maxVocab_(reader.getInt("max_vocab")),
      minCount_(reader.getInt("min_count")),
      tanhActivation_(reader.getChoice("activation") == "tanh"),
      tanhOutput_(reader.getChoice("output") == "tanh"),
      dropout_(reader.getFloat("dropout")),
      blendWeight_(reader.getFloat("blend_weight")),
      l2_(reader.getFloat("l2")),
      training_(nn::readTrainingOptions(reader, kTraining)),
      cfIterations_(reader.getInt("cf_iterations")),
      cfReg_(reader.getFloat("cf_reg")),
      cfAlpha_(reader.getFloat("cf_alpha")) {
  reader.finish();
  if (maxWidth_ < minWidth_)
    fail<InvalidArgument>("text_cnn: option max_width (", maxWidth_, ") must be >= min_width (", minWidth_, ")");
}

TextCnn::~TextCnn() = default;

void TextCnn::buildNetwork() {
  const size_t V = vocab_.size() + 2, D = static_cast<size_t>(embeddingDim_), F = static_cast<size_t>(filters_);
  embedding_ = nn::Embedding(V, D);
  convs_.clear();
  for (int w = minWidth_; w <= maxWidth_; ++w) convs_.emplace_back(D, F, static_cast<size_t>(w));
  dense_ = nn::Dense(convs_.size() * F, static_cast<size_t>(factors_));
}

void TextCnn::buildFolder(std::vector<float> meanUser) {
  meanUser_ = meanUser;
  folder_ = std::make_unique<Ials>(OptionMap{{"factors", std::to_string(factors_)},
                                             {"reg", exactText(cfReg_)},
                                             {"alpha", exactText(cfAlpha_)}});
  // One "user", the mean training user: Ials's fallback for uninformative histories.
  folder_->setFactors(1, static_cast<Index>(vectors_.size() / static_cast<size_t>(factors_)), std::move(meanUser),
                      vectors_);
}

std::vector<Index> TextCnn::wordIds(const std::string& text) const {
  std::vector<Index> ids;
  for (const std::string& token : tokenize(text, static_cast<size_t>(maxTokens_))) {
    const auto it = std::lower_bound(vocab_.begin(), vocab_.end(), token);
    ids.push_back(it != vocab_.end() && *it == token ? static_cast<Index>(it - vocab_.begin()) + 2 : kUnknownId);
  }
  return ids;
}

void TextCnn::embedTexts(const std::vector<std::vector<Index>>& words, std::vector<float>& out) const {
  const size_t k = static_cast<size_t>(factors_), F = static_cast<size_t>(filters_);
  out.assign(words.size() * k, 0.0f);
  std::vector<Index> order;
  for (size_t i = 0; i < words.size(); ++i)
    if (!words[i].empty()) order.push_back(static_cast<Index>(i));
  // Similar lengths share a batch, so little padding is convolved.
  std::stable_sort(order.begin(), order.end(),
                   [&](Index a, Index b) { return words[static_cast<size_t>(a)].size() < words[static_cast<size_t>(b)].size(); });
  Batch batch;
  nn::Matrix x, y, cols, h, z;
  for (size_t start = 0; start < order.size(); start += kInferBatch) {
    const std::span<const Index> items(order.data() + start, std::min(kInferBatch, order.size() - start));
    batch.build(words, items);
    embedding_.forward(batch.ids, x);
    h.resize(items.size(), convs_.size() * F);
    for (size_t j = 0; j < convs_.size(); ++j) {
      convs_[j].infer(x, batch.steps, y, cols);
      activate(y, tanhActivation_);
      maskedMaxPool(y, nn::Conv1d::outputSteps(batch.steps, convs_[j].width()), batch.valid(convs_[j].width()), h,
                    j * F, nullptr);
    }
    dense_.forward(h, z);
    if (tanhOutput_) activate(z, true);
    for (size_t b = 0; b < items.size(); ++b) std::copy_n(z.row(b), k, out.data() + static_cast<size_t>(items[b]) * k);
  }
}

std::vector<float> TextCnn::embedText(std::span<const Index> ids) const {
  if (convs_.empty()) fail<StateError>("text_cnn.embedText: the model is not fitted; call fit() or load() first");
  for (Index id : ids)
    if (id < 0 || static_cast<size_t>(id) >= embedding_.rows())
      fail<InvalidArgument>("text_cnn.embedText: word id ", id, " outside [0, ", embedding_.rows(), ")");
  std::vector<float> out;
  embedTexts({std::vector<Index>(ids.begin(), ids.end())}, out);
  return out;
}

void TextCnn::fitImpl(const InteractionMatrix&, Progress&) {
  fail<InvalidArgument>("text_cnn.fit: needs item texts (TrainSet::itemText)");
}

void TextCnn::fitWithText(const TrainSet& train, Progress& progress) {
  const InteractionMatrix& inter = train.interactions;
  const Index numItems = inter.numItems();
  const size_t k = static_cast<size_t>(factors_), F = static_cast<size_t>(filters_),
               D = static_cast<size_t>(embeddingDim_);
  progress.report(0.0, "tokenizing");

  // 1. Vocabulary by document frequency over the catalog's texts.
  std::vector<std::vector<std::string>> tokens(static_cast<size_t>(numItems));
  std::unordered_map<std::string, int> df;
  for (Index i = 0; i < numItems; ++i) {
    tokens[static_cast<size_t>(i)] = tokenize(train.itemText->of(i), static_cast<size_t>(maxTokens_));
    std::vector<std::string> unique = tokens[static_cast<size_t>(i)];
    std::sort(unique.begin(), unique.end());
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
    for (auto& t : unique) ++df[t];
  }
  std::vector<std::pair<std::string, int>> kept;
  for (auto& [term, count] : df)
    if (count >= minCount_) kept.push_back({term, count});
  if (kept.size() > static_cast<size_t>(maxVocab_)) {
    std::sort(kept.begin(), kept.end(),
              [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    kept.resize(static_cast<size_t>(maxVocab_));
  }
  std::sort(kept.begin(), kept.end());
  vocab_.clear();
  for (auto& [term, count] : kept) vocab_.push_back(term);
  std::vector<std::vector<Index>> words(static_cast<size_t>(numItems));
  for (Index i = 0; i < numItems; ++i)
    for (const std::string& token : tokens[static_cast<size_t>(i)]) {
      const auto it = std::lower_bound(vocab_.begin(), vocab_.end(), token);
      words[static_cast<size_t>(i)].push_back(
          it != vocab_.end() && *it == token ? static_cast<Index>(it - vocab_.begin()) + 2 : kUnknownId);
    }
  tokens.clear();

  // 2. The inner iALS model: the regression targets (progress 0.02 .. 0.2).
  Ials cf(OptionMap{{"factors", std::to_string(factors_)},
                    {"iterations", std::to_string(cfIterations_)},
                    {"reg", exactText(cfReg_)},
                    {"alpha", exactText(cfAlpha_)},
                    {"seed", std::to_string(training_.seed)}});
  {
    Progress inner([&](double fraction, const std::string&) {
      progress.report(0.02 + 0.18 * fraction, "cf");
      return false;
    });
    cf.fit(inter, inner);
  }
  cfItems_ = cf.itemFactors();
  std::vector<float> meanUser(k, 0.0f);
  {
    std::vector<double> sum(k, 0.0);
    const auto& users = cf.userFactors();
    for (Index u = 0; u < cf.numUsers(); ++u)
      for (size_t d = 0; d < k; ++d) sum[d] += users[static_cast<size_t>(u) * k + d];
    for (size_t d = 0; d < k; ++d) meanUser[d] = static_cast<float>(sum[d] / std::max<Index>(cf.numUsers(), 1));
  }

  // 3. The CNN regression onto the item factors.
  buildNetwork();
  Rng rng(training_.seed);
  embedding_.init(rng, 0.1f);
  std::fill_n(embedding_.table.value.row(kPadId), D, 0.0f);
  for (auto& conv : convs_) conv.init(rng);
  dense_.init(rng);

  const Csr& byItem = inter.byItem();
  std::vector<Index> trainItems;
  std::vector<float> confidence(static_cast<size_t>(numItems), 0.0f);
  for (Index i = 0; i < numItems; ++i) {
    const auto n = byItem.rowSize(i);
    confidence[static_cast<size_t>(i)] = static_cast<float>(std::log1p(static_cast<double>(n)));
    if (n > 0 && !words[static_cast<size_t>(i)].empty()) trainItems.push_back(i);
  }

  // The final item vectors from the current weights (see the header), and the fold-in model over them.
  auto finishVectors = [&] {
    std::vector<float> cnn;
    embedTexts(words, cnn);
    vectors_.assign(static_cast<size_t>(numItems) * k, 0.0f);
    for (Index i = 0; i < numItems; ++i) {
      const size_t off = static_cast<size_t>(i) * k;
      const bool warm = byItem.rowSize(i) > 0, text = !words[static_cast<size_t>(i)].empty();
      for (size_t d = 0; d < k; ++d)
        vectors_[off + d] = !warm ? cnn[off + d]
                            : text ? static_cast<float>((1 - blendWeight_) * cfItems_[off + d] + blendWeight_ * cnn[off + d])
                                   : cfItems_[off + d];
    }
    buildFolder(meanUser);
  };

  auto optimizer = nn::makeOptimizer(training_.optimizerConfig());
  std::vector<nn::Parameter*> dense;
  for (auto& conv : convs_) dense.insert(dense.end(), {&conv.weight, &conv.bias});
  dense.insert(dense.end(), {&dense_.weight, &dense_.bias});
  std::vector<nn::Parameter*> params = dense;
  params.push_back(&embedding_.table);
  nn::EpochCheckpoint checkpoint(params);

  const size_t B = static_cast<size_t>(training_.batchSize);
  nn::Dropout drop(static_cast<float>(dropout_));
  nn::SparseRows dEmb;
  dEmb.reset(embedding_.rows(), D, B * static_cast<size_t>(maxTokens_));
  Batch batch;
  nn::Matrix x, h, hd, z, dz, dh, dy, dxj, dx;
  std::vector<nn::Matrix> y(convs_.size());
  std::vector<std::vector<int32_t>> argmax(convs_.size());
  const float l2 = static_cast<float>(l2_);
  std::vector<Index> order = trainItems;
  auto runEpoch = [&](nn::TrainingEpoch& epoch) {
    const std::string& hint = epoch.hint();
    rng.shuffle(order.begin(), order.end());
    for (size_t start = 0; start < order.size(); start += B) {
      const std::span<const Index> items(order.data() + start, std::min(B, order.size() - start));
      const size_t n = items.size();
      epoch.batch(n);
      batch.build(words, items);
      embedding_.forward(batch.ids, x);
      h.resize(n, convs_.size() * F);
      for (size_t j = 0; j < convs_.size(); ++j) {
        convs_[j].forward(x, batch.steps, y[j]);
        activate(y[j], tanhActivation_);
        maskedMaxPool(y[j], nn::Conv1d::outputSteps(batch.steps, convs_[j].width()), batch.valid(convs_[j].width()),
                      h, j * F, &argmax[j]);
      }
      drop.forward(h, hd, true, rng);
      dense_.forward(hd, z);
      if (tanhOutput_) activate(z, true);
      // Weighted squared error, normalised by the batch's total confidence.
      double csum = 0;
      for (Index i : items) csum += confidence[static_cast<size_t>(i)];
      double loss = 0;
      dz.resize(n, k);
      for (size_t b = 0; b < n; ++b) {
        const float c = static_cast<float>(confidence[static_cast<size_t>(items[b])] / csum);
        const float* target = cfItems_.data() + static_cast<size_t>(items[b]) * k;
        for (size_t d = 0; d < k; ++d) {
          const float r = z(b, d) - target[d];
          loss += static_cast<double>(c) * r * r;
          dz(b, d) = 2.0f * c * r;
        }
      }
      nn::requireFinite(static_cast<float>(loss), "text_cnn training loss", hint);
      if (tanhOutput_) activateBackward(z, dz, true);

      for (auto* p : dense) p->zeroGrad();
      dense_.backward(hd, dz, &dh);
      drop.backward(dh, dh);
      dx.resize(x.rows(), D);
      dx.setZero();
      for (size_t j = 0; j < convs_.size(); ++j) {
        maskedMaxPoolBackward(dh, j * F, argmax[j], y[j].rows(), F, dy);
        activateBackward(y[j], dy, tanhActivation_);
        convs_[j].backward(dy, &dxj);
        const size_t m = dx.size();
        float* acc = dx.data();
        const float* add = dxj.data();
        for (size_t e = 0; e < m; ++e) acc[e] += add[e];
      }
      dEmb.clear();
      embedding_.backward(batch.ids, dx, dEmb);
      if (l2 > 0) {
        for (auto* p : dense) {
          float* g = p->grad.data();
          const float* w = p->value.data();
          for (size_t e = 0; e < p->value.size(); ++e) g[e] += l2 * w[e];
        }
        for (size_t s = 0; s < dEmb.size(); ++s) {
          float* g = dEmb.row(s);
          const float* w = embedding_.table.value.row(static_cast<size_t>(dEmb.ids()[s]));
          for (size_t d = 0; d < D; ++d) g[d] += l2 * w[d];
        }
      }
      for (auto* p : dense) nn::requireFiniteGrad(*p, hint);
      nn::requireFinite(dEmb, "text_cnn embedding gradient", hint);
      for (auto* p : dense) optimizer->step(*p);
      optimizer->stepRows(embedding_.table, dEmb);
      std::fill_n(embedding_.table.value.row(kPadId), D, 0.0f);  // padding stays zero
    }
  };
  nn::EpochLoopConfig loop{trainItems.empty() ? 0 : training_.epochs, static_cast<double>(trainItems.size())};
  loop.progressFrom = 0.2;
  loop.progressSpan = 0.75;
  nn::runEpochs(loop, checkpoint, progress, runEpoch, [&] {
    // Keep the last good weights usable: finish the vectors, then report.
    finishVectors();
    setFitted(numItems);
  });

  // 4. The final item vectors.
  progress.report(0.95, "embedding");
  finishVectors();
  progress.report(1.0, "done");
}

void TextCnn::scoreImpl(const History& history, std::span<float> out) const {
  folder_->score(history, out);
}

std::vector<Contribution> TextCnn::explainImpl(const History& history, Index item, size_t maxCount) const {
  return folder_->explain(history, item, maxCount);
}

void TextCnn::save(Writer& out) const {
  if (!fitted()) fail<StateError>("text_cnn.save: the model is not fitted");
  out.u32(kLayoutVersion);
  out.i32(numItems());
  out.u32(static_cast<uint32_t>(vocab_.size()));
  for (const auto& term : vocab_) out.string(term);
  out.floats({embedding_.table.value.data(), embedding_.table.value.size()});
  for (const auto& conv : convs_) {
    out.floats({conv.weight.value.data(), conv.weight.value.size()});
    out.floats({conv.bias.value.data(), conv.bias.value.size()});
  }
  out.floats({dense_.weight.value.data(), dense_.weight.value.size()});
  out.floats({dense_.bias.value.data(), dense_.bias.value.size()});
  out.floats(vectors_);
  out.floats(meanUser_);
}

void TextCnn::loadImpl(Reader& in) {
  const uint32_t version = in.u32("text_cnn layout version");
  if (version != kLayoutVersion)
    fail<FormatError>(in.what(), ": text_cnn layout version ", version, " is not supported (this library reads ",
                      kLayoutVersion, ")");
  const int32_t numItems = in.i32("text_cnn catalog size");
  if (numItems <= 0) fail<FormatError>(in.what(), ": text_cnn catalog size ", numItems, " must be > 0");
  const uint32_t v = in.u32("text_cnn vocabulary size");
  if (v > in.remaining() / 4)
    fail<FormatError>(in.what(), ": text_cnn vocabulary size ", v, " does not fit in the ", in.remaining(),
                      " bytes left");
  std::vector<std::string> vocab;
  vocab.reserve(v);
  for (uint32_t t = 0; t < v; ++t) {
    vocab.push_back(in.string("text_cnn word", kMaxTokenBytes));
    if (t > 0 && !(vocab[t - 1] < vocab[t]))
      fail<FormatError>(in.what(), ": text_cnn vocabulary is not in strictly ascending byte order at word ", t);
  }
  // Build the shapes from the options, then read every tensor at its exact size.
  std::vector<std::string> keepVocab = vocab_;
  vocab_ = std::move(vocab);
  buildNetwork();
  auto readInto = [&](nn::Parameter& p, const char* field) {
    auto values = in.floats(field, p.value.size());
    for (size_t e = 0; e < values.size(); ++e)
      if (!std::isfinite(values[e])) fail<FormatError>(in.what(), ": ", field, " value ", e, " is not finite");
    std::copy(values.begin(), values.end(), p.value.data());
  };
  try {
    const uint64_t k = static_cast<uint64_t>(factors_);
    if (static_cast<uint64_t>(numItems) * k * 4 > in.remaining())
      fail<FormatError>(in.what(), ": text_cnn parameters are truncated (", numItems, " item vectors of ", k,
                        " need more than the ", in.remaining(), " bytes left)");
    readInto(embedding_.table, "text_cnn word embeddings");
    for (auto& conv : convs_) {
      readInto(conv.weight, "text_cnn conv weights");
      readInto(conv.bias, "text_cnn conv bias");
    }
    readInto(dense_.weight, "text_cnn dense weights");
    readInto(dense_.bias, "text_cnn dense bias");
    auto vectors = in.floats("text_cnn item vectors", static_cast<size_t>(numItems) * factors_);
    auto meanUser = in.floats("text_cnn mean user", static_cast<size_t>(factors_));
    for (size_t e = 0; e < vectors.size(); ++e)
      if (!std::isfinite(vectors[e])) fail<FormatError>(in.what(), ": text_cnn item vector value ", e, " is not finite");
    for (size_t e = 0; e < meanUser.size(); ++e)
      if (!std::isfinite(meanUser[e])) fail<FormatError>(in.what(), ": text_cnn mean user value ", e, " is not finite");
    vectors_ = std::move(vectors);
    cfItems_.clear();
    buildFolder(std::move(meanUser));
  } catch (...) {
    vocab_ = std::move(keepVocab);
    convs_.clear();
    throw;
  }
  setFitted(numItems);
}

}  // namespace localrec

#include "models/seq/caser.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/rng.h"
#include "io/serialize.h"
#include "linalg/kernels.h"
#include "models/seq/ials_start.h"
#include "nn/dropout.h"
#include "nn/finite.h"
#include "nn/loss.h"
#include "nn/optimizer.h"
#include "nn/sampler.h"

namespace localrec {

namespace {
constexpr uint32_t kLayoutVersion = 1;

// The shared training options (nn/training.h): this model's defaults and ranges.
constexpr nn::TrainingOptionDefaults kTraining{
    .optimizer = "adagrad", .learningRate = "0.01", .epochs = 3, .epochPasses = "the training examples",
    .batchSize = 32, .maxBatchSize = 8192, .batchUnit = "examples (target positions)"};

void readInto(Reader& in, const std::string& what, nn::Parameter& p) {
  auto v = in.floats(what.c_str(), p.value.size());
  for (float x : v)
    if (!std::isfinite(x)) fail<FormatError>(in.what(), ": caser ", what, " holds a non-finite value");
  std::copy(v.begin(), v.end(), p.value.data());
}

// Copies the B x w block `src` into columns [offset, offset + w) of dst (B x total), or back.
void putColumns(const nn::Matrix& src, size_t offset, nn::Matrix& dst) {
  for (size_t b = 0; b < src.rows(); ++b) std::copy_n(src.row(b), src.cols(), dst.row(b) + offset);
}
void takeColumns(const nn::Matrix& src, size_t offset, size_t width, nn::Matrix& dst) {
  dst.resize(src.rows(), width);
  for (size_t b = 0; b < src.rows(); ++b) std::copy_n(src.row(b) + offset, width, dst.row(b));
}

// grad += l2 * value over a whole parameter (dense gradient).
void addL2(nn::Parameter& p, float l2) {
  if (l2 == 0.0f) return;
  linalg::axpy(l2, p.value.data(), p.grad.data(), p.value.size());
}
// grad rows += l2 * value rows, for the rows a sparse gradient touched.
void addL2(const nn::Parameter& p, nn::SparseRows& g, float l2) {
  if (l2 == 0.0f) return;
  for (size_t s = 0; s < g.size(); ++s)
    linalg::axpy(l2, p.value.row(static_cast<size_t>(g.ids()[s])), g.row(s), p.cols());
}
}  // namespace

namespace caser_detail {
// The paper's BCE on a GRU4Rec-style candidate set (the n targets of the batch,
// then the shared negatives): row i's positive is column i, its negatives are
// the shared columns [n, c) except those equal to its target; the other rows'
// targets are NOT negatives of row i (as in-batch negatives they would be drawn
// by popularity and outnumber the positive n-1 to 1). Row loss
// softplus(-s_ii) + sum_j softplus(s_ij); returns the mean over rows and
// writes its exact gradient (zero at unused columns).
float sharedNegativeBce(const nn::Matrix& scores, std::span<const Index> candidates, size_t n, nn::Matrix& dScores) {
  const size_t c = scores.cols();
  dScores.resize(scores.rows(), c);
  dScores.setZero();
  auto softplus = [](double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); };
  auto sigmoid = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  const double scale = 1.0 / static_cast<double>(n);
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const float* s = scores.row(i);
    float* g = dScores.row(i);
    total += softplus(-s[i]);
    g[i] = static_cast<float>(-sigmoid(-s[i]) * scale);
    for (size_t j = n; j < c; ++j) {
      if (candidates[j] == candidates[i]) continue;
      total += softplus(s[j]);
      g[j] = static_cast<float>(sigmoid(s[j]) * scale);
    }
  }
  return static_cast<float>(total * scale);
}
}  // namespace caser_detail

const std::vector<OptionSpec>& Caser::optionSpecs() {
  static const std::vector<OptionSpec> specs = nn::withTrainingOptions(
      seq::withIalsStartOptions({
          {"L", "int", "5", 1, 50, {}, "the last L items of a history are convolved (horizontal filters of heights 1..L)"},
          {"d", "int", "50", 1, 1024, {}, "item embedding size (also the dense layer and the output item embeddings)"},
          {"n_h", "int", "16", 0, 1024, {}, "horizontal filters per height (0: none; n_h and n_v cannot both be 0)"},
          {"n_v", "int", "4", 0, 256, {}, "vertical filters (0: none)"},
          {"dropout", "float", "0.2", 0, 0.9, {}, "dropout on the concatenated convolution features during training"},
          {"loss", "choice", "cross-entropy", 0, 0, {"cross-entropy", "bce"},
           "bce: log-loss of the target against the shared negatives (the paper's); cross-entropy: softmax over the batch targets and the shared negatives"},
          {"negatives", "int", "256", 0, 100000, {}, "negatives shared by a mini-batch, besides the batch's own targets"},
          {"sample_alpha", "float", "0", 0, 4, {}, "negatives drawn with probability proportional to count^alpha (0: uniform)"},
          {"l2", "float", "1e-6", 0, 1, {}, "L2 penalty added to the gradients (dense weights every step, item rows when touched)"},
          {"user_vector", "choice", "none", 0, 0, {"none", "mean"},
           "the paper's user embedding: none (sequence part only) or mean (folded in: the mean of a second item embedding table over the history's last max_history items)"},
          {"max_history", "int", "200", 2, 100000, {}, "training uses each user's last max_history events (and user_vector=mean averages over as many)"},
          {"targets", "int", "1", 1, 20, {}, "each training window predicts the next `targets` items (the paper's T), one example each"},
      }, "ials"),
      kTraining);
  return specs;
}

Caser::Caser(const OptionMap& options) : Caser(OptionReader("caser", optionSpecs(), options)) {}

Caser::Caser(const OptionReader& reader)
    : Recommender(reader.resolved()),
      window_(reader.getInt("L")),
      dim_(reader.getInt("d")),
      nH_(reader.getInt("n_h")),
      nV_(reader.getInt("n_v")),
      dropout_(reader.getFloat("dropout")),
      negatives_(reader.getInt("negatives")),
      sampleAlpha_(reader.getFloat("sample_alpha")),
      loss_(reader.getChoice("loss")),
      l2_(reader.getFloat("l2")),
      userVector_(reader.getChoice("user_vector") == "mean"),
      maxHistory_(reader.getInt("max_history")),
      targets_(reader.getInt("targets")),
      ialsStart_(seq::readIalsStart(reader)),
      training_(nn::readTrainingOptions(reader, kTraining)) {
  reader.finish();
  if (nH_ == 0 && nV_ == 0)
    fail<InvalidArgument>("caser: n_h and n_v are both 0; at least one kind of filter is needed (e.g. n_h=16, n_v=4)");
}

size_t Caser::featureSize() const {
  return static_cast<size_t>(window_) * static_cast<size_t>(nH_) + static_cast<size_t>(nV_) * static_cast<size_t>(dim_);
}

void Caser::buildNetwork(Index numItems) {
  const size_t n = static_cast<size_t>(numItems), d = static_cast<size_t>(dim_), L = static_cast<size_t>(window_);
  numItemsBuilt_ = n;
  embedding_ = nn::Embedding(n + 1, d);
  embedding_.table.name = "caser item embeddings";
  horizontal_.clear();
  if (nH_ > 0)
    for (size_t h = 1; h <= L; ++h) {
      horizontal_.emplace_back(d, static_cast<size_t>(nH_), h);
      horizontal_.back().weight.name = "caser horizontal conv (height " + std::to_string(h) + ") weights";
      horizontal_.back().bias.name = "caser horizontal conv (height " + std::to_string(h) + ") bias";
    }
  vertical_ = nV_ > 0 ? nn::VerticalConv(L, static_cast<size_t>(nV_)) : nn::VerticalConv();
  vertical_.weight.name = "caser vertical conv weights";
  fc_ = nn::Dense(featureSize(), d);
  fc_.weight.name = "caser dense weights";
  fc_.bias.name = "caser dense bias";
  if (userVector_) {
    userEmbedding_ = nn::Embedding(n, d);
    userEmbedding_.table.name = "caser history (user) item embeddings";
  } else {
    userEmbedding_ = nn::Embedding();
  }
  output_ = nn::Dense(userVector_ ? 2 * d : d, n, true, nn::GradKind::kSparseRows);
  output_.weight.name = "caser output item embeddings";
  output_.bias.name = "caser output item biases";
}

std::vector<nn::Parameter*> Caser::parameters() {
  std::vector<nn::Parameter*> ps = {&embedding_.table};
  for (auto& conv : horizontal_) ps.insert(ps.end(), {&conv.weight, &conv.bias});
  if (nV_ > 0) ps.push_back(&vertical_.weight);
  ps.insert(ps.end(), {&fc_.weight, &fc_.bias, &output_.weight, &output_.bias});
  if (userVector_) ps.push_back(&userEmbedding_.table);
  return ps;
}

std::span<const float> Caser::inputEmbedding(Index item) const {
  if (!fitted() || item < 0 || item >= numItems())
    fail<InvalidArgument>("caser.inputEmbedding: item ", item, " outside the catalog [0, ", numItems(), ")");
  return {embedding_.table.value.row(static_cast<size_t>(item)), static_cast<size_t>(dim_)};
}

std::span<const float> Caser::outputEmbedding(Index item) const {
  if (!fitted() || item < 0 || item >= numItems())
    fail<InvalidArgument>("caser.outputEmbedding: item ", item, " outside the catalog [0, ", numItems(), ")");
  return {output_.weight.value.row(static_cast<size_t>(item)), output_.in()};
}

std::vector<Index> Caser::window(std::span<const Index> items) const {
  const size_t L = static_cast<size_t>(window_), keep = std::min(items.size(), L);
  std::vector<Index> ids(L - keep, paddingId());
  ids.insert(ids.end(), items.end() - static_cast<std::ptrdiff_t>(keep), items.end());
  return ids;
}

void Caser::fitImpl(const InteractionMatrix& train, Progress& progress) {
  progress.report(0.0, "init");
  const Csr& byUser = train.byUser();
  const Index nItems = train.numItems();
  const size_t L = static_cast<size_t>(window_), d = static_cast<size_t>(dim_);
  const size_t nh = static_cast<size_t>(nH_), nv = static_cast<size_t>(nV_), features = featureSize();

  // Training examples: (user, position t >= 1) over each user's last max_history events.
  auto sequenceOf = [&](Index u) {
    const auto items = byUser.rowIndices(u);
    const size_t keep = std::min(items.size(), static_cast<size_t>(maxHistory_));
    return items.subspan(items.size() - keep);
  };
  // With targets = T > 1 the window before t also predicts t+1 .. t+T-1 (one example each).
  struct Example {
    Index user;
    int32_t end;     // the window is the events before position `end`
    int32_t target;  // the position of the item to predict, end <= target < end + T
  };
  std::vector<Example> examples;
  std::vector<double> counts(static_cast<size_t>(nItems), 0.0);
  for (Index u = 0; u < train.numUsers(); ++u) {
    const auto seq = sequenceOf(u);
    for (Index i : seq) counts[static_cast<size_t>(i)] += 1.0;
    for (size_t t = 1; t < seq.size(); ++t)
      for (size_t j = t; j < std::min(seq.size(), t + static_cast<size_t>(targets_)); ++j)
        examples.push_back({u, static_cast<int32_t>(t), static_cast<int32_t>(j)});
  }
  if (examples.empty())
    fail<InvalidArgument>("caser.fit: no user has 2 or more events; a sequence model needs pairs of events");

  Rng rng(training_.seed);
  buildNetwork(nItems);
  nn::initNormal(embedding_.table.value, 1.0f / static_cast<float>(d), rng);
  std::fill_n(embedding_.table.value.row(static_cast<size_t>(nItems)), d, 0.0f);  // the padding row
  for (auto& conv : horizontal_) conv.init(rng);
  if (nv > 0) vertical_.init(rng);
  fc_.init(rng);
  nn::initNormal(output_.weight.value, 1.0f / static_cast<float>(d), rng);
  output_.bias.value.setZero();
  if (userVector_) nn::initNormal(userEmbedding_.table.value, 1.0f / static_cast<float>(d), rng);
  seq::startFromIals(ialsStart_, train, d, training_.seed, {&embedding_.table.value, &output_.weight.value}, progress,
                     0.0, seq::kIalsStartProgress);

  const nn::NegativeSampler sampler(counts, sampleAlpha_);
  auto optimizer = nn::makeOptimizer(training_.optimizerConfig());
  const float l2 = static_cast<float>(l2_);

  const size_t B = std::min(static_cast<size_t>(training_.batchSize), examples.size());
  const size_t nNeg = static_cast<size_t>(negatives_);
  const Index pad = paddingId();
  nn::Dropout drop(static_cast<float>(dropout_));
  std::vector<nn::MaxPoolTime> pools(horizontal_.size());
  nn::SparseRows dEmb, dOutW, dOutB, dUser;
  dEmb.reset(static_cast<size_t>(nItems) + 1, d, B * L);
  dOutW.reset(static_cast<size_t>(nItems), output_.in(), B + nNeg);
  if (userVector_) dUser.reset(static_cast<size_t>(nItems), d, B * L);
  std::vector<std::span<const Index>> histories;  // per row: the events before its target (user_vector=mean)
  nn::Matrix zu, dZu;
  dOutB.reset(static_cast<size_t>(nItems), 1, B + nNeg);
  std::vector<nn::Matrix> convOut(horizontal_.size()), pooled(horizontal_.size());
  nn::Matrix x, vert, concat, dropped, z, scores, dScores, dZ, dConcat, dPart, dConv, dX, dPartX;
  std::vector<Index> ids, targets, candidates;
  std::vector<int32_t> targetCol;

  std::vector<nn::Parameter*> params = parameters();
  std::vector<nn::Parameter*> denseParams;
  for (auto* p : params)
    if (p->kind == nn::GradKind::kDense && p != &embedding_.table) denseParams.push_back(p);
  nn::EpochCheckpoint checkpoint(params);

  auto runEpoch = [&](nn::TrainingEpoch& epoch) {
    const std::string& hint = epoch.hint();
    rng.shuffle(examples.begin(), examples.end());
    for (size_t start = 0; start < examples.size(); start += B) {
      const size_t n = std::min(B, examples.size() - start);
      epoch.batch(n);
      ids.resize(n * L);
      targets.resize(n);
      histories.resize(n);
      for (size_t r = 0; r < n; ++r) {
        const Example& e = examples[start + r];
        const auto seq = sequenceOf(e.user);
        const size_t pos = static_cast<size_t>(e.end), have = std::min(pos, L);
        Index* w = ids.data() + r * L;
        std::fill_n(w, L - have, pad);
        std::copy_n(seq.begin() + static_cast<std::ptrdiff_t>(pos - have), have, w + (L - have));
        targets[r] = seq[static_cast<size_t>(e.target)];
        histories[r] = seq.first(pos);
      }

      // Forward.
      embedding_.forward(ids, x);  // (n*L) x d, batch-major
      concat.resize(n, features);
      for (size_t k = 0; k < horizontal_.size(); ++k) {
        horizontal_[k].forward(x, L, convOut[k]);
        pools[k].forward(convOut[k], nn::Conv1d::outputSteps(L, k + 1), pooled[k]);
        nn::reluForward(pooled[k], pooled[k]);
        putColumns(pooled[k], k * nh, concat);
      }
      if (nv > 0) {
        vertical_.forward(x, vert);
        putColumns(vert, L * nh, concat);
      }
      drop.forward(concat, dropped, true, rng);
      fc_.forward(dropped, z);
      nn::reluForward(z, z);
      const nn::Matrix* top = &z;  // the output layer's input: z, or [z; mean history vector]
      if (userVector_) {
        zu.resize(n, 2 * d);
        for (size_t r = 0; r < n; ++r) {
          std::copy_n(z.row(r), d, zu.row(r));
          historyMean(histories[r], zu.row(r) + d);
        }
        top = &zu;
      }
      nn::buildBatchCandidates(targets, sampler, nNeg, rng, candidates, targetCol);
      output_.forwardRows(*top, candidates, scores);
      const nn::ScoreTargets st{targetCol, candidates};
      const float loss = loss_ == "bce" ? caser_detail::sharedNegativeBce(scores, candidates, n, dScores)
                                        : nn::softmaxCrossEntropy(scores, st, dScores);
      nn::requireFinite(loss, "caser training loss", hint);

      // Backward.
      dOutW.clear();
      dOutB.clear();
      dEmb.clear();
      dUser.clear();
      for (auto* p : denseParams) p->zeroGrad();
      if (userVector_) {
        output_.backwardRows(zu, candidates, dScores, &dZu, dOutW, dOutB);
        takeColumns(dZu, 0, d, dZ);
        for (size_t r = 0; r < n; ++r) {
          if (histories[r].empty()) continue;
          const float scale = 1.0f / static_cast<float>(histories[r].size());
          for (Index item : histories[r]) linalg::axpy(scale, dZu.row(r) + d, dUser.rowFor(item), d);
        }
      } else {
        output_.backwardRows(z, candidates, dScores, &dZ, dOutW, dOutB);
      }
      nn::reluBackward(z, dZ, dZ);
      fc_.backward(dropped, dZ, &dConcat);
      drop.backward(dConcat, dConcat);
      dX.resize(n * L, d);
      dX.setZero();
      for (size_t k = 0; k < horizontal_.size(); ++k) {
        takeColumns(dConcat, k * nh, nh, dPart);
        nn::reluBackward(pooled[k], dPart, dPart);
        pools[k].backward(dPart, dConv);
        horizontal_[k].backward(dConv, &dPartX);
        linalg::axpy(1.0f, dPartX.data(), dX.data(), dX.size());
      }
      if (nv > 0) {
        takeColumns(dConcat, L * nh, nv * d, dPart);
        vertical_.backward(dPart, &dPartX);
        linalg::axpy(1.0f, dPartX.data(), dX.data(), dX.size());
      }
      // The padding row stays zero: its positions send no gradient.
      for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] != pad) linalg::axpy(1.0f, dX.row(i), dEmb.rowFor(ids[i]), d);

      for (auto* p : denseParams) addL2(*p, l2);
      addL2(embedding_.table, dEmb, l2);
      addL2(output_.weight, dOutW, l2);
      if (userVector_) addL2(userEmbedding_.table, dUser, l2);
      for (auto* p : denseParams) nn::requireFiniteGrad(*p, hint);
      nn::requireFinite(dOutW, "caser output item embedding gradient", hint);
      nn::requireFinite(dOutB, "caser output item bias gradient", hint);
      nn::requireFinite(dEmb, "caser item embedding gradient", hint);
      if (userVector_) nn::requireFinite(dUser, "caser history (user) embedding gradient", hint);

      for (auto* p : denseParams) optimizer->step(*p);
      optimizer->stepRows(output_.weight, dOutW);
      optimizer->stepRows(output_.bias, dOutB);
      optimizer->stepRows(embedding_.table, dEmb);
      if (userVector_) optimizer->stepRows(userEmbedding_.table, dUser);
    }
  };
  const double trainFrom = ialsStart_.enabled ? seq::kIalsStartProgress : 0.0;
  nn::runEpochs({training_.epochs, static_cast<double>(examples.size()), trainFrom, 1.0 - trainFrom},
                checkpoint, progress, runEpoch,
                [&] { setFitted(nItems); });  // the last completed epoch's weights stay usable
  progress.report(1.0, "done");
}

void Caser::historyMean(std::span<const Index> items, float* out) const {
  const size_t d = static_cast<size_t>(dim_);
  std::fill_n(out, d, 0.0f);
  if (items.empty()) return;
  const float scale = 1.0f / static_cast<float>(items.size());
  for (Index item : items) linalg::axpy(scale, userEmbedding_.table.value.row(static_cast<size_t>(item)), out, d);
}

void Caser::topOf(std::span<const Index> items, nn::Matrix& top) const {
  const size_t d = static_cast<size_t>(dim_);
  nn::Matrix z;
  hiddenOf(window(items), z);
  if (!userVector_) {
    top = z;
    return;
  }
  top.resize(1, 2 * d);
  std::copy_n(z.data(), d, top.data());
  const size_t keep = std::min(items.size(), static_cast<size_t>(maxHistory_));
  historyMean(items.last(keep), top.data() + d);
}

void Caser::hiddenOf(std::span<const Index> windowIds, nn::Matrix& z) const {
  const size_t L = static_cast<size_t>(window_), nh = static_cast<size_t>(nH_);
  nn::Matrix x, conv, cols, pooled, vert, scratch, concat(1, featureSize());
  embedding_.forward(windowIds, x);
  for (size_t k = 0; k < horizontal_.size(); ++k) {
    horizontal_[k].infer(x, L, conv, cols);
    nn::maxPoolTime(conv, nn::Conv1d::outputSteps(L, k + 1), pooled, nullptr);
    nn::reluForward(pooled, pooled);
    putColumns(pooled, k * nh, concat);
  }
  if (nV_ > 0) {
    vertical_.infer(x, vert, scratch);
    putColumns(vert, L * nh, concat);
  }
  fc_.forward(concat, z);
  nn::reluForward(z, z);
}

void Caser::scoreImpl(const History& history, std::span<float> out) const {
  nn::Matrix top;
  topOf(history.items, top);
  std::copy_n(output_.bias.value.data(), out.size(), out.begin());
  linalg::gemv(output_.weight.value.data(), out.size(), output_.in(), output_.in(), top.data(), out.data(), 1.0f);
}

std::vector<Contribution> Caser::explainImpl(const History& history, Index item, size_t maxCount) const {
  const auto& items = history.items;
  const size_t L = static_cast<size_t>(window_), first = items.size() - std::min(items.size(), L);
  const float* w = output_.weight.value.row(static_cast<size_t>(item));
  nn::Matrix top;
  auto itemScore = [&](std::span<const Index> seq) {
    topOf(seq, top);
    return output_.bias.value.data()[item] + linalg::dot(top.data(), w, output_.in());
  };
  const float full = itemScore(items);
  std::vector<Contribution> out;
  std::vector<Index> without;
  for (size_t p = first; p < items.size(); ++p) {
    without.assign(items.begin(), items.end());
    without.erase(without.begin() + static_cast<std::ptrdiff_t>(p));
    out.push_back({static_cast<Index>(p), full - itemScore(without)});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Contribution& a, const Contribution& b) { return a.weight > b.weight; });
  if (out.size() > maxCount) out.resize(maxCount);
  return out;
}

void Caser::save(Writer& out) const {
  out.u32(kLayoutVersion);
  out.i32(numItems());
  out.i32(window_);
  out.i32(dim_);
  out.i32(nH_);
  out.i32(nV_);
  out.i32(userVector_ ? 1 : 0);
  auto write = [&](const nn::Parameter& p) { out.floats(std::span<const float>(p.value.data(), p.value.size())); };
  write(embedding_.table);
  if (userVector_) write(userEmbedding_.table);
  for (const auto& conv : horizontal_) {
    write(conv.weight);
    write(conv.bias);
  }
  if (nV_ > 0) write(vertical_.weight);
  write(fc_.weight);
  write(fc_.bias);
  write(output_.weight);
  write(output_.bias);
}

void Caser::loadImpl(Reader& in) {
  const uint32_t version = in.u32("caser layout version");
  if (version != kLayoutVersion)
    fail<FormatError>(in.what(), ": caser layout version ", version, " is not supported (expected ", kLayoutVersion,
                      ")");
  const int32_t items = in.i32("items"), L = in.i32("L"), d = in.i32("d"), nh = in.i32("n_h"), nv = in.i32("n_v");
  const int32_t user = in.i32("user_vector");
  if (items <= 0) fail<FormatError>(in.what(), ": a caser model over ", items, " items");
  if (L != window_ || d != dim_ || nh != nH_ || nv != nV_ || user != (userVector_ ? 1 : 0))
    fail<FormatError>(in.what(), ": the parameters have L ", L, ", d ", d, ", n_h ", nh, ", n_v ", nv,
                      ", user_vector ", user, "; the options say ", window_, ", ", dim_, ", ", nH_, ", ", nV_, ", ",
                      userVector_ ? 1 : 0);
  buildNetwork(items);
  readInto(in, "item embeddings", embedding_.table);
  if (userVector_) readInto(in, "history (user) item embeddings", userEmbedding_.table);
  for (size_t k = 0; k < horizontal_.size(); ++k) {
    const std::string h = "horizontal conv (height " + std::to_string(k + 1) + ") ";
    readInto(in, h + "weights", horizontal_[k].weight);
    readInto(in, h + "bias", horizontal_[k].bias);
  }
  if (nV_ > 0) readInto(in, "vertical conv weights", vertical_.weight);
  readInto(in, "dense weights", fc_.weight);
  readInto(in, "dense bias", fc_.bias);
  readInto(in, "output item embeddings", output_.weight);
  readInto(in, "output item biases", output_.bias);
  const float* padRow = embedding_.table.value.row(static_cast<size_t>(items));
  if (std::any_of(padRow, padRow + dim_, [](float v) { return v != 0.0f; }))
    fail<FormatError>(in.what(), ": caser padding embedding row is not zero");
  setFitted(items);
}

}  // namespace localrec

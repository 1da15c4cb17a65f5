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
constexpr uint32_t kLayoutVersion = 2;  // 1: before `networks` (one network, no count field)

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
uint64_t networkSeed(Rng& stream) { return stream.next() & 0x7fffffffu; }

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
          {"networks", "int", "2", 1, 16, {},
           "independently trained networks whose scores are averaged, each with its own seed (the first: seed) for its "
           "iALS start, initialization and sampling; fit time and model size grow in proportion"},
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
      networks_(reader.getInt("networks")),
      ialsStart_(seq::readIalsStart(reader)),
      training_(nn::readTrainingOptions(reader, kTraining)) {
  reader.finish();
  if (nH_ == 0 && nV_ == 0)
    fail<InvalidArgument>("caser: n_h and n_v are both 0; at least one kind of filter is needed (e.g. n_h=16, n_v=4)");
}

size_t Caser::featureSize() const {
  return static_cast<size_t>(window_) * static_cast<size_t>(nH_) + static_cast<size_t>(nV_) * static_cast<size_t>(dim_);
}

Caser::Network Caser::buildNetwork(Index numItems) const {
  const size_t n = static_cast<size_t>(numItems), d = static_cast<size_t>(dim_), L = static_cast<size_t>(window_);
  Network net;
  net.embedding = nn::Embedding(n + 1, d);
  net.embedding.table.name = "caser item embeddings";
  if (nH_ > 0)
    for (size_t h = 1; h <= L; ++h) {
      net.horizontal.emplace_back(d, static_cast<size_t>(nH_), h);
      net.horizontal.back().weight.name = "caser horizontal conv (height " + std::to_string(h) + ") weights";
      net.horizontal.back().bias.name = "caser horizontal conv (height " + std::to_string(h) + ") bias";
    }
  net.vertical = nV_ > 0 ? nn::VerticalConv(L, static_cast<size_t>(nV_)) : nn::VerticalConv();
  net.vertical.weight.name = "caser vertical conv weights";
  net.fc = nn::Dense(featureSize(), d);
  net.fc.weight.name = "caser dense weights";
  net.fc.bias.name = "caser dense bias";
  if (userVector_) {
    net.userEmbedding = nn::Embedding(n, d);
    net.userEmbedding.table.name = "caser history (user) item embeddings";
  }
  net.output = nn::Dense(userVector_ ? 2 * d : d, n, true, nn::GradKind::kSparseRows);
  net.output.weight.name = "caser output item embeddings";
  net.output.bias.name = "caser output item biases";
  return net;
}

std::vector<nn::Parameter*> Caser::parameters(Network& net) const {
  std::vector<nn::Parameter*> ps = {&net.embedding.table};
  for (auto& conv : net.horizontal) ps.insert(ps.end(), {&conv.weight, &conv.bias});
  if (nV_ > 0) ps.push_back(&net.vertical.weight);
  ps.insert(ps.end(), {&net.fc.weight, &net.fc.bias, &net.output.weight, &net.output.bias});
  if (userVector_) ps.push_back(&net.userEmbedding.table);
  return ps;
}

const Caser::Network& Caser::network(size_t k, const char* caller) const {
  if (!fitted() || k >= nets_.size())
    fail<InvalidArgument>("caser.", caller, ": network ", k, " outside [0, ", fitted() ? nets_.size() : 0,
                          ") (the model is ", fitted() ? "fitted" : "not fitted", ")");
  return nets_[k];
}

std::span<const float> Caser::inputEmbedding(Index item, size_t k) const {
  const Network& net = network(k, "inputEmbedding");
  if (item < 0 || item >= numItems())
    fail<InvalidArgument>("caser.inputEmbedding: item ", item, " outside the catalog [0, ", numItems(), ")");
  return {net.embedding.table.value.row(static_cast<size_t>(item)), static_cast<size_t>(dim_)};
}

std::span<const float> Caser::outputEmbedding(Index item, size_t k) const {
  const Network& net = network(k, "outputEmbedding");
  if (item < 0 || item >= numItems())
    fail<InvalidArgument>("caser.outputEmbedding: item ", item, " outside the catalog [0, ", numItems(), ")");
  return {net.output.weight.value.row(static_cast<size_t>(item)), net.output.in()};
}

std::vector<Index> Caser::window(std::span<const Index> items) const {
  const size_t L = static_cast<size_t>(window_), keep = std::min(items.size(), L);
  std::vector<Index> ids(L - keep, paddingId());
  ids.insert(ids.end(), items.end() - static_cast<std::ptrdiff_t>(keep), items.end());
  return ids;
}

std::span<const Index> Caser::trainingSequence(const InteractionMatrix& train, Index user) const {
  const auto items = train.byUser().rowIndices(user);
  const size_t keep = std::min(items.size(), static_cast<size_t>(maxHistory_));
  return items.subspan(items.size() - keep);
}

void Caser::fitImpl(const InteractionMatrix& train, Progress& progress) {
  progress.report(0.0, "init");
  const Index nItems = train.numItems();

  // Training examples: (user, position t >= 1) over each user's last max_history events.
  // With targets = T > 1 the window before t also predicts t+1 .. t+T-1 (one example each).
  std::vector<Example> examples;
  std::vector<double> counts(static_cast<size_t>(nItems), 0.0);
  for (Index u = 0; u < train.numUsers(); ++u) {
    const auto seq = trainingSequence(train, u);
    for (Index i : seq) counts[static_cast<size_t>(i)] += 1.0;
    for (size_t t = 1; t < seq.size(); ++t)
      for (size_t j = t; j < std::min(seq.size(), t + static_cast<size_t>(targets_)); ++j)
        examples.push_back({u, static_cast<int32_t>(t), static_cast<int32_t>(j)});
  }
  if (examples.empty())
    fail<InvalidArgument>("caser.fit: no user has 2 or more events; a sequence model needs pairs of events");

  const nn::NegativeSampler sampler(counts, sampleAlpha_);

  // The networks one after another, each on its own seed and share of the progress. When one
  // stops on a non-finite value, the model keeps the networks trained so far, the failing one
  // included if it completed an epoch, and stays fitted unless it has none.
  numItemsBuilt_ = static_cast<size_t>(nItems);
  nets_.clear();
  nets_.reserve(static_cast<size_t>(networks_));
  const double share = 1.0 / networks_;
  Rng seedStream(training_.seed);
  for (int k = 0; k < networks_; ++k) {
    const uint64_t seed = k == 0 ? training_.seed : caser_detail::networkSeed(seedStream);
    nets_.push_back(buildNetwork(nItems));
    bool kept = false;
    try {
      trainNetwork(nets_.back(), train, examples, sampler, seed, progress, k * share, share,
                   [&] { kept = true; });
    } catch (const nn::NonFiniteError& e) {
      if (!kept) nets_.pop_back();
      if (!nets_.empty()) setFitted(nItems);
      if (networks_ == 1) throw;
      throw nn::NonFiniteError("caser network " + std::to_string(k + 1) + " of " + std::to_string(networks_) +
                               " (the model keeps " + std::to_string(nets_.size()) + "): " + e.what());
    } catch (...) {
      nets_.clear();  // cancelled or failed: the model is not fitted, so free the partial networks
      throw;
    }
  }
  progress.report(1.0, "done");
}

void Caser::trainNetwork(Network& net, const InteractionMatrix& train, const std::vector<Example>& allExamples,
                         const nn::NegativeSampler& sampler, uint64_t seed, Progress& progress, double from,
                         double span, const std::function<void()>& restored) {
  const Index nItems = train.numItems();
  const size_t L = static_cast<size_t>(window_), d = static_cast<size_t>(dim_);
  const size_t nh = static_cast<size_t>(nH_), nv = static_cast<size_t>(nV_), features = featureSize();
  std::vector<Example> examples = allExamples;  // every network shuffles the same starting order

  Rng rng(seed);
  nn::initNormal(net.embedding.table.value, 1.0f / static_cast<float>(d), rng);
  std::fill_n(net.embedding.table.value.row(static_cast<size_t>(nItems)), d, 0.0f);  // the padding row
  for (auto& conv : net.horizontal) conv.init(rng);
  if (nv > 0) net.vertical.init(rng);
  net.fc.init(rng);
  nn::initNormal(net.output.weight.value, 1.0f / static_cast<float>(d), rng);
  net.output.bias.value.setZero();
  if (userVector_) nn::initNormal(net.userEmbedding.table.value, 1.0f / static_cast<float>(d), rng);
  const double ialsSpan = ialsStart_.enabled ? seq::kIalsStartProgress * span : 0.0;
  seq::startFromIals(ialsStart_, train, d, static_cast<int>(seed & 0x7fffffffu),
                     {&net.embedding.table.value, &net.output.weight.value}, progress, from, ialsSpan);

  auto optimizer = nn::makeOptimizer(training_.optimizerConfig());
  const float l2 = static_cast<float>(l2_);

  const size_t B = std::min(static_cast<size_t>(training_.batchSize), examples.size());
  const size_t nNeg = static_cast<size_t>(negatives_);
  const Index pad = paddingId();
  nn::Dropout drop(static_cast<float>(dropout_));
  std::vector<nn::MaxPoolTime> pools(net.horizontal.size());
  nn::SparseRows dEmb, dOutW, dOutB, dUser;
  dEmb.reset(static_cast<size_t>(nItems) + 1, d, B * L);
  dOutW.reset(static_cast<size_t>(nItems), net.output.in(), B + nNeg);
  if (userVector_) dUser.reset(static_cast<size_t>(nItems), d, B * L);
  std::vector<std::span<const Index>> histories;  // per row: the events before its target (user_vector=mean)
  nn::Matrix zu, dZu;
  dOutB.reset(static_cast<size_t>(nItems), 1, B + nNeg);
  std::vector<nn::Matrix> convOut(net.horizontal.size()), pooled(net.horizontal.size());
  nn::Matrix x, vert, concat, dropped, z, scores, dScores, dZ, dConcat, dPart, dConv, dX, dPartX;
  std::vector<Index> ids, targets, candidates;
  std::vector<int32_t> targetCol;

  std::vector<nn::Parameter*> params = parameters(net);
  std::vector<nn::Parameter*> denseParams;
  for (auto* p : params)
    if (p->kind == nn::GradKind::kDense && p != &net.embedding.table) denseParams.push_back(p);
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
        const auto seq = trainingSequence(train, e.user);
        const size_t pos = static_cast<size_t>(e.end), have = std::min(pos, L);
        Index* w = ids.data() + r * L;
        std::fill_n(w, L - have, pad);
        std::copy_n(seq.begin() + static_cast<std::ptrdiff_t>(pos - have), have, w + (L - have));
        targets[r] = seq[static_cast<size_t>(e.target)];
        histories[r] = seq.first(pos);
      }

      // Forward.
      net.embedding.forward(ids, x);  // (n*L) x d, batch-major
      concat.resize(n, features);
      for (size_t k = 0; k < net.horizontal.size(); ++k) {
        net.horizontal[k].forward(x, L, convOut[k]);
        pools[k].forward(convOut[k], nn::Conv1d::outputSteps(L, k + 1), pooled[k]);
        nn::reluForward(pooled[k], pooled[k]);
        putColumns(pooled[k], k * nh, concat);
      }
      if (nv > 0) {
        net.vertical.forward(x, vert);
        putColumns(vert, L * nh, concat);
      }
      drop.forward(concat, dropped, true, rng);
      net.fc.forward(dropped, z);
      nn::reluForward(z, z);
      const nn::Matrix* top = &z;  // the output layer's input: z, or [z; mean history vector]
      if (userVector_) {
        zu.resize(n, 2 * d);
        for (size_t r = 0; r < n; ++r) {
          std::copy_n(z.row(r), d, zu.row(r));
          historyMean(net, histories[r], zu.row(r) + d);
        }
        top = &zu;
      }
      nn::buildBatchCandidates(targets, sampler, nNeg, rng, candidates, targetCol);
      net.output.forwardRows(*top, candidates, scores);
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
        net.output.backwardRows(zu, candidates, dScores, &dZu, dOutW, dOutB);
        takeColumns(dZu, 0, d, dZ);
        for (size_t r = 0; r < n; ++r) {
          if (histories[r].empty()) continue;
          const float scale = 1.0f / static_cast<float>(histories[r].size());
          for (Index item : histories[r]) linalg::axpy(scale, dZu.row(r) + d, dUser.rowFor(item), d);
        }
      } else {
        net.output.backwardRows(z, candidates, dScores, &dZ, dOutW, dOutB);
      }
      nn::reluBackward(z, dZ, dZ);
      net.fc.backward(dropped, dZ, &dConcat);
      drop.backward(dConcat, dConcat);
      dX.resize(n * L, d);
      dX.setZero();
      for (size_t k = 0; k < net.horizontal.size(); ++k) {
        takeColumns(dConcat, k * nh, nh, dPart);
        nn::reluBackward(pooled[k], dPart, dPart);
        pools[k].backward(dPart, dConv);
        net.horizontal[k].backward(dConv, &dPartX);
        linalg::axpy(1.0f, dPartX.data(), dX.data(), dX.size());
      }
      if (nv > 0) {
        takeColumns(dConcat, L * nh, nv * d, dPart);
        net.vertical.backward(dPart, &dPartX);
        linalg::axpy(1.0f, dPartX.data(), dX.data(), dX.size());
      }
      // The padding row stays zero: its positions send no gradient.
      for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] != pad) linalg::axpy(1.0f, dX.row(i), dEmb.rowFor(ids[i]), d);

      for (auto* p : denseParams) addL2(*p, l2);
      addL2(net.embedding.table, dEmb, l2);
      addL2(net.output.weight, dOutW, l2);
      if (userVector_) addL2(net.userEmbedding.table, dUser, l2);
      for (auto* p : denseParams) nn::requireFiniteGrad(*p, hint);
      nn::requireFinite(dOutW, "caser output item embedding gradient", hint);
      nn::requireFinite(dOutB, "caser output item bias gradient", hint);
      nn::requireFinite(dEmb, "caser item embedding gradient", hint);
      if (userVector_) nn::requireFinite(dUser, "caser history (user) embedding gradient", hint);

      for (auto* p : denseParams) optimizer->step(*p);
      optimizer->stepRows(net.output.weight, dOutW);
      optimizer->stepRows(net.output.bias, dOutB);
      optimizer->stepRows(net.embedding.table, dEmb);
      if (userVector_) optimizer->stepRows(net.userEmbedding.table, dUser);
    }
  };
  nn::runEpochs({training_.epochs, static_cast<double>(examples.size()), from + ialsSpan, span - ialsSpan},
                checkpoint, progress, runEpoch, restored);  // the last completed epoch's weights stay usable
}

void Caser::historyMean(const Network& net, std::span<const Index> items, float* out) const {
  const size_t d = static_cast<size_t>(dim_);
  std::fill_n(out, d, 0.0f);
  if (items.empty()) return;
  const float scale = 1.0f / static_cast<float>(items.size());
  for (Index item : items) linalg::axpy(scale, net.userEmbedding.table.value.row(static_cast<size_t>(item)), out, d);
}

void Caser::topOf(const Network& net, std::span<const Index> items, nn::Matrix& top) const {
  const size_t d = static_cast<size_t>(dim_);
  nn::Matrix z;
  hiddenOf(net, window(items), z);
  if (!userVector_) {
    top = z;
    return;
  }
  top.resize(1, 2 * d);
  std::copy_n(z.data(), d, top.data());
  const size_t keep = std::min(items.size(), static_cast<size_t>(maxHistory_));
  historyMean(net, items.last(keep), top.data() + d);
}

void Caser::hiddenOf(const Network& net, std::span<const Index> windowIds, nn::Matrix& z) const {
  const size_t L = static_cast<size_t>(window_), nh = static_cast<size_t>(nH_);
  nn::Matrix x, conv, cols, pooled, vert, scratch, concat(1, featureSize());
  net.embedding.forward(windowIds, x);
  for (size_t k = 0; k < net.horizontal.size(); ++k) {
    net.horizontal[k].infer(x, L, conv, cols);
    nn::maxPoolTime(conv, nn::Conv1d::outputSteps(L, k + 1), pooled, nullptr);
    nn::reluForward(pooled, pooled);
    putColumns(pooled, k * nh, concat);
  }
  if (nV_ > 0) {
    net.vertical.infer(x, vert, scratch);
    putColumns(vert, L * nh, concat);
  }
  net.fc.forward(concat, z);
  nn::reluForward(z, z);
}

// The scores are the mean of the networks' scores (with one network, exactly its scores).
void Caser::scoreImpl(const History& history, std::span<float> out) const {
  nn::Matrix top;
  std::vector<float> one(nets_.size() > 1 ? out.size() : 0);
  for (size_t k = 0; k < nets_.size(); ++k) {
    const Network& net = nets_[k];
    std::span<float> target = k == 0 ? out : std::span<float>(one);
    topOf(net, history.items, top);
    std::copy_n(net.output.bias.value.data(), target.size(), target.begin());
    linalg::gemv(net.output.weight.value.data(), target.size(), net.output.in(), net.output.in(), top.data(),
                 target.data(), 1.0f);
    if (k > 0) linalg::axpy(1.0f, one.data(), out.data(), out.size());
  }
  if (nets_.size() > 1) {
    const float mean = 1.0f / static_cast<float>(nets_.size());
    for (float& v : out) v *= mean;
  }
}

std::vector<Contribution> Caser::explainImpl(const History& history, Index item, size_t maxCount) const {
  const auto& items = history.items;
  const size_t L = static_cast<size_t>(window_), first = items.size() - std::min(items.size(), L);
  nn::Matrix top;
  auto itemScore = [&](std::span<const Index> seq) {  // the mean over the networks, as in score()
    float sum = 0.0f;
    for (const Network& net : nets_) {
      topOf(net, seq, top);
      sum += net.output.bias.value.data()[item] +
             linalg::dot(top.data(), net.output.weight.value.row(static_cast<size_t>(item)), net.output.in());
    }
    return nets_.size() > 1 ? sum * (1.0f / static_cast<float>(nets_.size())) : sum;  // as score() averages
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
  out.i32(static_cast<int32_t>(nets_.size()));
  auto write = [&](const nn::Parameter& p) { out.floats(std::span<const float>(p.value.data(), p.value.size())); };
  for (const Network& net : nets_) {
    write(net.embedding.table);
    if (userVector_) write(net.userEmbedding.table);
    for (const auto& conv : net.horizontal) {
      write(conv.weight);
      write(conv.bias);
    }
    if (nV_ > 0) write(net.vertical.weight);
    write(net.fc.weight);
    write(net.fc.bias);
    write(net.output.weight);
    write(net.output.bias);
  }
}

void Caser::loadImpl(Reader& in) {
  const uint32_t version = in.u32("caser layout version");
  if (version != 1 && version != kLayoutVersion)
    fail<FormatError>(in.what(), ": caser layout version ", version, " is not supported (expected 1 or ",
                      kLayoutVersion, ")");
  const int32_t items = in.i32("items"), L = in.i32("L"), d = in.i32("d"), nh = in.i32("n_h"), nv = in.i32("n_v");
  const int32_t user = in.i32("user_vector");
  if (items <= 0) fail<FormatError>(in.what(), ": a caser model over ", items, " items");
  if (L != window_ || d != dim_ || nh != nH_ || nv != nV_ || user != (userVector_ ? 1 : 0))
    fail<FormatError>(in.what(), ": the parameters have L ", L, ", d ", d, ", n_h ", nh, ", n_v ", nv,
                      ", user_vector ", user, "; the options say ", window_, ", ", dim_, ", ", nH_, ", ", nV_, ", ",
                      userVector_ ? 1 : 0);
  // Layout 1 (before `networks`) holds one network. A fit stopped by a non-finite value can
  // leave fewer networks than the option asks for, so any count from 1 to `networks` loads.
  const int32_t count = version == 1 ? 1 : in.i32("networks");
  if (count < 1 || count > networks_)
    fail<FormatError>(in.what(), ": the file holds ", count, " caser networks; expected 1 to ", networks_,
                      " (the networks option)");
  std::vector<Network> nets;
  for (int32_t k = 0; k < count; ++k) {
    const std::string of = count > 1 ? " of network " + std::to_string(k) : "";
    Network net = buildNetwork(items);
    readInto(in, "item embeddings" + of, net.embedding.table);
    if (userVector_) readInto(in, "history (user) item embeddings" + of, net.userEmbedding.table);
    for (size_t h = 0; h < net.horizontal.size(); ++h) {
      const std::string conv = "horizontal conv (height " + std::to_string(h + 1) + ") ";
      readInto(in, conv + "weights" + of, net.horizontal[h].weight);
      readInto(in, conv + "bias" + of, net.horizontal[h].bias);
    }
    if (nV_ > 0) readInto(in, "vertical conv weights" + of, net.vertical.weight);
    readInto(in, "dense weights" + of, net.fc.weight);
    readInto(in, "dense bias" + of, net.fc.bias);
    readInto(in, "output item embeddings" + of, net.output.weight);
    readInto(in, "output item biases" + of, net.output.bias);
    const float* padRow = net.embedding.table.value.row(static_cast<size_t>(items));
    if (std::any_of(padRow, padRow + dim_, [](float v) { return v != 0.0f; }))
      fail<FormatError>(in.what(), ": caser padding embedding row", of, " is not zero");
    nets.push_back(std::move(net));
  }
  nets_ = std::move(nets);
  numItemsBuilt_ = static_cast<size_t>(items);
  setFitted(items);
}

}  // namespace localrec

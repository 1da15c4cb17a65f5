#include "models/seq/gru4rec.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/rng.h"
#include "io/serialize.h"
#include "linalg/kernels.h"
#include "nn/dropout.h"
#include "nn/finite.h"
#include "nn/loss.h"
#include "nn/optimizer.h"
#include "nn/sampler.h"

namespace localrec {

namespace {
constexpr uint32_t kLayoutVersion = 2;  // 1: before `layers` (one layer, no layers field)

// The shared training options (nn/training.h): this model's defaults and ranges.
constexpr nn::TrainingOptionDefaults kTraining{
    .optimizer = "adagrad", .learningRate = "0.05", .epochs = 3, .epochPasses = "the training events",
    .batchSize = 64, .maxBatchSize = 4096, .batchUnit = "session-parallel rows"};

// The last `maxHistory` items (all of them when shorter).
std::span<const Index> lastItems(std::span<const Index> items, int maxHistory) {
  const size_t keep = std::min(items.size(), static_cast<size_t>(maxHistory));
  return items.subspan(items.size() - keep);
}

void readInto(Reader& in, const char* what, nn::Parameter& p) {
  auto v = in.floats(what, p.value.size());
  for (float x : v)
    if (!std::isfinite(x)) fail<FormatError>(in.what(), ": gru4rec ", what, " holds a non-finite value");
  std::copy(v.begin(), v.end(), p.value.data());
}

// The streaming session: the GRU state after the events so far.
class GruSession : public Session {
 public:
  explicit GruSession(const Gru4Rec& model)
      : model_(model), state_(model.stateSize(), 0.0f) {}
  void push(Index item) override {
    if (item < 0 || item >= model_.numItems())
      fail<InvalidArgument>("gru4rec session: item ", item, " outside the catalog [0, ", model_.numItems(), ")");
    model_.step(item, state_, scratch_);
    items_.push_back(item);
  }
  void score(std::span<float> out) const override {
    if (out.size() != static_cast<size_t>(model_.numItems()))
      fail<InvalidArgument>("gru4rec session: output has ", out.size(), " slots, the catalog has ",
                            model_.numItems(), " items");
    model_.scoreState(state_, out);
  }
  void reset() override {
    items_.clear();
    std::fill(state_.begin(), state_.end(), 0.0f);
  }
  std::span<const Index> items() const override { return items_; }
  Index numItems() const override { return model_.numItems(); }

 private:
  const Gru4Rec& model_;
  std::vector<float> state_;
  std::vector<Index> items_;
  nn::GruScratch scratch_;
};
}  // namespace

const std::vector<OptionSpec>& Gru4Rec::optionSpecs() {
  static const std::vector<OptionSpec> specs = nn::withTrainingOptions(
      seq::withIalsStartOptions({
          {"hidden", "int", "100", 1, 2048, {}, "GRU hidden units (also the width of the output item embeddings)"},
          {"layers", "int", "1", 1, 4, {}, "stacked GRU layers (each of width hidden)"},
          {"embedding", "int", "0", 0, 2048, {}, "input item embedding size; 0 = the same as hidden"},
          {"dropout_input", "float", "0", 0, 0.9, {}, "dropout on the input embeddings during training"},
          {"dropout_hidden", "float", "0.2", 0, 0.9, {}, "dropout on the GRU output during training"},
          {"loss", "choice", "cross-entropy", 0, 0, {"cross-entropy", "bpr-max"},
           "training loss over the batch targets plus the shared negatives"},
          {"bpr_max_reg", "float", "1", 0, 100, {}, "bpr-max score regularization (lambda); unused by cross-entropy"},
          {"n_sample", "int", "512", 0, 100000, {}, "extra negatives shared by the mini-batch, per step"},
          {"sample_alpha", "float", "0.5", 0, 4, {}, "negatives drawn with probability proportional to count^alpha"},
          {"max_history", "int", "200", 1, 100000,
           {}, "only the last max_history events of a history are used, in training and scoring"},
      }, "ials"),
      kTraining);
  return specs;
}

Gru4Rec::Gru4Rec(const OptionMap& options) : Gru4Rec(OptionReader("gru4rec", optionSpecs(), options)) {}

Gru4Rec::Gru4Rec(const OptionReader& reader)
    : Recommender(reader.resolved()),
      hidden_(reader.getInt("hidden")),
      layers_(reader.getInt("layers")),
      embedding_(reader.getInt("embedding")),
      dropoutInput_(reader.getFloat("dropout_input")),
      dropoutHidden_(reader.getFloat("dropout_hidden")),
      loss_(reader.getChoice("loss")),
      bprMaxReg_(reader.getFloat("bpr_max_reg")),
      nSample_(reader.getInt("n_sample")),
      sampleAlpha_(reader.getFloat("sample_alpha")),
      maxHistory_(reader.getInt("max_history")),
      ialsStart_(seq::readIalsStart(reader)),
      training_(nn::readTrainingOptions(reader, kTraining)) {
  reader.finish();
  if (embedding_ == 0) embedding_ = hidden_;
}

std::span<const float> Gru4Rec::inputEmbedding(Index item) const {
  if (!fitted() || item < 0 || item >= numItems())
    fail<InvalidArgument>("gru4rec.inputEmbedding: item ", item, " outside the catalog [0, ", numItems(), ")");
  return {input_.table.value.row(static_cast<size_t>(item)), static_cast<size_t>(embedding_)};
}

std::span<const float> Gru4Rec::outputEmbedding(Index item) const {
  if (!fitted() || item < 0 || item >= numItems())
    fail<InvalidArgument>("gru4rec.outputEmbedding: item ", item, " outside the catalog [0, ", numItems(), ")");
  return {output_.weight.value.row(static_cast<size_t>(item)), static_cast<size_t>(hidden_)};
}

void Gru4Rec::buildNetwork(Index numItems) {
  const size_t n = static_cast<size_t>(numItems), e = static_cast<size_t>(embedding_),
               h = static_cast<size_t>(hidden_);
  input_ = nn::Embedding(n, e);
  grus_.clear();
  for (int l = 0; l < layers_; ++l) {
    grus_.emplace_back(l == 0 ? e : h, h);
    for (nn::Parameter* p : {&grus_.back().wInput, &grus_.back().wHidden, &grus_.back().bInput, &grus_.back().bHidden})
      p->name = "gru4rec layer " + std::to_string(l + 1) + " " + p->name;
  }
  output_ = nn::Dense(h, n, true, nn::GradKind::kSparseRows);
}

void Gru4Rec::fitImpl(const InteractionMatrix& train, Progress& progress) {
  progress.report(0.0, "init");
  const Csr& byUser = train.byUser();
  const Index nItems = train.numItems();
  const size_t H = static_cast<size_t>(hidden_), E = static_cast<size_t>(embedding_);

  // The training sequences: each user's last max_history events, if at least 2.
  std::vector<Index> users;
  size_t totalSteps = 0;
  std::vector<double> counts(static_cast<size_t>(nItems), 0.0);
  for (Index u = 0; u < train.numUsers(); ++u) {
    const auto items = lastItems(byUser.rowIndices(u), maxHistory_);
    for (Index i : items) counts[static_cast<size_t>(i)] += 1.0;
    if (items.size() < 2) continue;
    users.push_back(u);
    totalSteps += items.size() - 1;
  }
  if (users.empty())
    fail<InvalidArgument>("gru4rec.fit: no user has 2 or more events; a sequence model needs pairs of events");

  Rng rng(training_.seed);
  buildNetwork(nItems);
  const float initA = std::sqrt(6.0f / static_cast<float>(static_cast<size_t>(nItems) + E));
  input_.init(rng, initA);
  for (auto& gru : grus_) gru.init(rng);
  output_.init(rng);
  // Item tables from iALS (init=ials): one fit when they are as wide (the default).
  const double trainFrom = ialsStart_.enabled ? seq::kIalsStartProgress : 0.0;
  if (E == H) {
    seq::startFromIals(ialsStart_, train, E, training_.seed, {&input_.table.value, &output_.weight.value}, progress,
                       0.0, trainFrom);
  } else {
    seq::startFromIals(ialsStart_, train, E, training_.seed, {&input_.table.value}, progress, 0.0, trainFrom / 2);
    seq::startFromIals(ialsStart_, train, H, training_.seed, {&output_.weight.value}, progress, trainFrom / 2,
                       trainFrom / 2);
  }

  const nn::NegativeSampler sampler(counts, sampleAlpha_);
  auto optimizer = nn::makeOptimizer(training_.optimizerConfig());

  const size_t B = std::min(static_cast<size_t>(training_.batchSize), users.size());
  const size_t nSample = static_cast<size_t>(nSample_);
  const size_t L = grus_.size();
  nn::Dropout dropIn(static_cast<float>(dropoutInput_));
  std::vector<nn::Dropout> dropHidden(L, nn::Dropout(static_cast<float>(dropoutHidden_)));
  nn::SparseRows dEmb, dOutW, dOutB;
  dEmb.reset(static_cast<size_t>(nItems), E, B);
  dOutW.reset(static_cast<size_t>(nItems), H, B + nSample);
  dOutB.reset(static_cast<size_t>(nItems), 1, B + nSample);
  // Per layer: the carried state, the GRU output and its dropped-out copy (the next layer's input).
  std::vector<nn::Matrix> state(L, nn::Matrix(B, H)), hOut(L), hDrop(L);
  nn::Matrix x, scores, dScores, dHidden, dX;
  std::vector<Index> inputs, targets, candidates;
  std::vector<int32_t> targetCol;
  // Per batch row: the user (index into `users`) and the position of its current input.
  std::vector<size_t> rowUser(B), rowPos(B);

  std::vector<nn::Parameter*> gruParams;
  for (auto& gru : grus_)
    for (nn::Parameter* p : {&gru.wInput, &gru.wHidden, &gru.bInput, &gru.bHidden}) gruParams.push_back(p);
  std::vector<nn::Parameter*> params = gruParams;
  for (nn::Parameter* p : {&input_.table, &output_.weight, &output_.bias}) params.push_back(p);
  nn::EpochCheckpoint checkpoint(params);
  auto sequenceOf = [&](size_t k) { return lastItems(byUser.rowIndices(users[k]), maxHistory_); };

  auto runEpoch = [&](nn::TrainingEpoch& epoch) {
    const std::string& hint = epoch.hint();
    std::vector<size_t> order(users.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    rng.shuffle(order.begin(), order.end());
    size_t next = 0, active = B;
    for (size_t b = 0; b < B; ++b) rowUser[b] = order[next++], rowPos[b] = 0;
    for (auto& s : state) {
      s.resize(B, H);
      s.setZero();
    }
    while (active > 0) {
      epoch.batch(active);
      inputs.resize(active);
      targets.resize(active);
      for (size_t b = 0; b < active; ++b) {
        const auto seq = sequenceOf(rowUser[b]);
        inputs[b] = seq[rowPos[b]];
        targets[b] = seq[rowPos[b] + 1];
      }
      // Forward: embedding -> dropout -> GRU step from the carried state -> dropout -> candidate scores.
      input_.forward(inputs, x);
      dropIn.forward(x, x, true, rng);
      for (size_t l = 0; l < L; ++l) {
        grus_[l].forward(l == 0 ? x : hDrop[l - 1], 1, state[l].data(), {}, hOut[l]);
        dropHidden[l].forward(hOut[l], hDrop[l], true, rng);
      }
      nn::buildBatchCandidates(targets, sampler, nSample, rng, candidates, targetCol);
      output_.forwardRows(hDrop[L - 1], candidates, scores);
      const nn::ScoreTargets st{targetCol, candidates};
      const float loss = loss_ == "bpr-max" ? nn::bprMax(scores, st, static_cast<float>(bprMaxReg_), dScores)
                                            : nn::softmaxCrossEntropy(scores, st, dScores);
      nn::requireFinite(loss, "gru4rec training loss", hint);

      // Backward.
      dOutW.clear();
      dOutB.clear();
      dEmb.clear();
      for (auto* p : gruParams) p->zeroGrad();
      output_.backwardRows(hDrop[L - 1], candidates, dScores, &dHidden, dOutW, dOutB);
      for (size_t l = L; l-- > 0;) {
        dropHidden[l].backward(dHidden, dHidden);
        grus_[l].backward(dHidden, &dX, nullptr);
        if (l > 0) std::swap(dHidden, dX);  // the gradient of layer l-1's dropped output
      }
      dropIn.backward(dX, dX);
      input_.backward(inputs, dX, dEmb);
      for (auto* p : gruParams) nn::requireFiniteGrad(*p, hint);
      nn::requireFinite(dOutW, "gru4rec output weight gradient", hint);
      nn::requireFinite(dOutB, "gru4rec output bias gradient", hint);
      nn::requireFinite(dEmb, "gru4rec embedding gradient", hint);

      for (auto* p : gruParams) optimizer->step(*p);
      optimizer->stepRows(output_.weight, dOutW);
      optimizer->stepRows(output_.bias, dOutB);
      optimizer->stepRows(input_.table, dEmb);

      // Carry the state (without dropout), advance every row; a finished row
      // takes the next user with a zero state or, with none left, leaves the batch.
      for (size_t l = 0; l < L; ++l) std::copy_n(hOut[l].data(), active * H, state[l].data());
      for (size_t b = 0; b < active;) {
        if (++rowPos[b] + 1 < sequenceOf(rowUser[b]).size()) {
          ++b;
          continue;
        }
        if (next < order.size()) {
          rowUser[b] = order[next++];
          rowPos[b] = 0;
          for (auto& s : state) std::fill_n(s.row(b), H, 0.0f);
          ++b;
          continue;
        }
        --active;  // move the last active row here
        rowUser[b] = rowUser[active];
        rowPos[b] = rowPos[active];
        for (auto& s : state) std::copy_n(s.row(active), H, s.row(b));
      }
      for (auto& s : state) s.resize(active, H);
    }
  };
  nn::runEpochs({training_.epochs, static_cast<double>(totalSteps), trainFrom, 1.0 - trainFrom}, checkpoint, progress,
                runEpoch,
                [&] { setFitted(nItems); });  // the last completed epoch's weights stay usable
  progress.report(1.0, "done");
}

void Gru4Rec::step(Index item, std::span<float> h, nn::GruScratch& scratch) const {
  const size_t H = static_cast<size_t>(hidden_);
  const float* x = input_.table.value.row(static_cast<size_t>(item));
  for (size_t l = 0; l < grus_.size(); ++l) {
    float* hl = h.data() + l * H;
    grus_[l].infer(x, 1, hl, hl, scratch);
    x = hl;  // layer l's new state is layer l+1's input
  }
}

void Gru4Rec::scoreState(std::span<const float> h, std::span<float> out) const {
  const size_t H = static_cast<size_t>(hidden_);
  const float* top = h.data() + (grus_.size() - 1) * H;  // the last layer's output
  std::copy_n(output_.bias.value.data(), out.size(), out.begin());
  linalg::gemv(output_.weight.value.data(), out.size(), H, H, top, out.data(), 1.0f);
}

std::vector<float> Gru4Rec::finalState(std::span<const Index> items) const {
  std::vector<float> h(stateSize(), 0.0f);
  nn::GruScratch scratch;
  for (Index item : lastItems(items, maxHistory_)) step(item, h, scratch);
  return h;
}

void Gru4Rec::scoreImpl(const History& history, std::span<float> out) const {
  scoreState(finalState(history.items), out);
}

std::vector<Contribution> Gru4Rec::explainImpl(const History& history, Index item, size_t maxCount) const {
  const auto items = lastItems(history.items, maxHistory_);
  const size_t offset = history.items.size() - items.size();
  const size_t H = static_cast<size_t>(hidden_);
  const float* w = output_.weight.value.row(static_cast<size_t>(item));
  auto itemScore = [&](std::span<const Index> seq) {
    const auto h = finalState(seq);
    return output_.bias.value.data()[item] + linalg::dot(h.data() + h.size() - H, w, H);
  };
  const float full = itemScore(items);
  std::vector<Contribution> out;
  std::vector<Index> without;
  for (size_t p = 0; p < items.size(); ++p) {
    without.assign(items.begin(), items.end());
    without.erase(without.begin() + static_cast<std::ptrdiff_t>(p));
    out.push_back({static_cast<Index>(offset + p), full - itemScore(without)});
  }
  std::stable_sort(out.begin(), out.end(), [](const Contribution& a, const Contribution& b) { return a.weight > b.weight; });
  if (out.size() > maxCount) out.resize(maxCount);
  return out;
}

std::unique_ptr<Session> Gru4Rec::openSessionImpl() const { return std::make_unique<GruSession>(*this); }

void Gru4Rec::save(Writer& out) const {
  out.u32(kLayoutVersion);
  out.i32(numItems());
  out.i32(embedding_);
  out.i32(hidden_);
  out.i32(layers_);
  auto write = [&](const nn::Parameter& p) { out.floats(std::span<const float>(p.value.data(), p.value.size())); };
  write(input_.table);
  for (const auto& gru : grus_)
    for (const nn::Parameter* p : {&gru.wInput, &gru.wHidden, &gru.bInput, &gru.bHidden}) write(*p);
  write(output_.weight);
  write(output_.bias);
}

void Gru4Rec::loadImpl(Reader& in) {
  const uint32_t version = in.u32("gru4rec layout version");
  if (version != 1 && version != kLayoutVersion)
    fail<FormatError>(in.what(), ": gru4rec layout version ", version, " is not supported (expected 1 or ",
                      kLayoutVersion, ")");
  const int32_t items = in.i32("items"), embedding = in.i32("embedding"), hidden = in.i32("hidden");
  const int32_t layers = version == 1 ? 1 : in.i32("layers");
  if (items <= 0) fail<FormatError>(in.what(), ": a gru4rec model over ", items, " items");
  if (embedding != embedding_ || hidden != hidden_ || layers != layers_)
    fail<FormatError>(in.what(), ": the parameters have embedding ", embedding, ", hidden ", hidden, " and ", layers,
                      " layers; the options say ", embedding_, ", ", hidden_, " and ", layers_);
  buildNetwork(items);
  readInto(in, "embedding table", input_.table);
  for (size_t l = 0; l < grus_.size(); ++l) {
    const std::string layer = "layer " + std::to_string(l + 1) + " ";
    readInto(in, (layer + "GRU input weights").c_str(), grus_[l].wInput);
    readInto(in, (layer + "GRU hidden weights").c_str(), grus_[l].wHidden);
    readInto(in, (layer + "GRU input bias").c_str(), grus_[l].bInput);
    readInto(in, (layer + "GRU hidden bias").c_str(), grus_[l].bHidden);
  }
  readInto(in, "output weights", output_.weight);
  readInto(in, "output bias", output_.bias);
  setFitted(items);
}

}  // namespace localrec

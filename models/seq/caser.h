// Caser (Tang & Wang 2018): a convolutional next-item model over the
// embeddings of the last L items of a history.
//
// Network, for a history: the last L items (oldest first) are looked up in an
// item embedding table E ((N+1) x d). A history shorter than L is padded at
// the FRONT with the reserved padding row N (so the most recent item is always
// at position L-1); that row is zero and never trained, i.e. a missing item
// contributes nothing to any filter. Then, on the L x d "image":
//  - horizontal convolutions: for every height h = 1..L, n_h filters of h
//    rows by d columns (nn::Conv1d over time with width h), ReLU, max-pool over
//    the L-h+1 positions -> L * n_h features (pooling before the ReLU is the
//    same and cheaper);
//  - a vertical convolution: n_v filters of L rows by 1 column, each a
//    weighted sum of the L embeddings (nn::VerticalConv) -> n_v * d features;
// concatenated, dropout (training only), a dense layer to d with ReLU:
// z = ReLU(W [o; o~] + b); scores = W' z + b' over the items (the output item
// embeddings W', N x d, and biases b').
//
// No user embedding: the paper concatenates a per-user vector P_u to z. Here a
// query is a history, not a user id (the contract's score(history) has no user
// at score time, and most histories belong to people absent from training),
// so a learned per-user vector would not exist exactly where the model is
// used. By default (user_vector=none) the model keeps only the sequence part:
// the output embeddings have width d (not 2d). user_vector=mean folds the
// user part in from the history instead: P = the mean of a second item table
// U (N x d) over the history's last max_history items (in training: the
// events before the target), and scores = W' [z; P] + b' with W' N x 2d, as
// in the paper; it exists for any history, also one never seen in training.
//
// Training: each user's training rows in time order (their last max_history
// events) give one example per position t >= 1: predict item t from the L
// items before it (fewer, padded, near the start). With targets = T > 1 the
// same window also predicts items t+1 .. t+T-1 (the paper's T "skip" targets,
// one example each; the loss is the paper's sum over the T targets).
// Item embeddings start from iALS (init=ials, the default: the item factors of
// an iALS fit on the same training data, factors = d, reg init_reg, iterations
// init_iterations, the same seed; see ials_start.h), copied into both the
// input table E and the output embeddings W' (the first d columns with
// user_vector=mean), or random (init=random: normal, sd 1/d; it wants a higher
// learning_rate, about 0.05). The convolutions and the dense layer start random
// either way. On a tiny catalog that every user has nearly all of (the unit
// tests' cycles) init=random learns what init=ials does not. Examples are shuffled each
// epoch (Rng(seed)) into mini-batches of batch_size. The candidates of a
// mini-batch are its targets plus `negatives` items shared by the batch, drawn
// with probability proportional to count^sample_alpha (nn::NegativeSampler);
// a row's own target among the other columns is masked. Loss: cross-entropy
// (default: softmax over all the candidates, the other targets included) or
// bce (the paper's log-loss: the target as positive, the shared negatives as
// negatives; the batch's other targets are not used as negatives, see
// caser_detail::sharedNegativeBce; it ranks worse here, docs/benchmarks.md).
// Optimizer adagrad (default), adam (lazy per-row Adam for the embedding and
// output rows) or sgd with momentum; sparse rows are updated only where
// touched. l2 adds l2 * w to the gradient of the dense weights every step and
// of the embedding / output rows a mini-batch touches (lazy).
// Progress is reported, and cancellation honoured, at every mini-batch.
//
// Networks: with networks = K > 1 the model trains K such networks one after
// another, each on its own seed (its own iALS start, initialization, shuffling,
// dropout and negatives; the examples are the same): network 0 on `seed`,
// network k on caser_detail::networkSeed's k-th draw from Rng(seed), so the
// networks of seeds 1 and 2 are unrelated (seed + k would share). It scores with
// the mean of their scores (for one network, exactly its scores). On two
// leave-last-out validation splits the mean of 2 networks lifts NDCG@10 by
// 4.2% over one network and 3 networks by 6.0% (within the noise of each
// other), for 2x (3x) the fit time and model size (docs/benchmarks.md); the
// default is 2. networks=1 is the single network of earlier versions.
//
// Non-finite values: the loss and every gradient are checked each mini-batch,
// the weights at the end of each epoch. A NaN or infinity stops training with
// nn::NonFiniteError naming the epoch (and, with networks > 1, the network;
// it suggests a lower learning_rate);
// the failing network keeps the weights of its last completed epoch (the shared
// loop of nn/training.h), the networks after it are not trained, and the model
// stays fitted with the networks it has, or unfitted when the first network
// fails in its first epoch.
//
// Score(history): the mean over the networks of each network on the history's
// last L items (values and times are ignored; only the last L events matter,
// plus the last max_history for user_vector=mean). An empty history is all
// padding: the scores then come from the networks' biases, a learned prior.
// Explain(history, item): leave-one-out over the last L positions: the item's
// (mean) score minus its score with that event removed (the window then reaches
// one event further back); largest first, sources are positions in the history.
// Sessions: the generic one (each score runs the networks on the last L items).
//
// PARM (layout 2): u32 layout version, i32 items N, i32 L, i32 d, i32 n_h,
// i32 n_v, i32 user_vector (0 none, 1 mean; these five must match the
// options), i32 networks K (1 to the networks option), then for each network
// the floats: embedding table ((N+1) x d, row N the zero padding
// row); with user_vector=mean the table U (N x d); for h = 1..L (when n_h > 0): conv
// weights (n_h x h*d), conv bias (n_h); vertical weights (n_v x L, when
// n_v > 0); dense W (d x (L*n_h + n_v*d)), dense b (d); output W (N x d, or
// N x 2d with user_vector=mean), output b (N).
// Layout 1 (before `networks`) has no K field and one network; it still loads.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "core/recommender.h"
#include "core/rng.h"
#include "models/seq/ials_start.h"
#include "nn/conv1d.h"
#include "nn/dense.h"
#include "nn/embedding.h"
#include "nn/sampler.h"
#include "nn/training.h"

namespace localrec {

namespace caser_detail {
// The bce loss: scores (n x c) over the candidates [the n targets of the batch,
// then the shared negatives]; row i's positive is column i, its negatives the
// shared columns [n, c) whose item differs from its target (the other rows'
// targets are not its negatives). Mean over rows of
// softplus(-s_ii) + sum_j softplus(s_ij); dScores gets the exact gradient.
float sharedNegativeBce(const nn::Matrix& scores, std::span<const Index> candidates, size_t n, nn::Matrix& dScores);
// The seed of network k >= 1: the k-th call on a stream Rng(seed) gives a value in
// [0, 2^31) (network 0 uses seed itself), so nearby seeds share no network.
uint64_t networkSeed(Rng& stream);
}  // namespace caser_detail

class Caser : public Recommender {
 public:
  static const std::vector<OptionSpec>& optionSpecs();
  explicit Caser(const OptionMap& options = {});

  std::string kind() const override { return "caser"; }
  void save(Writer& out) const override;

  int windowLength() const { return window_; }
  int dimension() const { return dim_; }
  // The networks the fitted (or loaded) model averages.
  size_t networkCount() const { return nets_.size(); }
  // Item `item`'s input embedding (d floats) and output embedding (d, or 2d with user_vector=mean) in network k.
  std::span<const float> inputEmbedding(Index item, size_t k = 0) const;
  std::span<const float> outputEmbedding(Index item, size_t k = 0) const;
  // The padded window of a history: its last L items, front-padded with the padding id N.
  std::vector<Index> window(std::span<const Index> items) const;

 protected:
  void fitImpl(const InteractionMatrix& train, Progress& progress) override;
  void scoreImpl(const History& history, std::span<float> out) const override;
  std::vector<Contribution> explainImpl(const History& history, Index item, size_t maxCount) const override;
  void loadImpl(Reader& in) override;

 private:
  // One Caser network. With networks = K > 1 the model holds K of them, each
  // trained on its own seed, and scores with their mean.
  struct Network {
    nn::Embedding embedding;             // (N+1) x d, row N = padding
    std::vector<nn::Conv1d> horizontal;  // heights 1..L (empty when n_h = 0)
    nn::VerticalConv vertical;           // n_v x L (unused when n_v = 0)
    nn::Dense fc;                        // (L*n_h + n_v*d) -> d
    nn::Embedding userEmbedding;         // N x d, user_vector=mean only
    nn::Dense output;                    // d (2d with user_vector=mean) -> N, sparse rows
  };
  // A training example: the window is the events of `user` before position
  // `end`; the item to predict is at position `target` (end <= target < end + T).
  struct Example {
    Index user;
    int32_t end;
    int32_t target;
  };

  explicit Caser(const OptionReader& reader);
  Network buildNetwork(Index numItems) const;
  std::vector<nn::Parameter*> parameters(Network& net) const;
  size_t featureSize() const;
  // The events training uses from one user: the last max_history, in time order.
  std::span<const Index> trainingSequence(const InteractionMatrix& train, Index user) const;
  // Initializes and trains one network; `seed` drives its iALS start, initialization and sampling.
  // It fills [from, from + span) of the fit's progress. On a NonFiniteError after a completed
  // epoch, the network holds that epoch's weights and `restored` is called before the rethrow.
  void trainNetwork(Network& net, const InteractionMatrix& train, const std::vector<Example>& allExamples,
                    const nn::NegativeSampler& sampler, uint64_t seed, Progress& progress, double from, double span,
                    const std::function<void()>& restored);
  const Network& network(size_t k, const char* caller) const;
  // z (1 x d) of one network for one padded window of L ids (inference).
  void hiddenOf(const Network& net, std::span<const Index> windowIds, nn::Matrix& z) const;
  // The output layer's input for a history (1 x d, or 1 x 2d with user_vector=mean).
  void topOf(const Network& net, std::span<const Index> items, nn::Matrix& top) const;
  // out (d floats) = the mean of the user_vector table's rows of `items` (zeros when empty).
  void historyMean(const Network& net, std::span<const Index> items, float* out) const;
  Index paddingId() const { return static_cast<Index>(numItemsBuilt_); }

  int window_;
  int dim_;
  int nH_;
  int nV_;
  double dropout_;
  int negatives_;
  double sampleAlpha_;
  std::string loss_;
  double l2_;
  bool userVector_;
  int maxHistory_;
  int targets_;
  int networks_;
  seq::IalsStart ialsStart_;  // init, init_reg, init_iterations
  nn::TrainingOptions training_;  // optimizer, learning_rate, momentum, epochs, batch_size, seed

  size_t numItemsBuilt_ = 0;
  std::vector<Network> nets_;  // networks_ of them after a full fit (fewer after a failed one)
};

}  // namespace localrec

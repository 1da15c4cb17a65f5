// GRU4Rec (Hidasi et al. 2016; Hidasi & Karatzoglou 2018): a recurrent
// next-item model. Each user's training history, ordered by time, is a
// session; the network reads one item per step and scores the next one.
//
// Network: item -> Embedding(N, E) -> Dropout(dropout_input) -> `layers` stacked
// GRU layers (hidden H each, the cuDNN/PyTorch variant, see src/nn/gru.h; layer
// l > 0 reads layer l-1's output), each followed by Dropout(dropout_hidden)
// -> scores = W h + b over the items, h = the last layer's output (W: N x H,
// b: N; the output embeddings). The recurrent state is the H floats of every
// layer (layers x H).
//
// Training (session-parallel mini-batches): the users with at least 2 events
// are shuffled each epoch (Rng(seed)); B = batch_size rows each carry one
// user's sequence (its last max_history events). At every step each row
// feeds its current item and predicts its next one; when a row's sequence
// ends, the next user takes the row and that row's hidden state is reset to
// zero. When no user is left, finished rows leave the batch (it shrinks), so
// every event of every sequence is trained on once per epoch. The candidate
// set of a step is the B targets of the batch plus n_sample items shared by
// the batch, drawn with probability proportional to count^sample_alpha
// (a row's own target among the other columns is masked); loss cross-entropy
// (softmax over the candidates) or bpr-max (with score regularization
// bpr_max_reg). The embedding and the output rows are updated only where
// touched (sparse rows); optimizer adagrad, adam or sgd with momentum.
// The item tables start from iALS item factors (init=ials, the default: the
// embedding table from a fit with E factors, the output embeddings W from one
// with H, one fit when E = H; reg init_reg, iterations init_iterations, the
// same seed; see ials_start.h), or random (init=random: the embedding uniform
// in +-sqrt(6 / (N + E)), W as nn::Dense initializes it; a higher
// learning_rate, such as 0.1, suits it). The GRU weights start random either way.
//
// Non-finite values: the loss and every gradient are checked each step. A NaN
// or infinity stops training with NonFiniteError (code NON_FINITE) naming the
// epoch and suggesting a lower learning_rate. The model then keeps the weights
// it had at the END OF THE LAST COMPLETED EPOCH and stays fitted (scores work);
// if the first epoch fails there are no good weights and the model is left
// unfitted (the shared epoch loop, nn/training.h).
//
// Score(history): the GRU runs over the last max_history items of the history
// from a zero state; scores = W h + b. An empty history scores from the zero
// state (h = 0: the output biases, a learned popularity prior). Values and
// times are ignored. Explain(history, item): leave-one-out: for each position p
// of the (truncated) history, the item's score minus its score with position p
// removed; largest first.
//
// Sessions (openSession): each push is one GRU step on the kept state. The
// session keeps the full history too; while it holds at most max_history
// events its scores equal score(history); past that, the state simply
// continues over all events (score(history) would truncate), so long sessions
// can differ slightly from score(history).
//
// PARM (layout 2): u32 layout version, i32 items, i32 embedding, i32 hidden,
// i32 layers, then floats: embedding table (N x E); for each layer l: GRU W_i
// (3H x E for l = 0, 3H x H after), W_h (3H x H), b_i (3H), b_h (3H); output W
// (N x H), output b (N). Layout 1 (written before layers existed) is the same
// without the layers field and with one layer; it still loads.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "core/recommender.h"
#include "models/seq/ials_start.h"
#include "nn/dense.h"
#include "nn/embedding.h"
#include "nn/gru.h"
#include "nn/training.h"

namespace localrec {

class Gru4Rec : public Recommender {
 public:
  static const std::vector<OptionSpec>& optionSpecs();
  explicit Gru4Rec(const OptionMap& options = {});

  std::string kind() const override { return "gru4rec"; }
  void save(Writer& out) const override;
  // One GRU step per push (see above).
  std::unique_ptr<Session> openSessionImpl() const override;

  // Item `item`'s input embedding (embedding floats) and output embedding (hidden floats).
  std::span<const float> inputEmbedding(Index item) const;
  std::span<const float> outputEmbedding(Index item) const;
  int hiddenSize() const { return hidden_; }
  int numLayers() const { return layers_; }
  // Floats of recurrent state: layers x hidden (layer-major).
  size_t stateSize() const { return static_cast<size_t>(layers_) * static_cast<size_t>(hidden_); }
  int embeddingSize() const { return embedding_; }
  int maxHistory() const { return maxHistory_; }

  // One step of the trained network (every layer) for `item` from state h
  // (stateSize() floats, updated in place).
  void step(Index item, std::span<float> h, nn::GruScratch& scratch) const;
  // Scores of all items from a state (stateSize() floats; out: numItems()).
  void scoreState(std::span<const float> h, std::span<float> out) const;

 protected:
  void fitImpl(const InteractionMatrix& train, Progress& progress) override;
  void scoreImpl(const History& history, std::span<float> out) const override;
  std::vector<Contribution> explainImpl(const History& history, Index item, size_t maxCount) const override;
  void loadImpl(Reader& in) override;

 private:
  explicit Gru4Rec(const OptionReader& reader);
  // The state (stateSize() floats) after running over `items` from zero (the last max_history of them).
  std::vector<float> finalState(std::span<const Index> items) const;
  void buildNetwork(Index numItems);

  int hidden_;
  int layers_;
  int embedding_;
  double dropoutInput_;
  double dropoutHidden_;
  std::string loss_;
  double bprMaxReg_;
  int nSample_;
  double sampleAlpha_;
  int maxHistory_;
  seq::IalsStart ialsStart_;  // init, init_reg, init_iterations
  nn::TrainingOptions training_;  // optimizer, learning_rate, momentum, epochs, batch_size, seed

  nn::Embedding input_;
  std::vector<nn::Gru> grus_;  // one per layer
  nn::Dense output_;
};

}  // namespace localrec

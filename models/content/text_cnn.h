// A text CNN that embeds items from their words, trained ConvMF-style (Kim,
// Park, Oh, Lee & Yu, "Convolutional Matrix Factorization for Document
// Context-Aware Recommendation", RecSys 2016), so items nobody has interacted
// with get a vector in the collaborative-filtering space from their text alone.
//
// Network (one item text -> one item vector of size `factors`):
//   tokens (models/content/tokenize.h), at most `max_tokens` per item: a longer
//   text is TRUNCATED to its first max_tokens tokens (the rest is ignored)
//   -> word ids: id 0 = padding (its embedding is fixed at zero), id 1 = the one
//      unknown-word bucket (every word outside the vocabulary), ids 2.. = the
//      vocabulary: the words found in at least `min_count` catalog item texts
//      (document frequency over the WHOLE catalog given to fit, cold items
//      included: their words are known, only their interactions are not); if
//      more than `max_vocab` remain, the most frequent by document frequency
//      (ties: byte order); ids by byte order of the words
//   -> word Embedding (vocabulary + 2) x `embedding_dim`, trainable, uniform
//      (-0.1, 0.1) from `seed`
//   -> for each window width w in [min_width, max_width]: Conv1d (nn/conv1d.h,
//      'valid', `filters` filters) -> ReLU or tanh (`activation`) -> max-pool
//      over the item's own valid steps (max(L - w + 1, 1) for L tokens; padding
//      never wins)
//   -> concatenation ((max_width - min_width + 1) * filters values)
//   -> dropout (`dropout`, training only) -> Dense -> `factors` outputs, linear
//      (output=linear, the default: iALS factors are unbounded) or tanh.
//
// Training (fit):
//   1. An implicit ALS model (models/cf/ials.h, Hu et al. 2008) with the same
//      `factors` is fitted on the training interactions (`cf_iterations`,
//      `cf_reg`, `cf_alpha`, CG solver, `seed`): item factors v_i.
//   2. The CNN regresses onto them, over the items with interactions and with
//      at least one token:
//        L = sum_i c_i ||cnn(text_i) - v_i||^2 / sum_i c_i  (per mini-batch)
//      with c_i = ln(1 + n_i), n_i = item i's number of training interactions,
//      plus `l2` * |w|^2 / 2 on every weight (conv, dense, the embedding rows a
//      batch uses). Mini-batches of `batch_size` items in a seeded shuffled
//      order, Adam (`learning_rate`), `epochs` passes.
//   Why this design (rather than end-to-end ranking through user vectors): it is
//   simple (a plain weighted regression with a fixed target), stable (the target
//   does not move, so no collapse and no negative sampling), cheap (one pass
//   over the items, not the interactions, per epoch), and puts the CNN output in
//   the SAME space as the CF item vectors, so a cold item's vector is used by the
//   same fold-in and dot product as a warm one. The confidence gives items whose
//   factors rest on many interactions more weight than items seen once, whose
//   factors are mostly regularisation. (ConvMF's alternation, re-solving the
//   item factors toward the CNN output, is not done.)
//   Non-finite values: the loss, the gradients (each mini-batch) and the weights
//   (each epoch) are checked; a NaN or infinity stops training with
//   nn::NonFiniteError naming the epoch and suggesting a lower learning_rate.
//   The model keeps the weights of the last completed epoch, computes its item
//   vectors from them and stays fitted, or stays unfitted when the first epoch
//   fails (the shared epoch loop, nn/training.h).
//
// Item vectors after fit:
//   - item with interactions and tokens: (1 - blend_weight) v_i + blend_weight cnn_i
//     (default blend_weight 0.2: where interactions exist the CF vector is the
//     better estimate, the text only nudges it; 0 gives pure iALS vectors there)
//   - item with interactions and no token (empty text): v_i
//   - item without interactions (cold) and with tokens: cnn_i (its only vector)
//   - item without interactions and without tokens: the zero vector (score 0).
//   An item whose words are all outside the vocabulary still has tokens: it
//   gets the CNN vector of a run of unknown-word ids.
//
// score(history): the history is folded into a user vector by one exact iALS
// solve against the final item vectors (Ials::foldIn: the same confidence and
// regularisation, with `cf_alpha` and `cf_reg`); scores = item vectors . user
// vector. A history that carries no information (empty, or only zero-vector
// items) gets the mean training user vector (as ials does).
// explain(history, item): ials' explanation against the final item vectors:
// the history positions' contributions s_ij c_j, which sum to the score.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/recommender.h"
#include "nn/conv1d.h"
#include "nn/dense.h"
#include "nn/embedding.h"
#include "nn/training.h"

namespace localrec {

class Ials;

class TextCnn : public Recommender {
 public:
  static const std::vector<OptionSpec>& optionSpecs();
  explicit TextCnn(const OptionMap& options = {});
  ~TextCnn() override;

  std::string kind() const override { return "text_cnn"; }
  bool needsItemText() const override { return true; }
  bool scoresColdItems() const override { return true; }
  void save(Writer& out) const override;

  static constexpr Index kPadId = 0;
  static constexpr Index kUnknownId = 1;

  int factors() const { return factors_; }
  // The vocabulary (byte order); word id of vocabulary()[t] is t + 2.
  const std::vector<std::string>& vocabulary() const { return vocab_; }
  // The word ids of a text as the network sees them: tokens, truncated to
  // max_tokens, unknown words -> kUnknownId (needs a fitted or loaded model).
  std::vector<Index> wordIds(const std::string& text) const;
  // The network's output for word ids (empty ids -> the zero vector).
  std::vector<float> embedText(std::span<const Index> ids) const;
  // Runs the network over many texts in length-sorted batches: out is
  // texts.size() x factors, row-major (zero rows for texts without tokens).
  void embedTexts(const std::vector<std::vector<Index>>& ids, std::vector<float>& out) const;
  // The final item vectors (numItems() x factors(), row-major).
  const std::vector<float>& itemVectors() const { return vectors_; }
  // The iALS item factors the CNN was trained on (empty after load).
  const std::vector<float>& cfItemFactors() const { return cfItems_; }

 protected:
  void fitImpl(const InteractionMatrix& train, Progress& progress) override;
  void fitWithText(const TrainSet& train, Progress& progress) override;
  void scoreImpl(const History& history, std::span<float> out) const override;
  std::vector<Contribution> explainImpl(const History& history, Index item, size_t maxCount) const override;
  void loadImpl(Reader& in) override;

 private:
  explicit TextCnn(const OptionReader& reader);
  void buildNetwork();
  // Sets up the fold-in model over vectors_ with the given mean user vector.
  void buildFolder(std::vector<float> meanUser);

  int factors_, embeddingDim_, filters_, minWidth_, maxWidth_, maxTokens_, maxVocab_, minCount_;
  bool tanhActivation_, tanhOutput_;
  double dropout_, blendWeight_, l2_;
  nn::TrainingOptions training_;  // learning_rate (Adam), epochs, batch_size, seed
  int cfIterations_;
  double cfReg_, cfAlpha_;

  std::vector<std::string> vocab_;
  nn::Embedding embedding_;
  std::vector<nn::Conv1d> convs_;
  nn::Dense dense_;
  std::vector<float> vectors_;
  std::vector<float> meanUser_;
  std::vector<float> cfItems_;
  std::unique_ptr<Ials> folder_;
};

}  // namespace localrec

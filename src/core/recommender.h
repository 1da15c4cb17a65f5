// The model contract: every recommender in models/ implements this, and the
// evaluator, the re-ranker and the bindings use models only through it.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/options.h"
#include "core/progress.h"
#include "core/types.h"
#include "data/csr.h"

namespace localrec {

class Writer;
class Reader;

class Recommender {
 public:
  virtual ~Recommender() = default;

  // The registry name ("popularity", "ials", ...).
  virtual std::string kind() const = 0;
  // The complete options this model was created with (defaults filled in).
  const OptionMap& options() const { return options_; }

  // Fits on the training matrix. Options were validated at construction.
  void fit(const InteractionMatrix& train, Progress& progress = Progress::none());

  // Fills one score per catalog item (out.size() must equal numItems()).
  // Higher is better. History items must be in [0, numItems()); the caller maps
  // unknown external ids away before this point. An empty history is valid.
  void score(const History& history, std::span<float> out) const;

  // The history items (Contribution::source = position in the history) or
  // features that contributed most to `item`'s score, strongest first.
  std::vector<Contribution> explain(const History& history, Index item, size_t maxCount = 5) const;

  // Incremental refresh after new events without a full fit, for the models
  // whose supportsUpdate() is true (the others throw StateError). `train` is the
  // whole current training matrix over the SAME catalog (a changed catalog
  // needs a full fit); it may hold users the fit never saw. `changedUsers`
  // lists the users whose rows changed (users added since the fit are always
  // included). A failed or cancelled update leaves the model as it was.
  void update(const InteractionMatrix& train, std::span<const Index> changedUsers,
              Progress& progress = Progress::none());
  virtual bool supportsUpdate() const { return false; }

  // Model parameters only; the file header (kind, options, catalog) is written by io/model_file.
  virtual void save(Writer& out) const = 0;
  // Replaces the parameters with those `in` holds; the model is unfitted until
  // loadImpl succeeds (it must end with setFitted), so a failed load never
  // leaves half-loaded parameters looking usable.
  void load(Reader& in);

  // Catalog size the model scores over (0 before fit).
  Index numItems() const { return numItems_; }
  bool fitted() const { return fitted_; }
  // True when scores are predicted ratings (usable for --task rating).
  virtual bool predictsRatings() const { return false; }

 protected:
  explicit Recommender(OptionMap resolvedOptions) : options_(std::move(resolvedOptions)) {}

  virtual void fitImpl(const InteractionMatrix& train, Progress& progress) = 0;
  virtual void scoreImpl(const History& history, std::span<float> out) const = 0;
  virtual std::vector<Contribution> explainImpl(const History& history, Index item, size_t maxCount) const = 0;
  virtual void loadImpl(Reader& in) = 0;
  // Called only when supportsUpdate(), after update() validated the state, the
  // catalog and the user ids.
  virtual void updateImpl(const InteractionMatrix& train, std::span<const Index> changedUsers, Progress& progress);

  // For load(): marks the model fitted over `numItems` items.
  void setFitted(Index numItems) {
    numItems_ = numItems;
    fitted_ = true;
  }

 private:
  void checkHistory(const History& history) const;

  OptionMap options_;
  Index numItems_ = 0;
  bool fitted_ = false;
};

}  // namespace localrec

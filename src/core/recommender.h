// The model contract: every recommender in models/ implements this, and the
// evaluator, the re-ranker and the bindings use models only through it.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/options.h"
#include "core/progress.h"
#include "core/train_set.h"
#include "core/types.h"
#include "data/csr.h"

namespace localrec {

class Writer;
class Reader;

// A streaming session over one model: events arrive one at a time and the
// scores follow them. Every model offers one (the generic session keeps the
// history and calls score(history)); sequence models override it so that one
// event costs one incremental step. A session refers to its model: the model
// must outlive it and must not be refitted or reloaded while it is open.
class Session {
 public:
  virtual ~Session() = default;
  // Appends one event (item in [0, numItems()); InvalidArgument otherwise).
  virtual void push(Index item) = 0;
  // Scores of every item after the events so far (out.size() == numItems()).
  virtual void score(std::span<float> out) const = 0;
  // Forgets every event (an empty history again).
  virtual void reset() = 0;
  // The events pushed since the start or the last reset, oldest first.
  virtual std::span<const Index> items() const = 0;
  // The catalog size of the model (score() fills this many).
  virtual Index numItems() const = 0;
  size_t size() const { return items().size(); }
};

class Recommender {
 public:
  virtual ~Recommender() = default;

  // The registry name ("popularity", "ials", ...).
  virtual std::string kind() const = 0;
  // The complete options this model was created with (defaults filled in).
  const OptionMap& options() const { return options_; }

  // Fits on the training set: the interactions and, for content models, the
  // item texts. Options were validated at construction. InvalidArgument when the
  // interactions are empty, when itemText holds more texts than the catalog has
  // items, or when the model needsItemText() and none are given.
  void fit(const TrainSet& train, Progress& progress = Progress::none());
  // Convenience: fit on interactions alone (no item texts).
  void fit(const InteractionMatrix& train, Progress& progress = Progress::none()) {
    fit(TrainSet{train, nullptr}, progress);
  }
  // True for content models: fit needs TrainSet::itemText.
  virtual bool needsItemText() const { return false; }
  // True when the model can score an item that has no training interactions
  // from something else (its text; or a baseline that scores every item alike,
  // e.g. random). False for CF and sequence models: such an item's score is
  // meaningless there, and the cold-items evaluation reports them as unable.
  virtual bool scoresColdItems() const { return false; }

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

  // A streaming session starting from an empty history (StateError if unfitted).
  std::unique_ptr<Session> openSession() const;

  // Catalog size the model scores over (0 before fit).
  Index numItems() const { return numItems_; }
  bool fitted() const { return fitted_; }
  // True when scores are predicted ratings (usable for --task rating).
  virtual bool predictsRatings() const { return false; }

 protected:
  explicit Recommender(OptionMap resolvedOptions) : options_(std::move(resolvedOptions)) {}

  virtual void fitImpl(const InteractionMatrix& train, Progress& progress) = 0;
  // The fit entry point; the default forwards the interactions to fitImpl, so
  // models that use no item text implement fitImpl only. Content models override
  // this (train.itemText is non-null when they needsItemText()).
  virtual void fitWithText(const TrainSet& train, Progress& progress) { fitImpl(train.interactions, progress); }
  virtual void scoreImpl(const History& history, std::span<float> out) const = 0;
  virtual std::vector<Contribution> explainImpl(const History& history, Index item, size_t maxCount) const = 0;
  virtual void loadImpl(Reader& in) = 0;
  // The session openSession returns (after checking the model is fitted). The
  // default keeps the history and calls score(history) on every score().
  virtual std::unique_ptr<Session> openSessionImpl() const;
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

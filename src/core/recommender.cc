#include "core/recommender.h"

#include "core/error.h"

namespace localrec {

namespace {
// The generic session: keeps the events and scores them as one history.
class HistorySession : public Session {
 public:
  explicit HistorySession(const Recommender& model) : model_(model) {}
  void push(Index item) override {
    if (item < 0 || item >= model_.numItems())
      fail<InvalidArgument>(model_.kind(), " session: item ", item, " outside the catalog [0, ", model_.numItems(),
                            ")");
    items_.push_back(item);
  }
  void score(std::span<float> out) const override { model_.score(History{items_, {}, {}}, out); }
  void reset() override { items_.clear(); }
  std::span<const Index> items() const override { return items_; }
  Index numItems() const override { return model_.numItems(); }

 private:
  const Recommender& model_;
  std::vector<Index> items_;
};
}  // namespace

std::unique_ptr<Session> Recommender::openSession() const {
  if (!fitted_) fail<StateError>(kind(), ".openSession: the model is not fitted; call fit() or load() first");
  return openSessionImpl();
}

std::unique_ptr<Session> Recommender::openSessionImpl() const { return std::make_unique<HistorySession>(*this); }

void Recommender::fit(const TrainSet& trainSet, Progress& progress) {
  const InteractionMatrix& train = trainSet.interactions;
  if (train.numItems() == 0 || train.nnz() == 0)
    fail<InvalidArgument>(kind(), ".fit: the training data is empty (", train.numUsers(), " users, ",
                          train.numItems(), " items, ", train.nnz(), " interactions)");
  if (trainSet.itemText && trainSet.itemText->size() > train.numItems())
    fail<InvalidArgument>(kind(), ".fit: ", trainSet.itemText->size(), " item texts for a catalog of ",
                          train.numItems(), " items (pass at most one text per item, by item index)");
  if (needsItemText() && !trainSet.itemText)
    fail<InvalidArgument>(kind(), ".fit: this content model needs item texts: pass TrainSet{interactions, "
                          "&itemText} (C++), load them into the dataset before making the split "
                          "(JS: dataset.readMovies / readTags / setItemText), or give the CLI the data "
                          "directory's movies.csv (--items FILE)");
  fitted_ = false;
  numItems_ = 0;
  fitWithText(trainSet, progress);
  setFitted(train.numItems());
}

void Recommender::load(Reader& in) {
  fitted_ = false;
  numItems_ = 0;
  loadImpl(in);
  if (!fitted_) fail<Error>("internal: ", kind(), " loaded its parameters without marking itself fitted");
}

void Recommender::update(const InteractionMatrix& train, std::span<const Index> changedUsers, Progress& progress) {
  if (!supportsUpdate())
    fail<StateError>(kind(), ".update: this model has no incremental update; call fit() on the new data");
  if (!fitted_) fail<StateError>(kind(), ".update: the model is not fitted; call fit() or load() first");
  if (train.numItems() != numItems_)
    fail<InvalidArgument>(kind(), ".update: the data has ", train.numItems(), " items, the model ", numItems_,
                          "; a changed catalog needs a full fit");
  for (size_t t = 0; t < changedUsers.size(); ++t)
    if (changedUsers[t] < 0 || changedUsers[t] >= train.numUsers())
      fail<InvalidArgument>(kind(), ".update: changedUsers[", t, "] = ", changedUsers[t], " outside [0, ",
                            train.numUsers(), ")");
  updateImpl(train, changedUsers, progress);
}

void Recommender::updateImpl(const InteractionMatrix&, std::span<const Index>, Progress&) {
  fail<Error>("internal: ", kind(), " reports supportsUpdate() but does not implement updateImpl");
}

void Recommender::checkHistory(const History& history) const {
  if (!fitted_) fail<StateError>(kind(), ": the model is not fitted; call fit() or load() first");
  if (history.hasValues() && history.values.size() != history.items.size())
    fail<InvalidArgument>("history: ", history.values.size(), " values for ", history.items.size(), " items");
  if (!history.times.empty() && history.times.size() != history.items.size())
    fail<InvalidArgument>("history: ", history.times.size(), " times for ", history.items.size(), " items");
  for (size_t i = 0; i < history.items.size(); ++i)
    if (history.items[i] < 0 || history.items[i] >= numItems_)
      fail<InvalidArgument>("history[", i, "]: item ", history.items[i], " outside the catalog [0, ",
                            numItems_, ")");
}

void Recommender::score(const History& history, std::span<float> out) const {
  checkHistory(history);
  if (out.size() != static_cast<size_t>(numItems_))
    fail<InvalidArgument>(kind(), ".score: output has ", out.size(), " slots, the catalog has ", numItems_,
                          " items");
  scoreImpl(history, out);
}

std::vector<Contribution> Recommender::explain(const History& history, Index item, size_t maxCount) const {
  checkHistory(history);
  if (item < 0 || item >= numItems_)
    fail<InvalidArgument>(kind(), ".explain: item ", item, " outside the catalog [0, ", numItems_, ")");
  return explainImpl(history, item, maxCount);
}

}  // namespace localrec

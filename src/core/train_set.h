// What a model fits on: the training interactions and, optionally, item texts.
#pragma once

#include <string>
#include <vector>

#include "core/types.h"
#include "data/csr.h"

namespace localrec {

// One UTF-8 text per catalog item, by dense item index ("" = the item has no
// text). For MovieLens, data/item_text.h builds it from movies.csv (title and
// genres) and tags.csv. Content models (needsItemText()) tokenize it; the other
// models ignore it. Invalid UTF-8 is tolerated (the tokenizer skips it).
struct ItemText {
  std::vector<std::string> texts;
  // Per item, how many bytes at the end of its text its users wrote (MovieLens
  // tags, with the line breaks before them); missing or 0: none. A cold-start
  // split drops that part from the items it holds out (data/item_text.h).
  std::vector<size_t> userSuffix;

  Index size() const { return static_cast<Index>(texts.size()); }
  bool empty() const { return texts.empty(); }
  // Item i's text, "" beyond the end (a catalog that grew after the texts were set).
  const std::string& of(Index item) const {
    static const std::string none;
    return item >= 0 && item < size() ? texts[static_cast<size_t>(item)] : none;
  }
};

// The input of Recommender::fit. `itemText`, when given, has at most one text
// per catalog item (interactions.numItems()); items beyond its end have none.
struct TrainSet {
  const InteractionMatrix& interactions;
  const ItemText* itemText = nullptr;
};

}  // namespace localrec

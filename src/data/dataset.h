// A dataset: id maps plus the interaction table, as read from a file or built from events.
#pragma once

#include <string>

#include "core/train_set.h"
#include "data/id_map.h"
#include "data/interactions.h"

namespace localrec {

struct Dataset {
  std::string source;  // file name or label, used in error messages
  IdMap users;
  IdMap items;
  Interactions rows;
  bool hasRatings = false;     // values are explicit ratings (else all 1)
  bool hasTimestamps = false;  // times are real (else 0)
  // Item texts by item index (data/item_text.h fills it); empty when none were
  // loaded. May be shorter than the catalog: later items have no text.
  ItemText itemText;

  Index numUsers() const { return users.size(); }
  Index numItems() const { return items.size(); }
  size_t numInteractions() const { return rows.size(); }
};

}  // namespace localrec

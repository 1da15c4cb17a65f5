// Train/test splits of an interaction table. All are seeded and reproducible;
// train and test share the dataset's id space.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "data/interactions.h"

namespace localrec {

struct Split {
  Interactions train;
  Interactions test;
  // The items each test user ranks, ascending; empty = the whole catalog.
  // Set by the cold-items split (its held-out items); EvalOptions::candidates.
  std::vector<Index> candidates = {};
};

// Each user's last interaction (by time, ties by file order) is the test row;
// users with a single interaction stay wholly in train.
Split leaveLastOut(const Interactions& rows, Index numUsers);

// Rows strictly before the global time cut go to train: the cut is the time
// below which `trainFraction` of the rows fall (ties by file order).
Split temporalSplit(const Interactions& rows, double trainFraction);

// Per user, a seeded random `trainFraction` of their rows (rounded, at least one
// row kept in train) go to train, the rest to test.
Split ratioSplit(const Interactions& rows, Index numUsers, double trainFraction, uint64_t seed);

// Rows are shuffled (seeded) into k folds; fold `fold` is the test part.
Split kfoldSplit(const Interactions& rows, int k, int fold, uint64_t seed);

// Cold items: a seeded `heldOutFraction` of the items that have interactions
// (rounded, at least 1, at most all but one) are held out with ALL their rows:
// those rows are the test part, everything else is train, and `candidates`
// lists the held-out items. So no held-out item has a training interaction,
// and a test user ranks the held-out items from their training history.
Split coldItemsSplit(const Interactions& rows, double heldOutFraction, uint64_t seed);

// Parses "leave-last-out", "temporal:0.8", "ratio:0.8", "kfold:5" (fold 0) or
// "kfold:5:2", "cold-items:0.1" (the held-out item fraction) and applies it. Throws InvalidArgument listing the valid forms.
Split splitBySpec(const Interactions& rows, Index numUsers, std::string_view spec, uint64_t seed);

}  // namespace localrec

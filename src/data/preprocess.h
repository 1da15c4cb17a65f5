// Preprocessing steps on a Dataset's interactions. Each returns a new table (or
// modifies in place where noted) and keeps file order among the rows it keeps.
#pragma once

#include <string_view>

#include "data/dataset.h"

namespace localrec {

enum class DuplicatePolicy { Keep, First, Last, Sum, Max };
// "keep", "first", "last", "sum", "max"; throws InvalidArgument listing them.
DuplicatePolicy parseDuplicatePolicy(std::string_view name);

// Collapses repeated (user, item) pairs. First/Last keep that row (by time,
// then file order); Sum adds the values; Max keeps the largest value.
Interactions dedupe(const Interactions& rows, DuplicatePolicy policy);

// Repeatedly drops users with fewer than minUserInteractions and items with
// fewer than minItemInteractions until both hold. Ids are not renumbered.
Interactions kcore(const Interactions& rows, int minUserInteractions, int minItemInteractions);

// Keeps rows with value >= threshold and sets their value to 1.
Interactions implicitFromThreshold(const Interactions& rows, float threshold);

// Renumbers users and items to those that still occur (dropping the rest from
// the id maps), keeping the order of first appearance. Item texts follow their
// items; items without interactions (e.g. unrated movies from movies.csv) are dropped.
void compact(Dataset& dataset);

}  // namespace localrec

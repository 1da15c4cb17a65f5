// A start for the item tables of the sequence models (caser, gru4rec): the item
// factors of an iALS fit on the same training data. iALS learns which items go
// together from every pair of items a user has; next-item examples alone see
// far fewer pairs (about 100,000 examples for 9,700 items on the embedded data),
// so a random start leaves the networks short of that (docs/benchmarks.md,
// "caser: defaults"). The start is only as good as the factors: where every
// user has nearly every item they barely differ, and init=random does better.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "core/options.h"
#include "core/progress.h"
#include "data/csr.h"
#include "nn/matrix.h"

namespace localrec::seq {

// `own` followed by the options `init` (ials | random, default `defaultInit`),
// `init_reg` and `init_iterations` (the inner iALS fit's reg and iterations).
std::vector<OptionSpec> withIalsStartOptions(std::vector<OptionSpec> own, const std::string& defaultInit);

struct IalsStart {
  bool enabled = false;
  std::string reg;         // option texts, passed on exactly as given
  std::string iterations;
};
// Reads (and so validates) the three options.
IalsStart readIalsStart(const OptionReader& reader);

// The share of a fit's progress that a model gives its inner iALS fit(s).
inline constexpr double kIalsStartProgress = 0.1;

// When start.enabled: fits iALS (`factors` factors, the start's reg and
// iterations, `seed`, ials's other defaults) on `train`, reporting its progress
// as [from, from + span) of `progress`, and copies item i's factors into the
// first `factors` columns of row i of every table (rows >= numItems, e.g. a
// padding row, are left alone). Does nothing otherwise.
void startFromIals(const IalsStart& start, const InteractionMatrix& train, size_t factors, int seed,
                   std::initializer_list<nn::Matrix*> tables, Progress& progress, double from, double span);

}  // namespace localrec::seq

#include "models/seq/ials_start.h"

#include <algorithm>

#include "models/cf/ials.h"

namespace localrec::seq {

std::vector<OptionSpec> withIalsStartOptions(std::vector<OptionSpec> own, const std::string& defaultInit) {
  own.insert(own.end(), {
      {"init", "choice", defaultInit, 0, 0, {"ials", "random"},
       "item tables (input and output) start from the item factors of an iALS fit on the same data, or random "
       "(then a higher learning_rate suits, see docs/benchmarks.md)"},
      {"init_reg", "float", "10", 1e-6, 1e6, {}, "init=ials: the inner iALS fit's reg"},
      {"init_iterations", "int", "30", 1, 1000, {}, "init=ials: the inner iALS fit's iterations"},
  });
  return own;
}

IalsStart readIalsStart(const OptionReader& reader) {
  IalsStart start;
  start.enabled = reader.getChoice("init") == "ials";
  reader.getFloat("init_reg");
  reader.getInt("init_iterations");
  const OptionMap resolved = reader.resolved();
  start.reg = resolved.at("init_reg");
  start.iterations = resolved.at("init_iterations");
  return start;
}

void startFromIals(const IalsStart& start, const InteractionMatrix& train, size_t factors, int seed,
                   std::initializer_list<nn::Matrix*> tables, Progress& progress, double from, double span) {
  if (!start.enabled) return;
  Ials cf(OptionMap{{"factors", std::to_string(factors)},
                    {"reg", start.reg},
                    {"iterations", start.iterations},
                    {"seed", std::to_string(seed)}});
  Progress inner([&](double fraction, const std::string&) {
    progress.report(from + span * fraction, "ials init");
    return false;
  });
  cf.fit(train, inner);
  const std::vector<float>& q = cf.itemFactors();
  for (nn::Matrix* table : tables)
    for (Index i = 0; i < train.numItems(); ++i)
      std::copy_n(q.data() + static_cast<size_t>(i) * factors, factors, table->row(static_cast<size_t>(i)));
}

}  // namespace localrec::seq

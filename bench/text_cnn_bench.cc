// text_cnn: embedding a whole catalog of the embedded data's size (9,742 items)
// from its texts, with the default network (embedding 32, widths 1-3 x 32
// filters, 64 factors, max_tokens 64). The texts are synthetic with the shape
// of ml-latest-small's movies.csv + tags.csv item texts: a 2-6 word title, a
// year, 1-4 genres, and for one item in five 1-40 tag words (mean about 9
// tokens, a few long ones); words Zipf-distributed over a 20,000-word pool.
// The model is fitted for one epoch on a small random interaction set first
// (the weights' values do not change the cost).
// Measured: text -> tokens -> ids -> network for every item, in
// length-sorted batches (embedTexts), best of `runs` runs.
// Prints one JSON line per measurement. Usage: bench_text_cnn_bench [runs]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/rng.h"
#include "models/content/text_cnn.h"
#include "synthetic.h"

namespace {

using Clock = std::chrono::steady_clock;
using localrec::Index;

constexpr Index kItems = 9742, kUsers = 610, kPool = 20000;

std::string word(localrec::Rng& rng, const localrec::bench::ZipfItems& zipf) {
  return "w" + std::to_string(zipf.draw(rng));
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  localrec::Rng rng(3);
  const localrec::bench::ZipfItems pool(static_cast<size_t>(kPool));  // word ids
  localrec::ItemText text;
  size_t tokens = 0;
  for (Index i = 0; i < kItems; ++i) {
    std::string s;
    const int title = 2 + static_cast<int>(rng.below(5)), genres = 1 + static_cast<int>(rng.below(4));
    const int tags = rng.below(5) == 0 ? 1 + static_cast<int>(rng.below(40)) : 0;
    for (int k = 0; k < title; ++k) s += word(rng, pool) + " ";
    s += "(" + std::to_string(1950 + rng.below(70)) + ") ";
    for (int k = 0; k < genres; ++k) s += "genre" + std::to_string(rng.below(20)) + "|";
    for (int k = 0; k < tags; ++k) s += " " + word(rng, pool);
    tokens += static_cast<size_t>(title + 1 + genres + tags);
    text.texts.push_back(std::move(s));
  }
  localrec::Interactions rows;
  for (Index u = 0; u < kUsers; ++u)
    for (int k = 0; k < 20; ++k) rows.push(u, static_cast<Index>(rng.below(kItems)), 1, k);
  const localrec::InteractionMatrix train(rows, kUsers, kItems);
  localrec::TextCnn model({{"epochs", "1"}, {"cf_iterations", "2"}});
  model.fit(localrec::TrainSet{train, &text});

  double best = 1e30;
  std::vector<float> out;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = Clock::now();
    std::vector<std::vector<Index>> ids(static_cast<size_t>(kItems));
    for (Index i = 0; i < kItems; ++i) ids[static_cast<size_t>(i)] = model.wordIds(text.of(i));
    model.embedTexts(ids, out);
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  // The sum of every embedding, so the work cannot be optimized away and the
  // builds can be compared. Two decimals: native (Eigen) and wasm (packed SIMD
  // kernel) round differently in the fourth, and bench/run.mjs would split the
  // row on a parameter that differs between builds.
  double check = 0;
  for (float v : out) check += v;
  std::printf("{\"bench\":\"text_cnn_embed_catalog\",\"items\":%d,\"tokens\":%zu,\"vocab\":%zu,\"ms\":%.1f,\"checksum\":%.2f}\n",
              static_cast<int>(kItems), tokens, model.vocabulary().size(), best * 1000, check);
  return 0;
}

// The gru4rec model end to end: training events/s of Gru4Rec::fit (one epoch,
// session-parallel, batch 64, cross-entropy over the batch targets plus
// n_sample shared negatives, adagrad) at hidden 64 and 128 with 512 and 2048
// negatives, on 1,000 synthetic users x 100 events drawn Zipf(1.0) over 3,416
// items (the peers.md catalog); and streaming inference: one session push (one
// GRU step) plus scores for all items of a 10,000-item catalog, in microseconds.
// An event = one predicted position (a user's 100 events give 99). The fits use
// init=random: the timed work is the GRU training, not the inner iALS fit that
// init=ials (the default) adds before it.
// Prints one JSON line per measurement. Usage: bench_gru4rec_bench [seconds per run]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/rng.h"
#include "data/csr.h"
#include "models/seq/gru4rec.h"
#include "synthetic.h"

namespace {

using Clock = std::chrono::steady_clock;
using localrec::Index;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  const auto train = localrec::bench::zipfInteractions(3416, 1000, 100, 7);
  const double eventsPerEpoch = 1000.0 * 99.0;
  for (int hidden : {64, 128})
    for (int negatives : {512, 2048}) {
      localrec::Gru4Rec model({{"hidden", std::to_string(hidden)}, {"embedding", "64"}, {"init", "random"},
                               {"n_sample", std::to_string(negatives)}, {"epochs", "1"}, {"batch_size", "64"}});
      model.fit(train);  // warm-up
      std::vector<double> rates;
      const auto start = Clock::now();
      do {
        const auto t = Clock::now();
        model.fit(train);
        rates.push_back(eventsPerEpoch / secondsSince(t));
      } while (secondsSince(start) < seconds || rates.size() < 3);
      std::sort(rates.begin(), rates.end());
      std::printf("{\"bench\":\"gru4rec_train\",\"hidden\":%d,\"negatives\":%d,\"events_per_s\":%.0f,\"runs\":%zu}\n",
                  hidden, negatives, rates[rates.size() / 2], rates.size());
      std::fflush(stdout);
    }

  // Streaming: a 10,000-item model (one quick epoch), then push + score.
  const auto big = localrec::bench::zipfInteractions(10000, 300, 50, 9);
  for (int hidden : {64, 128}) {
    localrec::Gru4Rec model({{"hidden", std::to_string(hidden)}, {"embedding", "64"}, {"init", "random"}, {"epochs", "1"}});
    model.fit(big);
    auto session = model.openSession();
    std::vector<float> scores(10000);
    localrec::Rng rng(3);
    size_t steps = 0;
    const auto start = Clock::now();
    do {
      if (session->size() >= 1000) session->reset();
      session->push(static_cast<Index>(rng.below(10000)));
      session->score(scores);
      ++steps;
    } while (secondsSince(start) < seconds);
    std::printf("{\"bench\":\"gru4rec_stream_step_score\",\"hidden\":%d,\"items\":10000,\"step_us\":%.1f}\n", hidden,
                1e6 * secondsSince(start) / double(steps));
  }
}

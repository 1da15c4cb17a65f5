// Progress reporting and cooperative cancellation for long work (fit, evaluate).
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "core/error.h"

namespace localrec {

// The callback gets the fraction done in [0, 1] and a short stage name; it
// returns true to ask for cancellation (the JS side passes its AbortSignal's state).
class Progress {
 public:
  using Callback = std::function<bool(double fraction, const std::string& stage)>;

  Progress() = default;
  explicit Progress(Callback callback) : callback_(std::move(callback)) {}

  // Reports progress; throws Cancelled if the caller asked to stop.
  void report(double fraction, const std::string& stage) {
    if (callback_ && callback_(fraction, stage)) cancel();
    checkCancelled();
  }

  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  void checkCancelled() const {
    if (cancelled()) throw Cancelled();
  }

  // A Progress that reports nothing and is never cancelled.
  static Progress& none() {
    thread_local Progress silent;
    return silent;
  }

 private:
  Callback callback_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace localrec

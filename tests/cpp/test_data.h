// Data shared by several test files: a whole file read into memory, the
// deterministic item cycle the sequence models must learn, and argmax.
#pragma once

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "core/types.h"
#include "data/csr.h"

namespace localrec::test {

// The bytes of the file at `path` (the test fails if it cannot be opened).
inline std::string readTextFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  REQUIRE(f != nullptr);
  std::string text;
  char buf[1 << 16];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  std::fclose(f);
  return text;
}

inline constexpr Index kCycle = 10;

// 60 users, each walking the cycle 0 -> 1 -> ... -> 9 -> 0 from a different
// start for 12 steps: the next item is always (item + 1) mod 10.
inline InteractionMatrix cycleData() {
  Interactions rows;
  for (Index u = 0; u < 60; ++u)
    for (Index k = 0; k < 12; ++k) rows.push(u, (u + k) % kCycle, 1.0f, Timestamp{1000} * u + k);
  return InteractionMatrix(rows, 60, kCycle);
}

inline Index argmax(const std::vector<float>& v) {
  return static_cast<Index>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace localrec::test

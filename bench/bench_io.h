// File input shared by the C++ benchmarks that read the embedded data (header
// only; the bench CMakeLists builds every *.cc here into its own executable).
#pragma once

#include <cstdio>
#include <string>

namespace localrec::bench {

// Appends the whole file at `path` to `out`; false when it cannot be opened.
inline bool readFile(const char* path, std::string& out) {
  std::FILE* f = std::fopen(path, "rb");
  if (f == nullptr) return false;
  char buf[1 << 16];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  std::fclose(f);
  return true;
}

}  // namespace localrec::bench

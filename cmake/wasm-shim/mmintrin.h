// clang's own <mmintrin.h> refuses the wasm target; Eigen's SSE path only needs
// what <xmmintrin.h> provides, which Emscripten maps onto wasm SIMD128.
#pragma once
#include <xmmintrin.h>

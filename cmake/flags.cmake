# Compile flags shared by every localrec target, carried by an INTERFACE target
# (never global), so each consumer inherits them through target_link_libraries.

add_library(localrec_flags INTERFACE)
target_compile_options(localrec_flags INTERFACE -Wall -Wextra -Wno-unused-parameter)

if(EMSCRIPTEN)
  # Exceptions must be on for C++ catch blocks to run; the bindings turn them into JS Errors.
  target_compile_options(localrec_flags INTERFACE -fexceptions)
  target_link_options(localrec_flags INTERFACE -fexceptions)
  if(NOT LOCALREC_WASM_SCALAR)
    # wasm SIMD128 for our own kernels; -msse2 makes Eigen take its SSE path,
    # which Emscripten maps onto SIMD128. The shim folder provides an
    # <mmintrin.h> that clang's wasm target lacks; -fgnuc-version=5.13 keeps
    # Eigen away from x86 inline asm (docs/toolchain.md).
    target_compile_options(localrec_flags INTERFACE -msimd128 -msse2 -fgnuc-version=5.13)
    target_include_directories(localrec_flags SYSTEM INTERFACE ${CMAKE_CURRENT_LIST_DIR}/wasm-shim)
  else()
    target_compile_definitions(localrec_flags INTERFACE LOCALREC_SCALAR_ONLY=1 EIGEN_DONT_VECTORIZE=1)
  endif()
else()
  if(CMAKE_BUILD_TYPE STREQUAL "Release")
    target_compile_options(localrec_flags INTERFACE -march=native)
  endif()
  if(LOCALREC_SANITIZE)
    target_compile_options(localrec_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                                    -fno-sanitize-recover=undefined)
    target_link_options(localrec_flags INTERFACE -fsanitize=address,undefined)
  endif()
endif()

# A wasm executable that runs under node (tests, benchmarks).
function(localrec_node_executable target)
  if(EMSCRIPTEN)
    target_link_options(${target} PRIVATE -sWASM_ASYNC_COMPILATION=0 -sENVIRONMENT=node -sEXIT_RUNTIME=1
                        -sALLOW_MEMORY_GROWTH=1 -sNODERAWFS=1)
    set_target_properties(${target} PROPERTIES SUFFIX ".js")
  endif()
endfunction()

if(EMSCRIPTEN)
  # The repo's package.json says "type": "module"; the node runners above are
  # CommonJS .js files, so mark the build tree as CommonJS for node.
  file(WRITE ${CMAKE_BINARY_DIR}/package.json "{ \"type\": \"commonjs\" }\n")
endif()

# Third-party dependencies from Debian packages (scripts/bootstrap.sh installs them).

if(EMSCRIPTEN)
  # The Emscripten toolchain restricts find_package to its sysroot; Eigen and
  # Catch2 are header-only host packages, so let it look at the host too.
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
endif()

find_package(Eigen3 3.3 REQUIRED NO_MODULE)

if(LOCALREC_BUILD_TESTS)
  if(EMSCRIPTEN)
    # Catch2::Catch2 carries -isystem /usr/include, which pulls host glibc headers
    # into the wasm build. Expose only the catch2/ folder through a private include dir.
    set(_catch_dir ${CMAKE_BINARY_DIR}/catch2-include)
    file(MAKE_DIRECTORY ${_catch_dir})
    if(NOT EXISTS ${_catch_dir}/catch2)
      file(CREATE_LINK /usr/include/catch2 ${_catch_dir}/catch2 SYMBOLIC)
    endif()
    add_library(localrec_catch2 INTERFACE)
    target_include_directories(localrec_catch2 SYSTEM INTERFACE ${_catch_dir})
  else()
    find_package(Catch2 2 REQUIRED)
    add_library(localrec_catch2 INTERFACE)
    target_link_libraries(localrec_catch2 INTERFACE Catch2::Catch2)
  endif()
endif()

// The engine's exceptions. Every failure the caller can cause is one of these,
// with a message that says what, where, and which values are valid.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace localrec {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, const char* code = "LOCALREC_ERROR")
      : std::runtime_error(message), code_(code) {}
  const char* code() const noexcept { return code_; }

 private:
  const char* code_;
};

// A bad argument or option: names the argument and the valid values.
class InvalidArgument : public Error {
 public:
  explicit InvalidArgument(const std::string& m) : Error(m, "INVALID_ARGUMENT") {}
};

// Malformed input data: names the source, line and field.
class ParseError : public Error {
 public:
  explicit ParseError(const std::string& m) : Error(m, "PARSE_ERROR") {}
};

// A model file that is truncated, corrupted or of an unknown version.
class FormatError : public Error {
 public:
  explicit FormatError(const std::string& m) : Error(m, "FORMAT_ERROR") {}
};

// An operation that needs state the object does not have (e.g. score before fit).
class StateError : public Error {
 public:
  explicit StateError(const std::string& m) : Error(m, "STATE_ERROR") {}
};

// Work stopped because the caller asked for it.
class Cancelled : public Error {
 public:
  Cancelled() : Error("cancelled by the caller", "CANCELLED") {}
};

// Builds a message from streamable parts: fail<InvalidArgument>("k must be > 0, got ", k).
template <class E = Error, class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream os;
  (os << ... << parts);
  throw E(os.str());
}

}  // namespace localrec

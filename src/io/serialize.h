// Little-endian binary writer and bounds-checked reader for model files.
// The Reader never reads past its buffer: every short read is a FormatError
// naming what was being read and at which offset.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace localrec {

class Writer {
 public:
  void u8(uint8_t v);
  void u32(uint32_t v);
  void i32(int32_t v);
  void u64(uint64_t v);
  void i64(int64_t v);
  void f32(float v);
  void f64(double v);
  void string(std::string_view s);        // u32 length + bytes
  void floats(std::span<const float> v);  // u64 count + data
  void ints(std::span<const int32_t> v);  // u64 count + data
  void raw(const void* data, size_t n);

  // Overwrites bytes already written (for length fields known only later).
  void patchU64(size_t offset, uint64_t v);

  const std::vector<uint8_t>& bytes() const { return buf_; }
  std::vector<uint8_t>& bytes() { return buf_; }
  size_t size() const { return buf_.size(); }

 private:
  std::vector<uint8_t> buf_;
};

class Reader {
 public:
  // `what` names the source in error messages ("model file", a path, ...).
  explicit Reader(std::span<const uint8_t> data, std::string what = "model file");

  uint8_t u8(const char* field);
  uint32_t u32(const char* field);
  int32_t i32(const char* field);
  uint64_t u64(const char* field);
  int64_t i64(const char* field);
  float f32(const char* field);
  double f64(const char* field);
  std::string string(const char* field, size_t maxLength = 1 << 20);
  // Reads a count then that many values; `expected` (if not SIZE_MAX) must match the count.
  std::vector<float> floats(const char* field, size_t expected = SIZE_MAX);
  std::vector<int32_t> ints(const char* field, size_t expected = SIZE_MAX);
  void raw(void* out, size_t n, const char* field);
  // A view of the next n bytes (no copy); advances past them.
  std::span<const uint8_t> view(size_t n, const char* field);

  // Throws FormatError unless every byte was consumed.
  void expectEnd(const char* field) const;

  size_t offset() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  const std::string& what() const { return what_; }

 private:
  void need(size_t n, const char* field) const;

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  std::string what_;
};

}  // namespace localrec

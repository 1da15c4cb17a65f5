#include "io/serialize.h"

#include <cstring>
#include <limits>

#include "core/error.h"

namespace localrec {

// The format is little-endian; every target we build for (x86-64, wasm32) is too.
static_assert(sizeof(float) == 4 && sizeof(double) == 8);

void Writer::raw(const void* data, size_t n) {
  if (n == 0) return;  // data may be null for an empty span
  const auto* p = static_cast<const uint8_t*>(data);
  buf_.insert(buf_.end(), p, p + n);
}
void Writer::u8(uint8_t v) { buf_.push_back(v); }
void Writer::u32(uint32_t v) { raw(&v, 4); }
void Writer::i32(int32_t v) { raw(&v, 4); }
void Writer::u64(uint64_t v) { raw(&v, 8); }
void Writer::i64(int64_t v) { raw(&v, 8); }
void Writer::f32(float v) { raw(&v, 4); }
void Writer::f64(double v) { raw(&v, 8); }
void Writer::string(std::string_view s) {
  if (s.size() > std::numeric_limits<uint32_t>::max())
    fail<InvalidArgument>("Writer::string: ", s.size(), " bytes do not fit a u32 length");
  u32(static_cast<uint32_t>(s.size()));
  raw(s.data(), s.size());
}
void Writer::floats(std::span<const float> v) {
  u64(v.size());
  raw(v.data(), v.size() * sizeof(float));
}
void Writer::ints(std::span<const int32_t> v) {
  u64(v.size());
  raw(v.data(), v.size() * sizeof(int32_t));
}
void Writer::patchU64(size_t offset, uint64_t v) {
  if (offset > buf_.size() || buf_.size() - offset < 8)
    fail<Error>("internal: Writer::patchU64 at ", offset, " outside the ", buf_.size(), " bytes written");
  std::memcpy(buf_.data() + offset, &v, 8);
}

Reader::Reader(std::span<const uint8_t> data, std::string what) : data_(data), what_(std::move(what)) {}

void Reader::need(size_t n, const char* field) const {
  if (n > remaining())
    fail<FormatError>(what_, ": truncated at byte ", pos_, " while reading ", field, " (needs ", n,
                      " bytes, ", remaining(), " left)");
}

void Reader::raw(void* out, size_t n, const char* field) {
  need(n, field);
  if (n) std::memcpy(out, data_.data() + pos_, n);
  pos_ += n;
}

std::span<const uint8_t> Reader::view(size_t n, const char* field) {
  need(n, field);
  auto out = data_.subspan(pos_, n);
  pos_ += n;
  return out;
}

void Reader::expectEnd(const char* field) const {
  if (remaining() != 0)
    fail<FormatError>(what_, ": ", remaining(), " unexpected bytes after ", field, " at byte ", pos_);
}

uint8_t Reader::u8(const char* f) {
  uint8_t v;
  raw(&v, 1, f);
  return v;
}
uint32_t Reader::u32(const char* f) {
  uint32_t v;
  raw(&v, 4, f);
  return v;
}
int32_t Reader::i32(const char* f) {
  int32_t v;
  raw(&v, 4, f);
  return v;
}
uint64_t Reader::u64(const char* f) {
  uint64_t v;
  raw(&v, 8, f);
  return v;
}
int64_t Reader::i64(const char* f) {
  int64_t v;
  raw(&v, 8, f);
  return v;
}
float Reader::f32(const char* f) {
  float v;
  raw(&v, 4, f);
  return v;
}
double Reader::f64(const char* f) {
  double v;
  raw(&v, 8, f);
  return v;
}

std::string Reader::string(const char* field, size_t maxLength) {
  const uint32_t n = u32(field);
  if (n > maxLength)
    fail<FormatError>(what_, ": ", field, " at byte ", pos_ - 4, " claims ", n, " bytes (limit ", maxLength,
                      ")");
  need(n, field);  // before allocating, so a corrupted length cannot ask for memory
  std::string s(n, '\0');
  raw(s.data(), n, field);
  return s;
}

namespace {
template <class T>
std::vector<T> readArray(Reader& r, const char* field, size_t expected) {
  const size_t at = r.offset();
  const uint64_t n = r.u64(field);
  if (expected != SIZE_MAX && n != expected)
    fail<FormatError>(r.what(), ": ", field, " at byte ", at, " has ", n, " values, expected ", expected);
  // Check against the bytes left before allocating, so a corrupted count cannot ask for gigabytes.
  const size_t fit = r.remaining() / sizeof(T);
  if (n > fit)
    fail<FormatError>(r.what(), ": truncated at byte ", at + 8, " while reading ", field, " (", n,
                      " values claimed, ", fit, " fit)");
  std::vector<T> v(static_cast<size_t>(n));
  r.raw(v.data(), v.size() * sizeof(T), field);
  return v;
}
}  // namespace

std::vector<float> Reader::floats(const char* field, size_t expected) {
  return readArray<float>(*this, field, expected);
}
std::vector<int32_t> Reader::ints(const char* field, size_t expected) {
  return readArray<int32_t>(*this, field, expected);
}

}  // namespace localrec

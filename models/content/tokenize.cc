#include "models/content/tokenize.h"

#include <cstdint>

namespace localrec {

namespace {

// Decodes one code point at text[pos]; returns its length in bytes, or 0 for
// an invalid sequence (then the caller skips one byte).
size_t decode(std::string_view text, size_t pos, uint32_t& cp) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[pos + k]); };
  const uint8_t b0 = byte(0);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  size_t len;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;  // a continuation byte or 0xF8..0xFF where a sequence should start
  }
  if (pos + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool isWordChar(uint32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7) return false;
  if (cp >= 0x2000 && cp <= 0x206F) return false;
  if (cp >= 0x3000 && cp <= 0x303F) return false;
  if ((cp >= 0xFE10 && cp <= 0xFE1F) || (cp >= 0xFE30 && cp <= 0xFE4F) || cp == 0xFEFF) return false;
  if ((cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
      (cp >= 0xFF5B && cp <= 0xFF65))
    return false;
  return true;
}

uint32_t fold(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
  if (cp >= 0x100 && cp <= 0x17F) {
    if (cp == 0x130 || cp == 0x131 || cp == 0x138 || cp == 0x149 || cp == 0x17F) return cp;
    if (cp == 0x178) return 0xFF;
    // Upper case on even code points in 0100-0137 and 014A-0177, on odd ones in 0139-0148 and 0179-017E.
    const bool evenUpper = cp <= 0x137 || (cp >= 0x14A && cp <= 0x177);
    const bool isUpper = evenUpper ? (cp % 2 == 0) : (cp % 2 == 1);
    return isUpper ? cp + 1 : cp;
  }
  if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 0x20;
  if (cp == 0x386) return 0x3AC;
  if (cp >= 0x388 && cp <= 0x38A) return cp + 0x25;
  if (cp == 0x38C) return 0x3CC;
  if (cp == 0x38E || cp == 0x38F) return cp + 0x3F;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
  return cp;
}

void append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::vector<std::string> tokenize(std::string_view text, size_t maxTokens) {
  std::vector<std::string> tokens;
  std::string current;
  const auto flush = [&]() {
    if (current.size() >= 2 && tokens.size() < maxTokens) tokens.push_back(current);
    current.clear();
  };
  for (size_t pos = 0; pos < text.size() && tokens.size() < maxTokens;) {
    uint32_t cp = 0;
    const size_t len = decode(text, pos, cp);
    if (len == 0) {
      flush();
      ++pos;
      continue;
    }
    pos += len;
    if (!isWordChar(cp)) {
      flush();
      continue;
    }
    const uint32_t lower = fold(cp);
    const size_t bytes = lower < 0x80 ? 1 : lower < 0x800 ? 2 : lower < 0x10000 ? 3 : 4;
    if (current.size() + bytes <= kMaxTokenBytes) append(current, lower);
  }
  flush();
  return tokens;
}

}  // namespace localrec

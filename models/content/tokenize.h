// The tokenizer of the content models: UTF-8 text -> lower-cased word tokens.
//
// Rules (docs/architecture.md, "Item texts", repeats them):
// - The text is decoded as UTF-8. A byte that does not start a valid sequence
//   (stray continuation bytes, truncated or overlong sequences, surrogates,
//   code points above U+10FFFF) ends the current token and is skipped: invalid
//   input never fails and never produces a token of its own.
// - ASCII letters and digits are word characters; every other ASCII character
//   (space, punctuation, symbols, controls) separates tokens.
// - Non-ASCII code points are word characters (so text in any script gives
//   tokens), except these separators: U+0080-U+00BF (Latin-1 controls and
//   symbols such as NBSP, guillemets, inverted marks), U+00D7, U+00F7,
//   U+2000-U+206F (general punctuation: dashes, quotes, ellipsis, spaces),
//   U+3000-U+303F (CJK punctuation, ideographic space), U+FE10-U+FE1F,
//   U+FE30-U+FE4F, U+FEFF (BOM), and the ASCII-like punctuation of the
//   fullwidth forms U+FF01-U+FF0F, U+FF1A-U+FF20, U+FF3B-U+FF40, U+FF5B-U+FF65.
//   Scripts written without spaces (CJK, Thai) are not segmented: a run between
//   separators is one token.
// - Case folding (simple one-to-one mappings only): ASCII A-Z; Latin-1
//   U+00C0-U+00DE (not U+00D7); Latin Extended-A U+0100-U+017F pairs, and
//   U+0178 -> U+00FF, but not U+0130 (dotted I, whose lower case is two code
//   points) or U+0131; basic Greek U+0391-U+03AB (not U+03A2) and U+0386-U+038F;
//   basic Cyrillic U+0400-U+042F. Nothing else is folded (no other scripts, no
//   Unicode normalization: a precomposed and a decomposed accent are different).
// - Tokens shorter than 2 bytes (UTF-8) are dropped (so single ASCII letters
//   and digits, but not a single accented letter or CJK character); a token
//   longer than kMaxTokenBytes is cut at a code point boundary.
// - At most `maxTokens` tokens are returned (default kMaxTokens, 10,000): the
//   rest of a very long text is ignored.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace localrec {

constexpr size_t kMaxTokens = 10000;
constexpr size_t kMaxTokenBytes = 100;

std::vector<std::string> tokenize(std::string_view text, size_t maxTokens = kMaxTokens);

}  // namespace localrec

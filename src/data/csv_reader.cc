#include "data/csv_reader.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

#include "core/error.h"

namespace localrec {

namespace {

constexpr const char* kFormatList = "auto, movielens, ml100k, ml1m, csv";

// Column roles a header may name, compared after normalizeName() (lowercase, no
// '_', '-', ' ', '.'), so "user_id", "User ID" and "userId" all match "userid".
constexpr const char* kUserNames[] = {"userid",    "user",      "uid",        "customerid",
                                      "customer",  "visitorid", "reviewerid", "memberid",
                                      "accountid", "clientid",  "personid",   "sessionid"};
constexpr const char* kItemNames[] = {"movieid", "itemid", "item",      "iid",       "productid",
                                      "product", "movie",  "asin",      "trackid",   "songid",
                                      "bookid",  "isbn",   "articleid", "contentid", "sku"};
constexpr const char* kRatingNames[] = {"rating", "value", "score",     "stars",     "weight",
                                        "count",  "plays", "playcount", "preference"};
constexpr const char* kTimeNames[] = {"timestamp",      "time",  "ts",       "unixtime",
                                      "unixreviewtime", "epoch", "eventtime"};

constexpr const char* kHeaderHelp =
    "user (userId, user_id, user, uid, customer_id, ...), item (movieId, item_id, item, product_id, "
    "...), optional rating (rating, value, score, ...), optional timestamp (timestamp, time, ts, ...)";

bool isDigit(char c) { return static_cast<unsigned>(c - '0') < 10u; }

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

// The field as shown in an error: quoted, shortened when long.
std::string shown(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out = "'";
  if (s.size() > kMax) {
    out.append(s.substr(0, kMax));
    out += "...";
  } else {
    out.append(s);
  }
  out += "'";
  return out;
}

// Plain decimals ("4", "3.5", "-12.25") are exact as mantissa / 10^k while the
// mantissa fits in 53 bits, so one division gives the correctly rounded double.
bool parseDecimalFast(std::string_view s, double& out) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  const char* p = s.data();
  const char* const e = p + s.size();
  bool negative = false;
  if (p < e && (*p == '-' || *p == '+')) negative = *p++ == '-';
  uint64_t mantissa = 0;
  int digits = 0, fraction = 0;
  while (p < e && isDigit(*p)) {
    mantissa = mantissa * 10 + static_cast<uint64_t>(*p++ - '0');
    ++digits;
  }
  if (p < e && *p == '.') {
    ++p;
    while (p < e && isDigit(*p)) {
      mantissa = mantissa * 10 + static_cast<uint64_t>(*p++ - '0');
      ++digits;
      ++fraction;
    }
  }
  if (p != e || digits == 0 || digits > 15) return false;
  const double v = static_cast<double>(mantissa) / kPow10[fraction];
  out = negative ? -v : v;
  return true;
}

// Any number strtod reads (exponents, long mantissas, nan, inf), but not hex.
bool parseNumber(std::string_view s, double& out) {
  if (parseDecimalFast(s, out)) return true;
  if (s.empty() || s.size() > 64) return false;
  char buf[72];
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == 'x' || c == 'X' || c == ' ' || c == '\t') return false;
    buf[i] = c;
  }
  buf[s.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(buf, &end);
  if (end != buf + s.size()) return false;
  out = v;
  return true;
}

bool parseInt64(std::string_view s, int64_t& out) {
  const char* p = s.data();
  const char* const e = p + s.size();
  bool negative = false;
  if (p < e && (*p == '-' || *p == '+')) negative = *p++ == '-';
  if (p == e || e - p > 19) return false;
  uint64_t v = 0;
  for (; p < e; ++p) {
    if (!isDigit(*p)) return false;
    v = v * 10 + static_cast<uint64_t>(*p - '0');  // 19 digits cannot wrap a uint64
  }
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (v > limit) return false;
  out = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

std::string normalizeName(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '_' || c == '-' || c == ' ' || c == '.') continue;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

template <size_t N>
bool nameIn(const std::string& name, const char* const (&list)[N]) {
  for (const char* candidate : list)
    if (name == candidate) return true;
  return false;
}

// Splits text into records of fields. Unquoted fields are views into the text;
// a quoted field with doubled quotes is unescaped into scratch storage that
// lives until the next record. Empty (or blank) lines are skipped.
class RecordScanner {
 public:
  RecordScanner(std::string_view text, std::string_view delimiter, bool quotes, const std::string& source)
      : p_(text.data()),
        end_(text.data() + text.size()),
        delimiter_(delimiter),
        quotes_(quotes),
        source_(source) {
    stop_['\n'] = stop_['\r'] = 1;
    stop_[static_cast<unsigned char>(delimiter[0])] = 1;
  }

  bool next(std::vector<std::string_view>& fields) {
    while (p_ < end_) {
      recordLine_ = line_;
      size_t count = 0;
      const bool anyQuoted = parseRecord(fields, count);
      fields.resize(count);
      if (count == 1 && fields[0].empty() && !anyQuoted) continue;
      return true;
    }
    return false;
  }
  // The line where the last record began (1-based).
  size_t line() const { return recordLine_; }
  const char* position() const { return p_; }

 private:
  static std::string_view trimmed(const char* b, const char* e) {
    while (b < e && (*b == ' ' || *b == '\t')) ++b;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t')) --e;
    return {b, static_cast<size_t>(e - b)};
  }

  // Fills fields[0, count) (growing the vector only when a record is wider than
  // any before); returns whether any field was quoted (so '""' alone is not a
  // blank line). Works on a local cursor: the hot loop must not store p_ per byte.
  bool parseRecord(std::vector<std::string_view>& fields, size_t& count) {
    bool anyQuoted = false;
    const char d0 = delimiter_[0];
    const bool twoChar = delimiter_.size() == 2;
    const char d1 = twoChar ? delimiter_[1] : '\0';
    const char* p = p_;
    const char* const end = end_;
    for (;;) {
      std::string_view field;
      if (quotes_ && p < end && *p == '"') {
        p_ = p;
        field = parseQuoted(count);
        p = p_;
        anyQuoted = true;
        while (p < end && (*p == ' ' || (*p == '\t' && d0 != '\t'))) ++p;
        if (p < end && *p != '\n' && *p != '\r' && !(*p == d0 && (!twoChar || (p + 1 < end && p[1] == d1))))
          fail<ParseError>(source_, ":", line_, ": field ", count + 1,
                           ": unexpected character after the closing quote");
      } else {
        const char* start = p;
        for (;;) {
          while (p < end && !stop_[static_cast<unsigned char>(*p)]) ++p;
          // A lone ':' is data when the delimiter is "::".
          if (twoChar && p < end && *p == d0 && !(p + 1 < end && p[1] == d1)) {
            ++p;
            continue;
          }
          break;
        }
        field = trimmed(start, p);
      }
      if (count == fields.size()) fields.emplace_back();
      fields[count++] = field;
      if (p >= end) break;
      if (*p == '\n') {
        ++p;
        ++line_;
        break;
      }
      if (*p == '\r') {
        ++p;
        if (p < end && *p == '\n') ++p;
        ++line_;
        break;
      }
      p += delimiter_.size();
    }
    p_ = p;
    return anyQuoted;
  }

  // Reads the quoted field at p_ and leaves p_ after its closing quote.
  std::string_view parseQuoted(size_t fieldIndex) {
    const size_t startLine = line_;
    const char* segment = ++p_;
    std::string* buffer = nullptr;
    for (;;) {
      const void* found = std::memchr(p_, '"', static_cast<size_t>(end_ - p_));
      if (found == nullptr)
        fail<ParseError>(source_, ":", startLine, ": field ", fieldIndex + 1, ": unterminated quoted field");
      const char* q = static_cast<const char*>(found);
      line_ += static_cast<size_t>(std::count(p_, q, '\n'));
      if (q + 1 < end_ && q[1] == '"') {
        if (buffer == nullptr) {
          while (scratch_.size() <= fieldIndex) scratch_.emplace_back();
          buffer = &scratch_[fieldIndex];
          buffer->clear();
        }
        buffer->append(segment, q + 1);  // keeps one of the two quotes
        p_ = segment = q + 2;
        continue;
      }
      p_ = q + 1;
      if (buffer == nullptr) return {segment, static_cast<size_t>(q - segment)};
      buffer->append(segment, q);
      return *buffer;
    }
  }

  const char* p_;
  const char* end_;
  std::string_view delimiter_;
  bool quotes_;
  const std::string& source_;
  size_t line_ = 1;
  size_t recordLine_ = 1;
  unsigned char stop_[256] = {};     // bytes that end an unquoted field
  std::deque<std::string> scratch_;  // deque: growing it keeps earlier strings in place
};

// Where each role sits in a record.
struct Layout {
  std::string delimiter;
  bool quotes = false;
  size_t numFields = 0;
  int userCol = 0;
  int itemCol = 1;
  int ratingCol = -1;
  int timeCol = -1;
  std::string description;  // e.g. "user,item,rating,timestamp", for field-count errors
};

Layout positional(std::string delimiter, bool quotes, size_t numFields) {
  Layout l;
  l.delimiter = std::move(delimiter);
  l.quotes = quotes;
  l.numFields = numFields;
  l.description = "user,item";
  if (numFields >= 3) {
    l.ratingCol = 2;
    l.description += ",rating";
  }
  if (numFields >= 4) {
    l.timeCol = 3;
    l.description += ",timestamp";
  }
  return l;
}

// Resolves ids against the target's maps without touching them: new ids go to
// a side map and are numbered after the existing ones, committed only on success.
class IdResolver {
 public:
  explicit IdResolver(const IdMap& base) : base_(base), baseSize_(base.size()) {}

  Index resolve(std::string_view key) {
    // Canonical decimal ids ("0", "17", not "017" or "+17") name one string
    // each, so a direct table by value skips hashing for the usual numeric ids.
    const int64_t value = canonicalSmallInt(key);
    if (value >= 0) {
      if (static_cast<size_t>(value) < byValue_.size() && byValue_[static_cast<size_t>(value)] >= 0)
        return byValue_[static_cast<size_t>(value)];
      const Index id = lookup(key);
      if (static_cast<size_t>(value) >= byValue_.size())
        byValue_.resize(std::max(static_cast<size_t>(value) + 1, byValue_.size() * 2), -1);
      byValue_[static_cast<size_t>(value)] = id;
      return id;
    }
    // Files are usually grouped by user, so the previous key is a cheap first guess.
    if (haveLast_ && key == std::string_view(last_)) return lastId_;
    const Index id = lookup(key);
    last_.assign(key.data(), key.size());
    lastId_ = id;
    haveLast_ = true;
    return id;
  }
  IdMap& added() { return added_; }

 private:
  static constexpr int64_t kMaxDirect = int64_t{1} << 22;  // table of at most 16 MB

  // The value of a canonical decimal below kMaxDirect, else -1.
  static int64_t canonicalSmallInt(std::string_view s) {
    if (s.empty() || s.size() > 7 || (s[0] == '0' && s.size() > 1)) return -1;
    int64_t v = 0;
    for (char c : s) {
      if (!isDigit(c)) return -1;
      v = v * 10 + (c - '0');
    }
    return v < kMaxDirect ? v : -1;
  }

  Index lookup(std::string_view key) {
    const Index id = baseSize_ > 0 ? base_.find(key) : -1;
    return id >= 0 ? id : baseSize_ + added_.getOrAdd(key);
  }

  const IdMap& base_;
  Index baseSize_;
  IdMap added_;
  std::vector<Index> byValue_;
  std::string last_;
  Index lastId_ = -1;
  bool haveLast_ = false;
};

std::string_view firstNonBlankLine(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find_first_of("\r\n", pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    if (!trim(line).empty()) return line;
    pos = eol + 1;
  }
  return {};
}

CsvFormat detectFormat(std::string_view firstLine) {
  if (firstLine.find("::") != std::string_view::npos) return CsvFormat::Ml1m;
  if (firstLine.find('\t') != std::string_view::npos) {
    int fields = 0;
    bool allNumeric = true;
    size_t pos = 0;
    for (;;) {
      size_t tab = firstLine.find('\t', pos);
      const std::string_view f = trim(firstLine.substr(pos, tab == std::string_view::npos ? tab : tab - pos));
      double v;
      ++fields;
      if (!parseNumber(f, v)) allNumeric = false;
      if (tab == std::string_view::npos) break;
      pos = tab + 1;
    }
    if (fields == 4 && allNumeric) return CsvFormat::Ml100k;
  }
  return CsvFormat::Csv;
}

// The delimiter of generic CSV: the most frequent of ',', tab, ';' outside quotes.
std::string detectDelimiter(std::string_view firstLine, const std::string& source, size_t line) {
  size_t commas = 0, tabs = 0, semicolons = 0;
  bool inQuotes = false;
  for (char c : firstLine) {
    if (c == '"') inQuotes = !inQuotes;
    if (inQuotes) continue;
    commas += c == ',';
    tabs += c == '\t';
    semicolons += c == ';';
  }
  if (commas == 0 && tabs == 0 && semicolons == 0)
    fail<ParseError>(source, ":", line, ": cannot find the delimiter in ", shown(firstLine),
                     ": expected ',', tab or ';' between user and item");
  if (commas >= tabs && commas >= semicolons) return ",";
  if (tabs >= semicolons) return "\t";
  return ";";
}

// Returns true (and fills the layout) when `fields` is a header naming columns.
bool readHeader(const std::vector<std::string_view>& fields, Layout& layout, const std::string& source,
                size_t line) {
  int user = -1, item = -1, rating = -1, time = -1;
  bool any = false;
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string name = normalizeName(fields[i]);
    const int col = static_cast<int>(i);
    if (nameIn(name, kUserNames)) {
      if (user < 0) user = col;
      any = true;
    } else if (nameIn(name, kItemNames)) {
      if (item < 0) item = col;
      any = true;
    } else if (nameIn(name, kRatingNames)) {
      if (rating < 0) rating = col;
      any = true;
    } else if (nameIn(name, kTimeNames)) {
      if (time < 0) time = col;
      any = true;
    }
  }
  if (!any) return false;
  if (user < 0)
    fail<ParseError>(source, ":", line, ": the header names no user column; expected ", kHeaderHelp);
  if (item < 0)
    fail<ParseError>(source, ":", line, ": the header names no item column; expected ", kHeaderHelp);
  layout.numFields = fields.size();
  layout.userCol = user;
  layout.itemCol = item;
  layout.ratingCol = rating;
  layout.timeCol = time;
  layout.description = "as in the header";
  return true;
}

// "source:line: field N (role): ..."
template <class... Parts>
[[noreturn]] void failField(const std::string& source, size_t line, int col, const char* role,
                            const Parts&... parts) {
  fail<ParseError>(source, ":", line, ": field ", col + 1, " (", role, "): ", parts...);
}

}  // namespace

CsvFormat parseCsvFormat(std::string_view name) {
  if (name == "auto") return CsvFormat::Auto;
  if (name == "movielens") return CsvFormat::MovieLens;
  if (name == "ml100k") return CsvFormat::Ml100k;
  if (name == "ml1m") return CsvFormat::Ml1m;
  if (name == "csv") return CsvFormat::Csv;
  fail<InvalidArgument>("unknown interaction file format '", name, "'; expected one of ", kFormatList);
}

const char* csvFormatName(CsvFormat format) {
  switch (format) {
    case CsvFormat::Auto:
      return "auto";
    case CsvFormat::MovieLens:
      return "movielens";
    case CsvFormat::Ml100k:
      return "ml100k";
    case CsvFormat::Ml1m:
      return "ml1m";
    case CsvFormat::Csv:
      return "csv";
  }
  return "unknown";
}

void readInteractions(std::string_view text, const std::string& source, const CsvOptions& options,
                      Dataset& into) {
  if (!(options.minValue <= options.maxValue))
    fail<InvalidArgument>("CsvOptions: minValue (", options.minValue, ") must be <= maxValue (",
                          options.maxValue, ")");
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF)
    text.remove_prefix(3);

  const std::string_view firstLine = firstNonBlankLine(text);
  if (firstLine.empty()) fail<ParseError>("no interactions in ", source);
  const size_t firstLineNo = 1 + static_cast<size_t>(std::count(text.data(), firstLine.data(), '\n'));

  CsvFormat format = options.format == CsvFormat::Auto ? detectFormat(firstLine) : options.format;
  Layout layout;
  switch (format) {
    case CsvFormat::Ml100k:
      layout = positional("\t", false, 4);
      break;
    case CsvFormat::Ml1m:
      layout = positional("::", false, 4);
      break;
    case CsvFormat::MovieLens:
      layout.delimiter = ",";
      layout.quotes = true;
      break;
    default:
      layout.delimiter = detectDelimiter(firstLine, source, firstLineNo);
      layout.quotes = true;
      break;
  }
  const bool generic = format == CsvFormat::MovieLens || format == CsvFormat::Csv;

  RecordScanner scanner(text, layout.delimiter, layout.quotes, source);
  std::vector<std::string_view> fields;
  fields.reserve(8);
  bool pending = scanner.next(fields);  // a record read but not yet consumed as data
  if (generic && pending) {
    if (readHeader(fields, layout, source, scanner.line())) {
      pending = false;
    } else if (format == CsvFormat::MovieLens) {
      fail<ParseError>(source, ":", scanner.line(),
                       ": expected the MovieLens header userId,movieId,rating,timestamp");
    } else {
      double v;
      if (fields.size() >= 3 && !parseNumber(fields[2], v))
        fail<ParseError>(source, ":", scanner.line(),
                         ": the first line looks like a header but names no known column; expected ",
                         kHeaderHelp);
      if (fields.size() < 2 || fields.size() > 4)
        fail<ParseError>(source, ":", scanner.line(),
                         ": without a header a line has 2 to 4 fields (user,item[,rating][,timestamp]), got ",
                         fields.size());
      layout = positional(layout.delimiter, true, fields.size());
    }
  }

  IdResolver users(into.users), items(into.items);
  Interactions rows;
  const bool hasRatings = layout.ratingCol >= 0;
  const bool hasTimes = layout.timeCol >= 0;
  bool reserved = false;
  const char* const base = text.data();

  while (pending || scanner.next(fields)) {
    pending = false;
    const size_t line = scanner.line();
    if (fields.size() != layout.numFields)
      fail<ParseError>(source, ":", line, ": expected ", layout.numFields, " fields (", layout.description,
                       "), got ", fields.size());
    const std::string_view user = fields[layout.userCol];
    const std::string_view item = fields[layout.itemCol];
    if (user.empty()) failField(source, line, layout.userCol, "user", "empty id");
    if (item.empty()) failField(source, line, layout.itemCol, "item", "empty id");
    float value = 1.0f;
    if (hasRatings) {
      const std::string_view f = fields[layout.ratingCol];
      double v;
      if (!parseNumber(f, v))
        failField(source, line, layout.ratingCol, "rating", shown(f), " is not a number");
      if (!std::isfinite(v)) failField(source, line, layout.ratingCol, "rating", shown(f), " is not finite");
      if (v < options.minValue || v > options.maxValue)
        failField(source, line, layout.ratingCol, "rating", shown(f), " is outside [", options.minValue, ", ",
                  options.maxValue, "]");
      value = static_cast<float>(v);
      if (!std::isfinite(value))
        failField(source, line, layout.ratingCol, "rating", shown(f), " is outside the float range");
    }
    Timestamp time = 0;
    if (hasTimes) {
      const std::string_view f = fields[layout.timeCol];
      if (!parseInt64(f, time))
        failField(source, line, layout.timeCol, "timestamp", shown(f), " is not an integer");
    }
    rows.push(users.resolve(user), items.resolve(item), value, time);
    if (!reserved) {
      // Size the columns once from the first row's length instead of growing them.
      reserved = true;
      const size_t consumed = static_cast<size_t>(scanner.position() - base);
      const size_t perRow = std::max<size_t>(8, consumed / std::max<size_t>(1, line));
      rows.reserve(text.size() / perRow * 5 / 4 + 16);
    }
  }
  if (rows.empty()) fail<ParseError>("no interactions in ", source);

  // Commit: nothing above touched `into`.
  const bool wasEmpty = into.rows.empty();
  if (wasEmpty && into.users.size() == 0 && into.items.size() == 0) {
    into.users = std::move(users.added());
    into.items = std::move(items.added());
    into.rows = std::move(rows);
  } else {
    for (const std::string& id : users.added().ids()) into.users.getOrAdd(id);
    for (const std::string& id : items.added().ids()) into.items.getOrAdd(id);
    into.rows.reserve(into.rows.size() + rows.size());
    for (size_t r = 0; r < rows.size(); ++r)
      into.rows.push(rows.users[r], rows.items[r], rows.values[r], rows.times[r]);
  }
  into.hasRatings = wasEmpty ? hasRatings : into.hasRatings && hasRatings;
  into.hasTimestamps = wasEmpty ? hasTimes : into.hasTimestamps && hasTimes;
}

Dataset readDataset(std::string_view text, const std::string& source, const CsvOptions& options) {
  Dataset dataset;
  dataset.source = source;
  readInteractions(text, source, options, dataset);
  return dataset;
}

}  // namespace localrec

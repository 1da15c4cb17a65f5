#include "data/item_text.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"

namespace localrec {

namespace {

std::string trimmed(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

std::string lowered(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string shown(std::string_view s) {
  return "'" + std::string(s.substr(0, 40)) + (s.size() > 40 ? "...'" : "'");
}

// Checks the header (case-insensitive) and returns the index of the first data record.
size_t expectHeader(const std::vector<std::vector<std::string>>& records, const std::vector<size_t>& lines,
                    const std::string& source, const std::vector<std::string>& names) {
  std::string expected;
  for (size_t k = 0; k < names.size(); ++k) expected += (k ? "," : "") + names[k];
  if (records.empty()) fail<ParseError>(source, ": empty file; expected the header ", expected);
  const auto& header = records[0];
  bool ok = header.size() == names.size();
  for (size_t k = 0; ok && k < names.size(); ++k) ok = lowered(trimmed(header[k])) == lowered(names[k]);
  if (!ok) {
    std::string got;
    for (size_t k = 0; k < header.size(); ++k) got += (k ? "," : "") + header[k];
    fail<ParseError>(source, ":", lines[0], ": expected the header ", expected, ", got ", shown(got));
  }
  return 1;
}

void checkFieldCount(const std::vector<std::string>& record, size_t line, const std::string& source,
                     size_t expected, const char* names) {
  if (record.size() != expected)
    fail<ParseError>(source, ":", line, ": expected ", expected, " fields (", names, "), got ", record.size(),
                     record.size() > expected ? " (quote a field that contains commas)" : "");
}

bool blank(const std::vector<std::string>& record) { return record.size() == 1 && trimmed(record[0]).empty(); }

// The text vector resized to the catalog (new items have no text).
void fitToCatalog(Dataset& d) {
  if (d.itemText.texts.size() < static_cast<size_t>(d.numItems())) d.itemText.texts.resize(d.numItems());
}

}  // namespace

void parseCsvRecords(std::string_view text, const std::string& source, std::vector<std::vector<std::string>>& records,
                     std::vector<size_t>& lines) {
  records.clear();
  lines.clear();
  size_t pos = 0, line = 1;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  const size_t n = text.size();
  while (pos < n) {
    std::vector<std::string> record;
    const size_t recordLine = line;
    std::string field;
    bool endOfRecord = false;
    while (!endOfRecord) {
      field.clear();
      if (pos < n && text[pos] == '"') {
        const size_t quoteLine = line;
        ++pos;
        for (;;) {
          if (pos >= n) fail<ParseError>(source, ":", quoteLine, ": unterminated quoted field (a '\"' opens it and none closes it)");
          const char c = text[pos];
          if (c == '"') {
            if (pos + 1 < n && text[pos + 1] == '"') {
              field += '"';
              pos += 2;
              continue;
            }
            ++pos;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++pos;
        }
        if (pos < n && text[pos] != ',' && text[pos] != '\n' && text[pos] != '\r')
          fail<ParseError>(source, ":", line, ": unexpected ", shown(text.substr(pos, 1)),
                           " after a closing quote (inside quotes write \"\" for a quote)");
      } else {
        while (pos < n && text[pos] != ',' && text[pos] != '\n' && text[pos] != '\r') field += text[pos++];
      }
      record.push_back(field);
      if (pos < n && text[pos] == ',') {
        ++pos;
        continue;
      }
      // End of line or of the text.
      if (pos < n && text[pos] == '\r') ++pos;
      if (pos < n && text[pos] == '\n') ++pos;
      ++line;
      endOfRecord = true;
    }
    records.push_back(std::move(record));
    lines.push_back(recordLine);
  }
}

ItemTextStats readMovieLensMovies(std::string_view text, const std::string& source, Dataset& into,
                                  bool extendCatalog) {
  std::vector<std::vector<std::string>> records;
  std::vector<size_t> lines;
  parseCsvRecords(text, source, records, lines);
  const size_t first = expectHeader(records, lines, source, {"movieId", "title", "genres"});
  // Validate everything before touching the dataset.
  std::unordered_map<std::string, size_t> seen;
  ItemTextStats stats;
  std::vector<std::pair<std::string, std::string>> texts;  // (id, text)
  for (size_t r = first; r < records.size(); ++r) {
    const auto& rec = records[r];
    if (blank(rec)) continue;
    checkFieldCount(rec, lines[r], source, 3, "movieId,title,genres");
    std::string id = trimmed(rec[0]);
    if (id.empty()) fail<ParseError>(source, ":", lines[r], ": field 1 (movieId) is empty");
    const auto [it, fresh] = seen.emplace(id, lines[r]);
    if (!fresh)
      fail<ParseError>(source, ":", lines[r], ": field 1 (movieId): ", shown(id), " appears again (first on line ",
                       it->second, ")");
    std::string out = trimmed(rec[1]);
    std::string genres;
    std::string_view rest = rec[2];
    while (!rest.empty()) {
      const size_t bar = rest.find('|');
      const std::string genre = trimmed(rest.substr(0, bar));
      if (!genre.empty() && genre != "(no genres listed)") genres += (genres.empty() ? "" : " ") + genre;
      rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
    }
    if (!genres.empty()) out += "\n" + genres;
    ++stats.rows;
    if (!extendCatalog && into.items.find(id) < 0) {
      ++stats.skipped;
      continue;
    }
    texts.emplace_back(std::move(id), std::move(out));
  }
  for (auto& [id, itemText] : texts) {
    const Index before = into.items.size();
    const Index item = into.items.getOrAdd(id);
    stats.added += item == before;
    fitToCatalog(into);
    std::string& slot = into.itemText.texts[static_cast<size_t>(item)];
    // Tags read earlier stay after the title and genres.
    slot = slot.empty() ? std::move(itemText) : itemText + "\n" + slot;
  }
  fitToCatalog(into);
  return stats;
}

ItemTextStats readMovieLensTags(std::string_view text, const std::string& source, Dataset& into) {
  std::vector<std::vector<std::string>> records;
  std::vector<size_t> lines;
  parseCsvRecords(text, source, records, lines);
  const size_t first = expectHeader(records, lines, source, {"userId", "movieId", "tag", "timestamp"});
  ItemTextStats stats;
  std::vector<std::pair<Index, std::string>> tags;
  for (size_t r = first; r < records.size(); ++r) {
    const auto& rec = records[r];
    if (blank(rec)) continue;
    checkFieldCount(rec, lines[r], source, 4, "userId,movieId,tag,timestamp");
    const std::string id = trimmed(rec[1]);
    if (id.empty()) fail<ParseError>(source, ":", lines[r], ": field 2 (movieId) is empty");
    ++stats.rows;
    const Index item = into.items.find(id);
    std::string tag = trimmed(rec[2]);
    if (item < 0) {
      ++stats.skipped;
      continue;
    }
    if (!tag.empty()) tags.emplace_back(item, std::move(tag));
  }
  fitToCatalog(into);
  std::vector<size_t>& suffix = into.itemText.userSuffix;
  if (suffix.size() < into.itemText.texts.size()) suffix.resize(into.itemText.texts.size(), 0);
  for (auto& [item, tag] : tags) {
    std::string& slot = into.itemText.texts[static_cast<size_t>(item)];
    const size_t before = slot.size();
    slot += (slot.empty() ? "" : "\n") + tag;
    suffix[static_cast<size_t>(item)] += slot.size() - before;
  }
  return stats;
}

ItemText withoutUserText(const ItemText& text, std::span<const Index> items) {
  ItemText out = text;
  for (Index item : items) {
    const size_t i = static_cast<size_t>(item);
    if (item < 0 || i >= out.texts.size() || i >= out.userSuffix.size() || out.userSuffix[i] == 0) continue;
    std::string& t = out.texts[i];
    t.resize(t.size() - std::min(out.userSuffix[i], t.size()));
    if (!t.empty() && t.back() == '\n') t.pop_back();
    out.userSuffix[i] = 0;
  }
  return out;
}

ItemTextStats setItemTexts(Dataset& into, const std::vector<std::string>& ids, const std::vector<std::string>& texts,
                           bool extendCatalog) {
  if (ids.size() != texts.size())
    fail<InvalidArgument>("setItemText: ", ids.size(), " ids but ", texts.size(), " texts (one text per id)");
  std::unordered_set<std::string_view> seen;
  for (size_t k = 0; k < ids.size(); ++k) {
    if (ids[k].empty()) fail<InvalidArgument>("setItemText: ids[", k, "] is empty");
    if (!seen.insert(ids[k]).second) fail<InvalidArgument>("setItemText: ids[", k, "] = '", ids[k], "' appears twice");
  }
  ItemTextStats stats;
  stats.rows = ids.size();
  for (size_t k = 0; k < ids.size(); ++k) {
    if (!extendCatalog && into.items.find(ids[k]) < 0) {
      ++stats.skipped;
      continue;
    }
    const Index before = into.items.size();
    const Index item = into.items.getOrAdd(ids[k]);
    stats.added += item == before;
    fitToCatalog(into);
    into.itemText.texts[static_cast<size_t>(item)] = texts[k];
    if (static_cast<size_t>(item) < into.itemText.userSuffix.size())
      into.itemText.userSuffix[static_cast<size_t>(item)] = 0;  // the whole text is the caller's now
  }
  fitToCatalog(into);
  return stats;
}

}  // namespace localrec

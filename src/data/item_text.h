// Item texts for the content models, read into a Dataset's ItemText by the
// dataset's own item ids (so texts and interactions share one catalog).
//
// MovieLens: movies.csv (movieId,title,genres; genres separated by '|') gives
// "title\ngenre genre ..." ("(no genres listed)" is dropped); tags.csv
// (userId,movieId,tag,timestamp) appends each tag on a line of its own, in file
// order. Fields follow RFC 4180: a field may be quoted, a quoted field may hold
// commas, line breaks and doubled quotes (""). A UTF-8 BOM is skipped.
//
// The catalog: an item id the ratings never named is added to the item id map
// when extendCatalog is true (the default), so an item nobody rated is still in
// the catalog (it gets dense index numItems(), ..., has no interactions, and
// only content models can score it). Tags never extend the catalog: a tag on an
// unknown item is skipped and counted. Read the ratings first and the texts
// after, so the ratings' item ids stay 0, 1, ... in file order.
//
// Tags are what users wrote, so they are interactions too: ItemText::userSuffix
// remembers how much of each text came from tags (movies read after the tags go
// before them), and withoutUserText drops that part. The cold-items split does
// so for the items it holds out: an item new to the catalog has a title and
// genres but no tags yet, and the held-out items' tags were mostly written by
// the very users the split tests (94% of ml-latest-small's tag rows are on a
// movie their author also rated).
//
// Errors are ParseError "movies.csv:17: ..." naming the file, the line and the
// field; on error the dataset is left unchanged.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "data/dataset.h"

namespace localrec {

struct ItemTextStats {
  size_t rows = 0;     // data rows read
  size_t added = 0;    // items added to the catalog
  size_t skipped = 0;  // rows about items not in the catalog (not added)
};

ItemTextStats readMovieLensMovies(std::string_view text, const std::string& source, Dataset& into,
                                  bool extendCatalog = true);
ItemTextStats readMovieLensTags(std::string_view text, const std::string& source, Dataset& into);

// Any catalog: texts[k] is the text of the item with external id ids[k]; it
// replaces the item's text. Throws InvalidArgument if the sizes differ or an id
// is empty or repeated.
ItemTextStats setItemTexts(Dataset& into, const std::vector<std::string>& ids,
                           const std::vector<std::string>& texts, bool extendCatalog = true);

// A copy of `text` in which each item of `items` keeps only the part of its text
// no user wrote (its userSuffix removed, and the line break before it).
ItemText withoutUserText(const ItemText& text, std::span<const Index> items);

// Splits CSV text into records of fields (RFC 4180 quoting, CRLF or LF, a
// leading BOM skipped); `lines[r]` is the 1-based line where record r starts.
// Throws ParseError naming `source` and the line of an unterminated quote or a
// character after a closing quote.
void parseCsvRecords(std::string_view text, const std::string& source, std::vector<std::vector<std::string>>& records,
                     std::vector<size_t>& lines);

}  // namespace localrec

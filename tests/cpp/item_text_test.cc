// Item texts from MovieLens movies.csv / tags.csv and from id/text lists.
#include "data/item_text.h"

#include <catch2/catch.hpp>
#include <cstdio>

#include "core/error.h"
#include "data/csv_reader.h"
#include "data/preprocess.h"
#include "test_data.h"

using namespace localrec;
using namespace localrec::test;

namespace {

Dataset ratings() { return readDataset("userId,movieId,rating,timestamp\n1,10,4,1\n1,20,3,2\n2,10,5,3\n", "r.csv"); }

}  // namespace

TEST_CASE("item text: CSV records with quotes, commas, doubled quotes, CRLF and line breaks", "[data]") {
  std::vector<std::vector<std::string>> records;
  std::vector<size_t> lines;
  parseCsvRecords("\xEF\xBB\xBF" "a,\"b, c\",\"say \"\"hi\"\"\"\r\n1,\"two\nlines\",3\n\nlast", "x.csv", records, lines);
  REQUIRE(records.size() == 4);
  REQUIRE(records[0] == std::vector<std::string>{"a", "b, c", "say \"hi\""});
  REQUIRE(records[1] == std::vector<std::string>{"1", "two\nlines", "3"});
  REQUIRE(records[2] == std::vector<std::string>{""});
  REQUIRE(records[3] == std::vector<std::string>{"last"});
  REQUIRE(lines == std::vector<size_t>{1, 2, 4, 5});
  REQUIRE_THROWS_AS(parseCsvRecords("a\n\"open,b\nc\n", "x.csv", records, lines), ParseError);
  REQUIRE_THROWS_WITH(parseCsvRecords("a\n\"open,b\nc\n", "x.csv", records, lines),
                      Catch::Contains("x.csv:2") && Catch::Contains("unterminated"));
  REQUIRE_THROWS_WITH(parseCsvRecords("a\n\"q\"x,b\n", "x.csv", records, lines), Catch::Contains("x.csv:2"));
}

TEST_CASE("item text: movies.csv and tags.csv map through the ratings' ids and extend the catalog", "[data]") {
  Dataset d = ratings();
  REQUIRE(d.numItems() == 2);
  const auto movies = readMovieLensMovies(
      "movieId,title,genres\n10,\"Matrix, The (1999)\",Action|Sci-Fi\n30,Amélie (2001),(no genres listed)\n"
      "20,Heat (1995),Crime\n",
      "movies.csv", d);
  REQUIRE(movies.rows == 3);
  REQUIRE(movies.added == 1);  // movie 30 was never rated: it joins the catalog at index 2
  REQUIRE(d.numItems() == 3);
  REQUIRE(d.items.find("30") == 2);
  REQUIRE(d.itemText.of(0) == "Matrix, The (1999)\nAction Sci-Fi");
  REQUIRE(d.itemText.of(1) == "Heat (1995)\nCrime");
  REQUIRE(d.itemText.of(2) == "Amélie (2001)");
  const auto tags = readMovieLensTags(
      "userId,movieId,tag,timestamp\n1,10,cyberpunk,5\n2,10,\"philosophy, sort of\",6\n2,99,unknown movie,7\n",
      "tags.csv", d);
  REQUIRE(tags.rows == 3);
  REQUIRE(tags.skipped == 1);
  REQUIRE(d.numItems() == 3);  // tags never extend the catalog
  REQUIRE(d.itemText.of(0) == "Matrix, The (1999)\nAction Sci-Fi\ncyberpunk\nphilosophy, sort of");

  // Without extending: unknown movies are skipped.
  Dataset e = ratings();
  const auto kept = readMovieLensMovies("movieId,title,genres\n10,A,B\n30,C,D\n", "movies.csv", e, false);
  REQUIRE(kept.skipped == 1);
  REQUIRE(e.numItems() == 2);
  REQUIRE(e.itemText.size() == 2);

  // Tags read first stay after the title and genres.
  Dataset f = ratings();
  readMovieLensTags("userId,movieId,tag,timestamp\n1,20,tense,1\n", "tags.csv", f);
  readMovieLensMovies("movieId,title,genres\n20,Heat,Crime\n", "movies.csv", f);
  REQUIRE(f.itemText.of(1) == "Heat\nCrime\ntense");
}

TEST_CASE("item text: withoutUserText drops the tags of the listed items only", "[data]") {
  // Movies then tags, and tags then movies: the tags are the end of the text either way.
  Dataset d = ratings();
  readMovieLensMovies("movieId,title,genres\n10,Matrix,Action|Sci-Fi\n20,Heat,Crime\n30,Amélie,Romance\n", "movies.csv", d);
  readMovieLensTags("userId,movieId,tag,timestamp\n1,10,cyberpunk,5\n2,10,\"philosophy, sort of\",6\n1,20,tense,7\n",
                    "tags.csv", d);
  Dataset f = ratings();
  readMovieLensTags("userId,movieId,tag,timestamp\n1,10,cyberpunk,5\n2,10,\"philosophy, sort of\",6\n1,20,tense,7\n",
                    "tags.csv", f);
  readMovieLensMovies("movieId,title,genres\n10,Matrix,Action|Sci-Fi\n20,Heat,Crime\n30,Amélie,Romance\n", "movies.csv", f);
  for (const Dataset* data : {&d, &f}) {
    REQUIRE(data->itemText.of(0) == "Matrix\nAction Sci-Fi\ncyberpunk\nphilosophy, sort of");
    const std::vector<Index> heldOut = {0, 2};
    const ItemText cold = withoutUserText(data->itemText, heldOut);
    REQUIRE(cold.of(0) == "Matrix\nAction Sci-Fi");
    REQUIRE(cold.of(1) == "Heat\nCrime\ntense");  // not held out: keeps its tag
    REQUIRE(cold.of(2) == "Amélie\nRomance");      // no tags: unchanged
    REQUIRE(withoutUserText(cold, heldOut).of(0) == "Matrix\nAction Sci-Fi");  // idempotent
  }
  // Only tags: nothing is left. Out-of-range items are ignored.
  Dataset g = ratings();
  readMovieLensTags("userId,movieId,tag,timestamp\n1,20,tense,1\n1,20,slow,2\n", "tags.csv", g);
  REQUIRE(g.itemText.of(1) == "tense\nslow");
  const std::vector<Index> items = {1, -1, 7};
  REQUIRE(withoutUserText(g.itemText, items).of(1).empty());
  // setItemText replaces the whole text: none of it counts as tags any more.
  setItemTexts(g, {"20"}, {"my own words"});
  REQUIRE(withoutUserText(g.itemText, items).of(1) == "my own words");
  // compact moves the tag lengths with their items.
  Dataset h = ratings();
  readMovieLensMovies("movieId,title,genres\n10,Matrix,Action\n20,Heat,Crime\n", "movies.csv", h);
  readMovieLensTags("userId,movieId,tag,timestamp\n1,20,tense,7\n", "tags.csv", h);
  std::vector<size_t> onlyHeat;
  for (size_t r = 0; r < h.rows.size(); ++r)
    if (h.rows.items[r] == h.items.find("20")) onlyHeat.push_back(r);
  h.rows = h.rows.select(onlyHeat);
  compact(h);
  REQUIRE(h.numItems() == 1);
  const std::vector<Index> first = {0};
  REQUIRE(withoutUserText(h.itemText, first).of(0) == "Heat\nCrime");
}

TEST_CASE("item text: bad files name the file and line; the dataset is left unchanged", "[data]") {
  Dataset d = ratings();
  const auto check = [&](const std::string& text, const std::string& what, bool tags = false) {
    INFO(text);
    try {
      tags ? readMovieLensTags(text, "m.csv", d) : readMovieLensMovies(text, "m.csv", d);
      FAIL("no error");
    } catch (const ParseError& e) {
      REQUIRE_THAT(e.what(), Catch::Contains(what));
    }
    REQUIRE(d.numItems() == 2);
    REQUIRE(d.itemText.empty());
  };
  check("", "m.csv: empty file");
  check("id,name\n1,x\n", "m.csv:1: expected the header movieId,title,genres");
  check("movieId,title,genres\n10,A,B\n30,Lost, The,Drama\n", "m.csv:3: expected 3 fields");
  check("movieId,title,genres\n10,A,B\n11,\"never closed,B\n", "m.csv:3: unterminated");
  check("movieId,title,genres\n10,A,B\n,C,D\n", "m.csv:3: field 1 (movieId) is empty");
  check("movieId,title,genres\n10,A,B\n\n10,C,D\n", "m.csv:4: field 1 (movieId): '10' appears again (first on line 2)");
  check("userId,movieId,tag,timestamp\n1,10\n", "m.csv:2: expected 4 fields", true);
}

TEST_CASE("item text: setItemTexts for any catalog; compact keeps texts with their items", "[data]") {
  Dataset d = ratings();
  const auto stats = setItemTexts(d, {"20", "new"}, {"second item", "a new one"});
  REQUIRE(stats.added == 1);
  REQUIRE(d.numItems() == 3);
  REQUIRE(d.itemText.of(0).empty());
  REQUIRE(d.itemText.of(1) == "second item");
  REQUIRE(d.itemText.of(2) == "a new one");
  REQUIRE_THROWS_AS(setItemTexts(d, {"a"}, {}), InvalidArgument);
  REQUIRE_THROWS_AS(setItemTexts(d, {"a", "a"}, {"x", "y"}), InvalidArgument);
  REQUIRE_THROWS_AS(setItemTexts(d, {""}, {"x"}), InvalidArgument);

  // compact drops the item without rows ("new") and keeps the others' texts in step.
  d.rows = Interactions{};
  d.rows.push(0, 1, 1, 0);  // only item "20" (index 1) keeps a row
  compact(d);
  REQUIRE(d.numItems() == 1);
  REQUIRE(d.items.external(0) == "20");
  REQUIRE(d.itemText.size() == 1);
  REQUIRE(d.itemText.of(0) == "second item");
}

TEST_CASE("item text: the real ml-latest-small movies.csv and tags.csv", "[data]") {
  CsvOptions options;
  Dataset d = readDataset(readTextFile(LOCALREC_DATA_DIR "/ml-latest-small/ratings.csv"), "ratings.csv", options);
  REQUIRE(d.numItems() == 9724);
  const auto movies = readMovieLensMovies(readTextFile(LOCALREC_DATA_DIR "/ml-latest-small/movies.csv"), "movies.csv", d);
  REQUIRE(movies.rows == 9742);
  REQUIRE(movies.added == 18);  // movies nobody rated
  REQUIRE(d.numItems() == 9742);
  const auto tags = readMovieLensTags(readTextFile(LOCALREC_DATA_DIR "/ml-latest-small/tags.csv"), "tags.csv", d);
  REQUIRE(tags.rows == 3683);
  REQUIRE(tags.skipped == 0);
  const Index toyStory = d.items.find("1");
  REQUIRE(d.itemText.of(toyStory).rfind("Toy Story (1995)\nAdventure Animation Children Comedy Fantasy", 0) == 0);
  REQUIRE(d.itemText.of(d.items.find("7789")) == "11'09\"01 - September 11 (2002)\nDrama\nterrorism");
  for (Index i = 0; i < d.numItems(); ++i) REQUIRE_FALSE(d.itemText.of(i).empty());
}

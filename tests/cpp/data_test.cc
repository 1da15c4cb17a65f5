#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "data/csv_reader.h"
#include "test_data.h"
#include "data/preprocess.h"

using namespace localrec;
using Catch::Contains;

namespace {

std::vector<std::string> externals(const std::vector<Index>& ids, const IdMap& map) {
  std::vector<std::string> out;
  for (Index id : ids) out.push_back(map.external(id));
  return out;
}

Dataset parse(std::string_view text, CsvFormat format = CsvFormat::Auto) {
  CsvOptions options;
  options.format = format;
  return readDataset(text, "t.csv", options);
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("MovieLens ratings.csv parses ids, ratings and times exactly", "[data]") {
  const std::string text = "userId,movieId,rating,timestamp\n1,10,4.0,100\n1,20,3.5,200\n2,10,5,150\n";
  for (CsvFormat format : {CsvFormat::Auto, CsvFormat::MovieLens, CsvFormat::Csv}) {
    const Dataset d = parse(text, format);
    REQUIRE(d.source == "t.csv");
    REQUIRE(d.users.ids() == Strings{"1", "2"});
    REQUIRE(d.items.ids() == Strings{"10", "20"});
    REQUIRE(d.rows.users == std::vector<Index>{0, 0, 1});
    REQUIRE(d.rows.items == std::vector<Index>{0, 1, 0});
    REQUIRE(d.rows.values == std::vector<float>{4.0f, 3.5f, 5.0f});
    REQUIRE(d.rows.times == std::vector<Timestamp>{100, 200, 150});
    REQUIRE(d.hasRatings);
    REQUIRE(d.hasTimestamps);
  }
}

TEST_CASE("ml-100k u.data: tab separated, no header, no trailing newline", "[data]") {
  const std::string text = "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t377\t1\t878887116";
  for (CsvFormat format : {CsvFormat::Auto, CsvFormat::Ml100k}) {
    const Dataset d = parse(text, format);
    REQUIRE(d.users.ids() == Strings{"196", "186"});
    REQUIRE(d.items.ids() == Strings{"242", "302", "377"});
    REQUIRE(d.rows.users == std::vector<Index>{0, 1, 0});
    REQUIRE(d.rows.items == std::vector<Index>{0, 1, 2});
    REQUIRE(d.rows.values == std::vector<float>{3, 3, 1});
    REQUIRE(d.rows.times == std::vector<Timestamp>{881250949, 891717742, 878887116});
    REQUIRE(d.hasRatings);
    REQUIRE(d.hasTimestamps);
  }
}

TEST_CASE("ml-1m ratings.dat: '::' separated, CRLF line ends", "[data]") {
  const std::string text = "1::1193::5::978300760\r\n1::661::3::978302109\r\n2::1193::4::978298413\r\n";
  for (CsvFormat format : {CsvFormat::Auto, CsvFormat::Ml1m}) {
    const Dataset d = parse(text, format);
    REQUIRE(d.users.ids() == Strings{"1", "2"});
    REQUIRE(d.items.ids() == Strings{"1193", "661"});
    REQUIRE(d.rows.users == std::vector<Index>{0, 0, 1});
    REQUIRE(d.rows.items == std::vector<Index>{0, 1, 0});
    REQUIRE(d.rows.values == std::vector<float>{5, 3, 4});
    REQUIRE(d.rows.times == std::vector<Timestamp>{978300760, 978302109, 978298413});
  }
}

TEST_CASE("generic CSV detects the delimiter and the header's columns", "[data]") {
  SECTION("semicolons, customer/product names, no rating: values default to 1") {
    const Dataset d = parse("customer_id;product_id\nc1;p1\nc2;p1\nc1;p2\n");
    REQUIRE(externals(d.rows.users, d.users) == Strings{"c1", "c2", "c1"});
    REQUIRE(externals(d.rows.items, d.items) == Strings{"p1", "p1", "p2"});
    REQUIRE(d.rows.values == std::vector<float>{1, 1, 1});
    REQUIRE(d.rows.times == std::vector<Timestamp>{0, 0, 0});
    REQUIRE_FALSE(d.hasRatings);
    REQUIRE_FALSE(d.hasTimestamps);
  }
  SECTION("tabs with a header (so not ml100k), score column") {
    const Dataset d = parse("user\titem\tscore\nu1\ti1\t0.25\n");
    REQUIRE(d.users.ids() == Strings{"u1"});
    REQUIRE(d.rows.values == std::vector<float>{0.25f});
    REQUIRE(d.hasRatings);
    REQUIRE_FALSE(d.hasTimestamps);
  }
  SECTION("case-insensitive names in any order, extra columns ignored") {
    const Dataset d = parse("TS,Rating,comment,Item_Id,USER_ID\n5,2.5,nice,i1,u1\n7,1,,i2,u1\n");
    REQUIRE(d.users.ids() == Strings{"u1"});
    REQUIRE(d.items.ids() == Strings{"i1", "i2"});
    REQUIRE(d.rows.values == std::vector<float>{2.5f, 1.0f});
    REQUIRE(d.rows.times == std::vector<Timestamp>{5, 7});
    REQUIRE(d.hasRatings);
    REQUIRE(d.hasTimestamps);
  }
  SECTION("other accepted names") {
    const Dataset d = parse("userid,itemid,value,time\na,b,2,3\n");
    REQUIRE(d.rows.values == std::vector<float>{2});
    REQUIRE(d.rows.times == std::vector<Timestamp>{3});
  }
  SECTION("no header: user,item") {
    const Dataset d = parse("u1,i1\nu2,i2\n");
    REQUIRE(d.users.ids() == Strings{"u1", "u2"});
    REQUIRE_FALSE(d.hasRatings);
    REQUIRE_FALSE(d.hasTimestamps);
  }
  SECTION("no header: user,item,rating") {
    const Dataset d = parse("u1,i1,3\nu2,i2,4.5\n");
    REQUIRE(d.rows.values == std::vector<float>{3, 4.5f});
    REQUIRE(d.hasRatings);
    REQUIRE_FALSE(d.hasTimestamps);
  }
  SECTION("no header: user,item,rating,timestamp with semicolons") {
    const Dataset d = parse("u1;i1;3;10\n");
    REQUIRE(d.rows.times == std::vector<Timestamp>{10});
    REQUIRE(d.hasTimestamps);
  }
}

TEST_CASE("quoted fields: delimiters and doubled quotes inside ids", "[data]") {
  const Dataset d = parse("\"user\",\"item\",\"rating\"\n\"a,b\",\"x \"\"y\"\"\",4\n\"a,b\",plain,\"2\"\n");
  REQUIRE(d.users.ids() == Strings{"a,b"});
  REQUIRE(d.items.ids() == Strings{"x \"y\"", "plain"});
  REQUIRE(d.rows.users == std::vector<Index>{0, 0});
  REQUIRE(d.rows.values == std::vector<float>{4, 2});
}

TEST_CASE("a quoted field may span lines and line numbers stay right", "[data]") {
  const std::string text = "user,item,rating\n\"multi\nline\",i1,1\nu2,i2,bad\n";
  REQUIRE_THROWS_WITH(parse(text), Contains("t.csv:4: field 3 (rating)"));
  const Dataset d = parse("user,item\n\"multi\nline\",i1\n");
  REQUIRE(d.users.ids() == Strings{"multi\nline"});
}

TEST_CASE("BOM, CRLF, blank lines and a missing final newline", "[data]") {
  const Dataset d =
      parse("\xEF\xBB\xBFuserId,movieId,rating,timestamp\r\n\r\n1,2,3.0,4\r\n  \r\n\n5,6,1.5,7");
  REQUIRE(d.users.ids() == Strings{"1", "5"});
  REQUIRE(d.items.ids() == Strings{"2", "6"});
  REQUIRE(d.rows.values == std::vector<float>{3.0f, 1.5f});
  REQUIRE(d.rows.times == std::vector<Timestamp>{4, 7});
  // Errors count the blank lines: the bad row is on line 3.
  REQUIRE_THROWS_WITH(parse("\xEF\xBB\xBFuser,item,rating\r\n\r\nu,i,x\r\n"),
                      Contains("t.csv:3: field 3 (rating)"));
}

TEST_CASE("numbers: plain decimals, signs, exponents; 64-bit timestamps", "[data]") {
  const Dataset d = parse(
      "user,item,rating,timestamp\n"
      "a,1,4,0\na,2,3.5,-5\na,3,-1e3,9223372036854775807\na,4,+2.25,-9223372036854775808\n"
      "a,5,1E2,1\na,6,.5,2\na,7,0.1,3\na,8,0.12345678901234567,4\n");
  REQUIRE(d.rows.values == std::vector<float>{4, 3.5f, -1000, 2.25f, 100, 0.5f, 0.1f, 0.12345678901234567f});
  REQUIRE(d.rows.times == std::vector<Timestamp>{0, -5, INT64_MAX, INT64_MIN, 1, 2, 3, 4});
}

TEST_CASE("every parse error names source:line and the field", "[data]") {
  const std::string header = "userId,movieId,rating,timestamp\n";
  CsvOptions bounded;
  bounded.minValue = 0.5;
  bounded.maxValue = 5;
  REQUIRE_THROWS_AS(parse(header + "1,2,3,4\n1,2,3\n"), ParseError);
  REQUIRE_THROWS_WITH(parse(header + "1,2,3,4\n1,2,3\n"),
                      Contains("t.csv:3: expected 4 fields") && Contains("got 3"));
  REQUIRE_THROWS_WITH(parse(header + "1,2,3,4,5\n"), Contains("t.csv:2: expected 4 fields"));
  REQUIRE_THROWS_WITH(parse(header + ",2,3,4\n"), Contains("t.csv:2: field 1 (user): empty id"));
  REQUIRE_THROWS_WITH(parse(header + "1,\"\",3,4\n"), Contains("t.csv:2: field 2 (item): empty id"));
  REQUIRE_THROWS_WITH(parse(header + "1,2,abc,4\n"),
                      Contains("t.csv:2: field 3 (rating): 'abc' is not a number"));
  REQUIRE_THROWS_WITH(parse(header + "1,2,,4\n"), Contains("t.csv:2: field 3 (rating): '' is not a number"));
  REQUIRE_THROWS_WITH(parse(header + "1,2,0x10,4\n"), Contains("field 3 (rating): '0x10' is not a number"));
  REQUIRE_THROWS_WITH(parse(header + "1,2,3,4\n1,2,nan,4\n"),
                      Contains("t.csv:3: field 3 (rating): 'nan' is not finite"));
  REQUIRE_THROWS_WITH(parse(header + "1,2,inf,4\n"),
                      Contains("t.csv:2: field 3 (rating): 'inf' is not finite"));
  REQUIRE_THROWS_WITH(parse(header + "1,2,1e999,4\n"), Contains("field 3 (rating): '1e999' is not finite"));
  REQUIRE_THROWS_WITH(readDataset(header + "1,2,6,4\n", "r.csv", bounded),
                      Contains("r.csv:2: field 3 (rating): '6' is outside [0.5, 5]"));
  REQUIRE_THROWS_WITH(readDataset(header + "1,2,0,4\n", "r.csv", bounded),
                      Contains("r.csv:2: field 3 (rating): '0' is outside [0.5, 5]"));
  REQUIRE_THROWS_WITH(parse(header + "1,2,3,12.5\n"),
                      Contains("t.csv:2: field 4 (timestamp): '12.5' is not an integer"));
  REQUIRE_THROWS_WITH(parse(header + "1,2,3,99999999999999999999\n"),
                      Contains("field 4 (timestamp): '99999999999999999999' is not an integer"));
  REQUIRE_THROWS_WITH(parse("1::2::3\n", CsvFormat::Ml1m), Contains("t.csv:1: expected 4 fields"));
  REQUIRE_THROWS_WITH(parse("1\t2\t3\tx\n", CsvFormat::Ml100k), Contains("t.csv:1: field 4 (timestamp)"));
  REQUIRE_THROWS_WITH(parse("user,item\n\"open,i\n"),
                      Contains("t.csv:2: field 1: unterminated quoted field"));
  REQUIRE_THROWS_WITH(parse("user,item\n\"a\"b,i\n"), Contains("t.csv:2: field 1: unexpected character"));
}

TEST_CASE("header and layout errors say what is expected", "[data]") {
  REQUIRE_THROWS_WITH(parse("userId,rating\n1,2\n"), Contains("t.csv:1: the header names no item column"));
  REQUIRE_THROWS_WITH(parse("movieId,rating\n1,2\n"), Contains("t.csv:1: the header names no user column"));
  REQUIRE_THROWS_WITH(parse("who,what,how\n1,2,3\n"),
                      Contains("t.csv:1: the first line looks like a header"));
  REQUIRE_THROWS_WITH(parse("a,b,1,2,3\n"), Contains("t.csv:1: without a header a line has 2 to 4 fields"));
  REQUIRE_THROWS_WITH(parse("1,2,3,4\n", CsvFormat::MovieLens),
                      Contains("t.csv:1: expected the MovieLens header"));
  REQUIRE_THROWS_WITH(parse("justoneid\n"), Contains("t.csv:1: cannot find the delimiter"));
}

TEST_CASE("empty inputs: no interactions in FILE", "[data]") {
  for (const char* text : {"", "\n\n", "\xEF\xBB\xBF", "userId,movieId,rating,timestamp\n",
                           "userId,movieId,rating,timestamp\r\n\r\n"})
    REQUIRE_THROWS_WITH(readDataset(text, "empty.csv"), Contains("no interactions in empty.csv"));
  REQUIRE_THROWS_AS(readDataset("", "empty.csv"), ParseError);
}

TEST_CASE("readInteractions appends with shared ids and leaves the target unchanged on error", "[data]") {
  Dataset d = parse("user,item,rating\nu1,i1,5\nu2,i2,3\n");
  readInteractions("user,item,rating\nu2,i1,4\nu3,i3,1\n", "test.csv", {}, d);
  REQUIRE(d.users.ids() == Strings{"u1", "u2", "u3"});
  REQUIRE(d.items.ids() == Strings{"i1", "i2", "i3"});
  REQUIRE(d.rows.users == std::vector<Index>{0, 1, 1, 2});
  REQUIRE(d.rows.items == std::vector<Index>{0, 1, 0, 2});
  REQUIRE(d.rows.values == std::vector<float>{5, 3, 4, 1});
  REQUIRE(d.hasRatings);
  REQUIRE_FALSE(d.hasTimestamps);

  // New ids on line 2, the error on line 3: nothing of it may stick.
  const Dataset before = d;
  REQUIRE_THROWS_WITH(readInteractions("user,item,rating\nu9,i9,1\nu1,i1,x\n", "bad.csv", {}, d),
                      Contains("bad.csv:3: field 3 (rating)"));
  REQUIRE(d.users.ids() == before.users.ids());
  REQUIRE(d.items.ids() == before.items.ids());
  REQUIRE(d.users.find("u9") == -1);
  REQUIRE(d.rows.users == before.rows.users);
  REQUIRE(d.rows.values == before.rows.values);
  REQUIRE(d.hasRatings);

  // Appending implicit rows to explicit ones: the values are no longer all ratings.
  readInteractions("u1,i3\n", "more.csv", {}, d);
  REQUIRE(d.rows.values.back() == 1.0f);
  REQUIRE_FALSE(d.hasRatings);
}

TEST_CASE("format names round-trip and bad names list the valid ones", "[data]") {
  for (CsvFormat f :
       {CsvFormat::Auto, CsvFormat::MovieLens, CsvFormat::Ml100k, CsvFormat::Ml1m, CsvFormat::Csv})
    REQUIRE(parseCsvFormat(csvFormatName(f)) == f);
  REQUIRE_THROWS_AS(parseCsvFormat("xml"), InvalidArgument);
  REQUIRE_THROWS_WITH(parseCsvFormat("xml"),
                      Contains("'xml'") && Contains("auto, movielens, ml100k, ml1m, csv"));
  CsvOptions bad;
  bad.minValue = 5;
  bad.maxValue = 1;
  REQUIRE_THROWS_AS(readDataset("a,b\n", "x", bad), InvalidArgument);
}

TEST_CASE("the real MovieLens ml-latest-small ratings.csv", "[data]") {
  const std::string text = test::readTextFile(LOCALREC_DATA_DIR "/ml-latest-small/ratings.csv");
  CsvOptions options;
  options.minValue = 0.5;
  options.maxValue = 5;
  const Dataset d = readDataset(text, "ratings.csv", options);
  REQUIRE(d.numUsers() == 610);
  REQUIRE(d.numItems() == 9724);
  REQUIRE(d.numInteractions() == 100836);
  REQUIRE(d.hasRatings);
  REQUIRE(d.hasTimestamps);
  // First and last rows of the file: "1,1,4.0,964982703" and "610,170875,3.0,1493846415".
  REQUIRE(d.users.external(d.rows.users.front()) == "1");
  REQUIRE(d.items.external(d.rows.items.front()) == "1");
  REQUIRE(d.rows.values.front() == 4.0f);
  REQUIRE(d.rows.times.front() == 964982703);
  REQUIRE(d.users.external(d.rows.users.back()) == "610");
  REQUIRE(d.items.external(d.rows.items.back()) == "170875");
  REQUIRE(d.rows.values.back() == 3.0f);
  REQUIRE(d.rows.times.back() == 1493846415);
}

// ---- preprocessing ----

namespace {

Interactions table(const std::vector<std::tuple<Index, Index, float, Timestamp>>& rows) {
  Interactions t;
  for (const auto& [u, i, v, time] : rows) t.push(u, i, v, time);
  return t;
}

using Row = std::tuple<Index, Index, float, Timestamp>;

std::vector<Row> rowsOf(const Interactions& t) {
  std::vector<Row> out;
  for (size_t r = 0; r < t.size(); ++r) out.emplace_back(t.users[r], t.items[r], t.values[r], t.times[r]);
  return out;
}

// Reference k-core: full passes until nothing changes.
Interactions kcoreReference(Interactions rows, int minUser, int minItem) {
  for (;;) {
    std::map<Index, int> users, items;
    for (size_t r = 0; r < rows.size(); ++r) ++users[rows.users[r]], ++items[rows.items[r]];
    std::vector<size_t> keep;
    for (size_t r = 0; r < rows.size(); ++r)
      if (users[rows.users[r]] >= minUser && items[rows.items[r]] >= minItem) keep.push_back(r);
    if (keep.size() == rows.size()) return rows;
    rows = rows.select(keep);
  }
}

}  // namespace

TEST_CASE("dedupe policies on a hand-made table", "[data]") {
  const Interactions t = table({
      {0, 0, 1, 10},  // r0
      {0, 1, 2, 5},   // r1
      {0, 0, 3, 10},  // r2: same time as r0, later in the file
      {1, 0, 4, 1},   // r3
      {0, 0, 3, 3},   // r4: earliest (0,0)
      {0, 1, 1, 7},   // r5
  });
  REQUIRE(rowsOf(dedupe(t, DuplicatePolicy::Keep)) == rowsOf(t));
  REQUIRE(rowsOf(dedupe(t, DuplicatePolicy::First)) ==
          std::vector<Row>{{0, 1, 2, 5}, {1, 0, 4, 1}, {0, 0, 3, 3}});
  REQUIRE(rowsOf(dedupe(t, DuplicatePolicy::Last)) ==
          std::vector<Row>{{0, 0, 3, 10}, {1, 0, 4, 1}, {0, 1, 1, 7}});
  REQUIRE(rowsOf(dedupe(t, DuplicatePolicy::Max)) ==
          std::vector<Row>{{0, 1, 2, 5}, {0, 0, 3, 10}, {1, 0, 4, 1}});
  // Sum: at the pair's first position, with the total and the latest time.
  REQUIRE(rowsOf(dedupe(t, DuplicatePolicy::Sum)) ==
          std::vector<Row>{{0, 0, 7, 10}, {0, 1, 3, 7}, {1, 0, 4, 1}});
  REQUIRE(parseDuplicatePolicy("sum") == DuplicatePolicy::Sum);
  REQUIRE(parseDuplicatePolicy("keep") == DuplicatePolicy::Keep);
  REQUIRE_THROWS_WITH(parseDuplicatePolicy("avg"), Contains("keep, first, last, sum, max"));
}

TEST_CASE("kcore iterates until stable: exact survivors", "[data]") {
  // u3 (1 row) goes, then i3 has one row left and goes, then u2 has one and goes.
  const Interactions t = table({
      {0, 0, 1, 0},
      {0, 1, 1, 1},
      {0, 2, 1, 2},  // u0
      {1, 0, 1, 3},
      {1, 1, 1, 4},  // u1
      {2, 0, 1, 5},
      {2, 3, 1, 6},  // u2
      {3, 3, 1, 7},  // u3
      {4, 1, 1, 8},
      {4, 2, 1, 9},  // u4
  });
  const Interactions core = kcore(t, 2, 2);
  REQUIRE(core.times == std::vector<Timestamp>{0, 1, 2, 3, 4, 8, 9});
  REQUIRE(kcore(t, 3, 1).times == std::vector<Timestamp>{0, 1, 2});
  REQUIRE(kcore(t, 1, 1).times == t.times);
  REQUIRE(kcore(t, 0, 4).empty());
  REQUIRE_THROWS_AS(kcore(t, -1, 2), InvalidArgument);

  // Random tables against the full-pass reference.
  Rng rng(3);
  for (int trial = 0; trial < 20; ++trial) {
    Interactions r;
    for (int k = 0; k < 300; ++k) r.push(rng.below(40), rng.below(30), 1, k);
    const int mu = 1 + trial % 6, mi = 1 + (trial / 3) % 6;
    REQUIRE(kcore(r, mu, mi).times == kcoreReference(r, mu, mi).times);
  }
}

TEST_CASE("implicitFromThreshold keeps value >= threshold as 1", "[data]") {
  const Interactions t = table({{0, 0, 1, 1}, {0, 1, 4, 2}, {1, 0, 3.5f, 3}, {1, 1, 5, 4}});
  REQUIRE(rowsOf(implicitFromThreshold(t, 3.5f)) ==
          std::vector<Row>{{0, 1, 1, 2}, {1, 0, 1, 3}, {1, 1, 1, 4}});
}

TEST_CASE("compact renumbers to the ids still used, in id-map order", "[data]") {
  Dataset d = parse("user,item\na,x\nb,y\nc,z\n");
  d.rows = table({{2, 2, 1, 0}, {0, 2, 1, 0}});  // only c and a, only z remain
  compact(d);
  REQUIRE(d.users.ids() == Strings{"a", "c"});
  REQUIRE(d.items.ids() == Strings{"z"});
  REQUIRE(d.users.find("b") == -1);
  REQUIRE(d.users.find("c") == 1);
  REQUIRE(d.rows.users == std::vector<Index>{1, 0});
  REQUIRE(d.rows.items == std::vector<Index>{0, 0});
  Dataset bad = d;
  bad.rows.items[0] = 5;
  REQUIRE_THROWS_AS(compact(bad), InvalidArgument);
  REQUIRE(bad.users.ids() == d.users.ids());
}

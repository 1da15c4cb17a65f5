// Reads interaction files into a Dataset: MovieLens ratings.csv, ml-100k u.data
// (tab-separated, no header), ml-1m ratings.dat ("::"), and generic
// user,item[,rating][,timestamp] CSV with header detection.
#pragma once

#include <string>
#include <string_view>

#include "data/dataset.h"

namespace localrec {

enum class CsvFormat { Auto, MovieLens, Ml100k, Ml1m, Csv };

// "auto", "movielens", "ml100k", "ml1m", "csv"; throws InvalidArgument listing them.
CsvFormat parseCsvFormat(std::string_view name);
const char* csvFormatName(CsvFormat format);

struct CsvOptions {
  CsvFormat format = CsvFormat::Auto;
  // Ratings outside [minValue, maxValue] are an error naming the line.
  double minValue = -1e9;
  double maxValue = 1e9;
};

// Parses `text` (the whole file) and appends its rows to `into`, reusing its id
// maps (so a test file shares ids with its train file). `source` names the file
// in errors: "ratings.csv:17: field 3 (rating): 'abc' is not a number".
// Throws ParseError; on error `into` is left unchanged.
void readInteractions(std::string_view text, const std::string& source, const CsvOptions& options,
                      Dataset& into);

// Convenience: a new Dataset from one file's text.
Dataset readDataset(std::string_view text, const std::string& source, const CsvOptions& options = {});

}  // namespace localrec

// Model options: every model declares its options (name, default, valid range,
// one line of documentation); callers pass key=value strings (CLI --set, JS
// objects) and get a clear error naming the option and its valid values.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace localrec {

// The caller's raw options, as strings.
using OptionMap = std::map<std::string, std::string>;

struct OptionSpec {
  std::string name;
  std::string type;          // "int", "float", "bool" or "choice"
  std::string defaultValue;  // as text
  double min = 0, max = 0;   // for int and float (inclusive)
  std::vector<std::string> choices;  // for "choice"
  std::string doc;

  std::string describe() const;  // "factors (int in [1, 1024], default 64): ..."
};

// Reads typed values out of an OptionMap against a list of specs. Every
// accessor validates; finish() rejects keys no spec named.
class OptionReader {
 public:
  OptionReader(const std::string& model, const std::vector<OptionSpec>& specs, const OptionMap& given);

  int getInt(const std::string& name) const;
  double getFloat(const std::string& name) const;
  bool getBool(const std::string& name) const;
  std::string getChoice(const std::string& name) const;

  // Throws InvalidArgument if the caller passed an option that no spec names.
  void finish() const;

  // The canonical, complete map (defaults filled in), for saving and reporting.
  OptionMap resolved() const;

 private:
  const OptionSpec& spec(const std::string& name) const;
  std::string raw(const OptionSpec& s) const;
  [[noreturn]] void reject(const OptionSpec& s, const std::string& value, const std::string& why) const;

  std::string model_;
  const std::vector<OptionSpec>& specs_;
  const OptionMap& given_;
};

}  // namespace localrec

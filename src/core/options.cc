#include "core/options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "core/error.h"

namespace localrec {

std::string OptionSpec::describe() const {
  std::ostringstream os;
  os << name << " (" << type;
  if (type == "int" || type == "float") os << " in [" << min << ", " << max << "]";
  if (type == "choice") {
    os << ": ";
    for (size_t i = 0; i < choices.size(); ++i) os << (i ? "|" : "") << choices[i];
  }
  os << ", default " << defaultValue << ")";
  if (!doc.empty()) os << ": " << doc;
  return os.str();
}

OptionReader::OptionReader(const std::string& model, const std::vector<OptionSpec>& specs,
                           const OptionMap& given)
    : model_(model), specs_(specs), given_(given) {}

const OptionSpec& OptionReader::spec(const std::string& name) const {
  for (const auto& s : specs_)
    if (s.name == name) return s;
  fail<Error>("internal: model ", model_, " reads undeclared option ", name);
}

std::string OptionReader::raw(const OptionSpec& s) const {
  auto it = given_.find(s.name);
  return it == given_.end() ? s.defaultValue : it->second;
}

void OptionReader::reject(const OptionSpec& s, const std::string& value, const std::string& why) const {
  fail<InvalidArgument>("option ", s.name, " of model ", model_, ": '", value, "' ", why,
                        "; valid: ", s.describe());
}

int OptionReader::getInt(const std::string& name) const {
  const auto& s = spec(name);
  const std::string text = raw(s);
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE) reject(s, text, "is not an integer");
  if (v < s.min || v > s.max) reject(s, text, "is out of range");
  return static_cast<int>(v);
}

double OptionReader::getFloat(const std::string& name) const {
  const auto& s = spec(name);
  const std::string text = raw(s);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v)) reject(s, text, "is not a finite number");
  if (v < s.min || v > s.max) reject(s, text, "is out of range");
  return v;
}

bool OptionReader::getBool(const std::string& name) const {
  const auto& s = spec(name);
  const std::string text = raw(s);
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  reject(s, text, "is not a boolean (true|false)");
}

std::string OptionReader::getChoice(const std::string& name) const {
  const auto& s = spec(name);
  const std::string text = raw(s);
  for (const auto& c : s.choices)
    if (c == text) return text;
  reject(s, text, "is not one of the choices");
}

void OptionReader::finish() const {
  for (const auto& [key, value] : given_) {
    bool known = false;
    for (const auto& s : specs_) known = known || s.name == key;
    if (!known) {
      std::ostringstream os;
      os << "unknown option '" << key << "' for model " << model_ << "; valid options: ";
      if (specs_.empty()) os << "(none)";
      for (size_t i = 0; i < specs_.size(); ++i) os << (i ? "; " : "") << specs_[i].describe();
      throw InvalidArgument(os.str());
    }
  }
}

OptionMap OptionReader::resolved() const {
  OptionMap out;
  for (const auto& s : specs_) out[s.name] = raw(s);
  return out;
}

}  // namespace localrec

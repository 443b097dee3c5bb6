#pragma once
// The values a render reads: chart defaults, then -f files, --set and --set-string in Helm's
// order, coalesced — and, for every value, where it came from, so errors can point at it.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/diagnostic.hpp"
#include "values/yaml_loader.hpp"

namespace kjq::values {

struct ValuesOptions {
  std::vector<std::filesystem::path> files;  // -f/--values, later wins
  std::vector<std::string> set;              // --set, applied after all files
  std::vector<std::string> set_string;       // --set-string, applied after all --set
  YamlLimits limits;
};

struct ValuesSource {
  std::string name;   // file path, "--set", "--set-string" or the defaults' name
  SourceMarks marks;  // values path → line/column (0/0 for command-line values)
};

class ValuesDocument {
 public:
  nlohmann::json merged = nlohmann::json::object();  // coalesced over the defaults
  nlohmann::json user = nlohmann::json::object();    // only what the user supplied
  std::vector<ValuesSource> sources;                 // defaults first, then in applied order

  // A diagnostic for `path`, located in the last source that set it (or its nearest parent).
  Diagnostic at(std::string_view path, std::string message) const;
};

// Parses and merges; throws kjq::InputError on bad input (nothing is validated here beyond
// syntax: see validate_values).
ValuesDocument load_values(const ValuesOptions& options);

// A values document of the defaults merged with `user_values` (tests, benchmarks).
ValuesDocument values_from_json(const nlohmann::json& user_values, std::string source_name);

// "workers.alpha.extraEnvVars[0]" → "workers.alpha.extraEnvVars"; "" for a top-level key.
std::string parent_path(std::string_view path);

}  // namespace kjq::values

#pragma once
// YAML → JSON with Helm's typing (go-yaml v2 / YAML 1.1 rules, as `helm -f` reads values),
// guarded against what yaml-cpp alone does not survive: deep nesting, alias bombs, cyclic
// aliases, duplicate keys and oversized input.
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace kjq::values {

struct YamlLimits {
  std::size_t max_bytes = 8u << 20;   // a values file larger than this is refused
  std::size_t max_depth = 128;        // nesting of maps/lists (aliases count as their target)
  std::size_t max_nodes = 2'000'000;  // nodes visited while converting (aliases are re-counted)
};

// Where each value came from: values path (see util/value_path.hpp) → 1-based line and column.
struct Mark {
  int line = 0;
  int column = 0;
};
using SourceMarks = std::map<std::string, Mark, std::less<>>;

struct YamlDocument {
  nlohmann::json value;  // an object for values files; null for an empty document
  SourceMarks marks;     // marks of every map key and list item, by values path
};

// Typing rules (docs/values.md, "YAML typing"):
//  - every number is a double (number_float): 60, 0x1F=31, 012=10 (YAML 1.1 octal), 0o17=15,
//    1_000=1000, 1e3, 2.10; .inf/.nan are an error (Helm's JSON conversion fails on them);
//  - unquoted y/Y/yes/Yes/YES/on/On/ON/true/True/TRUE → true, the n/no/off/false family → false;
//  - unquoted ~, null, Null, NULL and empty → null; quoted scalars and !!str are always strings;
//  - timestamps stay strings; map keys are typed then turned back into strings
//    (`off:` → "false", `0x1F:` → "31");
//  - a duplicate key in one mapping is an error (Helm keeps the last silently; kjq refuses).
// Throws kjq::InputError whose diagnostic names `source_name`, the line and column, and the path.
YamlDocument parse_yaml(std::string_view text, const std::string& source_name, const YamlLimits& limits = {});

// Every document of a `---` separated stream (empty documents are skipped).
std::vector<YamlDocument> parse_yaml_stream(std::string_view text, const std::string& source_name,
                                            const YamlLimits& limits = {});

// Reads and parses a values file; the top level must be a map (or empty → {}).
// Throws kjq::InputError (bad content) or kjq::RuntimeError (cannot read).
YamlDocument load_values_file(const std::filesystem::path& path, const YamlLimits& limits = {});

}  // namespace kjq::values

#pragma once
// JSON values as YAML that kubectl (sigs.k8s.io/yaml, YAML 1.1 typing) reads back identically.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kjq::output {

// Block-style YAML with sorted keys and two-space indentation; lists of maps as "- key: v".
// A string is written plain only when it cannot be read back as anything else (YAML 1.1
// booleans like yes/on, null/~, numbers, timestamps, leading indicators, ": ", " #", etc. are
// double-quoted); multi-line strings ending in exactly one "\n" use a literal block `|`.
// Ends with "\n".
std::string to_yaml(const nlohmann::json& value);

// "---\n" before every document: what `kubectl apply -f -` accepts.
std::string to_yaml_stream(const std::vector<nlohmann::json>& documents);

}  // namespace kjq::output

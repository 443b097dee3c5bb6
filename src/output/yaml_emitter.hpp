#pragma once
// JSON values as YAML that kubectl (sigs.k8s.io/yaml, YAML 1.1 typing) reads back identically.
#include <functional>
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

// Called with the text written so far once it passes about 64 KiB; it consumes the text (writes
// it out) and clears the string.
using YamlFlush = std::function<void(std::string&)>;

// to_yaml(value) appended to `out`. With `flush`, the text goes out in pieces as it is written,
// so a large document (the manifests ConfigMap) is never held whole; what is left at the end
// stays in `out`.
void append_yaml(std::string& out, const nlohmann::json& value, const YamlFlush& flush = {});

// "---\n" before every document: what `kubectl apply -f -` accepts.
std::string to_yaml_stream(const std::vector<nlohmann::json>& documents);

}  // namespace kjq::output

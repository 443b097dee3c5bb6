#pragma once
// Reads a YAML (or JSON) stream of Kubernetes objects, e.g. the output of `kjq render`, into JSON
// objects; `kind: List` documents are expanded into their items.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kjq::emulator {

// Throws kjq::InputError with the file and line of a YAML syntax error.
std::vector<nlohmann::json> load_manifest_stream(const std::string& text, const std::string& origin);
std::vector<nlohmann::json> load_manifest_file(const std::string& path);

}  // namespace kjq::emulator

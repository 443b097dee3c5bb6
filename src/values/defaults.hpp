#pragma once
// The chart defaults kjq starts from (defaults.yaml, embedded at build time).
#include <string_view>

#include "values/yaml_loader.hpp"

namespace kjq::values {

// The text of defaults.yaml, as `kjq values` prints it.
std::string_view default_values_text();

// defaults.yaml parsed with Helm typing (parsed once, then copied).
const YamlDocument& default_values();

inline constexpr const char* kDefaultsSourceName = "(kjq defaults)";

}  // namespace kjq::values

#include "values/defaults.hpp"

namespace kjq::values {

namespace {
// Generated from defaults.yaml by CMake (see CMakeLists.txt): const char kDefaultValuesYaml[].
#include "values/defaults_yaml.inc"
}  // namespace

std::string_view default_values_text() { return kDefaultValuesYaml; }

const YamlDocument& default_values() {
  static const YamlDocument parsed = parse_yaml(default_values_text(), kDefaultsSourceName);
  return parsed;
}

}  // namespace kjq::values

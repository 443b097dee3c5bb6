#include "chart/value_access.hpp"

#include "output/go_json.hpp"

namespace kjq::chart {

const nlohmann::json& value_at(const nlohmann::json& root, std::initializer_list<const char*> keys) {
  static const nlohmann::json kNull;
  const nlohmann::json* node = &root;
  for (const char* key : keys) {
    if (!node->is_object()) return kNull;
    auto it = node->find(key);
    if (it == node->end()) return kNull;
    node = &*it;
  }
  return *node;
}

std::string value_text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : output::go_format_value(value);
}

}  // namespace kjq::chart

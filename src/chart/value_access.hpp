#pragma once
// Nil-safe reads of the values tree, as the chart's templates do them.
#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

namespace kjq::chart {

// The value at a key path, or a null when any step is missing or not a map.
const nlohmann::json& value_at(const nlohmann::json& root, std::initializer_list<const char*> keys);

// A scalar as a template prints it: strings raw, others as Go's %v.
std::string value_text(const nlohmann::json& value);

}  // namespace kjq::chart

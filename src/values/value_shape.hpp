#pragma once
// How validation messages name a value ("the string \"k8s\"", "a map") and what counts as a
// whole number (YAML numbers are doubles).
#include <string>

#include <nlohmann/json.hpp>

namespace kjq::values {

std::string describe_value(const nlohmann::json& value);
bool is_whole_number(const nlohmann::json& value);

}  // namespace kjq::values

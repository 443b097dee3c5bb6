#include "values/value_shape.hpp"

#include <cmath>

namespace kjq::values {

std::string describe_value(const nlohmann::json& v) {
  using nlohmann::json;
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return v.get<bool>() ? "the boolean true" : "the boolean false";
    case json::value_t::string:
      return "the string " + v.dump();
    case json::value_t::object:
      return "a map";
    case json::value_t::array:
      return "a list";
    default:
      return v.is_number() ? "the number " + v.dump() : "an unsupported value";
  }
}

bool is_whole_number(const nlohmann::json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return true;
  return v.is_number_float() && std::isfinite(v.get<double>()) && std::floor(v.get<double>()) == v.get<double>();
}

}  // namespace kjq::values

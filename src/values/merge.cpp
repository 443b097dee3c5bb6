#include "values/merge.hpp"

namespace kjq::values {

void merge_overwrite(nlohmann::json& destination, const nlohmann::json& source) {
  if (!destination.is_object() || !source.is_object()) {
    destination = source;
    return;
  }
  // On the maps themselves: one lookup per key, and a missing key is built as a copy in place.
  auto& members = destination.get_ref<nlohmann::json::object_t&>();
  for (const auto& [key, value] : source.get_ref<const nlohmann::json::object_t&>()) {
    auto it = members.lower_bound(key);
    if (it == members.end() || it->first != key) {
      members.emplace_hint(it, key, value);
    } else if (it->second.is_object() && value.is_object()) {
      merge_overwrite(it->second, value);
    } else {
      it->second = value;
    }
  }
}

namespace {
// Helm's coalesceTablesFullKey: `user` is the destination, `defaults` the source.
void coalesce_tables(nlohmann::json& user, const nlohmann::json& defaults) {
  if (!defaults.is_object()) return;
  auto& members = user.get_ref<nlohmann::json::object_t&>();
  for (const auto& [key, default_value] : defaults.get_ref<const nlohmann::json::object_t&>()) {
    auto it = members.lower_bound(key);
    if (it == members.end() || it->first != key) {
      members.emplace_hint(it, key, default_value);
    } else if (it->second.is_null()) {
      members.erase(it);
    } else if (it->second.is_object() && default_value.is_object()) {
      coalesce_tables(it->second, default_value);
    }
    // A user scalar or list over a default map (or the reverse) keeps the user's value.
  }
}
}  // namespace

nlohmann::json coalesce_values(const nlohmann::json& defaults, nlohmann::json user) {
  if (!user.is_object()) user = nlohmann::json::object();
  coalesce_tables(user, defaults);
  return user;
}

bool is_truthy(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return false;
    case nlohmann::json::value_t::boolean:
      return value.get<bool>();
    case nlohmann::json::value_t::number_integer:
      return value.get<std::int64_t>() != 0;
    case nlohmann::json::value_t::number_unsigned:
      return value.get<std::uint64_t>() != 0;
    case nlohmann::json::value_t::number_float:
      return value.get<double>() != 0.0;
    case nlohmann::json::value_t::string:
      return !value.get_ref<const std::string&>().empty();
    case nlohmann::json::value_t::object:
    case nlohmann::json::value_t::array:
      return !value.empty();
    default:
      return true;
  }
}

}  // namespace kjq::values

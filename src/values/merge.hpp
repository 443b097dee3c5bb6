#pragma once
// The three merges Helm applies to values, each with its own null semantics.
#include <nlohmann/json.hpp>

namespace kjq::values {

// Sprig's mergeOverwrite (mergo >= 1.0, Helm >= 3.16) and Helm's mergeMaps for -f/--set:
// where both sides hold a map, merge key by key recursively; otherwise the source value
// (null, list or scalar included) replaces the destination. Lists never merge element-wise.
void merge_overwrite(nlohmann::json& destination, const nlohmann::json& source);

// Helm's CoalesceValues: user values over chart defaults. Maps deep-merge and the user wins;
// a user null deletes the key where the defaults have that key, and stays null where they don't.
nlohmann::json coalesce_values(const nlohmann::json& defaults, nlohmann::json user);

// Go-template truth: false, 0, null, "", {} and [] are falsy; everything else is truthy.
bool is_truthy(const nlohmann::json& value);

}  // namespace kjq::values

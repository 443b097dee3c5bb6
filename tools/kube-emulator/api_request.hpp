#pragma once
// What the API handlers share about a request: query parameters parsed as kube-apiserver parses
// them, the JSON body, label/field selector filters, and stream set-up.
#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "api_status.hpp"
#include "object_store.hpp"
#include "selectors.hpp"

namespace kjq::emulator {

// An integer query parameter (`fallback` when absent or empty); 400 when it is not one.
long long parse_int_param(const httplib::Request& req, const char* key, long long fallback);
// A boolean query parameter, parsed like Go's ParseBool (false when absent); 400 when malformed.
bool bool_param(const httplib::Request& req, const char* key);
// A FieldValueForbidden cause: "Forbidden: <why>".
StatusCause forbidden_cause(const char* field, const std::string& why);
// The JSON body: 415 for protobuf or YAML, 400 when empty or malformed.
nlohmann::json parse_body(const httplib::Request& req);
// Streams must not be gzip-buffered by httplib: drops the client's Accept-Encoding.
void disable_compression(const httplib::Request& req);
// The store filter for a label and a field selector; null when both are empty.
std::function<bool(const StoredObject&)> make_filter(const LabelSelector& ls, const FieldSelector& fs);
// metadata.<key> as a string ("" when absent).
std::string meta_str(const nlohmann::json& o, const char* key);

}  // namespace kjq::emulator

#pragma once
// JSON exactly as Go's encoding/json writes it (what Helm's toJson/toPrettyJson produce).
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kjq::output {

// json.MarshalIndent(v, "", "  "): two-space indent, "key": value, {} and [] inline when empty,
// map keys sorted byte-wise, no trailing newline.
// Strings: \" \\ \n \r \t \b \f short escapes (Go >= 1.22), other bytes < 0x20 as \u00xx,
// `<` `>` `&` as \u003c \u003e \u0026, U+2028/U+2029 escaped, invalid UTF-8 → \ufffd,
// other non-ASCII raw. Numbers: number_integer/unsigned print as integers; number_float as Go
// prints float64: integral values without a decimal point, otherwise the shortest round-trip
// form, exponent form (1e-7, 1e+21) when |x| < 1e-6 or |x| >= 1e21.
std::string to_go_pretty_json(const nlohmann::json& value);

// json.Marshal(v): the same rules, no whitespace.
std::string to_go_json(const nlohmann::json& value);

// to_go_pretty_json(value) appended to `out`.
void append_go_pretty_json(std::string& out, const nlohmann::json& value);

// json.Marshal of one string (quotes included) appended to `out`.
void append_go_json_string(std::string& out, std::string_view text);

// Go's fmt %v of a decoded JSON value, as a template `{{ .Values.x }}` prints it:
// strings raw, bools true/false, float64 via strconv 'g' shortest (1e+06, 123456, 1.5),
// integers as integers. Maps/lists as Go prints them (map[a:1 b:2], [1 2]).
std::string go_format_value(const nlohmann::json& value);

}  // namespace kjq::output

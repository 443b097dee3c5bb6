#pragma once
// Helm's `--set` / `--set-string` syntax (helm's strvals), applied onto a values tree.
//   a.b=c,d=e        comma-separated assignments, dotted paths create maps
//   list={x,y,z}     a list value
//   a[0].b=c, a[2]=x list indexes (the list is padded with nulls; index limit 65536)
//   a\.b=c, a=b\,c   backslash escapes `.`, `,`, `=`, `[` in keys and `,` in values
//   a=null           null (removes a chart default when coalesced); a= sets ""
// Typing for --set: true/false (any case) → bool, null → null, a base-10 int64 without a
// leading zero → integer (number_integer), anything else (floats included) → string.
// --set-string keeps every value a string.
#include <string_view>

#include <nlohmann/json.hpp>

namespace kjq::values {

enum class SetTyping { Typed, String };

// Applies one --set expression to `target` (an object). Throws kjq::InputError with file
// "--set" (or "--set-string"), no line, the path being set, and what was wrong and where.
void apply_set_expression(nlohmann::json& target, std::string_view expression, SetTyping typing);

}  // namespace kjq::values

#include "util/json_limits.hpp"

#include <fmt/format.h>

namespace kjq {

std::optional<std::string> json_limit_violation(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes)
    return fmt::format("{} bytes; at most {} are accepted", text.size(), limits.max_bytes);
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // the escaped character cannot end the string
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > limits.max_depth)
          return fmt::format("nested deeper than {} levels (at byte {})", limits.max_depth, i + 1);
        break;
      case ']':
      case '}': --depth; break;
      default: break;
    }
  }
  return std::nullopt;
}

}  // namespace kjq

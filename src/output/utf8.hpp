#pragma once
// UTF-8 validation shared by the JSON and YAML writers (Go's rules: no overlongs, no surrogates).
#include <cstddef>
#include <string_view>

namespace kjq::output {

// Length of a valid UTF-8 sequence at s[i] (1 for ASCII), or 0 when the bytes there are invalid.
std::size_t utf8_length(std::string_view s, std::size_t i);

}  // namespace kjq::output

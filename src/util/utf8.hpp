#pragma once
// The one UTF-8 decoder and validator of kjq, with Go's rules (unicode/utf8): no overlong forms,
// no surrogates (U+D800–U+DFFF), nothing above U+10FFFF. The JSON and YAML writers, the YAML
// reader, the --set parser and display_text all read UTF-8 through it.
#include <cstddef>
#include <string>
#include <string_view>

namespace kjq::utf8 {

// One decoded character: its code point and the length of its sequence in bytes. `length` is 0
// when the bytes are not valid UTF-8 (then `code_point` is 0).
struct Rune {
  char32_t code_point = 0;
  std::size_t length = 0;
};

// The character whose sequence starts at s[i] (i < s.size()).
Rune decode(std::string_view s, std::size_t i);

// The length of the valid sequence at s[i] (1 for ASCII), or 0 when the bytes there are invalid.
inline std::size_t sequence_length(std::string_view s, std::size_t i) { return decode(s, i).length; }

// Whether all of `s` is valid UTF-8.
bool is_valid(std::string_view s);

// `s` read the way Go reads a string rune by rune: each byte that does not start a valid sequence
// becomes U+FFFD, so the result is always valid UTF-8.
std::string with_replacement_characters(std::string_view s);

// Whether `byte` continues a sequence (10xxxxxx) rather than starting one.
constexpr bool is_continuation_byte(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) == 0x80; }

}  // namespace kjq::utf8

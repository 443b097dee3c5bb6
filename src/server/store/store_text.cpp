#include "server/store/store_text.hpp"

#include <cstddef>

#include "util/utf8.hpp"

namespace kjq::server {

namespace {

// The length of the valid UTF-8 sequence, other than NUL, starting at text[i]; 0 when there is
// none (PostgreSQL's text holds no NUL).
std::size_t valid_sequence(const std::string& text, std::size_t i) {
  return text[i] == '\0' ? 0 : utf8::sequence_length(text, i);
}

}  // namespace

bool is_storable_text(const std::string& text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto n = valid_sequence(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string storable_text(const std::string& text) {
  if (is_storable_text(text)) return text;
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t i = 0; i < text.size();) {
    const auto n = valid_sequence(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for one bad byte
      ++i;
    } else {
      out.append(text, i, n);
      i += n;
    }
  }
  return out;
}

}  // namespace kjq::server

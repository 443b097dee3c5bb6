#include "util/base64.hpp"

#include <cstdint>

namespace kjq {

namespace {

constexpr std::string_view kStandard = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int sextet(char c, Base64 form) {
  const std::string_view alphabet = form == Base64::Standard ? kStandard : kUrl;
  const auto at = alphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

}  // namespace

std::string base64_encode(std::string_view bytes, Base64 form) {
  const std::string_view alphabet = form == Base64::Standard ? kStandard : kUrl;
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = static_cast<std::uint8_t>(bytes[i]) << 16 | static_cast<std::uint8_t>(bytes[i + 1]) << 8 |
                            static_cast<std::uint8_t>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += alphabet[(v >> shift) & 0x3f];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<std::uint8_t>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
    out += alphabet[(v >> 18) & 0x3f];
    out += alphabet[(v >> 12) & 0x3f];
    if (rest == 2) out += alphabet[(v >> 6) & 0x3f];
    if (form == Base64::Standard) out.append(3 - rest, '=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, Base64 form) {
  std::string compact;
  compact.reserve(text.size());
  for (char c : text)
    if (c != '\n' && c != '\r') compact += c;
  std::size_t pads = 0;
  if (form == Base64::Standard) {
    if (compact.size() % 4 != 0) return std::nullopt;
    while (pads < 2 && pads < compact.size() && compact[compact.size() - 1 - pads] == '=') ++pads;
  } else if (compact.size() % 4 == 1) {
    return std::nullopt;  // one character left over cannot hold a byte
  }
  const std::size_t data = compact.size() - pads;
  std::string out;
  out.reserve(data * 3 / 4);
  std::uint32_t bits = 0;
  int held = 0;
  for (std::size_t i = 0; i < data; ++i) {
    const int v = sextet(compact[i], form);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    held += 6;
    if (held >= 8) {
      held -= 8;
      out += static_cast<char>((bits >> held) & 0xff);
    }
  }
  return out;
}

}  // namespace kjq

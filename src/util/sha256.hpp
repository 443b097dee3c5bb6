#pragma once
// SHA-256 (FIPS 180-4), for checksum annotations that make pods roll when their inputs change.
#include <string>
#include <string_view>

namespace kjq {

// Lowercase hex digest of `data` (64 characters), as Helm's sha256sum prints it.
std::string sha256_hex(std::string_view data);

}  // namespace kjq

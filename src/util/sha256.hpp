#pragma once
// SHA-256 (FIPS 180-4), for checksum annotations that make pods roll when their inputs change.
#include <memory>
#include <string>
#include <string_view>

namespace kjq {

// Lowercase hex digest of `data` (64 characters), as Helm's sha256sum prints it.
std::string sha256_hex(std::string_view data);

// The same digest of data given in pieces (a text too large to hold whole).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  // The digest of everything given so far; the hasher is not used afterwards.
  std::string hex_digest();

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

}  // namespace kjq

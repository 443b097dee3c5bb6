#include "schedule/run_id.hpp"

#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <stdexcept>

namespace kjq::schedule {

namespace {

std::array<unsigned char, 16> uuid_bytes(const std::string& text) {
  std::array<unsigned char, 16> out{};
  std::size_t n = 0;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '-') continue;
    const int hi = hex(text[i]);
    const int lo = i + 1 < text.size() ? hex(text[i + 1]) : -1;
    if (hi < 0 || lo < 0 || n >= out.size()) throw std::invalid_argument("not a uuid: " + text);
    out[n++] = static_cast<unsigned char>(hi * 16 + lo);
    ++i;
  }
  if (n != out.size()) throw std::invalid_argument("not a uuid: " + text);
  return out;
}

std::string lowercase(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string uuid5(const std::string& namespace_uuid, const std::string& name) {
  const auto ns = uuid_bytes(namespace_uuid);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr) == 1 && EVP_DigestUpdate(ctx, ns.data(), ns.size()) == 1 &&
      EVP_DigestUpdate(ctx, name.data(), name.size()) == 1 && EVP_DigestFinal_ex(ctx, digest.data(), &length) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || length < 16) throw std::runtime_error("SHA-1 is not available from OpenSSL");
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);  // version 5
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

std::string run_id(const std::string& schedule_id, Instant due) {
  return uuid5(kRunIdNamespace, lowercase(schedule_id) + "@" + format_instant(due));
}

}  // namespace kjq::schedule

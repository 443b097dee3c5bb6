#include "server/bearer_tokens.hpp"

#include <openssl/crypto.h>

#include <cctype>

#include "util/atomic_file.hpp"
#include "util/diagnostic.hpp"

namespace kjq::server {

namespace {
std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}
}  // namespace

BearerTokens::BearerTokens(std::filesystem::path file, std::string flag)
    : file_(std::move(file)), flag_(std::move(flag)) {
  std::error_code ec;
  mtime_ = std::filesystem::last_write_time(file_, ec);
  std::string text;
  try {
    text = read_file(file_, 64 * 1024);
  } catch (const std::exception& e) {
    throw InputError(Diagnostic{file_.string(), 0, 0, flag_, std::string("cannot read the bearer token: ") + e.what()});
  }
  token_ = trimmed(text);
  if (token_.empty())
    throw InputError(Diagnostic{file_.string(), 0, 0, flag_, "expected a bearer token, the file is empty"});
}

void BearerTokens::reload_if_changed() {
  std::error_code ec;
  auto mtime = std::filesystem::last_write_time(file_, ec);
  if (ec || mtime == mtime_) return;
  try {
    std::string t = trimmed(read_file(file_, 64 * 1024));
    if (!t.empty()) token_ = std::move(t);
    mtime_ = mtime;
  } catch (const std::exception&) {
    // Mid-rotation (the file is being replaced): keep the old token until the next request.
  }
}

bool BearerTokens::allows(const std::string& header) {
  // The scheme is case-insensitive (RFC 9110 §11.1); the token is not.
  static const std::string prefix = "bearer ";
  if (header.size() <= prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i])) != prefix[i]) return false;
  const std::string given = header.substr(prefix.size());
  std::lock_guard lock(mu_);
  reload_if_changed();
  return given.size() == token_.size() && CRYPTO_memcmp(given.data(), token_.data(), given.size()) == 0;
}

}  // namespace kjq::server

#include "kube/token_source.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

#include "util/diagnostic.hpp"

namespace kjq::kube {

TokenSource TokenSource::fixed(std::string token) {
  TokenSource t;
  t.fixed_ = std::move(token);
  return t;
}

TokenSource TokenSource::from_file(std::string path, Clock::duration refresh) {
  TokenSource t;
  t.path_ = std::move(path);
  t.refresh_ = refresh;
  return t;
}

TokenSource::TokenSource(const TokenSource& o) {
  std::lock_guard lock(o.mu_);
  fixed_ = o.fixed_;
  path_ = o.path_;
  refresh_ = o.refresh_;
}

TokenSource& TokenSource::operator=(const TokenSource& o) {
  if (this == &o) return *this;
  std::scoped_lock lock(mu_, o.mu_);
  fixed_ = o.fixed_;
  path_ = o.path_;
  refresh_ = o.refresh_;
  valid_ = false;
  cached_.clear();
  return *this;
}

std::string TokenSource::token() {
  std::lock_guard lock(mu_);
  if (path_.empty()) return fixed_;
  const auto now = Clock::now();
  if (valid_ && now - read_at_ < refresh_) return cached_;
  std::ifstream in(path_);
  if (!in) {
    if (!cached_.empty()) return cached_;  // keep the last good token through a transient rename
    throw RuntimeError("cannot read the service-account token file " + path_ +
                       " (is a token mounted? the reference chart sets automountServiceAccountToken: false)");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  std::size_t b = 0, e = t.size();
  while (b < e && std::isspace(static_cast<unsigned char>(t[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(t[e - 1]))) --e;
  t = t.substr(b, e - b);
  if (t.empty()) {
    if (!cached_.empty()) return cached_;  // a file caught mid-write
    throw RuntimeError("the token file " + path_ + " is empty");
  }
  cached_ = t;
  read_at_ = now;
  valid_ = true;
  return cached_;
}

void TokenSource::invalidate() {
  std::lock_guard lock(mu_);
  valid_ = false;
}

}  // namespace kjq::kube

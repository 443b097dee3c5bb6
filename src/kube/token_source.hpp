#pragma once
// The bearer token: a fixed string, or a file re-read every `refresh` (1 minute, as client-go's
// cached file token source) and right after the server answered 401 (bound tokens rotate).
#include <chrono>
#include <mutex>
#include <string>

namespace kjq::kube {

class TokenSource {
 public:
  using Clock = std::chrono::steady_clock;
  TokenSource() = default;  // no token
  static TokenSource fixed(std::string token);
  static TokenSource from_file(std::string path, Clock::duration refresh = std::chrono::minutes(1));
  TokenSource(const TokenSource& o);
  TokenSource& operator=(const TokenSource& o);

  // The current token ("" when none). Throws kjq::RuntimeError when the file cannot be read.
  std::string token();
  // After a 401: the next token() re-reads the file.
  void invalidate();
  bool from_file() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

 private:
  mutable std::mutex mu_;
  std::string fixed_;
  std::string path_;
  Clock::duration refresh_{};
  std::string cached_;
  Clock::time_point read_at_{};
  bool valid_ = false;
};

}  // namespace kjq::kube

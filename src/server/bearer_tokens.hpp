#pragma once
// A bearer token, read from a file (--api-token-file for operators, --viewer-token-file for
// read-only users) (Kubernetes Secret mounts update in place): re-read
// when the file changes, so a rotated token works without a restart. Compared in constant time.
// The token itself never reaches a log or an error message.
#include <filesystem>
#include <mutex>
#include <string>

namespace kjq::server {

class BearerTokens {
 public:
  // Throws kjq::InputError naming `flag` when the file cannot be read or holds no token.
  explicit BearerTokens(std::filesystem::path file, std::string flag = "--api-token-file");
  // `header` is the Authorization header value ("Bearer <token>").
  bool allows(const std::string& header);

 private:
  void reload_if_changed();
  std::filesystem::path file_;
  std::string flag_;
  std::mutex mu_;
  std::string token_;
  std::filesystem::file_time_type mtime_{};
};

}  // namespace kjq::server

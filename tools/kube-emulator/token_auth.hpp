#pragma once
// Bearer-token authentication from a kube-apiserver static token file:
//   token,user,uid[,"group1,group2"]
// Service-account users (system:serviceaccount:NS:NAME) get the service-account groups.
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace kjq::emulator {

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
};

class TokenAuthenticator {
 public:
  // With no token file every request is the cluster admin (system:masters).
  TokenAuthenticator() = default;
  static TokenAuthenticator from_file(const std::string& path);  // throws kjq::InputError
  static TokenAuthenticator from_text(const std::string& text, const std::string& origin = "<tokens>");

  bool enabled() const { return enabled_; }
  // `authorization` is the raw Authorization header ("" when absent). nullopt: 401.
  std::optional<UserInfo> authenticate(const std::string& authorization) const;
  std::size_t size() const { return users_.size(); }

  static UserInfo admin_user();

 private:
  bool enabled_ = false;
  std::unordered_map<std::string, UserInfo> users_;
};

// Parse one CSV line with double-quoted fields ("a,b" stays one field).
std::vector<std::string> parse_csv_line(const std::string& line);

}  // namespace kjq::emulator

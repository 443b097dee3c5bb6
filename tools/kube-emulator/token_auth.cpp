#include "token_auth.hpp"

#include <fstream>
#include <sstream>

#include "util/diagnostic.hpp"

namespace kjq::emulator {

std::vector<std::string> parse_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::string cur;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  fields.push_back(cur);
  return fields;
}

TokenAuthenticator TokenAuthenticator::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw kjq::InputError(kjq::Diagnostic{path, 0, 0, "", "cannot read token file"});
  std::stringstream ss;
  ss << in.rdbuf();
  return from_text(ss.str(), path);
}

TokenAuthenticator TokenAuthenticator::from_text(const std::string& text, const std::string& origin) {
  TokenAuthenticator auth;
  auth.enabled_ = true;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  std::vector<kjq::Diagnostic> problems;
  while (std::getline(in, line)) {
    ++lineno;
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    auto f = parse_csv_line(line);
    if (f.size() < 3 || f[0].empty() || f[1].empty()) {
      problems.push_back({origin, lineno, 1, "", "expected token,user,uid[,\"group1,group2\"]"});
      continue;
    }
    UserInfo u{f[1], f[2], {}};
    if (f.size() >= 4) {
      std::stringstream gs(f[3]);
      std::string g;
      while (std::getline(gs, g, ','))
        if (!g.empty()) u.groups.push_back(g);
    }
    const std::string sa_prefix = "system:serviceaccount:";
    if (u.name.rfind(sa_prefix, 0) == 0) {
      std::string rest = u.name.substr(sa_prefix.size());
      auto colon = rest.find(':');
      u.groups.emplace_back("system:serviceaccounts");
      if (colon != std::string::npos) u.groups.push_back("system:serviceaccounts:" + rest.substr(0, colon));
    }
    u.groups.emplace_back("system:authenticated");
    auth.users_[f[0]] = std::move(u);
  }
  if (!problems.empty()) throw kjq::InputError(problems);
  return auth;
}

std::optional<UserInfo> TokenAuthenticator::authenticate(const std::string& authorization) const {
  if (!enabled_) return admin_user();
  const std::string prefix = "Bearer ";
  if (authorization.size() <= prefix.size()) return std::nullopt;
  // The scheme is case-insensitive.
  for (std::size_t i = 0; i < prefix.size() - 1; ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return std::nullopt;
  std::string token = authorization.substr(prefix.size());
  while (!token.empty() && (token.back() == ' ' || token.back() == '\r')) token.pop_back();
  auto it = users_.find(token);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

UserInfo TokenAuthenticator::admin_user() { return {"system:admin", "", {"system:masters", "system:authenticated"}}; }

}  // namespace kjq::emulator

#include "request_info.hpp"

#include <vector>

namespace kjq::emulator {

std::optional<bool> parse_go_bool(const std::string& t) {
  if (t == "1" || t == "t" || t == "T" || t == "TRUE" || t == "true" || t == "True") return true;
  if (t == "0" || t == "f" || t == "F" || t == "FALSE" || t == "false" || t == "False") return false;
  return std::nullopt;
}

RequestInfo parse_request_info(const std::string& method, const std::string& path, Watch watch) {
  RequestInfo info;
  info.path = path;
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  std::size_t i = 0;
  if (parts.size() >= 2 && parts[0] == "api") {
    info.version = parts[1];
    i = 2;
  } else if (parts.size() >= 3 && parts[0] == "apis") {
    info.group = parts[1];
    info.version = parts[2];
    i = 3;
  } else {
    return info;
  }
  if (i >= parts.size()) return info;  // discovery: /api/v1, /apis/G/V
  info.resource_request = true;
  if (parts[i] == "namespaces" && i + 2 < parts.size()) {
    info.ns = parts[i + 1];
    i += 2;
  }
  info.resource = parts[i];
  if (i + 1 < parts.size()) info.name = parts[i + 1];
  if (i + 2 < parts.size()) info.subresource = parts[i + 2];
  if (parts[i] == "namespaces" && i + 1 < parts.size() && info.ns.empty()) {
    // /api/v1/namespaces/NS is the namespace object itself.
    info.resource = "namespaces";
    info.name = parts[i + 1];
  }
  const bool named = !info.name.empty();
  if (method == "GET" || method == "HEAD")
    info.verb = watch == Watch::Requested ? "watch" : named ? "get" : "list";
  else if (method == "POST")
    info.verb = "create";
  else if (method == "PUT")
    info.verb = "update";
  else if (method == "PATCH")
    info.verb = "patch";
  else if (method == "DELETE")
    info.verb = named ? "delete" : "deletecollection";
  else
    info.verb = method;
  return info;
}

}  // namespace kjq::emulator

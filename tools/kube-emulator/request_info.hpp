#pragma once
// Splits an API path the way kube-apiserver's RequestInfoFactory does:
//   /api/v1/namespaces/NS/pods/NAME/log   /apis/batch/v1/namespaces/NS/jobs   /apis/G/V/clusterroles/N
#include <map>
#include <optional>
#include <string>

namespace kjq::emulator {

struct RequestInfo {
  bool resource_request = false;
  std::string path;
  std::string group;
  std::string version;
  std::string ns;
  std::string resource;
  std::string name;
  std::string subresource;
  std::string verb;  // get list watch create update patch delete deletecollection
};

// The parsed ?watch= flag: with Watch::Requested a GET of a collection is the verb "watch".
enum class Watch { NotRequested, Requested };

RequestInfo parse_request_info(const std::string& method, const std::string& path, Watch watch);

// Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False; nullopt otherwise.
std::optional<bool> parse_go_bool(const std::string& text);

}  // namespace kjq::emulator

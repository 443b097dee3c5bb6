#pragma once
// Which handler a request goes to: routes are a method and a path whose "{}" segments match one
// non-empty segment each ("/api/v1/jobs/{}/cancel"), tried in the order they were added. Apart
// from the listener so that it can be tested and fuzzed without sockets.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kjq::server::http {

// What '+' means: a space in a query string, itself in a path.
enum class Plus { Literal, Space };

// "%2F" → "/", and '+' → ' ' with Plus::Space (query strings). Invalid escapes stay as sent.
std::string percent_decode(std::string_view text, Plus plus);

// "/a%20b?x=1&y" → path "/a b" and query {("x","1"), ("y","")}, each part decoded.
void split_target(std::string_view target, std::string& raw_path, std::string& path,
                  std::vector<std::pair<std::string, std::string>>& query);

class Router {
 public:
  struct Match {
    std::size_t route = 0;            // the index given to add()
    std::vector<std::string> params;  // the "{}" segments, decoded
  };

  void add(std::string method, std::string_view pattern);
  // The route for `method` on `raw_path` (not yet decoded). nullopt with `path_known` set: the
  // path exists with other methods (405); unset: no such path (404).
  std::optional<Match> match(std::string_view method, std::string_view raw_path, bool& path_known) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
  };
  std::vector<Route> routes_;
};

}  // namespace kjq::server::http

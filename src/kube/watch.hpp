#pragma once
// List, then watch from the list's resourceVersion (client-go's reflector, cut down): bookmarks
// advance the cursor, a stream that ends or breaks is resumed from the last resourceVersion seen,
// `410 Gone` (HTTP or an ERROR event) triggers a full relist. Selectors are applied by the
// server. Builds no HTTP itself: every request goes through KubeApi.
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/api.hpp"

namespace kjq::kube {

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED
  nlohmann::json object;
};

struct WatchHandlers {
  // The full current state after each (re)list; return false to stop.
  std::function<bool(const std::vector<nlohmann::json>&)> on_list;
  // One change; return false to stop.
  std::function<bool(const WatchEvent&)> on_event;
};

struct WatchStats {
  int lists = 0, watches = 0, resumes = 0, relists = 0, bookmarks = 0;
};

class ListWatch {
 public:
  ListWatch(KubeApi& api, const Resource& resource, std::string ns, ListOptions selectors,
            int watch_timeout_seconds = 300);
  // Runs until a handler returns false or `*cancel` is set. Throws after `max_failures`
  // consecutive failed watch attempts, or on an error that retrying cannot fix (403, 404...).
  void run(const WatchHandlers& handlers, const std::atomic<bool>* cancel = nullptr);
  const WatchStats& stats() const { return stats_; }
  const std::string& resource_version() const { return rv_; }
  int max_failures = 8;

 private:
  KubeApi& api_;
  Resource resource_;
  std::string ns_;
  ListOptions selectors_;
  int timeout_;
  std::string rv_;
  WatchStats stats_;
};

}  // namespace kjq::kube

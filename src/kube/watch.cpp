#include "kube/watch.hpp"

#include <thread>

#include <spdlog/spdlog.h>

#include "kube/errors.hpp"
#include "kube/object_meta.hpp"

namespace kjq::kube {

using nlohmann::json;

ListWatch::ListWatch(KubeApi& api, const Resource& resource, std::string ns, ListOptions selectors,
                     int watch_timeout_seconds)
    : api_(api),
      resource_(resource),
      ns_(std::move(ns)),
      selectors_(std::move(selectors)),
      timeout_(watch_timeout_seconds) {}

namespace {
bool cancelled(const std::atomic<bool>* c) { return c && c->load(); }

}  // namespace

void ListWatch::run(const WatchHandlers& h, const std::atomic<bool>* cancel) {
  bool need_list = true;
  int failures = 0;
  while (!cancelled(cancel)) {
    if (need_list) {
      ListOptions o = selectors_;
      o.continue_token.clear();
      ObjectList l = api_.list_all(resource_, ns_, o);
      rv_ = l.resource_version;
      ++stats_.lists;
      need_list = false;
      if (h.on_list && !h.on_list(l.items)) return;
    }
    bool gone = false, stopped = false;
    try {
      ++stats_.watches;
      api_.watch_once(
          resource_, ns_, selectors_, rv_, timeout_,
          [&](const json& ev) {
            const std::string type = ev.value("type", "");
            const json& obj = ev.contains("object") ? ev["object"] : json::object();
            if (type == "ERROR") {
              const int code = obj.value("code", 0);
              if (code == 410) {
                gone = true;
                return false;
              }
              throw decode_status_error(code, obj.dump(), "watch " + resource_.plural);
            }
            if (auto rv = resource_version_of(obj); !rv.empty()) rv_ = rv;
            failures = 0;
            if (type == "BOOKMARK") {
              ++stats_.bookmarks;
              return true;
            }
            if (h.on_event && !h.on_event(WatchEvent{type, obj})) {
              stopped = true;
              return false;
            }
            return true;
          },
          cancel);
    } catch (const ApiError& e) {
      if (e.http_code() == 410 || e.is(ErrorReason::Gone)) {
        gone = true;
      } else if (e.http_code() == 429 || e.http_code() >= 500) {
        if (++failures > max_failures) throw;
      } else {
        throw;
      }
    } catch (const StreamError& e) {
      if (++failures > max_failures) throw;
      spdlog::debug("{}; resuming", e.what());
    } catch (const TransportError& e) {
      if (++failures > max_failures) throw;
      spdlog::warn("{}; resuming the watch", e.what());
    }
    if (stopped || cancelled(cancel)) return;
    if (gone) {
      ++stats_.relists;
      spdlog::info("watch {}: resourceVersion {} is too old (410 Gone); relisting", resource_.plural, rv_);
      need_list = true;
      continue;
    }
    ++stats_.resumes;
    spdlog::debug("watch {}: stream ended at resourceVersion {}; resuming", resource_.plural, rv_);
    if (failures > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5000, 100 << std::min(failures, 6))));
  }
}

}  // namespace kjq::kube

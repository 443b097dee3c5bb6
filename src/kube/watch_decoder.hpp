#pragma once
// The body of a watch: one JSON event per line, for as long as the connection lasts. The decoder
// cuts it into events and bounds what a server (or whatever sits between) can make kjq hold: a
// line that never ends, or an event nested deeper than any Kubernetes object, is an error, not
// an ever-growing buffer or a crash later.
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/json_limits.hpp"

namespace kjq::kube {

class WatchDecoder {
 public:
  // `what` names the watch in errors ("watch jobs in namespace x").
  explicit WatchDecoder(std::string what, nlohmann::json::parser_callback_t filter = nullptr,
                        JsonLimits limits = kApiObjectJsonLimits);

  // Feeds the next bytes; calls `on_event` for each complete event, in order, until it returns
  // false (then feed returns false and keeps the rest). Throws kjq::RuntimeError for an event that
  // is not a JSON object or breaks the limits.
  bool feed(std::string_view chunk, const std::function<bool(nlohmann::json&)>& on_event);

  // Bytes of an event that has not ended yet.
  std::size_t pending() const { return buffer_.size(); }

 private:
  std::string what_;
  nlohmann::json::parser_callback_t filter_;
  JsonLimits limits_;
  std::string buffer_;
};

}  // namespace kjq::kube

#include "kube/watch_decoder.hpp"

#include "util/diagnostic.hpp"

namespace kjq::kube {

WatchDecoder::WatchDecoder(std::string what, nlohmann::json::parser_callback_t filter, JsonLimits limits)
    : what_(std::move(what)), filter_(std::move(filter)), limits_(limits) {}

bool WatchDecoder::feed(std::string_view chunk, const std::function<bool(nlohmann::json&)>& on_event) {
  buffer_.append(chunk);
  // Every complete line of the buffer, then one erase: a chunk can hold many events.
  std::size_t start = 0, nl = 0;
  bool go_on = true;
  while (go_on && (nl = buffer_.find('\n', start)) != std::string::npos) {
    const std::string_view line(buffer_.data() + start, nl - start);
    start = nl + 1;
    if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
    if (auto why = json_limit_violation(line, limits_)) throw RuntimeError(what_ + ": watch event refused: " + *why);
    nlohmann::json ev = nlohmann::json::parse(line, filter_, false);
    if (ev.is_discarded() || !ev.is_object()) throw RuntimeError(what_ + ": invalid watch event");
    go_on = on_event(ev);
  }
  buffer_.erase(0, start);
  if (buffer_.size() > limits_.max_bytes)
    throw RuntimeError(what_ + ": watch event refused: more than " + std::to_string(limits_.max_bytes) +
                       " bytes without a line end");
  return go_on;
}

}  // namespace kjq::kube

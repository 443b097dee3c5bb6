#pragma once
// Every log line kjq writes goes through this formatter: `%*` in the pattern is the message with
// control and bidi characters escaped (util/display_text.hpp), so a queue name or an API body
// cannot forge log lines, whatever the call site formats into it.
#include <string>

#include <spdlog/logger.h>

namespace kjq {

// `pattern` is an spdlog pattern that uses `%*` where the message goes, e.g. "kjq: %l: %*".
void set_escaped_log_pattern(spdlog::logger& logger, const std::string& pattern);

}  // namespace kjq

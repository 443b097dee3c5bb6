#include "util/log_format.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include <spdlog/sinks/ostream_sink.h>

namespace kjq {
namespace {

TEST(LogFormat, MessagesAreEscapedSoAClientCannotForgeALine) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("test", sink);
  set_escaped_log_pattern(logger, "kjq: %l: %*");
  logger.warn("job {} (queue {}): failed", "j1", "evil\nkjq: info: job j2 Succeeded\r\xe2\x80\xae");
  EXPECT_EQ(out.str(), "kjq: warning: job j1 (queue evil\\nkjq: info: job j2 Succeeded\\r\\u202e): failed\n");
}

}  // namespace
}  // namespace kjq

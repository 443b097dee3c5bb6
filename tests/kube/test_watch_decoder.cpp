#include "kube/watch_decoder.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "util/diagnostic.hpp"

namespace kjq::kube {
namespace {

std::vector<std::string> types_of(WatchDecoder& d, std::string_view bytes) {
  std::vector<std::string> out;
  d.feed(bytes, [&](nlohmann::json& ev) {
    out.push_back(ev.value("type", ""));
    return true;
  });
  return out;
}

TEST(WatchDecoder, EventsSplitAcrossChunksComeOutWholeAndInOrder) {
  WatchDecoder d("watch jobs");
  EXPECT_TRUE(types_of(d, "{\"type\":\"ADD").empty());
  EXPECT_EQ(d.pending(), 12u);
  EXPECT_EQ(types_of(d, "ED\"}\n\n{\"type\":\"MODIFIED\"}\r\n{\"type\":"),
            (std::vector<std::string>{"ADDED", "MODIFIED"}));
  EXPECT_EQ(types_of(d, "\"DELETED\"}\n"), (std::vector<std::string>{"DELETED"}));
  EXPECT_EQ(d.pending(), 0u);
}

TEST(WatchDecoder, StopsWhenAskedAndKeepsTheRest) {
  WatchDecoder d("watch jobs");
  int seen = 0;
  EXPECT_FALSE(d.feed("{\"a\":1}\n{\"b\":2}\n", [&](nlohmann::json&) { return ++seen < 1; }));
  EXPECT_EQ(seen, 1);
}

TEST(WatchDecoder, InvalidOrNonObjectEventsAreErrors) {
  WatchDecoder a("watch jobs");
  EXPECT_THROW(types_of(a, "not json\n"), RuntimeError);
  WatchDecoder b("watch jobs");
  EXPECT_THROW(types_of(b, "[1,2]\n"), RuntimeError);
}

TEST(WatchDecoder, DeepEventsAreRefusedBeforeParsing) {
  WatchDecoder d("watch jobs");
  const std::string deep = "{\"o\":" + std::string(100000, '[') + std::string(100000, ']') + "}\n";
  try {
    types_of(d, deep);
    FAIL() << "a 100,000-level event was accepted";
  } catch (const RuntimeError& e) {
    EXPECT_EQ(std::string(e.what()), "watch jobs: watch event refused: nested deeper than 256 levels (at byte 261)");
  }
}

TEST(WatchDecoder, ALineThatNeverEndsIsBounded) {
  WatchDecoder d("watch jobs", nullptr, JsonLimits{1024, 10});
  const std::string piece(512, ' ');
  EXPECT_NO_THROW(types_of(d, piece));
  EXPECT_NO_THROW(types_of(d, piece));
  EXPECT_THROW(types_of(d, piece), RuntimeError);
}

}  // namespace
}  // namespace kjq::kube

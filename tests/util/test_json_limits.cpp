#include "util/json_limits.hpp"

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

namespace kjq {
namespace {

std::string nested(int levels, char open = '[', char close = ']') {
  return std::string(static_cast<std::size_t>(levels), open) + std::string(static_cast<std::size_t>(levels), close);
}

TEST(JsonLimits, AcceptsUpToTheDepthAndRejectsOneMore) {
  const JsonLimits limits{1 << 20, 5};
  EXPECT_EQ(json_limit_violation(nested(5), limits), std::nullopt);
  auto why = json_limit_violation(nested(6), limits);
  ASSERT_TRUE(why);
  EXPECT_EQ(*why, "nested deeper than 5 levels (at byte 6)");
}

TEST(JsonLimits, ObjectsAndArraysCountAlike) {
  const JsonLimits limits{1 << 20, 3};
  EXPECT_EQ(json_limit_violation(R"({"a":[{"b":1}]})", limits), std::nullopt);
  EXPECT_TRUE(json_limit_violation(R"({"a":[{"b":[1]}]})", limits));
}

TEST(JsonLimits, BracketsInsideStringsDoNotCount) {
  const JsonLimits limits{1 << 20, 2};
  EXPECT_EQ(json_limit_violation(R"({"a":"[[[[{{{{"})", limits), std::nullopt);
  // An escaped quote does not end the string, so the brackets after it are still inside it.
  EXPECT_EQ(json_limit_violation(R"({"a":"\"[[[[\\"})", limits), std::nullopt);
  EXPECT_TRUE(json_limit_violation(R"({"a":"\\",[[[1]]]})", limits));
}

TEST(JsonLimits, SizeIsCheckedFirst) {
  const JsonLimits limits{10, 100};
  EXPECT_EQ(json_limit_violation("[1,2,3,4,5]", limits), std::string("11 bytes; at most 10 are accepted"));
  EXPECT_EQ(json_limit_violation("[1,2,3,45]", limits), std::nullopt);
}

TEST(JsonLimits, SixtyThousandLevelsAreRefusedCheaply) {
  EXPECT_TRUE(json_limit_violation(nested(60000), kInputJsonLimits));
  EXPECT_TRUE(json_limit_violation(nested(60000, '{', '}'), kApiObjectJsonLimits));
}

}  // namespace
}  // namespace kjq

namespace kjq {
namespace {

TEST(JsonInexactInteger, FindsIntegersBeyondSixtyFourBitsWithTheirPath) {
  EXPECT_EQ(
      json_inexact_integer(R"({"a":1,"b":[1,2,{"c":18446744073709551616}]})", "data"),
      std::string("data.b[2].c: the integer 18446744073709551616 is outside the 64-bit range; send it as a string"));
  EXPECT_EQ(json_inexact_integer(R"([0,-99999999999999999999])", "data"),
            std::string("data[1]: the integer -99999999999999999999 is outside the 64-bit range; send it as a string"));
}

TEST(JsonInexactInteger, AcceptsWhatFitsAndRealFloats) {
  EXPECT_EQ(json_inexact_integer(R"({"max":18446744073709551615,"min":-9223372036854775808,"f":1e30,"g":2.5})", "data"),
            std::nullopt);
  EXPECT_EQ(json_inexact_integer(R"({"s":"18446744073709551616"})", "data"), std::nullopt);
}

TEST(JsonErrorText, DropsTheLibraryPrefix) {
  try {
    auto parsed = nlohmann::json::parse("{\"a\": }");
    ADD_FAILURE() << parsed.dump();
  } catch (const nlohmann::json::parse_error& e) {
    EXPECT_EQ(json_error_text(e).rfind("parse error at line 1, column 7", 0), 0u) << json_error_text(e);
  }
}

}  // namespace
}  // namespace kjq

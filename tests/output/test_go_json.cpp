#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "output/go_json.hpp"

namespace fs = std::filesystem;
using kjq::output::go_format_value;
using kjq::output::to_go_json;
using kjq::output::to_go_pretty_json;
using json = nlohmann::json;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Helm decodes every JSON number into a float64: mirror that for parsed fixtures.
void make_numbers_float(json& v) {
  if (v.is_number_integer()) {
    v = json(static_cast<double>(v.get<std::int64_t>()));
  } else if (v.is_structured()) {
    for (auto& child : v) make_numbers_float(child);
  }
}

std::string f(double x) { return to_go_json(json(x)); }
std::string g(double x) { return go_format_value(json(x)); }
std::string s(const std::string& text) { return to_go_json(json(text)); }

}  // namespace

TEST(GoJson, ChartFixturesAreByteIdentical) {
  // Every expected-text file is re-encoded from its parsed form; where expected.json carries the
  // parsed data too (03-two-workers ships an empty "data"), that object must give the same bytes.
  const fs::path root = fs::path(KJQ_FIXTURES_DIR) / "go-json";
  int compared = 0;
  int from_data = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (!entry.is_directory()) continue;
    json expected = json::parse(slurp(entry.path() / "expected.json"));
    make_numbers_float(expected);
    for (const auto& text_file : fs::directory_iterator(entry.path() / "expected-text")) {
      const std::string queue = text_file.path().stem().string();
      SCOPED_TRACE(entry.path().filename().string() + "/" + queue);
      const std::string bytes = slurp(text_file.path());
      ASSERT_FALSE(bytes.empty());
      json parsed = json::parse(bytes);
      make_numbers_float(parsed);
      EXPECT_EQ(to_go_pretty_json(parsed) + "\n", bytes);
      ++compared;
      if (expected.at("data").contains(queue)) {
        EXPECT_EQ(to_go_pretty_json(expected["data"][queue]) + "\n", bytes);
        ++from_data;
      }
    }
  }
  EXPECT_EQ(compared, 6);
  EXPECT_EQ(from_data, 4);
}

TEST(GoJson, NumbersStoredAsFloatsPrintIntegralWithoutDecimalPoint) {
  json manifest = json::parse(R"({"spec":{"backoffLimit":0,"ttlSecondsAfterFinished":60}})");
  make_numbers_float(manifest);
  ASSERT_TRUE(manifest["spec"]["backoffLimit"].is_number_float());
  EXPECT_EQ(to_go_json(manifest), R"({"spec":{"backoffLimit":0,"ttlSecondsAfterFinished":60}})");
}

TEST(GoJson, PrettyLayout) {
  json v = {{"b", json::array({1, json::object(), json::array()})},
            {"a", {{"x", nullptr}, {"y", true}}},
            {"c", json::object()},
            {"d", json::array()}};
  EXPECT_EQ(to_go_pretty_json(v),
            "{\n"
            "  \"a\": {\n"
            "    \"x\": null,\n"
            "    \"y\": true\n"
            "  },\n"
            "  \"b\": [\n"
            "    1,\n"
            "    {},\n"
            "    []\n"
            "  ],\n"
            "  \"c\": {},\n"
            "  \"d\": []\n"
            "}");
  EXPECT_EQ(to_go_json(v), R"({"a":{"x":null,"y":true},"b":[1,{},[]],"c":{},"d":[]})");
  EXPECT_EQ(to_go_pretty_json(json::object()), "{}");
  EXPECT_EQ(to_go_pretty_json(json::array()), "[]");
  EXPECT_EQ(to_go_pretty_json(nullptr), "null");
  EXPECT_EQ(to_go_pretty_json(json::array({json::array({1})})), "[\n  [\n    1\n  ]\n]");
}

TEST(GoJson, KeysSortedBytewise) {
  json v = {{"b", 1}, {"B", 2}, {"a", 3}, {"_", 4}, {"\xc3\xa9", 5}, {"Z9", 6}, {"", 7}};
  EXPECT_EQ(to_go_json(v), "{\"\":7,\"B\":2,\"Z9\":6,\"_\":4,\"a\":3,\"b\":1,\"\xc3\xa9\":5}");
}

TEST(GoJson, IntegersPrintAsIntegers) {
  EXPECT_EQ(to_go_json(json(std::int64_t{-9223372036854775807LL - 1})), "-9223372036854775808");
  EXPECT_EQ(to_go_json(json(std::uint64_t{18446744073709551615ULL})), "18446744073709551615");
  EXPECT_EQ(to_go_json(json(0)), "0");
  EXPECT_EQ(to_go_json(json(-3)), "-3");
}

TEST(GoJson, FloatsInFixedForm) {
  EXPECT_EQ(f(60.0), "60");
  EXPECT_EQ(f(0.0), "0");
  EXPECT_EQ(f(-0.0), "-0");
  EXPECT_EQ(f(-3.0), "-3");
  EXPECT_EQ(f(1.5), "1.5");
  EXPECT_EQ(f(2.1), "2.1");
  EXPECT_EQ(f(0.1), "0.1");
  EXPECT_EQ(f(0.3), "0.3");
  EXPECT_EQ(f(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(f(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(f(0.000001), "0.000001");
  EXPECT_EQ(f(-0.000001), "-0.000001");
  EXPECT_EQ(f(123456789.0), "123456789");
  EXPECT_EQ(f(1234567.25), "1234567.25");
  EXPECT_EQ(f(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(f(9007199254740993.0), "9007199254740992");  // above 2^53 precision is lost
  EXPECT_EQ(f(1e20), "100000000000000000000");
  EXPECT_EQ(f(std::nextafter(1e21, 0.0)), "999999999999999900000");
}

TEST(GoJson, FloatsInExponentForm) {
  EXPECT_EQ(f(1e-7), "1e-7");
  EXPECT_EQ(f(-1e-7), "-1e-7");
  EXPECT_EQ(f(1.5e-7), "1.5e-7");
  EXPECT_EQ(f(9.99e-7), "9.99e-7");
  EXPECT_EQ(f(1e-10), "1e-10");
  EXPECT_EQ(f(1.25e-100), "1.25e-100");
  EXPECT_EQ(f(1e21), "1e+21");
  EXPECT_EQ(f(-1e21), "-1e+21");
  EXPECT_EQ(f(1.234e25), "1.234e+25");
  EXPECT_EQ(f(1e100), "1e+100");
  EXPECT_EQ(f(5e-324), "5e-324");
  EXPECT_EQ(f(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
  EXPECT_EQ(f(std::numeric_limits<double>::min()), "2.2250738585072014e-308");
}

TEST(GoJson, NonFiniteFloatsAreRejected) {
  EXPECT_THROW(f(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  EXPECT_THROW(f(std::numeric_limits<double>::infinity()), std::invalid_argument);
  EXPECT_THROW(to_go_pretty_json(json{{"a", -std::numeric_limits<double>::infinity()}}), std::invalid_argument);
}

TEST(GoJson, StringEscapes) {
  EXPECT_EQ(s(""), R"("")");
  EXPECT_EQ(s("plain text"), R"("plain text")");
  EXPECT_EQ(s("q\"b\\s/"), R"("q\"b\\s/")");
  EXPECT_EQ(s("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(s(std::string("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(s("\x0b\x1b"), R"("\u000b\u001b")");
  EXPECT_EQ(s("\x7f"), "\"\x7f\"");  // DEL is written raw
  EXPECT_EQ(s("<a href=\"x\">&amp;</a>"), R"("\u003ca href=\"x\"\u003e\u0026amp;\u003c/a\u003e")");
  EXPECT_EQ(s("line\xe2\x80\xa8para\xe2\x80\xa9"), R"("line\u2028para\u2029")");
}

TEST(GoJson, NonAsciiRawAndInvalidUtf8Replaced) {
  EXPECT_EQ(s("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80 \xef\xbf\xbd"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80 \xef\xbf\xbd\"");
  // Every byte that does not start a valid sequence becomes one U+FFFD, as in Go.
  EXPECT_EQ(s("a\xff"
              "b"),
            R"("a\ufffdb")");
  EXPECT_EQ(s("\xc0\x80"), R"("\ufffd\ufffd")");                      // overlong NUL
  EXPECT_EQ(s("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");            // surrogate
  EXPECT_EQ(s("\xe2\x82"), R"("\ufffd\ufffd")");                      // truncated
  EXPECT_EQ(s("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // above U+10FFFF
  EXPECT_EQ(s("\x80x"), R"("\ufffdx")");                              // stray continuation
  EXPECT_EQ(s("\xf0\x9f\x9a"), R"("\ufffd\ufffd\ufffd")");
}

TEST(GoJson, KeysAreEscapedLikeStrings) {
  EXPECT_EQ(to_go_json(json{{"a<b", 1}}), R"({"a\u003cb":1})");
  EXPECT_EQ(to_go_pretty_json(json{{"k\n", "v"}}), "{\n  \"k\\n\": \"v\"\n}");
}

TEST(GoFormatValue, Scalars) {
  EXPECT_EQ(go_format_value("raw <text> & \"quotes\""), "raw <text> & \"quotes\"");
  EXPECT_EQ(go_format_value(true), "true");
  EXPECT_EQ(go_format_value(false), "false");
  EXPECT_EQ(go_format_value(nullptr), "");
  EXPECT_EQ(go_format_value(json(42)), "42");
  EXPECT_EQ(go_format_value(json(std::int64_t{20161216})), "20161216");  // --set int64
}

TEST(GoFormatValue, FloatsUseShortestG) {
  EXPECT_EQ(g(60.0), "60");
  EXPECT_EQ(g(1.5), "1.5");
  EXPECT_EQ(g(123456.0), "123456");
  EXPECT_EQ(g(999999.0), "999999");
  EXPECT_EQ(g(1e6), "1e+06");
  EXPECT_EQ(g(1234567.0), "1.234567e+06");
  EXPECT_EQ(g(356136738.0), "3.56136738e+08");
  EXPECT_EQ(g(21600000.0), "2.16e+07");
  EXPECT_EQ(g(0.0001), "0.0001");
  EXPECT_EQ(g(0.00001), "1e-05");
  EXPECT_EQ(g(1.5e-300), "1.5e-300");
  EXPECT_EQ(g(0.0), "0");
  EXPECT_EQ(g(-0.0), "-0");
  EXPECT_EQ(g(-2.5), "-2.5");
  EXPECT_EQ(g(1e21), "1e+21");
  EXPECT_EQ(g(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(g(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(g(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(GoFormatValue, Collections) {
  json v = json::parse(R"({"b":[1.0,"x y",null],"a":{"d":1e6,"c":true},"e":{},"f":[]})");
  EXPECT_EQ(go_format_value(v), "map[a:map[c:true d:1e+06] b:[1 x y <nil>] e:map[] f:[]]");
  EXPECT_EQ(go_format_value(json::array({"a", 2.5})), "[a 2.5]");
}

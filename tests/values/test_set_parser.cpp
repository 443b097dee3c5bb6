#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "util/diagnostic.hpp"
#include "values/set_parser.hpp"

using kjq::InputError;
using kjq::values::apply_set_expression;
using kjq::values::SetTyping;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

json set(const std::string& expression, json target = json::object()) {
  apply_set_expression(target, expression, SetTyping::Typed);
  return target;
}

json set_string(const std::string& expression, json target = json::object()) {
  apply_set_expression(target, expression, SetTyping::String);
  return target;
}

// The value --set gives `v`.
json typed(const std::string& text) { return set("v=" + text).at("v"); }

kjq::Diagnostic set_error_of(const std::string& expression, SetTyping typing = SetTyping::Typed,
                             json target = json::object()) {
  try {
    apply_set_expression(target, expression, typing);
  } catch (const InputError& e) {
    EXPECT_EQ(e.diagnostics().size(), 1u);
    return e.diagnostics().front();
  }
  ADD_FAILURE() << "no InputError for " << expression;
  return {};
}

}  // namespace

// --- paths -------------------------------------------------------------------------------------

TEST(SetPaths, SimpleAndDotted) {
  EXPECT_EQ(set("a=b"), json::parse(R"({"a":"b"})"));
  EXPECT_EQ(set("a.b.c=d"), json::parse(R"({"a":{"b":{"c":"d"}}})"));
  EXPECT_EQ(set("a.b=1,a.c=2"), json::parse(R"({"a":{"b":1,"c":2}})"));
  EXPECT_EQ(set("a=1,b=2,"), json::parse(R"({"a":1,"b":2})"));
  EXPECT_EQ(set(""), json::object());
}

TEST(SetPaths, MergesIntoExistingMapsAndReplacesValues) {
  const json base = json::parse(R"({"a":{"keep":true,"x":1},"s":"old"})");
  EXPECT_EQ(set("a.x=2,s=new", base), json::parse(R"({"a":{"keep":true,"x":2},"s":"new"})"));
  EXPECT_EQ(set("a=flat", base).at("a"), "flat");
  EXPECT_EQ(set("a.x=1,a.x=2"), json::parse(R"({"a":{"x":2}})"));
}

TEST(SetPaths, ListIndexes) {
  EXPECT_EQ(set("a[0]=x"), json::parse(R"({"a":["x"]})"));
  EXPECT_EQ(set("a[2]=x"), json::parse(R"({"a":[null,null,"x"]})"));
  EXPECT_EQ(set("a[0]=x,a[1]=y"), json::parse(R"({"a":["x","y"]})"));
  EXPECT_EQ(set("a[1]=z", json::parse(R"({"a":["x","y","w"]})")), json::parse(R"({"a":["x","z","w"]})"));
  EXPECT_EQ(set("a[+1]=x,a[007]=y").at("a").size(), 8u);
}

TEST(SetPaths, MapsInsideLists) {
  EXPECT_EQ(set("a[0].b=c"), json::parse(R"({"a":[{"b":"c"}]})"));
  EXPECT_EQ(set("a[0].b=c,a[0].d=e"), json::parse(R"({"a":[{"b":"c","d":"e"}]})"));
  EXPECT_EQ(set("env[1].name=B,env[1].value=2"), json::parse(R"({"env":[null,{"name":"B","value":2}]})"));
  // Helm replaces a non-map element with a map rather than failing.
  EXPECT_EQ(set("a[0]=x,a[0].b=c"), json::parse(R"({"a":[{"b":"c"}]})"));
  EXPECT_EQ(set("a[0].b[1].c=d"), json::parse(R"({"a":[{"b":[null,{"c":"d"}]}]})"));
}

TEST(SetPaths, NestedLists) {
  EXPECT_EQ(set("a[0][1]=x"), json::parse(R"({"a":[[null,"x"]]})"));
  EXPECT_EQ(set("a[0][0]=x,a[0][1]=y"), json::parse(R"({"a":[["x","y"]]})"));
  EXPECT_EQ(set("a[1][0][0]=x"), json::parse(R"({"a":[null,[["x"]]]})"));
  // A null left by padding may become a list (newer Helm does this too).
  EXPECT_EQ(set("a[2][0]=x,a[0][0]=y"), json::parse(R"({"a":[["y"],null,["x"]]})"));
}

TEST(SetPaths, ListValues) {
  EXPECT_EQ(set("a={x,y,z}"), json::parse(R"({"a":["x","y","z"]})"));
  EXPECT_EQ(set("a={1,true,null}"), json::parse(R"({"a":[1,true,null]})"));
  EXPECT_EQ(set("a={x},b=1"), json::parse(R"({"a":["x"],"b":1})"));
  EXPECT_EQ(set("a={x}b=1"), json::parse(R"({"a":["x"],"b":1})"));  // Helm needs no comma here
  EXPECT_EQ(set("a[1]={x,y}"), json::parse(R"({"a":[null,["x","y"]]})"));
  EXPECT_EQ(set("a.b={x,}"), json::parse(R"({"a":{"b":["x",""]}})"));
  EXPECT_EQ(set("a={}"), json::parse(R"({"a":[""]})"));  // Helm's quirk: one empty string
  EXPECT_EQ(set("a=x{y}"), json::parse(R"({"a":"x{y}"})"));
}

// --- escapes -----------------------------------------------------------------------------------

TEST(SetEscapes, InKeys) {
  EXPECT_EQ(set("a\\.b=c"), json::parse(R"({"a.b":"c"})"));
  EXPECT_EQ(set("annotations.nautobot-job\\.io/worker=x"),
            json::parse(R"({"annotations":{"nautobot-job.io/worker":"x"}})"));
  EXPECT_EQ(set("a\\=b=c"), json::parse(R"({"a=b":"c"})"));
  EXPECT_EQ(set("a\\[0]=c"), json::parse(R"({"a[0]":"c"})"));
  EXPECT_EQ(set("a\\,b=c"), json::parse(R"({"a,b":"c"})"));
  EXPECT_EQ(set("a\\\\b=c"), json::parse(R"({"a\\b":"c"})"));
}

TEST(SetEscapes, InValues) {
  EXPECT_EQ(set("a=b\\,c"), json::parse(R"({"a":"b,c"})"));
  EXPECT_EQ(set("a={b\\,c,d\\}}"), json::parse(R"({"a":["b,c","d}"]})"));
  // An escaped { is no list, so the comma ends the value and "y}" is a key without a value.
  EXPECT_THAT(set_error_of("a=\\{x,y\\}").message, HasSubstr("key \"y}\" has no value"));
  EXPECT_EQ(set("a=\\{x\\,y}"), json::parse(R"({"a":"{x,y}"})"));
  EXPECT_EQ(set("a=x=y"), json::parse(R"({"a":"x=y"})"));  // only the first = splits
  EXPECT_EQ(set("a=C:\\\\dir"), json::parse(R"({"a":"C:\\dir"})"));
  EXPECT_EQ(set("a=b\\"), json::parse(R"({"a":"b"})"));  // a trailing backslash is dropped
  EXPECT_EQ(set("a=b.c[0]"), json::parse(R"({"a":"b.c[0]"})"));
  EXPECT_EQ(set("a=\\null"), json::parse(R"({"a":null})"));  // escapes are gone before typing
}

TEST(SetEscapes, InvalidUtf8BecomesReplacementCharacters) {
  const json v = set("a=x\xFFy");
  EXPECT_EQ(v.at("a"), "x\xEF\xBF\xBDy");
  EXPECT_NO_THROW(v.dump());
}

// --- typing ------------------------------------------------------------------------------------

TEST(SetTyping, Booleans) {
  for (const char* s : {"true", "TRUE", "True", "tRuE"}) EXPECT_EQ(typed(s), json(true)) << s;
  for (const char* s : {"false", "FALSE", "fAlSe"}) EXPECT_EQ(typed(s), json(false)) << s;
  for (const char* s : {"yes", "no", "on", "off", "y", "t"}) EXPECT_EQ(typed(s), json(s)) << s;
}

TEST(SetTyping, Null) {
  for (const char* s : {"null", "NULL", "Null"}) EXPECT_TRUE(typed(s).is_null()) << s;
  EXPECT_EQ(typed("~"), "~");
  EXPECT_EQ(typed("nil"), "nil");
  EXPECT_TRUE(set("a.b=null").at("a").at("b").is_null());
}

TEST(SetTyping, Integers) {
  const auto expect_int = [](const std::string& s, std::int64_t n) {
    const json v = typed(s);
    EXPECT_TRUE(v.is_number_integer()) << s << " -> " << v.dump();
    EXPECT_EQ(v.get<std::int64_t>(), n) << s;
  };
  expect_int("0", 0);
  expect_int("60", 60);
  expect_int("-5", -5);
  expect_int("+5", 5);
  expect_int("-0", 0);
  expect_int("-012", -12);  // only a leading 0 keeps a string
  expect_int("9223372036854775807", INT64_MAX);
  expect_int("-9223372036854775808", INT64_MIN);
}

TEST(SetTyping, EverythingElseIsAString) {
  for (const char* s : {"0123", "00", "007", "1.5", "1e3", "0x1F", "1_000", "9223372036854775808", "12a", "+", "-",
                        " 1", "1 ", "inf", ".5", "3.0"}) {
    const json v = typed(s);
    EXPECT_TRUE(v.is_string()) << s << " -> " << v.dump();
    EXPECT_EQ(v.get<std::string>(), s);
  }
}

TEST(SetTyping, EmptyValueIsAnEmptyString) {
  EXPECT_EQ(set("a="), json::parse(R"({"a":""})"));
  EXPECT_EQ(set("a=,b=1"), json::parse(R"({"a":"","b":1})"));
  EXPECT_EQ(set("a[0]="), json::parse(R"({"a":[""]})"));
}

TEST(SetTyping, SetStringKeepsEverythingAString) {
  EXPECT_EQ(set_string("a=1,b=true,c=null,d=0,e="), json::parse(R"({"a":"1","b":"true","c":"null","d":"0","e":""})"));
  EXPECT_EQ(set_string("a={1,false}"), json::parse(R"({"a":["1","false"]})"));
  EXPECT_EQ(set_string("a[0].b=2"), json::parse(R"({"a":[{"b":"2"}]})"));
}

// --- errors ------------------------------------------------------------------------------------

TEST(SetErrors, MissingEqualsIsKeyHasNoValue) {
  auto d = set_error_of("a");
  EXPECT_EQ(d.file, "--set");
  EXPECT_EQ(d.line, 0);
  EXPECT_THAT(d.message, HasSubstr("key \"a\" has no value"));
  EXPECT_THAT(d.message, HasSubstr("\"a\""));
  d = set_error_of("x=1,a.b");
  EXPECT_EQ(d.path, "a.b");
  EXPECT_THAT(d.message, HasSubstr("key \"b\" has no value"));
  EXPECT_THAT(d.message, HasSubstr("(in \"x=1,a.b\")"));
  EXPECT_THAT(set_error_of("a,b=1").message, HasSubstr("key \"a\" has no value (cannot end with ,)"));
  EXPECT_THAT(set_error_of(",a=1").message, HasSubstr("has no value"));
  EXPECT_THAT(set_error_of("a=1,,b=2").message, HasSubstr("has no value"));
  // Helm silently ignores these; kjq refuses them.
  EXPECT_THAT(set_error_of("a[0]").message, HasSubstr("has no value"));
  EXPECT_THAT(set_error_of("a.").message, HasSubstr("has no value"));
}

TEST(SetErrors, EmptyKeyNames) {
  EXPECT_THAT(set_error_of("=1").message, HasSubstr("empty key"));
  EXPECT_THAT(set_error_of("a.=1").message, HasSubstr("empty key"));
  EXPECT_THAT(set_error_of("a..b=1").message, HasSubstr("empty key"));
  EXPECT_THAT(set_error_of("[0]=1").message, HasSubstr("empty key"));
}

TEST(SetErrors, BadIndexes) {
  auto d = set_error_of("a[0=x");
  EXPECT_THAT(d.message, HasSubstr("unterminated ["));
  EXPECT_EQ(d.path, "a");
  EXPECT_THAT(set_error_of("a[").message, HasSubstr("unterminated ["));
  EXPECT_THAT(set_error_of("a[-1]=x").message, HasSubstr("negative list index -1"));
  EXPECT_THAT(set_error_of("a[65537]=x").message, HasSubstr("greater than the maximum of 65536"));
  EXPECT_THAT(set_error_of("a[99999999999999999999]=x").message, HasSubstr("out of range"));
  EXPECT_THAT(set_error_of("a[]=x").message, HasSubstr("invalid list index \"\""));
  EXPECT_THAT(set_error_of("a[x]=1").message, HasSubstr("invalid list index \"x\""));
  EXPECT_THAT(set_error_of("a[1 ]=1").message, HasSubstr("invalid list index"));
  EXPECT_THAT(set_error_of("a[0x1]=1").message, HasSubstr("invalid list index"));
  EXPECT_THAT(set_error_of("a[1-]=1").message, HasSubstr("invalid list index"));
  d = set_error_of("a[0]x=1");
  EXPECT_THAT(d.message, HasSubstr("unexpected data at end of array index: \"x\""));
  EXPECT_EQ(d.path, "a[0]");
  EXPECT_THAT(set_error_of("a[0],b=1").message, HasSubstr("unexpected data"));
  const json big = set("a[65536]=x");
  EXPECT_EQ(big.at("a").size(), 65537u);
}

TEST(SetErrors, UnterminatedList) {
  EXPECT_THAT(set_error_of("a={x,y").message, HasSubstr("list must terminate with '}'"));
  EXPECT_THAT(set_error_of("a={").message, HasSubstr("list must terminate with '}'"));
}

TEST(SetErrors, TypeConflictsWithExistingValues) {
  EXPECT_THAT(set_error_of("a=1,a.b=2").message, HasSubstr("not a map"));
  EXPECT_THAT(set_error_of("a.b=1", SetTyping::Typed, json::parse(R"({"a":null})")).message,
              HasSubstr("null, not a map"));
  EXPECT_THAT(set_error_of("a[0]=1", SetTyping::Typed, json::parse(R"({"a":{}})")).message, HasSubstr("not a list"));
  EXPECT_THAT(set_error_of("a[0]=1,a[0][0]=2").message, HasSubstr("not a list"));
  EXPECT_EQ(set_error_of("a={x},a.b=1").path, "a");
}

TEST(SetErrors, NestingLimits) {
  std::string dots = "a";
  for (int i = 0; i < 30; ++i) dots += ".a";
  EXPECT_NO_THROW(set(dots + "=1"));
  EXPECT_THAT(set_error_of(dots + ".a=1").message, HasSubstr("maximum supported nested level of 30"));
  // Dots after an index are not counted, as in Helm.
  EXPECT_NO_THROW(set("a[0]" + dots.substr(1) + ".a=1"));
  std::string brackets = "a";
  for (int i = 0; i < 100000; ++i) brackets += "[0]";
  EXPECT_THAT(set_error_of(brackets + "=1").message, HasSubstr("nesting deeper than 128 levels"));
}

TEST(SetErrors, FailedExpressionLeavesTargetUntouched) {
  json target = json::parse(R"({"keep":1})");
  EXPECT_THROW(apply_set_expression(target, "x=1,y.z=2,bad", SetTyping::Typed), InputError);
  EXPECT_EQ(target, json::parse(R"({"keep":1})"));
}

TEST(SetErrors, SetStringNamesItsFlag) {
  const auto d = set_error_of("a", SetTyping::String);
  EXPECT_EQ(d.file, "--set-string");
  EXPECT_THAT(d.format(), HasSubstr("--set-string: a: key \"a\" has no value"));
}

TEST(SetTarget, NullTargetBecomesAnObject) {
  json target;
  apply_set_expression(target, "a=1", SetTyping::Typed);
  EXPECT_EQ(target, json::parse(R"({"a":1})"));
}

// Found by fuzz/fuzz_set_expression: quoting an expression that is not UTF-8 for the error
// message threw nlohmann's type_error, which ended kjq with "internal error".
TEST(SetErrors, AnExpressionThatIsNotUtf8GetsAnInputErrorNotACrash) {
  json values = json::object();
  try {
    apply_set_expression(values,
                         "workers.beta.extraEnvVars[\x95\x95"
                         "0].name=X",
                         SetTyping::Typed);
    FAIL() << "an index that is not a number was accepted";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("\xef\xbf\xbd"));  // the bad bytes shown as U+FFFD
  }
  EXPECT_EQ(values, json::object());
}

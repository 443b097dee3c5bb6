#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "util/diagnostic.hpp"
#include "values/yaml_loader.hpp"

namespace fs = std::filesystem;
using kjq::InputError;
using kjq::values::load_values_file;
using kjq::values::parse_yaml;
using kjq::values::parse_yaml_stream;
using kjq::values::YamlLimits;
using nlohmann::json;
using ::testing::HasSubstr;

namespace {

// The value of `v: <scalar>`.
json value_of(const std::string& scalar) { return parse_yaml("v: " + scalar + "\n", "t.yaml").value.at("v"); }

// The single key of `<key>: x`.
std::string key_of(const std::string& key) {
  const json v = parse_yaml(key + ": x\n", "t.yaml").value;
  EXPECT_EQ(v.size(), 1u);
  return v.begin().key();
}

// The first diagnostic of the InputError that parsing `text` throws.
kjq::Diagnostic yaml_error_of(const std::string& text, const YamlLimits& limits = {}) {
  try {
    parse_yaml(text, "t.yaml", limits);
  } catch (const InputError& e) {
    EXPECT_FALSE(e.diagnostics().empty());
    return e.diagnostics().front();
  }
  ADD_FAILURE() << "no InputError for:\n" << text.substr(0, 200);
  return {};
}

void expect_number(const json& v, double expected) {
  ASSERT_TRUE(v.is_number_float()) << v.dump();
  EXPECT_EQ(v.get<double>(), expected);
}

template <typename F>
double seconds_for(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kjq-yaml-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  fs::path write(const std::string& name, const std::string& content) const {
    std::ofstream(path_ / name, std::ios::binary) << content;
    return path_ / name;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

// --- numbers -----------------------------------------------------------------------------------

TEST(YamlTyping, DecimalIntegersBecomeDoubles) {
  expect_number(value_of("60"), 60);
  expect_number(value_of("0"), 0);
  expect_number(value_of("-17"), -17);
  expect_number(value_of("+17"), 17);
  expect_number(value_of("1_000"), 1000);
  expect_number(value_of("1__0_0"), 100);
}

TEST(YamlTyping, PrefixedIntegers) {
  expect_number(value_of("0x1F"), 31);
  expect_number(value_of("0X1f"), 31);
  expect_number(value_of("-0x10"), -16);
  expect_number(value_of("0o17"), 15);
  expect_number(value_of("0O17"), 15);
  expect_number(value_of("0b101"), 5);
  expect_number(value_of("-0b101"), -5);
  expect_number(value_of("0x_1_F"), 31);
}

TEST(YamlTyping, LeadingZeroIsOctal) {
  expect_number(value_of("012"), 10);
  expect_number(value_of("00"), 0);
  expect_number(value_of("-012"), -10);
  // Not valid octal: go-yaml falls back to reading it as a float.
  expect_number(value_of("09"), 9);
  expect_number(value_of("0128"), 128);
}

TEST(YamlTyping, Floats) {
  expect_number(value_of("1e3"), 1000);
  expect_number(value_of("2.10"), 2.1);
  expect_number(value_of("3.0"), 3);
  expect_number(value_of(".5"), 0.5);
  expect_number(value_of("-.5e1"), -5);
  expect_number(value_of("1."), 1);
  expect_number(value_of("1_000.5"), 1000.5);
  expect_number(value_of("6.02E+23"), 6.02e23);
  expect_number(value_of("1e-400"), 0);  // underflow is not an error in Go
}

TEST(YamlTyping, LargeIntegersLosePrecisionLikeFloat64) {
  expect_number(value_of("9223372036854775807"), 9223372036854775807.0);
  expect_number(value_of("-9223372036854775808"), -9223372036854775808.0);
  expect_number(value_of("18446744073709551615"), 18446744073709551615.0);  // uint64
  expect_number(value_of("99999999999999999999"), 1e20);                    // only a float fits
  expect_number(value_of("9007199254740993"), 9007199254740992.0);
}

TEST(YamlTyping, NumberLikeTextStaysString) {
  for (const char* s : {"1e400", "0x",  "0xZ",  "1.2.3", "1:20",     "12e",    "+",  "_1", "1e3_0x", ".5_0", "0b102",
                        "1,000", "inf", "+inf", "nan",   "Infinity", "0x1p-2", "e3", ".",  "1e",     "-+1",  "-_"}) {
    const json v = value_of(s);
    ASSERT_TRUE(v.is_string()) << s << " -> " << v.dump();
    EXPECT_EQ(v.get<std::string>(), s);
  }
}

TEST(YamlTyping, InfinityAndNanAreErrors) {
  for (const char* s : {".inf", ".Inf", ".INF", "+.inf", "-.inf", "-.INF", ".nan", ".NaN", ".NAN"}) {
    const auto d = yaml_error_of(std::string("a:\n  b: ") + s + "\n");
    EXPECT_EQ(d.path, "a.b") << s;
    EXPECT_EQ(d.line, 2) << s;
    EXPECT_EQ(d.column, 6) << s;
    EXPECT_THAT(d.message, HasSubstr(s));
    EXPECT_THAT(d.message, HasSubstr("JSON"));
  }
  // Other spellings are ordinary strings.
  EXPECT_EQ(value_of(".iNf"), ".iNf");
  EXPECT_EQ(value_of("\".inf\""), ".inf");
}

TEST(YamlTyping, TimestampsStayStrings) {
  EXPECT_EQ(value_of("2001-12-14"), "2001-12-14");
  EXPECT_EQ(value_of("2001-12-14t21:59:43.10-05:00"), "2001-12-14t21:59:43.10-05:00");
  EXPECT_EQ(value_of("2001-12-14 21:59:43.10"), "2001-12-14 21:59:43.10");
}

// --- booleans and null -------------------------------------------------------------------------

TEST(YamlTyping, Yaml11Booleans) {
  for (const char* s : {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"})
    EXPECT_EQ(value_of(s), json(true)) << s;
  for (const char* s : {"n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"})
    EXPECT_EQ(value_of(s), json(false)) << s;
  for (const char* s : {"yEs", "tRUE", "oN", "nO", "ofF", "fALSE", "t", "f", "yes!"})
    EXPECT_EQ(value_of(s), json(s)) << s;
}

TEST(YamlTyping, Nulls) {
  for (const char* s : {"~", "null", "Null", "NULL", ""}) EXPECT_TRUE(value_of(s).is_null()) << s;
  for (const char* s : {"nULL", "nil", "None"}) EXPECT_EQ(value_of(s), json(s)) << s;
  const json v = parse_yaml("a:\nb: [~, ]\nc: {d: }\n", "t.yaml").value;
  EXPECT_EQ(v, json::parse(R"({"a":null,"b":[null],"c":{"d":null}})"));
}

// --- strings -----------------------------------------------------------------------------------

TEST(YamlTyping, QuotedScalarsStayStrings) {
  EXPECT_EQ(value_of("\"60\""), "60");
  EXPECT_EQ(value_of("'yes'"), "yes");
  EXPECT_EQ(value_of("\"null\""), "null");
  EXPECT_EQ(value_of("''"), "");
  EXPECT_EQ(value_of("\"0x1F\""), "0x1F");
  EXPECT_EQ(value_of("\"a\\tb\""), "a\tb");
  EXPECT_EQ(value_of("'it''s'"), "it's");
}

TEST(YamlTyping, BlockScalarsStayStrings) {
  const json v = parse_yaml("a: |\n  42\nb: >-\n  true\n  false\n", "t.yaml").value;
  EXPECT_EQ(v.at("a"), "42\n");
  EXPECT_EQ(v.at("b"), "true false");
}

TEST(YamlTyping, ExplicitTags) {
  EXPECT_EQ(value_of("!!str 60"), "60");
  EXPECT_EQ(value_of("!!str true"), "true");
  EXPECT_EQ(value_of("!!str"), "");
  EXPECT_EQ(value_of("! 12"), "12");
  EXPECT_EQ(value_of("!custom 12"), "12");
  EXPECT_EQ(value_of("!<tag:yaml.org,2002:str> 5"), "5");
  expect_number(value_of("!!int \"12\""), 12);
  expect_number(value_of("!!int 0x10"), 16);
  expect_number(value_of("!!float 1"), 1);
  expect_number(value_of("!!float '2.5'"), 2.5);
  EXPECT_EQ(value_of("!!bool \"yes\""), json(true));
  EXPECT_TRUE(value_of("!!null ''").is_null());
  EXPECT_EQ(value_of("!!binary aGVsbG8="), "hello");
  EXPECT_THAT(yaml_error_of("v: !!int abc\n").message, HasSubstr("as !!int"));
  EXPECT_THAT(yaml_error_of("v: !!bool 1\n").message, HasSubstr("as !!bool"));
  EXPECT_THAT(yaml_error_of("v: !!float x\n").message, HasSubstr("as !!float"));
  EXPECT_THAT(yaml_error_of("v: !!binary a$b=\n").message, HasSubstr("base64"));
}

TEST(YamlTyping, Utf8AndEscapes) {
  EXPECT_EQ(value_of("\"caf\\u00e9\""), "caf\xC3\xA9");
  EXPECT_EQ(value_of("日本"), "日本");
  // go-yaml refuses invalid UTF-8, so Helm does too.
  const auto d = yaml_error_of("a:\n  b: x\xFFy\n");
  EXPECT_THAT(d.message, HasSubstr("invalid UTF-8"));
  EXPECT_EQ(d.line, 2);
  EXPECT_THAT(yaml_error_of("\xC0\xAF: 1\n").message, HasSubstr("invalid UTF-8"));    // overlong
  EXPECT_THAT(yaml_error_of("a: \"\\ud800\"\n").message, HasSubstr("invalid YAML"));  // lone surrogate
}

TEST(YamlTyping, BinaryThatIsNotUtf8IsAnInputErrorWithItsPath) {
  // "/w==" decodes to the single byte 0xFF: not text, so it cannot become a JSON string.
  const auto d = yaml_error_of("a:\n  b: !!binary /w==\n");
  EXPECT_EQ(d.file, "t.yaml");
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 6);
  EXPECT_EQ(d.path, "a.b");
  EXPECT_THAT(d.message, HasSubstr("!!binary"));
  EXPECT_THAT(d.message, HasSubstr("not valid UTF-8"));
  // ...and as a map key.
  EXPECT_EQ(yaml_error_of("a:\n  !!binary /w==: 1\n").path, "a");
  // Valid UTF-8 bytes still decode ("é" is C3 A9).
  EXPECT_EQ(value_of("!!binary w6k="), "\xC3\xA9");
}

TEST(YamlCharacters, NulAndOtherControlCharactersAreRefusedWhereTheyAre) {
  // yaml-cpp stops reading at a NUL: "b" and everything after it would silently vanish.
  const auto nul = yaml_error_of(std::string("a: x\0y\nb: 1\n", 12));
  EXPECT_EQ(nul.line, 1);
  EXPECT_EQ(nul.column, 5);
  EXPECT_THAT(nul.message, HasSubstr("control character U+0000"));
  const auto soh = yaml_error_of("a: 1\nb: x\x01y\n");
  EXPECT_EQ(soh.line, 2);
  EXPECT_EQ(soh.column, 5);
  EXPECT_THAT(soh.message, HasSubstr("U+0001"));
  EXPECT_THAT(yaml_error_of("a: 1 # x\x7F\n").message, HasSubstr("U+007F"));     // even in comments
  EXPECT_THAT(yaml_error_of("a: \"\xC2\x80\"\n").message, HasSubstr("U+0080"));  // C1 control
  EXPECT_THAT(yaml_error_of("a: \xEF\xBF\xBF\n").message, HasSubstr("U+FFFF"));
  // What YAML allows: tabs, CR LF, NEL, and control characters written as escapes.
  EXPECT_EQ(value_of("\"x\ty\""), "x\ty");
  EXPECT_EQ(value_of("\"\\0\\x01\""), std::string("\0\x01", 2));
  EXPECT_EQ(parse_yaml("a:\t1\r\n", "t.yaml").value.at("a"), 1.0);
  EXPECT_EQ(value_of("\xC2\x85x"), "\xC2\x85x");
}

TEST(YamlSyntax, ContentAfterTheDocumentIsRefused) {
  for (const std::string text : {"{}x\n", "[1]\n[2]\n", "\"x\"\ny\n", "{a: 1} # c\n\n  x\n"}) {
    const auto d = yaml_error_of(text);
    EXPECT_THAT(d.message, HasSubstr("after the end of the document")) << text;
    EXPECT_GE(d.line, 1) << text;
  }
  const auto d = yaml_error_of("{}x\n");
  EXPECT_EQ(d.line, 1);
  EXPECT_EQ(d.column, 3);
  EXPECT_THROW(parse_yaml_stream("a: 1\n---\n{}x\n", "s.yaml"), InputError);
  // A later document is fine after --- or after an explicit end (...).
  EXPECT_EQ(parse_yaml("{}\n---\nx\n", "t.yaml").value, json::object());
  EXPECT_EQ(parse_yaml("{}\n...\n# c\n\nx\n", "t.yaml").value, json::object());
  EXPECT_EQ(parse_yaml_stream("a: 1\n...\nb: 2\n", "s.yaml").size(), 2u);
  EXPECT_EQ(parse_yaml("\xEF\xBB\xBF"
                       "a: 1\n---\nb: 2\n",
                       "t.yaml")
                .value.at("a"),
            1.0);
}

TEST(YamlSyntax, LineWithoutColonInABlockMapIsRefused) {
  const auto last = yaml_error_of("a: 1\nb: 2\nfoo\n");
  EXPECT_EQ(last.line, 3);
  EXPECT_EQ(last.column, 1);
  EXPECT_THAT(last.message, HasSubstr("':'"));
  EXPECT_THAT(last.message, HasSubstr("\"foo\""));
  EXPECT_EQ(yaml_error_of("a: 1\nfoo").line, 2);  // no final newline
  const auto nested = yaml_error_of("a:\n  b: 1\n  foo\n");
  EXPECT_EQ(nested.line, 3);
  EXPECT_EQ(nested.column, 3);
  EXPECT_EQ(yaml_error_of("- a: 1\n  foo\n").line, 2);
  EXPECT_EQ(yaml_error_of("a: &x 1\n*x\n").line, 2);
  // Still fine: an empty value after ':', an explicit `? key`, a flow map's `{a}`.
  EXPECT_TRUE(parse_yaml("a: 1\nfoo:\n", "t.yaml").value.at("foo").is_null());
  EXPECT_TRUE(parse_yaml("a: 1\nfoo:", "t.yaml").value.at("foo").is_null());
  EXPECT_TRUE(parse_yaml("a: 1\n? foo\n", "t.yaml").value.at("foo").is_null());
  EXPECT_TRUE(parse_yaml("{a, b: 1}\n", "t.yaml").value.at("a").is_null());
}

// --- map keys ----------------------------------------------------------------------------------

TEST(YamlKeys, BooleanWordsBecomeTrueFalse) {
  EXPECT_EQ(key_of("off"), "false");
  EXPECT_EQ(key_of("on"), "true");
  EXPECT_EQ(key_of("y"), "true");
  EXPECT_EQ(key_of("N"), "false");
  EXPECT_EQ(key_of("TRUE"), "true");
  EXPECT_EQ(key_of("\"off\""), "off");
  EXPECT_EQ(key_of("!!str on"), "on");
}

TEST(YamlKeys, IntegersBecomeDecimalDigits) {
  EXPECT_EQ(key_of("123"), "123");
  EXPECT_EQ(key_of("0x1F"), "31");
  EXPECT_EQ(key_of("012"), "10");
  EXPECT_EQ(key_of("0o17"), "15");
  EXPECT_EQ(key_of("0b11"), "3");
  EXPECT_EQ(key_of("1_000"), "1000");
  EXPECT_EQ(key_of("+7"), "7");
  EXPECT_EQ(key_of("-0"), "0");
  EXPECT_EQ(key_of("-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(key_of("'012'"), "012");
}

TEST(YamlKeys, FloatsUseGoShortestFloat32Format) {
  EXPECT_EQ(key_of("1.5"), "1.5");
  EXPECT_EQ(key_of("3.0"), "3");
  EXPECT_EQ(key_of("1e3"), "1000");
  EXPECT_EQ(key_of("0.1"), "0.1");
  EXPECT_EQ(key_of("100000.0"), "100000");
  EXPECT_EQ(key_of("1000000.0"), "1e+06");
  EXPECT_EQ(key_of("1234567.0"), "1.234567e+06");
  EXPECT_EQ(key_of("123456789.0"), "1.2345679e+08");  // float32 precision
  EXPECT_EQ(key_of("0.0001"), "0.0001");
  EXPECT_EQ(key_of("0.00001"), "1e-05");
  EXPECT_EQ(key_of("-2.5e-7"), "-2.5e-07");
  EXPECT_EQ(key_of("-0.0"), "-0");
  EXPECT_EQ(key_of("09"), "9");
  EXPECT_EQ(key_of("1e39"), ".inf");  // overflows float32
  EXPECT_EQ(key_of(".inf"), ".inf");
  EXPECT_EQ(key_of("-.Inf"), "-.inf");
  EXPECT_EQ(key_of(".nan"), ".nan");
}

TEST(YamlKeys, OtherKeysStayAsWritten) {
  EXPECT_EQ(key_of("2001-12-14"), "2001-12-14");
  EXPECT_EQ(key_of("nautobot-job.io/worker-name"), "nautobot-job.io/worker-name");
  EXPECT_EQ(key_of("'a b'"), "a b");
  EXPECT_EQ(key_of("\"\""), "");
}

TEST(YamlKeys, UnsupportedKeysAreErrors) {
  EXPECT_THAT(yaml_error_of("~: x\n").message, HasSubstr("null"));
  EXPECT_THAT(yaml_error_of("null: x\n").message, HasSubstr("null"));
  EXPECT_THAT(yaml_error_of("[a]: x\n").message, HasSubstr("cannot be a map key"));
  EXPECT_THAT(yaml_error_of("? {a: 1}\n: x\n").message, HasSubstr("cannot be a map key"));
  EXPECT_THAT(yaml_error_of("18446744073709551615: x\n").message, HasSubstr("too large"));
}

// --- duplicates --------------------------------------------------------------------------------

TEST(YamlDuplicates, DuplicateKeyNamesLineColumnAndPath) {
  const auto d = yaml_error_of("top:\n  a: 1\n  b: 2\n  a: 3\n");
  EXPECT_EQ(d.file, "t.yaml");
  EXPECT_EQ(d.line, 4);
  EXPECT_EQ(d.column, 3);
  EXPECT_EQ(d.path, "top.a");
  EXPECT_THAT(d.message, HasSubstr("duplicate key \"a\""));
  EXPECT_THAT(d.message, HasSubstr("line 2, column 3"));
  try {
    parse_yaml("top:\n  a: 1\n  b: 2\n  a: 3\n", "t.yaml");
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("t.yaml:4:3: top.a: duplicate key"));
  }
}

TEST(YamlDuplicates, KeysThatTypeToTheSameStringAreDuplicates) {
  EXPECT_EQ(yaml_error_of("1: a\n0x1: b\n").line, 2);
  EXPECT_EQ(yaml_error_of("off: a\n\"false\": b\n").path, "false");
  EXPECT_EQ(yaml_error_of("{a: 1, a: 2}\n").column, 8);
  EXPECT_EQ(yaml_error_of("- x: 1\n  x: 2\n").path, "[0].x");
}

TEST(YamlDuplicates, SameKeyInDifferentMapsIsFine) { EXPECT_NO_THROW(parse_yaml("a: {x: 1}\nb: {x: 2}\n", "t.yaml")); }

// --- merge keys --------------------------------------------------------------------------------

TEST(YamlMerge, MergeKeysCopyTheAnchoredMap) {
  const auto doc = parse_yaml("base: &b {p: 1, q: {r: 2}}\nuse:\n  <<: *b\n  q: 3\n", "t.yaml");
  EXPECT_EQ(doc.value.at("use"), json::parse(R"({"p":1.0,"q":3.0})"));
  EXPECT_EQ(doc.marks.at("use.q").line, 4);
  EXPECT_EQ(doc.marks.at("use.p").line, 1);
  EXPECT_EQ(doc.marks.count("use.q.r"), 0u);  // the replaced value's marks are gone
  EXPECT_EQ(doc.marks.count("base.q.r"), 1u);
}

TEST(YamlMerge, ListOfMapsEarlierWins) {
  const auto v = parse_yaml("a: &a {x: 1}\nb: &b {x: 2, z: 2}\nc:\n  <<: [*a, *b]\n", "t.yaml").value;
  EXPECT_EQ(v.at("c"), json::parse(R"({"x":1.0,"z":2.0})"));
}

TEST(YamlMerge, LaterMergeReplacesEarlierKeyAsGoYamlV2Does) {
  const auto v = parse_yaml("a: &a {x: 1}\nc:\n  x: 5\n  <<: *a\n", "t.yaml").value;
  EXPECT_EQ(v.at("c").at("x"), 1.0);
}

TEST(YamlMerge, QuotedMergeKeyIsAnOrdinaryKey) {
  const auto v = parse_yaml("\"<<\": 1\n", "t.yaml").value;
  EXPECT_EQ(v.at("<<"), 1.0);
}

TEST(YamlMerge, MergingANonMapIsAnError) {
  EXPECT_THAT(yaml_error_of("a: &a 1\nb:\n  <<: *a\n").message, HasSubstr("merge"));
  EXPECT_THAT(yaml_error_of("b:\n  <<: [1]\n").message, HasSubstr("merge"));
}

// --- aliases, depth and size guards ------------------------------------------------------------

TEST(YamlAliases, AliasesAreExpanded) {
  const auto v = parse_yaml("a: &x [1, {b: 2}]\nc: *x\n", "t.yaml").value;
  EXPECT_EQ(v.at("c"), v.at("a"));
}

TEST(YamlAliases, BillionLaughsHitsTheNodeBudgetFast) {
  std::string text = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    const char prev = static_cast<char>(c - 1);
    text += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 9; ++i) text += std::string(i ? "," : "") + "*" + prev;
    text += "]\n";
  }
  kjq::Diagnostic d;
  const double secs = seconds_for([&] { d = yaml_error_of(text); });
  EXPECT_LT(secs, 2.0);
  EXPECT_THAT(d.message, HasSubstr("more than 2000000 values"));
  // Exactly where a node-by-node walk would cross the budget: the third *f under g.
  EXPECT_EQ(d.path, "g[2]");
  EXPECT_EQ(d.line, 7);
}

TEST(YamlAliases, SmallBudgetIsHonoured) {
  YamlLimits limits;
  limits.max_nodes = 10;
  EXPECT_THAT(yaml_error_of("a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\n", limits).message, HasSubstr("more than 10"));
  EXPECT_NO_THROW(parse_yaml("a: [1, 2, 3]\n", "t.yaml", limits));
}

TEST(YamlAliases, SelfReferenceHitsTheDepthLimit) {
  for (const char* text : {"&a [*a]\n", "a: &a {x: *a}\n", "a: &a\n  - b: [*a]\n"}) {
    const auto d = yaml_error_of(text);
    EXPECT_THAT(d.message, HasSubstr("nesting deeper than 128 levels")) << text;
    EXPECT_THAT(d.message, HasSubstr("alias")) << text;
    EXPECT_GT(d.line, 0) << text;
  }
}

TEST(YamlAliases, AliasChainsCountTheirExpandedDepth) {
  std::string text = "a0: &a0 [x]\n";
  for (int i = 1; i < 200; ++i)
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) + "]\n";
  const auto d = yaml_error_of(text);
  EXPECT_THAT(d.message, HasSubstr("nesting deeper than 128 levels"));
  EXPECT_EQ(d.path, "a127[0]");
}

TEST(YamlDepth, DepthLimitIsExact) {
  YamlLimits limits;
  limits.max_depth = 3;
  EXPECT_NO_THROW(parse_yaml("a: {b: [1]}\n", "t.yaml", limits));
  const auto d = yaml_error_of("a: {b: [[1]]}\n", limits);
  EXPECT_THAT(d.message, HasSubstr("nesting deeper than 3 levels"));
  EXPECT_EQ(d.path, "a.b[0]");
  EXPECT_EQ(d.line, 1);
}

TEST(YamlDepth, HundredThousandOpenBracketsFailQuickly) {
  const std::string open(100000, '[');
  const std::string closed = open + std::string(100000, ']');
  for (const std::string* text : {&open, &closed}) {
    kjq::Diagnostic d;
    const double secs = seconds_for([&] { d = yaml_error_of(*text); });
    EXPECT_LT(secs, 2.0);
    EXPECT_THAT(d.message, HasSubstr("nesting deeper than 128 levels"));
    EXPECT_THAT(d.message, ::testing::Not(HasSubstr("bad file")));
  }
}

TEST(YamlDepth, HundredThousandNestedBlockMapsFailQuickly) {
  // Indented block maps grow quadratically (100,000 levels would be 5 GB), so nest them as
  // explicit keys (`? ? ? ... k`), which is linear; yaml-cpp's own guard stops them.
  std::string keys;
  for (int i = 0; i < 100000; ++i) keys += "? ";
  kjq::Diagnostic d;
  double secs = seconds_for([&] { d = yaml_error_of(keys + "k\n"); });
  EXPECT_LT(secs, 2.0);
  EXPECT_THAT(d.message, HasSubstr("nesting deeper than 128 levels"));
  // 3,000 indented levels (4.5 MB) are six times yaml-cpp's limit.
  std::string indented;
  for (int i = 0; i < 3000; ++i) indented += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
  secs = seconds_for([&] { d = yaml_error_of(indented); });
  EXPECT_LT(secs, 5.0);
  EXPECT_THAT(d.message, HasSubstr("nesting deeper than 128 levels"));
  EXPECT_GT(d.line, 128);
}

TEST(YamlDepth, DeepBlockListsAndFlowMapsFail) {
  std::string dashes;
  for (int i = 0; i < 100000; ++i) dashes += "- ";
  EXPECT_THAT(yaml_error_of(dashes + "x\n").message, HasSubstr("nesting deeper than"));
  std::string maps;
  for (int i = 0; i < 100000; ++i) maps += "{a: ";
  EXPECT_THAT(yaml_error_of(maps).message, HasSubstr("nesting deeper than"));
}

TEST(YamlDepth, BelowYamlCppLimitOurLimitReportsThePath) {
  std::string text = "x: ";
  for (int i = 0; i < 200; ++i) text += "[";
  const auto d = yaml_error_of(text + std::string(200, ']') + "\n");
  EXPECT_THAT(d.message, HasSubstr("nesting deeper than 128 levels"));
  EXPECT_EQ(d.path.rfind("x[0][0]", 0), 0u);
}

TEST(YamlDepth, AboveYamlCppLimitItsGuardIsReported) {
  YamlLimits limits;
  limits.max_depth = 100000;
  const auto d = yaml_error_of(std::string(100000, '['), limits);
  EXPECT_THAT(d.message, HasSubstr("nesting deeper than 497 levels"));
}

TEST(YamlLimits, ByteLimit) {
  YamlLimits limits;
  limits.max_bytes = 10;
  const auto d = yaml_error_of("a: 12345678901\n", limits);
  EXPECT_THAT(d.message, HasSubstr("limit is 10 bytes"));
  EXPECT_NO_THROW(parse_yaml("a: 1\n", "t.yaml", limits));
}

// --- syntax errors -----------------------------------------------------------------------------

TEST(YamlErrors, SyntaxErrorsAreInputErrorsWithOneBasedPositions) {
  const auto d = yaml_error_of("a: 1\nb: [1, 2\n");
  EXPECT_EQ(d.file, "t.yaml");
  EXPECT_THAT(d.message, HasSubstr("invalid YAML"));
  EXPECT_GE(d.line, 1);
  const auto d2 = yaml_error_of("a: 1\n- b\n");
  EXPECT_EQ(d2.line, 2);
  EXPECT_EQ(d2.column, 1);
  EXPECT_THAT(yaml_error_of("a: *nope\n").message, HasSubstr("anchor"));
  EXPECT_THAT(yaml_error_of("a: \"\\q\"\n").message, HasSubstr("invalid YAML"));
  EXPECT_THAT(yaml_error_of("a: b: c\n").message, HasSubstr("invalid YAML"));
}

// --- documents and marks -----------------------------------------------------------------------

TEST(YamlDocuments, EmptyDocumentIsNull) {
  EXPECT_TRUE(parse_yaml("", "t.yaml").value.is_null());
  EXPECT_TRUE(parse_yaml("# only a comment\n", "t.yaml").value.is_null());
  EXPECT_TRUE(parse_yaml("---\n", "t.yaml").value.is_null());
  EXPECT_TRUE(parse_yaml("", "t.yaml").marks.empty());
}

TEST(YamlDocuments, TopLevelScalarsAndListsParse) {
  EXPECT_EQ(parse_yaml("42\n", "t.yaml").value, json(42.0));
  EXPECT_EQ(parse_yaml("[a, 1]\n", "t.yaml").value, json::parse(R"(["a",1.0])"));
}

TEST(YamlDocuments, OnlyTheFirstDocumentCountsLikeHelm) {
  const auto doc = parse_yaml("a: 1\n---\nb: 2\n", "t.yaml");
  EXPECT_EQ(doc.value, json::parse(R"({"a":1.0})"));
}

TEST(YamlDocuments, StreamReturnsEveryNonEmptyDocument) {
  const auto docs = parse_yaml_stream("a: 1\n---\n---\n# nothing\n---\nb: [x]\n...\n---\n- 3\n", "s.yaml");
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].value, json::parse(R"({"a":1.0})"));
  EXPECT_EQ(docs[1].value, json::parse(R"({"b":["x"]})"));
  EXPECT_EQ(docs[1].marks.at("b").line, 6);
  EXPECT_EQ(docs[1].marks.at("b[0]").column, 5);
  EXPECT_EQ(docs[2].value, json::parse("[3.0]"));
  EXPECT_TRUE(parse_yaml_stream("", "s.yaml").empty());
}

TEST(YamlDocuments, StreamErrorsNameTheirPosition) {
  const auto parse = [] { parse_yaml_stream("a: 1\n---\nb: 1\nb: 2\n", "s.yaml"); };
  EXPECT_THROW(parse(), InputError);
  try {
    parse();
  } catch (const InputError& e) {
    EXPECT_EQ(e.diagnostics().front().line, 4);
    EXPECT_EQ(e.diagnostics().front().file, "s.yaml");
  }
  // Anchors do not leak between documents.
  EXPECT_THROW(parse_yaml_stream("a: &x 1\n---\nb: *x\n", "s.yaml"), InputError);
}

TEST(YamlMarks, EveryKeyAndItemHasAOneBasedMark) {
  const std::string text =
      "workers:\n"
      "  alpha:\n"
      "    extraEnvVars:\n"
      "      - name: A\n"
      "        value: \"1\"\n"
      "      - {name: B}\n"
      "annotations:\n"
      "  nautobot-job.io/worker-name: x\n";
  const auto doc = parse_yaml(text, "t.yaml");
  const auto& m = doc.marks;
  EXPECT_EQ(m.at("workers").line, 1);
  EXPECT_EQ(m.at("workers").column, 1);
  EXPECT_EQ(m.at("workers.alpha").line, 2);
  EXPECT_EQ(m.at("workers.alpha").column, 3);
  EXPECT_EQ(m.at("workers.alpha.extraEnvVars").column, 5);
  EXPECT_EQ(m.at("workers.alpha.extraEnvVars[0]").line, 4);
  EXPECT_EQ(m.at("workers.alpha.extraEnvVars[0].name").line, 4);
  EXPECT_EQ(m.at("workers.alpha.extraEnvVars[0].name").column, 9);
  EXPECT_EQ(m.at("workers.alpha.extraEnvVars[0].value").line, 5);
  EXPECT_EQ(m.at("workers.alpha.extraEnvVars[1]").line, 6);
  EXPECT_EQ(m.at("workers.alpha.extraEnvVars[1].name").column, 10);
  EXPECT_EQ(m.at("annotations[\"nautobot-job.io/worker-name\"]").line, 8);
  EXPECT_EQ(m.size(), 10u);
}

TEST(YamlMarks, CrLfAndByteOrderMark) {
  const auto doc = parse_yaml(
      "\xEF\xBB\xBF"
      "a: 1\r\nb:\r\n  - x\r\n",
      "t.yaml");
  EXPECT_EQ(doc.value, json::parse(R"({"a":1.0,"b":["x"]})"));
  EXPECT_EQ(doc.marks.at("b[0]").line, 3);
  EXPECT_EQ(doc.marks.at("b[0]").column, 5);
}

TEST(YamlMarks, AliasedContentIsMarkedUnderEveryPath) {
  const auto doc = parse_yaml("a: &x {k: 1}\nb: *x\n", "t.yaml");
  EXPECT_EQ(doc.marks.at("b").line, 2);
  EXPECT_EQ(doc.marks.at("b.k").line, 1);
  EXPECT_EQ(doc.marks.at("a.k").line, 1);
}

// --- files -------------------------------------------------------------------------------------

TEST(YamlFiles, LoadsAMap) {
  TempDir dir;
  const auto file = dir.write("values.yaml", "replicas: 2\nname: x\n");
  const auto doc = load_values_file(file);
  EXPECT_EQ(doc.value, json::parse(R"({"name":"x","replicas":2.0})"));
  EXPECT_EQ(doc.marks.at("name").line, 2);
}

TEST(YamlFiles, EmptyFileIsAnEmptyMap) {
  TempDir dir;
  EXPECT_EQ(load_values_file(dir.write("e.yaml", "")).value, json::object());
  EXPECT_EQ(load_values_file(dir.write("c.yaml", "# nothing\n")).value, json::object());
  EXPECT_EQ(load_values_file(dir.write("n.yaml", "~\n")).value, json::object());
}

TEST(YamlFiles, TopLevelMustBeAMap) {
  TempDir dir;
  for (const char* text : {"- a\n", "42\n", "hello\n"}) {
    const auto file = dir.write("bad.yaml", text);
    try {
      load_values_file(file);
      ADD_FAILURE() << text;
    } catch (const InputError& e) {
      EXPECT_EQ(e.diagnostics().front().file, file.string());
      EXPECT_THAT(e.what(), HasSubstr("expected a map at the top level"));
    }
  }
}

TEST(YamlFiles, TooLargeIsAnInputErrorNamingFileAndLimit) {
  TempDir dir;
  const auto file = dir.write("big.yaml", "a: " + std::string(100, 'x') + "\n");
  YamlLimits limits;
  limits.max_bytes = 50;
  try {
    load_values_file(file, limits);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr(file.string()));
    EXPECT_THAT(e.what(), HasSubstr("limit is 50 bytes"));
  }
}

TEST(YamlFiles, MissingFileIsARuntimeError) {
  TempDir dir;
  EXPECT_THROW(load_values_file(dir.path() / "missing.yaml"), kjq::RuntimeError);
}

TEST(YamlFiles, ContentErrorsNameTheFile) {
  TempDir dir;
  const auto file = dir.write("dup.yaml", "a: 1\na: 2\n");
  try {
    load_values_file(file);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_EQ(e.diagnostics().front().file, file.string());
    EXPECT_EQ(e.diagnostics().front().line, 2);
  }
}

namespace {

// Found by fuzz/fuzz_values_yaml: a UTF-16 byte order mark followed by bytes that are not valid
// UTF-16 came out of yaml-cpp as strings that are not UTF-8, and kjq ended with "internal error".
TEST(YamlEncoding, MalformedUtf16IsAnInputErrorNotACrash) {
  std::ifstream in(std::string(KJQ_SOURCE_DIR) + "/fuzz/corpus/values_yaml/regression-malformed-utf16",
                   std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(text.size(), 100u);
  try {
    auto doc = parse_yaml(text, "bad.yaml");
    EXPECT_NO_THROW((void)doc.value.dump()) << "accepted, so it must be text";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad.yaml: invalid UTF-16"));
  }
}

}  // namespace

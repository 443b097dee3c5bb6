#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "output/yaml_emitter.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using kjq::output::to_yaml;
using kjq::output::to_yaml_stream;

namespace {

// Strings a YAML 1.1 reader (go-yaml v2 in kubectl) or YAML 1.2 reader would not read back as
// the same string if written plain.
const std::vector<std::string> kMustQuote = {"",
                                             " a",
                                             "a ",
                                             " ",
                                             "y",
                                             "Y",
                                             "yes",
                                             "Yes",
                                             "YES",
                                             "n",
                                             "N",
                                             "no",
                                             "No",
                                             "NO",
                                             "on",
                                             "On",
                                             "ON",
                                             "off",
                                             "Off",
                                             "OFF",
                                             "true",
                                             "True",
                                             "TRUE",
                                             "false",
                                             "False",
                                             "FALSE",
                                             "null",
                                             "Null",
                                             "NULL",
                                             "~",
                                             "123",
                                             "-123",
                                             "+1",
                                             "0",
                                             "-0",
                                             "0x1F",
                                             "0X1f",
                                             "-0x1F",
                                             "0o17",
                                             "017",
                                             "09",
                                             "0b101",
                                             "1_000",
                                             "1e3",
                                             "1E3",
                                             "1e+3",
                                             "1.5",
                                             "-1.5",
                                             ".5",
                                             "+.5",
                                             "-.5",
                                             "1.",
                                             "0.",
                                             ".5e3",
                                             "6.02e23",
                                             ".inf",
                                             "-.Inf",
                                             "+.INF",
                                             ".nan",
                                             ".NaN",
                                             "2026-11-26",
                                             "2026-11-26T10:00:00Z",
                                             "2026-1-1 10:00",
                                             "12:30",
                                             "1:20:30",
                                             "<<",
                                             "=",
                                             "-",
                                             "-a",
                                             "- a",
                                             "--",
                                             "?",
                                             "?a",
                                             ":",
                                             ":a",
                                             ",a",
                                             "[a]",
                                             "]",
                                             "{a}",
                                             "}",
                                             "#a",
                                             "&a",
                                             "*a",
                                             "!a",
                                             "!!str",
                                             "|a",
                                             "|",
                                             ">a",
                                             ">",
                                             "'a'",
                                             "'",
                                             "\"a\"",
                                             "%a",
                                             "@a",
                                             "`a`",
                                             "a: b",
                                             "a #b",
                                             "a:",
                                             "---",
                                             "---a",
                                             "...",
                                             "a\tb",
                                             "\ta",
                                             std::string("a\0b", 3),
                                             "a\x01"
                                             "b",
                                             "a\x1b[0m",
                                             "a\x7f"
                                             "b",
                                             "\xc2\x85",
                                             "a\xc2\x85"
                                             "b",
                                             "a\xe2\x80\xa8"
                                             "b",
                                             "a\xe2\x80\xa9",
                                             "\xef\xbb\xbf"
                                             "a",
                                             "a\nb",
                                             "a\n",
                                             "\n",
                                             "a\r\nb\n",
                                             "a\xff"
                                             "b"};

// Strings that are safe plain (kept readable).
const std::vector<std::string> kPlain = {"a",
                                         "hello world",
                                         "nautobot-job",
                                         "400m",
                                         "1G",
                                         "6656M",
                                         "IfNotPresent",
                                         "Never",
                                         "/etc/nautobot/job-queues",
                                         "app.kubernetes.io/name",
                                         "a:b",
                                         "a#b",
                                         "http://x.y/z?q=1&r=2",
                                         "a,b",
                                         "a[0]",
                                         "caf\xc3\xa9",
                                         "\xe6\x97\xa5\xe6\x9c\xac",
                                         "1.2.3",
                                         "v1",
                                         "batch/v1",
                                         "nan",
                                         "inf",
                                         "NaN",
                                         "Infinity",
                                         "yess",
                                         "onion",
                                         "n0",
                                         "0xZZ",
                                         "123abc",
                                         "8080/TCP",
                                         ".hidden",
                                         ".",
                                         "a-b",
                                         "a'b",
                                         "a\"b",
                                         "x%y",
                                         "~a",
                                         "a~",
                                         "<none>",
                                         "a=b",
                                         "nautobot-3.0.0",
                                         "3.0a",
                                         "e3"};

json plain_scalar(const std::string& text) {
  // Test-side typing of plain scalars, independent of the emitter: the emitter only writes JSON
  // number forms, so JSON's number grammar is enough here (std::regex trips a GCC 12 -O2
  // maybe-uninitialized false positive).
  static const std::vector<std::string> kTrue = {"y",  "Y",  "yes",  "Yes",  "YES", "on",
                                                 "On", "ON", "true", "True", "TRUE"};
  static const std::vector<std::string> kFalse = {"n",   "N",   "no",    "No",    "NO",   "off",
                                                  "Off", "OFF", "false", "False", "FALSE"};
  if (text == "~" || text == "null" || text == "Null" || text == "NULL") return nullptr;
  for (const auto& t : kTrue)
    if (text == t) return true;
  for (const auto& f : kFalse)
    if (text == f) return false;
  if (!text.empty() && text.find_first_not_of("0123456789.eE+-") == std::string::npos && json::accept(text))
    return json::parse(text);
  return text;
}

// yaml-cpp node → JSON, typing plain scalars; quoted and block scalars are strings.
json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar:
      return node.Tag() == "!" ? json(node.Scalar()) : plain_scalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) {
        const json key = to_json(kv.first);
        out[key.is_string() ? key.get<std::string>() : key.dump()] = to_json(kv.second);
      }
      return out;
    }
    default:
      return "<undefined>";
  }
}

bool quoted_in_yaml_cpp(const std::string& s) {
  const YAML::Node node = YAML::Load(to_yaml(json(s)));
  return node.IsScalar() && node.Tag() == "!";
}

std::string valid_utf8(const std::string& s) {
  return json::parse(json(s).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
}

// Deterministic strings glued from pieces that matter to YAML typing and syntax.
std::vector<std::string> random_strings(std::size_t count) {
  static const std::vector<std::string> kPieces = {
      "a",   "y",    "n",    "on",   "no", "0",  "1", "7",  "x",  "e",  "E",  ".",  "-",        "+",
      "_",   ":",    ": ",   " ",    "#",  " #", "'", "\"", "\\", "[",  "{",  "&",  "*",        "!",
      "|",   ">",    "%",    "@",    "`",  ",",  "?", "~",  "\n", "\t", "\r", "<<", "\xc3\xa9", "\xe2\x80\xa8",
      "---", "null", "true", "2026-"};
  std::mt19937 rng(20261126);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < count; ++i) {
    std::string text;
    const auto pieces = rng() % 5;
    for (std::size_t k = 0; k < pieces; ++k) text += kPieces[rng() % kPieces.size()];
    out.push_back(text);
  }
  return out;
}

}  // namespace

TEST(YamlEmitter, BlockLayout) {
  json v = json::parse(R"({
    "a": {"b": 1, "c": [1, 2]},
    "d": [{"x": 1, "y": "s"}, {"z": []}],
    "e": {}, "f": null, "g": true, "h": [[1, 2], []],
    "i": [{"m": {"n": "o"}, "p": [{"q": false}]}]
  })");
  EXPECT_EQ(to_yaml(v),
            "a:\n"
            "  b: 1\n"
            "  c:\n"
            "  - 1\n"
            "  - 2\n"
            "d:\n"
            "- x: 1\n"
            "  \"y\": s\n"  // YAML 1.1 reads a plain y as true
            "- z: []\n"
            "e: {}\n"
            "f: null\n"
            "g: true\n"
            "h:\n"
            "- - 1\n"
            "  - 2\n"
            "- []\n"
            "i:\n"
            "- m:\n"
            "    \"n\": o\n"
            "  p:\n"
            "  - q: false\n");
}

TEST(YamlEmitter, TopLevelValues) {
  EXPECT_EQ(to_yaml(json::object()), "{}\n");
  EXPECT_EQ(to_yaml(json::array()), "[]\n");
  EXPECT_EQ(to_yaml(nullptr), "null\n");
  EXPECT_EQ(to_yaml("x"), "x\n");
  EXPECT_EQ(to_yaml("yes"), "\"yes\"\n");
  EXPECT_EQ(to_yaml("a\nb\n"), "|\n  a\n  b\n");
  EXPECT_EQ(to_yaml(json::array({"a", 1})), "- a\n- 1\n");
}

TEST(YamlEmitter, Numbers) {
  EXPECT_EQ(to_yaml(json(60.0)), "60\n");
  EXPECT_EQ(to_yaml(json(0.0)), "0\n");
  EXPECT_EQ(to_yaml(json(-0.0)), "-0.0\n");
  EXPECT_EQ(to_yaml(json(1.5)), "1.5\n");
  EXPECT_EQ(to_yaml(json(1e-7)), "1e-7\n");
  EXPECT_EQ(to_yaml(json(1e21)), "1e+21\n");
  EXPECT_EQ(to_yaml(json(60)), "60\n");
  EXPECT_EQ(to_yaml(json(-3)), "-3\n");
  EXPECT_EQ(to_yaml(json(std::uint64_t{18446744073709551615ULL})), "18446744073709551615\n");
}

TEST(YamlEmitter, LiteralBlocks) {
  json v = {{"script", "echo hi\n  indented\n\nlast\n"}, {"m", {{"k", "a\nb\n"}}}, {"l", json::array({"x\ny\n"})}};
  EXPECT_EQ(to_yaml(v),
            "l:\n"
            "- |\n"
            "  x\n"
            "  y\n"
            "m:\n"
            "  k: |\n"
            "    a\n"
            "    b\n"
            "script: |\n"
            "  echo hi\n"
            "    indented\n"
            "\n"
            "  last\n");
  // Not representable with clip chomping and auto-detected indentation: double-quoted.
  EXPECT_EQ(to_yaml(json{{"k", "a\nb"}}), "k: \"a\\nb\"\n");
  EXPECT_EQ(to_yaml(json{{"k", "a\n\n"}}), "k: \"a\\n\\n\"\n");
  EXPECT_EQ(to_yaml(json{{"k", " a\n"}}), "k: \" a\\n\"\n");
  EXPECT_EQ(to_yaml(json{{"k", "\nb\n"}}), "k: \"\\nb\\n\"\n");
  EXPECT_EQ(to_yaml(json{{"k", "a\r\nb\n"}}), "k: \"a\\r\\nb\\n\"\n");
  EXPECT_EQ(to_yaml(json{{"k", "a\tb\n"}}), "k: \"a\\tb\\n\"\n");
  EXPECT_EQ(to_yaml(json{{"k", "\n"}}), "k: \"\\n\"\n");
}

TEST(YamlEmitter, DoubleQuotedEscapes) {
  EXPECT_EQ(to_yaml("a\"b\\c"), "a\"b\\c\n");  // plain: quotes inside are fine
  EXPECT_EQ(to_yaml("\"a\\"), "\"\\\"a\\\\\"\n");
  EXPECT_EQ(to_yaml(std::string("\x00\x01\x7f", 3)), "\"\\u0000\\u0001\\u007f\"\n");
  EXPECT_EQ(to_yaml("a\xe2\x80\xa8"), "\"a\\u2028\"\n");
  EXPECT_EQ(to_yaml("\xef\xbb\xbf"), "\"\\ufeff\"\n");
  EXPECT_EQ(to_yaml("a\xff"), "\"a\\ufffd\"\n");
  EXPECT_EQ(to_yaml("yes \xc3\xa9\n"), "|\n  yes \xc3\xa9\n");
  EXPECT_EQ(to_yaml("\xc3\xa9: x"), "\"\xc3\xa9: x\"\n");  // non-ASCII stays raw when quoted
}

TEST(YamlEmitter, KeysAreQuotedLikeValues) {
  json v = {{"on", 1}, {"123", 2}, {"a: b", 3}, {"", 4}, {"k\nl", 5}, {"plain", 6}};
  EXPECT_EQ(to_yaml(v),
            "\"\": 4\n"
            "\"123\": 2\n"
            "\"a: b\": 3\n"
            "\"k\\nl\": 5\n"
            "\"on\": 1\n"
            "plain: 6\n");
}

TEST(YamlEmitter, LongKeysUseExplicitForm) {
  const std::string key(1500, 'k');
  json v = {{key, {{"x", 1}}}, {"s", json::array({json{{key, "v"}}})}};
  const std::string yaml = to_yaml(v);
  EXPECT_EQ(yaml.substr(0, 2), "? ");
  EXPECT_EQ(to_json(YAML::Load(yaml)), v);
}

TEST(YamlEmitter, TrickyStringsAreQuoted) {
  for (const auto& s : kMustQuote) {
    SCOPED_TRACE("string: " + json(s).dump(-1, ' ', false, json::error_handler_t::replace));
    const std::string yaml = to_yaml(json(s));
    EXPECT_TRUE(yaml.front() == '"' || yaml.front() == '|') << yaml;
    const YAML::Node node = YAML::Load(yaml);
    EXPECT_EQ(node.Tag(), "!");
    EXPECT_EQ(node.as<std::string>(), valid_utf8(s));
  }
}

TEST(YamlEmitter, SafeStringsStayPlain) {
  for (const auto& s : kPlain) {
    SCOPED_TRACE("string: " + s);
    EXPECT_EQ(to_yaml(json(s)), s + "\n");
    EXPECT_FALSE(quoted_in_yaml_cpp(s));
    EXPECT_EQ(YAML::Load(to_yaml(json(s))).as<std::string>(), s);
  }
}

TEST(YamlEmitter, RoundTripsThroughYamlCpp) {
  json v = json::object();
  int i = 0;
  for (const auto& s : kMustQuote) {
    const std::string text = valid_utf8(s);
    v["values"]["q" + std::to_string(i)] = text;
    v["keys"][text] = i++;
  }
  for (const auto& s : kPlain) v["values"]["p" + std::to_string(i++)] = s;
  v["numbers"] = json::array({60.0, 0, -3, 1.5, 1e-7, 1e21, 2.5e-10, 123456789.0});
  v["nested"] = json::parse(R"([{"a": [[], {}, [1, [2, {"b": null}]]]}, "x\ny\n", true])");
  const std::string yaml = to_yaml(v);
  EXPECT_EQ(to_json(YAML::Load(yaml)), v) << yaml;
}

TEST(YamlEmitter, RandomStringsRoundTripThroughYamlCpp) {
  json v = json::object();
  int i = 0;
  for (const auto& text : random_strings(2000)) {
    v["values"].push_back(text);
    v["keys"][text] = i++;
  }
  EXPECT_EQ(to_json(YAML::Load(to_yaml(v))), v);
}

TEST(YamlEmitter, Stream) {
  EXPECT_EQ(to_yaml_stream({}), "");
  EXPECT_EQ(to_yaml_stream({json{{"a", 1}}, json{{"b", "on"}}}), "---\na: 1\n---\nb: \"on\"\n");
  const auto docs = YAML::LoadAll(to_yaml_stream({json{{"a", 1}}, json::array({"x"})}));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(to_json(docs[1]), json::array({"x"}));
}

// The authoritative check: kubectl (sigs.k8s.io/yaml on go-yaml v2, YAML 1.1) reads the YAML
// back offline (`label --local`) and prints the JSON it understood.
TEST(YamlEmitter, KubectlReadsBackIdenticalJson) {
  const char* kubectl = "/usr/bin/kubectl";
  if (::access(kubectl, X_OK) != 0) GTEST_SKIP() << "kubectl not installed";
  std::string tmpl = (fs::temp_directory_path() / "kjq-yaml-XXXXXX").string();
  const fs::path dir = ::mkdtemp(tmpl.data());

  json payload = json::object();
  int i = 0;
  for (const auto& s : kMustQuote) {
    const std::string text = valid_utf8(s);
    payload["values"]["q" + std::to_string(i)] = text;
    payload["keys"][text] = i++;
  }
  for (const auto& s : kPlain) {
    payload["values"]["p" + std::to_string(i)] = s;
    payload["keys"][s] = i++;
  }
  i = 0;
  for (const auto& text : random_strings(1000)) {
    payload["random"]["values"].push_back(text);
    payload["random"]["keys"][text] = i++;
  }
  payload["literal"] = "#!/bin/sh\necho \"a: b\" # not a comment\n  - indented: yes\n\n---\nend\n";
  payload["numbers"] =
      json::array({60.0, 0, -3, 1.5, 0.000001, 1e-7, 1e21, 2.5e-10, 123456789.0, std::int64_t{9007199254740993LL}});
  payload["nested"] = json::parse(R"([{"a": [[], {}, [1, [2, {"b": null}]]]}, "x\ny\n", true])");
  std::vector<json> docs;
  docs.push_back(
      {{"apiVersion", "kjq.test/v1"}, {"kind", "Thing"}, {"metadata", {{"name", "t"}}}, {"payload", payload}});
  docs.push_back({{"apiVersion", "v1"},
                  {"kind", "ConfigMap"},
                  {"metadata", {{"name", "c"}}},
                  {"data", {{"manifest", "{\n  \"a\": 1\n}\n"}, {"on", "off"}}}});
  {
    std::ofstream out(dir / "in.yaml", std::ios::binary);
    out << to_yaml_stream(docs);
  }

  const std::string cmd = "HOME='" + dir.string() + "' " + kubectl + " label --local -f '" +
                          (dir / "in.yaml").string() + "' kjq-test=1 -o json 2>'" + (dir / "err.txt").string() + "'";
  std::string output;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) output.append(buf, n);
  const int status = ::pclose(pipe);
  std::ifstream err_in(dir / "err.txt");
  std::string err((std::istreambuf_iterator<char>(err_in)), std::istreambuf_iterator<char>());
  fs::remove_all(dir);
  if (status != 0 && output.empty()) GTEST_SKIP() << "kubectl could not run offline: " << err;

  std::istringstream in(output);
  std::vector<json> read_back;
  while (in >> std::ws, in.peek() != std::char_traits<char>::eof()) {
    json obj;
    in >> obj;
    obj["metadata"].erase("labels");
    read_back.push_back(obj);
  }
  ASSERT_EQ(read_back.size(), docs.size()) << output;
  for (std::size_t d = 0; d < docs.size(); ++d) EXPECT_EQ(read_back[d], docs[d]);
}

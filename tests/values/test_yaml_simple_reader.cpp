// The fast reader must give exactly yaml-cpp's graph (nodes, tags, values, marks) or give up.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "support/test_support.hpp"
#include "values/yaml_graph.hpp"
#include "values/yaml_simple_reader.hpp"

using kjq::values::YamlLimits;
using kjq::values::yaml::Graph;
using kjq::values::yaml::RawNode;
using kjq::values::yaml::read_simple_document;

namespace {

// The graph as text, walked from the root, so node numbering does not matter.
void describe(const Graph& g, std::size_t index, std::ostringstream& out) {
  const RawNode& n = g.nodes[index];
  out << static_cast<int>(n.kind) << '@' << n.mark.pos << ':' << n.mark.line << ':' << n.mark.column << " tag=" << n.tag
      << " value=[" << n.value << "] block=" << n.block_map << " size=" << n.expanded_nodes
      << " height=" << n.expanded_height << " {";
  for (std::size_t child : n.children) describe(g, child, out);
  out << "}";
}

std::string describe(const Graph& g) {
  std::ostringstream out;
  if (g.root) describe(g, *g.root, out);
  return out.str();
}

std::string by_yaml_cpp(const std::string& text) {
  std::string result;
  kjq::values::yaml::for_each_graph(
      text, "t.yaml", YamlLimits{},
      [&](const Graph& g) {
        result = describe(g);
        return false;
      },
      /*only_yaml_cpp=*/true);
  return result;
}

// Read by the fast reader, and identical to yaml-cpp's reading.
void expect_same(const std::string& text) {
  auto simple = read_simple_document(text);
  ASSERT_TRUE(simple.has_value()) << "gave up on:\n" << text;
  EXPECT_EQ(describe(*simple), by_yaml_cpp(text)) << text;
}

}  // namespace

TEST(YamlSimpleReader, GivesYamlCppsGraphForCommonValues) {
  for (const std::string text : {
           "a: 1\n",
           "a: 1",
           "a:\n",
           "a:",
           "a:\nb: 2\n",
           "a:   # c\nb: 1\n",
           "x:\n  a:\n  # c\n\nb: 1\n",
           "x:\n  a:\n",
           "# head\n\na: b c  # tail\nd: e#f\n",
           "k: -1\nl: --loglevel\nm: .inf\nn: ~\no: 0x1F\np: 日本\n",
           "image: repo:tag\nurl: http://x/y\nlist: a,b\n",
           "\"quoted key\": 'it''s'\n'k2': \"x y \"\n",
           "a: [x, {b: c}, \"d\"]\n",
           "a: {}\nb: []\nc: [ ]\nd: {requests: {cpu: 250m}}\n",
           "a:\n  - x\n  - 'y'\n  - [1, 2]\n  - {k: v}\nb: 2\n",
           "a:\n- x\n",  // a list at the key's indentation: given up (checked below)
           "env:\n  - name: A\n    value: \"1\"\n  - name: B\n    value: '2'\n",
           "- a\n- b: c\n  d: e\n",
           "  indented: 1\n  root: 2\n",
           "workers:\n  q:\n    enabled: true\n    labels: {tier: gold}\n    extraEnvVars: [{name: QUEUE_INDEX, value: "
           "\"1\"}]\n",
       }) {
    if (text == "a:\n- x\n") {
      EXPECT_FALSE(read_simple_document(text).has_value());
      continue;
    }
    expect_same(text);
  }
}

TEST(YamlSimpleReader, GivesYamlCppsGraphForTheProjectsValuesFiles) {
  const auto source = std::filesystem::path(KJQ_SOURCE_DIR);
  for (const auto& file : {source / "examples" / "values.yaml", source / "src" / "values" / "defaults.yaml"}) {
    const std::string text = kjq::test::read_text(file);
    auto simple = read_simple_document(text);
    if (simple) {  // it gives up on the block scalars of defaults.yaml
      EXPECT_EQ(describe(*simple), by_yaml_cpp(text)) << file;
    }
  }
  int read_fast = 0;
  for (const auto& dir :
       {source / "tests" / "fixtures" / "render-cases", source / "tests" / "fixtures" / "chart-cases"}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const std::string text = kjq::test::read_text(entry.path() / "values.yaml");
      if (auto simple = read_simple_document(text)) {  // not those with block scalars
        ++read_fast;
        EXPECT_EQ(describe(*simple), by_yaml_cpp(text)) << entry.path();
      }
    }
  }
  EXPECT_GE(read_fast, 5);
}

TEST(YamlSimpleReader, GivesUpOnWhatItDoesNotFullyRead) {
  for (const std::string text : {
           "",
           "# only\n",
           "---\na: 1\n",
           "a: 1\n---\nb: 2\n",
           "a: 1\n...\n",
           "%YAML 1.1\n---\na: 1\n",
           "a: &x 1\nb: *x\n",
           "a: !!str 1\n",
           "a: |\n  text\n",
           "a: >\n  text\n",
           "? a\n: 1\n",
           "a: b\n  c\n",
           "a: \"x\\ty\"\n",
           "a: \"x\n y\"\n",
           "a:\tb\n",
           "a: 1\r\n",
           "a : 1\n",
           "a:b\n",
           "a: b: c\n",
           "a: 'x' y\n",
           "a: [1,\n 2]\n",
           "a: {b}\n",
           "a: [a: b]\n",
           "a: [1, ]\n",
           "a: {b: }\n",
           "a: @x\n",
           "a: `x`\n",
           "a: - b\n",
           "- - a\n",
           "-\n  a: 1\n",
           "<<: {a: 1}\n",
           "a: 1\nfoo\n",
           "{}x\n",
           "[1]\n",
           "42\n",
           "a: 1\n  b: 2\n",
           "- a\nb: 1\n",
           "a: 1\n- b\n",
           "a: {b: http://x}\n",
           "a: x #c\n  y\n",
           "a: [x] y\n",
           "a:\n  - b\n  c: d\n",
       }) {
    EXPECT_FALSE(read_simple_document(text).has_value()) << text;
  }
  // Deep nesting is left to yaml-cpp and kjq's depth guard.
  std::string deep = "a: ";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  EXPECT_FALSE(read_simple_document(deep + "\n").has_value());
}

TEST(YamlSimpleReader, GivesYamlCppsGraphForTheBenchmarkShape) {
  std::string text = "kubernetesJobs:\n  extraEnvVars: [{name: LOG_LEVEL, value: INFO}]\nworkers:\n";
  for (int i = 0; i < 50; ++i) {
    const std::string n = std::to_string(i);
    text += "  queue-" + n + ":\n    enabled: true\n    type: kubernetes\n    ttlSecondsAfterFinished: 300\n";
    text += "    labels: {tier: gold}\n    extraEnvVars: [{name: QUEUE_INDEX, value: \"" + n + "\"}]\n";
    text += "    resources: {requests: {cpu: 250m}}\n    overrides: {spec: {nodeSelector: {pool: jobs}}}\n";
  }
  expect_same(text);
}

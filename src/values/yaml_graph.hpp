#pragma once
// YAML text → one graph of nodes per document, and the guards a walk over a graph needs: nesting
// depth, the node budget, aliases and duplicate keys. Aliases stay references while parsing, and
// every node knows how many nodes and how many levels it expands to, so an alias bomb, a cyclic
// alias or deep nesting is refused before anything is expanded. Internal to kjq_values.
#include <yaml-cpp/mark.h>

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "values/yaml_loader.hpp"

namespace kjq::values::yaml {

// Stands for "unbounded" in expanded sizes and heights; small enough that adding two never wraps.
inline constexpr std::size_t kUnbounded = std::numeric_limits<std::size_t>::max() / 4;

struct RawNode {
  enum class Kind { Null, Scalar, Sequence, Map, Alias };
  Kind kind = Kind::Null;
  YAML::Mark mark;
  std::string tag;                    // scalars: "?" plain, "!" quoted, or an explicit tag
  std::string value;                  // scalars
  std::vector<std::size_t> children;  // sequence items; map keys and values interleaved
  std::size_t target = 0;             // aliases: the anchored node
  bool closed = false;                // all children known
  bool block_map = false;             // maps: written in block style (not {...})
  // What a walk that expands aliases meets here (kUnbounded for a cycle):
  std::size_t expanded_nodes = 1;
  std::size_t expanded_height = 0;  // nested maps/lists, this node included
};

struct Graph {
  std::vector<RawNode> nodes;
  std::optional<std::size_t> root;  // none for an empty document
};

Mark to_mark(const YAML::Mark& m);

// `<<` (plain or !!merge): go-yaml v2's merge key.
bool is_merge_key(const RawNode& key);

// Parses `text` document by document and hands each graph to `sink` until it returns false.
// Refuses what YAML refuses but yaml-cpp lets through (control characters, content after a
// document, a block-map line without ':'); yaml-cpp's errors become InputErrors with 1-based
// positions.
// Most values files are read by read_simple_document (yaml_simple_reader.hpp) instead of
// yaml-cpp, to the same graph; `only_yaml_cpp` turns that off (tests compare the two).
void for_each_graph(std::string_view text, const std::string& source, const YamlLimits& limits,
                    const std::function<bool(const Graph&)>& sink, bool only_yaml_cpp = false);

// The guards of one walk that expands aliases; each failure is an InputError naming the source,
// the position and the values path.
class GraphWalk {
 public:
  GraphWalk(const std::vector<RawNode>& nodes, const std::string& source, const YamlLimits& limits)
      : nodes_(nodes), source_(source), limits_(limits) {}

  // Before walking from `root`: when the expanded document is over a limit, finds where the walk
  // would stop, in time proportional to the document's size rather than its expansion.
  void check_document(std::size_t root) const;
  // Every node met counts against the budget; a map or list also adds a level.
  void count(const RawNode& node, const std::string& path);
  void enter_collection(const RawNode& node, const std::string& path, std::size_t depth);
  // An alias is checked against both limits before it is walked.
  void check_alias(const RawNode& alias, const std::string& path, std::size_t depth) const;
  // The JSON key of a map key node (typed, then spelled as sigs.k8s.io/yaml spells it).
  std::string key_of(const RawNode& key_node, const std::string& path) const;
  const RawNode& resolved(const RawNode& node) const {
    return node.kind == RawNode::Kind::Alias ? nodes_[node.target] : node;
  }
  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& path, std::string message) const;

 private:
  const std::vector<RawNode>& nodes_;
  const std::string& source_;
  const YamlLimits& limits_;
  std::size_t visited_ = 0;

  void locate_limit_error(std::size_t index, const std::string& path, std::size_t depth, std::size_t& visited) const;
  void check_alias(const RawNode& alias, const std::string& path, std::size_t depth, std::size_t visited) const;
  // Why the nesting is too deep: a long chain of collections, or an alias inside what it refers to.
  enum class TooDeep { Nesting, Cycle };
  [[noreturn]] void fail_depth(const YAML::Mark& mark, const std::string& path, TooDeep why) const;
  [[noreturn]] void fail_budget(const YAML::Mark& mark, const std::string& path) const;
};

// The keys written explicitly in one map: go-yaml v2 keeps the last of two equal keys silently
// (so does Helm); kjq refuses the second, naming where the first is.
class DuplicateKeys {
 public:
  void add(const std::string& key, const YAML::Mark& mark, const std::string& key_path, const GraphWalk& walk);

 private:
  // Most maps have a few keys: a list searched in order, then a hash table past kSmall keys.
  static constexpr std::size_t kSmall = 16;
  std::vector<std::pair<std::string, YAML::Mark>> few_;
  std::unordered_map<std::string, YAML::Mark> seen_;
};

}  // namespace kjq::values::yaml

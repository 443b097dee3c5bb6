#include "values/yaml_graph.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "util/diagnostic.hpp"
#include "util/utf8.hpp"
#include "util/value_path.hpp"
#include "values/yaml_scalars.hpp"
#include "values/yaml_simple_reader.hpp"

namespace kjq::values::yaml {

namespace {

using nlohmann::json;

// yaml-cpp 0.7 refuses nesting beyond about this many levels itself (DeepRecursion).
constexpr std::size_t kYamlCppDepthLimit = 497;

std::size_t add_saturating(std::size_t a, std::size_t b) { return std::min(a + b, kUnbounded); }

int one_based(int zero_based) { return zero_based >= 0 ? zero_based + 1 : 0; }

// ---------------------------------------------------------------------------------------------
// yaml-cpp's events → the graph.

class GraphBuilder : public YAML::EventHandler {
 public:
  explicit GraphBuilder(const std::string& source) : source_(source) {}

  Graph graph;
  YAML::Mark start;  // where the document's first token is

  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    RawNode n;
    n.mark = mark;
    n.closed = true;
    add(std::move(n), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    RawNode n;
    n.kind = RawNode::Kind::Alias;
    n.mark = mark;
    n.target = anchors_.at(anchor);  // yaml-cpp itself rejects unknown anchors
    const RawNode& target = graph.nodes[n.target];
    // An alias to a node that is still open points at its own ancestor: a cycle.
    n.expanded_nodes = target.closed ? target.expanded_nodes : kUnbounded;
    n.expanded_height = target.closed ? target.expanded_height : kUnbounded;
    n.closed = true;
    add(std::move(n), YAML::NullAnchor);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    // yaml-cpp passes invalid bytes through; go-yaml (and so Helm) refuses them.
    if (!utf8::is_valid(value)) {
      const Mark m = to_mark(mark);
      throw InputError(Diagnostic{source_, m.line, m.column, "", "invalid UTF-8 in a scalar"});
    }
    RawNode n;
    n.kind = RawNode::Kind::Scalar;
    n.mark = mark;
    n.tag = tag;
    n.value = value;
    n.closed = true;
    add(std::move(n), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(RawNode::Kind::Sequence, mark, anchor);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value style) override {
    open(RawNode::Kind::Map, mark, anchor);
    graph.nodes.back().block_map = style != YAML::EmitterStyle::Flow;
  }
  void OnMapEnd() override { close(); }

 private:
  const std::string& source_;
  std::vector<std::size_t> open_;
  std::unordered_map<YAML::anchor_t, std::size_t> anchors_;

  void add(RawNode node, YAML::anchor_t anchor) {
    if (!open_.empty()) check_key_has_colon(graph.nodes[open_.back()], node);
    const std::size_t index = graph.nodes.size();
    graph.nodes.push_back(std::move(node));
    if (anchor != YAML::NullAnchor) anchors_[anchor] = index;
    if (open_.empty()) {
      graph.root = index;
    } else {
      graph.nodes[open_.back()].children.push_back(index);
    }
  }

  // yaml-cpp reads a block-map line without ':' (`foo` after `a: 1`) as the key of a null
  // value that it places at the key itself; YAML (and go-yaml) call that an error. An empty
  // value after a real ':' is placed after the colon, and `? key` puts the key after the `?`.
  void check_key_has_colon(const RawNode& map, const RawNode& value) const {
    if (map.kind != RawNode::Kind::Map || !map.block_map || map.children.size() % 2 == 0) return;
    const RawNode& key = graph.nodes[map.children.back()];
    if (value.kind != RawNode::Kind::Null || key.kind == RawNode::Kind::Null || value.mark.pos != key.mark.pos) return;
    const Mark m = to_mark(key.mark);
    std::string what = key.kind == RawNode::Kind::Scalar ? " after " + json(key.value).dump() : "";
    throw InputError(
        Diagnostic{source_, m.line, m.column, "",
                   "invalid YAML: could not find the expected ':'" + what + " (every line of a map is `key: value`)"});
  }

  void open(RawNode::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    RawNode n;
    n.kind = kind;
    n.mark = mark;
    add(std::move(n), anchor);
    open_.push_back(graph.nodes.size() - 1);
  }

  // Children are complete (and so are the nodes their aliases point to, or those are open
  // ancestors), so the expanded size and height are known now.
  void close() {
    RawNode& n = graph.nodes[open_.back()];
    std::size_t size = 1;
    std::size_t height = 0;
    for (std::size_t child : n.children) {
      size = add_saturating(size, graph.nodes[child].expanded_nodes);
      height = std::max(height, graph.nodes[child].expanded_height);
    }
    n.expanded_nodes = size;
    n.expanded_height = add_saturating(height, 1);
    n.closed = true;
    open_.pop_back();
  }
};

// ---------------------------------------------------------------------------------------------
// Reading the text: what YAML refuses and yaml-cpp does not.

[[noreturn]] void fail_parse(const std::string& source, const YAML::Mark& mark, std::string message) {
  const Mark m = mark.is_null() ? Mark{} : to_mark(mark);
  throw InputError(Diagnostic{source, m.line, m.column, "", std::move(message)});
}

bool has_utf16_bom(std::string_view text) {
  return text.size() >= 2 && ((text[0] == '\xFE' && text[1] == '\xFF') || (text[0] == '\xFF' && text[1] == '\xFE'));
}

// go-yaml's reader refuses, anywhere in the input, bytes that are not UTF-8 and characters YAML
// does not allow (C0 controls but tab and line breaks, DEL, C1 controls but NEL, U+FFFE/FFFF).
// yaml-cpp passes most of them through and even reads a NUL as the end of the input, which would
// silently drop the rest of the file. Positions are 1-based, columns in bytes as yaml-cpp counts.
void check_characters(std::string_view text, const std::string& source) {
  if (has_utf16_bom(text)) return;  // yaml-cpp converts UTF-16 itself
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    if (b0 >= 0x20 && b0 < 0x7F) {  // the common case: printable ASCII
      ++i;
      continue;
    }
    if (b0 == '\n') {
      ++line;
      line_start = ++i;
      continue;
    }
    const auto column = static_cast<int>(i - line_start) + 1;
    if (b0 == '\t' || b0 == '\r') {
      ++i;
      continue;
    }
    if (b0 < 0x80) {
      char code[8];
      std::snprintf(code, sizeof code, "U+%04X", b0);
      throw InputError(Diagnostic{source, line, column, "",
                                  std::string("invalid YAML: control character ") + code +
                                      " is not allowed (in a double-quoted string, write it as "
                                      "an escape such as \\x01)"});
    }
    const auto [cp, len] = utf8::decode(text, i);
    if (len == 0) throw InputError(Diagnostic{source, line, column, "", "invalid UTF-8"});
    if ((cp >= 0x80 && cp <= 0x9F && cp != 0x85) || cp == 0xFFFE || cp == 0xFFFF) {
      char code[8];
      std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(cp));
      throw InputError(Diagnostic{source, line, column, "",
                                  std::string("invalid YAML: control character ") + code + " is not allowed"});
    }
    i += len;
  }
}

// yaml-cpp starts a new document wherever the first one's content stops, so `{}x` or `[1]\n[2]`
// read as two documents. YAML allows a later document only after `---`, or after a `...` that
// ended the previous one (then only blank and comment lines may come between).
bool document_may_start_at(std::string_view text, std::size_t pos) {
  if (pos > text.size()) return true;  // not a position in this text: nothing to judge
  if (text.compare(pos, 3, "---") == 0 &&
      (pos + 3 == text.size() || std::string_view(" \t\r\n").find(text[pos + 3]) != std::string_view::npos))
    return true;
  std::size_t end = pos;  // walk back over lines: the current one up to `pos`, then earlier ones
  for (;;) {
    const std::size_t nl = end == 0 ? std::string_view::npos : text.rfind('\n', end - 1);
    const std::size_t begin = nl == std::string_view::npos ? 0 : nl + 1;
    std::string_view line = text.substr(begin, end - begin);
    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && line[first] != '#') {
      line.remove_prefix(first);
      return first == 0 && line.substr(0, 3) == "..." &&
             (line.size() == 3 || std::string_view(" \t\r#").find(line[3]) != std::string_view::npos);
    }
    if (nl == std::string_view::npos) return false;  // nothing but blank and comment lines
    end = nl;
  }
}

// Stops the parser at the start of the next document, to see where it starts without reading it.
class NextDocumentProbe : public YAML::EventHandler {
 public:
  struct Started {
    YAML::Mark mark;
  };
  void OnDocumentStart(const YAML::Mark& mark) override { throw Started{mark}; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

void check_document_start(std::string_view text, const std::string& source, const YAML::Mark& mark) {
  if (has_utf16_bom(text) || document_may_start_at(text, static_cast<std::size_t>(mark.pos))) return;
  fail_parse(source, mark,
             "invalid YAML: unexpected content after the end of the document (a second document "
             "must start with ---)");
}

}  // namespace

Mark to_mark(const YAML::Mark& m) { return Mark{one_based(m.line), one_based(m.column)}; }

bool is_merge_key(const RawNode& key) {
  return key.kind == RawNode::Kind::Scalar && key.value == "<<" && (key.tag == kPlainTag || key.tag == kTagMerge);
}

void for_each_graph(std::string_view text, const std::string& source, const YamlLimits& limits,
                    const std::function<bool(const Graph&)>& sink, bool only_yaml_cpp) {
  // yaml-cpp skips a UTF-8 byte order mark without counting it in its positions.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  check_characters(text, source);
  if (!only_yaml_cpp) {
    if (auto simple = read_simple_document(text)) {
      sink(*simple);
      return;
    }
  }
  std::istringstream in{std::string(text)};
  try {
    YAML::Parser parser(in);
    for (bool first = true;; first = false) {
      GraphBuilder graph(source);
      if (!parser.HandleNextDocument(graph)) return;
      if (!first) check_document_start(text, source, graph.start);
      if (!sink(graph.graph)) {
        // The rest is not read, but it must not be the first document's own stray content.
        NextDocumentProbe probe;
        try {
          parser.HandleNextDocument(probe);
        } catch (const NextDocumentProbe::Started& next) {
          check_document_start(text, source, next.mark);
        }
        return;
      }
    }
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own guard fires before ours when max_depth is above its limit; its message
    // ("bad file") says nothing useful.
    const std::size_t depth = std::min(limits.max_depth, kYamlCppDepthLimit);
    fail_parse(source, e.mark, "nesting deeper than " + std::to_string(depth) + " levels");
  } catch (const YAML::ParserException& e) {
    fail_parse(source, e.mark, "invalid YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    fail_parse(source, e.mark, "invalid YAML: " + e.msg);
  }
}

// ---------------------------------------------------------------------------------------------
// Guards of a walk.

void GraphWalk::check_document(std::size_t root) const {
  const RawNode& node = nodes_[root];
  if (node.expanded_nodes > limits_.max_nodes || node.expanded_height > limits_.max_depth) {
    // Converting up to the limit could mean millions of values first; find the error directly.
    std::size_t visited = 0;
    locate_limit_error(root, "", 0, visited);
  }
}

// Walks like convert() does, but steps over every subtree known to fit within the limits, so
// it reaches the node where convert() would stop in time proportional to the document's size.
void GraphWalk::locate_limit_error(std::size_t index, const std::string& path, std::size_t depth,
                                   std::size_t& visited) const {
  const RawNode& node = nodes_[index];
  if (node.kind == RawNode::Kind::Alias) {
    check_alias(node, path, depth, visited);
    visited += node.expanded_nodes;
    return;
  }
  const bool collection = node.kind == RawNode::Kind::Sequence || node.kind == RawNode::Kind::Map;
  if (collection && depth + 1 > limits_.max_depth) fail_depth(node.mark, path, TooDeep::Nesting);
  if (++visited > limits_.max_nodes) fail_budget(node.mark, path);
  if (!collection) return;
  const auto fits = [&](std::size_t child, std::size_t child_depth) {
    return child_depth + nodes_[child].expanded_height <= limits_.max_depth &&
           visited + nodes_[child].expanded_nodes <= limits_.max_nodes;
  };
  if (node.kind == RawNode::Kind::Sequence) {
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      const std::size_t child = node.children[i];
      if (fits(child, depth + 1))
        visited += nodes_[child].expanded_nodes;
      else
        locate_limit_error(child, path_index(path, i), depth + 1, visited);
    }
    return;
  }
  for (std::size_t i = 0; i + 1 < node.children.size(); i += 2) {
    const RawNode& key_node = nodes_[node.children[i]];
    const std::size_t value = node.children[i + 1];
    if (is_merge_key(key_node)) {
      if (fits(value, depth))
        visited += nodes_[value].expanded_nodes;
      else
        locate_limit_error(value, path, depth, visited);
      continue;
    }
    if (++visited > limits_.max_nodes) fail_budget(key_node.mark, path);
    const std::string key_path = path_key(path, key_of(key_node, path));
    if (fits(value, depth + 1))
      visited += nodes_[value].expanded_nodes;
    else
      locate_limit_error(value, key_path, depth + 1, visited);
  }
}

void GraphWalk::fail(const YAML::Mark& mark, const std::string& path, std::string message) const {
  const Mark m = to_mark(mark);
  throw InputError(Diagnostic{source_, m.line, m.column, path, std::move(message)});
}

void GraphWalk::fail_depth(const YAML::Mark& mark, const std::string& path, TooDeep why) const {
  std::string message = "nesting deeper than " + std::to_string(limits_.max_depth) + " levels";
  if (why == TooDeep::Cycle) message += " (an alias refers to a node that contains it)";
  fail(mark, path, std::move(message));
}

void GraphWalk::fail_budget(const YAML::Mark& mark, const std::string& path) const {
  fail(mark, path, "more than " + std::to_string(limits_.max_nodes) + " values once aliases are expanded");
}

void GraphWalk::count(const RawNode& node, const std::string& path) {
  if (++visited_ > limits_.max_nodes) fail_budget(node.mark, path);
}

void GraphWalk::enter_collection(const RawNode& node, const std::string& path, std::size_t depth) {
  if (depth + 1 > limits_.max_depth) fail_depth(node.mark, path, TooDeep::Nesting);
  count(node, path);
}

// So an alias bomb or a cycle is refused at once instead of after a billion steps (or a stack
// overflow).
void GraphWalk::check_alias(const RawNode& alias, const std::string& path, std::size_t depth,
                            std::size_t visited) const {
  if (alias.expanded_height == kUnbounded) fail_depth(alias.mark, path, TooDeep::Cycle);
  if (depth + alias.expanded_height > limits_.max_depth) fail_depth(alias.mark, path, TooDeep::Nesting);
  if (add_saturating(visited, alias.expanded_nodes) > limits_.max_nodes) fail_budget(alias.mark, path);
}

void GraphWalk::check_alias(const RawNode& alias, const std::string& path, std::size_t depth) const {
  check_alias(alias, path, depth, visited_);
}

std::string GraphWalk::key_of(const RawNode& key_node, const std::string& path) const {
  const RawNode& key = resolved(key_node);
  if (key.kind == RawNode::Kind::Sequence || key.kind == RawNode::Kind::Map)
    fail(key_node.mark, path, "a map or list cannot be a map key");
  if (key.kind == RawNode::Kind::Null) fail(key_node.mark, path, "a map key cannot be null");
  try {
    return scalar_key(key.value, key.tag);
  } catch (const ScalarError& e) {
    fail(key_node.mark, path, e.what());
  }
}

void DuplicateKeys::add(const std::string& key, const YAML::Mark& mark, const std::string& key_path,
                        const GraphWalk& walk) {
  const YAML::Mark* earlier = nullptr;
  if (seen_.empty() && few_.size() < kSmall) {
    for (const auto& [seen_key, seen_mark] : few_) {
      if (seen_key == key) {
        earlier = &seen_mark;
        break;
      }
    }
    if (!earlier) few_.emplace_back(key, mark);
  } else {
    if (seen_.empty()) {
      for (auto& [seen_key, seen_mark] : few_) seen_.emplace(std::move(seen_key), seen_mark);
      few_.clear();
    }
    if (auto [it, inserted] = seen_.emplace(key, mark); !inserted) earlier = &it->second;
  }
  if (earlier) {
    const Mark first = to_mark(*earlier);
    walk.fail(mark, key_path,
              "duplicate key " + json(key).dump() + " (first defined at line " + std::to_string(first.line) +
                  ", column " + std::to_string(first.column) + ")");
  }
}

}  // namespace kjq::values::yaml

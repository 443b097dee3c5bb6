#include "values/yaml_simple_reader.hpp"

#include <string>
#include <utility>

namespace kjq::values::yaml {

namespace {

// Thrown to give the text to yaml-cpp instead.
struct GiveUp {};

// Where a scalar stands: in block context, or inside a flow collection (where ',', '}' and ']' end it).
enum class Context { Block, Flow };

// Deeper documents go to yaml-cpp, whose events meet kjq's depth guard.
constexpr std::size_t kSimpleMaxDepth = 64;

bool is_ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// Reads one document line by line with the positions yaml-cpp gives its events: a block map at
// its first key, a block list at its first '-', a flow collection at its bracket, a scalar at
// its first character (or quote), an empty value at the next token (or the end).
class SimpleReader {
 public:
  explicit SimpleReader(std::string_view text) : t_(text) { graph_.nodes.reserve(text.size() / 8); }

  Graph read() {
    skip_to_content();
    if (at_end()) throw GiveUp{};  // no document at all: yaml-cpp reports none
    const std::size_t col = column();
    if (peek() == '{' || peek() == '[') throw GiveUp{};
    graph_.root = is_list_entry() ? block_list(col, 0) : block_map(col, 0);
    if (!at_end()) throw GiveUp{};  // content left of the root: an error for yaml-cpp to word
    return std::move(graph_);
  }

 private:
  std::string_view t_;
  std::size_t i_ = 0;
  int line_ = 0;
  std::size_t line_start_ = 0;
  Graph graph_;

  bool at_end() const { return i_ >= t_.size(); }
  char peek(std::size_t ahead = 0) const { return i_ + ahead < t_.size() ? t_[i_ + ahead] : '\0'; }
  std::size_t column() const { return i_ - line_start_; }
  // ':' that separates a key from its value.
  bool at_value_indicator() const {
    return peek() == ':' && (peek(1) == ' ' || peek(1) == '\n' || i_ + 1 == t_.size());
  }
  bool is_list_entry() const { return peek() == '-' && (peek(1) == ' ' || peek(1) == '\n'); }

  YAML::Mark mark() const {
    YAML::Mark m;
    m.pos = static_cast<int>(i_);
    m.line = line_;
    m.column = at_end() ? 0 : static_cast<int>(column());  // yaml-cpp's end-of-input column
    return m;
  }

  std::size_t add_node(RawNode::Kind kind, const YAML::Mark& mark) {
    RawNode n;
    n.kind = kind;
    n.mark = mark;
    n.closed = true;
    graph_.nodes.push_back(std::move(n));
    return graph_.nodes.size() - 1;
  }

  void append(std::size_t parent, std::size_t child) { graph_.nodes[parent].children.push_back(child); }

  // As GraphBuilder::close: what a walk that expands aliases meets (there are none here).
  void finish(std::size_t index) {
    RawNode& n = graph_.nodes[index];
    std::size_t size = 1;
    std::size_t height = 0;
    for (std::size_t child : n.children) {
      size += graph_.nodes[child].expanded_nodes;
      height = std::max(height, graph_.nodes[child].expanded_height);
    }
    n.expanded_nodes = size;
    n.expanded_height = height + 1;
  }

  void skip_spaces() {
    while (peek() == ' ') ++i_;
  }

  // Blank lines, comments and indentation up to the next token (or the end).
  void skip_to_content() {
    for (;;) {
      skip_spaces();
      const char c = peek();
      if (c == '#') {
        while (!at_end() && peek() != '\n') ++i_;
        continue;
      }
      if (c == '\n') {
        ++i_;
        ++line_;
        line_start_ = i_;
        continue;
      }
      if (c == '\t' || c == '\r') throw GiveUp{};
      if (column() == 0 && (t_.substr(i_, 3) == "---" || t_.substr(i_, 3) == "...")) throw GiveUp{};
      return;
    }
  }

  // After a value: blanks, an optional comment (after a blank), then the line break.
  void end_of_line() {
    const std::size_t before = i_;
    skip_spaces();
    if (peek() == '#' && i_ > before) {
      while (!at_end() && peek() != '\n') ++i_;
    }
    if (at_end()) return;
    if (peek() != '\n') throw GiveUp{};
    ++i_;
    ++line_;
    line_start_ = i_;
  }

  std::size_t block_map(std::size_t col, std::size_t depth) {
    if (depth > kSimpleMaxDepth) throw GiveUp{};
    const std::size_t map = add_node(RawNode::Kind::Map, mark());
    graph_.nodes[map].block_map = true;
    for (;;) {
      const std::size_t key = scalar(Context::Block);
      if (graph_.nodes[key].tag == kPlainTag && graph_.nodes[key].value == "<<") throw GiveUp{};
      if (!at_value_indicator()) throw GiveUp{};
      ++i_;
      append(map, key);
      const std::size_t value = block_value(col, depth);
      append(map, value);
      if (at_end() || column() < col) break;
      if (column() > col || is_list_entry()) throw GiveUp{};
    }
    finish(map);
    return map;
  }

  // The value after `key:`; leaves the position at the next token.
  std::size_t block_value(std::size_t col, std::size_t depth) {
    skip_spaces();
    if (at_end() || peek() == '\n' || peek() == '#') {
      skip_to_content();
      if (!at_end() && column() > col) {
        const std::size_t inner = column();
        return is_list_entry() ? block_list(inner, depth + 1) : block_map(inner, depth + 1);
      }
      if (!at_end() && column() == col && is_list_entry()) throw GiveUp{};  // list at key level
      return add_node(RawNode::Kind::Null, mark());
    }
    const std::size_t value = peek() == '{' || peek() == '[' ? flow_collection(depth + 1) : scalar(Context::Block);
    end_of_line();
    skip_to_content();
    return value;
  }

  std::size_t block_list(std::size_t col, std::size_t depth) {
    if (depth > kSimpleMaxDepth) throw GiveUp{};
    const std::size_t list = add_node(RawNode::Kind::Sequence, mark());
    for (;;) {
      ++i_;                               // the '-'
      if (peek() != ' ') throw GiveUp{};  // the item starts on a later line
      skip_spaces();
      if (at_end() || peek() == '\n' || peek() == '#') throw GiveUp{};
      append(list, list_item(depth));
      if (at_end() || column() < col) break;
      if (column() > col || !is_list_entry()) throw GiveUp{};
    }
    finish(list);
    return list;
  }

  // What follows "- ": a flow collection, a scalar, or the first key of a map ("- name: x").
  std::size_t list_item(std::size_t depth) {
    if (peek() == '{' || peek() == '[') {
      const std::size_t value = flow_collection(depth + 1);
      end_of_line();
      skip_to_content();
      return value;
    }
    if (is_list_entry()) throw GiveUp{};
    const std::size_t start = i_;
    const std::size_t item_col = column();
    const std::size_t first = scalar(Context::Block);
    if (at_value_indicator()) {
      graph_.nodes.pop_back();  // read again, as the map's first key
      i_ = start;
      return block_map(item_col, depth + 1);
    }
    end_of_line();
    skip_to_content();
    return first;
  }

  // `{k: v, ...}` or `[a, ...]` on one line.
  std::size_t flow_collection(std::size_t depth) {
    if (depth > kSimpleMaxDepth) throw GiveUp{};
    const bool is_map = peek() == '{';
    const char close = is_map ? '}' : ']';
    const std::size_t collection = add_node(is_map ? RawNode::Kind::Map : RawNode::Kind::Sequence, mark());
    ++i_;
    skip_spaces();
    if (peek() == close) {
      ++i_;
      finish(collection);
      return collection;
    }
    for (;;) {
      if (is_map) {
        if (peek() == '{' || peek() == '[') throw GiveUp{};
        append(collection, scalar(Context::Flow));
        if (peek() != ':' || peek(1) != ' ') throw GiveUp{};  // `{a}`, `{a:b}`, `{a : b}`
        ++i_;
        skip_spaces();
      }
      append(collection, flow_node(depth));
      skip_spaces();
      if (peek() == ',') {
        ++i_;
        skip_spaces();
        if (peek() == close || peek() == ',') throw GiveUp{};
        continue;
      }
      if (peek() == close) {
        ++i_;
        break;
      }
      throw GiveUp{};  // `[a: b]`, a comment, a line break...
    }
    finish(collection);
    return collection;
  }

  std::size_t flow_node(std::size_t depth) {
    if (peek() == '{' || peek() == '[') return flow_collection(depth + 1);
    return scalar(Context::Flow);
  }

  // A one-line scalar: "double-quoted" without escapes, 'single-quoted', or plain.
  std::size_t scalar(Context context) {
    const YAML::Mark m = mark();
    const char c = peek();
    std::string value;
    std::string_view tag = "!";
    if (c == '"') {
      ++i_;
      const std::size_t start = i_;
      while (peek() != '"') {
        if (at_end() || peek() == '\n' || peek() == '\\') throw GiveUp{};
        ++i_;
      }
      value.assign(t_.substr(start, i_ - start));
      ++i_;
    } else if (c == '\'') {
      ++i_;
      for (;;) {
        if (at_end() || peek() == '\n') throw GiveUp{};
        if (peek() == '\'') {
          if (peek(1) != '\'') break;
          ++i_;  // '' is one quote
        }
        value += peek();
        ++i_;
      }
      ++i_;
    } else {
      value = plain(context);
      tag = kPlainTag;
      // yaml-cpp reports these plain words as null events, not scalars.
      if (value == "~" || value == "null" || value == "Null" || value == "NULL")
        return add_node(RawNode::Kind::Null, m);
    }
    const std::size_t index = add_node(RawNode::Kind::Scalar, m);
    graph_.nodes[index].tag = tag;
    graph_.nodes[index].value = std::move(value);
    return index;
  }

  // A plain scalar ends at ": ", " #", the line's end, and in a flow collection at ",", "}", "]".
  // Characters that could start something else (indicators, brackets) are left to yaml-cpp.
  std::string plain(Context context) {
    const char c = peek();
    const bool starts_well = is_ascii_alnum(c) || (static_cast<unsigned char>(c) >= 0x80) ||
                             std::string_view("_./$(~+=").find(c) != std::string_view::npos ||
                             (c == '-' && (is_ascii_alnum(peek(1)) || peek(1) == '-' || peek(1) == '.'));
    if (!starts_well) throw GiveUp{};
    const std::size_t start = i_;
    std::size_t end = i_;  // after the last non-blank character
    for (;;) {
      const char ch = peek();
      if (at_end() || ch == '\n') break;
      if (ch == ':') {
        if (at_value_indicator()) break;
        if (context == Context::Flow) throw GiveUp{};
      } else if (ch == ' ') {
        if (peek(1) == '#') break;
        ++i_;
        continue;
      } else if (ch == '\t' || ch == '\r') {
        throw GiveUp{};
      } else if (ch == '{' || ch == '}' || ch == '[' || ch == ']' || ch == ',') {
        if (context == Context::Flow && ch != '{' && ch != '[') break;
        if (ch != ',') throw GiveUp{};
      }
      ++i_;
      end = i_;
    }
    i_ = end;
    return std::string(t_.substr(start, end - start));
  }
};

}  // namespace

std::optional<Graph> read_simple_document(std::string_view text) {
  try {
    return SimpleReader(text).read();
  } catch (const GiveUp&) {
    return std::nullopt;
  }
}

}  // namespace kjq::values::yaml

#include "values/yaml_loader.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <locale.h>
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "util/atomic_file.hpp"
#include "util/diagnostic.hpp"
#include "util/value_path.hpp"

namespace kjq::values {

namespace {

using nlohmann::json;

// yaml-cpp 0.7 refuses nesting beyond about this many levels itself (DeepRecursion).
constexpr std::size_t kYamlCppDepthLimit = 497;
// Stands for "unbounded" in expanded sizes and heights; small enough that adding two never wraps.
constexpr std::size_t kUnbounded = std::numeric_limits<std::size_t>::max() / 4;

constexpr std::string_view kTagStr = "tag:yaml.org,2002:str";
constexpr std::string_view kTagInt = "tag:yaml.org,2002:int";
constexpr std::string_view kTagFloat = "tag:yaml.org,2002:float";
constexpr std::string_view kTagBool = "tag:yaml.org,2002:bool";
constexpr std::string_view kTagNull = "tag:yaml.org,2002:null";
constexpr std::string_view kTagMerge = "tag:yaml.org,2002:merge";
constexpr std::string_view kTagBinary = "tag:yaml.org,2002:binary";
constexpr std::string_view kPlainTag = "?";  // yaml-cpp's tag for an untagged plain scalar

std::size_t add_saturating(std::size_t a, std::size_t b) { return std::min(a + b, kUnbounded); }

// ---------------------------------------------------------------------------------------------
// Scalar typing (go-yaml v2 resolve rules)

struct Scalar {
  enum class Type { Null, Bool, Int, Uint, Float, String };
  Type type = Type::String;
  bool boolean = false;
  std::int64_t integer = 0;
  std::uint64_t unsigned_integer = 0;
  double number = 0;
};

Scalar make_null() { return {Scalar::Type::Null}; }
Scalar make_bool(bool b) {
  Scalar s{Scalar::Type::Bool};
  s.boolean = b;
  return s;
}
Scalar make_int(std::int64_t i) {
  Scalar s{Scalar::Type::Int};
  s.integer = i;
  return s;
}
Scalar make_uint(std::uint64_t u) {
  Scalar s{Scalar::Type::Uint};
  s.unsigned_integer = u;
  return s;
}
Scalar make_float(double d) {
  Scalar s{Scalar::Type::Float};
  s.number = d;
  return s;
}
Scalar make_string() { return {Scalar::Type::String}; }

// The YAML 1.1 words go-yaml v2 recognises, spelled exactly (no other capitalisations).
std::optional<Scalar> lookup_word(std::string_view s) {
  static const std::unordered_map<std::string_view, Scalar> kWords = [] {
    std::unordered_map<std::string_view, Scalar> m;
    for (auto w : {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
      m.emplace(w, make_bool(true));
    for (auto w : {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})
      m.emplace(w, make_bool(false));
    for (auto w : {"~", "null", "Null", "NULL"}) m.emplace(w, make_null());
    const double inf = std::numeric_limits<double>::infinity();
    for (auto w : {".nan", ".NaN", ".NAN"}) m.emplace(w, make_float(std::nan("")));
    for (auto w : {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})
      m.emplace(w, make_float(inf));
    for (auto w : {"-.inf", "-.Inf", "-.INF"}) m.emplace(w, make_float(-inf));
    return m;
  }();
  auto it = kWords.find(s);
  if (it == kWords.end()) return std::nullopt;
  return it->second;
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

// Go's strconv.ParseUint(s, 0, 64): 0x/0o/0b prefixes, a leading 0 means octal, no sign.
std::optional<std::uint64_t> go_parse_uint_base0(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int base = 10;
  if (s[0] == '0') {
    const char p = s.size() >= 3 ? static_cast<char>(s[1] | 0x20) : '\0';
    if (p == 'b' || p == 'o' || p == 'x') {
      base = p == 'b' ? 2 : p == 'o' ? 8 : 16;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  std::uint64_t n = 0;
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  for (char c : s) {
    const int d = digit_value(c);
    if (d >= base) return std::nullopt;
    if (n > (kMax - static_cast<std::uint64_t>(d)) / static_cast<std::uint64_t>(base))
      return std::nullopt;
    n = n * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
  }
  return n;
}

// Go's strconv.ParseInt(s, 0, 64).
std::optional<std::int64_t> go_parse_int_base0(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  auto u = go_parse_uint_base0(s);
  if (!u) return std::nullopt;
  constexpr auto kLimit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!negative) {
    if (*u > kLimit) return std::nullopt;
    return static_cast<std::int64_t>(*u);
  }
  if (*u > kLimit + 1) return std::nullopt;
  return *u == kLimit + 1 ? std::numeric_limits<std::int64_t>::min()
                          : -static_cast<std::int64_t>(*u);
}

// go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool is_yaml_style_float(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// Like Go's strconv.ParseFloat on text already checked by is_yaml_style_float: overflow to
// infinity is a failure (Go reports ErrRange), underflow is not. Always uses the C locale.
std::optional<double> parse_finite_double(const std::string& s) {
  static const locale_t c_locale = ::newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  const double d = ::strtod_l(s.c_str(), nullptr, c_locale);
  if (std::isinf(d)) return std::nullopt;
  return d;
}

// go-yaml v2's implicit typing of an untagged plain scalar (resolve() with an empty tag).
Scalar resolve_plain(std::string_view s) {
  if (s.empty()) return make_null();
  const char c = s[0];
  const bool sign_or_digit = c == '+' || c == '-' || (c >= '0' && c <= '9');
  const bool maybe_word = std::string_view("yYnNtTfFoO~").find(c) != std::string_view::npos;
  if (!sign_or_digit && !maybe_word && c != '.') return make_string();
  if (auto word = lookup_word(s)) return *word;
  if (maybe_word) return make_string();
  if (c == '.') {
    if (!is_yaml_style_float(s)) return make_string();
    auto d = parse_finite_double(std::string(s));
    return d ? make_float(*d) : make_string();
  }
  std::string plain;
  plain.reserve(s.size());
  for (char ch : s)
    if (ch != '_') plain += ch;
  if (auto i = go_parse_int_base0(plain)) return make_int(*i);
  if (auto u = go_parse_uint_base0(plain)) return make_uint(*u);
  if (is_yaml_style_float(plain)) {
    if (auto d = parse_finite_double(plain)) return make_float(*d);
  }
  return make_string();
}

// RFC 4648 base64 as Go's StdEncoding decodes it (padding required); nullopt when invalid.
std::optional<std::string> decode_base64(std::string_view text) {
  std::string compact;
  for (char c : text)
    if (c != '\n' && c != '\r') compact += c;  // go-yaml's scanner folds line breaks away
  if (compact.size() % 4 != 0) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < compact.size(); i += 4) {
    const bool last = i + 4 == compact.size();
    int pads = 0;
    std::uint32_t bits = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = compact[i + j];
      if (c == '=' && last && j >= 2) {
        ++pads;
        bits <<= 6;
        continue;
      }
      const int v = value(c);
      if (v < 0 || pads > 0) return std::nullopt;
      bits = (bits << 6) | static_cast<std::uint32_t>(v);
    }
    out += static_cast<char>((bits >> 16) & 0xFF);
    if (pads < 2) out += static_cast<char>((bits >> 8) & 0xFF);
    if (pads < 1) out += static_cast<char>(bits & 0xFF);
  }
  return out;
}

// strconv.FormatFloat(v, 'g', -1, 32): how sigs.k8s.io/yaml spells a float map key.
std::string format_float_key(double value) {
  const float f = static_cast<float>(value);
  if (std::isnan(f)) return ".nan";
  if (std::isinf(f)) return f > 0 ? ".inf" : "-.inf";
  std::array<char, 64> buf{};
  auto [end, ec] =
      std::to_chars(buf.data(), buf.data() + buf.size(), f, std::chars_format::scientific);
  const std::string sci(buf.data(), end);  // shortest digits: [-]d[.ddd]e±XX
  const std::size_t e_at = sci.find('e');
  const int exponent = std::stoi(sci.substr(e_at + 1));
  if (exponent < -4 || exponent >= 6) return sci;  // Go's %e form matches C++'s exactly
  const bool negative = sci[0] == '-';
  std::string digits;
  for (std::size_t i = negative ? 1 : 0; i < e_at; ++i)
    if (sci[i] != '.') digits += sci[i];
  const int point = exponent + 1;  // digits before the decimal point
  std::string out = negative ? "-" : "";
  if (point <= 0) {
    out += "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
  } else if (static_cast<std::size_t>(point) >= digits.size()) {
    out += digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0');
  } else {
    out += digits.substr(0, static_cast<std::size_t>(point)) + "." +
           digits.substr(static_cast<std::size_t>(point));
  }
  return out;
}

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return false;
    }
    i += len;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The parsed document as a graph: aliases stay references, so nothing is expanded while parsing.

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

int one_based(int zero_based) { return zero_based >= 0 ? zero_based + 1 : 0; }

Mark to_mark(const YAML::Mark& m) { return Mark{one_based(m.line), one_based(m.column)}; }

class GraphBuilder : public YAML::EventHandler {
 public:
  explicit GraphBuilder(const std::string& source) : source_(source) {}

  std::vector<RawNode> nodes;
  std::optional<std::size_t> root;
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
    const RawNode& target = nodes[n.target];
    // An alias to a node that is still open points at its own ancestor: a cycle.
    n.expanded_nodes = target.closed ? target.expanded_nodes : kUnbounded;
    n.expanded_height = target.closed ? target.expanded_height : kUnbounded;
    n.closed = true;
    add(std::move(n), YAML::NullAnchor);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    // yaml-cpp passes invalid bytes through; go-yaml (and so Helm) refuses them.
    if (!is_valid_utf8(value)) {
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
    nodes.back().block_map = style != YAML::EmitterStyle::Flow;
  }
  void OnMapEnd() override { close(); }

 private:
  const std::string& source_;
  std::vector<std::size_t> open_;
  std::unordered_map<YAML::anchor_t, std::size_t> anchors_;

  void add(RawNode node, YAML::anchor_t anchor) {
    if (!open_.empty()) check_key_has_colon(nodes[open_.back()], node);
    const std::size_t index = nodes.size();
    nodes.push_back(std::move(node));
    if (anchor != YAML::NullAnchor) anchors_[anchor] = index;
    if (open_.empty()) {
      root = index;
    } else {
      nodes[open_.back()].children.push_back(index);
    }
  }

  // yaml-cpp reads a block-map line without ':' (`foo` after `a: 1`) as the key of a null
  // value that it places at the key itself; YAML (and go-yaml) call that an error. An empty
  // value after a real ':' is placed after the colon, and `? key` puts the key after the `?`.
  void check_key_has_colon(const RawNode& map, const RawNode& value) const {
    if (map.kind != RawNode::Kind::Map || !map.block_map || map.children.size() % 2 == 0) return;
    const RawNode& key = nodes[map.children.back()];
    if (value.kind != RawNode::Kind::Null || key.kind == RawNode::Kind::Null ||
        value.mark.pos != key.mark.pos)
      return;
    const Mark m = to_mark(key.mark);
    std::string what = key.kind == RawNode::Kind::Scalar ? " after " + json(key.value).dump() : "";
    throw InputError(Diagnostic{source_, m.line, m.column, "",
                                "invalid YAML: could not find the expected ':'" + what +
                                    " (every line of a map is `key: value`)"});
  }

  void open(RawNode::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    RawNode n;
    n.kind = kind;
    n.mark = mark;
    add(std::move(n), anchor);
    open_.push_back(nodes.size() - 1);
  }

  // Children are complete (and so are the nodes their aliases point to, or those are open
  // ancestors), so the expanded size and height are known now.
  void close() {
    RawNode& n = nodes[open_.back()];
    std::size_t size = 1;
    std::size_t height = 0;
    for (std::size_t child : n.children) {
      size = add_saturating(size, nodes[child].expanded_nodes);
      height = std::max(height, nodes[child].expanded_height);
    }
    n.expanded_nodes = size;
    n.expanded_height = add_saturating(height, 1);
    n.closed = true;
    open_.pop_back();
  }
};

// ---------------------------------------------------------------------------------------------
// Graph → JSON, with Helm's typing and kjq's guards.

std::string json_quoted(std::string_view s) { return json(std::string(s)).dump(); }

// Removes the marks of `path` and of everything below it.
void erase_marks_under(SourceMarks& marks, const std::string& path) {
  marks.erase(path);
  for (const char sep : {'.', '['}) {
    const std::string prefix = path + sep;
    auto it = marks.lower_bound(prefix);
    while (it != marks.end() && it->first.compare(0, prefix.size(), prefix) == 0)
      it = marks.erase(it);
  }
}

class Converter {
 public:
  Converter(const std::vector<RawNode>& nodes, const std::string& source, const YamlLimits& limits,
            SourceMarks& marks)
      : nodes_(nodes), source_(source), limits_(limits), marks_(&marks) {}

  json convert_document(std::size_t root) {
    const RawNode& node = nodes_[root];
    if (node.expanded_nodes > limits_.max_nodes || node.expanded_height > limits_.max_depth) {
      // Converting up to the limit could mean millions of values first; find the error directly.
      std::size_t visited = 0;
      locate_limit_error(root, "", 0, visited);
    }
    return convert(root, "", 0);
  }

 private:
  const std::vector<RawNode>& nodes_;
  const std::string& source_;
  const YamlLimits& limits_;
  SourceMarks* marks_;
  std::size_t visited_ = 0;

  // Walks like convert() does, but steps over every subtree known to fit within the limits, so
  // it reaches the node where convert() would stop in time proportional to the document's size.
  void locate_limit_error(std::size_t index, const std::string& path, std::size_t depth,
                          std::size_t& visited) const {
    const RawNode& node = nodes_[index];
    if (node.kind == RawNode::Kind::Alias) {
      check_alias(node, path, depth, visited);
      visited += node.expanded_nodes;
      return;
    }
    const bool collection = node.kind == RawNode::Kind::Sequence || node.kind == RawNode::Kind::Map;
    if (collection && depth + 1 > limits_.max_depth) fail_depth(node.mark, path, false);
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
      const std::string key_path = path_key(path, key_string(key_node, path));
      if (fits(value, depth + 1))
        visited += nodes_[value].expanded_nodes;
      else
        locate_limit_error(value, key_path, depth + 1, visited);
    }
  }

  json convert(std::size_t index, const std::string& path, std::size_t depth) {
    const RawNode& node = nodes_[index];
    switch (node.kind) {
      case RawNode::Kind::Alias:
        return convert_alias(node, path, depth);
      case RawNode::Kind::Null:
        count(node, path);
        return nullptr;
      case RawNode::Kind::Scalar:
        count(node, path);
        return scalar_value(node, path);
      case RawNode::Kind::Sequence:
        return convert_sequence(node, path, depth);
      case RawNode::Kind::Map:
        return convert_map(node, path, depth);
    }
    return nullptr;
  }

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& path,
                         std::string message) const {
    const Mark m = to_mark(mark);
    throw InputError(Diagnostic{source_, m.line, m.column, path, std::move(message)});
  }

  [[noreturn]] void fail_depth(const YAML::Mark& mark, const std::string& path, bool cyclic) const {
    std::string message = "nesting deeper than " + std::to_string(limits_.max_depth) + " levels";
    if (cyclic) message += " (an alias refers to a node that contains it)";
    fail(mark, path, std::move(message));
  }

  [[noreturn]] void fail_budget(const YAML::Mark& mark, const std::string& path) const {
    fail(mark, path,
         "more than " + std::to_string(limits_.max_nodes) + " values once aliases are expanded");
  }

  void count(const RawNode& node, const std::string& path) {
    if (++visited_ > limits_.max_nodes) fail_budget(node.mark, path);
  }

  const RawNode& resolved(const RawNode& node) const {
    return node.kind == RawNode::Kind::Alias ? nodes_[node.target] : node;
  }

  // An alias is checked against both limits before it is walked, so an alias bomb or a cycle is
  // refused at once instead of after a billion steps (or a stack overflow).
  void check_alias(const RawNode& alias, const std::string& path, std::size_t depth,
                   std::size_t visited) const {
    if (alias.expanded_height == kUnbounded) fail_depth(alias.mark, path, true);
    if (depth + alias.expanded_height > limits_.max_depth) fail_depth(alias.mark, path, false);
    if (add_saturating(visited, alias.expanded_nodes) > limits_.max_nodes)
      fail_budget(alias.mark, path);
  }

  json convert_alias(const RawNode& alias, const std::string& path, std::size_t depth) {
    check_alias(alias, path, depth, visited_);
    return convert(alias.target, path, depth);
  }

  void enter_collection(const RawNode& node, const std::string& path, std::size_t depth) {
    if (depth + 1 > limits_.max_depth) fail_depth(node.mark, path, false);
    count(node, path);
  }

  json convert_sequence(const RawNode& node, const std::string& path, std::size_t depth) {
    enter_collection(node, path, depth);
    json out = json::array();
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      const std::string item_path = path_index(path, i);
      (*marks_)[item_path] = to_mark(nodes_[node.children[i]].mark);
      out.push_back(convert(node.children[i], item_path, depth + 1));
    }
    return out;
  }

  json convert_map(const RawNode& node, const std::string& path, std::size_t depth) {
    enter_collection(node, path, depth);
    json out = json::object();
    std::unordered_map<std::string, YAML::Mark> written;  // keys written explicitly in this map
    for (std::size_t i = 0; i + 1 < node.children.size(); i += 2) {
      const RawNode& key_node = nodes_[node.children[i]];
      const std::size_t value_index = node.children[i + 1];
      if (is_merge_key(key_node)) {
        merge_into(out, value_index, path, depth);
        continue;
      }
      count(key_node, path);
      const std::string key = key_string(key_node, path);
      const std::string key_path = path_key(path, key);
      if (auto [it, inserted] = written.emplace(key, key_node.mark); !inserted) {
        const Mark first = to_mark(it->second);
        fail(key_node.mark, key_path,
             "duplicate key " + json_quoted(key) + " (first defined at line " +
                 std::to_string(first.line) + ", column " + std::to_string(first.column) + ")");
      }
      erase_marks_under(*marks_, key_path);  // a merged value it replaces
      (*marks_)[key_path] = to_mark(key_node.mark);
      out[key] = convert(value_index, key_path, depth + 1);
    }
    return out;
  }

  // `<<: *base` (or a list of them) as go-yaml v2 does it: the merged map's keys are written in
  // document order, so they replace earlier keys and are replaced by later ones.
  static bool is_merge_key(const RawNode& key) {
    return key.kind == RawNode::Kind::Scalar && key.value == "<<" &&
           (key.tag == kPlainTag || key.tag == kTagMerge);
  }

  void merge_into(json& out, std::size_t value_index, const std::string& path, std::size_t depth) {
    const RawNode& value = nodes_[value_index];
    const RawNode& target = resolved(value);
    if (target.kind == RawNode::Kind::Sequence) {
      if (value.kind == RawNode::Kind::Alias) check_alias(value, path, depth, visited_);
      // Earlier maps in the list take precedence, so they are applied last.
      for (auto it = target.children.rbegin(); it != target.children.rend(); ++it)
        merge_one(out, *it, path, depth);
    } else {
      merge_one(out, value_index, path, depth);
    }
  }

  void merge_one(json& out, std::size_t index, const std::string& path, std::size_t depth) {
    if (resolved(nodes_[index]).kind != RawNode::Kind::Map)
      fail(nodes_[index].mark, path, "a merge key (<<) needs a map or a list of maps");
    SourceMarks merged_marks;
    SourceMarks* outer = std::exchange(marks_, &merged_marks);
    json merged = convert(index, path, depth);
    marks_ = outer;
    for (auto& [key, value] : merged.items()) {
      const std::string key_path = path_key(path, key);
      erase_marks_under(*marks_, key_path);
      out[key] = std::move(value);
    }
    marks_->merge(merged_marks);
  }

  // A map key is typed like a value, then spelled as sigs.k8s.io/yaml spells it.
  std::string key_string(const RawNode& key_node, const std::string& path) const {
    const RawNode& key = resolved(key_node);
    if (key.kind == RawNode::Kind::Sequence || key.kind == RawNode::Kind::Map)
      fail(key_node.mark, path, "a map or list cannot be a map key");
    if (key.kind == RawNode::Kind::Null) fail(key_node.mark, path, "a map key cannot be null");
    const Scalar s = type_scalar(key, path);
    switch (s.type) {
      case Scalar::Type::Null:
        fail(key_node.mark, path, "a map key cannot be null (" + json_quoted(key.value) + ")");
      case Scalar::Type::Bool:
        return s.boolean ? "true" : "false";
      case Scalar::Type::Int:
        return std::to_string(s.integer);
      case Scalar::Type::Uint:
        fail(key_node.mark, path,
             "map key " + key.value +
                 " is too large (Helm only supports integer keys up to 2^63-1)");
      case Scalar::Type::Float:
        return format_float_key(s.number);
      case Scalar::Type::String:
        break;
    }
    return typed_string(key, path);
  }

  json scalar_value(const RawNode& node, const std::string& path) const {
    const Scalar s = type_scalar(node, path);
    switch (s.type) {
      case Scalar::Type::Null:
        return nullptr;
      case Scalar::Type::Bool:
        return s.boolean;
      case Scalar::Type::Int:
        return static_cast<double>(s.integer);
      case Scalar::Type::Uint:
        return static_cast<double>(s.unsigned_integer);
      case Scalar::Type::Float:
        if (!std::isfinite(s.number))
          fail(node.mark, path,
               "value " + node.value +
                   " cannot be represented in JSON (infinity and NaN are refused, as Helm does)");
        return s.number;
      case Scalar::Type::String:
        break;
    }
    return typed_string(node, path);
  }

  // The text of a scalar that typed as a string (!!binary content is decoded, as go-yaml does).
  std::string typed_string(const RawNode& node, const std::string& path) const {
    if (node.tag != kTagBinary) return node.value;
    auto decoded = decode_base64(node.value);
    if (!decoded) fail(node.mark, path, "!!binary value is not valid base64");
    // Values become JSON text, which cannot carry arbitrary bytes.
    if (!is_valid_utf8(*decoded))
      fail(node.mark, path,
           "!!binary value decodes to bytes that are not valid UTF-8 (values must be text)");
    return *decoded;
  }

  // Plain scalars are typed implicitly; quoted and !!str ones are strings; !!int, !!float and
  // !!bool must resolve to that type (!!float accepts integers); other tags leave a string.
  Scalar type_scalar(const RawNode& node, const std::string& path) const {
    if (node.kind == RawNode::Kind::Null) return make_null();
    const std::string& tag = node.tag;
    if (tag == kPlainTag) return resolve_plain(node.value);
    if (tag == kTagNull) return make_null();
    Scalar::Type wanted;
    std::string_view short_tag;
    if (tag == kTagInt) {
      wanted = Scalar::Type::Int;
      short_tag = "!!int";
    } else if (tag == kTagFloat) {
      wanted = Scalar::Type::Float;
      short_tag = "!!float";
    } else if (tag == kTagBool) {
      wanted = Scalar::Type::Bool;
      short_tag = "!!bool";
    } else {
      return make_string();
    }
    Scalar s = resolve_plain(node.value);
    if (wanted == Scalar::Type::Float && s.type == Scalar::Type::Int)
      return make_float(static_cast<double>(s.integer));
    if (wanted == Scalar::Type::Float && s.type == Scalar::Type::Uint)
      return make_float(static_cast<double>(s.unsigned_integer));
    if (wanted == Scalar::Type::Int && s.type == Scalar::Type::Uint) return s;
    if (s.type != wanted)
      fail(node.mark, path,
           "cannot decode " + json_quoted(node.value) + " as " + std::string(short_tag));
    return s;
  }
};

// ---------------------------------------------------------------------------------------------

[[noreturn]] void fail_parse(const std::string& source, const YAML::Mark& mark,
                             std::string message) {
  const Mark m = mark.is_null() ? Mark{} : to_mark(mark);
  throw InputError(Diagnostic{source, m.line, m.column, "", std::move(message)});
}

void check_size(std::string_view text, const std::string& source, const YamlLimits& limits) {
  if (text.size() > limits.max_bytes)
    throw InputError(Diagnostic{source, 0, 0, "",
                                "input is " + std::to_string(text.size()) +
                                    " bytes, the limit is " + std::to_string(limits.max_bytes) +
                                    " bytes"});
}

bool has_utf16_bom(std::string_view text) {
  return text.size() >= 2 && ((text[0] == '\xFE' && text[1] == '\xFF') ||
                              (text[0] == '\xFF' && text[1] == '\xFE'));
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
    std::size_t len = b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : 2;
    if (i + len > text.size() || !is_valid_utf8(text.substr(i, len)))
      throw InputError(Diagnostic{source, line, column, "", "invalid UTF-8"});
    std::uint32_t cp = b0 & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    if ((cp >= 0x80 && cp <= 0x9F && cp != 0x85) || cp == 0xFFFE || cp == 0xFFFF) {
      char code[8];
      std::snprintf(code, sizeof code, "U+%04X", cp);
      throw InputError(Diagnostic{source, line, column, "",
                                  std::string("invalid YAML: control character ") + code +
                                      " is not allowed"});
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
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

void check_document_start(std::string_view text, const std::string& source,
                          const YAML::Mark& mark) {
  if (has_utf16_bom(text) || document_may_start_at(text, static_cast<std::size_t>(mark.pos)))
    return;
  fail_parse(source, mark,
             "invalid YAML: unexpected content after the end of the document (a second document "
             "must start with ---)");
}

// Parses documents one by one and hands each converted document to `sink` until it returns
// false. yaml-cpp's exceptions become InputErrors with 1-based positions.
template <typename Sink>
void for_each_document(std::string_view text, const std::string& source, const YamlLimits& limits,
                       Sink&& sink) {
  check_size(text, source, limits);
  // yaml-cpp skips a UTF-8 byte order mark without counting it in its positions.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  check_characters(text, source);
  std::istringstream in{std::string(text)};
  try {
    YAML::Parser parser(in);
    for (bool first = true;; first = false) {
      GraphBuilder graph(source);
      if (!parser.HandleNextDocument(graph)) return;
      if (!first) check_document_start(text, source, graph.start);
      YamlDocument doc;
      if (graph.root) {
        Converter converter(graph.nodes, source, limits, doc.marks);
        doc.value = converter.convert_document(*graph.root);
      }
      if (!sink(std::move(doc))) {
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

}  // namespace

YamlDocument parse_yaml(std::string_view text, const std::string& source_name,
                        const YamlLimits& limits) {
  // Like `helm -f`, only the first document counts.
  YamlDocument result;
  for_each_document(text, source_name, limits, [&](YamlDocument doc) {
    result = std::move(doc);
    return false;
  });
  return result;
}

std::vector<YamlDocument> parse_yaml_stream(std::string_view text, const std::string& source_name,
                                            const YamlLimits& limits) {
  std::vector<YamlDocument> docs;
  for_each_document(text, source_name, limits, [&](YamlDocument doc) {
    if (!doc.value.is_null()) docs.push_back(std::move(doc));
    return true;
  });
  return docs;
}

YamlDocument load_values_file(const std::filesystem::path& path, const YamlLimits& limits) {
  const std::string source = path.string();
  // Too large is bad input, not an I/O failure, so it is checked before read_file refuses it.
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > limits.max_bytes)
    throw InputError(Diagnostic{source, 0, 0, "",
                                "file is " + std::to_string(size) + " bytes, the limit is " +
                                    std::to_string(limits.max_bytes) + " bytes"});
  const std::string text = read_file(path, limits.max_bytes);
  YamlDocument doc = parse_yaml(text, source, limits);
  if (doc.value.is_null()) {
    doc.value = json::object();
  } else if (!doc.value.is_object()) {
    throw InputError(
        Diagnostic{source, 1, 1, "",
                   std::string("expected a map at the top level, got ") + doc.value.type_name()});
  }
  return doc;
}

}  // namespace kjq::values

#include "values/yaml_loader.hpp"

#include <system_error>
#include <utility>

#include "util/atomic_file.hpp"
#include "util/diagnostic.hpp"
#include "util/value_path.hpp"
#include "values/yaml_graph.hpp"
#include "values/yaml_scalars.hpp"

// The converter: a document's graph → JSON and the marks of every values path. Reading the text
// and the guards are in yaml_graph.cpp, the typing of scalars in yaml_scalars.cpp.

namespace kjq::values {

namespace {

using nlohmann::json;
using yaml::RawNode;

// Removes the marks of `path` and of everything below it.
void erase_marks_under(SourceMarks& marks, const std::string& path) {
  marks.erase(path);
  for (const char sep : {'.', '['}) {
    const std::string prefix = path + sep;
    auto it = marks.lower_bound(prefix);
    while (it != marks.end() && it->first.compare(0, prefix.size(), prefix) == 0) it = marks.erase(it);
  }
}

class Converter {
 public:
  Converter(const std::vector<RawNode>& nodes, const std::string& source, const YamlLimits& limits, SourceMarks& marks)
      : nodes_(nodes), walk_(nodes, source, limits), marks_(&marks) {}

  json convert_document(std::size_t root) {
    walk_.check_document(root);
    return convert(root, "", 0);
  }

 private:
  const std::vector<RawNode>& nodes_;
  yaml::GraphWalk walk_;
  SourceMarks* marks_;

  json convert(std::size_t index, const std::string& path, std::size_t depth) {
    const RawNode& node = nodes_[index];
    switch (node.kind) {
      case RawNode::Kind::Alias:
        walk_.check_alias(node, path, depth);
        return convert(node.target, path, depth);
      case RawNode::Kind::Null:
        walk_.count(node, path);
        return nullptr;
      case RawNode::Kind::Scalar:
        walk_.count(node, path);
        return scalar_value(node, path);
      case RawNode::Kind::Sequence:
        return convert_sequence(node, path, depth);
      case RawNode::Kind::Map:
        return convert_map(node, path, depth);
    }
    return nullptr;
  }

  json convert_sequence(const RawNode& node, const std::string& path, std::size_t depth) {
    walk_.enter_collection(node, path, depth);
    json out = json::array();
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      const std::string item_path = path_index(path, i);
      (*marks_)[item_path] = yaml::to_mark(nodes_[node.children[i]].mark);
      out.push_back(convert(node.children[i], item_path, depth + 1));
    }
    return out;
  }

  json convert_map(const RawNode& node, const std::string& path, std::size_t depth) {
    walk_.enter_collection(node, path, depth);
    json out = json::object();
    yaml::DuplicateKeys written;  // keys written explicitly in this map
    for (std::size_t i = 0; i + 1 < node.children.size(); i += 2) {
      const RawNode& key_node = nodes_[node.children[i]];
      const std::size_t value_index = node.children[i + 1];
      if (yaml::is_merge_key(key_node)) {
        merge_into(out, value_index, path, depth);
        continue;
      }
      walk_.count(key_node, path);
      const std::string key = walk_.key_of(key_node, path);
      const std::string key_path = path_key(path, key);
      written.add(key, key_node.mark, key_path, walk_);
      // One lookup in the map for both the test and the write (convert leaves `out` alone).
      auto& members = out.get_ref<json::object_t&>();
      auto it = members.lower_bound(key);
      const bool replaces = it != members.end() && it->first == key;
      if (replaces) erase_marks_under(*marks_, key_path);  // a merged value it replaces
      marks_->insert_or_assign(key_path, yaml::to_mark(key_node.mark));
      json value = convert(value_index, key_path, depth + 1);
      if (replaces) {
        it->second = std::move(value);
      } else {
        members.emplace_hint(it, key, std::move(value));
      }
    }
    return out;
  }

  // `<<: *base` (or a list of them) as go-yaml v2 does it: the merged map's keys are written in
  // document order, so they replace earlier keys and are replaced by later ones.
  void merge_into(json& out, std::size_t value_index, const std::string& path, std::size_t depth) {
    const RawNode& value = nodes_[value_index];
    const RawNode& target = walk_.resolved(value);
    if (target.kind == RawNode::Kind::Sequence) {
      if (value.kind == RawNode::Kind::Alias) walk_.check_alias(value, path, depth);
      // Earlier maps in the list take precedence, so they are applied last.
      for (auto it = target.children.rbegin(); it != target.children.rend(); ++it) merge_one(out, *it, path, depth);
    } else {
      merge_one(out, value_index, path, depth);
    }
  }

  void merge_one(json& out, std::size_t index, const std::string& path, std::size_t depth) {
    if (walk_.resolved(nodes_[index]).kind != RawNode::Kind::Map)
      walk_.fail(nodes_[index].mark, path, "a merge key (<<) needs a map or a list of maps");
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

  json scalar_value(const RawNode& node, const std::string& path) const {
    try {
      return yaml::scalar_json(node.value, node.tag);
    } catch (const yaml::ScalarError& e) {
      walk_.fail(node.mark, path, e.what());
    }
  }
};

void check_size(std::string_view text, const std::string& source, const YamlLimits& limits) {
  if (text.size() > limits.max_bytes)
    throw InputError(Diagnostic{source, 0, 0, "",
                                "input is " + std::to_string(text.size()) + " bytes, the limit is " +
                                    std::to_string(limits.max_bytes) + " bytes"});
}

// Converts documents one by one and hands each to `sink` until it returns false.
bool is_utf16(std::string_view text) {
  return text.size() >= 2 && ((text[0] == '\xFE' && text[1] == '\xFF') || (text[0] == '\xFF' && text[1] == '\xFE'));
}

template <typename Sink>
void for_each_document(std::string_view text, const std::string& source, const YamlLimits& limits, Sink&& sink) {
  check_size(text, source, limits);
  yaml::for_each_graph(text, source, limits, [&](const yaml::Graph& graph) {
    YamlDocument doc;
    if (graph.root) {
      Converter converter(graph.nodes, source, limits, doc.marks);
      doc.value = converter.convert_document(*graph.root);
    }
    // UTF-16 input (with its byte order mark) is decoded by yaml-cpp, which passes a malformed
    // surrogate through as bytes that are not UTF-8; found by fuzz/fuzz_values_yaml. Such a
    // value would make every later step fail, so it is refused here, as bad input.
    if (is_utf16(text)) {
      try {
        (void)doc.value.dump();
      } catch (const json::type_error&) {
        throw InputError(Diagnostic{source, 0, 0, "", "invalid UTF-16: a value does not decode to Unicode text"});
      }
    }
    return sink(std::move(doc));
  });
}

}  // namespace

YamlDocument parse_yaml(std::string_view text, const std::string& source_name, const YamlLimits& limits) {
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
    throw InputError(Diagnostic{
        source, 0, 0, "",
        "file is " + std::to_string(size) + " bytes, the limit is " + std::to_string(limits.max_bytes) + " bytes"});
  const std::string text = read_file(path, limits.max_bytes);
  YamlDocument doc = parse_yaml(text, source, limits);
  if (doc.value.is_null()) {
    doc.value = json::object();
  } else if (!doc.value.is_object()) {
    throw InputError(
        Diagnostic{source, 1, 1, "", std::string("expected a map at the top level, got ") + doc.value.type_name()});
  }
  return doc;
}

}  // namespace kjq::values

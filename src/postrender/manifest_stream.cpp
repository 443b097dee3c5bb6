#include "postrender/manifest_stream.hpp"

#include <cmath>

#include "output/go_json.hpp"
#include "output/yaml_emitter.hpp"
#include "util/diagnostic.hpp"
#include "util/file_read.hpp"

namespace kjq::postrender {

using nlohmann::json;

namespace {

constexpr std::string_view kSourcePrefix = "# Source: ";

Diagnostic stream_problem(int line, std::string path, std::string message) {
  return Diagnostic{kStdinName, line, 0, std::move(path), std::move(message)};
}

// A line that starts a document: "---" alone or followed by a space or tab.
bool is_separator(std::string_view line) {
  if (line.substr(0, 3) != "---") return false;
  return line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r';
}

struct Chunk {
  std::string_view text;
  int line = 1;  // of text's first line in the stream
};

std::vector<Chunk> split_documents(std::string_view text) {
  std::vector<Chunk> chunks;
  std::size_t start = 0;
  int start_line = 1;
  std::size_t pos = 0;
  int line = 1;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    if (pos != start && is_separator(text.substr(pos, end - pos))) {
      chunks.push_back({text.substr(start, pos - start), start_line});
      start = pos;
      start_line = line;
    }
    pos = end + 1;
    ++line;
  }
  if (start < text.size()) chunks.push_back({text.substr(start), start_line});
  return chunks;
}

// The "# Source:" comment among the comments before the document's content.
std::string source_comment(std::string_view chunk) {
  std::size_t pos = 0;
  while (pos < chunk.size()) {
    std::size_t end = chunk.find('\n', pos);
    if (end == std::string_view::npos) end = chunk.size();
    std::string_view line = chunk.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, kSourcePrefix.size()) == kSourcePrefix) return std::string(line.substr(kSourcePrefix.size()));
    if (!line.empty() && line[0] != '#' && !is_separator(line)) break;
    pos = end + 1;
  }
  return {};
}

// Lines in a document's diagnostics are counted from the document; the stream's are wanted.
[[noreturn]] void rethrow_in_stream(const InputError& e, int first_line) {
  std::vector<Diagnostic> shifted = e.diagnostics();
  for (auto& d : shifted) {
    d.file = kStdinName;
    if (d.line > 0) d.line += first_line - 1;
  }
  throw InputError(std::move(shifted));
}

void check_object_shape(const json& object, int line) {
  if (!object.is_object()) {
    throw InputError(stream_problem(
        line, "",
        std::string("expected a Kubernetes object (a map), got ") + (object.is_array() ? "a list" : "a scalar")));
  }
  std::vector<Diagnostic> problems;
  for (const char* field : {"apiVersion", "kind"}) {
    auto it = object.find(field);
    if (it == object.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
      problems.push_back(
          stream_problem(line, field, "expected a non-empty string (every object Helm installs has one)"));
    }
  }
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) {
    problems.push_back(stream_problem(line, "metadata", "expected a map with the object's name"));
  } else if (auto name = meta->find("name");
             name == meta->end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    problems.push_back(stream_problem(line, "metadata.name", "expected a non-empty string"));
  }
  if (!problems.empty()) throw InputError(std::move(problems));
}

// Numbers are read as Helm reads values, as doubles; beyond 2^53 a double no longer holds every
// integer, so such a number would come out changed. Refused rather than changed.
constexpr double kLargestExactInteger = 9007199254740992.0;  // 2^53

void check_numbers(const json& value, const std::string& path, int line) {
  if (value.is_number_float() && std::fabs(value.get<double>()) >= kLargestExactInteger) {
    throw InputError(stream_problem(line, path,
                                    "the number " + output::to_go_json(value) +
                                        " is too large to keep exactly (kjq holds numbers as doubles, exact up "
                                        "to 2^53): quote it if it is text"));
  }
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) check_numbers(item, path.empty() ? key : path + "." + key, line);
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) check_numbers(value[i], path + "[" + std::to_string(i) + "]", line);
  }
}

}  // namespace

std::string object_label(const json& object) {
  auto text = [](const json& v) { return v.is_string() ? v.get<std::string>() : std::string("?"); };
  const json& meta = object.is_object() && object.contains("metadata") ? object["metadata"] : json();
  return text(object.is_object() && object.contains("kind") ? object["kind"] : json()) + "/" +
         text(meta.is_object() && meta.contains("name") ? meta["name"] : json());
}

std::vector<StreamDocument> read_manifest_stream(std::string_view text, const StreamLimits& limits) {
  if (text.size() > limits.max_bytes) {
    throw InputError(stream_problem(0, "", "the stream is larger than " + describe_byte_limit(limits.max_bytes)));
  }
  if (auto nul = find_nul_byte(text)) {
    throw InputError(stream_problem(0, "", "a NUL byte at offset " + std::to_string(*nul) + ": not YAML text"));
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw InputError(stream_problem(0, "", "the stream is empty: Helm rendered no object, or nothing was piped in"));
  }
  if (text.back() != '\n') {
    throw InputError(stream_problem(0, "",
                                    "the stream does not end with a newline: it looks cut short (Helm ends "
                                    "every document with one)"));
  }
  std::vector<StreamDocument> documents;
  for (const auto& chunk : split_documents(text)) {
    values::YamlDocument parsed;
    try {
      parsed = values::parse_yaml(chunk.text, kStdinName, limits.document);
    } catch (const InputError& e) {
      rethrow_in_stream(e, chunk.line);
    }
    if (parsed.value.is_null()) continue;  // only comments or blank lines
    check_object_shape(parsed.value, chunk.line);
    check_numbers(parsed.value, "", chunk.line);
    if (documents.size() == limits.max_documents) {
      throw InputError(stream_problem(chunk.line, "",
                                      "more than " + std::to_string(limits.max_documents) + " objects in the stream"));
    }
    documents.push_back({source_comment(chunk.text), chunk.line, std::move(parsed.value)});
  }
  if (documents.empty()) {
    throw InputError(stream_problem(0, "", "the stream holds no object (only comments or empty documents)"));
  }
  return documents;
}

std::string write_manifest_stream(const std::vector<StreamDocument>& documents) {
  std::string out;
  for (const auto& document : documents) {
    out += "---\n";
    if (!document.source.empty()) {
      out += kSourcePrefix;
      out += document.source;
      out += '\n';
    }
    output::append_yaml(out, document.object);
  }
  return out;
}

}  // namespace kjq::postrender

#pragma once
// The multi-document YAML stream Helm hands a post-renderer (and prints for `helm template`):
// `---` separators, a `# Source: <chart>/templates/<file>` comment per document, any order.
// Read with the values' YAML guards (size, depth, aliases, duplicate keys) and Helm's typing;
// written back as kjq's YAML, each document keeping its `# Source:` line.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "values/yaml_loader.hpp"

namespace kjq::postrender {

// What stdin may hold. A chart with 1,000 job queues renders about 6 MB.
struct StreamLimits {
  std::size_t max_bytes = 64u << 20;   // the whole stream
  std::size_t max_documents = 10'000;  // objects in it
  values::YamlLimits document;         // each document (size, nesting, nodes after aliases)
  StreamLimits() { document.max_bytes = 16u << 20; }
};

struct StreamDocument {
  std::string source;  // the "# Source:" path ("" when the document had none)
  int line = 0;        // 1-based line of the document's first line in the stream
  nlohmann::json object;
};

// The name errors give the stream.
inline constexpr const char* kStdinName = "<stdin>";

// Every non-empty document, in order. Throws kjq::InputError (naming <stdin>, the line and the
// path inside the object) for: an empty stream, a stream that does not end with a newline
// (Helm ends every document with one, so a cut stream usually does not), invalid YAML, a
// document that is not a map with string apiVersion, kind and metadata.name, a number too large
// to keep exactly (2^53 and above: numbers are doubles, as in Helm's values), and anything over
// the limits.
std::vector<StreamDocument> read_manifest_stream(std::string_view text, const StreamLimits& limits = {});

// "---\n# Source: ...\n<yaml>" for every document, as `kubectl apply -f -` and Helm read it.
std::string write_manifest_stream(const std::vector<StreamDocument>& documents);

// "Deployment/nautobot-default": how messages name an object.
std::string object_label(const nlohmann::json& object);

}  // namespace kjq::postrender

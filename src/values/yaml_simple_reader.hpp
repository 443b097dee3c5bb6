#pragma once
// A fast reader for the YAML that values files are almost always written in: one document of
// block maps and lists, one-line plain and quoted scalars, and one-line flow collections.
// yaml-cpp 0.7's regex-driven scanner spends about 2,000 instructions per byte; this reader
// builds the very graph yaml-cpp's events would (same nodes, tags, marks), or gives up and
// leaves the text to yaml-cpp. It gives up on anything it does not fully understand (anchors,
// tags, block scalars, multi-line scalars, `?` keys, several documents, tabs, CR, escapes, and
// every error), so errors and rare constructs always get yaml-cpp's reading and messages.
// Internal to kjq_values.
#include <optional>
#include <string_view>

#include "values/yaml_graph.hpp"

namespace kjq::values::yaml {

// The graph of `text` (already checked by for_each_graph for characters and a byte order mark),
// or nullopt when yaml-cpp must read it.
std::optional<Graph> read_simple_document(std::string_view text);

}  // namespace kjq::values::yaml

#pragma once
// Server-side printing: the meta.k8s.io Table (v1 or v1beta1) that kubectl asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, with the columns kube-apiserver's
// printers give each resource (wide columns included, as the server always does), and the
// row objects `includeObject` asks for.
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "resource_registry.hpp"

namespace kjq::emulator {

// The Table version the first acceptable Accept clause asks for: "v1" or "v1beta1", or "" when
// that clause asks for a plain object (application/json, */*, ...). Clauses with q=0 and
// transformations the emulator does not serve (e.g. as=PartialObjectMetadata) are skipped.
std::string table_version_for_accept(const std::string& accept);
// The Content-Type of a Table answer, e.g. "application/json;as=Table;v=v1;g=meta.k8s.io".
std::string table_content_type(const std::string& table_version);

struct TableOptions {
  std::string version = "v1";               // meta.k8s.io version of the Table
  std::string include_object = "Metadata";  // None, Object or Metadata (the default)
  bool no_headers = false;                  // omit columnDefinitions (watch events after the first)
};
// Validates `includeObject` (400 "Unable to convert to Table as requested: ..." otherwise) when
// `table_version` is not "" (kube-apiserver ignores it when no Table is asked for).
TableOptions make_table_options(const std::string& table_version, const std::string& include_object);

// The column definitions of a resource's Table.
nlohmann::json table_columns(const ResourceType& type);
// One row: its cells (and conditions, for finished pods) and the object `includeObject` asks for.
nlohmann::json table_row(const ResourceType& type, const nlohmann::json& object, const TableOptions& options,
                         std::chrono::system_clock::time_point now);
// A Table of `objects`; `list_metadata` becomes its metadata (resourceVersion, continue, ...).
nlohmann::json make_table(const ResourceType& type, const std::vector<nlohmann::json>& objects,
                          const nlohmann::json& list_metadata, const TableOptions& options);

// Go's duration.HumanDuration: "45s", "3m20s", "12m", "5h3m", "3d4h", "2y30d" ...
std::string human_duration(std::chrono::system_clock::duration d);

}  // namespace kjq::emulator

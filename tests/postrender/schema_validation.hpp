#pragma once
// tests/schema/validate.mjs (npm kubernetes-models) over objects kjq post-render printed.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "output/go_json.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

namespace kjq::test {

inline std::filesystem::path schema_dir() { return std::filesystem::path(KJQ_SOURCE_DIR) / "tests" / "schema"; }

// False when the validator's packages are not installed (scripts/install-test-tools.sh).
inline bool schema_validator_installed() {
  return std::filesystem::exists(schema_dir() / "node_modules" / "kubernetes-models");
}

// validate.mjs's exit code and its report (one line per object) for a JSON array of objects.
inline ProcessResult validate_schemas(const nlohmann::json& objects) {
  TempDir tmp;
  const auto file = tmp.write("objects.json", output::to_go_json(objects));
  return run_process({"/usr/bin/env", "node", (schema_dir() / "validate.mjs").string(), file.string()});
}

}  // namespace kjq::test

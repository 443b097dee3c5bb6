#pragma once
// Shared by the Celery, wiring and schema tests of this folder: render a fixture case, pick
// objects out of a render, compare with golden files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "chart/render.hpp"
#include "output/go_json.hpp"
#include "support/test_support.hpp"

namespace kjq::test::celery {

inline chart::RenderedChart render_dir(const std::filesystem::path& dir, std::vector<std::string> set = {}) {
  values::ValuesOptions options;
  options.files.push_back(dir / "values.yaml");
  options.set = std::move(set);
  auto doc = values::load_values(options);
  return chart::render_chart(doc, release_from_json(read_json(dir / "release.json")));
}

inline chart::RenderedChart render_yaml(const std::string& yaml, std::vector<std::string> set = {}) {
  chart::Release release;
  release.managed_by = "Helm";
  return chart::render_chart(values_from_yaml(yaml, "values.yaml", std::move(set)), release);
}

inline std::vector<nlohmann::json> of_kind(const std::vector<nlohmann::json>& objects, const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& o : objects) {
    if (o["kind"] == kind) out.push_back(o);
  }
  return out;
}

inline const nlohmann::json* find(const std::vector<nlohmann::json>& objects, const std::string& kind,
                                  const std::string& name) {
  for (const auto& o : objects) {
    if (o["kind"] == kind && o["metadata"]["name"] == name) return &o;
  }
  return nullptr;
}

inline std::vector<std::string> dir_names(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Byte-for-byte comparison with a golden file; KJQ_UPDATE_GOLDEN=1 rewrites it instead.
inline void expect_golden(const std::filesystem::path& file, const std::string& actual) {
  if (const char* update = std::getenv("KJQ_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    std::ofstream(file, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(file)) << file << " missing: run with KJQ_UPDATE_GOLDEN=1 and review it";
  EXPECT_EQ(actual, read_text(file)) << "golden file " << file;
}

}  // namespace kjq::test::celery

#pragma once
// Helpers shared by kjq's tests: temporary directories, fixture files, loading values from text.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chart/release.hpp"
#include "values/values_document.hpp"

namespace kjq::test {

// A fresh directory under $TMPDIR, removed when the object goes out of scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path path_;
};

std::string read_text(const std::filesystem::path& path);
nlohmann::json read_json(const std::filesystem::path& path);
std::filesystem::path fixtures_dir();

// Values from YAML text, loaded through a real file named `name` (so errors carry it).
values::ValuesDocument values_from_yaml(const std::string& yaml, const std::string& name = "values.yaml",
                                        std::vector<std::string> set = {});

// release.json of an acceptance case → Release, managed by Helm (reproduces the chart's labels).
chart::Release release_from_json(const nlohmann::json& release);

// Recursively drops null members of objects: a null field in the reference equals an absent one.
nlohmann::json without_nulls(nlohmann::json value);

}  // namespace kjq::test

#include "support/test_support.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace kjq::test {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "kjq-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::write(const std::string& name, const std::string& content) const {
  auto file = path_ / name;
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << content;
  return file;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

nlohmann::json read_json(const std::filesystem::path& path) { return nlohmann::json::parse(read_text(path)); }

std::filesystem::path fixtures_dir() { return KJQ_FIXTURES_DIR; }

values::ValuesDocument values_from_yaml(const std::string& yaml, const std::string& name,
                                        std::vector<std::string> set) {
  TempDir dir;
  values::ValuesOptions options;
  options.files.push_back(dir.write(name, yaml));
  options.set = std::move(set);
  auto doc = values::load_values(options);
  // Report the bare name in diagnostics, not the temporary path.
  for (auto& source : doc.sources) {
    if (source.name == options.files[0].string()) source.name = name;
  }
  return doc;
}

chart::Release release_from_json(const nlohmann::json& release) {
  chart::Release r;
  r.name = release.at("name").get<std::string>();
  r.namespace_ = release.at("namespace").get<std::string>();
  r.chart_version = release.at("chartVersion").get<std::string>();
  r.app_version = release.at("appVersion").get<std::string>();
  r.managed_by = "Helm";
  return r;
}

nlohmann::json without_nulls(nlohmann::json value) {
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto& [key, child] : value.items()) {
      if (!child.is_null()) out[key] = without_nulls(child);
    }
    return out;
  }
  if (value.is_array()) {
    for (auto& child : value) child = without_nulls(child);
  }
  return value;
}

}  // namespace kjq::test

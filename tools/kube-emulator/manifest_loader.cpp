#include "manifest_loader.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "util/diagnostic.hpp"

namespace kjq::emulator {

using nlohmann::json;

namespace {

json scalar_to_json(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return s;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s == "null" || s == "~" || s == "Null" || s == "NULL") return nullptr;
  // [-+]?[0-9]+ (std::regex trips GCC 12's -Wmaybe-uninitialized at -O2)
  std::size_t digits = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (s.size() > digits && s.find_first_not_of("0123456789", digits) == std::string::npos) {
    try {
      return std::stoll(s);
    } catch (...) {
      return s;
    }
  }
  return s;
}

json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      json a = json::array();
      for (const auto& item : node) a.push_back(to_json(item));
      return a;
    }
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : node) o[kv.first.as<std::string>()] = to_json(kv.second);
      return o;
    }
  }
  return nullptr;
}

}  // namespace

std::vector<json> load_manifest_stream(const std::string& text, const std::string& origin) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    throw kjq::InputError(kjq::Diagnostic{origin, e.mark.line + 1, e.mark.column + 1, "", e.msg});
  }
  std::vector<json> out;
  for (const auto& d : docs) {
    json j = to_json(d);
    if (!j.is_object()) continue;
    std::string kind = j.value("kind", "");
    if (kind.size() >= 4 && kind.compare(kind.size() - 4, 4, "List") == 0 && j.contains("items")) {
      for (auto& item : j["items"])
        if (item.is_object()) out.push_back(item);
    } else {
      out.push_back(std::move(j));
    }
  }
  return out;
}

std::vector<json> load_manifest_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw kjq::InputError(kjq::Diagnostic{path, 0, 0, "", "cannot read file"});
  std::stringstream ss;
  ss << in.rdbuf();
  return load_manifest_stream(ss.str(), path);
}

}  // namespace kjq::emulator

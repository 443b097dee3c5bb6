#pragma once
// Go/Helm scalar typing: how go-yaml v2 (which `helm -f` uses) types a YAML scalar, and how
// sigs.k8s.io/yaml then spells it in JSON. Internal to kjq_values (see yaml_loader.hpp for the
// rules as users see them).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kjq::values::yaml {

// yaml-cpp's tags: "?" for a plain scalar, "!" for a quoted one, else the resolved tag.
inline constexpr std::string_view kTagStr = "tag:yaml.org,2002:str";
inline constexpr std::string_view kTagInt = "tag:yaml.org,2002:int";
inline constexpr std::string_view kTagFloat = "tag:yaml.org,2002:float";
inline constexpr std::string_view kTagBool = "tag:yaml.org,2002:bool";
inline constexpr std::string_view kTagNull = "tag:yaml.org,2002:null";
inline constexpr std::string_view kTagMerge = "tag:yaml.org,2002:merge";
inline constexpr std::string_view kTagBinary = "tag:yaml.org,2002:binary";
inline constexpr std::string_view kPlainTag = "?";

// A scalar that cannot be typed; the caller knows the file, position and values path to add.
class ScalarError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The JSON value of a scalar: null, a boolean, a double (every number), or a string.
// Throws ScalarError (e.g. `!!int abc`, `.inf`, bad or non-UTF-8 `!!binary`).
nlohmann::json scalar_json(const std::string& value, std::string_view tag);

// A map key: typed like a value, then spelled as sigs.k8s.io/yaml spells it (`off` → "false",
// `0x1F` → "31", `1.5` → "1.5"). Throws ScalarError for null and too-large integer keys.
std::string scalar_key(const std::string& value, std::string_view tag);

}  // namespace kjq::values::yaml

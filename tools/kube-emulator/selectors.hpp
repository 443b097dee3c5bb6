#pragma once
// Label selectors (equality- and set-based) and field selectors (`a.b=v`, `a.b!=v`) as the
// API server understands them in `?labelSelector=` and `?fieldSelector=`.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "labels.hpp"

namespace kjq::emulator {

class LabelSelector {
 public:
  // Throws ApiError(400) on a malformed selector. "" selects everything.
  static LabelSelector parse(const std::string& text);
  // From a metav1.LabelSelector object (matchLabels / matchExpressions).
  static LabelSelector from_object(const nlohmann::json& selector);
  bool matches(const nlohmann::json& labels) const;  // labels: object or null
  bool matches(const Labels& labels) const;
  bool empty() const { return requirements_.empty(); }

 private:
  enum class Op { Equals, NotEquals, In, NotIn, Exists, DoesNotExist };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };
  std::vector<Requirement> requirements_;
  template <typename Lookup>
  bool matches_with(const Lookup& lookup) const;
};

class FieldSelector {
 public:
  static FieldSelector parse(const std::string& text);
  bool matches(const nlohmann::json& object) const;
  bool empty() const { return requirements_.empty(); }
  // True when every requirement is on metadata.name or metadata.namespace.
  bool only_name_and_namespace() const;
  // A cheap necessary condition on an object's JSON text: every `path=value` requirement's value
  // occurs in it. Lets a list skip parsing the objects that cannot match (events by
  // involvedObject.name among tens of thousands).
  bool may_match_text(const std::string& text) const;
  // The value a `path=value` (or `==`) requirement demands, when there is one.
  std::optional<std::string> required_value(const std::string& path) const;

 private:
  struct Requirement {
    std::string path;  // metadata.name, status.phase, involvedObject.uid, ...
    bool negate;
    std::string value;
  };
  std::vector<Requirement> requirements_;
};

// The string value at a dotted path ("" when absent; numbers and booleans in their JSON form).
std::string field_value(const nlohmann::json& object, const std::string& dotted_path);

}  // namespace kjq::emulator

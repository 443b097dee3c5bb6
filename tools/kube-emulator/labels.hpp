#pragma once
// An object's labels, kept flat in one string ("key\0value\0key\0value\0"): tens of thousands of
// stored objects each held a JSON map of five or so labels, about 800 bytes apiece; this is the
// text alone. Lookups scan, which is as fast as a map for the handful of labels objects carry.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace kjq::emulator {

class Labels {
 public:
  Labels() = default;
  // From metadata.labels (an object; anything else means no labels). Non-string values are skipped.
  explicit Labels(const nlohmann::json& labels);
  // The value of `key`, or nullopt.
  std::optional<std::string_view> find(std::string_view key) const;
  bool empty() const { return flat_.empty(); }

 private:
  std::string flat_;
};

}  // namespace kjq::emulator

#include "labels.hpp"

namespace kjq::emulator {

Labels::Labels(const nlohmann::json& labels) {
  if (!labels.is_object()) return;
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    if (!it->is_string()) continue;
    flat_ += it.key();
    flat_ += '\0';
    flat_ += it->get_ref<const std::string&>();
    flat_ += '\0';
  }
  flat_.shrink_to_fit();
}

std::optional<std::string_view> Labels::find(std::string_view key) const {
  std::string_view rest = flat_;
  while (!rest.empty()) {
    const auto k_end = rest.find('\0');
    const auto v_end = rest.find('\0', k_end + 1);
    if (rest.substr(0, k_end) == key) return rest.substr(k_end + 1, v_end - k_end - 1);
    rest.remove_prefix(v_end + 1);
  }
  return std::nullopt;
}

}  // namespace kjq::emulator

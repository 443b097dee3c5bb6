// libFuzzer target: `--set` and `--set-string` expressions applied onto a values tree.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/diagnostic.hpp"
#include "values/set_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Each line is one expression, applied in turn to the same tree (as repeated --set flags are).
  nlohmann::json values = nlohmann::json::object();
  while (!text.empty()) {
    const auto nl = text.find('\n');
    const std::string_view expression = text.substr(0, nl);
    const auto typing = !expression.empty() && expression.front() == '$' ? kjq::values::SetTyping::String
                                                                         : kjq::values::SetTyping::Typed;
    try {
      kjq::values::apply_set_expression(values, expression, typing);
    } catch (const kjq::InputError&) {
    }
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  (void)values.dump();
  return 0;
}

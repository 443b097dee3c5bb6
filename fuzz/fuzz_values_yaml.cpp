// libFuzzer target: a values file, as `kjq render -f` reads it. Anything may be refused with an
// InputError; nothing may crash, hang, leak or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "util/diagnostic.hpp"
#include "values/yaml_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto doc = kjq::values::parse_yaml(text, "fuzz.yaml");
    (void)doc.value.dump();  // the converted tree must be walkable
  } catch (const kjq::InputError&) {
  }
  try {
    (void)kjq::values::parse_yaml_stream(text, "fuzz.yaml");
  } catch (const kjq::InputError&) {
  }
  return 0;
}

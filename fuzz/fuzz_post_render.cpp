// libFuzzer target: a stream as Helm hands it to `kjq post-render` (the chart's rendered objects).
// Anything may be refused with an InputError; nothing may crash, hang, leak or read out of bounds,
// and what is accepted must be accepted again, unchanged, when fed back in.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "postrender/post_render.hpp"
#include "util/diagnostic.hpp"
#include "values/values_document.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const kjq::values::ValuesDocument doc = kjq::values::values_from_json(nlohmann::json::object(), "fuzz");
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  kjq::postrender::PostRenderOptions options;
  options.limits.max_bytes = 1 << 20;
  try {
    const auto first = kjq::postrender::post_render(text, doc, options);
    if (kjq::postrender::post_render(first.output, doc, options).output != first.output) std::abort();
  } catch (const kjq::InputError&) {
  }
  options.kustomize_patches = true;
  try {
    (void)kjq::postrender::post_render(text, doc, options);
  } catch (const kjq::InputError&) {
  }
  return 0;
}

// libFuzzer target: a watch stream as the API server (or anything in between) might send it,
// cut into chunks at the positions the first bytes choose.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kube/watch_decoder.hpp"
#include "util/diagnostic.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  kjq::kube::WatchDecoder decoder("watch jobs", nullptr, kjq::JsonLimits{1 << 16, 64});
  try {
    while (!stream.empty()) {
      const auto piece = stream.substr(0, chunk);
      stream.remove_prefix(piece.size());
      decoder.feed(piece, [](nlohmann::json& ev) {
        (void)ev.dump();
        return ev.size() != 7;  // sometimes ask to stop, as a caller may
      });
    }
  } catch (const kjq::RuntimeError&) {
  }
  return 0;
}

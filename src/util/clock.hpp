#pragma once
// Wall-clock milliseconds since the Unix epoch: the store's unit of time.
#include <chrono>
#include <cstdint>

namespace kjq::server {

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace kjq::server

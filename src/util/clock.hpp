#pragma once
// Wall-clock milliseconds since the Unix epoch: the unit of time of kjq serve and its store.
#include <chrono>
#include <cstdint>

namespace kjq {

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace kjq

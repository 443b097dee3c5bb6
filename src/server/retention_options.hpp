#pragma once
// The limits of retention (server/retention.hpp), apart from the pruner so ServeOptions can hold
// them without pulling in the store and the metrics.
#include <chrono>
#include <cstdint>
#include <optional>

namespace kjq::server {

struct RetentionOptions {
  std::optional<std::chrono::milliseconds> finished_for;  // --retain-finished: keep this long after the end
  std::optional<std::int64_t> max_finished;               // --retain-max-finished: keep this many newest
  std::chrono::milliseconds interval{60'000};             // between passes
  int batch = 200;                                        // records per transaction
  std::chrono::milliseconds pause{20};                    // between two batches of one pass
  bool enabled() const { return finished_for || max_finished; }
};

}  // namespace kjq::server

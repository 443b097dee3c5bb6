#pragma once
// Fault injection for tests: added latency, a fraction of requests answered 429/503 with
// Retry-After, watch streams dropped after N events, and a period of refused connections.
// Set from flags at start-up and changed at run time through the admin endpoint.
#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

namespace kjq::emulator {

struct FaultConfig {
  int latency_ms = 0;
  double error_429_fraction = 0;
  double error_503_fraction = 0;
  int retry_after_seconds = 1;
  int watch_drop_after_events = 0;  // 0: never
};

nlohmann::json fault_config_to_json(const FaultConfig& c);
// Applies the fields present in `j` on top of `base`; throws ApiError(400) on bad values.
FaultConfig fault_config_from_json(const nlohmann::json& j, FaultConfig base = {});

class FaultInjector {
 public:
  explicit FaultInjector(FaultConfig initial = {});
  FaultConfig config() const;
  void set(const FaultConfig& c);
  // Called at the start of every API request: sleeps the latency, may throw ApiError 429/503.
  void before_request();
  // Refuse connections for `seconds` (the listener is closed meanwhile).
  void refuse_connections(double seconds);
  // Seconds of refusal left (0 when accepting).
  double refusing_seconds_left() const;
  // The server loop registers how to stop its listener.
  void on_refuse(std::function<void()> stop_listener);

 private:
  mutable std::mutex mu_;
  FaultConfig config_;
  std::mt19937_64 rng_{std::random_device{}()};
  std::chrono::steady_clock::time_point refuse_until_{};
  std::function<void()> stop_listener_;
};

}  // namespace kjq::emulator

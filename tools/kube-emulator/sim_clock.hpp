#pragma once
// Wall-clock timestamps in Kubernetes' RFC 3339 form, and the time scale that shrinks every
// simulated duration (run-seconds, backoff, activeDeadlineSeconds, TTL) so tests run fast.
#include <chrono>
#include <string>

namespace kjq::emulator {

using SteadyTime = std::chrono::steady_clock::time_point;

class SimClock {
 public:
  explicit SimClock(double time_scale = 1.0) : time_scale_(time_scale) {}
  double time_scale() const { return time_scale_; }
  // A simulated duration of `seconds`, scaled by the time scale.
  std::chrono::steady_clock::duration scaled(double seconds) const;
  SteadyTime now() const { return std::chrono::steady_clock::now(); }

 private:
  double time_scale_;
};

// "2026-11-26T22:03:35Z" (metav1.Time, second precision).
std::string rfc3339_now();
std::string rfc3339(std::chrono::system_clock::time_point t);
// "2026-11-26T22:03:35.123456Z" (metav1.MicroTime).
std::string rfc3339_micro_now();

}  // namespace kjq::emulator

#pragma once
// Client-side token bucket (client-go's flowcontrol): `qps` tokens per second, at most `burst`
// saved up. acquire() blocks until a token is free and logs when it had to wait noticeably.
#include <chrono>
#include <mutex>

namespace kjq::kube {

class RateLimiter {
 public:
  // qps <= 0 disables limiting.
  RateLimiter(double qps, int burst);
  // Returns how long the caller waited.
  std::chrono::nanoseconds acquire();
  double qps() const { return qps_; }
  int burst() const { return burst_; }

 private:
  std::mutex mu_;
  double qps_;
  int burst_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace kjq::kube

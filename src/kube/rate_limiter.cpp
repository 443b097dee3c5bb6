#include "kube/rate_limiter.hpp"

#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>

namespace kjq::kube {

RateLimiter::RateLimiter(double qps, int burst)
    : qps_(qps), burst_(std::max(1, burst)), tokens_(std::max(1, burst)), last_(std::chrono::steady_clock::now()) {}

std::chrono::nanoseconds RateLimiter::acquire() {
  if (qps_ <= 0) return std::chrono::nanoseconds(0);
  std::chrono::steady_clock::time_point ready;
  {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    tokens_ = std::min<double>(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * qps_);
    last_ = now;
    tokens_ -= 1;  // reserve; a negative balance is the queue of waiters
    if (tokens_ >= 0) return std::chrono::nanoseconds(0);
    ready = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                      std::chrono::duration<double>(-tokens_ / qps_));
  }
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_until(ready);
  auto waited = std::chrono::steady_clock::now() - start;
  if (waited > std::chrono::milliseconds(50))
    spdlog::info("Waited for {}ms due to client-side throttling (qps {}, burst {})",
                 std::chrono::duration_cast<std::chrono::milliseconds>(waited).count(), qps_, burst_);
  return waited;
}

}  // namespace kjq::kube

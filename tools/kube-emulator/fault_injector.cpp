#include "fault_injector.hpp"

#include <thread>

#include "api_status.hpp"

namespace kjq::emulator {

using nlohmann::json;

json fault_config_to_json(const FaultConfig& c) {
  return {{"latencyMs", c.latency_ms},
          {"error429Fraction", c.error_429_fraction},
          {"error503Fraction", c.error_503_fraction},
          {"retryAfterSeconds", c.retry_after_seconds},
          {"watchDropAfterEvents", c.watch_drop_after_events}};
}

FaultConfig fault_config_from_json(const json& j, FaultConfig c) {
  if (!j.is_object()) throw bad_request("fault configuration must be a JSON object");
  auto number = [&](const char* key) -> const json* {
    auto it = j.find(key);
    if (it == j.end()) return nullptr;
    if (!it->is_number()) throw bad_request(std::string(key) + ": expected a number");
    return &*it;
  };
  for (auto it = j.begin(); it != j.end(); ++it) {
    static const char* known[] = {"latencyMs",         "error429Fraction",     "error503Fraction",
                                  "retryAfterSeconds", "watchDropAfterEvents", "refuseConnectionsSeconds"};
    bool ok = false;
    for (const char* k : known) ok = ok || it.key() == k;
    if (!ok) throw bad_request("unknown fault field \"" + it.key() + "\"");
  }
  if (auto v = number("latencyMs")) c.latency_ms = v->get<int>();
  if (auto v = number("error429Fraction")) c.error_429_fraction = v->get<double>();
  if (auto v = number("error503Fraction")) c.error_503_fraction = v->get<double>();
  if (auto v = number("retryAfterSeconds")) c.retry_after_seconds = v->get<int>();
  if (auto v = number("watchDropAfterEvents")) c.watch_drop_after_events = v->get<int>();
  if (c.latency_ms < 0 || c.retry_after_seconds < 0 || c.watch_drop_after_events < 0)
    throw bad_request("fault values must not be negative");
  if (c.error_429_fraction < 0 || c.error_503_fraction < 0 || c.error_429_fraction + c.error_503_fraction > 1)
    throw bad_request("error fractions must be in [0, 1] and sum to at most 1");
  return c;
}

FaultInjector::FaultInjector(FaultConfig initial) : config_(initial) {}

FaultConfig FaultInjector::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

void FaultInjector::set(const FaultConfig& c) {
  std::lock_guard lock(mu_);
  config_ = c;
}

void FaultInjector::before_request() {
  int latency = 0;
  int code = 0;
  int retry_after = 0;
  {
    std::lock_guard lock(mu_);
    latency = config_.latency_ms;
    retry_after = config_.retry_after_seconds;
    double total = config_.error_429_fraction + config_.error_503_fraction;
    if (total > 0) {
      double r = std::uniform_real_distribution<double>(0, 1)(rng_);
      if (r < config_.error_429_fraction)
        code = 429;
      else if (r < total)
        code = 503;
    }
  }
  if (latency > 0) std::this_thread::sleep_for(std::chrono::milliseconds(latency));
  if (code == 429) throw too_many_requests(retry_after);
  if (code == 503) throw service_unavailable(retry_after);
}

void FaultInjector::refuse_connections(double seconds) {
  std::function<void()> stop;
  {
    std::lock_guard lock(mu_);
    refuse_until_ = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                           std::chrono::duration<double>(seconds));
    stop = stop_listener_;
  }
  if (stop && seconds > 0) stop();
}

double FaultInjector::refusing_seconds_left() const {
  std::lock_guard lock(mu_);
  auto left = refuse_until_ - std::chrono::steady_clock::now();
  double s = std::chrono::duration<double>(left).count();
  return s > 0 ? s : 0;
}

void FaultInjector::on_refuse(std::function<void()> stop_listener) {
  std::lock_guard lock(mu_);
  stop_listener_ = std::move(stop_listener);
}

}  // namespace kjq::emulator

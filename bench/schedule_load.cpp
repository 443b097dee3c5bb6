// bench/schedules: N Nautobot schedules due every minute, fired by kjq's schedule runner (the part
// of `kjq serve --run-schedules` that decides and records runs) against Nautobot's PostgreSQL
// tables, for M minute boundaries in real time. Prints, per boundary and overall: runs fired, how
// late each was handed over after its due time (p50/p99/max), the claim transactions and SQL
// statements spent, and the process's peak RSS. The hand-over is counted, not sent on: kjq's
// queue and the Job creates are measured by bench/serve.
// Usage: schedule_load URL N MINUTES [CONNECTIONS]   (CONNECTIONS: claims side by side, default 2 as
//        in kjq serve; URL: a database holding tests/support/nautobot_schema.sql
//        with N schedules; bench/schedules/run.sh prepares it)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "schedule/schedule_runner.hpp"

using namespace kjq::schedule;

namespace {

long peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::cerr << "usage: schedule_load URL N MINUTES [CONNECTIONS]\n";
    return 2;
  }
  const std::string url = argv[1];
  const long expected = std::stol(argv[2]);
  const int minutes = std::stoi(argv[3]);
  const int connections = argc == 5 ? std::stoi(argv[4]) : 2;  // as kjq serve
  ScheduleDatabase db(kjq::nautobot::NautobotDatabase::from_flags(url), connections);
  db.check_schema();
  std::mutex mu;
  std::vector<double> lateness;  // seconds
  RunHooks hooks;
  hooks.submit = [](const std::vector<FiredRun>&) {};
  hooks.lookup = [](const std::string&) { return std::optional<RunState>(RunState{}); };
  hooks.fail = [](const std::string&, const std::string&, const std::string&) {};
  hooks.fired = [&](const FiredRun&, std::chrono::microseconds late) {
    std::lock_guard lock(mu);
    lateness.push_back(static_cast<double>(late.count()) / 1e6);
  };
  RunnerOptions options;
  ScheduleRunner runner(db, options, hooks);
  runner.start();
  // Wait for the first boundary after the start, then measure `minutes` boundaries.
  std::vector<double> all;
  for (int m = 0; m <= minutes; ++m) {
    const auto now = std::chrono::system_clock::now();
    const auto next = std::chrono::ceil<std::chrono::minutes>(now);
    const auto statements_before = db.statements();
    const auto claims_before = runner.stats().claims;
    std::this_thread::sleep_until(next + std::chrono::seconds(20));  // the boundary and its tick
    std::vector<double> window;
    {
      std::lock_guard lock(mu);
      window.swap(lateness);
    }
    if (m == 0) continue;  // the start-up minute (first load, catch-up) is not measured
    const auto statements = db.statements() - statements_before;
    const auto claims = runner.stats().claims - claims_before;
    std::printf(
        "minute %d: %zu of %ld runs fired, lateness p50 %.3f s, p99 %.3f s, max %.3f s; %llu claim "
        "transactions, %llu SQL statements (change-marker polls included)\n",
        m, window.size(), expected, quantile(window, 0.5), quantile(window, 0.99),
        window.empty() ? 0.0 : *std::max_element(window.begin(), window.end()), static_cast<unsigned long long>(claims),
        static_cast<unsigned long long>(statements));
    all.insert(all.end(), window.begin(), window.end());
  }
  runner.stop();
  const auto stats = runner.stats();
  std::printf(
      "overall: %zu runs, lateness p50 %.3f s, p99 %.3f s, max %.3f s; late (> 1 s) %llu; database "
      "errors %llu; peak RSS %ld KiB\n",
      all.size(), quantile(all, 0.5), quantile(all, 0.99),
      all.empty() ? 0.0 : *std::max_element(all.begin(), all.end()), static_cast<unsigned long long>(stats.late),
      static_cast<unsigned long long>(stats.database_errors), peak_rss_kib());
  return 0;
}

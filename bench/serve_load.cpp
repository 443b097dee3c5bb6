// bench/serve: submits N jobs to a running `kjq serve` through its API from T threads, then reads
// what happened: submissions per second (client side), submit-to-create latency per job (the
// client's submit time against kube-emulator's create log, both on this machine's clock), the
// service's own event-to-record lag quantiles (/metrics), and the peak RSS of the serve process
// while all N jobs are live. Prints one JSON object.
// Usage: serve_load --url URL --token T --admin EMU_ADMIN_URL --pid SERVE_PID [-n N] [--threads T]
//        [--wait 0]  (0: report right after the submissions, without waiting for the jobs)
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dispatch/lifecycle.hpp"

using nlohmann::json;
using Clock = std::chrono::system_clock;

namespace {

double now_s() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

double parse_time(const std::string& t) {
  // "2026-11-27T01:37:54.123456Z": whole seconds via the runtime's parser, then the fraction.
  auto dot = t.find('.');
  auto whole = kjq::dispatch::parse_rfc3339(dot == std::string::npos ? t : t.substr(0, dot) + "Z");
  if (!whole) return 0;
  double frac = dot == std::string::npos ? 0 : std::stod("0" + t.substr(dot, t.size() - dot - 1));
  return std::chrono::duration<double>(whole->time_since_epoch()).count() + frac;
}

long status_kib(int pid, const char* key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::string(key).size()));
  return -1;
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

double metric(const std::string& page, const std::string& name) {
  auto at = page.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  at += name.size() + 2;
  return std::stod(page.substr(at, page.find('\n', at) - at));
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> a = {
      {"-n", "10000"}, {"--threads", "16"}, {"--queue", "default"}, {"--wait", "1"}};
  for (int i = 1; i + 1 < argc; i += 2) a[argv[i]] = argv[i + 1];
  const int n = std::stoi(a["-n"]), threads = std::stoi(a["--threads"]), pid = std::stoi(a["--pid"]);
  const std::string url = a["--url"], token = a["--token"], admin = a["--admin"], queue = a["--queue"];
  httplib::Headers auth = {{"Authorization", "Bearer " + token}};

  std::vector<double> submitted(static_cast<std::size_t>(n), 0);
  std::atomic<int> next{0}, failures{0};
  long peak_rss = 0;
  std::atomic<bool> sampling{true};
  std::thread sampler([&] {
    while (sampling) {
      peak_rss = std::max(peak_rss, status_kib(pid, "VmRSS:"));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  const double start = now_s();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      httplib::Client c(url);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      c.set_read_timeout(60);
      for (int i; (i = next++) < n;) {
        json body = {{"queue", queue}, {"id", "bench-" + std::to_string(i)}, {"data", {{"i", i}}}};
        submitted[static_cast<std::size_t>(i)] = now_s();
        auto r = c.Post("/api/v1/jobs", auth, body.dump(), "application/json");
        if (!r || r->status != 202) ++failures;
      }
    });
  for (auto& w : workers) w.join();
  const double submit_seconds = now_s() - start;

  // Wait until every job's Job exists and every job is live in the store (Running).
  httplib::Client emu(admin), api(url);
  api.set_read_timeout(60);
  std::map<std::string, double> created;
  int running = 0;
  for (int round = 0; round < (a["--wait"] == "0" ? 0 : 1200); ++round) {
    auto r = emu.Get("/creates?resource=jobs");
    if (r && r->status == 200) {
      const json log = json::parse(r->body);
      for (const auto& item : log["items"]) created[item["name"].get<std::string>()] = parse_time(item["time"]);
    }
    auto q = api.Get("/api/v1/queues", auth);
    if (q && q->status == 200) {
      const json queues = json::parse(q->body);
      for (const auto& item : queues["items"])
        if (item["name"] == queue) running = item["running"].get<int>();
    }
    if (static_cast<int>(created.size()) >= n && running >= n) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  sampling = false;
  sampler.join();
  std::vector<double> latency_ms;
  for (int i = 0; i < n; ++i) {
    auto it = created.find("nautobot-job-bench-" + std::to_string(i));
    if (it != created.end()) latency_ms.push_back((it->second - submitted[static_cast<std::size_t>(i)]) * 1000);
  }
  auto m = api.Get("/metrics");
  const std::string page = m ? m->body : "";
  json out = {
      {"n", n},
      {"threads", threads},
      {"submit_failures", failures.load()},
      {"submissions_per_second", std::lround(n / submit_seconds)},
      {"submit_seconds", submit_seconds},
      {"jobs_created", created.size()},
      {"jobs_running_at_end", running},
      {"submit_to_create_p50_ms", quantile(latency_ms, 0.5)},
      {"submit_to_create_p99_ms", quantile(latency_ms, 0.99)},
      {"event_to_record_p50_ms", 1000 * metric(page, "kjq_serve_event_to_record_quantiles_seconds{quantile=\"0.5\"}")},
      {"event_to_record_p99_ms", 1000 * metric(page, "kjq_serve_event_to_record_quantiles_seconds{quantile=\"0.99\"}")},
      {"serve_peak_rss_mib_sampled", peak_rss / 1024.0},
      {"serve_vmhwm_mib", status_kib(pid, "VmHWM:") / 1024.0}};
  std::cout << out.dump() << std::endl;
  return failures == 0 ? 0 : 1;
}

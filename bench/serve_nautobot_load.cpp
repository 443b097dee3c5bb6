// bench/serve (Nautobot's Jobs): creates N Jobs the way Nautobot does (the chart's manifest as
// `kjq render` writes it, metadata.name = nautobot-job-<JobResult uuid>, the container's command
// set to `nautobot-server runjob_with_job_result <uuid> ...`, one POST each, no retry) against
// kube-emulator, while a running `kjq serve` follows them. Then reads what happened:
//   - serve's peak RSS (VmRSS sampled every 50 ms, and VmHWM) while all N Jobs are live;
//   - serve's event-to-record and end-to-write-back quantiles (/metrics);
//   - with --admit (Jobs created suspended, admission: kjq): the un-suspend latency seen from the
//     outside, by watching the emulator's Jobs and Pods: the k-th Job end (the first watch event
//     that shows it: pod Succeeded/Failed or the Job's Complete/Failed/FailureTarget condition)
//     frees the slot that the (cap + k)-th resume (spec.suspend turned false) fills.
// Prints one JSON object (and its progress on stderr every 10 s).
// Usage: serve_nautobot_load --server HTTPS_URL --ca CA --token TOKEN --serve URL --api-token T
//        --pid SERVE_PID --manifest FILE --ids FILE (lines "uuid ok|fail") [--connections 4]
//        [--admit 1 --cap 50] [--run-seconds S] [--pull-seconds S] [--timeout S]
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const Clock::time_point t0 = Clock::now();
double now_s() { return std::chrono::duration<double>(Clock::now() - t0).count(); }

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

std::string host_port(const std::string& url) {  // https://127.0.0.1:1234 -> 127.0.0.1:1234
  auto at = url.find("://");
  return at == std::string::npos ? url : url.substr(at + 3);
}

struct Seen {
  double resumed = -1, ended = -1;
};

// Watches `resource` (jobs or pods) of the namespace with Nautobot's label, from now on, and
// notes when each Job was seen resumed and seen ended.
class Watcher {
 public:
  Watcher(std::string server, std::string ca, std::string token, std::mutex& mu, std::map<std::string, Seen>& seen)
      : server_(std::move(server)), ca_(std::move(ca)), token_(std::move(token)), mu_(mu), seen_(seen) {}

  void run(const std::string& resource, std::atomic<bool>& stop, std::atomic<int>& ready) {
    httplib::SSLClient c(server_.substr(0, server_.rfind(':')), std::stoi(server_.substr(server_.rfind(':') + 1)));
    c.set_ca_cert_path(ca_.c_str());
    c.enable_server_certificate_verification(false);  // loopback, the bench's own CA
    c.set_read_timeout(5);
    std::string buffer;
    const std::string base =
        "/" + std::string(resource == "jobs" ? "apis/batch/v1" : "api/v1") + "/namespaces/default/" + resource;
    const std::string path =
        base + "?watch=true&allowWatchBookmarks=true&labelSelector=app.kubernetes.io%2Fcomponent%3Dnautobot-job";
    // Starts from the current resourceVersion; resumes after the last event seen.
    auto list = c.Get((base + "?limit=1").c_str(), {{"Authorization", "Bearer " + token_}});
    rv_ = list && list->status == 200 ? json::parse(list->body)["metadata"].value("resourceVersion", std::string("0"))
                                      : "0";
    ++ready;
    while (!stop) {
      c.Get((path + "&resourceVersion=" + rv_).c_str(), {{"Authorization", "Bearer " + token_}},
            [&](const char* data, size_t n) {
              const double at = now_s();
              buffer.append(data, n);
              for (std::size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1))
                if (nl > 0) on_event(resource, buffer.substr(0, nl), at);
              return !stop.load();
            });
    }
  }

 private:
  void on_event(const std::string& resource, const std::string& line, double at) {
    const json e = json::parse(line, nullptr, false);
    if (e.is_discarded() || !e.contains("object")) return;
    const json& o = e["object"];
    const json meta = o.value("metadata", json::object());
    if (meta.contains("resourceVersion")) rv_ = meta["resourceVersion"].get<std::string>();
    if (e.value("type", "") != "ADDED" && e.value("type", "") != "MODIFIED") return;
    std::string job;
    bool ended = false, resumed = false;
    if (resource == "pods") {
      job = meta.value("labels", json::object()).value("job-name", "");
      const std::string phase = o.value("status", json::object()).value("phase", "");
      ended = phase == "Succeeded" || phase == "Failed";
    } else {
      job = meta.value("name", "");
      resumed = !o.value("spec", json::object()).value("suspend", false);
      for (const auto& c : o.value("status", json::object()).value("conditions", json::array())) {
        const std::string type = c.value("type", "");
        if ((type == "Complete" || type == "Failed" || type == "FailureTarget") && c.value("status", "") == "True")
          ended = true;
      }
    }
    if (job.empty()) return;
    std::lock_guard lock(mu_);
    Seen& s = seen_[job];
    if (resumed && s.resumed < 0) s.resumed = at;
    if (ended && s.ended < 0) s.ended = at;
  }

  std::string server_, ca_, token_, rv_;
  std::mutex& mu_;
  std::map<std::string, Seen>& seen_;
};

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> a = {{"--connections", "4"}, {"--admit", "0"},        {"--cap", "50"},
                                          {"--queue", "bench"},   {"--run-seconds", "60"}, {"--pull-seconds", "1"},
                                          {"--timeout", "900"}};
  for (int i = 1; i + 1 < argc; i += 2) a[argv[i]] = argv[i + 1];
  const std::string server = host_port(a["--server"]), token = a["--token"], queue = a["--queue"];
  const int pid = std::stoi(a["--pid"]), connections = std::stoi(a["--connections"]), cap = std::stoi(a["--cap"]);
  const bool admit = a["--admit"] == "1";
  const double timeout = std::stod(a["--timeout"]);
  httplib::Headers api_auth = {{"Authorization", "Bearer " + a["--api-token"]}};

  // The JobResult ids (inserted PENDING or SUCCESS by the script) and which pods fail.
  std::vector<std::pair<std::string, bool>> ids;
  {
    std::ifstream in(a["--ids"]);
    std::string id, fate;
    while (in >> id >> fate) ids.emplace_back(id, fate == "fail");
  }
  const int n = static_cast<int>(ids.size());
  int fails = 0;

  // What Nautobot's run_kubernetes_job_and_return_job_result does to the queue's manifest, plus
  // the emulator's pod annotations (how long the pod runs, whether it fails).
  json manifest;
  std::ifstream(a["--manifest"]) >> manifest;
  std::vector<std::string> bodies;
  for (int i = 0; i < n; ++i) {
    const auto& [id, fail] = ids[static_cast<std::size_t>(i)];
    json m = manifest;
    m["metadata"]["name"] = "nautobot-job-" + id;
    m["spec"]["template"]["spec"]["containers"][0]["command"] = {
        "nautobot-server", "runjob_with_job_result", id, "--config=/opt/nautobot/nautobot_config.py", "--data", "{}"};
    json& ann = m["spec"]["template"]["metadata"]["annotations"];
    ann["kube-emulator/run-seconds"] = a["--run-seconds"];
    ann["kube-emulator/pull-seconds"] = a["--pull-seconds"];
    if (fail) {
      ++fails;
      ann["kube-emulator/outcome"] = fails % 2 ? "fail" : "oom";
      ann["kube-emulator/exit-code"] = "1";
      ann["kube-emulator/log"] = "Running job\nTraceback (most recent call last):\nRuntimeError: boom\n";
    }
    bodies.push_back(m.dump());
  }

  long peak_rss = 0;
  std::atomic<bool> sampling{true}, stop_watch{false};
  std::thread sampler([&] {
    while (sampling) {
      peak_rss = std::max(peak_rss, status_kib(pid, "VmRSS:"));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  std::mutex seen_mu;
  std::map<std::string, Seen> seen;
  std::vector<std::thread> watchers;
  std::atomic<int> watches_ready{0};
  if (admit) {
    for (const char* resource : {"jobs", "pods"})
      watchers.emplace_back(
          [&, resource] { Watcher(server, a["--ca"], token, seen_mu, seen).run(resource, stop_watch, watches_ready); });
    while (watches_ready < 2) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  // One POST per Job, over `connections` keep-alive HTTPS connections (Nautobot makes a new
  // ApiClient per Job; the body is the same).
  std::atomic<int> next{0}, failures{0};
  const double create_start = now_s();
  std::vector<std::thread> workers;
  for (int t = 0; t < connections; ++t)
    workers.emplace_back([&] {
      httplib::SSLClient c(server.substr(0, server.rfind(':')), std::stoi(server.substr(server.rfind(':') + 1)));
      c.enable_server_certificate_verification(false);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      c.set_read_timeout(60);
      httplib::Headers auth = {{"Authorization", "Bearer " + token}};
      for (int i; (i = next++) < n;) {
        auto r = c.Post("/apis/batch/v1/namespaces/default/jobs", auth, bodies[static_cast<std::size_t>(i)],
                        "application/json");
        if (!r || r->status != 201) {
          if (failures++ < 3) std::cerr << "create failed: " << (r ? r->body : httplib::to_string(r.error())) << "\n";
        }
      }
    });
  for (auto& w : workers) w.join();
  const double create_seconds = now_s() - create_start;

  // Follow serve's view of the queue: all live at once (follow mode), then all ended and every
  // failed Job written back.
  httplib::Client api(a["--serve"]);
  api.set_read_timeout(60);
  int max_live = 0, done = 0, rounds = 0;
  double all_live_at = -1, all_done_at = -1;
  long rss_when_all_live = -1;
  std::string page;
  while (now_s() - create_start < timeout) {
    auto q = api.Get("/api/v1/queues", api_auth);
    int live = 0;
    const json queues = q && q->status == 200 ? json::parse(q->body) : json::object();
    if (queues.contains("items"))
      for (const auto& item : queues["items"])
        if (item["name"] == queue) {
          live = item["running"].get<int>();
          done = item["succeeded"].get<int>() + item["failed"].get<int>();
        }
    if (live > max_live) max_live = live;
    if (!admit && all_live_at < 0 && live >= n) {
      all_live_at = now_s() - create_start;
      rss_when_all_live = status_kib(pid, "VmRSS:");
    }
    auto m = api.Get("/metrics");
    page = m ? m->body : "";
    // Done: every Job ended in serve's store and every failed one written back (the succeeded
    // ones are checked after --nautobot-success-grace, 120 s by default, and not waited for).
    if (done >= n && metric(page, "kjq_serve_nautobot_writebacks_total{outcome=\"written\"}") >= fails) {
      all_done_at = now_s() - create_start;
      break;
    }
    if (++rounds % 40 == 0)
      std::cerr << "after " << std::lround(now_s() - create_start) << " s: running " << live << ", ended " << done
                << ", written back " << metric(page, "kjq_serve_nautobot_writebacks_total{outcome=\"written\"}")
                << " of " << fails << ", pending " << metric(page, "kjq_serve_nautobot_writebacks_pending")
                << std::endl;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  sampling = false;
  sampler.join();
  stop_watch = true;
  for (auto& w : watchers) w.join();

  auto q = [&](const std::string& name, const char* quant) {
    return 1000 * metric(page, name + "{quantile=\"" + quant + "\"}");
  };
  json out = {{"n", n},
              {"failing", fails},
              {"connections", connections},
              {"create_failures", failures.load()},
              {"creates_per_second", std::lround(n / create_seconds)},
              {"max_running_in_serve", max_live},
              {"ended_in_serve", done},
              {"all_running_after_s", all_live_at},
              {"all_written_back_after_s", all_done_at},
              {"event_to_record_p50_ms", q("kjq_serve_event_to_record_quantiles_seconds", "0.5")},
              {"event_to_record_p99_ms", q("kjq_serve_event_to_record_quantiles_seconds", "0.99")},
              {"end_to_writeback_p50_ms", q("kjq_serve_nautobot_end_to_writeback_quantiles_seconds", "0.5")},
              {"end_to_writeback_p99_ms", q("kjq_serve_nautobot_end_to_writeback_quantiles_seconds", "0.99")},
              {"writebacks_written", metric(page, "kjq_serve_nautobot_writebacks_total{outcome=\"written\"}")},
              {"writeback_errors", metric(page, "kjq_serve_nautobot_writeback_errors_total")},
              {"serve_peak_rss_mib_sampled", peak_rss / 1024.0},
              {"serve_rss_mib_when_all_running", rss_when_all_live < 0 ? json() : json(rss_when_all_live / 1024.0)},
              {"serve_vmhwm_mib", status_kib(pid, "VmHWM:") / 1024.0}};

  if (admit) {
    // The k-th end frees the slot the (cap + k)-th resume fills.
    std::vector<double> ends, resumes;
    int concurrent = 0, max_concurrent = 0;
    std::vector<std::pair<double, int>> steps;
    for (const auto& [name, s] : seen) {
      if (s.ended >= 0) ends.push_back(s.ended);
      if (s.resumed >= 0) resumes.push_back(s.resumed);
      if (s.resumed >= 0) steps.emplace_back(s.resumed, 1);
      if (s.resumed >= 0 && s.ended >= 0) steps.emplace_back(s.ended, -1);
    }
    std::sort(ends.begin(), ends.end());
    std::sort(resumes.begin(), resumes.end());
    std::sort(steps.begin(), steps.end());
    for (const auto& [at, d] : steps) max_concurrent = std::max(max_concurrent, concurrent += d);
    std::vector<double> lat_ms;
    int negative = 0;
    for (std::size_t k = 0; k + static_cast<std::size_t>(cap) < resumes.size() && k < ends.size(); ++k) {
      const double ms = (resumes[k + static_cast<std::size_t>(cap)] - ends[k]) * 1000;
      if (ms < 0) ++negative;
      lat_ms.push_back(ms);
    }
    out["cap"] = cap;
    out["resumes_seen"] = resumes.size();
    out["ends_seen"] = ends.size();
    out["max_running_seen_by_watch"] = max_concurrent;
    out["slot_free_to_resume_pairs"] = lat_ms.size();
    out["slot_free_to_resume_negative"] = negative;
    out["slot_free_to_resume_p50_ms"] = quantile(lat_ms, 0.5);
    out["slot_free_to_resume_p90_ms"] = quantile(lat_ms, 0.9);
    out["slot_free_to_resume_p99_ms"] = quantile(lat_ms, 0.99);
    out["slot_free_to_resume_max_ms"] = quantile(lat_ms, 1.0);
  }
  std::cout << out.dump() << std::endl;
  return failures == 0 && all_done_at >= 0 ? 0 : 1;
}

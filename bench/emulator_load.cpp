// Load generator for kube-emulator: N Job creates over C keep-alive connections, then waits until
// every Job has finished and reports the emulator's RSS (from the admin /stats endpoint).
//   emulator_load --url http://127.0.0.1:P --admin http://127.0.0.1:A --jobs 10000 --connections 4
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

using nlohmann::json;

namespace {

std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return fallback;
}

// A Job the size of what `kjq render` produces for one queue.
json job_manifest(const std::string& name, const std::string& outcome) {
  return {
      {"apiVersion", "batch/v1"},
      {"kind", "Job"},
      {"metadata",
       {{"name", name},
        {"labels",
         {{"app.kubernetes.io/name", "nautobot"},
          {"app.kubernetes.io/component", "kubernetes-job"},
          {"kjq/queue", "default"}}}}},
      {"spec",
       {{"backoffLimit", 0},
        {"template",
         {{"metadata",
           {{"labels", {{"app.kubernetes.io/name", "nautobot"}, {"kjq/queue", "default"}}},
            {"annotations", {{"kube-emulator/outcome", outcome}, {"kube-emulator/run-seconds", "0.5"}}}}},
          {"spec",
           {{"restartPolicy", "Never"},
            {"serviceAccountName", "nautobot"},
            {"containers",
             {{{"name", "nautobot-job"},
               {"image", "ghcr.io/nautobot/nautobot:2.3.2-py3.11"},
               {"command", {"nautobot-server", "runjob_with_job_result", "0f4c9a52-6c4b-4d5e-9b7e-2f3a1c5d7e9f"}},
               {"env",
                {{{"name", "NAUTOBOT_CONFIG"}, {"value", "/opt/nautobot/nautobot_config.py"}},
                 {{"name", "NAUTOBOT_DB_HOST"}, {"value", "nautobot-postgresql"}},
                 {{"name", "NAUTOBOT_REDIS_HOST"}, {"value", "nautobot-redis-master"}}}},
               {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "256Mi"}}}, {"limits", {{"memory", "1Gi"}}}}},
               {"volumeMounts",
                {{{"name", "nautobot-config"},
                  {"mountPath", "/opt/nautobot/nautobot_config.py"},
                  {"subPath", "nautobot_config.py"}}}}}}},
            {"volumes", {{{"name", "nautobot-config"}, {"configMap", {{"name", "nautobot-config"}}}}}}}}}}}}};
}

}  // namespace

int main(int argc, char** argv) {
  const std::string url = arg(argc, argv, "--url", "");
  const std::string admin = arg(argc, argv, "--admin", "");
  const int jobs = std::atoi(arg(argc, argv, "--jobs", "10000").c_str());
  const int conns = std::atoi(arg(argc, argv, "--connections", "4").c_str());
  const std::string outcome = arg(argc, argv, "--outcome", "succeed");
  const std::string prefix = arg(argc, argv, "--prefix", "load");
  const bool settle = arg(argc, argv, "--settle", "1") == "1";  // wait for the simulation to finish
  if (url.empty() || jobs <= 0 || conns <= 0) {
    std::fprintf(stderr, "usage: emulator_load --url URL [--admin URL] [--jobs N] [--connections C] [--outcome O]\n");
    return 2;
  }
  // Pre-serialise the bodies so the client spends its time on the wire, not in JSON.
  std::vector<std::string> bodies(jobs);
  for (int i = 0; i < jobs; ++i) bodies[i] = job_manifest(prefix + "-" + std::to_string(i), outcome).dump();
  auto emulator_cpu = [&]() -> double {
    if (admin.empty()) return 0;
    httplib::Client a(admin);
    auto r = a.Get("/stats");
    return r && r->status == 200 ? json::parse(r->body).value("cpuSeconds", 0.0) : 0;
  };
  const double cpu0 = emulator_cpu();
  std::atomic<int> next{0}, failures{0};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int c = 0; c < conns; ++c)
    workers.emplace_back([&] {
      httplib::Client cli(url);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);  // as Go clients do; otherwise Nagle + delayed ACK cap each connection
      cli.set_read_timeout(30);
      for (int i = next++; i < jobs; i = next++) {
        auto r = cli.Post("/apis/batch/v1/namespaces/default/jobs", bodies[i], "application/json");
        if (!r || r->status != 201) failures++;
      }
    });
  for (auto& w : workers) w.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu1 = emulator_cpu();
  std::printf("creates: %d in %.3f s = %.0f creates/s over %d keep-alive connections (%d failed)\n", jobs, secs,
              jobs / secs, conns, failures.load());
  if (!admin.empty())
    std::printf("emulator CPU during the creates: %.3f s (API + job simulation) = %.0f creates per CPU-second\n",
                cpu1 - cpu0, jobs / (cpu1 - cpu0));
  if (!admin.empty() && settle) {
    httplib::Client a(admin);
    json stats;
    // Wait (bounded) until the controller has finished every job: a succeeded job leaves one pod
    // and seven events (SuccessfulCreate, Scheduled, Pulling, Pulled, Created, Started, Completed).
    const auto settle0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 1200; ++i) {
      auto r = a.Get("/stats");
      if (r && r->status == 200) {
        stats = json::parse(r->body);
        if (stats["objects"]["pods"].get<int>() >= jobs && stats["objects"]["events"].get<int>() >= 7 * jobs) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    std::printf("controller settled %.1f s after the last create\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - settle0).count());
    auto r = a.Get("/stats");
    if (r) stats = json::parse(r->body);
    std::printf("settled: jobs=%d pods=%d events=%d rss=%.1f MiB\n", stats["objects"]["jobs"].get<int>(),
                stats["objects"]["pods"].get<int>(), stats["objects"]["events"].get<int>(),
                stats["rssBytes"].get<double>() / (1024.0 * 1024.0));
  }
  return failures.load() == 0 ? 0 : 1;
}

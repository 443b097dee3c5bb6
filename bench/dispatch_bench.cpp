// bench/dispatch: N dispatches through kjq's library in one process — the manifest read from
// <base>/<queue>/manifest.json and prepared for every job (as `kjq dispatch` does), one
// RestClient (keep-alive connections reused), T threads. Prints one JSON line:
//   {"impl":"kjq","n":..,"threads":..,"seconds":..,"jobs_per_second":..,"p50_ms":..,"p99_ms":..,
//    "cpu_ms_per_job":..}   (this process's user+system CPU per dispatch: steadier than jobs/s
//                             on a shared machine, since it does not count the server's time)
// Usage: dispatch_bench --server URL --ca FILE --token-file FILE --queues DIR --queue Q
//                       [-n 1000] [--threads 8] [--namespace default] [--prefix bench]
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dispatch/dispatcher.hpp"
#include "kube/api.hpp"
#include "queue/job_preparation.hpp"
#include "queue/manifest_store.hpp"

int main(int argc, char** argv) {
  std::string server, ca, token_file, queues, queue = "default", ns = "default", prefix = "bench";
  int n = 1000, threads = 8;
  bool http1 = false;
  for (int i = 1; i < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--http1") {
      http1 = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) break;
    std::string v = argv[i + 1];
    if (k == "--server")
      server = v;
    else if (k == "--ca")
      ca = v;
    else if (k == "--token-file")
      token_file = v;
    else if (k == "--queues")
      queues = v;
    else if (k == "--queue")
      queue = v;
    else if (k == "--namespace")
      ns = v;
    else if (k == "--prefix")
      prefix = v;
    else if (k == "-n")
      n = std::atoi(v.c_str());
    else if (k == "--threads")
      threads = std::atoi(v.c_str());
  }
  if (server.empty() || queues.empty()) {
    std::cerr << "usage: dispatch_bench --server URL --ca FILE --token-file FILE --queues DIR [--queue Q] [-n N] "
                 "[--threads T]\n";
    return 2;
  }
  kjq::kube::ClusterConfig cfg;
  cfg.server = server;
  cfg.ca_file = ca;
  cfg.token_file = token_file;
  cfg.namespace_name = ns;
  kjq::kube::ClientOptions opts;
  opts.qps = 0;  // measure the client and the server, not a self-imposed limit
  opts.http2 = !http1;
  kjq::kube::RestClient client(cfg, opts);
  kjq::kube::KubeApi api(client);
  kjq::queue::ManifestStore store(queues);
  std::vector<double> latencies(static_cast<std::size_t>(n));
  std::atomic<int> next{0}, failures{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        char id[64];
        std::snprintf(id, sizeof id, "%08d-0000-4000-8000-%012d", i, i);
        try {
          auto m = store.load(queue);  // read at call time, like Nautobot
          auto job = kjq::queue::prepare_job(std::move(m.manifest),
                                             {queue, id, "{}", "/opt/nautobot/nautobot_config.py", prefix});
          const auto t0 = std::chrono::steady_clock::now();
          kjq::dispatch::dispatch_job(api, ns, job, /*metadata_only=*/true);  // as kjq serve does
          latencies[static_cast<std::size_t>(i)] =
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        } catch (const std::exception& e) {
          if (failures++ < 3) std::cerr << "dispatch_bench: " << e.what() << "\n";
        }
      }
    });
  for (auto& t : pool) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu_ms =
      (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) { return latencies[static_cast<std::size_t>(p * (latencies.size() - 1))]; };
  std::printf(
      "{\"impl\":\"kjq\",\"n\":%d,\"threads\":%d,\"failures\":%d,\"seconds\":%.3f,\"jobs_per_second\":%.1f,"
      "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"requests\":%ld,\"cpu_ms_per_job\":%.3f}\n",
      n, threads, failures.load(), seconds, n / seconds, pct(0.5), pct(0.99), client.stats().requests.load(),
      cpu_ms / n);
  return failures.load() == 0 ? 0 : 1;
}

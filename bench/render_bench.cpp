// Rendering N job queues through the library (values → validated manifests → ConfigMap).
// Run: build/release/bench/render_bench   (figures go into docs/performance.md)
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "chart/render.hpp"
#include "values/values_document.hpp"

namespace {

// N kubernetes queues with realistic per-queue settings (env, resources, labels, overrides).
nlohmann::json values_with_queues(int queues) {
  nlohmann::json workers = nlohmann::json::object();
  for (int i = 0; i < queues; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "queue-%05d", i);
    workers[name] = {{"enabled", true},
                     {"type", "kubernetes"},
                     {"ttlSecondsAfterFinished", 300.0},
                     {"labels", {{"tier", i % 2 ? "gold" : "silver"}}},
                     {"extraEnvVars", {{{"name", "QUEUE_INDEX"}, {"value", std::to_string(i)}}}},
                     {"resources", {{"requests", {{"cpu", "250m"}}}}},
                     {"overrides", {{"spec", {{"nodeSelector", {{"pool", "jobs"}}}}}}}};
  }
  return {{"workers", std::move(workers)},
          {"kubernetesJobs", {{"extraEnvVars", {{{"name", "LOG_LEVEL"}, {"value", "INFO"}}}}}}};
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

void BM_RenderQueues(benchmark::State& state) {
  const int queues = static_cast<int>(state.range(0));
  const auto doc = kjq::values::values_from_json(values_with_queues(queues), "bench");
  const kjq::chart::Release release;
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto rendered = kjq::chart::render_chart(doc, release);
    bytes = 0;
    for (const auto& [queue, text] : rendered.queue_manifests) bytes += text.size();
    benchmark::DoNotOptimize(rendered);
  }
  state.counters["queues"] = queues;
  state.counters["us_per_queue"] = benchmark::Counter(
      static_cast<double>(queues), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["manifest_MiB"] = static_cast<double>(bytes) / (1024.0 * 1024.0);
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}

}  // namespace

BENCHMARK(BM_RenderQueues)->Arg(1)->Arg(100)->Arg(1000)->Arg(5000)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();

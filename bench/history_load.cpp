// bench/history: the job history of kjq serve at scale. Fills a store (SQLite, or a throwaway
// PostgreSQL) with N finished jobs and a few unfinished ones, then times at the server, without
// the network, what GET /api/v1/jobs and an overview page run against it: the first page newest
// first with its counts (answer serialised), the per-queue counts, the queue counts of the last
// hour and day, the latest failures, and filtered and deep pages. Prints p50/p90/p99/max in ms.
//
// Usage: history_load [--store sqlite:PATH | --store postgresql://... | --store postgres]
//                     [--jobs N] [--iterations K]
//   --store postgres: a throwaway PostgreSQL server (tests/support), removed at the end.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "server/http_api.hpp"
#include "server/job_list_query.hpp"
#include "server/store/job_store.hpp"
#include "support/postgres_server.hpp"

namespace {

using namespace kjq::server;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay = 24 * kHour;
const std::vector<std::string> kQueues = {"default", "reports", "backups", "sync", "onboarding"};

struct Figures {
  double p50, p90, p99, max;
};

Figures time_it(int iterations, const std::function<void()>& work) {
  std::vector<double> ms;
  work();  // warm the caches and the statement cache once
  for (int i = 0; i < iterations; ++i) {
    const auto t0 = Clock::now();
    work();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<std::size_t>(q * ms.size()))]; };
  return {at(0.5), at(0.9), at(0.99), ms.back()};
}

// N finished jobs created over the 7 days before `now` (85% Succeeded, 12% Failed, 3% Cancelled,
// each with a 2 KiB log tail and six Events), then 200 Queued and 50 active.
void fill(JobStore& store, int n, std::int64_t now) {
  const std::string log_line = std::string(63, 'x') + "\n";
  std::string log_tail;
  while (log_tail.size() < 2048) log_tail += log_line;
  nlohmann::json events = nlohmann::json::array();
  for (const char* reason : {"SuccessfulCreate", "Scheduled", "Pulled", "Created", "Started", "Completed"})
    events.push_back({{"time", "2026-11-27T10:15:02Z"},
                      {"type", "Normal"},
                      {"reason", reason},
                      {"object", "Pod/nautobot-job-x"},
                      {"message", "a message of about the length Kubernetes writes for this event"}});
  const std::string events_json = events.dump();
  const std::int64_t start = now - 7 * kDay;
  const std::int64_t step = 7 * kDay / std::max(1, n);
  auto id_of = [](int i) {
    return fmt::format("{:08x}-0000-4000-8000-{:012x}", static_cast<unsigned>(i * 2654435761u), i);
  };
  for (int i = 0; i < n; i += 1000) {
    std::vector<NewJob> batch;
    for (int j = i; j < std::min(n, i + 1000); ++j) {
      NewJob job;
      job.id = id_of(j);
      job.queue = kQueues[static_cast<std::size_t>(j) % kQueues.size()];
      job.data_json = R"({"device":"rtr-01"})";
      job.now_ms = start + static_cast<std::int64_t>(j) * step;
      batch.push_back(std::move(job));
    }
    store.submit(batch);
  }
  // Finishing is one transaction per job: four threads, as the tracker's workers would.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      for (int j = t; j < n; j += 4) {
        Finish f;
        const int roll = static_cast<int>(rng() % 100);
        f.state = roll < 85 ? JobState::Succeeded : roll < 97 ? JobState::Failed : JobState::Cancelled;
        f.reason = f.state == JobState::Succeeded   ? "Completed"
                   : f.state == JobState::Cancelled ? "Cancelled"
                                                    : (roll % 3 == 0   ? "OOMKilled"
                                                       : roll % 3 == 1 ? "Error"
                                                                       : "DeadlineExceeded");
        f.log_tail = log_tail;
        f.events_json = events_json;
        f.now_ms = start + static_cast<std::int64_t>(j) * step + 30'000 + static_cast<std::int64_t>(rng() % 600'000);
        store.finish(id_of(j), f);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<NewJob> waiting;
  for (int j = n; j < n + 250; ++j) {
    NewJob job;
    job.id = id_of(j);
    job.queue = kQueues[static_cast<std::size_t>(j) % kQueues.size()];
    job.now_ms = now - (n + 250 - j) * 1000;
    waiting.push_back(std::move(job));
  }
  store.submit(waiting);
  for (const auto& q : kQueues) store.claim(q, 0, 10, "bench", "nautobot-job", now);
}

}  // namespace

int main(int argc, char** argv) {
  std::string store_url;
  int jobs = 100'000, iterations = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--store") {
      store_url = argv[i + 1];
    } else if (flag == "--jobs") {
      jobs = std::stoi(argv[i + 1]);
    } else if (flag == "--iterations") {
      iterations = std::stoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: history_load [--store URL|postgres] [--jobs N] [--iterations K]\n");
      return 2;
    }
  }
  std::unique_ptr<kjq::test::PostgresServer> postgres;
  std::filesystem::path scratch;
  if (store_url.empty()) {
    scratch = std::filesystem::temp_directory_path() / fmt::format("kjq-history-bench-{}", ::getpid());
    std::filesystem::create_directories(scratch);
    store_url = "sqlite:" + (scratch / "jobs.db").string();
  } else if (store_url == "postgres") {
    postgres = std::make_unique<kjq::test::PostgresServer>();
    store_url = postgres->create_database();
  }
  auto store = open_store(store_url);
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const auto fill_start = Clock::now();
  fill(*store, jobs, now);
  std::printf("store %s: %d finished jobs + 250 unfinished, filled in %.1f s\n", redact_store_url(store_url).c_str(),
              jobs, std::chrono::duration<double>(Clock::now() - fill_start).count());
  if (postgres) {
    // What autovacuum has done a minute after a load like this one: statistics for the planner,
    // and the visibility map that lets the counts be answered from the indexes alone.
    postgres->psql("VACUUM ANALYZE jobs", store_url.substr(store_url.rfind('/') + 1));
    std::printf("VACUUM ANALYZE jobs (as autovacuum would after the load)\n");
  }
  // On PostgreSQL a count folds whatever deltas of the load are left into job_counts (the fill's
  // last claims fold too): a one-off cost, not in the figures below, so it is shown here.
  const auto first_count = Clock::now();
  store->queue_counts();
  std::printf("first queue counts after the load: %.1f ms\n",
              std::chrono::duration<double, std::milli>(Clock::now() - first_count).count());
  std::printf("\n");

  auto query = [](std::vector<std::pair<std::string, std::string>> params) {
    auto q = parse_list_query(params);
    if (!q.error.empty()) throw std::runtime_error(q.error);
    return q.filter;
  };
  auto page = [&](const JobFilter& f) {
    return [&store, f] {
      const std::string body = list_jobs_json(*store, f, "nautobot").dump();
      if (body.size() < 10) std::abort();
    };
  };
  const JobFilter first_page = query({{"order", "newest"}});
  const JobFilter failures = query({{"order", "newest"}, {"states", "Failed"}, {"limit", "10"}});
  const JobFilter by_reason = query({{"order", "newest"}, {"reason", "OOMKilled"}});
  const JobFilter by_prefix = query({{"order", "newest"}, {"idPrefix", "9e3"}});
  JobFilter last_day = query({{"order", "newest"}, {"queue", "reports"}});
  last_day.since_ms = now - kDay;
  JobFilter deep = first_page;
  deep.after_seq = jobs / 2;

  struct Row {
    std::string what;
    Figures f;
  };
  std::vector<Row> rows;
  rows.push_back({"first page, newest first (100 jobs, counts, JSON)", time_it(iterations, page(first_page))});
  rows.push_back({"page 500 of 1,000, newest first (cursor)", time_it(iterations, page(deep))});
  rows.push_back({"states=Failed, newest, limit 10 (latest failures)", time_it(iterations, page(failures))});
  rows.push_back({"reason=OOMKilled, newest", time_it(iterations, page(by_reason))});
  rows.push_back({"idPrefix=9e3, newest", time_it(iterations, page(by_prefix))});
  rows.push_back({"queue=reports, created in the last day, newest", time_it(iterations, page(last_day))});
  rows.push_back({"queue counts (GET /api/v1/queues)", time_it(iterations, [&] { store->queue_counts(); })});
  rows.push_back({"ended in the last hour and in the last day, per queue (2 queries)", time_it(iterations, [&] {
                    store->ended_since(now - kHour);
                    store->ended_since(now - kDay);
                  })});
  rows.push_back({"one queue's counts, ended in the last day (finishedAt range)", time_it(iterations, [&] {
                    JobFilter f;
                    f.queue = "reports";
                    f.time_field = TimeField::Finished;
                    f.since_ms = now - kDay;
                    store->count_states(f);
                  })});
  rows.push_back({"overview: queue counts, latest failures, ended in the last hour and day", time_it(iterations, [&] {
                    store->queue_counts();
                    list_jobs_json(*store, failures, "nautobot").dump();
                    store->ended_since(now - kHour);
                    store->ended_since(now - kDay);
                  })});
  std::printf("| query (%d runs each) | p50 ms | p90 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|\n", iterations);
  for (const auto& r : rows)
    std::printf("| %s | %.2f | %.2f | %.2f | %.2f |\n", r.what.c_str(), r.f.p50, r.f.p90, r.f.p99, r.f.max);
  store.reset();
  if (!scratch.empty()) std::filesystem::remove_all(scratch);
  return 0;
}

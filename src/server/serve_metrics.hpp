#pragma once
// The Prometheus metrics of `kjq serve` (prometheus-cpp's core registry; text exposition served by
// the service's own HTTP listener). Counters that live elsewhere (the REST client's retries, the
// informer's watch restarts) and gauges read from the store are brought up to date at scrape time.
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/summary.h>

#include "server/store/job_record.hpp"

namespace kjq::server {

struct ExternalCounts {
  long api_requests = 0, api_retries = 0, api_throttled = 0, token_reloads = 0;
  long job_watch_restarts = 0, pod_watch_restarts = 0, relists = 0, watch_failures = 0;
  long writebacks_pending = 0;
  long tls_reloads = 0, tls_reload_failures = 0, tls_handshake_failures = 0;
  // Nautobot's schedules fired by kjq (--run-schedules), from the schedule runner's counts.
  bool schedules = false;
  long schedule_fired = 0, schedule_late = 0, schedule_skipped = 0, schedule_failed = 0, schedule_errored = 0;
  long schedules_firing = 0;
};

class ServeMetrics {
 public:
  ServeMetrics();

  void observe_submit_to_create(double seconds) {
    submit_to_create_.Observe(seconds);
    submit_to_create_q_.Observe(seconds);
  }
  void observe_event_to_record(double seconds) {
    event_to_record_.Observe(seconds);
    event_to_record_q_.Observe(seconds);
  }
  void count_submitted(long n) { submitted_.Increment(static_cast<double>(n)); }
  void count_create_failure() { create_failures_.Increment(); }
  void count_reconcile() { reconciles_.Increment(); }
  // A write-back into Nautobot's database ended: outcome written, already_final, not_found,
  // not_final_after_success (a check), or failed (an error retrying cannot fix).
  void count_writeback(const std::string& outcome) { writebacks_.Add({{"outcome", outcome}}).Increment(); }
  void count_writeback_error() { writeback_errors_.Increment(); }
  // Finished jobs deleted by retention, and retention passes that failed.
  void count_pruned(long n) { pruned_.Increment(static_cast<double>(n)); }
  void count_prune_error() { prune_errors_.Increment(); }
  // From the Job's recorded end to the committed write.
  void observe_end_to_writeback(double seconds) {
    end_to_writeback_.Observe(seconds);
    end_to_writeback_q_.Observe(seconds);
  }

  // How late a scheduled run was handed to the queue after its due time.
  void observe_schedule_lateness(double seconds) { schedule_lateness_q_.Observe(seconds); }

  // Renders the text exposition after refreshing the store gauges and external counters.
  std::string scrape(const std::vector<QueueCounts>& counts, const std::map<std::string, int>& limits,
                     const ExternalCounts& external);

 private:
  void set_external(prometheus::Counter& c, long value);

  std::mutex mu_;  // scrape() refreshes shared gauges
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Histogram& submit_to_create_;
  prometheus::Histogram& event_to_record_;
  // The same two latencies as quantiles over the last 10 minutes (p50, p90, p99): what an
  // operator and bench/serve read directly; the histograms are what Prometheus aggregates.
  prometheus::Summary& submit_to_create_q_;
  prometheus::Summary& event_to_record_q_;
  prometheus::Counter& submitted_;
  prometheus::Counter& create_failures_;
  prometheus::Counter& reconciles_;
  prometheus::Family<prometheus::Gauge>& jobs_;
  prometheus::Family<prometheus::Gauge>& depth_;
  prometheus::Family<prometheus::Gauge>& limit_;
  prometheus::Counter& api_requests_;
  prometheus::Counter& api_retries_;
  prometheus::Counter& api_throttled_;
  prometheus::Counter& token_reloads_;
  prometheus::Family<prometheus::Counter>& watch_restarts_;
  prometheus::Counter& relists_;
  prometheus::Counter& watch_failures_;
  prometheus::Family<prometheus::Counter>& writebacks_;
  prometheus::Counter& writeback_errors_;
  prometheus::Gauge& writebacks_pending_;
  prometheus::Histogram& end_to_writeback_;
  prometheus::Summary& end_to_writeback_q_;
  prometheus::Counter& pruned_;
  prometheus::Counter& prune_errors_;
  prometheus::Counter& tls_reloads_;
  prometheus::Counter& tls_reload_failures_;
  prometheus::Counter& tls_handshake_failures_;
  // Queues reported before: one whose every record retention deleted reads 0, not its last count.
  std::set<std::string> reported_queues_;
  prometheus::Family<prometheus::Counter>& schedule_runs_;
  prometheus::Gauge& schedules_firing_;
  prometheus::Summary& schedule_lateness_q_;
};

}  // namespace kjq::server

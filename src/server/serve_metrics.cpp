#include "server/serve_metrics.hpp"

#include <prometheus/text_serializer.h>

namespace kjq::server {

namespace {
// From 1 ms to 30 s: submit-to-create is milliseconds when the API server is healthy and seconds
// when it throttles or the queue's cap holds a job back.
prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

prometheus::Histogram& histogram(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({}, latency_buckets());
}

prometheus::Summary& summary(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildSummary().Name(name).Help(help).Register(r).Add(
      {}, prometheus::Summary::Quantiles{{0.5, 0.01}, {0.9, 0.005}, {0.99, 0.001}}, std::chrono::minutes(10), 5);
}

prometheus::Counter& counter(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}
}  // namespace

ServeMetrics::ServeMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      submit_to_create_(histogram(*registry_, "kjq_serve_submit_to_create_seconds",
                                  "Time from a job's submission to the API server's answer to its Job create")),
      event_to_record_(histogram(*registry_, "kjq_serve_event_to_record_seconds",
                                 "Time from a watch event's arrival to the store update it caused")),
      submit_to_create_q_(summary(*registry_, "kjq_serve_submit_to_create_quantiles_seconds",
                                  "Submit-to-create latency quantiles over the last 10 minutes")),
      event_to_record_q_(summary(*registry_, "kjq_serve_event_to_record_quantiles_seconds",
                                 "Event-to-record lag quantiles over the last 10 minutes")),
      submitted_(counter(*registry_, "kjq_serve_jobs_submitted_total", "Jobs accepted by POST /api/v1/jobs")),
      create_failures_(counter(*registry_, "kjq_serve_job_create_failures_total",
                               "Job creates the API server refused or did not answer (after the client's retries)")),
      reconciles_(counter(*registry_, "kjq_serve_reconciles_total", "Full reconciles of every unfinished job")),
      jobs_(prometheus::BuildGauge()
                .Name("kjq_serve_jobs")
                .Help("Jobs in the store by queue and state")
                .Register(*registry_)),
      depth_(prometheus::BuildGauge()
                 .Name("kjq_serve_queue_depth")
                 .Help("Jobs waiting (Queued) per queue")
                 .Register(*registry_)),
      limit_(prometheus::BuildGauge()
                 .Name("kjq_serve_queue_limit")
                 .Help("Concurrency cap per queue (0: none)")
                 .Register(*registry_)),
      api_requests_(counter(*registry_, "kjq_serve_api_requests_total", "Kubernetes API requests sent")),
      api_retries_(counter(*registry_, "kjq_serve_api_retries_total",
                           "Kubernetes API requests retried (429, 5xx, connection errors)")),
      api_throttled_(counter(*registry_, "kjq_serve_api_throttle_waits_total",
                             "Kubernetes API requests that waited for the client-side rate limit")),
      token_reloads_(counter(*registry_, "kjq_serve_token_reloads_total",
                             "Service account token re-reads forced by a 401 answer")),
      watch_restarts_(prometheus::BuildCounter()
                          .Name("kjq_serve_watch_restarts_total")
                          .Help("Watches resumed or relisted after their stream ended or broke")
                          .Register(*registry_)),
      relists_(counter(*registry_, "kjq_serve_watch_relists_total", "Full relists after 410 Gone")),
      watch_failures_(counter(*registry_, "kjq_serve_watch_failures_total",
                              "Watches that failed in a way retrying did not fix (403, ...); retried with backoff")),
      writebacks_(prometheus::BuildCounter()
                      .Name("kjq_serve_nautobot_writebacks_total")
                      .Help("Ends of Nautobot's Jobs handled against Nautobot's database, by outcome")
                      .Register(*registry_)),
      writeback_errors_(counter(*registry_, "kjq_serve_nautobot_writeback_errors_total",
                                "Write-back attempts that failed and will be retried (database unreachable, ...)")),
      writebacks_pending_(prometheus::BuildGauge()
                              .Name("kjq_serve_nautobot_writebacks_pending")
                              .Help("Write-backs into Nautobot's database not done yet")
                              .Register(*registry_)
                              .Add({})),
      end_to_writeback_(histogram(*registry_, "kjq_serve_nautobot_end_to_writeback_seconds",
                                  "Time from a Nautobot Job's recorded end to its committed write-back")),
      end_to_writeback_q_(summary(*registry_, "kjq_serve_nautobot_end_to_writeback_quantiles_seconds",
                                  "End-to-write-back latency quantiles over the last 10 minutes")),
      pruned_(counter(*registry_, "kjq_serve_pruned_jobs_total",
                      "Finished jobs deleted from the store by retention (--retain-finished, --retain-max-finished)")),
      prune_errors_(counter(*registry_, "kjq_serve_prune_errors_total",
                            "Retention passes that failed (tried again at the next interval)")),
      tls_reloads_(
          counter(*registry_, "kjq_serve_tls_reloads_total", "Changed --tls-cert/--tls-key pairs put into service")),
      tls_reload_failures_(counter(*registry_, "kjq_serve_tls_reload_failures_total",
                                   "Changed --tls-cert/--tls-key pairs that could not be used (the previous kept)")),
      tls_handshake_failures_(counter(*registry_, "kjq_serve_tls_handshake_failures_total",
                                      "Connections closed because their TLS handshake failed")),
      schedule_runs_(prometheus::BuildCounter()
                         .Name("kjq_serve_schedule_runs_total")
                         .Help("Runs of Nautobot's schedules by outcome: fired, late (fired more than 1 s after "
                               "due), skipped (catch-up policy, starting deadline), failed (marked FAILURE), "
                               "errored (schedule disabled: user or Job gone)")
                         .Register(*registry_)),
      schedules_firing_(prometheus::BuildGauge()
                            .Name("kjq_serve_schedules_firing")
                            .Help("Nautobot schedules on Kubernetes queues that kjq fires")
                            .Register(*registry_)
                            .Add({})),
      schedule_lateness_q_(summary(*registry_, "kjq_serve_schedule_lateness_quantiles_seconds",
                                   "Due-to-hand-over lateness of scheduled runs over the last 10 minutes")) {
  // Every outcome from the start, at 0: a rate over a series that appears late misses its first step.
  for (const char* outcome : {"written", "already_final", "not_found", "checked", "not_final_after_success", "failed"})
    writebacks_.Add({{"outcome", outcome}});
  for (const char* outcome : {"fired", "late", "skipped", "failed", "errored"})
    schedule_runs_.Add({{"outcome", outcome}});
}

void ServeMetrics::set_external(prometheus::Counter& c, long value) {
  const double delta = static_cast<double>(value) - c.Value();
  if (delta > 0) c.Increment(delta);
}

std::string ServeMetrics::scrape(const std::vector<QueueCounts>& counts, const std::map<std::string, int>& limits,
                                 const ExternalCounts& external) {
  std::lock_guard lock(mu_);
  std::set<std::string> gone = reported_queues_;
  for (const auto& q : counts) gone.erase(q.queue);
  for (const auto& queue : gone) {
    for (const char* state : {"Queued", "Submitted", "Scheduled", "Running", "Succeeded", "Failed", "Cancelled"})
      jobs_.Add({{"queue", queue}, {"state", state}}).Set(0);
    depth_.Add({{"queue", queue}}).Set(0);
  }
  for (const auto& q : counts) {
    reported_queues_.insert(q.queue);
    const std::pair<const char*, std::int64_t> by_state[] = {
        {"Queued", q.queued},       {"Submitted", q.submitted}, {"Scheduled", q.scheduled}, {"Running", q.running},
        {"Succeeded", q.succeeded}, {"Failed", q.failed},       {"Cancelled", q.cancelled}};
    for (const auto& [state, n] : by_state)
      jobs_.Add({{"queue", q.queue}, {"state", state}}).Set(static_cast<double>(n));
    depth_.Add({{"queue", q.queue}}).Set(static_cast<double>(q.queued));
  }
  for (const auto& [queue, limit] : limits) limit_.Add({{"queue", queue}}).Set(limit);
  set_external(api_requests_, external.api_requests);
  set_external(api_retries_, external.api_retries);
  set_external(api_throttled_, external.api_throttled);
  set_external(token_reloads_, external.token_reloads);
  set_external(watch_restarts_.Add({{"resource", "jobs"}}), external.job_watch_restarts);
  set_external(watch_restarts_.Add({{"resource", "pods"}}), external.pod_watch_restarts);
  set_external(relists_, external.relists);
  set_external(watch_failures_, external.watch_failures);
  writebacks_pending_.Set(static_cast<double>(external.writebacks_pending));
  set_external(tls_reloads_, external.tls_reloads);
  set_external(tls_reload_failures_, external.tls_reload_failures);
  set_external(tls_handshake_failures_, external.tls_handshake_failures);
  if (external.schedules) {
    set_external(schedule_runs_.Add({{"outcome", "fired"}}), external.schedule_fired);
    set_external(schedule_runs_.Add({{"outcome", "late"}}), external.schedule_late);
    set_external(schedule_runs_.Add({{"outcome", "skipped"}}), external.schedule_skipped);
    set_external(schedule_runs_.Add({{"outcome", "failed"}}), external.schedule_failed);
    set_external(schedule_runs_.Add({{"outcome", "errored"}}), external.schedule_errored);
    schedules_firing_.Set(static_cast<double>(external.schedules_firing));
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace kjq::server

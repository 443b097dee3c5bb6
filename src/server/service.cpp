#include "server/service.hpp"

#include <spdlog/spdlog.h>

#include "kube/api.hpp"
#include "kube/object_meta.hpp"
#include "nautobot/job_result_writer.hpp"
#include "queue/manifest_store.hpp"
#include "schedule/schedule_listing.hpp"
#include "schedule/schedule_runner.hpp"
#include "server/admission.hpp"
#include "server/bearer_tokens.hpp"
#include "server/change_feed.hpp"
#include "server/dashboard.hpp"
#include "server/http_api.hpp"
#include "server/job_informer.hpp"
#include "server/job_tracker.hpp"
#include "server/nautobot_writeback.hpp"
#include "server/publishing_store.hpp"
#include "server/retention.hpp"
#include "server/serve_metrics.hpp"
#include "server/store/job_store.hpp"
#include "server/submit_batcher.hpp"
#include "server/tls_certificates.hpp"
#include "util/clock.hpp"
#include "util/diagnostic.hpp"

namespace kjq::server {

std::pair<std::string, int> parse_listen(const std::string& address, const std::string& flag) {
  const auto colon = address.rfind(':');
  int port = -1;
  const std::string digits = colon == std::string::npos ? "" : address.substr(colon + 1);
  const bool all_digits =
      !digits.empty() && digits.size() <= 5 && digits.find_first_not_of("0123456789") == std::string::npos;
  if (colon != std::string::npos && colon > 0 && all_digits) {
    try {
      std::size_t used = 0;
      port = std::stoi(address.substr(colon + 1), &used);
      if (used != address.size() - colon - 1) port = -1;
    } catch (const std::exception&) {
      port = -1;
    }
  }
  if (port < 0 || port > 65535)
    throw InputError(Diagnostic{
        flag, 0, 0, "", "expected HOST:PORT such as 127.0.0.1:8080 (port 0: any free port), got \"" + address + "\""});
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {host, port};
}

struct Service::Parts {
  std::unique_ptr<kube::RestClient> client;
  std::unique_ptr<kube::KubeApi> api;
  std::unique_ptr<ChangeFeed> feed;  // before the store, which publishes to it: it outlives it
  std::unique_ptr<JobStore> store;
  std::unique_ptr<queue::ManifestStore> manifests;
  std::unique_ptr<BearerTokens> tokens, viewer_tokens;
  ServeMetrics metrics;
  std::unique_ptr<SubmitBatcher> batcher;
  std::unique_ptr<JobInformer> informer;
  std::unique_ptr<Admission> admission;
  std::unique_ptr<JobTracker> tracker;
  std::unique_ptr<NautobotWriteBack> writeback;
  std::unique_ptr<RetentionPruner> pruner;
  // --run-schedules: Nautobot's schedules fired here (their own connections to Nautobot's database).
  std::unique_ptr<schedule::ScheduleDatabase> schedule_db;
  std::unique_ptr<nautobot::JobResultWriter> schedule_writer;
  std::unique_ptr<schedule::ScheduleRunner> schedules;
  std::unique_ptr<ApiContext> ctx;
  std::shared_ptr<TlsCertificates> tls;
  std::unique_ptr<http::HttpServer> api_server, metrics_server;
  std::string api_url, metrics_url;
  bool started = false;
};

Service::Service(ServiceConfig config, std::unique_ptr<kube::RestClient> client)
    : config_(std::move(config)), parts_(std::make_unique<Parts>()) {
  parts_->client = std::move(client);
  parts_->api = std::make_unique<kube::KubeApi>(*parts_->client);
}

Service::~Service() { stop(); }

namespace {
std::unique_ptr<http::HttpServer> make_server(int threads, std::size_t max_connections) {
  http::Limits limits;
  limits.worker_threads = threads;
  limits.max_connections = max_connections;
  limits.max_body_bytes = 1024 * 1024;  // job data is kwargs, not files
  return std::make_unique<http::HttpServer>(limits);
}

std::string start_listener(http::HttpServer& s, const std::string& address, const std::string& flag, bool tls) {
  auto [host, port] = parse_listen(address, flag);
  int bound = -1;
  try {
    bound = s.listen(host, port);
  } catch (const RuntimeError& e) {
    throw RuntimeError(flag + ": cannot listen on " + address + " (" + e.what() + ")");
  }
  return (tls ? "https://" : "http://") + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(bound);
}
}  // namespace

void Service::start() {
  Parts& p = *parts_;
  if (config_.options.replica.empty()) config_.options.replica = "kjq-serve";
  p.tokens = std::make_unique<BearerTokens>(config_.api_token_file);
  // Checked before anything starts, like the token file.
  if (!config_.tls_cert_file.empty() || !config_.tls_key_file.empty()) {
    if (config_.tls_cert_file.empty() || config_.tls_key_file.empty()) {
      throw InputError(Diagnostic{config_.tls_cert_file.empty() ? "--tls-key" : "--tls-cert", 0, 0, "",
                                  "needs --tls-cert and --tls-key together (the certificate and its key)"});
    }
    p.tls = std::make_shared<TlsCertificates>(config_.tls_cert_file, config_.tls_key_file);
  }
  if (!config_.viewer_token_file.empty())
    p.viewer_tokens = std::make_unique<BearerTokens>(config_.viewer_token_file, "--viewer-token-file");
  ChangeFeedOptions feed_options;
  feed_options.heartbeat_interval = config_.event_heartbeat;
  p.feed = std::make_unique<ChangeFeed>(feed_options);
  // Every part writes through the publishing store, so the feed sees every change.
  p.store = std::make_unique<PublishingStore>(open_store(config_.store_url), *p.feed);
  p.manifests = std::make_unique<queue::ManifestStore>(config_.job_queues_dir, config_.fallback_manifest);
  p.batcher = std::make_unique<SubmitBatcher>(*p.store);
  if (config_.nautobot_database) {
    auto writer = std::make_unique<nautobot::JobResultWriter>(*config_.nautobot_database);
    try {
      writer->check_schema();  // not Nautobot's tables: refuse to start rather than fail every write
    } catch (const nautobot::RetryableError& e) {
      spdlog::warn("Nautobot's database is not reachable yet ({}); write-backs wait and retry", e.what());
    }
    config_.options.nautobot_writeback = true;
    p.writeback = std::make_unique<NautobotWriteBack>(*p.store, std::move(writer), p.metrics,
                                                      config_.options.nautobot_success_grace);
  }
  p.informer = std::make_unique<JobInformer>(
      *p.api, config_.options.namespace_name, config_.options.instance,
      kube::LabelSelector::parse(config_.options.nautobot_job_selector, "--nautobot-job-selector"),
      config_.options.watch_timeout_seconds);
  p.admission = std::make_unique<Admission>(*p.store, *p.api, *p.manifests, config_.options, p.metrics);
  p.tracker = std::make_unique<JobTracker>(*p.store, *p.api, *p.informer, *p.admission, config_.options, p.metrics);
  if (config_.schedules) start_schedules();
  p.admission->set_event_backlog([t = p.tracker.get()] { return t->event_backlog_age(); });
  if (p.writeback) p.tracker->set_on_writeback([w = p.writeback.get()] { w->wake(); });
  // ApiContext is an aggregate of references: std::make_unique would need C++20's parenthesized
  // aggregate initialization, which clang 14 (the asan preset) does not have.
  // NOLINTNEXTLINE(modernize-make-unique)
  p.ctx = std::unique_ptr<ApiContext>(new ApiContext{
      *p.store, *p.batcher, *p.admission, *p.tracker, *p.informer, p.metrics, config_.options, *p.manifests, *p.tokens,
      config_.values_queues.has_value(), config_.values_queues.value_or(std::set<std::string>{}), nullptr, nullptr,
      p.viewer_tokens.get(), p.feed.get(), nullptr});
  p.ctx->external_counts = [&p] {
    ExternalCounts c;
    auto& s = p.client->stats();
    c.api_requests = s.requests;
    c.api_retries = s.retries;
    c.api_throttled = s.throttled;
    c.token_reloads = s.token_reloads;
    InformerStats i = p.informer->stats();
    c.job_watch_restarts = i.job_watch_restarts;
    c.pod_watch_restarts = i.pod_watch_restarts;
    c.relists = i.relists;
    c.watch_failures = i.failures;
    if (p.writeback) c.writebacks_pending = p.store->pending_writebacks();
    if (p.tls) {
      const auto t = p.tls->stats();
      c.tls_reloads = static_cast<long>(t.reloads);
      c.tls_reload_failures = static_cast<long>(t.refused);
      c.tls_handshake_failures =
          static_cast<long>(p.api_server->stats().tls_handshake_failures +
                            (p.metrics_server ? p.metrics_server->stats().tls_handshake_failures : 0));
    }
    if (p.schedules) {
      const auto st = p.schedules->stats();
      c.schedules = true;
      c.schedule_fired = static_cast<long>(st.fired);
      c.schedule_late = static_cast<long>(st.late);
      c.schedule_skipped = static_cast<long>(st.skipped);
      c.schedule_failed = static_cast<long>(st.failed);
      c.schedule_errored = static_cast<long>(st.errored);
      c.schedules_firing = static_cast<long>(st.firing);
    }
    return c;
  };
  if (p.schedules)
    p.ctx->schedules = [&p] {
      return schedule::schedule_views_to_json(p.schedules->schedules(), schedule::ScheduleRunner::system_now());
    };
  p.ctx->optional_problems = [&p]() -> std::string {
    std::string why;
    if (p.schedules && !p.schedules->healthy(&why)) return "nautobot database: schedules cannot be fired (" + why + ")";
    if (!p.writeback || p.writeback->healthy(&why)) return "";
    return "nautobot database: write-backs failing, " + std::to_string(p.store->pending_writebacks()) + " pending (" +
           why + ")";
  };

  p.api_server = make_server(config_.http_threads, config_.max_connections);
  install_job_api(*p.api_server, *p.ctx);
  install_dashboard(*p.api_server);
  if (config_.metrics_listen.empty()) {
    install_health_and_metrics(*p.api_server, *p.ctx);
  } else {
    p.metrics_server = make_server(2, 256);
    install_health_and_metrics(*p.metrics_server, *p.ctx);
  }
  if (p.tls) {
    p.api_server->use_tls(p.tls);
    if (p.metrics_server) p.metrics_server->use_tls(p.tls);
  }

  p.feed->start();
  p.tracker->start();
  p.informer->start(
      [&p](const std::string& name, std::chrono::steady_clock::time_point seen) { p.tracker->changed(name, seen); },
      [&p](const nlohmann::json& job) {
        try {
          p.tracker->adopt(job);
        } catch (const std::exception& e) {  // the store: the tracker adopts it on its next look
          spdlog::warn("Job {}: not recorded yet: {}", kube::name_of(job), e.what());
        }
      });
  p.admission->start();
  if (p.writeback) p.writeback->start();
  if (config_.options.retention.enabled()) {
    p.pruner = std::make_unique<RetentionPruner>(*p.store, config_.options.retention, p.metrics);
    p.pruner->start();
  }
  if (p.schedules) p.schedules->start();
  // Listening last: a request never reaches a part that has not started.
  try {
    const bool tls = p.tls != nullptr;
    p.api_url = start_listener(*p.api_server, config_.listen, "--listen", tls);
    p.metrics_url = p.api_url;
    if (p.metrics_server)
      p.metrics_url = start_listener(*p.metrics_server, config_.metrics_listen, "--metrics-listen", tls);
  } catch (...) {
    p.started = true;
    stop();
    throw;
  }
  p.started = true;
  spdlog::info(
      "kjq serve {} on {} (store {}, namespace {}, jobs labelled {}={}{}{})", config_.options.replica, p.api_url,
      redact_store_url(config_.store_url), config_.options.namespace_name, kServeLabel, config_.options.instance,
      config_.options.nautobot_job_selector.empty() ? "" : ", Nautobot's Jobs " + config_.options.nautobot_job_selector,
      config_.nautobot_database ? ", their ends written to " + config_.nautobot_database->display_name() : "");
}

void Service::stop() {
  Parts& p = *parts_;
  if (!p.started) return;
  p.started = false;
  if (p.feed) p.feed->stop();  // ends the event streams, so the listener's stop does not wait on them
  if (p.api_server) p.api_server->stop();
  if (p.metrics_server) p.metrics_server->stop();
  if (p.schedules) p.schedules->stop();  // no new runs while the parts that create them stop
  p.admission->stop();
  p.informer->stop();
  p.tracker->stop();
  if (p.writeback) p.writeback->stop();
  if (p.pruner) p.pruner->stop();
}

void Service::start_schedules() {
  Parts& p = *parts_;
  // Two connections: the runs due at one moment are claimed in two transactions side by side.
  p.schedule_db = std::make_unique<schedule::ScheduleDatabase>(*config_.nautobot_database, 2);
  try {
    p.schedule_db->check_schema();  // a newer Nautobot's JobResult: refuse to start rather than write broken rows
  } catch (const nautobot::RetryableError& e) {
    spdlog::warn("Nautobot's database is not reachable yet ({}); schedules fire once it is", e.what());
  }
  p.schedule_writer = std::make_unique<nautobot::JobResultWriter>(*config_.nautobot_database);
  schedule::RunnerOptions options;
  options.claim.namespace_name = config_.options.namespace_name;
  options.claim.name_prefix = config_.options.name_prefix;
  options.claim.catch_up = *config_.schedules;
  schedule::RunHooks hooks;
  // A run goes into kjq's own queue under its JobResult id (idempotent): admission creates its
  // Job <prefix>-<id> from the queue's manifest as for any job, under the queue's cap.
  hooks.submit = [&p](const std::vector<schedule::FiredRun>& runs) {
    std::vector<NewJob> jobs;
    jobs.reserve(runs.size());
    for (const auto& run : runs) {
      NewJob job;
      job.id = run.job_result_id;
      job.queue = run.queue;
      job.data_json = run.data_json;
      job.now_ms = now_ms();
      jobs.push_back(std::move(job));
    }
    p.store->submit(jobs);
    p.admission->wake();
  };
  hooks.lookup = [&p](const std::string& id) -> std::optional<schedule::RunState> {
    const auto record = p.store->get(id);
    if (!record) return std::nullopt;
    schedule::RunState state;
    state.final = is_final(record->state);
    state.succeeded = record->state == JobState::Succeeded;
    state.reason = record->reason;
    state.message = record->message;
    return state;
  };
  hooks.fail = [&p](const std::string& id, const std::string& reason, const std::string& message) {
    nautobot::JobEnd end;
    end.job_result_id = id;
    end.ended_at = std::chrono::system_clock::now();
    end.reason = reason.empty() ? "Failed" : reason;
    end.message = message;
    p.schedule_writer->write_failure(end);
  };
  hooks.fired = [&p](const schedule::FiredRun&, std::chrono::microseconds lateness) {
    p.metrics.observe_schedule_lateness(static_cast<double>(lateness.count()) / 1e6);
  };
  p.schedules = std::make_unique<schedule::ScheduleRunner>(*p.schedule_db, options, std::move(hooks));
}

std::string Service::api_url() const { return parts_->api_url; }
std::string Service::metrics_url() const { return parts_->metrics_url; }

}  // namespace kjq::server

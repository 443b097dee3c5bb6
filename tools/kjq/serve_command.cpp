// kjq serve: the long-running job service (src/server). Flags only; SIGINT/SIGTERM stop it.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "kube/label_selector.hpp"
#include "kube_flags.hpp"
#include "nautobot/nautobot_database.hpp"
#include "queue/job_preparation.hpp"
#include "queue/manifest_store.hpp"
#include "schedule/catch_up.hpp"
#include "server/queue_limits.hpp"
#include "server/retention.hpp"
#include "server/service.hpp"
#include "util/diagnostic.hpp"
#include "util/display_text.hpp"
#include "util/service_heap.hpp"
#include "values/job_queues.hpp"
#include "values/validate.hpp"
#include "values_flags.hpp"

namespace kjq::cli {
namespace {
struct ServeFlags {
  KubeFlags kube;
  server::ServiceConfig config;
  values::ValuesOptions values;
  int default_limit = 0, start_deadline = 300, reconcile_interval = 30;
  std::string job_queues_dir;
  std::string nautobot_database, nautobot_password_file;
  int nautobot_success_grace = 120;
  std::string retain_finished;
  std::int64_t retain_max_finished = -1;  // -1: no limit
  int event_heartbeat = 15;
  bool run_schedules = false;
  std::string schedule_catch_up = "once";
  int schedule_starting_deadline = 0;
};

std::string hostname_or(const std::string& fallback) {
  char buf[256] = {};
  return gethostname(buf, sizeof buf - 1) == 0 && buf[0] ? std::string(buf) : fallback;
}

int run_serve(ServeFlags& f) {
  util::use_service_heap();
  setup_logging(f.kube.verbose);
  server::ServiceConfig c = f.config;
  c.options.limits.set_default(f.default_limit);
  if (!f.values.files.empty() || !f.values.set.empty() || !f.values.set_string.empty()) {
    auto doc = values::load_values(f.values);
    if (auto problems = values::validate_values(doc); !problems.empty()) throw InputError(problems);
    c.options.limits = server::QueueLimits::from_values(doc.merged);
    c.options.limits.set_default(f.default_limit);
    c.values_queues.emplace();
    for (const auto& q : values::kubernetes_queue_names(doc.merged)) c.values_queues->insert(q);
  }
  const char* base = std::getenv("NAUTOBOT_JOB_QUEUE_PATH");
  c.job_queues_dir = !f.job_queues_dir.empty() ? f.job_queues_dir : (base && *base ? base : queue::kDefaultQueueBase);
  if (const char* m = std::getenv("NAUTOBOT_KUBERNETES_JOB_MANIFEST"); m && *m) c.fallback_manifest = m;
  c.options.name_prefix = queue::pod_name_prefix_from_env();
  c.options.config_path = queue::config_path_from_env();
  c.options.start_deadline = std::chrono::seconds(f.start_deadline);
  c.options.reconcile_interval = std::chrono::seconds(std::max(1, f.reconcile_interval));
  c.event_heartbeat = std::chrono::seconds(std::clamp(f.event_heartbeat, 1, 3600));
  if (c.options.replica.empty()) c.options.replica = hostname_or("kjq-serve");
  kube::LabelSelector::parse(c.options.nautobot_job_selector,
                             "--nautobot-job-selector");  // checked before anything starts
  if (!f.nautobot_database.empty())
    c.nautobot_database = nautobot::NautobotDatabase::from_flags(f.nautobot_database, f.nautobot_password_file);
  else if (!f.nautobot_password_file.empty())
    throw InputError(Diagnostic{nautobot::kPasswordFileFlag, 0, 0, "",
                                std::string("needs ") + nautobot::kDatabaseFlag + " (the database to write to)"});
  c.options.nautobot_success_grace = std::chrono::seconds(std::max(0, f.nautobot_success_grace));
  if (!f.retain_finished.empty())
    c.options.retention.finished_for = server::parse_retention_duration(f.retain_finished, "--retain-finished");
  if (f.retain_max_finished >= 0) c.options.retention.max_finished = f.retain_max_finished;
  if (f.run_schedules) {
    if (!c.nautobot_database)
      throw InputError(
          Diagnostic{"--run-schedules", 0, 0, "",
                     std::string("needs ") + nautobot::kDatabaseFlag + " (where Nautobot's schedules are)"});
    const auto policy = schedule::parse_catch_up(f.schedule_catch_up);
    if (!policy)
      throw InputError(Diagnostic{"--schedule-catch-up", 0, 0, "",
                                  "expected none, once or all, got \"" + display_text(f.schedule_catch_up) + "\""});
    if (f.schedule_starting_deadline < 0)
      throw InputError(
          Diagnostic{"--schedule-starting-deadline", 0, 0, "",
                     "expected seconds ≥ 0 (0: none), got " + std::to_string(f.schedule_starting_deadline)});
    schedule::CatchUpOptions catch_up;
    catch_up.policy = *policy;
    catch_up.starting_deadline = std::chrono::seconds(f.schedule_starting_deadline);
    c.schedules = catch_up;
  }

  auto session = open_session(f.kube);
  c.options.namespace_name = session.ns;
  server::Service service(std::move(c), std::move(session.client));

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // every thread started below inherits the mask
  service.start();
  std::cerr << "kjq serve: listening on " << service.api_url() << " (health and metrics on " << service.metrics_url()
            << ")" << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  std::cerr << "kjq serve: stopping (signal " << sig << ")" << std::endl;
  service.stop();
  return kExitOk;
}
}  // namespace

Command add_serve_command(CLI::App& app) {
  auto f = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand(
      "serve",
      "Run the job service: an HTTP API that runs jobs on kubernetes queues and follows each to a recorded end");
  cmd->add_option("--listen", f->config.listen, "API address HOST:PORT (port 0: any free port)")->capture_default_str();
  cmd->add_option("--metrics-listen", f->config.metrics_listen,
                  "separate HOST:PORT for /healthz, /readyz and /metrics (default: on --listen)");
  cmd->add_option("--store", f->config.store_url,
                  "job store: sqlite:PATH (created on first start) or postgresql://USER@HOST/DB")
      ->capture_default_str();
  cmd->add_option("--api-token-file", f->config.api_token_file,
                  "file holding the bearer token API clients must send (re-read when it changes)")
      ->required();
  cmd->add_option("--tls-cert", f->config.tls_cert_file,
                  "PEM certificate (chain) of both listeners: they speak HTTPS (re-read when it changes, as "
                  "cert-manager rotates it); needs --tls-key");
  cmd->add_option("--tls-key", f->config.tls_key_file, "PEM private key of --tls-cert (re-read with it)");
  cmd->add_option("--viewer-token-file", f->config.viewer_token_file,
                  "file holding a bearer token that may only read: jobs, queues, events, the dashboard (re-read when "
                  "it changes)");
  cmd->add_option("--job-queues-dir", f->job_queues_dir,
                  "manifest base directory (default: $NAUTOBOT_JOB_QUEUE_PATH, else /etc/nautobot/job-queues)");
  add_values_flags(*cmd, f->values);
  cmd->add_option("--max-concurrency", f->default_limit,
                  "cap of every queue the values give no maxConcurrency (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--instance", f->config.options.instance,
                  "value of the kjq.nautobot.com/serve label: replicas sharing a store share it")
      ->capture_default_str();
  cmd->add_option("--replica", f->config.options.replica, "this replica's name in the store (default: the host name)");
  cmd->add_option("--log-tail-lines", f->config.options.evidence.log_tail_lines, "log lines kept per finished job")
      ->capture_default_str();
  cmd->add_option("--start-deadline", f->start_deadline,
                  "seconds a pod may stay unschedulable or unable to start (image pull, config) before the job fails")
      ->capture_default_str();
  cmd->add_option("--reconcile-interval", f->reconcile_interval,
                  "seconds between full passes over every unfinished job")
      ->capture_default_str();
  cmd->add_option("--event-heartbeat", f->event_heartbeat,
                  "seconds between heartbeat comments on idle event streams (GET /api/v1/events)")
      ->capture_default_str();
  cmd->add_option("--create-workers", f->config.options.create_workers, "parallel Job creates")->capture_default_str();
  cmd->add_option("--cancel-grace", f->config.options.default_cancel_grace_seconds,
                  "default grace period of a cancel, seconds")
      ->capture_default_str();
  cmd->add_option("--nautobot-job-selector", f->config.options.nautobot_job_selector,
                  "label selector of the Jobs Nautobot creates itself, followed too (\"\": only kjq's own)")
      ->capture_default_str();
  cmd->add_option(nautobot::kDatabaseFlag, f->nautobot_database,
                  "Nautobot's PostgreSQL database, postgresql://USER@HOST:PORT/DB: the ends of Nautobot's failed Jobs "
                  "are written onto their JobResults (password: --nautobot-database-password-file or PGPASSWORD)");
  cmd->add_option(nautobot::kPasswordFileFlag, f->nautobot_password_file,
                  "file holding the password of --nautobot-database (re-read on every connection)");
  cmd->add_option("--nautobot-success-grace", f->nautobot_success_grace,
                  "seconds after a Nautobot Job succeeded before a JobResult that is still not final is reported")
      ->capture_default_str();
  cmd->add_option("--retain-finished", f->retain_finished,
                  "delete finished jobs from the store this long after they ended (7d, 36h, 90m; default: keep)");
  cmd->add_option("--retain-max-finished", f->retain_max_finished,
                  "keep at most this many finished jobs, deleting the oldest ends first (default: no limit)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--run-schedules", f->run_schedules,
                "fire Nautobot's schedules on Kubernetes queues from --nautobot-database, in place of Celery Beat "
                "(turn Beat off: workers.beat.enabled=false)");
  cmd->add_option("--schedule-catch-up", f->schedule_catch_up,
                  "runs missed while no kjq was firing: none (skip them), once (the latest fires, as Beat does) or "
                  "all (each fires, at most 100)")
      ->capture_default_str();
  cmd->add_option("--schedule-starting-deadline", f->schedule_starting_deadline,
                  "seconds after its due time a run may still start; later ones are skipped (0: no deadline; with "
                  "--schedule-catch-up none: 60)")
      ->capture_default_str();
  add_kube_flags(*cmd, f->kube, "(unused)", {""});
  return [f] { return run_serve(*f); };
}

}  // namespace kjq::cli

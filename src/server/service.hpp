#pragma once
// `kjq serve` as one object: opens the store (migrating it), the Kubernetes client, the
// informer, the tracker, admission, and the HTTP listeners; stops them in reverse order.
// On start it reconciles every unfinished record against the Jobs it finds by label, so a
// restart at any moment loses no job and creates none twice.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "kube/rest_client.hpp"
#include "nautobot/nautobot_database.hpp"
#include "schedule/catch_up.hpp"
#include "server/serve_options.hpp"

namespace kjq::server {

struct ServiceConfig {
  ServeOptions options;
  std::string store_url = "sqlite:kjq-serve.db";
  std::string listen = "127.0.0.1:8080";
  std::string metrics_listen;  // "": health and metrics on `listen` too
  std::filesystem::path api_token_file;
  // --tls-cert/--tls-key: both listeners speak TLS with this pair (re-read when it changes).
  std::string tls_cert_file, tls_key_file;
  std::filesystem::path viewer_token_file;  // "": no read-only tokens
  // Heartbeat comments on open event streams (GET /api/v1/events).
  std::chrono::milliseconds event_heartbeat{15'000};
  std::filesystem::path job_queues_dir = "/etc/nautobot/job-queues";
  std::optional<std::string> fallback_manifest;  // NAUTOBOT_KUBERNETES_JOB_MANIFEST
  // The enabled kubernetes queues of the values (-f/--set), when values were given: then only
  // these are accepted. nullopt: any queue whose name is safe.
  std::optional<std::set<std::string>> values_queues;
  // --nautobot-database: where the ends of Nautobot's failed Jobs are written (nullopt: nowhere).
  std::optional<nautobot::NautobotDatabase> nautobot_database;
  // --run-schedules: Nautobot's schedules on Kubernetes queues are fired from nautobot_database
  // (nullopt: not fired; Celery Beat does it).
  std::optional<schedule::CatchUpOptions> schedules;
  int http_threads = 16;  // workers for requests that have arrived whole; connections need none
  std::size_t max_connections = 10'000;
};

class Service {
 public:
  Service(ServiceConfig config, std::unique_ptr<kube::RestClient> client);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Throws kjq::InputError / RuntimeError when the store, the token file or a listener fails.
  void start();
  void stop();
  // "http://HOST:PORT" ("https://" with TLS) of the API listener and of the health/metrics listener.
  std::string api_url() const;
  std::string metrics_url() const;

 private:
  void start_schedules();
  struct Parts;
  ServiceConfig config_;
  std::unique_ptr<Parts> parts_;
};

// "HOST:PORT" (port 0: any free port) → (host, port); throws kjq::InputError naming `flag`.
std::pair<std::string, int> parse_listen(const std::string& address, const std::string& flag);

}  // namespace kjq::server

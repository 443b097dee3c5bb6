#pragma once
// Settings of one `kjq serve` process (flags in tools/kjq/serve_command.cpp).
#include <chrono>
#include <string>

#include "server/evidence.hpp"
#include "server/queue_limits.hpp"
#include "server/retention_options.hpp"

namespace kjq::server {

inline constexpr const char* kServeLabel = "kjq.nautobot.com/serve";  // on Jobs and their pods
// The chart's label on every job manifest, hence on the Jobs Nautobot creates from them.
inline constexpr const char* kDefaultNautobotJobSelector = "app.kubernetes.io/component=nautobot-job";
// The chart's annotation naming a job manifest's queue (it survives Nautobot's mutation).
inline constexpr const char* kNautobotQueueAnnotation = "nautobot-job.io/worker-name";

struct ServeOptions {
  std::string namespace_name = "default";
  std::string instance = "kjq-serve";  // value of kServeLabel: the watches select on it
  std::string replica;                 // this process's name in the store's `owner` column
  std::string name_prefix = "nautobot-job";
  // Nautobot's own Jobs to follow too ("": none).
  std::string nautobot_job_selector = kDefaultNautobotJobSelector;
  // Write the end of Nautobot's failed Jobs into Nautobot's database (--nautobot-database).
  bool nautobot_writeback = false;
  // A Job that succeeded while its JobResult is not final after this long: a warning and a metric.
  std::chrono::seconds nautobot_success_grace{120};
  std::string config_path = "/opt/nautobot/nautobot_config.py";
  QueueLimits limits;
  EvidenceOptions evidence;
  RetentionOptions retention;                   // --retain-finished, --retain-max-finished
  int create_workers = 8;                       // parallel Job creates
  int claim_batch = 64;                         // jobs claimed per store transaction
  std::chrono::seconds start_deadline{300};     // a pod that cannot start fails after this
  std::chrono::seconds reconcile_interval{30};  // full pass over every unfinished job
  std::chrono::seconds orphan_grace{30};        // a claim without a Job, by another replica, is
                                                // retried only after this long
  int default_cancel_grace_seconds = 30;
  int watch_timeout_seconds = 300;
};

}  // namespace kjq::server

#pragma once
// The HTTP JSON API of `kjq serve` (docs/api.md, docs/openapi.yaml), served by http_server.hpp:
//   POST /api/v1/jobs, GET /api/v1/jobs[?queue=&states=&order=&…&continue=], GET /api/v1/jobs/{id},
//   POST /api/v1/jobs/{id}/cancel, GET /api/v1/queues,
//   POST /api/v1/queues/{name}/pause|resume, GET /api/v1/events (server-sent events),
//   GET /api/v1/whoami                                        (bearer token required)
//   GET /healthz, GET /readyz, GET /metrics                   (no token; may be a separate listener)
// Errors are {"error": {"code": N, "reason": "...", "message": "..."}}.
#include <functional>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "queue/manifest_store.hpp"
#include "server/admission.hpp"
#include "server/bearer_tokens.hpp"
#include "server/change_feed.hpp"
#include "server/http_server.hpp"
#include "server/job_informer.hpp"
#include "server/job_tracker.hpp"
#include "server/serve_metrics.hpp"
#include "server/serve_options.hpp"
#include "server/store/job_store.hpp"
#include "server/submit_batcher.hpp"

namespace kjq::server {

struct ApiContext {
  JobStore& store;
  SubmitBatcher& batcher;
  Admission& admission;
  JobTracker& tracker;
  JobInformer& informer;
  ServeMetrics& metrics;
  const ServeOptions& options;
  const queue::ManifestStore& manifests;
  BearerTokens& tokens;
  // With values (-f/--set): only their enabled kubernetes queues are accepted. Without: any
  // queue whose name is safe.
  bool restrict_queues = false;
  std::set<std::string> known_queues;
  std::function<ExternalCounts()> external_counts;
  // Problems of parts that are not always there (the write-back into Nautobot): "" when none.
  std::function<std::string()> optional_problems;
  // --viewer-token-file: tokens that may read but not submit, cancel or pause (nullptr: none).
  BearerTokens* viewer_tokens = nullptr;
  // The feed behind GET /api/v1/events (nullptr: the route answers 404).
  ChangeFeed* feed = nullptr;
  // --run-schedules: GET /api/v1/schedules's body (nullptr: the route answers 404).
  std::function<nlohmann::json()> schedules;
};

// What a token may do: a viewer reads, an operator also submits, cancels, pauses and resumes.
enum class Role { Viewer, Operator };
// The role of an Authorization header value; nullopt when it carries no valid token.
std::optional<Role> role_of(ApiContext& ctx, const std::string& authorization);

// Routes of the job API (authenticated).
void install_job_api(http::HttpServer& server, ApiContext& ctx);
// /healthz, /readyz, /metrics (unauthenticated).
void install_health_and_metrics(http::HttpServer& server, ApiContext& ctx);

// Validation of a POST /api/v1/jobs body, separate from HTTP so tests can reach it.
// Returns the job or an error message (with the JSON path, e.g. "timeLimitSeconds: expected ...").
struct ParsedSubmission {
  std::optional<NewJob> job;
  std::string error;
  int status = 400;
};
ParsedSubmission parse_submission(const std::string& body, const ApiContext& ctx);
// The answer of GET /api/v1/jobs for a checked filter: a page, the counts per state for the
// filter (without its states), and the cursor of the next page when there is one.
nlohmann::json list_jobs_json(JobStore& store, const JobFilter& filter, const std::string& ns);
// A random (version 4) UUID: the id of a job submitted without one.
std::string random_uuid();

}  // namespace kjq::server

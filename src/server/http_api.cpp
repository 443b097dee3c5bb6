#include "server/http_api.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "output/yaml_emitter.hpp"
#include "queue/job_preparation.hpp"
#include "server/job_json.hpp"
#include "server/job_list_query.hpp"
#include "util/clock.hpp"
#include "util/diagnostic.hpp"
#include "util/json_limits.hpp"

namespace kjq::server {

using nlohmann::json;

namespace {

void reply(http::Response& res, int status, const json& body) {
  res.status = status;
  res.body = body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  res.content_type = "application/json";
}

void error(http::Response& res, int status, const std::string& reason, const std::string& message) {
  reply(res, status, {{"error", {{"code", status}, {"reason", reason}, {"message", message}}}});
}

std::string reason_for(int status) {
  switch (status) {
    case 400:
      return "BadRequest";
    case 404:
      return "NotFound";
    case 409:
      return "Conflict";
    default:
      return "Error";
  }
}

// Runs a handler once the token allows `needed`, and turns exceptions (the store unreachable, ...)
// into 503s that never leak a secret (the store redacts its URL; tokens are never part of any
// message).
http::Handler guarded(ApiContext& ctx, Role needed, http::Handler body) {
  return [&ctx, needed, body = std::move(body)](const http::Request& req, http::Response& res) {
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Cache-Control", "no-store");
    const auto role = role_of(ctx, req.header("Authorization"));
    if (!role) {
      res.set_header("WWW-Authenticate", "Bearer");
      return error(res, 401, "Unauthorized", "a valid bearer token is required (Authorization: Bearer <token>)");
    }
    if (needed == Role::Operator && *role != Role::Operator)
      return error(res, 403, "Forbidden",
                   "this token may only read (--viewer-token-file); submitting, cancelling, pausing and resuming "
                   "need an operator token (--api-token-file)");
    try {
      body(req, res);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", req.method, req.path, e.what());
      auto headers = std::move(res.headers);
      res = http::Response{};
      res.headers = std::move(headers);
      error(res, 503, "Unavailable", std::string("the request could not be completed: ") + e.what());
    }
  };
}

std::optional<int> optional_int(const json& body, const char* key, int min, int max, std::string& err) {
  if (!body.contains(key) || body[key].is_null()) return std::nullopt;
  const json& v = body[key];
  if (!v.is_number_integer() || v.get<long long>() < min || v.get<long long>() > max) {
    err = fmt::format("{}: expected an integer from {} to {}, got {}", key, min, max, v.dump());
    return std::nullopt;
  }
  return static_cast<int>(v.get<long long>());
}

bool same_submission(const JobRecord& stored, const NewJob& wanted) {
  // A stored row from before the limits existed is compared as text: comparing it as JSON would
  // recurse once per level.
  if (json_limit_violation(stored.data_json, kInputJsonLimits)) return false;
  return stored.queue == wanted.queue &&
         json::parse(stored.data_json, nullptr, false) == json::parse(wanted.data_json, nullptr, false) &&
         stored.time_limit_seconds == wanted.time_limit_seconds;
}

json queue_to_json(ApiContext& ctx, const std::string& name, const QueueCounts& c, const QueueSetting& setting) {
  const int limit = ctx.options.limits.limit(name);
  json q = {{"name", name},
            {"queued", c.queued},
            {"submitted", c.submitted},
            {"scheduled", c.scheduled},
            {"running", c.running},
            {"active", c.active()},
            {"succeeded", c.succeeded},
            {"failed", c.failed},
            {"cancelled", c.cancelled},
            {"paused", setting.paused}};
  q["limit"] = limit > 0 ? json(limit) : json(nullptr);
  if (setting.changed_ms > 0) q["pausedChangedMs"] = setting.changed_ms;
  // The oldest waiting job: how long the queue has kept someone waiting.
  if (c.queued > 0) {
    JobFilter f;
    f.queue = name;
    f.state = JobState::Queued;
    f.limit = 1;
    auto page = ctx.store.list(f);
    if (!page.items.empty()) q["oldestQueuedMs"] = page.items.front().created_ms;
  }
  return q;
}

}  // namespace

nlohmann::json list_jobs_json(JobStore& store, const JobFilter& filter, const std::string& ns) {
  JobPage page = store.list(filter);
  const StateCounts counts = store.count_states(filter);
  json items = json::array();
  for (const auto& r : page.items) items.push_back(job_to_json(r, ns, JobView::Summary));
  json by_state = json::object();
  for (int s = 0; s < 7; ++s) by_state[state_name(static_cast<JobState>(s))] = counts.by_state[s];
  json body = {{"items", std::move(items)}, {"counts", std::move(by_state)}, {"total", counts.total()}};
  if (page.next_after_seq > 0) body["continue"] = encode_list_cursor(filter.order, page.next_after_seq);
  return body;
}

std::optional<Role> role_of(ApiContext& ctx, const std::string& authorization) {
  if (ctx.tokens.allows(authorization)) return Role::Operator;
  if (ctx.viewer_tokens && ctx.viewer_tokens->allows(authorization)) return Role::Viewer;
  return std::nullopt;
}

std::string random_uuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t hi = (rng() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  const std::uint64_t lo = (rng() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48,
                     lo & 0xffffffffffffULL);
}

ParsedSubmission parse_submission(const std::string& text, const ApiContext& ctx) {
  ParsedSubmission out;
  // Bounded before parsing: a body nested 60,000 levels deep would crash whatever walks it later.
  if (auto why = json_limit_violation(text, kInputJsonLimits)) {
    out.error = "the body is refused: " + *why;
    return out;
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    out.error = "the body is empty: expected a JSON object such as {\"queue\": \"default\", \"data\": {}}";
    return out;
  }
  json body;
  try {
    body = json::parse(text);
  } catch (const json::parse_error& e) {
    out.error = "the body is not valid JSON: " + json_error_text(e);
    return out;
  }
  if (!body.is_object()) {
    out.error = "the body must be a JSON object such as {\"queue\": \"default\", \"data\": {}}, got " +
                std::string(body.type_name());
    return out;
  }
  NewJob job;
  if (!body.contains("queue") || !body["queue"].is_string() || body["queue"].get<std::string>().empty()) {
    out.error = "queue: expected the name of a job queue (a non-empty string)";
    return out;
  }
  job.queue = body["queue"].get<std::string>();
  try {
    ctx.manifests.resolve_queue_path(job.queue);  // refuses names that would leave the base directory
  } catch (const InputError& e) {
    out.error = "queue: " + std::string(e.diagnostics().front().message);
    return out;
  }
  if (ctx.restrict_queues && !ctx.known_queues.count(job.queue)) {
    out.status = 404;
    std::string names;
    for (const auto& q : ctx.known_queues) names += (names.empty() ? "" : ", ") + q;
    out.error = "queue: \"" + job.queue + "\" is not an enabled kubernetes queue of the values (" +
                (names.empty() ? "they enable none" : "known: " + names) + ")";
    return out;
  }
  if (body.contains("id") && !body["id"].is_null()) {
    if (!body["id"].is_string() || !queue::is_dns1123_label(body["id"].get<std::string>())) {
      out.error =
          "id: expected lower-case letters, digits and '-' (a DNS-1123 label, e.g. a UUID), got " + body["id"].dump();
      return out;
    }
    job.id = body["id"].get<std::string>();
    if (ctx.options.name_prefix.size() + 1 + job.id.size() > 63) {
      out.error =
          fmt::format("id: too long: the Job name {}-<id> must fit in 63 characters (id at most {})",
                      ctx.options.name_prefix, std::max(0, 62 - static_cast<int>(ctx.options.name_prefix.size())));
      return out;
    }
  } else {
    job.id = random_uuid();
  }
  if (body.contains("data") && !body["data"].is_null()) {
    if (!body["data"].is_object()) {
      out.error = "data: expected a JSON object (the job's keyword arguments), got " + body["data"].dump();
      return out;
    }
    if (auto inexact = json_inexact_integer(text, "")) {
      out.error = *inexact;
      return out;
    }
    // Keep the client's key order: Nautobot receives the kwargs as sent (--data).
    job.data_json = nlohmann::ordered_json::parse(text)["data"].dump();
  }
  std::string err;
  job.time_limit_seconds = optional_int(body, "timeLimitSeconds", 1, 365 * 24 * 3600, err);
  if (!err.empty()) {
    out.error = err;
    return out;
  }
  for (const auto& [key, _] : body.items())
    if (key != "queue" && key != "id" && key != "data" && key != "timeLimitSeconds") {
      out.error = key + ": unknown field (expected queue, id, data, timeLimitSeconds)";
      return out;
    }
  job.now_ms = now_ms();
  out.job = std::move(job);
  return out;
}

void install_job_api(http::HttpServer& server, ApiContext& ctx) {
  server.route(
      "POST", "/api/v1/jobs", guarded(ctx, Role::Operator, [&ctx](const http::Request& req, http::Response& res) {
        const std::string& ns = ctx.options.namespace_name;
        ParsedSubmission p = parse_submission(req.body, ctx);
        if (!p.job) return error(res, p.status, reason_for(p.status), p.error);
        SubmitResult r = ctx.batcher.submit(*p.job);
        if (!r.inserted && !same_submission(r.record, *p.job))
          return error(
              res, 409, "Conflict",
              "id: job " + r.record.id + " exists with a different queue, data or time limit; an id names one job");
        if (r.inserted) {
          ctx.metrics.count_submitted(1);
          ctx.admission.wake();
        }
        json body = job_to_json(r.record, ns, JobView::Summary);
        res.set_header("Location", "/api/v1/jobs/" + r.record.id);
        reply(res, r.inserted ? 202 : 200, body);
      }));

  server.route("GET", "/api/v1/jobs/{}",
               guarded(ctx, Role::Viewer, [&ctx](const http::Request& req, http::Response& res) {
                 const std::string& ns = ctx.options.namespace_name;
                 // Where a waiting job stands in its queue (1: the next one admitted). Read before
                 // the record: a claim in between leaves a record that is no longer Queued (no
                 // position shown), never a Queued record with position 0.
                 const std::int64_t position = ctx.store.queue_position(req.path_params[0]);
                 auto r = ctx.store.get(req.path_params[0]);
                 if (!r) return error(res, 404, "NotFound", "job " + req.path_params[0] + " not found");
                 json body = job_to_json(*r, ns, JobView::Detail);
                 if (r->state == JobState::Queued && position > 0) body["queuePosition"] = position;
                 reply(res, 200, body);
               }));

  // The Job kjq creates for a record: the queue's manifest prepared for it (the same code path as
  // the create), as YAML. Nautobot's own Jobs were not created by kjq: 404.
  server.route("GET", "/api/v1/jobs/{}/manifest",
               guarded(ctx, Role::Viewer, [&ctx](const http::Request& req, http::Response& res) {
                 auto r = ctx.store.get(req.path_params[0]);
                 if (!r) return error(res, 404, "NotFound", "job " + req.path_params[0] + " not found");
                 if (r->origin != JobOrigin::Kjq)
                   return error(res, 404, "NotFound",
                                "job " + r->id + " was created by Nautobot, not by kjq: its manifest is Nautobot's");
                 try {
                   if (r->kube_name.empty()) r->kube_name = ctx.options.name_prefix + "-" + r->id;
                   auto prepared = prepare_served_job(ctx.manifests, *r, ctx.options);
                   res.body = output::to_yaml(json::parse(prepared.job.dump()));
                   res.content_type = "application/yaml; charset=utf-8";
                 } catch (const std::runtime_error& e) {
                   error(res, 409, "Conflict", std::string("the queue's manifest cannot be prepared: ") + e.what());
                 }
               }));

  server.route("GET", "/api/v1/jobs", guarded(ctx, Role::Viewer, [&ctx](const http::Request& req, http::Response& res) {
                 ListQuery q = parse_list_query(req.query);
                 if (!q.error.empty()) return error(res, 400, "BadRequest", q.error);
                 reply(res, 200, list_jobs_json(ctx.store, q.filter, ctx.options.namespace_name));
               }));

  server.route("POST", "/api/v1/jobs/{}/cancel",
               guarded(ctx, Role::Operator, [&ctx](const http::Request& req, http::Response& res) {
                 const std::string& ns = ctx.options.namespace_name;
                 std::optional<int> grace;
                 if (!req.body.empty()) {
                   if (auto why = json_limit_violation(req.body, kInputJsonLimits))
                     return error(res, 400, "BadRequest", "the body is refused: " + *why);
                   json body = json::parse(req.body, nullptr, false);
                   if (body.is_discarded() || !body.is_object())
                     return error(res, 400, "BadRequest",
                                  "the body must be empty or a JSON object such as {\"gracePeriodSeconds\": 30}");
                   for (const auto& [key, _] : body.items())
                     if (key != "gracePeriodSeconds")
                       return error(res, 400, "BadRequest", key + ": unknown field (expected gracePeriodSeconds)");
                   std::string err;
                   grace = optional_int(body, "gracePeriodSeconds", 0, 24 * 3600, err);
                   if (!err.empty()) return error(res, 400, "BadRequest", err);
                 }
                 CancelResult c = ctx.store.request_cancel(req.path_params[0], grace, now_ms());
                 if (!c.found) return error(res, 404, "NotFound", "job " + req.path_params[0] + " not found");
                 if (c.cancelled_now) {
                   ctx.admission.wake();
                   return reply(res, 200, job_to_json(c.record, ns, JobView::Summary));
                 }
                 if (is_final(c.record.state))
                   return error(res, 409, "Conflict",
                                "job " + c.record.id + " already ended: " + state_name(c.record.state));
                 ctx.tracker.send_cancel(c.record);
                 reply(res, 202, job_to_json(c.record, ns, JobView::Summary));
               }));

  server.route("GET", "/api/v1/schedules",
               guarded(ctx, Role::Viewer, [&ctx](const http::Request&, http::Response& res) {
                 if (!ctx.schedules)
                   return error(res, 404, "NotFound",
                                "schedules are not fired by this kjq serve (start it with --nautobot-database and "
                                "--run-schedules)");
                 reply(res, 200, ctx.schedules());
               }));

  server.route("GET", "/api/v1/queues", guarded(ctx, Role::Viewer, [&ctx](const http::Request&, http::Response& res) {
                 std::map<std::string, QueueCounts> by_queue;
                 for (const auto& q : ctx.known_queues) by_queue[q].queue = q;
                 for (const auto& [q, _] : ctx.options.limits.all()) by_queue[q].queue = q;
                 std::map<std::string, QueueSetting> settings;
                 for (auto& s : ctx.store.queue_settings()) {
                   by_queue[s.queue].queue = s.queue;
                   settings[s.queue] = s;
                 }
                 for (auto& c : ctx.store.queue_counts()) by_queue[c.queue] = c;
                 // What ended in the last hour and day (an overview's figures), from an index.
                 const std::int64_t now = now_ms();
                 std::map<std::string, QueueCounts> last_hour, last_day;
                 for (auto& c : ctx.store.ended_since(now - 3'600'000)) last_hour[c.queue] = c;
                 for (auto& c : ctx.store.ended_since(now - 86'400'000)) last_day[c.queue] = c;
                 auto ended = [](const std::map<std::string, QueueCounts>& in, const std::string& queue) {
                   auto it = in.find(queue);
                   const QueueCounts c = it == in.end() ? QueueCounts{} : it->second;
                   return json{{"succeeded", c.succeeded}, {"failed", c.failed}, {"cancelled", c.cancelled}};
                 };
                 json items = json::array();
                 for (const auto& [name, c] : by_queue) {
                   json q = queue_to_json(ctx, name, c, settings[name]);
                   q["endedLastHour"] = ended(last_hour, name);
                   q["endedLastDay"] = ended(last_day, name);
                   items.push_back(std::move(q));
                 }
                 reply(res, 200, {{"items", std::move(items)}});
               }));

  // Pause or resume: stored, so it holds for every replica and across restarts.
  for (const bool pause : {true, false}) {
    server.route("POST", pause ? "/api/v1/queues/{}/pause" : "/api/v1/queues/{}/resume",
                 guarded(ctx, Role::Operator, [&ctx, pause](const http::Request& req, http::Response& res) {
                   const std::string& name = req.path_params[0];
                   try {
                     ctx.manifests.resolve_queue_path(name);  // refuses names that would leave the base directory
                   } catch (const InputError& e) {
                     return error(res, 400, "BadRequest", "queue: " + std::string(e.diagnostics().front().message));
                   }
                   if (ctx.restrict_queues && !ctx.known_queues.count(name))
                     return error(res, 404, "NotFound",
                                  "queue \"" + name + "\" is not an enabled kubernetes queue of the values");
                   const bool changed = ctx.store.set_queue_paused(name, pause, now_ms());
                   if (changed) spdlog::info("queue {} {}", name, pause ? "paused" : "resumed");
                   if (!pause) ctx.admission.wake();
                   QueueSetting setting{name, pause, now_ms()};
                   for (auto& s : ctx.store.queue_settings())
                     if (s.queue == name) setting = s;
                   QueueCounts counts;
                   counts.queue = name;
                   for (auto& c : ctx.store.queue_counts())
                     if (c.queue == name) counts = c;
                   reply(res, 200, queue_to_json(ctx, name, counts, setting));
                 }));
  }

  // Live changes as server-sent events (change_feed.hpp). The stream holds no worker: the
  // handler only registers it.
  server.route("GET", "/api/v1/events",
               guarded(ctx, Role::Viewer, [&ctx](const http::Request& req, http::Response& res) {
                 if (!ctx.feed) return error(res, 404, "NotFound", "this server has no event feed");
                 auto stream = std::make_shared<http::EventStream>();
                 res.content_type = "text/event-stream";
                 res.set_header("X-Accel-Buffering", "no");  // a proxy in front must not buffer it
                 res.stream = stream;
                 std::string last = req.header("Last-Event-ID");
                 if (last.empty()) last = req.param("lastEventId");
                 ctx.feed->subscribe(stream, last);
               }));

  server.route("GET", "/api/v1/whoami",
               guarded(ctx, Role::Viewer, [&ctx](const http::Request& req, http::Response& res) {
                 const auto role = role_of(ctx, req.header("Authorization"));
                 reply(res, 200,
                       {{"role", role == Role::Operator ? "operator" : "viewer"},
                        {"namespace", ctx.options.namespace_name},
                        {"replica", ctx.options.replica}});
               }));
}

void install_health_and_metrics(http::HttpServer& server, ApiContext& ctx) {
  // Liveness answers on the I/O thread: it must not wait behind handlers blocked on the store.
  server.route(
      "GET", "/healthz", [](const http::Request&, http::Response& res) { res.body = "ok\n"; }, http::Dispatch::Inline);
  server.route("GET", "/readyz", [&ctx](const http::Request&, http::Response& res) {
    std::vector<std::string> problems;
    try {
      ctx.store.schema_version();
    } catch (const std::exception& e) {
      problems.push_back(std::string("store: ") + e.what());
    }
    if (!ctx.informer.healthy()) {
      std::string why = ctx.informer.last_error();
      problems.push_back(std::string(ctx.informer.synced() ? "watches: failing" : "watches: not synced yet") +
                         (why.empty() ? "" : " (" + why + ")"));
    }
    if (ctx.optional_problems)
      if (std::string more = ctx.optional_problems(); !more.empty()) problems.push_back(more);
    if (problems.empty()) {
      res.body = "ok\n";
      return;
    }
    res.status = 503;
    for (const auto& p : problems) res.body += p + "\n";
  });
  server.route("GET", "/metrics", [&ctx](const http::Request&, http::Response& res) {
    try {
      auto counts = ctx.store.queue_counts();
      std::vector<std::string> names(ctx.known_queues.begin(), ctx.known_queues.end());
      for (const auto& c : counts) names.push_back(c.queue);
      res.body = ctx.metrics.scrape(counts, ctx.options.limits.all(names), ctx.external_counts());
      res.content_type = "text/plain; version=0.0.4";
    } catch (const std::exception& e) {
      res.status = 503;
      res.body = std::string("metrics unavailable: ") + e.what() + "\n";
    }
  });
}

}  // namespace kjq::server

#include "server/publishing_store.hpp"

#include <nlohmann/json.hpp>

namespace kjq::server {

using nlohmann::json;

namespace {
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }
}  // namespace

void PublishingStore::publish_record(const JobRecord& r) {
  json e = {
      {"id", r.id},         {"queue", r.queue},  {"origin", origin_name(r.origin)}, {"state", state_name(r.state)},
      {"reason", r.reason}, {"at", r.updated_ms}};
  if (r.exit_code) e["exitCode"] = *r.exit_code;
  if (r.cancel_requested) e["cancelRequested"] = true;
  feed_.publish("job", dump(e));
}

std::vector<SubmitResult> PublishingStore::submit(const std::vector<NewJob>& jobs) {
  auto results = inner_->submit(jobs);
  for (const auto& r : results)
    if (r.inserted) publish_record(r.record);
  return results;
}

SubmitResult PublishingStore::adopt(const AdoptedJob& job) {
  auto r = inner_->adopt(job);
  if (r.inserted) publish_record(r.record);
  return r;
}

std::vector<JobRecord> PublishingStore::claim(const std::string& queue, int limit, int max_batch,
                                              const std::string& owner, const std::string& name_prefix,
                                              std::int64_t now_ms) {
  auto claimed = inner_->claim(queue, limit, max_batch, owner, name_prefix, now_ms);
  for (const auto& r : claimed) publish_record(r);
  return claimed;
}

bool PublishingStore::set_queue_paused(const std::string& queue, bool paused, std::int64_t now_ms) {
  const bool changed = inner_->set_queue_paused(queue, paused, now_ms);
  if (changed) feed_.publish("queue", dump({{"name", queue}, {"paused", paused}, {"at", now_ms}}));
  return changed;
}

bool PublishingStore::update_progress(const std::string& id, const Progress& p) {
  const bool changed = inner_->update_progress(id, p);
  if (changed) {
    json e = {{"id", id}, {"state", state_name(p.state)}, {"reason", p.reason}, {"at", p.now_ms}};
    if (p.exit_code) e["exitCode"] = *p.exit_code;
    feed_.publish("job", dump(e));
  }
  return changed;
}

bool PublishingStore::finish(const std::string& id, const Finish& f) {
  const bool changed = inner_->finish(id, f);
  if (changed) {
    json e = {{"id", id}, {"state", state_name(f.state)}, {"reason", f.reason}, {"at", f.now_ms}};
    if (f.exit_code) e["exitCode"] = *f.exit_code;
    feed_.publish("job", dump(e));
  }
  return changed;
}

bool PublishingStore::attach_evidence(const std::string& id, const Evidence& e) {
  const bool attached = inner_->attach_evidence(id, e);
  if (attached)
    if (auto r = inner_->get(id)) publish_record(*r);
  return attached;
}

CancelResult PublishingStore::request_cancel(const std::string& id, std::optional<int> grace_seconds,
                                             std::int64_t now_ms) {
  auto c = inner_->request_cancel(id, grace_seconds, now_ms);
  if (c.found && (c.cancelled_now || !is_final(c.record.state))) publish_record(c.record);
  return c;
}

}  // namespace kjq::server

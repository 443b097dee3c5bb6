#include "server/admission.hpp"

#include <spdlog/spdlog.h>

#include "dispatch/dispatcher.hpp"
#include "kube/errors.hpp"
#include "util/clock.hpp"
#include "util/diagnostic.hpp"

namespace kjq::server {

using ojson = nlohmann::ordered_json;

queue::PreparedJob prepare_served_job(const queue::ManifestStore& manifests, const JobRecord& record,
                                      const ServeOptions& options) {
  auto loaded = manifests.load(record.queue);
  queue::RunRequest req{record.queue, record.id, record.data_json, options.config_path, options.name_prefix};
  queue::PreparedJob prepared = queue::prepare_job(std::move(loaded.manifest), req);
  ojson& job = prepared.job;
  job["metadata"]["labels"][kServeLabel] = options.instance;
  ojson& tmpl = job["spec"]["template"];
  if (!tmpl.contains("metadata") || !tmpl["metadata"].is_object()) tmpl["metadata"] = ojson::object();
  if (!tmpl["metadata"].contains("labels") || !tmpl["metadata"]["labels"].is_object())
    tmpl["metadata"]["labels"] = ojson::object();
  tmpl["metadata"]["labels"][kServeLabel] = options.instance;
  if (record.time_limit_seconds) job["spec"]["activeDeadlineSeconds"] = *record.time_limit_seconds;
  return prepared;
}

Admission::Admission(JobStore& store, kube::KubeApi& api, const queue::ManifestStore& manifests,
                     const ServeOptions& options, ServeMetrics& metrics)
    : store_(store), api_(api), manifests_(manifests), options_(options), metrics_(metrics) {}

Admission::~Admission() { stop(); }

void Admission::start() {
  stop_ = false;
  admit_thread_ = std::thread([this] { admit_loop(); });
  for (int i = 0; i < std::max(1, options_.create_workers); ++i) workers_.emplace_back([this] { create_loop(); });
}

void Admission::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_cv_.notify_all();
  work_cv_.notify_all();
  if (admit_thread_.joinable()) admit_thread_.join();
  for (auto& w : workers_) w.join();
  workers_.clear();
}

void Admission::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  wake_cv_.notify_one();
}

bool Admission::in_flight(const std::string& id) const {
  std::lock_guard lock(mu_);
  return in_flight_.count(id) > 0;
}

bool Admission::resumed_lately(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = resumed_.find(id);
  return it != resumed_.end() && std::chrono::steady_clock::now() - it->second < kResumeSettle;
}

void Admission::enqueue(const JobRecord& record) {
  {
    std::lock_guard lock(mu_);
    if (!in_flight_.insert(record.id).second) return;
    work_.push_back(record);
  }
  work_cv_.notify_one();
}

void Admission::recreate(const JobRecord& record) { enqueue(record); }

void Admission::admit_loop() {
  while (true) {
    {
      std::unique_lock lock(mu_);
      // The tick covers what no wake() reports: another replica finishing a job frees a cap.
      wake_cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return woken_ || stop_; });
      if (stop_) return;
      woken_ = false;
    }
    try {
      for (const auto& queue : store_.queues_with_waiting_jobs()) {
        while (!stop_) {
          auto claimed = store_.claim(queue, options_.limits.limit(queue), options_.claim_batch, options_.replica,
                                      options_.name_prefix, now_ms());
          for (const auto& r : claimed) enqueue(r);
          if (static_cast<int>(claimed.size()) < options_.claim_batch) break;
        }
      }
    } catch (const std::exception& e) {
      spdlog::error("admission: {}", e.what());
    }
  }
}

std::chrono::steady_clock::duration yield_to_backlog(
    const std::function<std::chrono::steady_clock::duration()>& backlog, const std::atomic<bool>& stop,
    std::chrono::milliseconds above, std::chrono::milliseconds at_most) {
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + at_most;
  while (!stop && std::chrono::steady_clock::now() < until && backlog() > above)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return std::chrono::steady_clock::now() - start;
}

bool yields_to_backlog(const JobRecord& record) { return record.origin != JobOrigin::Nautobot; }

void Admission::create_loop() {
  while (true) {
    JobRecord r;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || !work_.empty(); });
      if (stop_) return;
      r = std::move(work_.front());
      work_.pop_front();
    }
    if (event_backlog_ && yields_to_backlog(r))
      yield_to_backlog(event_backlog_, stop_, kYieldWhenBacklogAbove, kMaxYield);
    try {
      create(r);
    } catch (const std::exception& e) {
      // The store failed mid-way (create() handles everything about the job itself): the record
      // is still claimed, and the reconciler retries it. The worker lives on.
      spdlog::error("job {}: {}", r.id, e.what());
    }
    std::lock_guard lock(mu_);
    in_flight_.erase(r.id);
  }
}

void Admission::resume(const JobRecord& r) {
  // Nautobot created this Job suspended (admission: kjq) and the claim gave it a slot of its
  // queue's cap: un-suspend it. The patch's preconditions (same uid, still suspended) make sure
  // only one resume ever happens, whichever replica or retry sends it.
  if (r.cancel_requested) {
    // Not resumed: its Job is deleted, and the tracker records the end (and its write-back).
    try {
      dispatch::cancel_job(api_, options_.namespace_name, r.kube_name, 0);
    } catch (const kube::ApiError& e) {
      if (e.http_code() != 404) throw;
    }
    return;
  }
  try {
    api_.resume_job(options_.namespace_name, r.kube_name, r.kube_uid);
    {
      std::lock_guard lock(mu_);
      const auto now = std::chrono::steady_clock::now();
      std::erase_if(resumed_, [&](const auto& entry) { return now - entry.second >= kResumeSettle; });
      resumed_[r.id] = now;
    }
    metrics_.observe_submit_to_create(static_cast<double>(now_ms() - r.submitted_ms) / 1000.0);
    spdlog::info("job {} ({}): admitted on queue {}", r.id, r.kube_name, r.queue);
  } catch (const kube::ApiError& e) {
    if (e.http_code() == 404) return;  // deleted meanwhile: the tracker records how it ended
    if (e.http_code() == 422 || e.http_code() == 409) {
      // A precondition failed: resumed already (a retry whose first answer was lost, a person),
      // or another Job now has this name. The tracker follows whatever it is.
      spdlog::info("job {} ({}): not resumed by kjq ({})", r.id, r.kube_name, e.what());
      return;
    }
    metrics_.count_create_failure();
    Progress p;
    p.state = JobState::Submitted;
    p.reason = "ResumeFailed";
    p.message = std::string(e.what()) + " (will retry)";
    p.now_ms = now_ms();
    store_.update_progress(r.id, p);
    spdlog::warn("job {}: resume failed, will retry: {}", r.id, e.what());
  }
}

void Admission::create(const JobRecord& claimed) {
  // The record may have changed since the claim (cancelled, or finished by another replica).
  auto current = store_.get(claimed.id);
  if (!current || is_final(current->state)) return;
  const JobRecord& r = *current;
  auto finish = [&](JobState state, const std::string& reason, const std::string& message) {
    Finish f;
    f.state = state;
    f.reason = reason;
    f.message = message;
    f.now_ms = now_ms();
    store_.finish(r.id, f);
    spdlog::warn("job {} (queue {}): {}: {}", r.id, r.queue, reason, message);
    wake();
  };
  if (r.origin == JobOrigin::Nautobot) return resume(r);
  if (r.cancel_requested)
    return finish(JobState::Cancelled, "CancelledBeforeStart", "cancelled before its Job was created");
  // A create that got no usable answer: the job stays Submitted with the reason on record, and
  // the reconciler creates it again (same name, so never twice).
  auto retry_later = [&](const std::string& message) {
    metrics_.count_create_failure();
    Progress p;
    p.state = JobState::Submitted;
    p.reason = "CreateFailed";
    p.message = message + " (will retry)";
    p.now_ms = now_ms();
    store_.update_progress(r.id, p);
    spdlog::warn("job {}: create failed, will retry: {}", r.id, message);
  };
  queue::PreparedJob prepared;
  try {
    prepared = prepare_served_job(manifests_, r, options_);
  } catch (const InputError& e) {
    const bool data = !e.diagnostics().empty() && e.diagnostics().front().path == "--data";
    return finish(JobState::Failed, data ? "InvalidData" : "InvalidManifest", e.what());
  } catch (const std::exception& e) {
    // Whatever else makes this job impossible to build ends it, once: retrying would fail the
    // same way forever (a poison row).
    return finish(JobState::Failed, "InvalidJob", e.what());
  }
  try {
    auto result = dispatch::dispatch_job(api_, options_.namespace_name, prepared, /*metadata_only=*/true);
    const auto& meta = result.job.value("metadata", nlohmann::json::object());
    store_.set_kube_uid(r.id, meta.value("uid", ""), now_ms());
    if (!result.already_existed)
      metrics_.observe_submit_to_create(static_cast<double>(now_ms() - r.created_ms) / 1000.0);
    spdlog::debug("job {} created as {}", r.id, prepared.name);
  } catch (const dispatch::JobConflictError& e) {
    metrics_.count_create_failure();
    finish(JobState::Failed, "NameConflict", e.what());
  } catch (const kube::ApiError& e) {
    const int code = e.http_code();
    // 401/403 (a missing RBAC rule, a token being rotated), 408, 429 and 5xx can pass; any other
    // 4xx is the API server judging this Job, and it will judge it the same way again.
    if (code >= 400 && code < 500 && code != 401 && code != 403 && code != 408 && code != 429) {
      metrics_.count_create_failure();
      return finish(JobState::Failed, "CreateRejected", e.what());
    }
    retry_later(e.what());
  } catch (const std::exception& e) {
    retry_later(e.what());
  }
}

}  // namespace kjq::server

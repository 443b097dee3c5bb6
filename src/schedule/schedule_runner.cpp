#include "schedule/schedule_runner.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "nautobot/database_errors.hpp"
#include "util/display_text.hpp"

namespace kjq::schedule {

namespace {
constexpr std::chrono::hours kFollowWindow{24};  // PENDING runs older than this are left alone
}

Instant ScheduleRunner::system_now() {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

ScheduleRunner::ScheduleRunner(ScheduleDatabase& database, RunnerOptions options, RunHooks hooks, Clock clock)
    : database_(database), options_(std::move(options)), hooks_(std::move(hooks)), clock_(std::move(clock)) {}

ScheduleRunner::~ScheduleRunner() { stop(); }

void ScheduleRunner::start() {
  stop_ = false;
  thread_ = std::thread([this] { loop(); });
}

void ScheduleRunner::stop() {
  stop_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ScheduleRunner::reload() {
  auto rows = database_.load();
  std::map<std::string, Entry> fresh;
  std::size_t firing = 0;
  for (auto& row : rows) {
    Entry e;
    e.view.not_fired_because = why_not_fired(row);
    if (e.view.not_fired_because.empty()) {
      try {
        const auto timetable = Timetable::compile(rule_of(row));
        e.view.next = timetable.next_due(row.last_run_at);
        if (!e.view.next) e.view.not_fired_because = "never due again";
      } catch (const InputError& ex) {
        e.view.not_fired_because = std::string("invalid: ") + ex.what();
        spdlog::warn("schedule {} ({}): not fired: {}", display_text(row.name), row.id, ex.what());
      }
    }
    if (e.view.not_fired_because.empty()) ++firing;
    const auto id = row.id;
    e.view.row = std::move(row);
    fresh.emplace(id, std::move(e));
  }
  std::lock_guard lock(mu_);
  entries_ = std::move(fresh);
  stats_.schedules = entries_.size();
  stats_.firing = firing;
  ++stats_.reloads;
}

void ScheduleRunner::apply(const ClaimOutcome& o, Instant now) {
  // Under mu_.
  auto found = entries_.find(o.schedule_id);
  if (found == entries_.end()) return;
  Entry& e = found->second;
  stats_.skipped += static_cast<std::uint64_t>(o.skipped);
  e.retry_at.reset();
  switch (o.kind) {
    case ClaimOutcome::Kind::Locked:
      e.retry_at = now + options_.poll;
      return;
    case ClaimOutcome::Kind::NotFired:
    case ClaimOutcome::Kind::Invalid:
      e.view.not_fired_because = o.message.empty() ? to_string(o.kind) : o.message;
      e.view.next.reset();
      break;
    case ClaimOutcome::Kind::MissingUser:
    case ClaimOutcome::Kind::MissingJob:
      ++stats_.errored;
      e.view.not_fired_because = o.message;
      e.view.next.reset();
      spdlog::error("schedule {} ({}): {}", display_text(e.view.row.name), o.schedule_id, o.message);
      break;
    case ClaimOutcome::Kind::NotDue:
    case ClaimOutcome::Kind::Fired:
      e.view.next = o.next;
      if (!o.next) e.view.not_fired_because = "never due again";
      break;
  }
  if (o.row) e.view.row = *o.row;
}

std::chrono::microseconds ScheduleRunner::claim_lead() const {
  // Under mu_.
  if (options_.claim_ahead.count() <= 0) return std::chrono::microseconds(0);
  const auto lead = std::max<std::chrono::microseconds>(options_.claim_ahead, last_preparation_ * 3 / 2);
  return std::min<std::chrono::microseconds>(lead, std::chrono::seconds(30));
}

bool ScheduleRunner::wait_until(Instant due) const {
  while (!stop_) {
    const auto left = due - clock_();
    if (left.count() <= 0) return true;
    // In slices: a stop is seen within 50 ms.
    std::this_thread::sleep_for(std::min<std::chrono::microseconds>(left, std::chrono::milliseconds(50)));
  }
  return false;
}

std::vector<FiredRun> ScheduleRunner::claim_batch(const std::vector<std::string>& batch, Instant now, int slot,
                                                  bool ahead) {
  const auto started = std::chrono::steady_clock::now();
  auto prepared = [&] {
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    std::lock_guard lock(mu_);
    last_preparation_ = std::max(last_preparation_, took);
  };
  std::function<bool()> before_commit = [&] {
    prepared();
    return !ahead || wait_until(now);
  };
  const auto outcomes = database_.claim(batch, now, options_.claim, slot, before_commit);
  std::vector<FiredRun> fired;
  {
    std::lock_guard lock(mu_);
    ++stats_.claims;
    for (const auto& o : outcomes) {
      apply(o, now);
      fired.insert(fired.end(), o.runs.begin(), o.runs.end());
    }
  }
  if (fired.empty()) return fired;
  try {
    hooks_.submit(fired);
  } catch (const std::exception& e) {
    // Recorded in Nautobot, not yet in kjq's queue: follow() hands them over again.
    spdlog::error("scheduled runs recorded but not handed to the queue yet ({}): {}", fired.size(), e.what());
  }
  const auto handed = clock_();
  std::lock_guard lock(mu_);
  for (const auto& run : fired) {
    const auto lateness = handed - run.due;
    ++stats_.fired;
    if (lateness > options_.late_after) ++stats_.late;
    if (hooks_.fired) hooks_.fired(run, lateness);
    spdlog::debug("schedule {} ({}): fired the run due {} as JobResult {} on queue {}", display_text(run.schedule_name),
                  run.schedule_id, format_instant(run.due), run.job_result_id, display_text(run.queue));
  }
  // One line per batch: 10,000 schedules due at once would otherwise log 10,000 lines.
  if (fired.size() == 1)
    spdlog::info("schedule {} ({}): fired the run due {} as JobResult {} on queue {}",
                 display_text(fired[0].schedule_name), fired[0].schedule_id, format_instant(fired[0].due),
                 fired[0].job_result_id, display_text(fired[0].queue));
  else
    spdlog::info("schedules: fired {} runs (due {} … {}); -v lists each", fired.size(),
                 format_instant(fired.front().due), format_instant(fired.back().due));
  return fired;
}

std::vector<FiredRun> ScheduleRunner::tick() {
  std::vector<FiredRun> runs;
  try {
    const auto steady = std::chrono::steady_clock::now();
    if (!loaded_ || steady - last_poll_ >= options_.poll) {
      last_poll_ = steady;
      auto marker = database_.change_marker();
      if (!loaded_ || marker != marker_) {
        reload();
        marker_ = std::move(marker);
        loaded_ = true;
      }
    }
    const auto now = clock_();
    std::vector<std::string> due;
    std::optional<Instant> ahead;  // the moment the runs in `due` are claimed ahead for
    {
      std::lock_guard lock(mu_);
      auto ready = [&](const Entry& e, Instant at) {
        return e.view.not_fired_because.empty() && e.view.next && *e.view.next <= at &&
               !(e.retry_at && *e.retry_at > now);
      };
      for (const auto& [id, e] : entries_)
        if (ready(e, now)) due.push_back(id);
      // Nothing due now: the runs of the next moment, if it is close, are claimed ahead.
      if (const auto lead = claim_lead(); due.empty() && lead.count() > 0) {
        for (const auto& [id, e] : entries_)
          if (ready(e, now + lead) && (!ahead || *e.view.next < *ahead)) ahead = e.view.next;
        if (ahead)
          for (const auto& [id, e] : entries_)
            if (ready(e, *ahead)) due.push_back(id);
      }
      if (!due.empty()) last_preparation_ = std::chrono::microseconds(0);  // measured again by this round
    }
    const auto at = ahead.value_or(now);
    const auto connections = static_cast<std::size_t>(database_.connections());
    // Claimed ahead, each connection's share is one transaction (its commit waits for the due
    // time); else batches of claim_batch, one transaction each.
    const auto per_batch =
        ahead ? std::max(options_.claim_batch, (due.size() + connections - 1) / connections) : options_.claim_batch;
    std::vector<std::vector<std::string>> batches;
    for (std::size_t first = 0; first < due.size(); first += per_batch) {
      const auto last = std::min(due.size(), first + per_batch);
      batches.emplace_back(due.begin() + static_cast<std::ptrdiff_t>(first),
                           due.begin() + static_cast<std::ptrdiff_t>(last));
    }
    // One worker per connection of the database; each takes every n-th batch.
    const auto workers = std::min(batches.size(), connections);
    std::mutex runs_mu;
    std::vector<std::exception_ptr> errors(workers);
    auto work = [&](std::size_t w) {
      try {
        for (std::size_t i = w; i < batches.size(); i += workers) {
          auto fired = claim_batch(batches[i], at, static_cast<int>(w), ahead.has_value());
          std::lock_guard lock(runs_mu);
          runs.insert(runs.end(), fired.begin(), fired.end());
        }
      } catch (...) {
        errors[w] = std::current_exception();
      }
    };
    std::vector<std::thread> threads;
    for (std::size_t w = 1; w < workers; ++w) threads.emplace_back(work, w);
    if (workers > 0) work(0);
    for (auto& t : threads) t.join();
    for (const auto& e : errors)
      if (e) std::rethrow_exception(e);
    std::lock_guard lock(mu_);
    last_error_.clear();
  } catch (const nautobot::NautobotDbError& e) {
    std::lock_guard lock(mu_);
    ++stats_.database_errors;
    last_error_ = e.what();
    spdlog::warn("schedules: {}", e.what());
  }
  return runs;
}

int ScheduleRunner::follow() {
  int handled = 0;
  try {
    const auto now = clock_();
    const auto pending = database_.pending_runs(now - kFollowWindow, now - options_.follow_grace);
    for (const auto& p : pending) {
      const auto state = hooks_.lookup(p.job_result_id);
      if (!state) {
        FiredRun run;
        run.job_result_id = p.job_result_id;
        run.schedule_id = p.schedule_id;
        run.queue = p.queue;
        run.data_json = p.data_json.empty() ? "{}" : p.data_json;
        run.due = p.created;
        try {
          hooks_.submit({run});
          spdlog::info("scheduled run {}: recorded in Nautobot but not in kjq's queue; handed over now",
                       p.job_result_id);
          std::lock_guard lock(mu_);
          ++stats_.resubmitted;
          ++handled;
        } catch (const std::exception& e) {
          spdlog::error("scheduled run {}: cannot hand it to the queue: {}", p.job_result_id, e.what());
        }
        continue;
      }
      if (state->final && !state->succeeded) {
        hooks_.fail(p.job_result_id, state->reason, state->message);
        std::lock_guard lock(mu_);
        ++stats_.failed;
        ++handled;
      }
    }
  } catch (const std::exception& e) {
    std::lock_guard lock(mu_);
    ++stats_.database_errors;
    last_error_ = e.what();
    spdlog::warn("schedules: following the pending runs: {}", e.what());
  }
  return handled;
}

std::optional<Instant> ScheduleRunner::earliest_due() const {
  std::lock_guard lock(mu_);
  std::optional<Instant> earliest;
  for (const auto& [id, e] : entries_) {
    if (!e.view.not_fired_because.empty() || !e.view.next) continue;
    auto t = e.retry_at && *e.retry_at > *e.view.next ? *e.retry_at : *e.view.next;
    if (!earliest || t < *earliest) earliest = t;
  }
  return earliest;
}

void ScheduleRunner::loop() {
  std::mutex sleep_mu;
  while (!stop_) {
    tick();
    const auto steady = std::chrono::steady_clock::now();
    if (steady - last_follow_ >= options_.follow_interval) {
      last_follow_ = steady;
      follow();
    }
    // Sleep until the earliest run is due (less the lead of a claim ahead), or the next look at
    // the change marker.
    auto wait = std::chrono::duration_cast<std::chrono::microseconds>(options_.poll);
    if (const auto due = earliest_due(); due && healthy(nullptr)) {
      // A run still due after the tick (its hand-over failed) is looked at again after a pause.
      const auto lead = [this] {
        std::lock_guard lock(mu_);
        return claim_lead();
      }();
      const auto until = *due - lead - clock_();
      wait = std::clamp(until, std::chrono::microseconds(std::chrono::milliseconds(50)), wait);
    }
    std::unique_lock lock(sleep_mu);
    wake_.wait_for(lock, wait, [this] { return stop_.load(); });
  }
}

std::vector<ScheduleView> ScheduleRunner::schedules() const {
  std::lock_guard lock(mu_);
  std::vector<ScheduleView> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) out.push_back(e.view);
  std::sort(out.begin(), out.end(),
            [](const ScheduleView& a, const ScheduleView& b) { return a.row.name < b.row.name; });
  return out;
}

RunnerStats ScheduleRunner::stats() const {
  std::lock_guard lock(mu_);
  RunnerStats s = stats_;
  s.claim_lead = claim_lead();
  return s;
}

bool ScheduleRunner::healthy(std::string* why) const {
  std::lock_guard lock(mu_);
  if (last_error_.empty()) return true;
  if (why) *why = last_error_;
  return false;
}

}  // namespace kjq::schedule

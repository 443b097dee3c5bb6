#pragma once
// Fires Nautobot's schedules from `kjq serve --run-schedules` in place of Celery Beat. Each tick:
// re-read the schedules when Nautobot's change marker moved (at most every `poll`: an edit in
// Nautobot's UI is picked up within a second or so), claim the due ones in batches
// (ScheduleDatabase::claim: one transaction per batch), and hand the recorded runs to kjq's queue
// (`submit`), which creates their Kubernetes Jobs. Every `follow_interval` it looks at the
// scheduled runs still PENDING in Nautobot: one kjq's queue does not know (kjq stopped between
// the claim and the hand-over) is handed over again; one whose Job could not be created, or
// ended without the pod recording a result, is marked FAILURE with the reason (`fail`), where
// Nautobot would leave it PENDING.
//
// The runs due at one moment are claimed ahead (RunnerOptions::claim_ahead): one transaction per
// connection is prepared before the moment, holding the rows' locks, and committed at it.
//
// The clock is a parameter: tests drive tick() and follow() with fixed times.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "schedule/schedule_database.hpp"

namespace kjq::schedule {

struct RunnerOptions {
  ClaimContext claim;
  std::chrono::milliseconds poll{1000};        // how often the change marker is read
  std::chrono::seconds follow_interval{5};     // how often PENDING runs are looked at
  std::chrono::seconds follow_grace{10};       // a PENDING run younger than this is not looked at
  std::chrono::milliseconds late_after{1000};  // a run fired later than this after its due time is late
  std::size_t claim_batch = 500;               // schedules per claim transaction
  // Runs due within this (or within 1.5 times the last claim's preparation, if longer) are
  // claimed ahead: the transaction is prepared before the due time and committed at it, so that
  // 10,000 runs due at one minute are handed over within milliseconds, not after a second of
  // inserts. 0: claimed when due. Needs a clock that moves (the runner waits on it).
  std::chrono::milliseconds claim_ahead{2000};
};

// What kjq's queue knows of a run (by its JobResult id).
struct RunState {
  bool final = false;
  bool succeeded = false;
  std::string reason, message;
};

struct RunHooks {
  // Hands runs to kjq's queue; durable when it returns. Throws when it cannot: the runs stay
  // PENDING in Nautobot and follow() hands them over again.
  std::function<void(const std::vector<FiredRun>&)> submit;
  // nullopt: kjq's queue has no such run.
  std::function<std::optional<RunState>(const std::string& job_result_id)> lookup;
  // Marks the JobResult FAILURE with the reason (a create the API server refused, a Job that
  // ended without a result).
  std::function<void(const std::string& job_result_id, const std::string& reason, const std::string& message)> fail;
  // Each fired run, with how late it was handed over (for the metrics).
  std::function<void(const FiredRun&, std::chrono::microseconds lateness)> fired;
};

struct RunnerStats {
  std::uint64_t fired = 0, late = 0, skipped = 0, failed = 0, resubmitted = 0, errored = 0;
  std::uint64_t claims = 0, reloads = 0, database_errors = 0;
  std::size_t schedules = 0;  // schedules on Kubernetes queues
  std::size_t firing = 0;     // of which kjq fires (active, enabled, valid)
  // How long before their due time runs are claimed now: claim_ahead, or 1.5 times the slowest
  // claim's preparation in the last round when that is longer (0: claim_ahead is 0).
  std::chrono::microseconds claim_lead{0};
};

// One schedule as the runner sees it (the API and `kjq schedules` show these).
struct ScheduleView {
  ScheduleRow row;
  std::string not_fired_because;  // "" when kjq fires it
  std::optional<Instant> next;
};

class ScheduleRunner {
 public:
  using Clock = std::function<Instant()>;
  static Instant system_now();

  ScheduleRunner(ScheduleDatabase& database, RunnerOptions options, RunHooks hooks, Clock clock = system_now);
  ~ScheduleRunner();
  ScheduleRunner(const ScheduleRunner&) = delete;
  ScheduleRunner& operator=(const ScheduleRunner&) = delete;

  void start();
  void stop();

  // One pass: reload when changed, claim and hand over what is due. Returns the runs handed over.
  // Database errors are logged and counted (the next pass tries again), never thrown.
  std::vector<FiredRun> tick();
  // One look at the PENDING runs (see above). Returns how many were handed over or failed.
  int follow();

  std::vector<ScheduleView> schedules() const;
  RunnerStats stats() const;
  // False while the last database call failed, with why.
  bool healthy(std::string* why) const;

 private:
  struct Entry {
    ScheduleView view;
    std::optional<Instant> retry_at;  // locked by another replica: look again then
  };
  void reload();
  // Claims one batch on connection `slot`, hands its runs over, counts them. `ahead`: the batch is
  // claimed before `now` is reached; its commit waits for it.
  std::vector<FiredRun> claim_batch(const std::vector<std::string>& batch, Instant now, int slot, bool ahead);
  // How long before their due time runs are claimed (0: when due).
  std::chrono::microseconds claim_lead() const;
  // Waits until the clock reaches `due`; false when the runner stops first.
  bool wait_until(Instant due) const;
  void apply(const ClaimOutcome& outcome, Instant now);
  std::optional<Instant> earliest_due() const;
  void loop();

  ScheduleDatabase& database_;
  RunnerOptions options_;
  RunHooks hooks_;
  Clock clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
  std::string marker_;
  bool loaded_ = false;
  std::chrono::steady_clock::time_point last_poll_{}, last_follow_{};
  RunnerStats stats_;
  std::chrono::microseconds last_preparation_{0};  // the slowest claim of the last round, before its commit
  std::string last_error_;
  std::atomic<bool> stop_{false};
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace kjq::schedule

#pragma once
// One job as `kjq serve` records it. States (docs/api.md):
//   Queued → Submitted → Scheduled → Running → Succeeded | Failed | Cancelled
// Submitted, Scheduled and Running are "active": they count against the queue's concurrency cap.
// Final states carry a reason. Times are milliseconds since the Unix epoch (0: not yet).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kjq::server {

enum class JobState { Queued, Submitted, Scheduled, Running, Succeeded, Failed, Cancelled };

// Who created the Kubernetes Job: kjq serve (submitted through its API), or Nautobot itself
// (found by the informer through the chart's job label and recorded as it was found).
enum class JobOrigin { Kjq, Nautobot };
std::string origin_name(JobOrigin o);  // "kjq", "nautobot"
std::optional<JobOrigin> parse_origin(const std::string& s);

std::string state_name(JobState s);
// nullopt for anything but the exact names above.
std::optional<JobState> parse_state(const std::string& s);
bool is_final(JobState s);
bool is_active(JobState s);  // Submitted, Scheduled, Running

struct JobRecord {
  std::int64_t seq = 0;  // submission order (FIFO within a queue; the list cursor)
  std::string id;
  std::string queue;
  JobOrigin origin = JobOrigin::Kjq;
  std::string job_result_id;  // Nautobot's JobResult (origin nautobot: from the Job's name)
  JobState state = JobState::Queued;
  std::string reason;
  std::string message;
  std::string data_json = "{}";           // the job kwargs, a JSON object as submitted
  std::optional<int> time_limit_seconds;  // → activeDeadlineSeconds
  std::string kube_name;                  // fixed when claimed: <prefix>-<id>
  std::string kube_uid;                   // set once the create answered
  std::optional<int> exit_code;
  std::string log_tail;             // captured before the Job can go away
  std::string events_json = "[]";   // captured Events (JSON array)
  bool evidence_truncated = false;  // log_tail or events_json were cut to the per-job cap
  std::string owner;                // the replica that claimed it
  bool cancel_requested = false;
  std::optional<int> cancel_grace_seconds;
  std::int64_t created_ms = 0, submitted_ms = 0, started_ms = 0, finished_ms = 0, updated_ms = 0;
};

struct NewJob {
  std::string id;
  std::string queue;
  std::string data_json = "{}";
  std::optional<int> time_limit_seconds;
  std::int64_t now_ms = 0;
};

// A Job that someone else created (Nautobot), recorded when the informer first finds it.
struct AdoptedJob {
  std::string id;  // the JobResult id, else the Job's name
  std::string queue;
  JobOrigin origin = JobOrigin::Nautobot;
  std::string job_result_id;
  std::string kube_name, kube_uid;
  JobState state = JobState::Submitted;  // Queued: suspended, waiting for kjq's admission
  std::string reason;                    // e.g. "Suspended"
  std::int64_t created_ms = 0;           // the Job's creationTimestamp (its place in the queue)
  std::int64_t now_ms = 0;
};

// A write of a job's end into Nautobot's database, kept until it has been done.
struct WriteBack {
  std::string job_id;
  std::string payload_json;  // what the writer needs (nautobot::JobEnd as JSON)
  int attempts = 0;
  std::int64_t next_attempt_ms = 0;
  std::string last_error;
  std::int64_t created_ms = 0;
};

struct SubmitResult {
  JobRecord record;
  bool inserted = false;  // false: the id existed; `record` is the stored one (idempotency)
};

// Which way a list runs: by submission order (seq), oldest or newest first.
enum class ListOrder { Oldest, Newest };

// Which time `since_ms`/`until_ms` apply to.
enum class TimeField { Created, Finished };

struct JobFilter {
  std::string queue;                // "" = any
  std::optional<JobOrigin> origin;  // nullopt = any
  std::optional<JobState> state;    // nullopt = any (kept for callers that want one state)
  std::vector<JobState> states;     // any of these; empty = any (combined with `state` by AND)
  std::string reason;               // exact reason; "" = any
  std::string id_prefix;            // ids starting with it; "" = any. Only [a-z0-9-] is matched
  TimeField time_field = TimeField::Created;
  std::optional<std::int64_t> since_ms;  // that time >= since_ms
  std::optional<std::int64_t> until_ms;  // that time < until_ms
  ListOrder order = ListOrder::Oldest;
  int limit = 100;             // 1..1000
  std::int64_t after_seq = 0;  // the cursor: the last seq of the previous page (0: from the start);
                               // Oldest continues with seq > after_seq, Newest with seq < after_seq
};

struct JobPage {
  std::vector<JobRecord> items;     // in the filter's order
  std::int64_t next_after_seq = 0;  // 0 when there are no more
};

// Jobs per state for a filter (JobStore::count_states).
struct StateCounts {
  std::int64_t by_state[7] = {};  // indexed by JobState
  std::int64_t& operator[](JobState s) { return by_state[static_cast<int>(s)]; }
  std::int64_t operator[](JobState s) const { return by_state[static_cast<int>(s)]; }
  std::int64_t total() const {
    std::int64_t n = 0;
    for (auto c : by_state) n += c;
    return n;
  }
};

// Limits of what finished records are kept (JobStore::prune_finished).
struct Retention {
  std::optional<std::int64_t> finished_before_ms;  // prune records finished before this
  std::optional<std::int64_t> keep_max_finished;   // prune the oldest finished beyond this many
  int batch = 500;                                 // at most this many rows per call
};

struct QueueCounts {
  std::string queue;
  std::int64_t queued = 0, submitted = 0, scheduled = 0, running = 0;
  std::int64_t succeeded = 0, failed = 0, cancelled = 0;
  std::int64_t active() const { return submitted + scheduled + running; }
  // Adds `n` jobs in state `s` (both stores read counts per (queue, state) row).
  void add(JobState s, std::int64_t n);
};

// A non-final change seen on the cluster. Never moves a final record.
struct Progress {
  JobState state = JobState::Submitted;  // Submitted, Scheduled or Running
  std::string reason, message;
  std::optional<int> exit_code;
  std::int64_t now_ms = 0;  // started_ms is set from it the first time state is Running
};

struct Finish {
  JobState state = JobState::Failed;  // Succeeded, Failed or Cancelled
  std::string reason, message;
  std::optional<int> exit_code;
  std::optional<std::string> log_tail;  // nullopt: keep what is stored
  std::optional<std::string> events_json;
  bool evidence_truncated = false;  // the log tail or the Events were cut to the per-job cap
  // Queued as a WriteBack in the same transaction, when (and only when) this call made the
  // record final: a crash between the two can lose neither.
  std::optional<std::string> writeback_json;
  // When the write-back is due; 0: at now_ms. A later time leaves room for attach_evidence() to
  // complete its payload first, while a crash in between still writes the end (without evidence).
  std::int64_t writeback_due_ms = 0;
  std::int64_t now_ms = 0;
};

// What a finished job left behind, captured after its end was recorded (JobStore::attach_evidence).
struct Evidence {
  std::optional<std::string> log_tail;  // nullopt: keep what is stored
  std::optional<std::string> events_json;
  bool evidence_truncated = false;  // set on the record when true; never cleared
  // Replaces the payload of the job's write-back, when one is queued and not yet tried, and makes
  // it due at now_ms.
  std::optional<std::string> writeback_json;
  std::int64_t now_ms = 0;
};

// What an operator set for a queue (stored: every replica sees it, a restart keeps it).
struct QueueSetting {
  std::string queue;
  bool paused = false;
  std::int64_t changed_ms = 0;
};

struct CancelResult {
  bool found = false;
  bool cancelled_now = false;  // it was Queued and is now Cancelled
  JobRecord record;            // after the change
};

}  // namespace kjq::server

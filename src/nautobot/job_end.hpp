#pragma once
// How a Kubernetes Job ended, as kjq records it on Nautobot's JobResult, and the text it writes:
// the traceback and the JobLogEntry rows (grouping "kubernetes"). Pure functions, no database.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kjq::nautobot {

using TimePoint = std::chrono::system_clock::time_point;

// One Event of the Job or of one of its pods.
struct KubeEvent {
  std::string type;    // "Normal" or "Warning"
  std::string reason;  // "BackOff", "FailedScheduling", …
  std::string message;
  std::string object;  // "pod/nautobot-job-…" ("" when unknown)
  std::optional<TimePoint> time;
};

struct JobEnd {
  std::string job_result_id;  // the JobResult's uuid, as in the Job's name
  TimePoint ended_at;         // becomes date_done
  std::string reason;         // "OOMKilled", "DeadlineExceeded", "ImagePullBackOff", "Deleted", …
  std::optional<int> exit_code;
  std::string message;
  std::vector<KubeEvent> events;      // oldest first
  std::vector<std::string> log_tail;  // the last lines of the job container's log, oldest first
};

// Bounds on what one failure writes. Longer texts are cut at a character boundary and say so;
// beyond the counts, the oldest events and lines are left out (and a row says how many).
inline constexpr std::size_t kMaxMessageBytes = 8 * 1024;     // one log entry's message
inline constexpr std::size_t kMaxTracebackBytes = 16 * 1024;  // JobResult.traceback
inline constexpr std::size_t kMaxEvents = 200;
inline constexpr std::size_t kMaxLogLines = 1000;

// The first line of every traceback kjq writes: tells a retried write that it already happened.
inline constexpr std::string_view kTracebackMarker = "Kubernetes Job ended without a result (recorded by kjq)";

// One extras_joblogentry row to insert (grouping "kubernetes", log_object and absolute_url "").
struct LogEntry {
  std::string level;  // "error", "warning" or "info"
  std::string message;
  TimePoint created;
};

// The rows for `end`, in the order the JobResult page lists them (by `created`: ended_at, then
// one microsecond apart): the reason and exit code (error), each Event (warning for Warning,
// info otherwise), then the log tail (info). Texts from outside are cleaned (clean_text) and put
// in Markdown code spans, as Nautobot renders log messages as Markdown.
std::vector<LogEntry> evidence_entries(const JobEnd& end);

// The traceback: kTracebackMarker, then the reason, exit code and message, plain text.
std::string failure_traceback(const JobEnd& end);

// `text` fit for a PostgreSQL text column: NUL bytes and ANSI escape sequences removed, other
// control characters except tab (and newline with LineBreaks::Keep) replaced by a space, bytes
// that are not UTF-8 replaced by U+FFFD, and at most `max_bytes` bytes (cut at a character
// boundary, ending with " … [N bytes cut]").
enum class LineBreaks { ToSpaces, Keep };
std::string clean_text(std::string_view text, std::size_t max_bytes, LineBreaks line_breaks = LineBreaks::ToSpaces);

// `text` as a Markdown code span (`…`; ``…``, up to four backticks, when it holds backticks; a text
// with a run of four or more shows its backticks as apostrophes). "" for blank text.
std::string code_span(std::string_view text);

// 2026-07-01T10:00:00.123456Z
std::string format_utc(TimePoint time);

// A lowercase canonical uuid (8-4-4-4-12 hex digits) as text, or nullopt.
std::optional<std::string> canonical_uuid(std::string_view text);

// A new random (version 4) uuid, from OpenSSL's RAND_bytes.
std::string new_uuid4();

}  // namespace kjq::nautobot

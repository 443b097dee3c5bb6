#include "schedule/schedule_database.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "nautobot/job_end.hpp"
#include "nautobot/pg_connection.hpp"
#include "schedule/run_id.hpp"
#include "util/diagnostic.hpp"

namespace kjq::schedule {

namespace {

using nautobot::pg_null;
using nautobot::pg_text;
using nautobot::PgConnection;
using nautobot::PgResult;
using Params = std::vector<std::optional<std::string>>;

constexpr const char* kSchemaHint =
    "kjq reads extras_scheduledjob, extras_job, extras_jobqueue and users_user and writes extras_jobresult and "
    "extras_joblogentry as Nautobot 3.x defines them; is this Nautobot's database, migrated?";

// Rows per multi-row statement (PostgreSQL allows 65535 parameters; a JobResult takes 12).
constexpr std::size_t kRowsPerStatement = 400;
constexpr std::size_t kLogObjectMax = 200;    // JOB_LOG_MAX_LOG_OBJECT_LENGTH
constexpr std::size_t kAbsoluteUrlMax = 255;  // JOB_LOG_MAX_ABSOLUTE_URL_LENGTH

constexpr const char* kRowColumns =
    "s.id::text, s.name, s.interval, s.crontab, s.start_time, s.time_zone, s.enabled, s.one_off, s.state,"
    " s.last_run_at, s.total_run_count, s.kwargs::text, s.celery_kwargs::text, s.user_id::text,"
    " s.job_model_id::text, s.job_queue_id::text, u.id IS NOT NULL, j.id IS NOT NULL, coalesce(j.enabled, false),"
    " coalesce(j.has_sensitive_variables, true), coalesce(j.name, ''),"
    " coalesce(j.module_name || '.' || j.job_class_name, ''), coalesce(q.name, ''), coalesce(q.queue_type, '')"
    " FROM extras_scheduledjob s LEFT JOIN extras_job j ON j.id = s.job_model_id"
    " LEFT JOIN extras_jobqueue q ON q.id = s.job_queue_id LEFT JOIN users_user u ON u.id = s.user_id";

// What kjq reads of each table; extras_jobresult is checked apart (what it writes).
const std::vector<std::pair<std::string, std::vector<std::string>>>& read_columns() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> all{
      {"extras_scheduledjob",
       {"id", "name", "interval", "crontab", "start_time", "time_zone", "enabled", "one_off", "state", "last_run_at",
        "total_run_count", "kwargs", "celery_kwargs", "user_id", "job_model_id", "job_queue_id", "date_changed"}},
      {"extras_job",
       {"id", "name", "module_name", "job_class_name", "enabled", "has_sensitive_variables", "last_updated"}},
      {"extras_jobqueue", {"id", "name", "queue_type", "last_updated"}},
      {"users_user", {"id"}},
      {"extras_scheduledjobs", {"ident", "last_update"}},
      {"extras_joblogentry",
       {"id", "job_result_id", "log_level", "grouping", "message", "created", "log_object", "absolute_url"}},
  };
  return all;
}

// The columns of extras_jobresult kjq knows how to fill, as Nautobot's JobResult model does.
const std::vector<std::string>& known_jobresult_columns() {
  static const std::vector<std::string> all{"id",
                                            "name",
                                            "date_created",
                                            "date_done",
                                            "status",
                                            "result",
                                            "user_id",
                                            "_custom_field_data",
                                            "scheduled_job_id",
                                            "job_model_id",
                                            "task_args",
                                            "meta",
                                            "task_kwargs",
                                            "task_name",
                                            "traceback",
                                            "worker",
                                            "celery_kwargs",
                                            "date_started",
                                            "debug_log_count",
                                            "error_log_count",
                                            "info_log_count",
                                            "success_log_count",
                                            "warning_log_count"};
  return all;
}
const std::vector<std::string> kRequiredJobResultColumns{
    "id", "name", "date_created", "status", "scheduled_job_id", "job_model_id", "celery_kwargs", "task_name"};

bool yes(const PgResult& r, int row, int column) { return pg_text(r, row, column) == "t"; }

std::optional<Instant> instant_of(const PgResult& r, int row, int column) {
  if (pg_null(r, row, column)) return std::nullopt;
  return parse_instant(pg_text(r, row, column));
}

ScheduleRow read_row(const PgResult& r, int i) {
  ScheduleRow s;
  s.id = pg_text(r, i, 0);
  s.name = pg_text(r, i, 1);
  s.interval = pg_text(r, i, 2);
  s.crontab = pg_text(r, i, 3);
  s.start_time = instant_of(r, i, 4).value_or(Instant{});
  s.time_zone = pg_text(r, i, 5);
  s.enabled = yes(r, i, 6);
  s.one_off = yes(r, i, 7);
  s.state = pg_text(r, i, 8);
  s.last_run_at = instant_of(r, i, 9);
  s.total_run_count = std::stoll(pg_text(r, i, 10).empty() ? "0" : pg_text(r, i, 10));
  s.kwargs_json = pg_text(r, i, 11);
  s.celery_kwargs_json = pg_text(r, i, 12);
  s.user_id = pg_text(r, i, 13);
  s.job_model_id = pg_text(r, i, 14);
  s.job_queue_id = pg_text(r, i, 15);
  s.user_exists = yes(r, i, 16);
  s.job_exists = yes(r, i, 17);
  s.job_enabled = yes(r, i, 18);
  s.job_has_sensitive_variables = yes(r, i, 19);
  s.job_name = pg_text(r, i, 20);
  s.job_class_path = pg_text(r, i, 21);
  s.queue_name = pg_text(r, i, 22);
  s.queue_type = pg_text(r, i, 23);
  return s;
}

std::string pg_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "}";
}

std::string cut(const std::string& text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;  // a whole character
  return text.substr(0, n);
}

// The JobResult's celery_kwargs as Beat builds them: the entry's options, the schedule's own
// celery_kwargs over them, and the queue's name when they name none.
std::string celery_kwargs_of(const ScheduleRow& s) {
  nlohmann::ordered_json options = nlohmann::ordered_json::object();
  options["nautobot_job_scheduled_job_id"] = s.id;
  options["headers"] = nlohmann::ordered_json::object();
  options["nautobot_job_user_id"] = s.user_id;
  options["nautobot_job_job_model_id"] = s.job_model_id;
  const auto own = nlohmann::ordered_json::parse(s.celery_kwargs_json, nullptr, /*allow_exceptions=*/false);
  if (own.is_object())
    for (const auto& [key, value] : own.items()) options[key] = value;
  if (!options.contains("queue")) options["queue"] = s.queue_name;
  return options.dump();
}

// One JobResult row to insert.
struct NewJobResult {
  std::string id, name, status = "PENDING", scheduled_job_id, job_model_id, task_name;
  std::optional<std::string> user_id, traceback, date_started, date_done;
  std::string celery_kwargs = "{}", task_kwargs = "{}", date_created;
  bool counted = false;  // *_log_count set (0, error 1) as count_logs_by_level() leaves them
};

struct NewLogEntry {
  std::string job_result_id, level, message, log_object, absolute_url, created;
};

}  // namespace

std::string why_not_fired(const ScheduleRow& s) {
  if (s.queue_type != "kubernetes")
    return s.job_queue_id.empty() ? "no job queue (Celery's default queue)"
                                  : "queue " + s.queue_name + " is not a Kubernetes queue";
  if (s.state != "active") return "state is " + s.state;
  if (!s.enabled) return "disabled";
  if (s.job_exists && !s.job_enabled) return "job " + s.job_name + " is disabled";
  return "";
}

Rule rule_of(const ScheduleRow& s) {
  Rule r;
  const auto interval = parse_interval(s.interval);
  if (!interval) {
    Diagnostic d;
    d.path = "interval";
    d.message = "expected immediately, future, hourly, daily, weekly or custom, got \"" + cut(s.interval, 40) + "\"";
    throw InputError(std::move(d));
  }
  r.interval = *interval;
  r.crontab = s.crontab;
  r.start_time = s.start_time;
  r.time_zone = s.time_zone.empty() ? "UTC" : s.time_zone;
  return r;
}

std::string to_string(ClaimOutcome::Kind kind) {
  switch (kind) {
    case ClaimOutcome::Kind::Fired:
      return "fired";
    case ClaimOutcome::Kind::NotDue:
      return "not due";
    case ClaimOutcome::Kind::NotFired:
      return "not fired";
    case ClaimOutcome::Kind::Locked:
      return "locked by another replica";
    case ClaimOutcome::Kind::MissingUser:
      return "missing user";
    case ClaimOutcome::Kind::MissingJob:
      return "missing job";
    case ClaimOutcome::Kind::Invalid:
      return "invalid";
  }
  return "?";
}

ScheduleDatabase::ScheduleDatabase(nautobot::NautobotDatabase database, int connections)
    : database_(std::move(database)) {
  for (int i = 0; i < std::max(connections, 1); ++i) slots_.push_back(std::make_unique<Slot>());
}
ScheduleDatabase::~ScheduleDatabase() = default;

template <typename Work>
auto ScheduleDatabase::with_connection(Slot& slot, Work&& work) {
  if (slot.connection && slot.connection->broken()) slot.connection.reset();
  if (!slot.connection) slot.connection = std::make_unique<PgConnection>(database_, kSchemaHint);
  auto& conn = *slot.connection;
  try {
    return work(conn);
  } catch (...) {
    conn.rollback();
    if (conn.broken()) slot.connection.reset();
    throw;
  }
}

void ScheduleDatabase::check_schema(bool writes) {
  std::lock_guard schema_lock(schema_mutex_);
  std::lock_guard lock(slots_[0]->mutex);
  with_connection(*slots_[0], [&](PgConnection& c) {
    std::vector<std::string> tables{"extras_jobresult"};
    for (const auto& [table, columns] : read_columns()) tables.push_back(table);
    ++statements_;
    auto rows = c.exec("cannot read the schema",
                       "SELECT table_name::text, column_name::text, is_nullable = 'YES', column_default IS NOT NULL"
                       " FROM information_schema.columns WHERE table_schema = current_schema()"
                       " AND table_name = ANY($1::text[]) ORDER BY table_name, ordinal_position",
                       {pg_array(tables)});
    std::map<std::string, std::vector<std::string>> present;
    std::vector<std::string> unknown_required;
    const auto& known = known_jobresult_columns();
    std::vector<std::string> jobresult;
    for (int i = 0; i < PQntuples(rows.get()); ++i) {
      const auto table = pg_text(rows, i, 0), column = pg_text(rows, i, 1);
      present[table].push_back(column);
      if (table != "extras_jobresult") continue;
      if (std::find(known.begin(), known.end(), column) != known.end()) {
        jobresult.push_back(column);
      } else if (!yes(rows, i, 2) && !yes(rows, i, 3)) {
        unknown_required.push_back(column);
      }
    }
    std::vector<std::string> missing;
    auto need = [&](const std::string& table, const std::vector<std::string>& columns) {
      const auto found = present.find(table);
      if (found == present.end()) {
        missing.push_back("table " + table);
        return;
      }
      for (const auto& column : columns)
        if (std::find(found->second.begin(), found->second.end(), column) == found->second.end())
          missing.push_back(table + "." + column);
    };
    for (const auto& [table, columns] : read_columns()) need(table, columns);
    if (writes) need("extras_jobresult", kRequiredJobResultColumns);
    auto list = [](const std::vector<std::string>& items) {
      std::string out;
      for (const auto& m : items) out += (out.empty() ? "" : ", ") + m;
      return out;
    };
    if (!missing.empty())
      throw nautobot::SchemaError(c.prefix("not Nautobot's schema as kjq knows it") + "missing " + list(missing) +
                                      " (kjq fires schedules in the databases of Nautobot 3.x, migrated)",
                                  "");
    if (!writes) return;
    if (!unknown_required.empty())
      throw nautobot::SchemaError(
          c.prefix("extras_jobresult has columns kjq does not know") + list(unknown_required) +
              " (NOT NULL, no default): a newer Nautobot than kjq knows; kjq will not write JobResults it cannot "
              "fill. Run Celery Beat for these schedules, or a kjq that knows this Nautobot",
          "");
    jobresult_columns_ = std::move(jobresult);
    schema_checked_ = true;
  });
}

std::string ScheduleDatabase::change_marker() {
  std::lock_guard lock(slots_[0]->mutex);
  return with_connection(*slots_[0], [&](PgConnection& c) {
    ++statements_;
    auto r = c.exec("cannot read the schedules' change marker",
                    "SELECT coalesce((SELECT last_update::text FROM extras_scheduledjobs WHERE ident = 1), '-')"
                    " || '|' || (SELECT coalesce(max(date_changed)::text, '-') || '/' || count(*) FROM "
                    "extras_scheduledjob)"
                    " || '|' || (SELECT coalesce(max(last_updated)::text, '-') || '/' || count(*) FROM extras_job)"
                    " || '|' || (SELECT coalesce(max(last_updated)::text, '-') || '/' || count(*) FROM "
                    "extras_jobqueue)",
                    {});
    return pg_text(r, 0, 0);
  });
}

std::vector<ScheduleRow> ScheduleDatabase::load() {
  std::lock_guard lock(slots_[0]->mutex);
  return with_connection(*slots_[0], [&](PgConnection& c) {
    ++statements_;
    auto r = c.exec("cannot read the schedules",
                    std::string("SELECT ") + kRowColumns + " WHERE q.queue_type = 'kubernetes' ORDER BY s.name", {});
    std::vector<ScheduleRow> rows;
    rows.reserve(static_cast<std::size_t>(PQntuples(r.get())));
    for (int i = 0; i < PQntuples(r.get()); ++i) rows.push_back(read_row(r, i));
    return rows;
  });
}

std::vector<PendingRun> ScheduleDatabase::pending_runs(Instant since, Instant before, int limit) {
  std::lock_guard lock(slots_[0]->mutex);
  return with_connection(*slots_[0], [&](PgConnection& c) {
    ++statements_;
    auto r = c.exec("cannot read the pending scheduled runs",
                    "SELECT jr.id::text, s.id::text, q.name, s.kwargs::text, jr.date_created FROM extras_jobresult jr"
                    " JOIN extras_scheduledjob s ON s.id = jr.scheduled_job_id"
                    " JOIN extras_jobqueue q ON q.id = s.job_queue_id"
                    " WHERE jr.status = 'PENDING' AND q.queue_type = 'kubernetes'"
                    " AND jr.date_created >= $1::timestamptz AND jr.date_created < $2::timestamptz"
                    " ORDER BY jr.date_created LIMIT $3::int",
                    {format_instant(since), format_instant(before), std::to_string(std::clamp(limit, 1, 10000))});
    std::vector<PendingRun> runs;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      PendingRun p;
      p.job_result_id = pg_text(r, i, 0);
      p.schedule_id = pg_text(r, i, 1);
      p.queue = pg_text(r, i, 2);
      p.data_json = pg_text(r, i, 3);
      p.created = instant_of(r, i, 4).value_or(Instant{});
      runs.push_back(std::move(p));
    }
    return runs;
  });
}

std::vector<ClaimOutcome> ScheduleDatabase::claim(const std::vector<std::string>& ids, Instant now,
                                                  const ClaimContext& context, int slot_index,
                                                  const std::function<bool()>& before_commit) {
  if (!schema_checked_) check_schema();  // jobresult_columns_ is set before schema_checked_
  std::vector<ClaimOutcome> outcomes;
  std::vector<std::string> wanted;
  for (const auto& id : ids) {
    if (auto canonical = nautobot::canonical_uuid(id)) {
      wanted.push_back(*canonical);
    } else {
      ClaimOutcome o;
      o.schedule_id = id;
      o.kind = ClaimOutcome::Kind::NotFired;
      o.message = "not a uuid";
      outcomes.push_back(std::move(o));
    }
  }
  if (wanted.empty()) return outcomes;
  Slot& slot = *slots_[static_cast<std::size_t>(std::clamp(slot_index, 0, connections() - 1))];
  std::lock_guard lock(slot.mutex);
  return with_connection(slot, [&](PgConnection& c) {
    c.exec("cannot begin a transaction", "BEGIN ISOLATION LEVEL READ COMMITTED", {});
    // In chunks: a claim made ahead for every run of a moment holds thousands of schedules, and
    // neither its statements nor the rows read at once need to.
    for (std::size_t first = 0; first < wanted.size(); first += kRowsPerStatement) {
      const auto last = std::min(wanted.size(), first + kRowsPerStatement);
      claim_locked(
          c, {wanted.begin() + static_cast<std::ptrdiff_t>(first), wanted.begin() + static_cast<std::ptrdiff_t>(last)},
          now, context, outcomes);
    }
    if (before_commit && !before_commit()) {
      ++statements_;
      c.exec("cannot roll back the runs", "ROLLBACK", {});
      return std::vector<ClaimOutcome>{};
    }
    ++statements_;
    c.exec("cannot commit the runs", "COMMIT", {});
    return outcomes;
  });
}

void ScheduleDatabase::claim_locked(PgConnection& c, const std::vector<std::string>& wanted, Instant now,
                                    const ClaimContext& context, std::vector<ClaimOutcome>& outcomes) {
  const auto now_text = format_instant(now);
  const auto first_outcome = outcomes.size();  // the outcomes of this chunk follow
  ++statements_;
  auto locked =
      c.exec("cannot lock the schedules",
             std::string("SELECT ") + kRowColumns + " WHERE s.id = ANY($1::uuid[]) FOR UPDATE OF s SKIP LOCKED",
             {pg_array(wanted)});
  std::map<std::string, ScheduleRow> rows;
  for (int i = 0; i < PQntuples(locked.get()); ++i) {
    auto row = read_row(locked, i);
    rows.emplace(row.id, std::move(row));
  }
  if (rows.size() < wanted.size()) {  // locked elsewhere, or gone
    ++statements_;
    auto exist = c.exec("cannot read the schedules",
                        "SELECT id::text FROM extras_scheduledjob WHERE id = ANY($1::uuid[])", {pg_array(wanted)});
    std::set<std::string> existing;
    for (int i = 0; i < PQntuples(exist.get()); ++i) existing.insert(pg_text(exist, i, 0));
    for (const auto& id : wanted) {
      if (rows.count(id)) continue;
      ClaimOutcome o;
      o.schedule_id = id;
      o.kind = existing.count(id) ? ClaimOutcome::Kind::Locked : ClaimOutcome::Kind::NotFired;
      if (!existing.count(id)) o.message = "deleted";
      outcomes.push_back(std::move(o));
    }
  }

  std::vector<NewJobResult> results;
  std::vector<NewLogEntry> entries;
  struct Update {
    std::string id;
    std::optional<std::string> last_run_at;
    std::int64_t runs = 0;
    bool enabled = true;
    std::string state;
    bool clear_user = false;
  };
  std::vector<Update> updates;

  for (auto& [id, row] : rows) {
    ClaimOutcome o;
    o.schedule_id = id;
    if (auto why = why_not_fired(row); !why.empty()) {
      o.kind = ClaimOutcome::Kind::NotFired;
      o.message = why;
      o.row = row;
      outcomes.push_back(std::move(o));
      continue;
    }
    std::optional<Timetable> timetable;
    try {
      timetable = Timetable::compile(rule_of(row));
    } catch (const InputError& e) {
      o.kind = ClaimOutcome::Kind::Invalid;
      o.message = e.what();
      o.row = row;
      outcomes.push_back(std::move(o));
      continue;
    }
    const auto plan = plan_runs(*timetable, row.last_run_at, now, context.catch_up);
    o.skipped = plan.skipped;
    o.next = plan.next;
    if (plan.fire.empty()) {
      o.kind = ClaimOutcome::Kind::NotDue;
      o.row = row;
      outcomes.push_back(std::move(o));
      continue;
    }
    if (!row.job_exists) {  // Beat: "Disabling schedule … with missing job model"
      o.kind = ClaimOutcome::Kind::MissingJob;
      o.message = "its Job no longer exists; the schedule is disabled and errored";
      updates.push_back({id, std::nullopt, 0, false, "errored", false});
      row.enabled = false;
      row.state = "errored";
      row.last_run_at.reset();
      o.next.reset();
      o.row = row;
      outcomes.push_back(std::move(o));
      continue;
    }
    if (!row.user_exists) {  // nb#8934: a FAILURE JobResult, the schedule disabled and errored
      const auto message = "Scheduled job '" + row.name +
                           "' cannot run: the originating user has been removed. Use 'Assume Ownership' on the "
                           "scheduled job detail view to reassign it.";
      NewJobResult jr;
      jr.id = run_id(id, plan.fire.back());
      jr.name = row.job_name;
      jr.status = "FAILURE";
      jr.scheduled_job_id = id;
      jr.job_model_id = row.job_model_id;
      jr.task_name = row.job_class_path;
      jr.traceback = message;
      jr.date_created = now_text;
      jr.date_started = now_text;
      jr.date_done = now_text;
      jr.counted = true;
      results.push_back(jr);
      entries.push_back({jr.id, "error", message, cut(row.name + ": " + row.interval, kLogObjectMax),
                         cut("/extras/scheduled-jobs/" + id + "/", kAbsoluteUrlMax), now_text});
      updates.push_back({id, std::nullopt, 0, false, "errored", true});
      o.kind = ClaimOutcome::Kind::MissingUser;
      o.message = message;
      row.enabled = false;
      row.state = "errored";
      row.user_id.clear();
      row.last_run_at.reset();
      o.next.reset();
      o.row = row;
      outcomes.push_back(std::move(o));
      continue;
    }
    const auto celery_kwargs = celery_kwargs_of(row);
    for (const auto& due : plan.fire) {
      NewJobResult jr;
      jr.id = run_id(id, due);
      jr.name = row.job_name;
      jr.scheduled_job_id = id;
      jr.job_model_id = row.job_model_id;
      jr.user_id = row.user_id;
      jr.task_name = row.job_class_path;
      jr.celery_kwargs = celery_kwargs;
      // run_kubernetes_job_and_return_job_result keeps the kwargs unless they may hold secrets.
      jr.task_kwargs = row.job_has_sensitive_variables ? "{}" : row.kwargs_json;
      jr.date_created = now_text;
      results.push_back(jr);
      FiredRun run;
      run.job_result_id = jr.id;
      run.schedule_id = id;
      run.schedule_name = row.name;
      run.due = due;
      run.queue = row.queue_name;
      run.data_json = row.kwargs_json.empty() ? "{}" : row.kwargs_json;
      o.runs.push_back(std::move(run));
    }
    o.kind = ClaimOutcome::Kind::Fired;
    const bool done = timetable->one_off();
    updates.push_back({id, format_instant(*plan.last_due), 0, !done, done ? "completed" : row.state, false});
    row.last_run_at = plan.last_due;
    if (done) {
      row.enabled = false;
      row.state = "completed";
      o.next.reset();
    }
    o.row = row;
    outcomes.push_back(std::move(o));
  }

  // The JobResults; those whose id exists already (fired before) are not fired again.
  std::set<std::string> inserted;
  const auto& columns = jobresult_columns_;
  for (std::size_t first = 0; first < results.size(); first += kRowsPerStatement) {
    const auto last = std::min(results.size(), first + kRowsPerStatement);
    std::string sql = "INSERT INTO extras_jobresult (";
    for (std::size_t k = 0; k < columns.size(); ++k) sql += (k ? ", " : "") + columns[k];
    sql += ") VALUES ";
    Params params;
    for (auto i = first; i < last; ++i) {
      const auto& jr = results[i];
      auto param = [&](std::optional<std::string> value, const char* type) {
        params.push_back(std::move(value));
        return "$" + std::to_string(params.size()) + "::" + type;
      };
      sql += i > first ? ", (" : "(";
      for (std::size_t k = 0; k < columns.size(); ++k) {
        const auto& col = columns[k];
        std::string v;
        if (col == "id")
          v = param(jr.id, "uuid");
        else if (col == "name")
          v = param(jr.name, "text");
        else if (col == "date_created")
          v = param(jr.date_created, "timestamptz");
        else if (col == "date_done")
          v = param(jr.date_done, "timestamptz");
        else if (col == "date_started")
          v = param(jr.date_started, "timestamptz");
        else if (col == "status")
          v = param(jr.status, "text");
        else if (col == "user_id")
          v = param(jr.user_id, "uuid");
        else if (col == "_custom_field_data")
          v = "'{}'::jsonb";
        else if (col == "scheduled_job_id")
          v = param(jr.scheduled_job_id, "uuid");
        else if (col == "job_model_id")
          v = param(jr.job_model_id, "uuid");
        else if (col == "task_args")
          v = "'[]'::jsonb";
        else if (col == "task_kwargs")
          v = param(jr.task_kwargs, "jsonb");
        else if (col == "task_name")
          v = param(jr.task_name, "text");
        else if (col == "traceback")
          v = param(jr.traceback, "text");
        else if (col == "celery_kwargs")
          v = param(jr.celery_kwargs, "jsonb");
        else if (col == "error_log_count")
          v = jr.counted ? "1" : "NULL";
        else if (col.size() > 10 && col.substr(col.size() - 10) == "_log_count")
          v = jr.counted ? "0" : "NULL";
        else
          v = "NULL";  // result, meta, worker
        sql += (k ? ", " : "") + v;
      }
      sql += ")";
    }
    sql += " ON CONFLICT (id) DO NOTHING RETURNING id::text";
    ++statements_;
    auto r = c.exec("cannot record the runs' JobResults", sql, params);
    for (int i = 0; i < PQntuples(r.get()); ++i) inserted.insert(pg_text(r, i, 0));
  }
  // Nautobot logs this on the JobResult before it creates the Job.
  for (auto i = first_outcome; i < outcomes.size(); ++i) {
    auto& o = outcomes[i];
    if (o.kind != ClaimOutcome::Kind::Fired) continue;
    std::vector<FiredRun> kept;
    for (auto& run : o.runs) {
      if (!inserted.count(run.job_result_id)) {
        ++o.skipped;  // fired before (its JobResult exists): never twice
        continue;
      }
      entries.push_back({run.job_result_id, "info",
                         "Creating job pod " + context.name_prefix + "-" + run.job_result_id + " in namespace " +
                             context.namespace_name,
                         "", "", now_text});
      kept.push_back(std::move(run));
    }
    o.runs = std::move(kept);
    if (o.runs.empty()) o.kind = ClaimOutcome::Kind::NotDue;
    for (auto& u : updates)
      if (u.id == o.schedule_id) u.runs = static_cast<std::int64_t>(o.runs.size());
    if (o.row) o.row->total_run_count += static_cast<std::int64_t>(o.runs.size());
  }
  for (std::size_t first = 0; first < entries.size(); first += kRowsPerStatement) {
    const auto last = std::min(entries.size(), first + kRowsPerStatement);
    std::string sql =
        "INSERT INTO extras_joblogentry (id, job_result_id, log_level, grouping, message, created, log_object,"
        " absolute_url) VALUES ";
    Params params;
    for (auto i = first; i < last; ++i) {
      const auto& e = entries[i];
      const auto n = params.size();
      sql += (i > first ? ", " : "") + std::string("($") + std::to_string(n + 1) + "::uuid, $" + std::to_string(n + 2) +
             "::uuid, $" + std::to_string(n + 3) + "::text, 'main', $" + std::to_string(n + 4) + "::text, $" +
             std::to_string(n + 5) + "::timestamptz, $" + std::to_string(n + 6) + "::text, $" + std::to_string(n + 7) +
             "::text)";
      params.insert(params.end(), {nautobot::new_uuid4(), e.job_result_id, e.level, e.message, e.created, e.log_object,
                                   e.absolute_url});
    }
    ++statements_;
    c.exec("cannot add the runs' log entries", sql, params);
  }
  for (std::size_t first = 0; first < updates.size(); first += kRowsPerStatement) {
    const auto last = std::min(updates.size(), first + kRowsPerStatement);
    std::string sql =
        "UPDATE extras_scheduledjob AS s SET last_run_at = v.last_run_at::timestamptz,"
        " total_run_count = s.total_run_count + v.runs::int, enabled = v.enabled::boolean, state = v.state,"
        " user_id = CASE WHEN v.clear_user::boolean THEN NULL ELSE s.user_id END FROM (VALUES ";
    Params params;
    for (auto i = first; i < last; ++i) {
      const auto& u = updates[i];
      const auto n = params.size();
      sql += (i > first ? ", " : "") + std::string("($") + std::to_string(n + 1) + "::uuid, $" + std::to_string(n + 2) +
             "::text, $" + std::to_string(n + 3) + "::text, $" + std::to_string(n + 4) + "::text, $" +
             std::to_string(n + 5) + "::text, $" + std::to_string(n + 6) + "::text)";
      params.insert(params.end(), {u.id, u.last_run_at, std::to_string(u.runs), u.enabled ? "true" : "false", u.state,
                                   u.clear_user ? "true" : "false"});
    }
    sql += ") AS v(id, last_run_at, runs, enabled, state, clear_user) WHERE s.id = v.id";
    ++statements_;
    c.exec("cannot record the runs on the schedules", sql, params);
  }
}

}  // namespace kjq::schedule

#pragma once
// The job store's schema, as versioned migrations shared by both stores. Each store applies, at
// start-up and in version order, every migration not yet recorded in schema_migrations(version,
// applied_at_ms); each migration runs in its own transaction together with its record, so a crash
// leaves either all of it or none. A new schema change is a new entry at the end; entries already
// released are never edited.
#include <string>
#include <vector>

namespace kjq::server {

struct Migration {
  int version = 0;
  std::string description;
  std::string sqlite_sql;    // may hold several statements
  std::string postgres_sql;  // may hold several statements
};

// In ascending version order, starting at 1 with no gaps.
const std::vector<Migration>& migrations();
int latest_schema_version();

// Creates schema_migrations when it is missing (same for both databases).
extern const char* const kCreateSchemaMigrationsSql;

// The jobs columns in the order both stores select and decode them (SELECT <kJobColumns>).
extern const char* const kJobColumns;

// The writebacks columns in the order both stores select and decode them as a WriteBack.
extern const char* const kWriteBackColumns;

// WHERE condition true for jobs not yet in a final state (both dialects).
extern const char* const kNotFinalSql;
// Queued records kjq's admission may claim: not an adopted suspended Job that Kueue or a person
// admits (server/nautobot_jobs.hpp: kWaitingForKueue, kSuspended); those are only followed.
extern const char* const kClaimableSql;
// WHERE condition true for jobs whose queue is not paused (queue_settings; both dialects).
extern const char* const kNotPausedSql;

}  // namespace kjq::server

#pragma once
// Where Nautobot's PostgreSQL database is and how kjq logs in to it. The URL names the server,
// the user and the database; the password comes from a file (--nautobot-database-password-file)
// or from libpq's own sources (PGPASSWORD, PGPASSFILE, ~/.pgpass), never from the URL or argv.
// Nautobot also runs on MySQL; kjq writes to PostgreSQL only.
#include <chrono>
#include <string>

namespace kjq::nautobot {

inline constexpr const char* kDatabaseFlag = "--nautobot-database";
inline constexpr const char* kPasswordFileFlag = "--nautobot-database-password-file";

struct NautobotDatabase {
  // postgresql://USER@HOST:PORT/DATABASE (or postgres://), libpq's query parameters allowed
  // (?sslmode=verify-full&sslrootcert=...). Never a password.
  std::string url;
  // A file holding the password (one trailing newline is stripped). Read again on every new
  // connection, so a rotated Secret takes effect without a restart. "" → libpq's PGPASSWORD,
  // PGPASSFILE or ~/.pgpass.
  std::string password_file;
  std::chrono::seconds connect_timeout{10};
  // Bounds every statement; a write that waits longer (a lock held by Nautobot) is retried later.
  std::chrono::seconds statement_timeout{30};

  // The flags checked as start-up needs them: the URL (PostgreSQL only, no password in it) and
  // the password file (readable, not empty). Throws InputError naming the flag; no message
  // carries a password.
  static NautobotDatabase from_flags(const std::string& url, const std::string& password_file = {});
  void validate() const;

  // "HOST:PORT/DATABASE as USER" for messages (the URL minus its scheme and parameters).
  std::string display_name() const;
};

// The password in `path`: its content minus one trailing "\n" (or "\r\n"). Throws InputError
// naming kPasswordFileFlag and the file when it is missing, unreadable, too large or empty.
std::string read_password_file(const std::string& path);

}  // namespace kjq::nautobot

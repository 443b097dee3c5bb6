#pragma once
// A real, throwaway PostgreSQL server for tests, from Debian's `postgresql` package
// (/usr/lib/postgresql/<version>/bin). It lives in a temporary directory (on /dev/shm when
// possible), listens on 127.0.0.1 at
// a free port (and on a unix socket in that directory), trusts the user "kjq", and is shut down
// and removed by the destructor. Under root it runs as the `postgres` system user (postgres
// refuses root). initdb runs once per machine, user and PostgreSQL version: later servers start
// from a copy of that cached cluster (<tmp>/kjq-pg-template-v2-<version>-uid<uid>), which makes a
// server ready in a fraction of a second, as CTest starts one process per test case.
#include <sys/types.h>

#include <filesystem>
#include <string>

namespace kjq::test {

class PostgresServer {
 public:
  // initdb, postgres, pg_isready and psql are installed (and, under root, the postgres user).
  static bool available();
  // Why available() is false, with what to install.
  static std::string unavailable_reason();
  // CI installs PostgreSQL, so there a missing server fails the tests instead of skipping them.
  static bool required();
  // One server per test executable, started on first use and stopped at exit. Call it from the
  // main thread: the server gets SIGQUIT when the thread that started it ends, so that even a
  // crashed test run leaves no server behind.
  static PostgresServer& shared();

  // Starts a server with an empty database "kjq". Throws std::runtime_error with the log.
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  const std::string& user() const { return user_; }
  // postgresql://kjq@127.0.0.1:PORT/kjq
  std::string url() const { return url_for("kjq"); }
  std::string url_for(const std::string& database) const;
  // A new empty database t_<random>; returns its URL. Lets each test start from nothing.
  std::string create_database();
  // Runs SQL with psql against `database`; returns psql's unaligned output. Throws on failure.
  std::string psql(const std::string& sql, const std::string& database = "kjq") const;

 private:
  // A fresh directory, removed with its contents when the server goes. On /dev/shm when it can
  // be: copying a cluster there takes milliseconds, on a busy disk it can take seconds.
  class ScratchDir {
   public:
    ScratchDir();
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

   private:
    std::filesystem::path path_;
  };

  bool start_on_free_port(const std::filesystem::path& data);
  void stop();

  std::filesystem::path bin_;
  ScratchDir dir_;  // data/, the unix socket, postgres.log
  std::string user_ = "kjq";
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace kjq::test

// In a test body or SetUp: skips the test when PostgreSQL is not installed, fails it under CI.
#define KJQ_REQUIRE_POSTGRES()                                                                                         \
  do {                                                                                                                 \
    if (!::kjq::test::PostgresServer::available()) {                                                                   \
      if (::kjq::test::PostgresServer::required()) {                                                                   \
        FAIL() << "CI is set, so PostgreSQL must be installed: " << ::kjq::test::PostgresServer::unavailable_reason(); \
      }                                                                                                                \
      GTEST_SKIP() << ::kjq::test::PostgresServer::unavailable_reason();                                               \
    }                                                                                                                  \
  } while (0)

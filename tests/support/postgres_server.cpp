#include "support/postgres_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/process.hpp"
#include "support/test_support.hpp"

extern char** environ;

namespace kjq::test {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const char* const kSetpriv = "/usr/bin/setpriv";

// /usr/lib/postgresql/15/bin → 15
int major_version(const fs::path& bin) { return std::atoi(bin.parent_path().filename().c_str()); }

// The bin directory of the newest PostgreSQL that has every tool we use ("" when none).
fs::path find_bin_dir() {
  fs::path best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const auto bin = entry.path() / "bin";
    bool complete = true;
    for (const char* tool : {"initdb", "postgres", "pg_isready", "psql"}) {
      complete = complete && ::access((bin / tool).c_str(), X_OK) == 0;
    }
    const int version = major_version(bin);
    if (complete && version > best_version) {
      best = bin;
      best_version = version;
    }
  }
  return best;
}

bool running_as_root() { return ::geteuid() == 0; }

struct ServerAccount {
  uid_t uid;
  gid_t gid;
};

// The `postgres` system user Debian's package creates; postgres runs as it when we are root.
std::optional<ServerAccount> postgres_account() {
  struct passwd entry {};
  struct passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getpwnam_r("postgres", &entry, buffer.data(), buffer.size(), &found) != 0 || !found) return std::nullopt;
  return ServerAccount{found->pw_uid, found->pw_gid};
}

// `argv` as the server's user: through setpriv under root. `die_with_parent` adds a parent-death
// signal (SIGQUIT: immediate shutdown) so a server never outlives a crashed test process.
std::vector<std::string> as_server_user(const std::vector<std::string>& argv, bool die_with_parent) {
  std::vector<std::string> command;
  const bool have_setpriv = ::access(kSetpriv, X_OK) == 0;
  if (running_as_root() || (die_with_parent && have_setpriv)) {
    command.push_back(kSetpriv);
    if (running_as_root()) {
      command.insert(command.end(), {"--reuid=postgres", "--regid=postgres", "--init-groups"});
    }
    if (die_with_parent) command.insert(command.end(), {"--pdeathsig", "QUIT"});
    command.push_back("--");
  }
  command.insert(command.end(), argv.begin(), argv.end());
  return command;
}

void give_to_server_user(const fs::path& path) {
  if (!running_as_root()) return;
  const auto account = postgres_account();
  if (!account || ::chown(path.c_str(), account->uid, account->gid) != 0) {
    throw std::runtime_error("cannot give " + path.string() + " to the postgres user");
  }
}

// Starts `argv` in `cwd` (the server's user may not be allowed into ours), reading `input`, with
// stdout and stderr appended to `log`.
pid_t spawn(const std::vector<std::string>& argv, const fs::path& log, const fs::path& cwd,
            const fs::path& input = "/dev/null") {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, input.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  return pid;
}

// The exit code (128 + signal when killed); SIGKILLs the process when it overruns.
int wait_exit(pid_t pid, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run(const std::vector<std::string>& argv, const fs::path& log, const fs::path& cwd, std::chrono::seconds timeout,
        const fs::path& input = "/dev/null") {
  return wait_exit(spawn(argv, log, cwd, input), timeout);
}

std::string log_text(const fs::path& log) {
  try {
    auto text = read_text(log);
    constexpr std::size_t kTail = 4000;
    return text.size() > kTail ? text.substr(text.size() - kTail) : text;
  } catch (const std::exception&) {
    return "(no log)";
  }
}

// A port nobody listens on right now (the kernel's pick). Another process can take it before
// postgres binds it; the caller retries then.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot find a free port");
  return ntohs(addr.sin_port);
}

std::string random_name(const std::string& prefix) {
  static std::mt19937_64 generator{std::random_device{}()};
  static const char* const digits = "0123456789abcdef";
  std::string name = prefix;
  auto bits = generator();
  for (int i = 0; i < 12; ++i, bits >>= 4) name += digits[bits & 0xf];
  return name;
}

// initdb takes over a second, so it runs once per machine, user and version; every server starts
// from a copy. Built in a staging directory and renamed into place, so the cache is never partial.
// Kept small, as each server copies it: 1 MB WAL segments, the database "kjq" in place of
// "postgres".
class ClusterTemplate {
 public:
  explicit ClusterTemplate(const fs::path& bin) : bin_(bin) {
    // v2: the layout below; a new layout needs a new name, or old caches would be reused.
    const std::string key =
        "kjq-pg-template-v2-" + bin.parent_path().filename().string() + "-uid" + std::to_string(::geteuid());
    path_ = fs::temp_directory_path() / key;
    lock_path_ = fs::temp_directory_path() / (key + ".lock");
  }

  const fs::path& path() const { return path_; }

  void ensure() {
    Lock lock(lock_path_);
    if (fs::exists(path_ / "global" / "pg_control") && fs::exists(path_ / "PG_VERSION")) return;
    std::error_code ec;
    fs::remove_all(path_, ec);
    TempDir staging;
    give_to_server_user(staging.path());
    const auto data = staging.path() / "data";
    const auto log = staging.path() / "initdb.log";
    int rc = run(as_server_user({(bin_ / "initdb").string(), "-D", data.string(), "-A", "trust", "-U", "kjq",
                                 "--no-sync", "-E", "UTF8", "--no-locale", "--wal-segsize=1"},
                                false),
                 log, staging.path(), std::chrono::seconds(120));
    if (rc != 0) throw std::runtime_error("initdb failed (exit " + std::to_string(rc) + "):\n" + log_text(log));
    // Single-user mode: one statement per line, no server to start and stop.
    const auto setup = staging.write("setup.sql", "CREATE DATABASE kjq\nDROP DATABASE postgres\n");
    rc = run(as_server_user({(bin_ / "postgres").string(), "--single", "-D", data.string(), "-c", "fsync=off", "-c",
                             "min_wal_size=2MB", "template1"},
                            false),
             log, staging.path(), std::chrono::seconds(60), setup);
    if (rc != 0) throw std::runtime_error("setting up the cached cluster failed:\n" + log_text(log));
    fs::rename(data, path_);
  }

  // After a server failed to start from a copy: rebuild the cache next time.
  void discard() {
    Lock lock(lock_path_);
    std::error_code ec;
    fs::remove_all(path_, ec);
  }

 private:
  // Serialises test processes building the cache at the same time.
  class Lock {
   public:
    explicit Lock(const fs::path& path) : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
      if (fd_ >= 0 && ::flock(fd_, LOCK_EX) == 0) return;
      if (fd_ >= 0) ::close(fd_);
      throw std::runtime_error("cannot lock " + path.string());
    }
    ~Lock() { ::close(fd_); }
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

   private:
    int fd_;
  };

  fs::path bin_, path_, lock_path_;
};

}  // namespace

bool PostgresServer::available() {
  if (find_bin_dir().empty()) return false;
  if (!running_as_root()) return true;
  return postgres_account().has_value() && ::access(kSetpriv, X_OK) == 0;
}

std::string PostgresServer::unavailable_reason() {
  if (find_bin_dir().empty()) {
    return "PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin with initdb, "
           "postgres, pg_isready "
           "and psql): apt-get install postgresql";
  }
  return "running as root, PostgreSQL needs the postgres system user and " + std::string(kSetpriv) +
         " (packages postgresql and util-linux)";
}

bool PostgresServer::required() {
  const char* ci = std::getenv("CI");
  if (!ci) return false;
  const std::string value = ci;
  return !value.empty() && value != "0" && value != "false";
}

PostgresServer& PostgresServer::shared() {
  static PostgresServer server;
  return server;
}

PostgresServer::ScratchDir::ScratchDir() {
  fs::path base = "/dev/shm";
  if (!fs::is_directory(base) || ::access(base.c_str(), W_OK | X_OK) != 0) base = fs::temp_directory_path();
  std::string pattern = (base / "kjq-pg-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot create a directory under " + base.string());
  path_ = pattern;
}

PostgresServer::ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

PostgresServer::PostgresServer() : bin_(find_bin_dir()) {
  if (bin_.empty() || !available()) throw std::runtime_error(unavailable_reason());
  give_to_server_user(dir_.path());
  ClusterTemplate cluster(bin_);
  const auto data = dir_.path() / "data";
  const auto log = dir_.path() / "postgres.log";
  for (int attempt = 1;; ++attempt) {
    cluster.ensure();
    const int rc = run(as_server_user({"/bin/cp", "-a", cluster.path().string(), data.string()}, false), log,
                       dir_.path(), std::chrono::seconds(60));
    if (rc != 0) throw std::runtime_error("cannot copy the cached cluster:\n" + log_text(log));
    if (start_on_free_port(data)) break;
    if (attempt == 2) throw std::runtime_error("postgres did not start:\n" + log_text(log));
    // Not a port clash: the cached cluster may be damaged (a tmp cleaner); rebuild it once.
    cluster.discard();
    std::error_code ec;
    fs::remove_all(data, ec);
  }
}

PostgresServer::~PostgresServer() { stop(); }

bool PostgresServer::start_on_free_port(const fs::path& data) {
  const auto log = dir_.path() / "postgres.log";
  for (int port_attempt = 0; port_attempt < 5; ++port_attempt) {
    port_ = free_port();
    // Durability is not under test here; fsync=off and friends make every commit cheap.
    pid_ = spawn(as_server_user({(bin_ / "postgres").string(), "-D", data.string(), "-p", std::to_string(port_), "-c",
                                 "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + dir_.path().string(),
                                 "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"},
                                true),
                 log, dir_.path());
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    bool exited = false;
    while (!exited && Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited = true;
        pid_ = -1;
        break;
      }
      const auto ready = run_process({(bin_ / "pg_isready").string(), "-q", "-h", "127.0.0.1", "-p",
                                      std::to_string(port_), "-U", user_, "-d", "kjq", "-t", "1"},
                                     10);
      if (ready.exit_code == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!exited) {
      stop();
      throw std::runtime_error("postgres did not accept connections within 30 s:\n" + log_text(log));
    }
    const auto text = log_text(log);
    if (text.find("could not bind") == std::string::npos && text.find("already in use") == std::string::npos) {
      return false;
    }
  }
  throw std::runtime_error("postgres found no free port:\n" + log_text(log));
}

void PostgresServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGQUIT);  // immediate shutdown: nothing here needs to survive
  wait_exit(pid_, std::chrono::seconds(10));
  pid_ = -1;
}

std::string PostgresServer::url_for(const std::string& database) const {
  return "postgresql://" + user_ + "@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::create_database() {
  const auto name = random_name("t_");
  // FILE_COPY (PostgreSQL 15+) copies the small template's files instead of logging every page.
  psql("CREATE DATABASE " + name + (major_version(bin_) >= 15 ? " STRATEGY FILE_COPY" : ""));
  return url_for(name);
}

std::string PostgresServer::psql(const std::string& sql, const std::string& database) const {
  const auto result = run_process({(bin_ / "psql").string(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
                                   "127.0.0.1", "-p", std::to_string(port_), "-U", user_, "-d", database, "-c", sql},
                                  60);
  if (result.exit_code != 0) {
    throw std::runtime_error("psql failed (exit " + std::to_string(result.exit_code) + ") on: " + sql + "\n" +
                             result.err);
  }
  return result.out;
}

}  // namespace kjq::test

#pragma once
// End-to-end fixture for `kjq serve`: a kube-emulator over HTTPS (RuntimeEnv), an API token,
// a job-queues directory, and `kjq serve` processes started against them (SQLite by default, or a
// given store URL such as a throwaway PostgreSQL), with a small JSON client for the API.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/runtime_fixture.hpp"

namespace kjq::test {

struct ApiReply {
  int status = 0;  // 0: no answer (connection refused, ...)
  nlohmann::json body;
  std::string text;
};

class ServeProcess {
 public:
  ServeProcess(std::unique_ptr<Background> process, std::string url)
      : process_(std::move(process)), url_(std::move(url)) {}
  const std::string& url() const { return url_; }
  Background& process() { return *process_; }
  void kill9();
  // SIGTERM, then the exit status.
  ProcessResult stop();

 private:
  std::unique_ptr<Background> process_;
  std::string url_;
};

class ServeEnv {
 public:
  explicit ServeEnv(EmulatorOptions options = {});
  RuntimeEnv& kube() { return kube_; }
  std::string sqlite_url() const { return "sqlite:" + (kube_.dir() / "serve.db").string(); }
  static constexpr const char* kApiToken = "serve-api-token-7";

  // Starts `kjq serve --listen 127.0.0.1:0 --store STORE --api-token-file ... EXTRA` and waits
  // until it listens. Throws with its stderr when it does not start.
  std::unique_ptr<ServeProcess> start(const std::vector<std::string>& extra = {}, const std::string& store = "") const;
  // The same with environment overrides for kjq (RuntimeEnv::kjq_env), e.g. another token path.
  std::unique_ptr<ServeProcess> start_with_env(const std::map<std::string, std::string>& env,
                                               const std::vector<std::string>& extra = {},
                                               const std::string& store = "") const;

  ApiReply request(const std::string& base, const std::string& method, const std::string& path,
                   const nlohmann::json& body = nullptr, const std::string& token = kApiToken) const;
  ApiReply submit(const std::string& base, const nlohmann::json& body) const {
    return request(base, "POST", "/api/v1/jobs", body);
  }
  // Polls GET /api/v1/jobs/{id} until its state is one of `states`; returns the last body.
  nlohmann::json wait_for(const std::string& base, const std::string& id, const std::set<std::string>& states,
                          std::chrono::seconds timeout = std::chrono::seconds(30)) const;
  // The emulator's create log of Jobs (names in order of creation).
  std::vector<std::string> job_creates() const;
  // Jobs in the emulator that carry the serve label and have no final condition yet.
  int active_jobs_in_cluster();

 private:
  RuntimeEnv kube_;
};

// The port of "http://HOST:PORT".
int port_of(const std::string& url);

// Submits `n` jobs with fixed ids ("burst-<i>") from `threads` threads, retrying each (every
// 20 ms, up to 2,000 times) until a replica accepts it (200 or 202): job i goes to urls[i % size]
// first and each retry moves on to the next, as a client behind a Service would. A replica may be
// down meanwhile (killed, restarting); set_url() points its slot elsewhere while the burst runs.
struct Burst {
  std::mutex mu;
  std::vector<std::string> urls;
  std::atomic<int> accepted{0};
  std::set<std::string> ids;
  void run(const ServeEnv& env, const std::string& queue, int n, int threads);
  void set_url(std::size_t replica, const std::string& url);
};

// A test with one ServeEnv and the `kjq serve` its start() runs (the suites derive from it).
class ServeTest : public ::testing::Test {
 protected:
  ServeEnv env;
  std::unique_ptr<ServeProcess> serve;
  std::string url;
  int port = 0;
  void start(const std::vector<std::string>& extra = {}) {
    serve = env.start(extra);
    url = serve->url();
    port = port_of(url);
  }
};
// The bytes of an authenticated POST with a JSON body, for tests that write to a socket themselves.
std::string raw_post(const std::string& path, const std::string& body);

// Polls `ready` every 10 ms until it is true or `timeout` passes.
bool eventually(const std::function<bool()>& ready, std::chrono::milliseconds timeout = std::chrono::seconds(20));

// The value of an unlabelled (or first labelled) sample of `name` in a Prometheus text page; -1
// when there is none.
double metric(const std::string& page, const std::string& name);

// Every accepted id ends exactly once in the store (as Succeeded), the emulator saw exactly one
// create per id and no other create, and the store lists `n` jobs, all Succeeded.
void expect_exactly_once(const ServeEnv& env, const std::string& url, const std::set<std::string>& ids, int n);

}  // namespace kjq::test

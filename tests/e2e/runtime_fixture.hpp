#pragma once
// End-to-end fixture for the runtime: a kube-emulator over HTTPS (a CA and a server certificate
// made with the openssl command, a static token file with service-account users, RBAC), a
// job-queues directory, and helpers to run kjq with a controlled environment (in the foreground
// or in the background).
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/api.hpp"
#include "support/process.hpp"
#include "support/test_support.hpp"

namespace kjq::test {

class Background {
 public:
  Background(const std::vector<std::string>& argv, const std::vector<std::string>& env);
  ~Background();
  // Waits for the exit (SIGKILL after the timeout); returns the result with captured output.
  ProcessResult wait(int timeout_seconds = 60);
  void signal(int sig);
  std::string out_so_far() const;
  std::string err_so_far() const;

 private:
  pid_t pid_ = -1;
  TempDir dir_;
  bool done_ = false;
  ProcessResult result_;
};

struct EmulatorOptions {
  std::vector<std::string> args;  // extra kube-emulator flags
};

class RuntimeEnv {
 public:
  explicit RuntimeEnv(EmulatorOptions options = {});
  ~RuntimeEnv();

  const std::filesystem::path& dir() const { return tmp_.path(); }
  const std::string& url() const { return url_; }
  const std::string& admin_url() const { return admin_url_; }
  std::filesystem::path queues() const { return tmp_.path() / "job-queues"; }
  std::filesystem::path ca() const { return tmp_.path() / "ca.crt"; }
  std::filesystem::path token_file() const { return tmp_.path() / "kjq.token"; }
  std::string emulator_stderr() const;

  // Writes job-queues/<queue>/manifest.json.
  void write_queue(const std::string& queue, const nlohmann::json& manifest) const;
  // Writes data.json ({"x": 1}) and returns its path.
  std::string write_data() const;
  // A small Job manifest driving the emulator through pod-template annotations.
  static nlohmann::json test_manifest(const std::string& outcome = "succeed", double run_seconds = 0.5,
                                      const nlohmann::json& extra_annotations = nlohmann::json::object());

  // The environment kjq runs with: Nautobot's settings pointing at the emulator.
  std::vector<std::string> kjq_env(const std::map<std::string, std::string>& overrides = {}) const;
  ProcessResult kjq(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                    int timeout_seconds = 60) const;
  std::unique_ptr<Background> kjq_background(const std::vector<std::string>& args,
                                             const std::map<std::string, std::string>& env = {}) const;

  // Fault injection through the admin endpoint (PUT /faults); DELETE clears.
  void set_faults(const nlohmann::json& faults) const;
  void clear_faults() const;
  // An in-test client with the admin token (for inspecting and preparing state).
  kube::KubeApi& admin();

  static constexpr const char* kKjqToken = "kjq-token-2";
  static constexpr const char* kRotatedToken = "kjq-token-rotated-4";
  static constexpr const char* kNobodyToken = "nobody-token-3";
  static constexpr const char* kReaderToken = "reader-token-5";

 private:
  TempDir tmp_;
  std::string url_, admin_url_;
  std::unique_ptr<Background> emulator_;
  std::unique_ptr<kube::RestClient> admin_client_;
  std::unique_ptr<kube::KubeApi> admin_api_;
};

std::string kjq_binary();
std::string emulator_binary();

}  // namespace kjq::test

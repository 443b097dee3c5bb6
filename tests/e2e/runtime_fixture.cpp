#include "e2e/runtime_fixture.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <httplib.h>

extern char** environ;

namespace kjq::test {

namespace fs = std::filesystem;
using nlohmann::json;

std::string kjq_binary() { return KJQ_BIN; }
std::string emulator_binary() { return KJQ_EMULATOR_BIN; }

Background::Background(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  const auto out = (dir_.path() / "out").string(), err = (dir_.path() / "err").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
}

Background::~Background() {
  if (!done_) {
    ::kill(pid_, SIGTERM);
    wait(10);
  }
}

void Background::signal(int sig) {
  if (!done_) ::kill(pid_, sig);
}

std::string Background::out_so_far() const { return read_text(dir_.path() / "out"); }
std::string Background::err_so_far() const { return read_text(dir_.path() / "err"); }

ProcessResult Background::wait(int timeout_seconds) {
  if (done_) return result_;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  int status = 0;
  for (;;) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  done_ = true;
  result_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result_.out = out_so_far();
  result_.err = err_so_far();
  return result_;
}

namespace {

void sh(const std::string& cmd) {
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

// One CA + server certificate per build tree, made once (atomically) and reused by every test.
fs::path certificates() {
  fs::path dir = fs::path(KJQ_BINARY_DIR) / "e2e-runtime-certs";
  if (fs::exists(dir / "done")) return dir;
  fs::path tmp = dir.string() + ".tmp." + std::to_string(::getpid());
  fs::create_directories(tmp);
  const std::string t = tmp.string();
  sh("openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=kjq-test-ca -keyout " + t + "/ca.key -out " + t +
     "/ca.crt >/dev/null 2>&1");
  sh("openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + t + "/tls.key -out " + t +
     "/tls.csr >/dev/null 2>&1");
  std::ofstream(tmp / "san.ext") << "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                                    "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n";
  sh("openssl x509 -req -in " + t + "/tls.csr -CA " + t + "/ca.crt -CAkey " + t +
     "/ca.key -CAcreateserial -days 30 -extfile " + t + "/san.ext -out " + t + "/tls.crt >/dev/null 2>&1");
  std::ofstream(tmp / "done") << "ok\n";
  std::error_code ec;
  fs::rename(tmp, dir, ec);  // another test may have won the race: use theirs
  if (ec) fs::remove_all(tmp, ec);
  return dir;
}

const char* kRbac = R"(apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: kjq, namespace: default}
rules:
  - apiGroups: ["batch"]
    resources: ["jobs"]
    verbs: ["create", "get", "list", "watch", "delete"]
  - apiGroups: [""]
    resources: ["pods", "pods/log", "events"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kjq, namespace: default}
subjects:
  - {kind: ServiceAccount, name: kjq, namespace: default}
  - {kind: User, name: kjq-rotated}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: kjq}
---
# Apart, so that a test can take it away (a cancel without it leaves the pods their own grace).
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: kjq-pod-delete, namespace: default}
rules:
  - apiGroups: [""]
    resources: ["pods"]
    verbs: ["delete"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kjq-pod-delete, namespace: default}
subjects:
  - {kind: ServiceAccount, name: kjq, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: kjq-pod-delete}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: default}
rules:
  - apiGroups: ["batch"]
    resources: ["jobs"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: default}
subjects:
  - {kind: User, name: reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
)";

}  // namespace

RuntimeEnv::RuntimeEnv(EmulatorOptions options) {
  fs::path certs = certificates();
  fs::copy_file(certs / "ca.crt", ca());
  std::ofstream(dir() / "tokens.csv") << "admin-token-1,admin,1,\"system:masters\"\n"
                                      << kKjqToken << ",system:serviceaccount:default:kjq,2\n"
                                      << kNobodyToken << ",nobody,3\n"
                                      << kRotatedToken << ",kjq-rotated,4\n"
                                      << kReaderToken << ",reader,5\n";
  std::ofstream(token_file()) << kKjqToken << "\n";
  std::ofstream(dir() / "rbac.yaml") << kRbac;
  fs::create_directories(queues());
  std::vector<std::string> argv = {emulator_binary(),
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--admin-listen",
                                   "127.0.0.1:0",
                                   "--tls-cert",
                                   (certs / "tls.crt").string(),
                                   "--tls-key",
                                   (certs / "tls.key").string(),
                                   "--token-file",
                                   (dir() / "tokens.csv").string(),
                                   "--rbac",
                                   (dir() / "rbac.yaml").string(),
                                   "--time-scale",
                                   "1",
                                   "--backoff-seconds",
                                   "0.2",
                                   "--default-pull-seconds",
                                   "0.1"};
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  std::vector<std::string> env = {"PATH=/usr/bin:/bin"};
  emulator_ = std::make_unique<Background>(argv, env);
  for (int i = 0; i < 400; ++i) {
    std::string out = emulator_->out_so_far();
    auto nl = out.find('\n');
    auto second = nl == std::string::npos ? std::string::npos : out.find('\n', nl + 1);
    if (second != std::string::npos) {
      url_ = out.substr(0, nl);
      std::string admin = out.substr(nl + 1, second - nl - 1);
      admin_url_ = admin.substr(admin.find(' ') + 1);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (url_.empty()) throw std::runtime_error("kube-emulator did not start: " + emulator_->err_so_far());
  kube::ClusterConfig c;
  c.server = url_;
  c.ca_file = ca().string();
  c.token = "admin-token-1";
  kube::ClientOptions o;
  o.qps = 0;
  admin_client_ = std::make_unique<kube::RestClient>(c, o);
  admin_api_ = std::make_unique<kube::KubeApi>(*admin_client_);
}

RuntimeEnv::~RuntimeEnv() {
  admin_api_.reset();
  admin_client_.reset();
  emulator_.reset();
}

std::string RuntimeEnv::emulator_stderr() const { return emulator_->err_so_far(); }

kube::KubeApi& RuntimeEnv::admin() { return *admin_api_; }

void RuntimeEnv::write_queue(const std::string& queue, const json& manifest) const {
  fs::create_directories(queues() / queue);
  std::ofstream(queues() / queue / "manifest.json") << manifest.dump(2);
}

std::string RuntimeEnv::write_data() const {
  std::ofstream(dir() / "data.json") << R"({"x":1})";
  return (dir() / "data.json").string();
}

json RuntimeEnv::test_manifest(const std::string& outcome, double run_seconds, const json& extra_annotations) {
  json ann = {{"kube-emulator/outcome", outcome}, {"kube-emulator/run-seconds", std::to_string(run_seconds)}};
  for (auto it = extra_annotations.begin(); it != extra_annotations.end(); ++it) ann[it.key()] = it.value();
  return {
      {"apiVersion", "batch/v1"},
      {"kind", "Job"},
      {"metadata", {{"name", "nautobot-job"}, {"labels", {{"app.kubernetes.io/component", "nautobot-job"}}}}},
      {"spec",
       {{"backoffLimit", 0},
        {"template",
         {{"metadata", {{"annotations", ann}}},
          {"spec",
           {{"restartPolicy", "Never"},
            {"containers", json::array({{{"name", "nautobot-job"}, {"image", "networktocode/nautobot:2.4"}}})}}}}}}}};
}

std::vector<std::string> RuntimeEnv::kjq_env(const std::map<std::string, std::string>& overrides) const {
  std::map<std::string, std::string> env = {
      {"PATH", "/usr/bin:/bin"},
      {"HOME", dir().string()},
      {"NAUTOBOT_KUBERNETES_DEFAULT_SERVICE_ADDRESS", url_},
      {"NAUTOBOT_KUBERNETES_SSL_CA_CERT_PATH", ca().string()},
      {"NAUTOBOT_KUBERNETES_TOKEN_PATH", token_file().string()},
      {"NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE", "default"},
      {"NAUTOBOT_JOB_QUEUE_PATH", queues().string()},
  };
  for (const auto& [k, v] : overrides) {
    if (v.empty())
      env.erase(k);
    else
      env[k] = v;
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

ProcessResult RuntimeEnv::kjq(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                              int timeout_seconds) const {
  std::vector<std::string> argv = {kjq_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  Background p(argv, kjq_env(env));
  return p.wait(timeout_seconds);
}

std::unique_ptr<Background> RuntimeEnv::kjq_background(const std::vector<std::string>& args,
                                                       const std::map<std::string, std::string>& env) const {
  std::vector<std::string> argv = {kjq_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return std::make_unique<Background>(argv, kjq_env(env));
}

void RuntimeEnv::set_faults(const json& faults) const {
  httplib::Client c(admin_url_);
  auto r = c.Put("/faults", faults.dump(), "application/json");
  if (!r || r->status != 200) throw std::runtime_error("cannot set faults");
}

void RuntimeEnv::clear_faults() const {
  httplib::Client c(admin_url_);
  auto r = c.Delete("/faults");
  if (!r || r->status != 200) throw std::runtime_error("cannot clear faults");
}

}  // namespace kjq::test

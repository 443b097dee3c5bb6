#pragma once
// The whole emulator: store, controller, auth, API server on HTTP or HTTPS, and the admin
// endpoint for fault injection on its own loopback port. main.cpp and tests drive this class.
#include <httplib.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "api_server.hpp"
#include "fault_injector.hpp"
#include "job_controller.hpp"
#include "object_store.hpp"
#include "rbac_authorizer.hpp"
#include "resource_registry.hpp"
#include "token_auth.hpp"

namespace kjq::emulator {

struct EmulatorOptions {
  std::string listen = "127.0.0.1:0";  // HOST:PORT, port 0 picks a free one
  std::string admin_listen;            // "" = no admin endpoint; HOST:PORT otherwise
  std::string tls_cert;                // both set: HTTPS
  std::string tls_key;
  std::string token_file;          // static token file; "" = every request is the cluster admin
  std::string rbac_file;           // YAML/JSON stream of RBAC objects loaded at start-up
  std::string authorization_mode;  // "RBAC", "AlwaysAllow" or "" (RBAC when a token file is given)
  double time_scale = 1.0;
  std::size_t watch_history = 1000;  // watch events kept per resource (older rv -> 410)
  bool record_events = true;
  bool run_controller = true;  // false: Jobs are stored but never get pods (API-only benchmarks)
  int threads = 64;            // HTTP worker threads (one per open connection)
  SimulationDefaults simulation;
  ApiServerOptions api;
  FaultConfig faults;
  double refuse_connections_seconds = 0;  // refuse connections for this long after start-up
};

class Emulator {
 public:
  explicit Emulator(EmulatorOptions options);  // loads token and RBAC files; throws kjq::InputError
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // Binds, starts the listener threads and the controller. Throws kjq::RuntimeError.
  void start();
  void stop();
  std::string base_url() const;   // http(s)://127.0.0.1:PORT
  std::string admin_url() const;  // "" when disabled

  ObjectStore& store() { return store_; }
  const ResourceRegistry& registry() const { return registry_; }
  JobController& controller() { return controller_; }
  FaultInjector& faults() { return faults_; }
  ApiServer& api() { return *api_server_; }

 private:
  std::unique_ptr<httplib::Server> make_server() const;
  void configure(httplib::Server& server);
  void serve_loop();
  void install_admin(httplib::Server& server);
  void load_rbac(const std::string& path);

  EmulatorOptions options_;
  ResourceRegistry registry_;
  ObjectStore store_;
  TokenAuthenticator authn_;
  RbacAuthorizer authz_;
  FaultInjector faults_;
  JobController controller_;
  std::unique_ptr<ApiServer> api_server_;

  std::string host_;
  int port_ = 0;
  std::string admin_host_;
  int admin_port_ = 0;
  std::mutex server_mu_;
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<httplib::Server> admin_server_;
  std::thread server_thread_;
  std::thread admin_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> refused_{false};
  std::atomic<bool> serve_loop_done_{false};
  std::atomic<bool> admin_done_{false};
};

// "127.0.0.1:8080" -> {"127.0.0.1", 8080}; throws kjq::InputError.
std::pair<std::string, int> parse_listen_address(const std::string& text);

}  // namespace kjq::emulator

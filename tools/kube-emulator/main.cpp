// kube-emulator: a loopback Kubernetes API server for tests and for trying kjq without a cluster.
// Thin shell: flags -> EmulatorOptions -> Emulator; prints the base URL as the first stdout line.
#include <malloc.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "emulator.hpp"
#include "util/diagnostic.hpp"

int main(int argc, char** argv) {
  using namespace kjq::emulator;
  EmulatorOptions o;
  std::string outcome = "succeed";
  CLI::App app{"kube-emulator: a loopback Kubernetes API server (batch/v1 Jobs, Pods, Events, RBAC)"};
  app.add_option("--listen", o.listen, "HOST:PORT to serve the API on (port 0 picks a free port)")
      ->capture_default_str();
  app.add_option("--admin-listen", o.admin_listen,
                 "HOST:PORT of the fault-injection admin endpoint (loopback only; off when empty)");
  app.add_option("--tls-cert", o.tls_cert, "PEM server certificate (serve HTTPS)");
  app.add_option("--tls-key", o.tls_key, "PEM private key of --tls-cert");
  app.add_option("--token-file", o.token_file, "static token file: token,user,uid[,\"group1,group2\"] per line");
  app.add_option("--rbac", o.rbac_file,
                 "YAML/JSON stream with Role/ClusterRole/RoleBinding/ClusterRoleBinding objects");
  app.add_option("--authorization-mode", o.authorization_mode, "RBAC or AlwaysAllow (default: RBAC with --token-file)");
  app.add_option("--time-scale", o.time_scale, "multiply every simulated duration (0.1 = ten times faster)")
      ->capture_default_str();
  app.add_option("--default-outcome", outcome, "succeed|fail|oom|image-pull-error|unschedulable|hang")
      ->capture_default_str();
  app.add_option("--default-run-seconds", o.simulation.run_seconds, "container run time when not annotated")
      ->capture_default_str();
  app.add_option("--default-pull-seconds", o.simulation.pull_seconds, "ContainerCreating time when not annotated")
      ->capture_default_str();
  app.add_option("--backoff-seconds", o.simulation.backoff_seconds,
                 "base of the pod failure backoff (doubles per failure)")
      ->capture_default_str();
  app.add_option("--watch-history", o.watch_history, "watch events kept per resource; older resourceVersions get 410")
      ->capture_default_str();
  app.add_option("--bookmark-interval", o.api.bookmark_interval_seconds, "seconds between BOOKMARK events")
      ->capture_default_str();
  app.add_option("--watch-timeout", o.api.watch_timeout_seconds, "longest watch in seconds")->capture_default_str();
  app.add_option("--threads", o.threads, "HTTP worker threads (each open connection holds one)")->capture_default_str();
  bool no_events = false;
  app.add_flag("--no-events", no_events, "do not record v1 Events");
  bool no_controller = false;
  app.add_flag("--no-controller", no_controller, "store Jobs but simulate nothing (API-only benchmarks)");
  app.add_option("--latency-ms", o.faults.latency_ms, "fault: added latency per API request");
  app.add_option("--error-429-fraction", o.faults.error_429_fraction, "fault: fraction of API requests answered 429");
  app.add_option("--error-503-fraction", o.faults.error_503_fraction, "fault: fraction of API requests answered 503");
  app.add_option("--retry-after", o.faults.retry_after_seconds, "fault: Retry-After seconds of 429/503 answers")
      ->capture_default_str();
  app.add_option("--watch-drop-after", o.faults.watch_drop_after_events,
                 "fault: end every watch after N events (0: never)");
  app.add_option("--refuse-connections-seconds", o.refuse_connections_seconds,
                 "fault: refuse connections for this long after start-up");
  app.add_flag("-v,--verbose", o.api.verbose, "log every request on stderr");
  CLI11_PARSE(app, argc, argv);
  o.record_events = !no_events;
  o.run_controller = !no_controller;
  auto parsed = parse_outcome(outcome);
  if (!parsed) {
    std::cerr << "kube-emulator: --default-outcome: unknown outcome \"" << outcome << "\"\n";
    return 2;
  }
  o.simulation.outcome = *parsed;

  // Two malloc arenas instead of eight per core: the store's long-lived strings fragment less
  // (10,000 Jobs + Pods + Events: ~190 MiB instead of ~250 MiB RSS).
  mallopt(M_ARENA_MAX, 2);
  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    Emulator emulator(o);
    emulator.start();
    std::cout << emulator.base_url() << "\n";
    if (!emulator.admin_url().empty()) std::cout << "admin " << emulator.admin_url() << "\n";
    std::cout.flush();
    int sig = 0;
    sigwait(&signals, &sig);
    emulator.stop();
  } catch (const kjq::InputError& e) {
    for (const auto& d : e.diagnostics()) std::cerr << "kube-emulator: " << d.format() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "kube-emulator: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

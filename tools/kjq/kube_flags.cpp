#include "kube_flags.hpp"

#include <cstdlib>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "output/go_json.hpp"
#include "output/yaml_emitter.hpp"
#include "util/diagnostic.hpp"

namespace kjq::cli {

void add_kube_flags(CLI::App& cmd, KubeFlags& f, const std::string& output_help, std::vector<std::string> outputs) {
  cmd.add_option("--kubeconfig", f.kubeconfig, "path to a kubeconfig (default: $KUBECONFIG, Nautobot's settings, in-cluster, ~/.kube/config)");
  cmd.add_option("--context", f.context, "kubeconfig context to use");
  cmd.add_option("-n,--namespace", f.namespace_name, "namespace (default: NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE, then the context's)");
  cmd.add_option("-o,--output", f.output, output_help)->check(CLI::IsMember(outputs));
  cmd.add_option("--qps", f.qps, "client-side rate limit: requests per second")->capture_default_str();
  cmd.add_option("--burst", f.burst, "client-side rate limit: burst")->capture_default_str();
  cmd.add_flag("-v,--verbose", f.verbose, "log retries, throttling and watch resumes in detail");
}

void setup_logging(bool verbose) {
  static bool done = false;
  if (!done) {
    auto logger = spdlog::stderr_color_mt("kjq");
    logger->set_pattern("kjq: %l: %v");
    spdlog::set_default_logger(logger);
    done = true;
  }
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
}

KubeSession open_session(const KubeFlags& f) {
  setup_logging(f.verbose);
  kube::ConfigRequest req;
  req.kubeconfig = f.kubeconfig;
  req.context = f.context;
  req.namespace_name = f.namespace_name;
  KubeSession s;
  kube::ClientOptions o;
  o.qps = f.qps;
  o.burst = f.burst;
  // Tuning knob for tests and unusual clusters: how often the token file is re-read (default 60 s).
  if (const char* r = std::getenv("KJQ_TOKEN_REFRESH_SECONDS"); r && *r)
    o.token_refresh = std::chrono::milliseconds(static_cast<long>(std::stod(r) * 1000));
  s.client = std::make_unique<kube::RestClient>(kube::load_cluster_config(req), o);
  s.api = std::make_unique<kube::KubeApi>(*s.client);
  s.ns = s.client->config().namespace_name;
  spdlog::debug("API server {} from {}; namespace {}", s.client->config().server, s.client->config().source, s.ns);
  return s;
}

void print_object(const nlohmann::json& value, const std::string& output) {
  if (output == "yaml") std::cout << output::to_yaml(value);
  else std::cout << output::to_go_pretty_json(value) << '\n';
}

}  // namespace kjq::cli

#include "kube_flags.hpp"

#include <cstdlib>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "kube/config.hpp"
#include "output/go_json.hpp"
#include "output/yaml_emitter.hpp"
#include "util/diagnostic.hpp"
#include "util/log_format.hpp"

namespace kjq::cli {

void add_kube_flags(CLI::App& cmd, KubeFlags& f, const std::string& output_help,
                    const std::vector<std::string>& outputs) {
  cmd.add_option("--kubeconfig", f.kubeconfig,
                 "path to a kubeconfig (default: $KUBECONFIG, Nautobot's settings, in-cluster, ~/.kube/config)");
  cmd.add_option("--context", f.context, "kubeconfig context to use");
  // A namespace is a path segment of every request: anything but a DNS-1123 label is a usage error.
  const CLI::Validator namespace_check(
      [](std::string& ns) {
        const std::string problem = kube::namespace_problem(ns);
        return problem.empty() ? std::string() : "namespace \"" + ns + "\" " + problem;
      },
      "NAMESPACE");
  cmd.add_option("-n,--namespace", f.namespace_name,
                 "namespace (default: NAUTOBOT_KUBERNETES_JOB_POD_NAMESPACE; \"default\" when other "
                 "NAUTOBOT_KUBERNETES_* settings are set, as in Nautobot; else the context's)")
      ->check(namespace_check);
  cmd.add_option("-o,--output", f.output, output_help)->check(CLI::IsMember(outputs));
  cmd.add_option("--qps", f.qps, "client-side rate limit: requests per second")->capture_default_str();
  cmd.add_option("--burst", f.burst, "client-side rate limit: burst")->capture_default_str();
  cmd.add_flag("-v,--verbose", f.verbose, "log retries, throttling and watch resumes in detail");
  cmd.add_flag("--allow-insecure-token-over-http", f.allow_token_over_http,
               "send the bearer token to an http:// API server (refused otherwise; for a local test server only)");
}

void setup_logging(bool verbose) {
  static bool done = false;
  if (!done) {
    auto logger = spdlog::stderr_color_mt("kjq");
    kjq::set_escaped_log_pattern(*logger, "kjq: %l: %*");  // no raw control characters in a line
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
  req.allow_token_over_http = f.allow_token_over_http;
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
  spdlog::debug("API server {} from {}; namespace {} ({})", s.client->config().server, s.client->config().source, s.ns,
                s.client->config().namespace_source);
  return s;
}

void print_object(const nlohmann::json& value, const std::string& output) {
  if (output == "yaml")
    std::cout << output::to_yaml(value);
  else
    std::cout << output::to_go_pretty_json(value) << '\n';
}

}  // namespace kjq::cli

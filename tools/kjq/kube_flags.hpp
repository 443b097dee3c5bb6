#pragma once
// Flags shared by the commands that talk to the API server (kubectl's spelling), and the client
// they configure.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "kube/api.hpp"

namespace kjq::cli {

struct KubeFlags {
  std::string kubeconfig, context, namespace_name;
  std::string output;  // "", json, yaml (wide for list)
  double qps = 50;
  int burst = 100;
  bool verbose = false;
  bool allow_token_over_http = false;  // --allow-insecure-token-over-http
};

void add_kube_flags(CLI::App& cmd, KubeFlags& flags, const std::string& output_help,
                    const std::vector<std::string>& outputs);

// Configures logging (stderr) and builds the client from the flags and environment.
struct KubeSession {
  std::unique_ptr<kube::RestClient> client;
  std::unique_ptr<kube::KubeApi> api;
  std::string ns;
};
KubeSession open_session(const KubeFlags& flags);
void setup_logging(bool verbose);

// Prints `value` as -o asks: json (Go-style pretty JSON) or yaml.
void print_object(const nlohmann::json& value, const std::string& output);

}  // namespace kjq::cli

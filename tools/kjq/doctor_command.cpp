// kjq doctor: check configuration, credentials, reachability, permissions and manifests.
#include <iostream>

#include "commands.hpp"
#include "dispatch/doctor.hpp"
#include "exit_codes.hpp"
#include "kube_flags.hpp"
#include "queue/job_preparation.hpp"

namespace kjq::cli {
namespace {
int run_doctor(const KubeFlags& f) {
  setup_logging(f.verbose);
  dispatch::DoctorInput in{{}, {}, queue::ManifestStore::from_env(), queue::pod_name_prefix_from_env()};
  in.config.kubeconfig = f.kubeconfig;
  in.config.context = f.context;
  in.config.namespace_name = f.namespace_name;
  in.client.qps = f.qps;
  in.client.burst = f.burst;
  auto results = dispatch::run_doctor(in);
  bool ok = true;
  nlohmann::json items = nlohmann::json::array();
  for (const auto& r : results) {
    ok = ok && r.ok;
    if (f.output.empty()) {
      std::cout << (r.ok ? "[ ok ] " : "[FAIL] ") << r.name << ": " << r.detail << '\n';
      if (!r.ok) std::cout << "       fix: " << r.fix << '\n';
    }
    items.push_back({{"check", r.name}, {"ok", r.ok}, {"detail", r.detail}, {"fix", r.fix}});
  }
  if (!f.output.empty()) print_object({{"ok", ok}, {"checks", items}}, f.output);
  else std::cout << (ok ? "All checks passed.\n" : "Some checks failed.\n");
  return ok ? kExitOk : kExitDoctor;
}
}  // namespace

Command add_doctor_command(CLI::App& app) {
  auto f = std::make_shared<KubeFlags>();
  auto* cmd = app.add_subcommand("doctor", "Check the API server, token, namespace, permissions and every queue's manifest");
  add_kube_flags(*cmd, *f, "json|yaml (default: text)", {"", "json", "yaml"});
  return [f] { return run_doctor(*f); };
}

}  // namespace kjq::cli

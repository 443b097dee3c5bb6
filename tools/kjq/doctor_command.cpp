// kjq doctor: check configuration, credentials, reachability, permissions and manifests.
#include <iostream>

#include "commands.hpp"
#include "dispatch/doctor.hpp"
#include "exit_codes.hpp"
#include "kube_flags.hpp"
#include "queue/job_preparation.hpp"

namespace kjq::cli {
namespace {
struct DoctorFlags {
  KubeFlags kube;
  bool run_schedules = false;
};

int run_doctor(const DoctorFlags& flags) {
  const KubeFlags& f = flags.kube;
  setup_logging(f.verbose);
  dispatch::DoctorInput in{{}, {}, queue::ManifestStore::from_env(), queue::pod_name_prefix_from_env()};
  in.config.kubeconfig = f.kubeconfig;
  in.config.context = f.context;
  in.config.namespace_name = f.namespace_name;
  in.config.allow_token_over_http = f.allow_token_over_http;
  in.client.qps = f.qps;
  in.client.burst = f.burst;
  in.run_schedules = flags.run_schedules;
  auto results = dispatch::run_doctor(in);
  bool ok = true;
  int warnings = 0;
  nlohmann::json items = nlohmann::json::array();
  for (const auto& r : results) {
    ok = ok && r.ok;
    warnings += r.warning ? 1 : 0;
    if (f.output.empty()) {
      std::cout << (!r.ok ? "[FAIL] " : r.warning ? "[WARN] " : "[ ok ] ") << r.name << ": " << r.detail << '\n';
      if (!r.fix.empty()) std::cout << "       fix: " << r.fix << '\n';
    }
    items.push_back({{"check", r.name}, {"ok", r.ok}, {"warning", r.warning}, {"detail", r.detail}, {"fix", r.fix}});
  }
  if (!f.output.empty())
    print_object({{"ok", ok}, {"warnings", warnings}, {"checks", items}}, f.output);
  else if (!ok)
    std::cout << "Some checks failed.\n";
  else if (warnings)
    std::cout << "Nautobot's dispatch will work; " << warnings << " warning(s) limit kjq's extras.\n";
  else
    std::cout << "All checks passed.\n";
  return ok ? kExitOk : kExitDoctor;
}
}  // namespace

Command add_doctor_command(CLI::App& app) {
  auto f = std::make_shared<DoctorFlags>();
  auto* cmd =
      app.add_subcommand("doctor",
                         "Check the API server, token, namespace, permissions and every queue's manifest (with patch "
                         "on jobs when a manifest has the label kjq.nautobot.com/admission: kjq)");
  cmd->add_flag("--run-schedules", f->run_schedules,
                "kjq serve fires Nautobot's schedules: fail when Celery Beat runs too (lists Deployments labelled " +
                    std::string(dispatch::kBeatSelector) + ")");
  add_kube_flags(*cmd, f->kube, "json|yaml (default: text)", {"", "json", "yaml"});
  return [f] { return run_doctor(*f); };
}

}  // namespace kjq::cli

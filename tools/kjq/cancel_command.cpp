// kjq cancel JOB: delete the Job with background propagation and a grace period for its pods.
#include <iostream>

#include "commands.hpp"
#include "dispatch/dispatcher.hpp"
#include "exit_codes.hpp"
#include "kube_flags.hpp"

namespace kjq::cli {
namespace {
struct CancelFlags {
  KubeFlags kube;
  std::string job;
  int grace = 30;
};

int run_cancel(const CancelFlags& f) {
  auto s = open_session(f.kube);
  dispatch::cancel_job(*s.api, s.ns, f.job, f.grace);
  if (f.kube.output.empty())
    std::cout << "job " << f.job << " cancelled\n";
  else
    print_object({{"name", f.job}, {"namespace", s.ns}, {"cancelled", true}, {"gracePeriodSeconds", f.grace}},
                 f.kube.output);
  return kExitOk;
}
}  // namespace

Command add_cancel_command(CLI::App& app) {
  auto f = std::make_shared<CancelFlags>();
  auto* cmd = app.add_subcommand("cancel", "Cancel a job: delete it (background propagation) with a grace period");
  cmd->add_option("job", f->job, "Job name")->required();
  cmd->add_option("--grace-period", f->grace, "seconds the pods get to stop (Nautobot uses 0)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  add_kube_flags(*cmd, f->kube, "json|yaml (default: a line)", {"", "json", "yaml"});
  return [f] { return run_cancel(*f); };
}

}  // namespace kjq::cli

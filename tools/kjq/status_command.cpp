// kjq status JOB: one job with its pods, recent events and lifecycle reason.
#include <iostream>

#include "commands.hpp"
#include "dispatch/job_report.hpp"
#include "exit_codes.hpp"
#include "kube_flags.hpp"

namespace kjq::cli {
namespace {
struct StatusFlags {
  KubeFlags kube;
  std::string job;
  int start_deadline = 300;
};

int run_status(const StatusFlags& f) {
  auto s = open_session(f.kube);
  dispatch::LifecycleOptions lo;
  lo.start_deadline = std::chrono::seconds(f.start_deadline);
  auto report = dispatch::load_job_report(*s.api, s.ns, f.job, lo);
  if (f.kube.output.empty())
    std::cout << dispatch::format_job_report(report);
  else
    print_object(dispatch::job_report_to_json(report), f.kube.output);
  return kExitOk;
}
}  // namespace

Command add_status_command(CLI::App& app) {
  auto f = std::make_shared<StatusFlags>();
  auto* cmd = app.add_subcommand("status", "Show one job: lifecycle reason, pods and recent events");
  cmd->add_option("job", f->job, "Job name (nautobot-job-<id>)")->required();
  cmd->add_option("--start-deadline", f->start_deadline,
                  "seconds a pod may stay unschedulable before it counts as failed")
      ->capture_default_str();
  add_kube_flags(*cmd, f->kube, "json|yaml (default: text)", {"", "json", "yaml"});
  return [f] { return run_status(*f); };
}

}  // namespace kjq::cli

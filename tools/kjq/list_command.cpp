// kjq list [--queue Q] [--origin kjq|nautobot]: kjq's Jobs and those Nautobot created itself, as a
// kubectl-like table.
#include <iostream>

#include "commands.hpp"
#include "dispatch/job_report.hpp"
#include "exit_codes.hpp"
#include "job_selection_flags.hpp"
#include "kube_flags.hpp"

namespace kjq::cli {
namespace {
struct ListFlags {
  KubeFlags kube;
  SelectionFlags selection;
};

int run_list(const ListFlags& f) {
  const dispatch::JobSelection selection = job_selection(f.selection);  // bad flags before any request
  auto s = open_session(f.kube);
  auto rows = dispatch::list_job_rows(*s.api, s.ns, selection);
  if (f.kube.output.empty()) {
    if (rows.empty())
      std::cerr << "No jobs found in namespace " << s.ns << ".\n";
    else
      std::cout << dispatch::format_job_table(rows);
    return kExitOk;
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& r : rows) items.push_back(dispatch::job_row_to_json(r));
  print_object({{"namespace", s.ns}, {"items", items}}, f.kube.output);
  return kExitOk;
}
}  // namespace

Command add_list_command(CLI::App& app) {
  auto f = std::make_shared<ListFlags>();
  auto* cmd = app.add_subcommand(
      "list", "List the Jobs kjq created (label kjq.nautobot.com/queue) and those Nautobot created itself");
  add_selection_flags(*cmd, f->selection,
                      "only jobs of this queue (kjq's label kjq.nautobot.com/queue, or Nautobot's annotation "
                      "nautobot-job.io/worker-name)");
  add_kube_flags(*cmd, f->kube, "json|yaml (default: table)", {"", "json", "yaml"});
  return [f] { return run_list(*f); };
}

}  // namespace kjq::cli

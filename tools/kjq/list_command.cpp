// kjq list [--queue Q]: kjq's jobs as a kubectl-like table.
#include <iostream>

#include "commands.hpp"
#include "dispatch/job_report.hpp"
#include "exit_codes.hpp"
#include "kube_flags.hpp"

namespace kjq::cli {
namespace {
struct ListFlags {
  KubeFlags kube;
  std::string queue;
};

int run_list(const ListFlags& f) {
  auto s = open_session(f.kube);
  auto rows = dispatch::list_job_rows(*s.api, s.ns, f.queue);
  if (f.kube.output.empty()) {
    if (rows.empty())
      std::cerr << "No kjq jobs found in namespace " << s.ns << ".\n";
    else
      std::cout << dispatch::format_job_table(rows);
    return kExitOk;
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& r : rows)
    items.push_back({{"name", r.name},
                     {"queue", r.queue},
                     {"status", r.status},
                     {"reason", r.reason},
                     {"completions", r.completions},
                     {"duration", r.duration},
                     {"age", r.age}});
  print_object({{"namespace", s.ns}, {"items", items}}, f.kube.output);
  return kExitOk;
}
}  // namespace

Command add_list_command(CLI::App& app) {
  auto f = std::make_shared<ListFlags>();
  auto* cmd = app.add_subcommand("list", "List the jobs kjq dispatched (label kjq.nautobot.com/queue)");
  cmd->add_option("--queue", f->queue, "only jobs of this queue");
  add_kube_flags(*cmd, f->kube, "json|yaml (default: table)", {"", "json", "yaml"});
  return [f] { return run_list(*f); };
}

}  // namespace kjq::cli

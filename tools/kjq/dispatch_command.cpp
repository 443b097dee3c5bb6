// kjq dispatch: Nautobot's runtime contract — read the queue's manifest now, name the Job
// <prefix>-<id>, set the first container's command, create it; --wait follows it to the end.
#include <iostream>

#include "commands.hpp"
#include "dispatch/dispatcher.hpp"
#include "dispatch/follower.hpp"
#include "exit_codes.hpp"
#include "kube_flags.hpp"
#include "queue/manifest_store.hpp"
#include "util/diagnostic.hpp"
#include "util/file_read.hpp"
#include "util/json_limits.hpp"

namespace kjq::cli {
namespace {
struct DispatchFlags {
  KubeFlags kube;
  std::string queue, id, data = "{}", config;
  bool dry_run = false, wait = false;
  int start_deadline = 300;
};

// The job data as Nautobot would pass it: at most 1 MiB (kInputJsonLimits), checked for NUL bytes,
// depth and size before anything parses it. @FILE may name a pipe (@/dev/stdin); it is still
// read no further than the limit.
std::string read_data(const std::string& data) {
  std::string text = data, source;
  if (!data.empty() && data[0] == '@') {
    source = data.substr(1);
    try {
      text = read_file_bounded(source, {kInputJsonLimits.max_bytes, /*allow_special=*/true});
    } catch (const FileReadError& e) {
      throw InputError(Diagnostic{source, 0, 0, "--data", "cannot read the data file: " + e.reason()});
    }
  }
  if (auto at = find_nul_byte(text))
    throw InputError(
        Diagnostic{source, 0, 0, "--data",
                   "refused: the JSON text contains a NUL byte (at byte " + std::to_string(*at + 1) + ")"});
  if (auto why = json_limit_violation(text, kInputJsonLimits))
    throw InputError(Diagnostic{source, 0, 0, "--data", "refused: " + *why});
  return text;
}

int run_dispatch(const DispatchFlags& f) {
  // The data first: a bad --data is refused before any manifest is read.
  std::string data = read_data(f.data);
  queue::RunRequest req{f.queue, f.id, std::move(data), f.config.empty() ? queue::config_path_from_env() : f.config,
                        queue::pod_name_prefix_from_env()};
  auto loaded = queue::ManifestStore::from_env().load(f.queue);
  auto prepared = queue::prepare_job(std::move(loaded.manifest), req);
  if (f.dry_run) {
    print_object(nlohmann::json::parse(prepared.job.dump()), f.kube.output == "yaml" ? "yaml" : "json");
    return kExitOk;
  }
  auto s = open_session(f.kube);
  auto result = dispatch::dispatch_job(*s.api, s.ns, prepared);
  if (result.already_existed)
    std::cerr << "kjq: job " << result.name << " already existed (same queue and job result)\n";
  if (!f.wait) {
    if (f.kube.output.empty())
      std::cout << result.name << '\n';
    else
      print_object(result.job, f.kube.output);
    return kExitOk;
  }
  dispatch::FollowOptions fo;
  fo.lifecycle.start_deadline = std::chrono::seconds(f.start_deadline);
  auto end = dispatch::follow_job(
      *s.api, s.ns, result.name,
      [&](const dispatch::Lifecycle& l) {
        std::cerr << "kjq: " << result.name << ": " << dispatch::lifecycle_summary(l) << '\n';
      },
      nullptr, fo);
  if (f.kube.output.empty())
    std::cout << result.name << '\n';
  else
    print_object({{"name", result.name}, {"namespace", s.ns}, {"lifecycle", dispatch::lifecycle_to_json(end)}},
                 f.kube.output);
  return end.phase == dispatch::Phase::Succeeded ? kExitOk : kExitJobFailed;
}
}  // namespace

Command add_dispatch_command(CLI::App& app) {
  auto f = std::make_shared<DispatchFlags>();
  auto* cmd = app.add_subcommand("dispatch",
                                 "Create the Kubernetes Job for one Nautobot job run (Nautobot's runtime contract)");
  cmd->add_option("--queue", f->queue, "job queue: reads $NAUTOBOT_JOB_QUEUE_PATH/<queue>/manifest.json")->required();
  cmd->add_option("--job-result-id", f->id, "JobResult id: the Job is named <NAUTOBOT_KUBERNETES_JOB_POD_NAME>-<id>")
      ->required();
  cmd->add_option("--data", f->data, "job keyword arguments as a JSON object, or @FILE")->capture_default_str();
  cmd->add_option(
      "--config", f->config,
      "settings path passed as --config= (default: $NAUTOBOT_CONFIG, else /opt/nautobot/nautobot_config.py)");
  cmd->add_flag("--dry-run", f->dry_run, "print the Job instead of creating it (contacts nothing)");
  cmd->add_flag("--wait", f->wait, "follow the Job to its end; exit 0 only when it succeeded (4 when it failed)");
  cmd->add_option("--start-deadline", f->start_deadline, "with --wait: seconds a pod may stay unschedulable")
      ->capture_default_str();
  add_kube_flags(*cmd, f->kube, "json|yaml (default: the Job's name)", {"", "json", "yaml"});
  return [f] { return run_dispatch(*f); };
}

}  // namespace kjq::cli

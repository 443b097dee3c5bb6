// kjq logs JOB [-f] [--tail N]: the log of the job's newest pod that started.
#include <iostream>

#include "commands.hpp"
#include "dispatch/job_logs.hpp"
#include "exit_codes.hpp"
#include "kube_flags.hpp"

namespace kjq::cli {
namespace {
struct LogsFlags {
  KubeFlags kube;
  std::string job, container;
  bool follow = false;
  int tail = -1;
};

int run_logs(const LogsFlags& f) {
  auto s = open_session(f.kube);
  kube::LogOptions o;
  o.container = f.container;
  o.follow = f.follow;
  if (f.tail >= 0) o.tail_lines = f.tail;
  dispatch::job_logs(*s.api, s.ns, f.job, o, [](std::string_view chunk) {
    std::cout.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    std::cout.flush();
    return true;
  });
  return kExitOk;
}
}  // namespace

Command add_logs_command(CLI::App& app) {
  auto f = std::make_shared<LogsFlags>();
  auto* cmd = app.add_subcommand("logs", "Print the log of a job's pod (newest pod that started)");
  cmd->add_option("job", f->job, "Job name")->required();
  cmd->add_flag("-f,--follow", f->follow, "wait for the container to start and stream until it ends");
  cmd->add_option("--tail", f->tail, "only the last N lines (-1: all)")->capture_default_str();
  cmd->add_option("-c,--container", f->container, "container (default: the first, which runs the job)");
  add_kube_flags(*cmd, f->kube, "unused", {""});
  return [f] { return run_logs(*f); };
}

}  // namespace kjq::cli

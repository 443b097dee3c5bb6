// kjq watch JOB | --queue Q: a live view, updated in place on a terminal (plain lines otherwise);
// with JOB it exits when the job ends (0 succeeded, 4 failed; 6 when there is no such Job, after
// --wait-for-create when given). Statuses come from the Jobs and their pods.
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <iostream>
#include <map>

#include "commands.hpp"
#include "dispatch/follower.hpp"
#include "dispatch/job_report.hpp"
#include "exit_codes.hpp"
#include "job_selection_flags.hpp"
#include "kube_flags.hpp"
#include "util/diagnostic.hpp"

namespace kjq::cli {
namespace {
constexpr const char* kDefaultCreateWait = "60s";  // --wait-for-create without a duration

struct WatchFlags {
  KubeFlags kube;
  SelectionFlags selection;
  std::string job;
  std::string wait_for_create;  // "": do not wait
  int start_deadline = 300;
};

int follow_one(const WatchFlags& f, KubeSession& s, bool tty) {
  dispatch::FollowOptions fo;
  fo.lifecycle.start_deadline = std::chrono::seconds(f.start_deadline);
  if (!f.wait_for_create.empty()) {
    fo.wait_for_create = dispatch::parse_duration(f.wait_for_create);  // checked by the flag's validator
    bool announced = false;
    fo.on_waiting = [&](std::chrono::milliseconds waited) {
      if (tty) {
        std::cout << "\r\033[K" << f.job << "  waiting for the job to be created... "
                  << std::chrono::duration_cast<std::chrono::seconds>(waited).count() << "s (up to "
                  << f.wait_for_create << ")" << std::flush;
      } else if (!announced) {
        spdlog::info("waiting for job {} to be created in namespace {} (up to {})...", f.job, s.ns, f.wait_for_create);
      }
      announced = true;
    };
  }
  bool printed = false;
  try {
    auto end = dispatch::follow_job(
        *s.api, s.ns, f.job,
        [&](const dispatch::Lifecycle& l) {
          printed = true;
          if (tty)
            std::cout << "\r\033[K" << f.job << "  " << dispatch::lifecycle_summary(l) << std::flush;
          else
            std::cout << f.job << "  " << dispatch::lifecycle_summary(l) << std::endl;
        },
        nullptr, fo);
    if (tty) std::cout << '\n';
    return end.phase == dispatch::Phase::Succeeded ? kExitOk : kExitJobFailed;
  } catch (...) {
    if (tty && (printed || fo.wait_for_create)) std::cout << '\n';  // the error on a line of its own
    throw;
  }
}

int run_watch(const WatchFlags& f) {
  if (!f.job.empty() && (!f.selection.queue.empty() || !f.selection.origin.empty()))
    throw InputError(Diagnostic{"", 0, 0, f.selection.queue.empty() ? "--origin" : "--queue",
                                "give either a JOB or --queue/--origin, not both"});
  if (f.job.empty() && !f.wait_for_create.empty())
    throw InputError(Diagnostic{"", 0, 0, "--wait-for-create", "waits for one JOB to be created: name it"});
  const dispatch::JobSelection selection = job_selection(f.selection);
  auto s = open_session(f.kube);
  const bool tty = isatty(STDOUT_FILENO) == 1;
  if (!f.job.empty()) return follow_one(f, s, tty);
  std::map<std::string, std::string> printed;  // plain lines: a job's line only when its status or reason changes
  dispatch::watch_jobs(*s.api, s.ns, selection,
                       [&](const std::vector<dispatch::JobRow>& rows, const std::string& changed) {
                         if (tty) {
                           std::cout << "\033[H\033[J" << dispatch::format_job_table(rows) << std::flush;
                           return true;
                         }
                         for (const auto& r : rows) {
                           if (!changed.empty() && r.name != changed) continue;
                           std::string line = r.status + "/" + r.reason;
                           if (printed[r.name] == line) continue;
                           printed[r.name] = line;
                           std::cout << r.name << "  " << line << std::endl;
                         }
                         return true;
                       });
  return kExitOk;
}
}  // namespace

Command add_watch_command(CLI::App& app) {
  auto f = std::make_shared<WatchFlags>();
  auto* cmd = app.add_subcommand(
      "watch",
      "Watch one job until it ends, or every job (kjq's and Nautobot's) of a queue or namespace (Ctrl-C to stop)");
  cmd->add_option("job", f->job, "Job name");
  add_selection_flags(*cmd, f->selection, "watch all jobs of this queue");
  const CLI::Validator duration_check(
      [](std::string& d) {
        return dispatch::parse_duration(d) ? std::string()
                                           : "invalid duration \"" + d + "\" (e.g. 30s, 2m, 1h30m, 500ms)";
      },
      "DURATION");
  cmd->add_flag(
         std::string("--wait-for-create{") + kDefaultCreateWait + "}", f->wait_for_create,
         std::string("with JOB: a Job that does not exist yet is waited for, up to DURATION (--wait-for-create=") +
             "DURATION; " + kDefaultCreateWait + " without one), then followed; exit 6 if it is not created")
      ->check(duration_check);
  cmd->add_option("--start-deadline", f->start_deadline, "seconds a pod may stay unschedulable")->capture_default_str();
  add_kube_flags(*cmd, f->kube, "unused", {""});
  return [f] { return run_watch(*f); };
}

}  // namespace kjq::cli

// kjq: render Nautobot job-queue manifests and run jobs on Kubernetes.
#include <cstring>
#include <map>
#include <string>

#include "commands.hpp"
#include "exit_codes.hpp"

namespace {

using AddCommand = kjq::cli::Command (*)(CLI::App&);

constexpr std::pair<const char*, AddCommand> kCommands[] = {
    {"render", kjq::cli::add_render_command},
    {"values", kjq::cli::add_values_command},
    {"dispatch", kjq::cli::add_dispatch_command},
    {"status", kjq::cli::add_status_command},
    {"list", kjq::cli::add_list_command},
    {"watch", kjq::cli::add_watch_command},
    {"logs", kjq::cli::add_logs_command},
    {"cancel", kjq::cli::add_cancel_command},
    {"doctor", kjq::cli::add_doctor_command},
    {"serve", kjq::cli::add_serve_command},
    {"post-render", kjq::cli::add_post_render_command},
    {"schedules", kjq::cli::add_schedules_command},
};

// The command named by argv[1], when no later argument names another one; otherwise null.
// Building every command's options costs about 2 M instructions at each start (a tenth of a
// `kjq dispatch` process beyond the dynamic loader); when the command is known, only its own
// are built. Help, --version and anything else that could involve the other commands build
// them all, so every message stays the same.
const char* only_command(int argc, char** argv) {
  if (argc < 2) return nullptr;
  const char* named = nullptr;
  for (const auto& [name, add] : kCommands) {
    if (std::strcmp(argv[1], name) == 0) named = name;
  }
  if (!named) return nullptr;
  for (int i = 2; i < argc; ++i) {
    for (const auto& [name, add] : kCommands) {
      if (std::strcmp(argv[i], name) == 0) return nullptr;
    }
  }
  return named;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kjq runs Nautobot jobs as on-demand Kubernetes Jobs.", "kjq"};
  app.set_version_flag("--version", std::string("kjq 0.1.0"));
  app.require_subcommand(1);
  const char* only = only_command(argc, argv);
  std::map<std::string, kjq::cli::Command> commands;
  for (const auto& [name, add] : kCommands) {
    if (!only || std::strcmp(only, name) == 0) commands.emplace(name, add(app));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kjq::cli::kExitOk : kjq::cli::kExitUsage;
  }
  for (auto* sub : app.get_subcommands()) {
    return kjq::cli::run_reporting_errors(commands.at(sub->get_name()));
  }
  return kjq::cli::kExitUsage;
}

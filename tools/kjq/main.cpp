// kjq: render Nautobot job-queue manifests and run jobs on Kubernetes.
#include <map>
#include <string>

#include "commands.hpp"
#include "exit_codes.hpp"

int main(int argc, char** argv) {
  CLI::App app{"kjq runs Nautobot jobs as on-demand Kubernetes Jobs.", "kjq"};
  app.set_version_flag("--version", std::string("kjq 0.1.0"));
  app.require_subcommand(1);
  std::map<std::string, kjq::cli::Command> commands{
      {"render", kjq::cli::add_render_command(app)},     {"values", kjq::cli::add_values_command(app)},
      {"dispatch", kjq::cli::add_dispatch_command(app)}, {"status", kjq::cli::add_status_command(app)},
      {"list", kjq::cli::add_list_command(app)},         {"watch", kjq::cli::add_watch_command(app)},
      {"logs", kjq::cli::add_logs_command(app)},         {"cancel", kjq::cli::add_cancel_command(app)},
      {"doctor", kjq::cli::add_doctor_command(app)},     {"serve", kjq::cli::add_serve_command(app)},
  };
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

#pragma once
// Each subcommand registers its flags on the app and returns the function that runs it.
#include <functional>

#include <CLI/CLI.hpp>

namespace kjq::cli {

using Command = std::function<int()>;

Command add_render_command(CLI::App& app);
Command add_values_command(CLI::App& app);
Command add_dispatch_command(CLI::App& app);
Command add_status_command(CLI::App& app);
Command add_list_command(CLI::App& app);
Command add_watch_command(CLI::App& app);
Command add_logs_command(CLI::App& app);
Command add_cancel_command(CLI::App& app);
Command add_doctor_command(CLI::App& app);
Command add_serve_command(CLI::App& app);
Command add_schedules_command(CLI::App& app);
Command add_post_render_command(CLI::App& app);

// Runs `body`, turning kjq's exceptions into messages on stderr and exit codes.
int run_reporting_errors(const std::function<int()>& body);

}  // namespace kjq::cli

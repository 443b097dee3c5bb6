// kjq schedules: Nautobot's schedules on Kubernetes queues with their next due times, read from
// Nautobot's database (reads only: nothing is claimed or changed).
#include <iostream>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "nautobot/database_errors.hpp"
#include "nautobot/nautobot_database.hpp"
#include "schedule/schedule_listing.hpp"
#include "schedule/schedule_runner.hpp"
#include "util/diagnostic.hpp"

namespace kjq::cli {
namespace {
struct SchedulesFlags {
  std::string database, password_file, output;
  int next = 1;
};

int run_schedules(const SchedulesFlags& f) {
  if (f.next < 1 || f.next > 1000)
    throw InputError(Diagnostic{"--next", 0, 0, "", "expected 1 to 1000, got " + std::to_string(f.next)});
  schedule::ScheduleDatabase db(nautobot::NautobotDatabase::from_flags(f.database, f.password_file));
  db.check_schema(/*writes=*/false);
  const auto listed = schedule::list_schedules(db.load(), schedule::ScheduleRunner::system_now(), f.next);
  if (f.output == "json")
    std::cout << schedule::schedules_to_json(listed).dump(2) << "\n";
  else
    std::cout << schedule::format_schedules(listed);
  return kExitOk;
}
}  // namespace

Command add_schedules_command(CLI::App& app) {
  auto f = std::make_shared<SchedulesFlags>();
  auto* cmd = app.add_subcommand(
      "schedules", "List Nautobot's schedules on Kubernetes queues and when they are due next (reads only)");
  cmd->add_option(nautobot::kDatabaseFlag, f->database,
                  "Nautobot's PostgreSQL database, postgresql://USER@HOST:PORT/DB")
      ->required();
  cmd->add_option(nautobot::kPasswordFileFlag, f->password_file, "file holding the database password");
  cmd->add_option("--next", f->next, "due times to show per schedule")->capture_default_str();
  cmd->add_option("-o,--output", f->output, "json (default: a table)")->check(CLI::IsMember({"", "json"}));
  return [f] { return run_schedules(*f); };
}

}  // namespace kjq::cli

#pragma once
// The flags `kjq list` and `kjq watch` share to choose Jobs: --queue, --origin and
// --nautobot-job-selector (kjq's own Jobs and the ones Nautobot creates itself).
#include <string>

#include <CLI/CLI.hpp>

#include "dispatch/job_report.hpp"

namespace kjq::cli {

struct SelectionFlags {
  std::string queue, origin;
  std::string nautobot_job_selector = dispatch::kDefaultNautobotJobSelector;
};

void add_selection_flags(CLI::App& cmd, SelectionFlags& flags, const std::string& queue_help);
// Throws InputError for a bad --nautobot-job-selector, or --origin nautobot with it empty.
dispatch::JobSelection job_selection(const SelectionFlags& flags);

}  // namespace kjq::cli

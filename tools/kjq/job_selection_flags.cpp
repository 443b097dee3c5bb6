#include "job_selection_flags.hpp"

#include <string_view>

#include "server/serve_options.hpp"
#include "util/diagnostic.hpp"

namespace kjq::cli {

// `kjq list` and `kjq watch` see the Jobs `kjq serve` follows unless told otherwise.
static_assert(std::string_view(dispatch::kDefaultNautobotJobSelector) == server::kDefaultNautobotJobSelector);
static_assert(std::string_view(dispatch::kNautobotQueueAnnotation) == server::kNautobotQueueAnnotation);

void add_selection_flags(CLI::App& cmd, SelectionFlags& f, const std::string& queue_help) {
  cmd.add_option("--queue", f.queue, queue_help);
  cmd.add_option("--origin", f.origin,
                 "only the Jobs kjq created (kjq: label kjq.nautobot.com/queue) or only those Nautobot created "
                 "itself (nautobot: matching --nautobot-job-selector)")
      ->check(CLI::IsMember({"kjq", "nautobot"}));
  cmd.add_option("--nautobot-job-selector", f.nautobot_job_selector,
                 "label selector of the Jobs Nautobot creates itself, shown too, as kjq serve follows them "
                 "(\"\": only kjq's own)")
      ->capture_default_str();
}

dispatch::JobSelection job_selection(const SelectionFlags& f) {
  dispatch::JobSelection s;
  s.queue = f.queue;
  s.origin = f.origin;
  const auto selector = kube::LabelSelector::parse(f.nautobot_job_selector, "--nautobot-job-selector");
  if (selector.empty()) {
    s.nautobot_jobs.reset();
    if (f.origin == dispatch::kOriginNautobot)
      throw InputError(Diagnostic{
          "", 0, 0, "--origin", "nautobot needs a --nautobot-job-selector; it is empty, which leaves kjq's Jobs only"});
  } else {
    s.nautobot_jobs = selector;
  }
  return s;
}

}  // namespace kjq::cli

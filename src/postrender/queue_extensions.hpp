#pragma once
// kjq's value extensions (docs/values.md) applied to what the official chart rendered, exactly as
// `kjq render` renders them: in a queue's manifest activeDeadlineSeconds, jobOverrides, admission
// by suspend and the Kueue queue label; in the job-creator Role the follow-and-cancel rules and
// the patch rule of admission by suspend. Only what the values ask for changes; applying them
// twice changes nothing the second time.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "values/values_document.hpp"

namespace kjq::postrender {

// True when the values set any of those extensions for `queue` (else its manifest stays as it is).
bool has_queue_extensions(const nlohmann::json& values, const std::string& queue);

// True when the manifest changed.
bool apply_queue_extensions(nlohmann::json& manifest, const nlohmann::json& values, const std::string& queue);

// The rules the job-creator Role gets beyond the chart's: follow_and_cancel_rules() when the
// user's values set serviceAccount.roles.jobCreator.followAndCancel (kjq's own render turns it on
// by default; the chart's Role is widened only on request), admission_rule() when one of `queues`
// admits by kjq. Rules the Role already holds are not added again. True when the Role changed.
bool widen_job_creator_role(nlohmann::json& role, const values::ValuesDocument& doc,
                            const std::vector<std::string>& queues);

}  // namespace kjq::postrender

#pragma once
// The Helm release a stream was rendered for, read back from the chart's standard labels
// (app.kubernetes.io/instance, helm.sh/chart, app.kubernetes.io/version, managed-by): a
// post-renderer is not told which release it works on.
#include <vector>

#include "chart/release.hpp"
#include "postrender/manifest_stream.hpp"

namespace kjq::postrender {

// The first object's labels that name the instance; kjq's Release defaults for what no object
// says (the namespace is left to the caller).
chart::Release release_identity(const std::vector<StreamDocument>& documents);

// The app.kubernetes.io/name label the chart gives its objects (nameOverride), "" when none has it.
std::string chart_name_label(const std::vector<StreamDocument>& documents);

}  // namespace kjq::postrender

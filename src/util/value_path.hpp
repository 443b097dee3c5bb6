#pragma once
// Values paths as users read them: workers.alpha.extraEnvVars[0].name, and
// annotations["nautobot-job.io/worker-name"] for keys that are not plain identifiers.
#include <string>
#include <string_view>

namespace kjq {

std::string path_key(std::string_view parent, std::string_view key);
std::string path_index(std::string_view parent, std::size_t index);

}  // namespace kjq

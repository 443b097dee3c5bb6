#pragma once
// The directory tree Nautobot reads at run time: <dir>/<queue>/manifest.json.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace kjq::output {

struct JobQueuesDirResult {
  std::vector<std::string> written;  // queues whose manifest.json was (re)written
  std::vector<std::string> removed;  // queues kjq wrote earlier that are no longer enabled
};

// Writes each manifest (queue name → exact bytes) to <dir>/<queue>/manifest.json atomically
// (temp file + rename). Creates <dir> if needed. Keeps a ledger <dir>/.kjq-queues (written
// atomically) of the queues kjq manages; queues in the ledger and not in `manifests` lose their
// manifest.json and their directory (only if it is then empty). Nothing else in <dir> is touched.
// Refuses (RuntimeError, before writing anything) queue names that are not a single safe path
// component, and any <dir>/<queue> that is a symlink or not a directory.
JobQueuesDirResult write_job_queues_dir(const std::filesystem::path& dir,
                                        const std::map<std::string, std::string>& manifests);

}  // namespace kjq::output

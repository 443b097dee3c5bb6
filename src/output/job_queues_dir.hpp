#pragma once
// The directory tree Nautobot reads at run time: <dir>/<queue>/manifest.json, laid out the way the
// kubelet lays out a ConfigMap volume, so that a render switches every manifest at once:
//
//   <dir>/..2026_12_02_16_20_00.Ab3xQz/<queue>/manifest.json   one timestamped directory per render
//   <dir>/..data -> ..2026_12_02_16_20_00.Ab3xQz               switched with one rename()
//   <dir>/<queue> -> ..data/<queue>                              one relative link per queue
//   <dir>/.kjq-queues                                            the queues kjq manages
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace kjq::output {

struct JobQueuesDirResult {
  std::vector<std::string> written;  // the queues the tree now holds
  std::vector<std::string> removed;  // queues kjq wrote earlier that are no longer enabled
};

// Writes every manifest (queue name → exact bytes) into a new `..<timestamp>` directory, syncs it,
// then points `..data` at it with one rename() of a temporary link: a reader sees the old set or
// the new set, never a mix, whenever the writer is killed. Links for added queues are made before
// the switch (dangling until it), links of removed queues are removed after it. Then the old
// `..<timestamp>` directories and any temporaries a killed render left are removed. An unchanged
// set switches nothing. Creates <dir> if needed; renders of one <dir> are serialised (flock).
//
// A tree from before this layout (real <queue>/ directories holding only manifest.json) is
// converted queue by queue, each with one atomic exchange (renameat2 RENAME_EXCHANGE).
//
// Refuses (RuntimeError, before changing anything) queue names that are not a single safe path
// component, a <dir>/<queue> that is a link anywhere but ..data/<queue>, a file, or a directory
// holding anything but manifest.json, and a `..data` that is not a link.
JobQueuesDirResult write_job_queues_dir(const std::filesystem::path& dir,
                                        const std::map<std::string, std::string>& manifests);

// For tests: called between every two changes a render makes to the tree (each file, link,
// rename and removal), so that a test can kill the render at each of those points. nullptr: none.
using JobQueuesDirStepHook = void (*)();
void set_job_queues_dir_step_hook(JobQueuesDirStepHook hook);

}  // namespace kjq::output

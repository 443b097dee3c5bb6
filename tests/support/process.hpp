#pragma once
// Runs a program to completion for end-to-end tests: real process, captured stdout/stderr.
#include <string>
#include <vector>

namespace kjq::test {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

// argv[0] is the program path. `timeout_seconds` kills the process (SIGKILL) if it overruns.
// `extra_env` entries (NAME=value) are added to the environment, replacing inherited ones.
ProcessResult run_process(const std::vector<std::string>& argv, int timeout_seconds = 60,
                          const std::vector<std::string>& extra_env = {});

}  // namespace kjq::test

#pragma once
// Where a problem is and what was expected: every user-facing error in kjq is one or more of these.
#include <stdexcept>
#include <string>
#include <vector>

namespace kjq {

struct Diagnostic {
  std::string file;  // file the value came from ("" when unknown, "--set" for command-line values)
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown
  std::string path;  // values path, e.g. workers.alpha.extraEnvVars[0].name ("" when none)
  std::string message;

  // "values.yaml:12:5: workers.alpha.type: expected \"celery\" or \"kubernetes\", got \"k8s\""
  std::string format() const;
};

// Raised when input is invalid; carries every problem found, not just the first.
class InputError : public std::runtime_error {
 public:
  explicit InputError(std::vector<Diagnostic> diagnostics);
  explicit InputError(Diagnostic diagnostic);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// Raised for environment problems (I/O, permissions) rather than bad input.
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace kjq

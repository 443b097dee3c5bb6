#include "util/diagnostic.hpp"

#include "util/display_text.hpp"

namespace kjq {

std::string Diagnostic::format() const {
  std::string out;
  if (!file.empty()) {
    out += display_text(file);
    if (line > 0) {
      out += ':' + std::to_string(line);
      if (column > 0) out += ':' + std::to_string(column);
    }
    out += ": ";
  }
  // Values, names and paths from the input are shown escaped, never as raw control characters.
  if (!path.empty()) out += display_text(path) + ": ";
  out += display_text(message, Newlines::Keep);
  return out;
}

namespace {
std::string join(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    if (!out.empty()) out += '\n';
    out += d.format();
  }
  return out;
}
}  // namespace

InputError::InputError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join(diagnostics)), diagnostics_(std::move(diagnostics)) {}

InputError::InputError(Diagnostic diagnostic) : InputError(std::vector<Diagnostic>{std::move(diagnostic)}) {}

}  // namespace kjq

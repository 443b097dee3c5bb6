#pragma once
// -f/--values, --set and --set-string, shared by every command that reads values.
#include <CLI/CLI.hpp>

#include "values/values_document.hpp"

namespace kjq::cli {

void add_values_flags(CLI::App& command, values::ValuesOptions& options);

}  // namespace kjq::cli

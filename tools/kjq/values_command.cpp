// kjq values: the built-in defaults (like `helm show values`), or the computed values.
#include <iostream>
#include <memory>

#include "chart/release.hpp"
#include "chart/render.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "output/yaml_emitter.hpp"
#include "values/defaults.hpp"
#include "values_flags.hpp"

namespace kjq::cli {

namespace {
struct ValuesFlags {
  values::ValuesOptions values;
  bool computed = false;
};

int run_values(const ValuesFlags& flags) {
  bool has_input = !flags.values.files.empty() || !flags.values.set.empty() || !flags.values.set_string.empty();
  if (!flags.computed && !has_input) {
    std::cout << values::default_values_text();
    return kExitOk;
  }
  auto doc = values::load_values(flags.values);
  // The very checks `kjq render` makes (values, names, every job manifest, extraObjects), so
  // values this prints are values that render; the objects themselves are not needed.
  (void)chart::render_chart(doc, chart::Release{});
  std::cout << output::to_yaml(doc.merged);
  return kExitOk;
}
}  // namespace

Command add_values_command(CLI::App& app) {
  auto flags = std::make_shared<ValuesFlags>();
  auto* cmd =
      app.add_subcommand("values",
                         "Print kjq's default values; with -f/--set (or --computed), the merged values a render "
                         "would use, checked exactly as `kjq render` checks them (release \"nautobot\")");
  add_values_flags(*cmd, flags->values);
  cmd->add_flag("--computed", flags->computed, "print the merged values even without -f/--set");
  return [flags] { return run_values(*flags); };
}

}  // namespace kjq::cli

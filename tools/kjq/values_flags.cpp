#include "values_flags.hpp"

namespace kjq::cli {

void add_values_flags(CLI::App& command, values::ValuesOptions& options) {
  command.add_option("-f,--values", options.files, "values YAML file (repeatable; later files win)")
      ->type_name("FILE")
      ->check(CLI::ExistingFile);
  command.add_option("--set", options.set, "set values on the command line (repeatable): a.b=c,list={x,y},a[0].b=1")
      ->type_name("KEY=VAL");
  command
      .add_option("--set-string", options.set_string,
                  "like --set, but every value stays a string (applied after all --set)")
      ->type_name("KEY=VAL");
}

}  // namespace kjq::cli

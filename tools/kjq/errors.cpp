#include <iostream>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "util/diagnostic.hpp"

namespace kjq::cli {

int run_reporting_errors(const std::function<int()>& body) {
  try {
    return body();
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics()) std::cerr << "kjq: error: " << d.format() << '\n';
    return kExitInvalidInput;
  } catch (const RuntimeError& e) {
    std::cerr << "kjq: error: " << e.what() << '\n';
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "kjq: internal error: " << e.what() << '\n';
    return kExitFailure;
  }
}

}  // namespace kjq::cli

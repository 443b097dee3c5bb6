#include <iostream>

#include "commands.hpp"
#include "dispatch/dispatcher.hpp"
#include "exit_codes.hpp"
#include "kube/errors.hpp"
#include "util/diagnostic.hpp"

namespace kjq::cli {

int run_reporting_errors(const std::function<int()>& body) {
  try {
    return body();
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics()) std::cerr << "kjq: error: " << d.format() << '\n';
    return kExitInvalidInput;
  } catch (const dispatch::JobConflictError& e) {
    std::cerr << "kjq: error: " << e.what() << '\n';
    return kExitConflict;
  } catch (const kube::ApiError& e) {
    std::cerr << "kjq: error: " << e.what() << '\n';
    if (e.is(kube::ErrorReason::Forbidden) || e.is(kube::ErrorReason::Unauthorized)) return kExitDenied;
    if (e.is(kube::ErrorReason::NotFound)) return kExitNotFound;
    return kExitFailure;
  } catch (const RuntimeError& e) {
    std::cerr << "kjq: error: " << e.what() << '\n';
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "kjq: internal error: " << e.what() << '\n';
    return kExitFailure;
  }
}

}  // namespace kjq::cli

#include <iostream>

#include "commands.hpp"
#include "dispatch/dispatcher.hpp"
#include "exit_codes.hpp"
#include "kube/errors.hpp"
#include "util/diagnostic.hpp"
#include "util/display_text.hpp"

namespace kjq::cli {

namespace {
// What a message carries from outside (a queue name, a path, an API server's text) is shown with
// its control and bidi characters escaped; the line breaks kjq puts between problems stay.
std::string shown(const char* what) { return display_text(what, Newlines::Keep); }
}  // namespace

int run_reporting_errors(const std::function<int()>& body) {
  try {
    return body();
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics()) std::cerr << "kjq: error: " << d.format() << '\n';  // escaped by format()
    return kExitInvalidInput;
  } catch (const dispatch::JobConflictError& e) {
    std::cerr << "kjq: error: " << shown(e.what()) << '\n';
    return kExitConflict;
  } catch (const kube::ApiError& e) {
    std::cerr << "kjq: error: " << shown(e.what()) << '\n';
    if (e.is(kube::ErrorReason::Forbidden) || e.is(kube::ErrorReason::Unauthorized)) return kExitDenied;
    if (e.is(kube::ErrorReason::NotFound)) return kExitNotFound;
    return kExitFailure;
  } catch (const RuntimeError& e) {
    std::cerr << "kjq: error: " << shown(e.what()) << '\n';
    return kExitFailure;
  } catch (const std::exception& e) {
    std::cerr << "kjq: internal error: " << shown(e.what()) << '\n';
    return kExitFailure;
  }
}

}  // namespace kjq::cli

#pragma once
// Checks the merged values before anything is rendered, so a bad value is reported with its
// file, line and path instead of surfacing as a Job the API server rejects at run time.
#include <vector>

#include "util/diagnostic.hpp"
#include "values/values_document.hpp"

namespace kjq::values {

// Every problem found (empty when the values are usable).
std::vector<Diagnostic> validate_values(const ValuesDocument& doc);

// Worker names: letters, digits and inner hyphens, 1 to 63 characters.
bool is_valid_worker_name(std::string_view name);

// The closest candidate to `word` when it is plausibly a typo, else "".
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace kjq::values

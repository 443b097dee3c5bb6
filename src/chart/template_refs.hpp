#pragma once
// The small part of Go templates that extraObjects may use: {{ .Release.Name }},
// {{ .Release.Namespace }} and {{ .Values.a.b }}. Anything else is an error, never passed on.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chart/release.hpp"

namespace kjq::chart {

struct TemplateScope {
  const Release& release;
  const nlohmann::json& values;
};

// Substitutes every {{ ... }} in `text`. Throws kjq::InputError (path = `where`) for an
// unsupported expression, an unterminated {{, or a .Values path that is missing or not a scalar.
std::string substitute_template_refs(std::string_view text, const TemplateScope& scope, const std::string& where);

}  // namespace kjq::chart

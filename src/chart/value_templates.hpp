#pragma once
// What the reference's common.tplvalues.render does to a values subtree before it is emitted:
// template references in its strings (and keys) are substituted. kjq supports the subset of
// chart/template_refs.hpp; results stay strings.
#include <string>

#include <nlohmann/json.hpp>

#include "chart/template_refs.hpp"

namespace kjq::chart {

// Throws kjq::InputError with the path of the offending string (under `where`).
nlohmann::json render_value_templates(const nlohmann::json& node, const TemplateScope& scope, const std::string& where);

}  // namespace kjq::chart

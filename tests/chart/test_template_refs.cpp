#include <gtest/gtest.h>

#include "chart/template_refs.hpp"
#include "util/diagnostic.hpp"

using nlohmann::json;
using namespace kjq::chart;

TEST(TemplateRefs, SubstitutesReleaseAndValues) {
  Release r;
  r.name = "prod";
  r.namespace_ = "netauto";
  json values = {{"a", {{"b", "x"}, {"n", 3.0}, {"big", 1e6}, {"flag", true}}}};
  TemplateScope scope{r, values};
  EXPECT_EQ(substitute_template_refs("{{ .Release.Name }}-{{.Release.Namespace}}", scope, "w"), "prod-netauto");
  EXPECT_EQ(substitute_template_refs("v={{ .Values.a.b }} n={{ .Values.a.n }}", scope, "w"), "v=x n=3");
  EXPECT_EQ(substitute_template_refs("{{ .Values.a.big }}/{{ .Values.a.flag }}", scope, "w"), "1e+06/true");
  EXPECT_EQ(substitute_template_refs("no templates", scope, "w"), "no templates");
}

TEST(TemplateRefs, EverythingElseIsAnErrorNamingThePlace) {
  Release r;
  json values = {{"a", {{"map", {{"k", "v"}}}}}};
  TemplateScope scope{r, values};
  auto message = [&](const std::string& text) {
    try {
      substitute_template_refs(text, scope, "extraObjects[1]");
    } catch (const kjq::InputError& e) {
      EXPECT_EQ(e.diagnostics().at(0).path, "extraObjects[1]");
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("{{ include \"x\" . }}").find("unsupported template expression"), std::string::npos);
  EXPECT_NE(message("{{ .Values.missing.key }}").find(".Values.missing is not set"), std::string::npos);
  EXPECT_NE(message("{{ .Values.a.map }}").find("is a map"), std::string::npos);
  EXPECT_NE(message("{{ .Release.Name ").find("unterminated"), std::string::npos);
}

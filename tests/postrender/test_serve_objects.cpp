// post-render --with-serve: the objects that run kjq serve beside the chart's Nautobot.
#include <gtest/gtest.h>

#include "postrender/manifest_stream.hpp"
#include "postrender/post_render.hpp"
#include "schema_validation.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace kjq::postrender;

namespace {

const fs::path kCases = kjq::test::fixtures_dir() / "post-render-cases";

kjq::values::ValuesDocument serve_values(const std::string& name, std::vector<std::string> set) {
  return kjq::test::values_from_yaml(kjq::test::read_text(kCases / name / "values.yaml"), "values.yaml",
                                     std::move(set));
}

PostRenderOptions with_serve() {
  PostRenderOptions options;
  options.with_serve = true;
  return options;
}

const std::vector<std::string> kSettings = {"kjqServe.image=registry.example/kjq:0.1",
                                            "kjqServe.apiTokenSecret=kjq-api-token"};

TEST(PostRenderServe, AddsTheFiveObjectsOfKjqServeAndNothingElse) {
  const std::string input = kjq::test::read_text(kCases / "03-mixed-with-extra-objects" / "chart-output.yaml");
  auto set = kSettings;
  set.push_back("workers.long.maxConcurrency=3");
  const auto doc = serve_values("03-mixed-with-extra-objects", set);
  const auto result = post_render(input, doc, with_serve());
  const auto in = read_manifest_stream(input);
  const auto out = read_manifest_stream(result.output);
  ASSERT_EQ(out.size(), in.size() + 5);
  std::vector<std::string> added;
  for (std::size_t i = in.size(); i < out.size(); ++i) added.push_back(object_label(out[i].object));
  EXPECT_EQ(added, (std::vector<std::string>{"ServiceAccount/acme-sot-kjq-serve", "Role/acme-sot-kjq-serve",
                                             "RoleBinding/acme-sot-kjq-serve", "Service/acme-sot-kjq-serve",
                                             "Deployment/acme-sot-kjq-serve"}));
  const json& pod = out.back().object["spec"]["template"]["spec"];
  const json& args = pod["containers"][0]["args"];
  EXPECT_NE(std::find(args.begin(), args.end(),
                      "workers.long.enabled=true,workers.long.type=kubernetes,"
                      "workers.long.maxConcurrency=3"),
            args.end());
  EXPECT_NE(std::find(args.begin(), args.end(), "workers.quick.enabled=true,workers.quick.type=kubernetes"),
            args.end());
  // The chart's own credentials: the Secret its job pods read.
  const json& env = pod["containers"][0]["env"];
  EXPECT_EQ(env[0]["valueFrom"]["secretKeyRef"]["name"], "acme-sot-db");
  EXPECT_EQ(env[1]["name"], "PGPASSWORD");
  EXPECT_EQ(out.back().object["metadata"]["labels"]["app.kubernetes.io/name"], "sot");
  // Idempotent: the serve objects of a first pass are replaced, not repeated.
  EXPECT_EQ(post_render(result.output, doc, with_serve()).output, result.output);
}

TEST(PostRenderServe, MissingSettingsAreNamed) {
  const std::string input = kjq::test::read_text(kCases / "01-two-kubernetes-queues" / "chart-output.yaml");
  try {
    (void)post_render(input, serve_values("01-two-kubernetes-queues", {"kjqServe.replicas=0", "kjqServe.imag=x"}),
                      with_serve());
    FAIL() << "accepted";
  } catch (const kjq::InputError& e) {
    const std::string message = e.what();
    for (const char* expected :
         {"kjqServe.image: expected a non-empty string", "kjqServe.apiTokenSecret: expected a non-empty string",
          "kjqServe.replicas: expected a whole number of at least 1", "kjqServe.imag: unknown setting"}) {
      EXPECT_NE(message.find(expected), std::string::npos) << message;
    }
  }
}

TEST(PostRenderServe, EveryObjectIsSchemaValid) {
  if (!kjq::test::schema_validator_installed()) GTEST_SKIP() << "run scripts/install-test-tools.sh";
  const std::string input = kjq::test::read_text(kCases / "01-two-kubernetes-queues" / "chart-output.yaml");
  auto set = kSettings;
  set.push_back("kjqServe.resources.requests.memory=64Mi");
  const auto out =
      read_manifest_stream(post_render(input, serve_values("01-two-kubernetes-queues", set), with_serve()).output);
  json objects = json::array();
  for (std::size_t i = out.size() - 5; i < out.size(); ++i) objects.push_back(out[i].object);
  const auto result = kjq::test::validate_schemas(objects);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_EQ(result.out.find("generic"), std::string::npos) << result.out;  // all five have typed schemas
}

}  // namespace

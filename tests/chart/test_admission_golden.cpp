// admission and kueueQueueName (kjq extensions): the job manifests and the job-creator Role of
// tests/fixtures/golden/admission/<case>/, compared byte for byte (the manifests as the ConfigMap
// holds them, the Role as Go pretty JSON), and the Role's patch rule only where it is needed.
#include <gtest/gtest.h>

#include "celery_test_helpers.hpp"
#include "chart/rbac.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace kjq::test::celery;

namespace {

fs::path admission_golden_dir() { return kjq::test::fixtures_dir() / "golden" / "admission"; }

class AdmissionGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(AdmissionGolden, ManifestsMatchTheGoldenFiles) {
  const auto dir = admission_golden_dir() / GetParam();
  const auto rendered = render_dir(dir);
  ASSERT_FALSE(rendered.queue_manifests.empty());
  for (const auto& [queue, text] : rendered.queue_manifests) {
    SCOPED_TRACE(queue);
    expect_golden(dir / (queue + ".json"), text);
  }
}

TEST_P(AdmissionGolden, RoleMatchesTheGoldenFile) {
  const auto dir = admission_golden_dir() / GetParam();
  const auto roles = of_kind(render_dir(dir).objects, "Role");
  ASSERT_EQ(roles.size(), 1u);
  expect_golden(dir / "role.json", kjq::output::to_go_pretty_json(roles[0]) + "\n");
}

INSTANTIATE_TEST_SUITE_P(Shapes, AdmissionGolden, ::testing::ValuesIn(dir_names(admission_golden_dir())));

// A queue without kjq admission renders byte for byte what it would without the admission keys.
TEST(AdmissionGoldenCases, QueuesWithoutKjqAreTheirPlainSelves) {
  const auto dir = admission_golden_dir() / "01-kjq-default-with-exceptions";
  const auto with = render_dir(dir);
  const auto without = render_dir(dir, {"kubernetesJobs.admission=none", "workers.kueued.kueueQueueName=null"});
  EXPECT_EQ(with.queue_manifests.at("free"), without.queue_manifests.at("free"));
  EXPECT_NE(with.queue_manifests.at("capped"), without.queue_manifests.at("capped"));
}

json role_rules(const std::string& yaml, std::vector<std::string> set = {}) {
  const auto roles = of_kind(render_yaml(yaml, std::move(set)).objects, "Role");
  return roles.size() == 1 ? roles[0]["rules"] : json();
}

const char* kRoleValues = R"(
serviceAccount: {roles: {jobCreator: {create: true}}}
workers:
  a: {enabled: true, type: kubernetes}
  disabled: {enabled: false, type: kubernetes}
)";

bool grants_patch(const json& rules) {
  for (const auto& rule : rules) {
    if (rule == kjq::chart::admission_rule()) return true;
    for (const auto& verb : rule["verbs"]) EXPECT_NE(verb, "patch") << rule;
  }
  return false;
}

TEST(AdmissionRole, PatchOnJobsOnlyWhenAnEnabledQueueAdmitsByKjq) {
  const json plain = role_rules(kRoleValues);
  EXPECT_EQ(plain.size(), 1 + kjq::chart::follow_and_cancel_rules().size());
  EXPECT_FALSE(grants_patch(plain));
  EXPECT_EQ(role_rules(kRoleValues, {"kubernetesJobs.admission=none"}), plain);
  // kjq on a disabled queue only, or kjq for every queue but a's own none: no patch.
  EXPECT_EQ(role_rules(kRoleValues, {"workers.disabled.admission=kjq"}), plain);
  EXPECT_EQ(role_rules(kRoleValues, {"kubernetesJobs.admission=kjq", "workers.a.admission=none"}), plain);
  // Kueue un-suspends its Jobs itself: no patch for kjq.
  EXPECT_EQ(role_rules(kRoleValues, {"workers.a.kueueQueueName=batch"}), plain);
  // kjq on the enabled queue: the same rules, then patch.
  for (const auto& set : {"kubernetesJobs.admission=kjq", "workers.a.admission=kjq"}) {
    SCOPED_TRACE(set);
    json rules = role_rules(kRoleValues, {set});
    ASSERT_EQ(rules.size(), plain.size() + 1);
    EXPECT_EQ(rules.back(), json::parse(R"({"apiGroups":["batch"],"resources":["jobs"],"verbs":["patch"]})"));
    rules.erase(rules.size() - 1);
    EXPECT_EQ(rules, plain);
  }
  // Independent of followAndCancel.
  json reference = role_rules(kRoleValues, {"serviceAccount.roles.jobCreator.followAndCancel=false"});
  json with_patch =
      role_rules(kRoleValues, {"serviceAccount.roles.jobCreator.followAndCancel=false", "workers.a.admission=kjq"});
  ASSERT_EQ(reference.size(), 1u);
  EXPECT_EQ(with_patch, json::array({reference[0], kjq::chart::admission_rule()}));
}

}  // namespace

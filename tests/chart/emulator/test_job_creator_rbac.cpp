// The RBAC kjq renders, loaded into kube-emulator's authorizer: the Nautobot service account may
// create, follow and cancel jobs; a dedicated jobs service account (workers.<name>.serviceAccountName,
// created through extraObjects) may not create jobs. Render-case 01 has exactly that setup.
#include <gtest/gtest.h>

#include "chart/render.hpp"
#include "rbac_authorizer.hpp"
#include "support/test_support.hpp"

using nlohmann::json;
using namespace kjq::emulator;

namespace {

class JobCreatorRbac : public ::testing::Test {
 protected:
  void load(std::vector<std::string> set) {
    const auto dir = kjq::test::fixtures_dir() / "render-cases" / "01-rbac-serviceaccount-extraobjects";
    kjq::values::ValuesOptions options;
    options.files.push_back(dir / "values.yaml");
    options.set = std::move(set);
    auto release = kjq::test::release_from_json(kjq::test::read_json(dir / "release.json"));
    ns_ = release.namespace_;
    rendered_ = kjq::chart::render_chart(kjq::values::load_values(options), release);
    for (auto object : rendered_.objects) {
      if (object["kind"] != "Role" && object["kind"] != "RoleBinding") continue;
      const ResourceType* type = registry_.find_kind(object["apiVersion"], object["kind"]);
      ASSERT_NE(type, nullptr);
      store_.create(*type, std::move(object));
    }
  }

  bool can(const std::string& sa, const std::string& verb, const std::string& group, const std::string& resource,
           const std::string& subresource = "", const std::string& name = "") {
    UserInfo user{"system:serviceaccount:" + ns_ + ":" + sa, "", {"system:serviceaccounts", "system:authenticated"}};
    RequestAttributes attrs{user, verb, true, ns_, group, resource, subresource, name, ""};
    return authorizer_.authorize(attrs).allowed;
  }

  std::string job_pod_service_account(const std::string& queue) {
    return json::parse(rendered_.queue_manifests.at(queue))["spec"]["template"]["spec"]["serviceAccountName"];
  }

  ResourceRegistry registry_;
  ObjectStore store_;
  RbacAuthorizer authorizer_{store_, registry_, true};
  kjq::chart::RenderedChart rendered_;
  std::string ns_;
};

TEST_F(JobCreatorRbac, NautobotMayCreateFollowAndCancelJobs) {
  load({});
  const std::string nautobot = "nautobot";  // the chart's service account (serviceAccount.create)
  EXPECT_TRUE(can(nautobot, "create", "batch", "jobs"));
  for (const char* verb : {"get", "list", "watch"}) EXPECT_TRUE(can(nautobot, verb, "batch", "jobs")) << verb;
  EXPECT_TRUE(can(nautobot, "delete", "batch", "jobs", "", "nautobot-job-1"));
  EXPECT_TRUE(can(nautobot, "list", "", "pods"));
  EXPECT_TRUE(can(nautobot, "watch", "", "pods"));
  EXPECT_TRUE(can(nautobot, "delete", "", "pods", "", "nautobot-job-1-abcde"));  // cancel's grace period
  EXPECT_TRUE(can(nautobot, "get", "", "pods", "log", "nautobot-job-1-abcde"));
  EXPECT_TRUE(can(nautobot, "list", "", "events"));
  // Nothing beyond that.
  EXPECT_FALSE(can(nautobot, "create", "", "pods"));
  EXPECT_FALSE(can(nautobot, "get", "", "secrets", "", "x"));
  EXPECT_FALSE(can(nautobot, "patch", "batch", "jobs", "", "x"));
}

TEST_F(JobCreatorRbac, TheDedicatedJobsServiceAccountMayNotCreateJobs) {
  load({});
  const std::string jobs_sa = job_pod_service_account("alpha");
  EXPECT_EQ(jobs_sa, "nautobot-jobs");
  for (const char* verb : {"create", "get", "list", "watch", "delete"}) {
    EXPECT_FALSE(can(jobs_sa, verb, "batch", "jobs")) << verb;
  }
  EXPECT_FALSE(can(jobs_sa, "get", "", "pods", "log", "x"));
}

TEST_F(JobCreatorRbac, WithoutFollowAndCancelOnlyTheReferenceVerbsRemain) {
  load({"serviceAccount.roles.jobCreator.followAndCancel=false"});
  EXPECT_TRUE(can("nautobot", "create", "batch", "jobs"));
  EXPECT_TRUE(can("nautobot", "watch", "batch", "jobs"));
  EXPECT_FALSE(can("nautobot", "delete", "batch", "jobs", "", "x"));
  EXPECT_FALSE(can("nautobot", "get", "", "pods", "log", "x"));
  EXPECT_FALSE(can("nautobot", "list", "", "pods"));
}

// admission: kjq: kjq serve, as the Nautobot service account, starts suspended Jobs with a patch.
TEST_F(JobCreatorRbac, AdmissionByKjqAddsPatchOnJobsAndNothingElse) {
  load({"workers.alpha.admission=kjq"});
  EXPECT_TRUE(can("nautobot", "patch", "batch", "jobs", "", "nautobot-job-1"));
  EXPECT_TRUE(can("nautobot", "delete", "batch", "jobs", "", "nautobot-job-1"));
  EXPECT_FALSE(can("nautobot", "update", "batch", "jobs", "", "nautobot-job-1"));
  EXPECT_FALSE(can("nautobot", "patch", "", "pods", "", "x"));
  EXPECT_FALSE(can(job_pod_service_account("alpha"), "patch", "batch", "jobs", "", "x"));
}

TEST_F(JobCreatorRbac, AdmissionByKjqWithTheReferenceRoleAddsOnlyPatch) {
  load({"workers.alpha.admission=kjq", "serviceAccount.roles.jobCreator.followAndCancel=false"});
  EXPECT_TRUE(can("nautobot", "patch", "batch", "jobs", "", "nautobot-job-1"));
  EXPECT_TRUE(can("nautobot", "create", "batch", "jobs"));
  EXPECT_FALSE(can("nautobot", "delete", "batch", "jobs", "", "x"));
}

}  // namespace

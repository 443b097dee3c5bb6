// Unit tests: RBAC decisions and 403 messages; Job defaulting and validation (422 causes).
#include <gtest/gtest.h>

#include "job_admission.hpp"
#include "manifest_loader.hpp"
#include "rbac_authorizer.hpp"

using namespace kjq::emulator;
using nlohmann::json;

namespace {

class EmulatorRbac : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto& obj : load_manifest_stream(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: job-runner, namespace: jobs}
rules:
- apiGroups: [batch]
  resources: [jobs]
  verbs: [create, get, list, watch]
- apiGroups: [""]
  resources: [pods/log]
  verbs: [get]
- apiGroups: [""]
  resources: [configmaps]
  resourceNames: [settings]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: kjq, namespace: jobs}
subjects: [{kind: ServiceAccount, name: kjq}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: job-runner}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: readers}
subjects: [{kind: Group, name: readers}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-pods, namespace: team}
subjects: [{kind: User, name: alice}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
)",
                                          "rbac.yaml")) {
      const ResourceType* t = reg.find_kind(obj["apiVersion"], obj["kind"]);
      store.create(*t, obj);
    }
  }
  RequestAttributes attrs(UserInfo u, std::string verb, std::string ns, std::string group, std::string resource,
                          std::string name = "", std::string sub = "") {
    return {std::move(u),   std::move(verb), true, std::move(ns), std::move(group), std::move(resource),
            std::move(sub), std::move(name), ""};
  }
  ResourceRegistry reg;
  ObjectStore store;
  RbacAuthorizer authz{store, reg, true};
  UserInfo sa{"system:serviceaccount:jobs:kjq", "", {"system:serviceaccounts", "system:authenticated"}};
  UserInfo alice{"alice", "", {"system:authenticated"}};
  UserInfo reader{"bob", "", {"readers", "system:authenticated"}};
};

}  // namespace

TEST_F(EmulatorRbac, RoleBindingToServiceAccount) {
  auto d = authz.authorize(attrs(sa, "create", "jobs", "batch", "jobs"));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.reason,
            "RBAC: allowed by RoleBinding \"kjq/jobs\" of Role \"job-runner\" to ServiceAccount \"kjq/jobs\"");
  EXPECT_FALSE(authz.authorize(attrs(sa, "delete", "jobs", "batch", "jobs", "x")).allowed);
  EXPECT_FALSE(authz.authorize(attrs(sa, "create", "other", "batch", "jobs")).allowed);
  EXPECT_TRUE(authz.authorize(attrs(sa, "get", "jobs", "", "pods", "p", "log")).allowed);
  EXPECT_FALSE(authz.authorize(attrs(sa, "get", "jobs", "", "pods", "p")).allowed);
  EXPECT_TRUE(authz.authorize(attrs(sa, "get", "jobs", "", "configmaps", "settings")).allowed);
  EXPECT_FALSE(authz.authorize(attrs(sa, "get", "jobs", "", "configmaps", "other")).allowed);
  EXPECT_FALSE(authz.authorize(attrs(sa, "list", "jobs", "", "configmaps")).allowed);
}

TEST_F(EmulatorRbac, ClusterBindingsGroupsAndMasters) {
  EXPECT_TRUE(authz.authorize(attrs(reader, "list", "anywhere", "", "pods")).allowed);
  EXPECT_TRUE(authz.authorize(attrs(reader, "list", "", "", "pods")).allowed);  // all namespaces
  EXPECT_TRUE(authz.authorize(attrs(alice, "get", "team", "", "pods", "p")).allowed);
  EXPECT_FALSE(authz.authorize(attrs(alice, "get", "elsewhere", "", "pods", "p")).allowed);
  UserInfo admin{"root", "", {"system:masters"}};
  EXPECT_TRUE(authz.authorize(attrs(admin, "delete", "x", "batch", "jobs", "y")).allowed);
  RbacAuthorizer open(store, reg, false);
  EXPECT_TRUE(open.authorize(attrs(alice, "delete", "x", "batch", "jobs", "y")).allowed);
}

TEST_F(EmulatorRbac, ForbiddenMessages) {
  auto e = forbidden(attrs(alice, "create", "default", "batch", "jobs"));
  EXPECT_EQ(e.code(), 403);
  EXPECT_EQ(e.status()["message"],
            "jobs.batch is forbidden: User \"alice\" cannot create resource \"jobs\" in API group \"batch\" in the "
            "namespace \"default\"");
  EXPECT_EQ(e.status()["reason"], "Forbidden");
  EXPECT_EQ(e.status()["details"], json({{"group", "batch"}, {"kind", "jobs"}}));
  auto named = forbidden(attrs(alice, "get", "default", "", "pods", "p1", "log"));
  EXPECT_EQ(named.status()["message"],
            "pods \"p1\" is forbidden: User \"alice\" cannot get resource \"pods/log\" in API group \"\" in the "
            "namespace \"default\"");
  auto cluster = forbidden(attrs(alice, "list", "", "rbac.authorization.k8s.io", "clusterroles"));
  EXPECT_EQ(cluster.status()["message"],
            "clusterroles.rbac.authorization.k8s.io is forbidden: User \"alice\" cannot list resource "
            "\"clusterroles\" in API group \"rbac.authorization.k8s.io\" at the cluster scope");
}

namespace {
json minimal_job() {
  return json::parse(R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j","namespace":"default","uid":"u-1",
    "labels":{}},"spec":{"template":{"metadata":{"labels":{"app":"kjq"}},"spec":{"restartPolicy":"Never",
    "containers":[{"name":"main","image":"nautobot:2.3"}]}}}})");
}
}  // namespace

TEST(EmulatorJobAdmission, DefaultsLikeTheApiServer) {
  json j = minimal_job();
  admit_job_create(j);
  const json& spec = j["spec"];
  EXPECT_EQ(spec["backoffLimit"], 6);
  EXPECT_EQ(spec["completions"], 1);
  EXPECT_EQ(spec["parallelism"], 1);
  EXPECT_EQ(spec["completionMode"], "NonIndexed");
  EXPECT_EQ(spec["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"], "u-1");
  const json& labels = spec["template"]["metadata"]["labels"];
  EXPECT_EQ(labels["job-name"], "j");
  EXPECT_EQ(labels["controller-uid"], "u-1");
  EXPECT_EQ(labels["batch.kubernetes.io/job-name"], "j");
  EXPECT_EQ(labels["app"], "kjq");
  EXPECT_EQ(j["metadata"]["labels"], json({{"app", "kjq"}}));  // copied from the template
  EXPECT_EQ(j["metadata"]["generation"], 1);
  EXPECT_EQ(spec["template"]["spec"]["containers"][0]["imagePullPolicy"], "IfNotPresent");
  EXPECT_EQ(spec["template"]["spec"]["terminationGracePeriodSeconds"], 30);
}

TEST(EmulatorJobAdmission, InvalidJobIs422WithCauses) {
  json j = minimal_job();
  j["spec"]["template"]["spec"].erase("restartPolicy");
  j["spec"]["template"]["spec"]["containers"][0].erase("image");
  j["spec"]["backoffLimit"] = -1;
  try {
    admit_job_create(j);
    FAIL();
  } catch (const ApiError& e) {
    json s = e.status();
    EXPECT_EQ(s["code"], 422);
    EXPECT_EQ(s["reason"], "Invalid");
    EXPECT_EQ(s["message"],
              "Job.batch \"j\" is invalid: [spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0, "
              "spec.template.spec.containers[0].image: Required value, spec.template.spec.restartPolicy: Unsupported "
              "value: \"Always\": supported values: \"OnFailure\", \"Never\"]");
    ASSERT_EQ(s["details"]["causes"].size(), 3u);
    EXPECT_EQ(s["details"]["causes"][1], json({{"reason", "FieldValueRequired"},
                                               {"message", "Required value"},
                                               {"field", "spec.template.spec.containers[0].image"}}));
    EXPECT_EQ(s["details"]["kind"], "Job");
    EXPECT_EQ(s["details"]["group"], "batch");
  }
}

TEST(EmulatorJobAdmission, WrongTypesAre400AndNamesAreChecked) {
  json j = minimal_job();
  j["spec"]["backoffLimit"] = "six";
  try {
    admit_job_create(j);
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), 400);
    EXPECT_NE(
        std::string(e.what()).find("cannot unmarshal string into Go struct field Job.spec.backoffLimit of type int32"),
        std::string::npos);
  }
  json bad = minimal_job();
  bad["metadata"]["name"] = "Bad_Name";
  EXPECT_FALSE(validate_job([&] {
                 default_job(bad);
                 return bad;
               }())
                   .empty());
  EXPECT_EQ(validate_dns_subdomain("nautobot-job-1"), "");
}

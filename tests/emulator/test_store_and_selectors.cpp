// Unit tests: object store (resourceVersions, history, 410), selectors, token file, manifests.
#include <gtest/gtest.h>

#include "api_request.hpp"
#include "api_status.hpp"
#include "manifest_loader.hpp"
#include "object_store.hpp"
#include "request_info.hpp"
#include "selectors.hpp"
#include "token_auth.hpp"
#include "util/diagnostic.hpp"

using namespace kjq::emulator;
using nlohmann::json;

namespace {
json job(const std::string& name, json labels = json::object()) {
  return {{"kind", "Job"},
          {"apiVersion", "batch/v1"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", labels}}}};
}
}  // namespace

TEST(EmulatorStore, ResourceVersionsAreMonotonicAcrossResources) {
  ResourceRegistry reg;
  ObjectStore store;
  const auto& jobs = *reg.find("batch", "v1", "jobs");
  const auto& pods = *reg.find("", "v1", "pods");
  auto a = store.create(jobs, job("a"));
  auto p = store.create(pods, job("p"));
  auto b = store.update(jobs, "default", "a", [](json& o) {
    o["spec"] = 1;
    return true;
  });
  EXPECT_EQ(a->resource_version(), "1");
  EXPECT_EQ(p->resource_version(), "2");
  EXPECT_EQ(b->resource_version(), "3");
  EXPECT_FALSE(a->uid().empty());
  EXPECT_FALSE(a->parse()["metadata"]["creationTimestamp"].get<std::string>().empty());
  EXPECT_EQ(store.current_rv(), 3u);
  auto removed = store.remove(jobs, "default", "a");
  EXPECT_EQ(removed->resource_version(), "4");
  EXPECT_EQ(store.get(jobs, "default", "a"), nullptr);
}

TEST(EmulatorStore, CreateTwiceIsAlreadyExists) {
  ResourceRegistry reg;
  ObjectStore store;
  const auto& jobs = *reg.find("batch", "v1", "jobs");
  store.create(jobs, job("a"));
  try {
    store.create(jobs, job("a"));
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), 409);
    EXPECT_EQ(e.status()["message"], "jobs.batch \"a\" already exists");
    EXPECT_EQ(e.status()["details"], json({{"name", "a"}, {"group", "batch"}, {"kind", "jobs"}}));
  }
}

TEST(EmulatorStore, ReplaceChecksResourceVersion) {
  ResourceRegistry reg;
  ObjectStore store;
  const auto& jobs = *reg.find("batch", "v1", "jobs");
  json stale = store.create(jobs, job("a"))->parse();
  store.update(jobs, "default", "a", [](json& o) {
    o["x"] = 1;
    return true;
  });
  try {
    store.replace(jobs, stale);
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), 409);
    EXPECT_EQ(e.reason(), "Conflict");
  }
}

TEST(EmulatorStore, HistoryResumesAndExpires) {
  ResourceRegistry reg;
  ObjectStore store(3);
  const auto& jobs = *reg.find("batch", "v1", "jobs");
  for (int i = 0; i < 5; ++i) store.create(jobs, job("j" + std::to_string(i)));  // rv 1..5
  auto h = store.events_after(jobs, 3);
  ASSERT_FALSE(h.expired);
  ASSERT_EQ(h.events.size(), 2u);
  EXPECT_EQ(h.events[0].rv, 4u);
  EXPECT_EQ(h.events[0].type, "ADDED");
  EXPECT_TRUE(store.events_after(jobs, 1).expired);
  EXPECT_FALSE(store.events_after(jobs, 2).expired);  // events 3,4,5 are retained
}

TEST(EmulatorStore, ListPagesInKeyOrder) {
  ResourceRegistry reg;
  ObjectStore store;
  const auto& jobs = *reg.find("batch", "v1", "jobs");
  for (const char* n : {"c", "a", "b"}) store.create(jobs, job(n));
  auto page = store.list(jobs, "default", nullptr, "", 2);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0]->name(), "a");
  EXPECT_EQ(page.remaining, 1u);
  auto rest = store.list(jobs, "default", nullptr, page.last_key, 2);
  ASSERT_EQ(rest.items.size(), 1u);
  EXPECT_EQ(rest.items[0]->name(), "c");
  EXPECT_TRUE(store.list(jobs, "other").items.empty());
}

TEST(EmulatorSelectors, LabelSelectors) {
  json labels = {{"app", "kjq"}, {"tier", "worker"}};
  EXPECT_TRUE(LabelSelector::parse("").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("app=kjq").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("app==kjq,tier").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("app!=kjq").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("tier in (web, worker)").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("tier notin (worker)").matches(labels));
  EXPECT_TRUE(LabelSelector::parse("!missing").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("missing").matches(labels));
  EXPECT_FALSE(LabelSelector::parse("app=kjq").matches(nullptr));
  EXPECT_THROW(LabelSelector::parse("a=b,,"), ApiError);
  auto sel = LabelSelector::from_object(
      {{"matchLabels", {{"app", "kjq"}}},
       {"matchExpressions", {{{"key", "tier"}, {"operator", "In"}, {"values", {"worker"}}}}}});
  EXPECT_TRUE(sel.matches(labels));
}

TEST(EmulatorSelectors, StoredFlatLabelsMatchLikeTheJsonOnes) {
  const json labels = {{"app", "kjq"},
                       {"tier", "worker"},
                       {"batch.kubernetes.io/job-name", "nautobot-job-1"},
                       {"empty", ""},
                       {"count", 3}};
  const Labels flat(labels);
  EXPECT_EQ(flat.find("app").value_or("?"), "kjq");
  EXPECT_EQ(flat.find("batch.kubernetes.io/job-name").value_or("?"), "nautobot-job-1");
  EXPECT_EQ(flat.find("empty").value_or("?"), "");
  EXPECT_FALSE(flat.find("count"));  // not a string: not a label
  EXPECT_FALSE(flat.find("ap"));
  EXPECT_FALSE(flat.find("kjq"));  // a value is not a key
  EXPECT_TRUE(Labels(nullptr).empty());
  EXPECT_TRUE(Labels(json::object()).empty());
  for (const char* text :
       {"", "app=kjq", "app==kjq,tier", "app!=kjq", "tier in (web, worker)", "tier notin (worker)", "!missing",
        "missing", "empty=", "empty", "batch.kubernetes.io/job-name=nautobot-job-1", "count", "!count"}) {
    const auto sel = LabelSelector::parse(text);
    EXPECT_EQ(sel.matches(flat), sel.matches(labels)) << text;
  }
  EXPECT_TRUE(LabelSelector::parse("!app").matches(Labels(nullptr)));
  EXPECT_FALSE(LabelSelector::parse("app").matches(Labels(nullptr)));
}

TEST(EmulatorSelectors, FieldSelectors) {
  json ev = {{"metadata", {{"name", "e1"}, {"namespace", "default"}}},
             {"involvedObject", {{"name", "pod-1"}, {"kind", "Pod"}}},
             {"count", 1}};
  EXPECT_TRUE(FieldSelector::parse("metadata.name=e1").matches(ev));
  EXPECT_TRUE(FieldSelector::parse("involvedObject.name=pod-1,involvedObject.kind==Pod").matches(ev));
  EXPECT_FALSE(FieldSelector::parse("involvedObject.name!=pod-1").matches(ev));
  EXPECT_TRUE(FieldSelector::parse("count=1").matches(ev));
  EXPECT_THROW(FieldSelector::parse("nonsense"), ApiError);
}

TEST(EmulatorSelectors, TextShortcutNeverRejectsAMatch) {
  json ev = {{"metadata", {{"name", "e1"}, {"namespace", "default"}}},
             {"involvedObject", {{"name", "pod-1"}, {"kind", "Pod"}}},
             {"count", 1},
             {"message", "say \"hi\""}};
  const std::string text = ev.dump();
  for (const char* sel : {"involvedObject.name=pod-1,involvedObject.kind=Pod", "count=1", "involvedObject.name!=x",
                          "message=say \"hi\""}) {
    SCOPED_TRACE(sel);
    auto fs = FieldSelector::parse(sel);
    EXPECT_TRUE(fs.may_match_text(text));
    EXPECT_TRUE(fs.matches(ev));
  }
  // A value that is nowhere in the text cannot match: skipped without parsing.
  EXPECT_FALSE(FieldSelector::parse("involvedObject.name=pod-2").may_match_text(text));
  EXPECT_FALSE(FieldSelector::parse("involvedObject.kind=Pod,involvedObject.name=job-9").may_match_text(text));
}

// A list compares an Event's stored involvedObject.name before anything else: the answer must be
// the full match's for every object, whatever the selector.
TEST(EmulatorSelectors, InvolvedObjectNameShortcutAgreesWithTheFullMatch) {
  auto event = [](json name) {
    return json{{"metadata", {{"name", "e"}, {"namespace", "default"}}},
                {"involvedObject", {{"name", std::move(name)}, {"kind", "Pod"}}}};
  };
  const std::vector<json> objects = {event("pod-1"), event("pod-10"),
                                     event("job-1"), event(7),
                                     event(""),      json{{"metadata", {{"name", "pod-1"}, {"namespace", "default"}}}}};
  for (const char* sel :
       {"involvedObject.name=pod-1", "involvedObject.kind=Pod,involvedObject.name==pod-1", "involvedObject.name=7",
        "involvedObject.name=", "involvedObject.name!=pod-1", "metadata.name=pod-1"}) {
    SCOPED_TRACE(sel);
    const auto fs = FieldSelector::parse(sel);
    const auto filter = make_filter(LabelSelector::parse(""), fs);
    for (const auto& o : objects) EXPECT_EQ(filter(StoredObject(o)), fs.matches(o)) << o.dump();
  }
  EXPECT_EQ(FieldSelector::parse("count=1,involvedObject.name==x").required_value("involvedObject.name"), "x");
  EXPECT_EQ(FieldSelector::parse("involvedObject.name!=x").required_value("involvedObject.name"), std::nullopt);
}

TEST(EmulatorRequestInfo, ParsesPathsAndVerbs) {
  auto i = parse_request_info("GET", "/api/v1/namespaces/ns1/pods/p1/log", Watch::NotRequested);
  EXPECT_TRUE(i.resource_request);
  EXPECT_EQ(i.group, "");
  EXPECT_EQ(i.ns, "ns1");
  EXPECT_EQ(i.resource, "pods");
  EXPECT_EQ(i.name, "p1");
  EXPECT_EQ(i.subresource, "log");
  EXPECT_EQ(i.verb, "get");
  EXPECT_EQ(parse_request_info("GET", "/apis/batch/v1/namespaces/x/jobs", Watch::Requested).verb, "watch");
  EXPECT_EQ(parse_request_info("GET", "/apis/batch/v1/namespaces/x/jobs", Watch::NotRequested).verb, "list");
  EXPECT_EQ(parse_request_info("DELETE", "/apis/batch/v1/namespaces/x/jobs", Watch::NotRequested).verb,
            "deletecollection");
  auto c = parse_request_info("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", Watch::NotRequested);
  EXPECT_EQ(c.group, "rbac.authorization.k8s.io");
  EXPECT_EQ(c.ns, "");
  EXPECT_EQ(c.verb, "create");
  EXPECT_FALSE(parse_request_info("GET", "/apis/batch/v1", Watch::NotRequested).resource_request);
  for (const char* t : {"1", "t", "T", "true", "True", "TRUE"}) EXPECT_EQ(parse_go_bool(t), true) << t;
  EXPECT_EQ(parse_go_bool("False"), false);
  EXPECT_EQ(parse_go_bool("yes"), std::nullopt);
}

TEST(EmulatorTokenAuth, StaticTokenFile) {
  auto auth = TokenAuthenticator::from_text(
      "# comment\n"
      "t1,alice,1,\"devs,ops\"\n"
      "t2,system:serviceaccount:jobs:kjq,2\n");
  EXPECT_TRUE(auth.enabled());
  auto alice = auth.authenticate("Bearer t1");
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->groups, (std::vector<std::string>{"devs", "ops", "system:authenticated"}));
  auto sa = auth.authenticate("bearer t2");
  ASSERT_TRUE(sa);
  EXPECT_EQ(sa->groups, (std::vector<std::string>{"system:serviceaccounts", "system:serviceaccounts:jobs",
                                                  "system:authenticated"}));
  EXPECT_FALSE(auth.authenticate(""));
  EXPECT_FALSE(auth.authenticate("Bearer nope"));
  EXPECT_FALSE(auth.authenticate("Basic dDE="));
  EXPECT_THROW(TokenAuthenticator::from_text("only-a-token\n"), kjq::InputError);
  TokenAuthenticator open;
  EXPECT_EQ(open.authenticate("")->name, "system:admin");
}

TEST(EmulatorManifestLoader, ExpandsListsAndReportsErrors) {
  auto objs = load_manifest_stream(
      "apiVersion: v1\nkind: List\nitems:\n- {kind: Role, metadata: {name: a}}\n- {kind: Role, metadata: {name: b}}\n"
      "---\n{\"kind\": \"RoleBinding\", \"metadata\": {\"name\": \"c\"}, \"x\": 3}\n",
      "rbac.yaml");
  ASSERT_EQ(objs.size(), 3u);
  EXPECT_EQ(objs[2]["kind"], "RoleBinding");
  EXPECT_EQ(objs[2]["x"], 3);
  try {
    load_manifest_stream("a: [1,\n", "bad.yaml");
    FAIL();
  } catch (const kjq::InputError& e) {
    EXPECT_EQ(e.diagnostics()[0].file, "bad.yaml");
    EXPECT_GT(e.diagnostics()[0].line, 0);
  }
}

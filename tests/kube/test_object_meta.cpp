// The object-metadata accessors: the same answers for json and ordered_json, "" for every odd shape.
#include <gtest/gtest.h>

#include "kube/object_meta.hpp"

namespace kjq::kube {
namespace {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

constexpr const char* kPod = R"({"metadata":{"name":"p","uid":"u-1","resourceVersion":"42",
  "creationTimestamp":"2026-12-02T10:00:00Z","labels":{"a":"b","job-name":"old","n":1},
  "annotations":{"x":"y"}}})";

TEST(ObjectMeta, ReadsJsonAndOrderedJsonAlike) {
  for (const json& o : {json::parse(kPod)}) {
    EXPECT_EQ(name_of(o), "p");
    EXPECT_EQ(uid_of(o), "u-1");
    EXPECT_EQ(resource_version_of(o), "42");
    EXPECT_EQ(creation_timestamp_of(o), "2026-12-02T10:00:00Z");
    EXPECT_EQ(label_of(o, "a"), "b");
    EXPECT_EQ(annotation_of(o, "x"), "y");
  }
  const ojson o = ojson::parse(kPod);
  EXPECT_EQ(name_of(o), "p");
  EXPECT_EQ(label_of(o, "a"), "b");
  EXPECT_EQ(annotation_of(o, "x"), "y");
  EXPECT_EQ(labels_of(o), (std::map<std::string, std::string>{{"a", "b"}, {"job-name", "old"}}));
}

TEST(ObjectMeta, OddShapesAnswerEmptyAndNeverThrow) {
  for (const char* text : {R"({"kind":"Job"})", R"({"metadata":[]})", R"({"metadata":{"labels":"a=b"}})",
                           R"({"metadata":{"labels":{"a":1},"name":7,"annotations":null}})", "[]", "null", "3"}) {
    SCOPED_TRACE(text);
    const json o = json::parse(text);
    EXPECT_EQ(name_of(o), "");
    EXPECT_EQ(label_of(o, "a"), "");
    EXPECT_EQ(annotation_of(o, "a"), "");
    EXPECT_TRUE(labels_of(o).empty());
    EXPECT_EQ(label_of(ojson::parse(text), "a"), "");
  }
}

TEST(ObjectMeta, APodsJobIsTheNewLabelElseTheOldOne) {
  json pod = json::parse(kPod);
  EXPECT_EQ(job_name_of_pod(pod), "old");
  pod["metadata"]["labels"]["batch.kubernetes.io/job-name"] = "new";
  EXPECT_EQ(job_name_of_pod(pod), "new");
  EXPECT_EQ(job_name_of_pod(json::object()), "");
}

}  // namespace
}  // namespace kjq::kube

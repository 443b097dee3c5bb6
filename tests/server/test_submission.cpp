// POST /api/v1/jobs body validation (parse_submission) over a real ApiContext: a SQLite store and
// a manifest directory in a temporary directory, a token file, and a Kubernetes client pointed at
// a port nothing listens on (parse_submission never contacts it). Also random_uuid.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kube/api.hpp"
#include "kube/rest_client.hpp"
#include "queue/manifest_store.hpp"
#include "server/admission.hpp"
#include "server/bearer_tokens.hpp"
#include "server/http_api.hpp"
#include "server/job_informer.hpp"
#include "server/job_tracker.hpp"
#include "server/serve_metrics.hpp"
#include "server/serve_options.hpp"
#include "server/store/job_store.hpp"
#include "server/submit_batcher.hpp"
#include "support/test_support.hpp"
#include "util/clock.hpp"

namespace {

using namespace kjq::server;
using kjq::now_ms;
namespace fs = std::filesystem;

kjq::kube::ClusterConfig unreachable_cluster() {
  kjq::kube::ClusterConfig c;
  c.server = "http://127.0.0.1:1";  // never contacted: parse_submission does not talk to Kubernetes
  c.token = "unused";
  c.source = "unit test";
  return c;
}

// Every part of `kjq serve` an ApiContext refers to, built the way Service::start builds them
// (nothing started).
class Submission : public testing::Test {
 protected:
  Submission()
      : queues_dir_(dir_.path() / "job-queues"),
        store_(open_store("sqlite:" + (dir_.path() / "jobs.db").string())),
        manifests_(make_manifests(queues_dir_)),
        tokens_(dir_.write("api-token", "unit-test-token\n")),
        client_(unreachable_cluster()),
        api_(client_),
        batcher_(*store_),
        informer_(api_, options_.namespace_name, options_.instance, kjq::kube::LabelSelector()),
        admission_(*store_, api_, manifests_, options_, metrics_),
        tracker_(*store_, api_, informer_, admission_, options_, metrics_) {}

  static kjq::queue::ManifestStore make_manifests(const fs::path& base) {
    fs::create_directories(base);
    return kjq::queue::ManifestStore(base);
  }

  ApiContext context(bool restrict_queues = false, std::set<std::string> known = {}) {
    return ApiContext{*store_, batcher_,        admission_,       tracker_, informer_, metrics_, options_, manifests_,
                      tokens_, restrict_queues, std::move(known), nullptr,  nullptr,   nullptr,  nullptr,  nullptr};
  }

  ParsedSubmission parse(const std::string& body) { return parse_submission(body, context()); }

  // The error of a refused body (and that nothing was accepted).
  std::string refused(const std::string& body, int status = 400) {
    ParsedSubmission p = parse(body);
    EXPECT_FALSE(p.job) << body;
    EXPECT_EQ(p.status, status) << body;
    EXPECT_FALSE(p.error.empty()) << body;
    return p.error;
  }

  NewJob accepted(const std::string& body) {
    ParsedSubmission p = parse(body);
    EXPECT_TRUE(p.job) << body << " → " << p.error;
    EXPECT_EQ(p.error, "") << body;
    return p.job.value_or(NewJob{});
  }

  kjq::test::TempDir dir_;
  fs::path queues_dir_;
  ServeOptions options_;
  ServeMetrics metrics_;
  std::unique_ptr<JobStore> store_;
  kjq::queue::ManifestStore manifests_;
  BearerTokens tokens_;
  kjq::kube::RestClient client_;
  kjq::kube::KubeApi api_;
  SubmitBatcher batcher_;
  JobInformer informer_;
  Admission admission_;
  JobTracker tracker_;
};

// xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, lower-case hex, V one of 8 9 a b.
bool looks_like_uuid_v4(const std::string& id) {
  if (id.size() != 36) return false;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return id[14] == '4' && std::string("89ab").find(id[19]) != std::string::npos;
}

}  // namespace

// --- the body and the queue ---------------------------------------------------------------

TEST_F(Submission, TheBodyMustBeAJsonObject) {
  const std::string expected = "the body must be a JSON object such as {\"queue\": \"default\", \"data\": {}}";
  EXPECT_EQ(refused("[{\"queue\":\"default\"}]"), expected + ", got array");
  EXPECT_EQ(refused("\"default\""), expected + ", got string");
}

TEST_F(Submission, EachParseErrorSaysWhereAndWhy) {
  EXPECT_EQ(refused(""), "the body is empty: expected a JSON object such as {\"queue\": \"default\", \"data\": {}}");
  EXPECT_EQ(refused("not json")
                .rfind("the body is not valid JSON: parse error at line 1, column 2: syntax error while parsing value "
                       "- invalid literal",
                       0),
            0u)
      << refused("not json");
  const std::string truncated = refused("{\"queue\":\"default\"");
  EXPECT_EQ(truncated.rfind("the body is not valid JSON: parse error at line 1, column 19: ", 0), 0u) << truncated;
  EXPECT_NE(truncated.find("unexpected end of input"), std::string::npos) << truncated;
}

TEST_F(Submission, DeepBodiesAreRefusedBeforeParsing) {
  // 60,000 levels (120 KB) once crashed kjq serve when it built the Job, on every restart.
  const std::string deep =
      "{\"queue\":\"default\",\"data\":{\"x\":" + std::string(60000, '[') + std::string(60000, ']') + "}}";
  EXPECT_EQ(refused(deep), "the body is refused: nested deeper than 100 levels (at byte 130)");
  const std::string ok = "{\"queue\":\"default\",\"data\":{\"x\":" + std::string(90, '[') + std::string(90, ']') + "}}";
  EXPECT_EQ(accepted(ok).data_json, "{\"x\":" + std::string(90, '[') + std::string(90, ']') + "}");
}

TEST_F(Submission, IntegersBeyondSixtyFourBitsAreRefusedNotRounded) {
  EXPECT_EQ(refused("{\"queue\":\"default\",\"data\":{\"n\":[1,18446744073709551617]}}"),
            "data.n[1]: the integer 18446744073709551617 is outside the 64-bit range; send it as a string");
  EXPECT_EQ(accepted("{\"queue\":\"default\",\"data\":{\"n\":18446744073709551615,\"f\":1.5}}").data_json,
            "{\"n\":18446744073709551615,\"f\":1.5}");
}

TEST_F(Submission, AMissingOrEmptyQueueIsRefused) {
  const std::string expected = "queue: expected the name of a job queue (a non-empty string)";
  EXPECT_EQ(refused("{}"), expected);
  EXPECT_EQ(refused(R"({"data": {}})"), expected);
  EXPECT_EQ(refused(R"({"queue": ""})"), expected);
  EXPECT_EQ(refused(R"({"queue": null})"), expected);
  EXPECT_EQ(refused(R"({"queue": 7})"), expected);
  EXPECT_EQ(refused(R"({"queue": ["default"]})"), expected);
}

TEST_F(Submission, AQueueIsAccepted) {
  NewJob job = accepted(R"({"queue": "default"})");
  EXPECT_EQ(job.queue, "default");
  EXPECT_EQ(job.data_json, "{}");
  EXPECT_FALSE(job.time_limit_seconds);
  // A name with '/' that stays inside the base is accepted (Nautobot allows it too), and the
  // manifest need not exist when the job is submitted.
  EXPECT_EQ(accepted(R"({"queue": "team/reports"})").queue, "team/reports");
}

TEST_F(Submission, UnsafeQueueNamesAreRefusedWithTheReason) {
  std::string e = refused(R"({"queue": "../x"})");
  EXPECT_EQ(e.rfind("queue: ", 0), 0u) << e;
  EXPECT_NE(e.find("\"..\""), std::string::npos) << e;

  e = refused(R"({"queue": "a/../../x"})");
  EXPECT_NE(e.find("\"..\""), std::string::npos) << e;

  e = refused(R"({"queue": "/etc"})");
  EXPECT_EQ(e.rfind("queue: ", 0), 0u) << e;
  EXPECT_NE(e.find("absolute path"), std::string::npos) << e;

  e = refused(R"({"queue": "a\u0000b"})");
  EXPECT_EQ(e, "queue: queue name contains a NUL byte");

  e = refused(R"({"queue": "..data"})");  // the kubelet's own entries of a ConfigMap volume
  EXPECT_NE(e.find("hidden"), std::string::npos) << e;
}

TEST_F(Submission, AQueueLinkedOutsideTheBaseIsRefused) {
  kjq::test::TempDir outside;
  outside.write("manifest.json", R"({"kind": "Job"})");
  fs::create_directory_symlink(outside.path(), queues_dir_ / "evil");
  std::string e = refused(R"({"queue": "evil"})");
  EXPECT_EQ(e.rfind("queue: ", 0), 0u) << e;
  EXPECT_NE(e.find("outside"), std::string::npos) << e;

  // A link that stays inside the base (a ConfigMap volume's layout) is followed.
  fs::create_directories(queues_dir_ / "..data" / "inside");
  fs::create_directory_symlink(queues_dir_ / "..data" / "inside", queues_dir_ / "inside");
  EXPECT_EQ(accepted(R"({"queue": "inside"})").queue, "inside");
}

TEST_F(Submission, WithValuesOnlyTheirQueuesAreAccepted) {
  ApiContext ctx = context(true, {"reports", "default"});
  ParsedSubmission p = parse_submission(R"({"queue": "other"})", ctx);
  EXPECT_FALSE(p.job);
  EXPECT_EQ(p.status, 404);
  EXPECT_EQ(p.error, "queue: \"other\" is not an enabled kubernetes queue of the values (known: default, reports)");

  p = parse_submission(R"({"queue": "reports"})", ctx);
  ASSERT_TRUE(p.job) << p.error;
  EXPECT_EQ(p.job->queue, "reports");

  // An unsafe name is a 400 before it is a 404.
  p = parse_submission(R"({"queue": "../default"})", ctx);
  EXPECT_FALSE(p.job);
  EXPECT_EQ(p.status, 400);
}

TEST_F(Submission, ValuesThatEnableNoQueueAcceptNone) {
  ApiContext ctx = context(true, {});
  ParsedSubmission p = parse_submission(R"({"queue": "default"})", ctx);
  EXPECT_FALSE(p.job);
  EXPECT_EQ(p.status, 404);
  EXPECT_EQ(p.error, "queue: \"default\" is not an enabled kubernetes queue of the values (they enable none)");
}

TEST_F(Submission, WithoutValuesAnySafeQueueIsAccepted) {
  ApiContext ctx = context(false, {"default"});  // known queues do not restrict without values
  ParsedSubmission p = parse_submission(R"({"queue": "elsewhere"})", ctx);
  ASSERT_TRUE(p.job) << p.error;
  EXPECT_EQ(p.job->queue, "elsewhere");
}

// --- ids ---------------------------------------------------------------------------------------

TEST_F(Submission, AValidIdIsKept) {
  const std::string id = "0f6f8e3c-1d2b-4c5a-9e7f-3a2b1c0d9e8f";
  EXPECT_EQ(accepted(R"({"queue": "default", "id": ")" + id + "\"}").id, id);
  EXPECT_EQ(accepted(R"({"queue": "default", "id": "job-7"})").id, "job-7");
}

TEST_F(Submission, IdsThatAreNotDns1123LabelsAreRefused) {
  EXPECT_EQ(refused(R"({"queue": "default", "id": "0F6F8E3C-1D2B-4C5A-9E7F-3A2B1C0D9E8F"})"),
            "id: expected lower-case letters, digits and '-' (a DNS-1123 label, e.g. a UUID), got "
            "\"0F6F8E3C-1D2B-4C5A-9E7F-3A2B1C0D9E8F\"");
  for (const char* bad :
       {R"("Not_A_Label")", R"("")", R"("-abc")", R"("abc-")", R"("a.b")", R"("a b")", "7", "true", R"({"id": "x"})"}) {
    const std::string e = refused(std::string(R"({"queue": "default", "id": )") + bad + "}");
    EXPECT_EQ(e.rfind("id: expected lower-case letters", 0), 0u) << bad << " → " << e;
  }
}

TEST_F(Submission, AnIdMustLeaveTheJobNameWithin63Characters) {
  // nautobot-job-<id>: 12 + 1 + 50 = 63.
  ASSERT_EQ(options_.name_prefix, "nautobot-job");
  const std::string fits(50, 'a'), too_long(51, 'a');
  EXPECT_EQ(accepted(R"({"queue": "default", "id": ")" + fits + "\"}").id, fits);
  EXPECT_EQ(refused(R"({"queue": "default", "id": ")" + too_long + "\"}"),
            "id: too long: the Job name nautobot-job-<id> must fit in 63 characters (id at most 50)");

  options_.name_prefix = "p";  // p-<id>: the id may have 61 characters
  EXPECT_EQ(accepted(R"({"queue": "default", "id": ")" + std::string(61, 'b') + "\"}").id, std::string(61, 'b'));
  EXPECT_EQ(refused(R"({"queue": "default", "id": ")" + std::string(62, 'b') + "\"}"),
            "id: too long: the Job name p-<id> must fit in 63 characters (id at most 61)");
}

TEST_F(Submission, WithoutAnIdAVersion4UuidIsGenerated) {
  std::set<std::string> ids;
  for (const char* body : {R"({"queue": "default"})", R"({"queue": "default", "id": null})"}) {
    for (int i = 0; i < 50; ++i) {
      const std::string id = accepted(body).id;
      ASSERT_EQ(id.size(), 36u) << id;
      EXPECT_EQ(id[14], '4') << "version nibble of " << id;
      EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << "RFC 4122 variant of " << id;
      EXPECT_TRUE(looks_like_uuid_v4(id)) << id;
      ids.insert(id);
    }
  }
  EXPECT_EQ(ids.size(), 100u);
}

// --- data ----------------------------------------------------------------------------------

TEST_F(Submission, DataKeepsTheClientsKeyOrder) {
  EXPECT_EQ(accepted(R"({"queue": "default", "data": {"b": 1, "a": 2}})").data_json, R"({"b":1,"a":2})");
  // Nested objects too, and data placed before the queue.
  EXPECT_EQ(
      accepted(R"({"data": {"z": {"y": 1, "x": [2, {"d": 3, "c": 4}]}, "a": "é"}, "queue": "default"})").data_json,
      R"({"z":{"y":1,"x":[2,{"d":3,"c":4}]},"a":"é"})");
}

TEST_F(Submission, MissingOrNullDataIsAnEmptyObject) {
  EXPECT_EQ(accepted(R"({"queue": "default"})").data_json, "{}");
  EXPECT_EQ(accepted(R"({"queue": "default", "data": null})").data_json, "{}");
  EXPECT_EQ(accepted(R"({"queue": "default", "data": {}})").data_json, "{}");
}

TEST_F(Submission, DataThatIsNotAnObjectIsRefused) {
  EXPECT_EQ(refused(R"({"queue": "default", "data": "x"})"),
            "data: expected a JSON object (the job's keyword arguments), got \"x\"");
  EXPECT_EQ(refused(R"({"queue": "default", "data": [1, 2]})"),
            "data: expected a JSON object (the job's keyword arguments), got [1,2]");
  EXPECT_EQ(refused(R"({"queue": "default", "data": 3})"),
            "data: expected a JSON object (the job's keyword arguments), got 3");
}

// --- timeLimitSeconds ------------------------------------------------------------------------

TEST_F(Submission, TimeLimitWithinItsBoundsIsKept) {
  EXPECT_EQ(accepted(R"({"queue": "default", "timeLimitSeconds": 1})").time_limit_seconds, 1);
  EXPECT_EQ(accepted(R"({"queue": "default", "timeLimitSeconds": 600})").time_limit_seconds, 600);
  EXPECT_EQ(accepted(R"({"queue": "default", "timeLimitSeconds": 31536000})").time_limit_seconds, 31536000);
  EXPECT_FALSE(accepted(R"({"queue": "default", "timeLimitSeconds": null})").time_limit_seconds);
}

TEST_F(Submission, TimeLimitOutsideItsBoundsIsRefused) {
  EXPECT_EQ(refused(R"({"queue": "default", "timeLimitSeconds": 0})"),
            "timeLimitSeconds: expected an integer from 1 to 31536000, got 0");
  EXPECT_EQ(refused(R"({"queue": "default", "timeLimitSeconds": 31536001})"),
            "timeLimitSeconds: expected an integer from 1 to 31536000, got 31536001");
  for (const char* bad : {"-5", "1.5", "60.0", "\"60\"", "true", "[60]", "4294967297", "9223372036854775808",
                          "18446744073709551615", "1e30"}) {
    const std::string e = refused(std::string(R"({"queue": "default", "timeLimitSeconds": )") + bad + "}");
    EXPECT_EQ(e.rfind("timeLimitSeconds: expected an integer from 1 to 31536000, got ", 0), 0u) << bad << " → " << e;
  }
}

// --- other fields and the order of checks ----------------------------------------------------

TEST_F(Submission, UnknownFieldsAreRefusedByName) {
  EXPECT_EQ(refused(R"({"queue": "default", "priority": 1})"),
            "priority: unknown field (expected queue, id, data, timeLimitSeconds)");
  EXPECT_EQ(refused(R"({"queue": "default", "Queue": "x"})"),
            "Queue: unknown field (expected queue, id, data, timeLimitSeconds)");
  EXPECT_EQ(refused(R"({"queue": "default", "time_limit_seconds": 5})"),
            "time_limit_seconds: unknown field (expected queue, id, data, timeLimitSeconds)");
}

TEST_F(Submission, TheFirstFailingCheckIsAnswered) {
  // id before data before timeLimitSeconds before unknown fields (docs/api.md).
  EXPECT_EQ(
      refused(R"({"extra": 1, "timeLimitSeconds": 0, "data": 1, "id": "X", "queue": "default"})").rfind("id: ", 0), 0u);
  EXPECT_EQ(refused(R"({"extra": 1, "timeLimitSeconds": 0, "data": 1, "queue": "default"})").rfind("data: ", 0), 0u);
  EXPECT_EQ(refused(R"({"extra": 1, "timeLimitSeconds": 0, "queue": "default"})").rfind("timeLimitSeconds: ", 0), 0u);
  EXPECT_EQ(refused(R"({"extra": 1, "queue": "default"})").rfind("extra: ", 0), 0u);
}

TEST_F(Submission, AnAcceptedJobCarriesEverythingAndTheTimeOfAcceptance) {
  const std::int64_t before = now_ms();
  NewJob job =
      accepted(R"({"queue": "reports", "id": "abc-123", "data": {"device": "rtr1"}, "timeLimitSeconds": 600})");
  const std::int64_t after = now_ms();
  EXPECT_EQ(job.queue, "reports");
  EXPECT_EQ(job.id, "abc-123");
  EXPECT_EQ(job.data_json, R"({"device":"rtr1"})");
  EXPECT_EQ(job.time_limit_seconds, 600);
  EXPECT_GE(job.now_ms, before);
  EXPECT_LE(job.now_ms, after);
}

// --- random_uuid -------------------------------------------------------------------------------

TEST(RandomUuid, TenThousandAreDistinctVersion4Uuids) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    const std::string id = random_uuid();
    ASSERT_TRUE(looks_like_uuid_v4(id)) << id;
    ASSERT_TRUE(seen.insert(id).second) << "repeated: " << id;
  }
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(RandomUuid, ThreadsDoNotRepeatEachOther) {
  // Each thread has its own generator: they must not be seeded alike.
  constexpr int kThreads = 4, kEach = 2500;
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kEach; ++i) made[t].push_back(random_uuid());
    });
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& v : made) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kEach));
}

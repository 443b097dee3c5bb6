// The API's JSON form of a job record (job_to_json) and its times (format_time_ms).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server/job_json.hpp"

namespace {

using kjq::server::format_time_ms;
using kjq::server::job_to_json;
using kjq::server::JobRecord;
using kjq::server::JobState;
using kjq::server::JobView;
using nlohmann::json;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), to build
// expected instants without the code under test.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::int64_t utc_ms(int y, unsigned mo, unsigned d, int h, int mi, int s, int ms) {
  return ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 + s * 1000 + ms;
}

JobRecord minimal_record() {
  JobRecord r;
  r.seq = 7;
  r.id = "0f6f8e3c-1d2b-4c5a-9e7f-3a2b1c0d9e8f";
  r.queue = "default";
  return r;
}

}  // namespace

TEST(FormatTimeMs, IsRfc3339UtcWithMilliseconds) {
  ASSERT_EQ(utc_ms(2025, 11, 26, 23, 33, 20, 123), 1764200000123);  // the helper agrees with `date -u`
  EXPECT_EQ(format_time_ms(1764200000123), "2025-11-26T23:33:20.123Z");
  EXPECT_EQ(format_time_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time_ms(1), "1970-01-01T00:00:00.001Z");
  EXPECT_EQ(format_time_ms(999), "1970-01-01T00:00:00.999Z");
  EXPECT_EQ(format_time_ms(1000), "1970-01-01T00:00:01.000Z");
  EXPECT_EQ(format_time_ms(utc_ms(2024, 2, 29, 12, 0, 0, 0)), "2024-02-29T12:00:00.000Z");
  EXPECT_EQ(format_time_ms(utc_ms(2000, 2, 29, 0, 0, 0, 50)), "2000-02-29T00:00:00.050Z");
  EXPECT_EQ(format_time_ms(utc_ms(2026, 11, 27, 10, 15, 2, 417)), "2026-11-27T10:15:02.417Z");
  EXPECT_EQ(format_time_ms(utc_ms(2038, 1, 19, 3, 14, 8, 0)), "2038-01-19T03:14:08.000Z");  // past 32-bit time_t
  EXPECT_EQ(format_time_ms(utc_ms(2100, 1, 1, 0, 0, 0, 0)), "2100-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time_ms(utc_ms(9999, 12, 31, 23, 59, 59, 999)), "9999-12-31T23:59:59.999Z");
}

TEST(FormatTimeMs, DoesNotDependOnTheLocalTimeZone) {
  const char* old = std::getenv("TZ");
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  ::setenv("TZ", "America/New_York", 1);
  ::tzset();
  const std::string in_new_york = format_time_ms(1764200000123);
  ::setenv("TZ", "Asia/Kolkata", 1);
  ::tzset();
  const std::string in_kolkata = format_time_ms(1764200000123);
  if (saved)
    ::setenv("TZ", saved->c_str(), 1);
  else
    ::unsetenv("TZ");
  ::tzset();
  EXPECT_EQ(in_new_york, "2025-11-26T23:33:20.123Z");
  EXPECT_EQ(in_kolkata, "2025-11-26T23:33:20.123Z");
}

TEST(JobToJson, AQueuedJobHasOnlyItsIdQueueOriginStateAndData) {
  const json j = job_to_json(minimal_record(), "ns", JobView::Summary);
  EXPECT_EQ(j, (json{{"id", "0f6f8e3c-1d2b-4c5a-9e7f-3a2b1c0d9e8f"},
                     {"queue", "default"},
                     {"origin", "kjq"},
                     {"state", "Queued"},
                     {"data", json::object()}}))
      << j.dump();
}

TEST(JobToJson, ANautobotJobCarriesItsOriginAndJobResultId) {
  JobRecord r = minimal_record();
  r.origin = kjq::server::JobOrigin::Nautobot;
  r.job_result_id = r.id;
  const json j = job_to_json(r, "ns", JobView::Summary);
  EXPECT_EQ(j["origin"], "nautobot");
  EXPECT_EQ(j["jobResultId"], r.id);
  EXPECT_FALSE(job_to_json(minimal_record(), "ns", JobView::Summary).contains("jobResultId"));
}

TEST(JobToJson, TimesAppearOnceTheyHappen) {
  JobRecord r = minimal_record();
  const char* keys[] = {"createdAt", "submittedAt", "startedAt", "finishedAt"};
  std::int64_t* fields[] = {&r.created_ms, &r.submitted_ms, &r.started_ms, &r.finished_ms};
  for (int i = 0; i < 4; ++i) {
    json j = job_to_json(r, "ns", JobView::Summary);
    for (int k = i; k < 4; ++k) EXPECT_FALSE(j.contains(keys[k])) << keys[k] << " before it happened: " << j.dump();
    *fields[i] = 1764200000123 + i * 1000;
    j = job_to_json(r, "ns", JobView::Summary);
    ASSERT_TRUE(j.contains(keys[i])) << j.dump();
    EXPECT_EQ(j[keys[i]], "2025-11-26T23:33:2" + std::to_string(i) + ".123Z");
  }
  r.updated_ms = 1764200009999;  // not part of the API
  const json j = job_to_json(r, "ns", JobView::Summary);
  EXPECT_FALSE(j.contains("updatedAt"));
  EXPECT_FALSE(j.contains("updated_ms"));
}

TEST(JobToJson, OptionalFieldsAppearOnceSet) {
  JobRecord r = minimal_record();
  json j = job_to_json(r, "nautobot", JobView::Summary);
  for (const char* key : {"reason", "message", "timeLimitSeconds", "kubernetesJob", "exitCode", "cancelRequested"})
    EXPECT_FALSE(j.contains(key)) << key;

  r.state = JobState::Failed;
  r.reason = "Error";
  r.message = "exit code 3";
  r.data_json = R"({"device": "rtr1", "n": [1, 2]})";
  r.time_limit_seconds = 600;
  r.kube_name = "nautobot-job-0f6f8e3c-1d2b-4c5a-9e7f-3a2b1c0d9e8f";
  r.exit_code = 0;  // 0 is a code like any other: it appears
  j = job_to_json(r, "nautobot", JobView::Summary);
  EXPECT_EQ(j["state"], "Failed");
  EXPECT_EQ(j["reason"], "Error");
  EXPECT_EQ(j["message"], "exit code 3");
  EXPECT_EQ(j["data"], (json{{"device", "rtr1"}, {"n", {1, 2}}}));
  EXPECT_EQ(j["timeLimitSeconds"], 600);
  EXPECT_EQ(j["exitCode"], 0);
  EXPECT_EQ(j["kubernetesJob"], (json{{"namespace", "nautobot"}, {"name", r.kube_name}}));  // no uid yet
  EXPECT_FALSE(j.contains("cancelRequested"));

  r.kube_uid = "3d1c-uid";
  r.cancel_requested = true;
  r.cancel_grace_seconds = 5;
  r.owner = "replica-a";
  j = job_to_json(r, "other-ns", JobView::Summary);
  EXPECT_EQ(j["kubernetesJob"], (json{{"namespace", "other-ns"}, {"name", r.kube_name}, {"uid", "3d1c-uid"}}));
  EXPECT_EQ(j["cancelRequested"], true);
  EXPECT_FALSE(j.contains("owner"));
  EXPECT_FALSE(j.contains("seq"));
}

TEST(JobToJson, EvidenceCutToTheCapIsNoted) {
  kjq::server::JobRecord r;
  r.id = "a";
  EXPECT_FALSE(job_to_json(r, "ns", JobView::Detail).contains("evidenceTruncated"));
  r.evidence_truncated = true;
  EXPECT_EQ(job_to_json(r, "ns", JobView::Detail)["evidenceTruncated"], true);
  EXPECT_EQ(job_to_json(r, "ns", JobView::Summary)["evidenceTruncated"], true);
}

TEST(JobToJson, AUidWithoutAJobNameIsNotShown) {
  JobRecord r = minimal_record();
  r.kube_uid = "uid-without-name";
  EXPECT_FALSE(job_to_json(r, "ns", JobView::Detail).contains("kubernetesJob"));
}

TEST(JobToJson, OnlyTheDetailHasTheLogTailAndEvents) {
  JobRecord r = minimal_record();
  r.log_tail = "line 1\nline 2\n";
  r.events_json =
      R"([{"time":"2026-11-27T10:15:02Z","type":"Normal","reason":"Completed","object":"Job/x","message":"done"}])";
  json list = job_to_json(r, "ns", JobView::Summary);
  EXPECT_FALSE(list.contains("logTail"));
  EXPECT_FALSE(list.contains("events"));

  json detail = job_to_json(r, "ns", JobView::Detail);
  EXPECT_EQ(detail["logTail"], "line 1\nline 2\n");
  ASSERT_TRUE(detail["events"].is_array());
  ASSERT_EQ(detail["events"].size(), 1u);
  EXPECT_EQ(detail["events"][0]["reason"], "Completed");
  // Everything else is the same as in the list form.
  json rest = detail;
  rest.erase("logTail");
  rest.erase("events");
  EXPECT_EQ(rest, list);
}

TEST(JobToJson, TheDetailOfAJobWithoutEvidenceHasEmptyOnes) {
  json detail = job_to_json(minimal_record(), "ns", JobView::Detail);
  EXPECT_EQ(detail["logTail"], "");
  EXPECT_EQ(detail["events"], json::array());
}

TEST(JobToJson, MalformedStoredJsonDoesNotThrow) {
  JobRecord r = minimal_record();
  for (const char* bad : {"{not json", "", "{\"a\":", "\xff\xfe"}) {
    r.data_json = bad;
    r.events_json = bad;
    json j;
    ASSERT_NO_THROW(j = job_to_json(r, "ns", JobView::Detail)) << bad;
    EXPECT_EQ(j["data"], json::object()) << bad;
    EXPECT_EQ(j["events"], json::array()) << bad;
  }
  // Events that are JSON but not an array are no events either.
  r.data_json = "{}";
  r.events_json = R"({"type":"Normal"})";
  EXPECT_EQ(job_to_json(r, "ns", JobView::Detail)["events"], json::array());
}

TEST(JobToJson, EveryStateHasItsName) {
  JobRecord r = minimal_record();
  const std::pair<JobState, const char*> states[] = {
      {JobState::Queued, "Queued"},      {JobState::Submitted, "Submitted"}, {JobState::Scheduled, "Scheduled"},
      {JobState::Running, "Running"},    {JobState::Succeeded, "Succeeded"}, {JobState::Failed, "Failed"},
      {JobState::Cancelled, "Cancelled"}};
  for (const auto& [state, name] : states) {
    r.state = state;
    EXPECT_EQ(job_to_json(r, "ns", JobView::Summary)["state"], name);
  }
}

TEST(JobToJson, ALogTailThatIsNotValidUtf8CanStillBeSent) {
  JobRecord r = minimal_record();
  r.log_tail = "\x82\xac tail after a cut inside \xe2\x82\xac; latin-1 caf\xe9\n";  // "€" cut, then a Latin-1 é
  const json j = job_to_json(r, "ns", JobView::Detail);
  std::string body;
  ASSERT_NO_THROW(body = j.dump()) << "the API replies with body.dump()";
  EXPECT_NE(body.find("tail after a cut inside"), std::string::npos);
  EXPECT_NE(body.find("latin-1 caf"), std::string::npos);
}

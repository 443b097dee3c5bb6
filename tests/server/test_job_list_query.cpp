// GET /api/v1/jobs's query (server/job_list_query.hpp) and its answer (list_jobs_json): every
// parameter's rule, hostile values, the opaque cursor, and a real store behind the answer.
#include <gtest/gtest.h>

#include "server/http_api.hpp"
#include "server/job_list_query.hpp"
#include "server/store/job_store.hpp"
#include "support/test_support.hpp"
#include "util/base64.hpp"

namespace kjq::server {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;
using nlohmann::json;

TEST(JobListQuery, NoParametersListOldestFirstAHundredAtATime) {
  const auto q = parse_list_query({});
  ASSERT_EQ(q.error, "");
  EXPECT_EQ(q.filter.order, ListOrder::Oldest);
  EXPECT_EQ(q.filter.limit, 100);
  EXPECT_EQ(q.filter.after_seq, 0);
  EXPECT_TRUE(q.filter.states.empty());
}

TEST(JobListQuery, EveryFilterIsReadIntoTheStoreFilter) {
  const auto q = parse_list_query({{"queue", "reports"},
                                   {"states", "Failed,Cancelled,Failed"},
                                   {"origin", "nautobot"},
                                   {"reason", "OOMKilled"},
                                   {"idPrefix", "3f2a-"},
                                   {"timeField", "finishedAt"},
                                   {"since", "2026-11-27T10:15:02.417Z"},
                                   {"until", "2026-11-27T12:00:00+01:00"},
                                   {"order", "newest"},
                                   {"limit", "25"}});
  ASSERT_EQ(q.error, "");
  EXPECT_EQ(q.filter.queue, "reports");
  EXPECT_EQ(q.filter.states, (std::vector<JobState>{JobState::Failed, JobState::Cancelled, JobState::Failed}));
  EXPECT_EQ(q.filter.origin, JobOrigin::Nautobot);
  EXPECT_EQ(q.filter.reason, "OOMKilled");
  EXPECT_EQ(q.filter.id_prefix, "3f2a-");
  EXPECT_EQ(q.filter.time_field, TimeField::Finished);
  EXPECT_EQ(q.filter.since_ms, 1'795'774'502'417);  // date -d 2026-11-27T10:15:02Z +%s
  EXPECT_EQ(q.filter.until_ms, 1'795'777'200'000);  // 11:00Z
  EXPECT_EQ(q.filter.order, ListOrder::Newest);
  EXPECT_EQ(q.filter.limit, 25);
}

TEST(JobListQuery, Rfc3339TimesAreStrict) {
  EXPECT_EQ(parse_rfc3339_ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339_ms("1970-01-01t00:00:01.5z"), 1500);
  EXPECT_EQ(parse_rfc3339_ms("1970-01-01T00:00:00.123456789Z"), 123);
  EXPECT_EQ(parse_rfc3339_ms("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(parse_rfc3339_ms("1969-12-31T23:00:00-01:00"), 0);
  EXPECT_EQ(parse_rfc3339_ms("2024-02-29T00:00:00Z"), 1'709'164'800'000);
  for (const char* bad : {"", "2026-11-27", "2026-11-27T10:15Z", "2026-11-27T10:15:02", "2026-11-27 10:15:02Z",
                          "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-31T00:00:00Z",
                          "2026-11-27T24:00:00Z", "2026-11-27T10:60:00Z", "2026-11-27T10:15:02.Z",
                          "2026-11-27T10:15:02.1234567890Z", "2026-11-27T10:15:02+0100", "2026-11-27T10:15:02+24:00",
                          "2026-11-27T10:15:02Zjunk", "+2026-11-27T10:15:02Z", "2026-1a-27T10:15:02Z", "now"}) {
    EXPECT_EQ(parse_rfc3339_ms(bad), std::nullopt) << bad;
  }
}

TEST(JobListQuery, EachInvalidParameterGetsItsOwnMessage) {
  const std::vector<std::pair<Params, std::string>> cases = {
      {{{"states", "Failed,Done"}}, "states: \"Done\" in the comma-separated list; expected Queued, Submitted,"},
      {{{"states", "Failed,"}}, "states: an empty name in the comma-separated list"},
      {{{"states", ""}}, "states: an empty name"},
      {{{"state", "failed"}}, "state: expected Queued, Submitted"},
      {{{"origin", "celery"}}, "origin: expected kjq or nautobot"},
      {{{"reason", "<script>"}}, "reason: expected a reason such as Error"},
      {{{"reason", std::string(129, 'A')}}, "reason: expected"},
      {{{"idPrefix", "ABC"}}, "idPrefix: expected the start of a job id"},
      {{{"idPrefix", "a%"}}, "idPrefix: expected"},
      {{{"idPrefix", ""}}, "idPrefix: expected"},
      {{{"since", "yesterday"}}, "since: expected an RFC 3339 time with a time zone"},
      {{{"until", "2026-11-27T10:15:02"}}, "until: expected an RFC 3339 time"},
      {{{"since", "2026-11-27T10:00:00Z"}, {"until", "2026-11-27T10:00:00Z"}}, "until: expected a time after since"},
      {{{"timeField", "startedAt"}}, "timeField: expected createdAt or finishedAt"},
      {{{"order", "desc"}}, "order: expected newest or oldest"},
      {{{"limit", "0"}}, "limit: expected 1 to 1000"},
      {{{"limit", "1001"}}, "limit: expected 1 to 1000"},
      {{{"limit", "10abc"}}, "limit: expected an integer from 1 to 1000"},
      {{{"limit", "-5"}}, "limit: expected an integer"},
      {{{"limit", "99999999999999999999999"}}, "limit: expected an integer"},
      {{{"continue", "abc"}}, "continue: expected the value of a previous page's \"continue\""},
      {{{"continue", "-1"}}, "continue: expected"},
      {{{"order", "newest"}, {"continue", "17"}}, "continue: expected"},
      {{{"sort", "newest"}}, "sort: unknown parameter (expected queue, state, states,"},
      {{{"queue", "a"}, {"queue", "b"}}, "queue: given more than once"},
  };
  for (const auto& [params, message] : cases) {
    const auto q = parse_list_query(params);
    EXPECT_EQ(q.error.rfind(message, 0), 0u)
        << params.front().first << "=" << params.front().second << " gave \"" << q.error << "\"";
  }
}

TEST(JobListQuery, CursorsAreOpaqueAndBelongToTheirOrder) {
  const auto newest = encode_list_cursor(ListOrder::Newest, 41);
  const auto oldest = encode_list_cursor(ListOrder::Oldest, 41);
  EXPECT_NE(newest, oldest);
  EXPECT_EQ(newest.find("41"), std::string::npos);
  EXPECT_EQ(decode_list_cursor(newest, ListOrder::Newest), 41);
  EXPECT_EQ(decode_list_cursor(oldest, ListOrder::Oldest), 41);
  EXPECT_EQ(decode_list_cursor(newest, ListOrder::Oldest), std::nullopt);
  EXPECT_EQ(decode_list_cursor(oldest, ListOrder::Newest), std::nullopt);
  // Cursors of kjq before orders existed (a whole number, oldest first) still work.
  EXPECT_EQ(decode_list_cursor("41", ListOrder::Oldest), 41);
  // Forged ones do not: another prefix, a seq that is not a positive whole number, not base64url.
  for (const auto& forged : std::initializer_list<std::string>{
           base64_encode("kjq1:newest:-3", Base64::UrlUnpadded), base64_encode("kjq1:newest:0", Base64::UrlUnpadded),
           base64_encode("kjq1:newest:9x", Base64::UrlUnpadded), base64_encode("kjq2:newest:9", Base64::UrlUnpadded),
           base64_encode("kjq1:newest:99999999999999999999", Base64::UrlUnpadded), newest + "=", "a b", ""}) {
    EXPECT_EQ(decode_list_cursor(forged, ListOrder::Newest), std::nullopt) << forged;
  }
}

// The answer over a real SQLite store: newest first, the counts of the filter, and a cursor
// that walks every page while more jobs arrive.
TEST(JobListAnswer, PagesNewestFirstWithCountsAndAStableCursor) {
  test::TempDir dir;
  auto store = open_store("sqlite:" + (dir.path() / "jobs.db").string());
  auto submit = [&](const std::string& id, std::int64_t created) {
    NewJob j;
    j.id = id;
    j.queue = "default";
    j.now_ms = created;
    store->submit({j});
  };
  for (int i = 1; i <= 5; ++i) submit("job-" + std::to_string(i), 1000 * i);
  Finish failed;
  failed.state = JobState::Failed;
  failed.reason = "Error";
  failed.now_ms = 9000;
  store->finish("job-2", failed);

  auto q = parse_list_query({{"order", "newest"}, {"limit", "2"}});
  ASSERT_EQ(q.error, "");
  json page = list_jobs_json(*store, q.filter, "ns");
  ASSERT_EQ(page["items"].size(), 2u);
  EXPECT_EQ(page["items"][0]["id"], "job-5");
  EXPECT_EQ(page["items"][1]["id"], "job-4");
  EXPECT_EQ(page["counts"], json({{"Queued", 4},
                                  {"Submitted", 0},
                                  {"Scheduled", 0},
                                  {"Running", 0},
                                  {"Succeeded", 0},
                                  {"Failed", 1},
                                  {"Cancelled", 0}}));
  EXPECT_EQ(page["total"], 5);
  ASSERT_TRUE(page.contains("continue"));
  submit("job-6", 6000);  // arrives between two pages
  q = parse_list_query({{"order", "newest"}, {"limit", "2"}, {"continue", page["continue"].get<std::string>()}});
  ASSERT_EQ(q.error, "");
  page = list_jobs_json(*store, q.filter, "ns");
  EXPECT_EQ(page["items"][0]["id"], "job-3");
  EXPECT_EQ(page["items"][1]["id"], "job-2");
  EXPECT_EQ(page["items"][1]["state"], "Failed");
  q = parse_list_query({{"order", "newest"}, {"limit", "2"}, {"continue", page["continue"].get<std::string>()}});
  page = list_jobs_json(*store, q.filter, "ns");
  ASSERT_EQ(page["items"].size(), 1u);
  EXPECT_EQ(page["items"][0]["id"], "job-1");
  EXPECT_FALSE(page.contains("continue"));
  EXPECT_EQ(page["total"], 6);

  // A filter narrows the items; the counts keep every state beside it.
  q = parse_list_query({{"states", "Failed"}, {"since", "1970-01-01T00:00:02Z"}});
  page = list_jobs_json(*store, q.filter, "ns");
  ASSERT_EQ(page["items"].size(), 1u);
  EXPECT_EQ(page["items"][0]["id"], "job-2");
  EXPECT_EQ(page["counts"]["Queued"], 4);  // job-3 … job-6
  EXPECT_EQ(page["counts"]["Failed"], 1);
}

}  // namespace
}  // namespace kjq::server

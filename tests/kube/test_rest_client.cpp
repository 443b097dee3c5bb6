// RestClient and ListWatch against a scripted in-process API server (scripted_api_server.hpp).
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

#include "kube/api.hpp"
#include "kube/errors.hpp"
#include "kube/rest_client.hpp"
#include "kube/watch.hpp"
#include "scripted_api_server.hpp"
#include "support/test_support.hpp"

namespace kjq::kube {
namespace {

using nlohmann::json;

RestRequest get(const std::string& path) {
  RestRequest r;
  r.path = path;
  return r;
}

TEST(RestClient, Retries503And429HonouringRetryAfter) {
  ScriptedApiServer s;
  s.script = {{503, "", {{"Retry-After", "0"}}}, {429, "", {}}, {200, R"({"ok":true})", {}}};
  RestClient c(s.config(), fast());
  EXPECT_EQ(c.send(get("/x"), "get x").body, R"({"ok":true})");
  EXPECT_EQ(c.stats().retries.load(), 2);
  s.script = {{503, "", {{"Retry-After", "1"}}}, {200, "{}", {}}};
  const auto start = std::chrono::steady_clock::now();
  c.send(get("/x"), "get x");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(950));
}

TEST(RestClient, RetriesAreBounded) {
  ScriptedApiServer s;
  for (int i = 0; i < 10; ++i)
    s.script.push_back({500, R"({"kind":"Status","reason":"InternalError","message":"boom"})", {}});
  ClientOptions o = fast();
  o.max_retries = 2;
  RestClient c(s.config(), o);
  try {
    c.send(get("/x"), "get x");
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.http_code(), 500);
    EXPECT_EQ(e.message(), "boom");
  }
  EXPECT_EQ(s.seen.size(), 3u);
}

TEST(RestClient, UnsafePostIsNotRetriedButAFixedNameCreateIs) {
  ScriptedApiServer s;
  s.script = {{503, "", {}}, {503, "", {}}, {201, "{}", {}}};
  RestClient c(s.config(), fast());
  RestRequest post;
  post.method = "POST";
  post.path = "/x";
  post.body = "{}";
  EXPECT_THROW(c.send(post, "post"), ApiError);
  EXPECT_EQ(s.seen.size(), 1u);
  post.retry_safe = true;
  EXPECT_EQ(c.send(post, "post").status, 201);
}

TEST(RestClient, RereadsTheTokenFileAfter401AndNeverLeaksIt) {
  ScriptedApiServer s;
  test::TempDir d;
  auto tok = d.write("token", "old-secret\n");
  s.valid_token = "old-secret";
  RestClient c(s.config(tok.string()), fast());
  c.send(get("/x"), "get x");
  // Rotation: the server only accepts the new token; the client still caches the old one.
  d.write("token", "new-secret\n");
  s.valid_token = "new-secret";
  c.send(get("/x"), "get x");
  EXPECT_EQ(c.stats().token_reloads.load(), 1);
  EXPECT_EQ(s.seen.back(), "GET /x Bearer new-secret");
  // A server that echoes the token in its error: redacted.
  s.script = {{403, R"({"kind":"Status","reason":"Forbidden","message":"user with Bearer new-secret denied"})", {}}};
  try {
    c.send(get("/x"), "get x");
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(std::string(e.what()).find("new-secret"), std::string::npos) << e.what();
    EXPECT_TRUE(e.is(ErrorReason::Forbidden));
  }
  // A token that stays invalid: one re-read, then Unauthorized.
  s.valid_token = "other";
  EXPECT_THROW(c.send(get("/x"), "get x"), ApiError);
}

TEST(RestClient, TokenFileIsReReadPeriodically) {
  ScriptedApiServer s;
  test::TempDir d;
  auto tok = d.write("token", "a");
  ClientOptions o = fast();
  o.token_refresh = std::chrono::milliseconds(30);
  RestClient c(s.config(tok.string()), o);
  c.send(get("/x"), "get x");
  d.write("token", "b");
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  c.send(get("/x"), "get x");
  EXPECT_EQ(s.seen.back(), "GET /x Bearer b");
  EXPECT_EQ(c.stats().token_reloads.load(), 0);
}

TEST(RestClient, ConnectionErrorsAreRetriedThenReported) {
  ClusterConfig cfg;
  cfg.server = "http://127.0.0.1:1";
  ClientOptions o = fast();
  o.max_retries = 2;
  RestClient c(cfg, o);
  EXPECT_THROW(c.send(get("/x"), "get x"), TransportError);
  EXPECT_EQ(c.stats().requests.load(), 3);
}

TEST(RestClient, ClientSideRateLimit) {
  ScriptedApiServer s;
  ClientOptions o = fast();
  o.qps = 20;
  o.burst = 1;
  RestClient c(s.config(), o);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 6; ++i) c.send(get("/x"), "get x");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(240));
  EXPECT_GE(c.stats().throttled.load(), 1);
}

TEST(KubeApi, ListFollowsContinueTokensWithSelectors) {
  ScriptedApiServer s;
  s.script = {{200, R"({"metadata":{"resourceVersion":"7","continue":"abc"},"items":[{"metadata":{"name":"a"}}]})", {}},
              {200, R"({"metadata":{"resourceVersion":"8"},"items":[{"metadata":{"name":"b"}}]})", {}}};
  RestClient c(s.config(), fast());
  KubeApi api(c);
  ListOptions o;
  o.label_selector = "kjq.nautobot.com/queue=default";
  auto l = api.list_jobs("ns", o);
  ASSERT_EQ(l.items.size(), 2u);
  EXPECT_EQ(l.resource_version, "7");
  EXPECT_EQ(s.seen[0].substr(0, 38), "GET /apis/batch/v1/namespaces/ns/jobs ");
}

TEST(ListWatch, BookmarksResumeAndRelistOn410) {
  ScriptedApiServer s;
  const std::string list1 =
      R"({"metadata":{"resourceVersion":"10"},"items":[{"metadata":{"name":"a","resourceVersion":"9"}}]})";
  const std::string list2 = R"({"metadata":{"resourceVersion":"30"},"items":[]})";
  s.script = {
      {200, list1, {}},
      // watch from 10: a bookmark, then the stream ends → resume from 15
      {200,
       R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"15"}}})"
       "\n",
       {}},
      // resume from 15: too old
      {200,
       R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})"
       "\n",
       {}},
      {200, list2, {}},
      // watch from 30: HTTP 410 this time
      {410, R"({"kind":"Status","code":410,"reason":"Expired"})", {}},
      {200, list2, {}},
      {200,
       R"({"type":"ADDED","object":{"metadata":{"name":"b","resourceVersion":"31"}}})"
       "\n",
       {}},
  };
  RestClient c(s.config(), fast());
  KubeApi api(c);
  ListWatch lw(api, jobs_resource(), "ns", {});
  int lists = 0;
  std::string added;
  lw.run({[&](const std::vector<json>&) {
            ++lists;
            return true;
          },
          [&](const WatchEvent& e) {
            added = e.object["metadata"]["name"];
            return false;
          }});
  EXPECT_EQ(added, "b");
  EXPECT_EQ(lists, 3);
  EXPECT_EQ(lw.stats().relists, 2);
  EXPECT_EQ(lw.stats().bookmarks, 1);
  EXPECT_EQ(lw.stats().resumes, 1);
  EXPECT_EQ(lw.resource_version(), "31");
  // list (no RV), watch 10, watch 15, list, watch 30, list, watch 30
  EXPECT_EQ(s.versions, (std::vector<std::string>{"10", "15", "30", "30"}));
}

}  // namespace
}  // namespace kjq::kube

// kjq serve against hostile and careless clients, as a real process: pipelining, oversized bodies, deep JSON, a poison
// row stored by an older version, and queue names that try to forge log lines.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "e2e/serve_fixture.hpp"
#include "support/raw_client.hpp"

using namespace kjq::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

class ServeHardeningE2E : public ServeTest {};

TEST_F(ServeHardeningE2E, PipelinedRequestsAllGetAnswers) {
  env.kube().write_queue("default", RuntimeEnv::test_manifest("succeed", 0.1));
  start();
  RawClient c(port);
  ASSERT_TRUE(c.send(raw_post("/api/v1/jobs", R"({"queue":"default","id":"pipe-1"})") +
                     raw_post("/api/v1/jobs", R"({"queue":"default","id":"pipe-2"})") +
                     "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"
                     "GET /api/v1/jobs/pipe-1 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                     ServeEnv::kApiToken + "\r\n\r\n"));
  ASSERT_TRUE(c.read_until(has_answers(4), 5s)) << c.received();
  auto all = answers_in(c.received());
  EXPECT_EQ(all[0].status, 202);
  EXPECT_NE(all[0].body.find("\"id\":\"pipe-1\""), std::string::npos);
  EXPECT_EQ(all[1].status, 202);
  EXPECT_NE(all[1].body.find("\"id\":\"pipe-2\""), std::string::npos);
  EXPECT_EQ(all[2].body, "ok\n");
  EXPECT_EQ(all[3].status, 200);
}

TEST_F(ServeHardeningE2E, OversizedBodiesAreRefusedWithoutStoringAnything) {
  start();
  // Declared 100 MB: refused before a byte of it is read.
  RawClient big(port);
  ASSERT_TRUE(big.send("POST /api/v1/jobs HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                       std::string(ServeEnv::kApiToken) + "\r\nContent-Length: 100000000\r\n\r\n"));
  ASSERT_TRUE(big.read_until(has_answers(1), 2s));
  EXPECT_EQ(answers_in(big.received()).front().status, 413);
  // Chunked: cut off once past 1 MiB, not after 64 MiB.
  RawClient chunked(port);
  ASSERT_TRUE(chunked.send("POST /api/v1/jobs HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                           std::string(ServeEnv::kApiToken) + "\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
  for (int i = 0; i < 17; ++i) ASSERT_TRUE(chunked.send(chunk));  // 1 MiB + 64 KiB, then silence
  ASSERT_TRUE(chunked.read_until(has_answers(1), 3s));
  EXPECT_EQ(answers_in(chunked.received()).front().status, 413);
  ApiReply list = env.request(url, "GET", "/api/v1/jobs");
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(list.body["items"].empty());
}

TEST_F(ServeHardeningE2E, DeepJsonIsRefusedAndServeLivesOn) {
  env.kube().write_queue("default", RuntimeEnv::test_manifest("succeed", 0.1));
  start();
  for (int levels : {60'000, 100'000}) {
    const std::string body = R"({"queue":"default","data":{"x":)" + std::string(static_cast<std::size_t>(levels), '[') +
                             std::string(static_cast<std::size_t>(levels), ']') + "}}";
    Answer a = ask(port, raw_post("/api/v1/jobs", body), 5s);
    EXPECT_EQ(a.status, 400) << levels;
    EXPECT_NE(a.body.find("nested deeper than 100 levels"), std::string::npos) << a.body;
  }
  ApiReply list = env.request(url, "GET", "/api/v1/jobs");
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(list.body["items"].empty());
  ApiReply ok = env.submit(url, {{"queue", "default"}});
  EXPECT_EQ(ok.status, 202);
  EXPECT_EQ(env.wait_for(url, ok.body["id"], {"Succeeded", "Failed"})["state"], "Succeeded");
}

TEST_F(ServeHardeningE2E, APoisonRowIsRecordedFailedOnceNotACrashLoop) {
  env.kube().write_queue("default", RuntimeEnv::test_manifest("succeed", 0.1));
  start();
  serve->stop();
  // A row an older kjq accepted: data nested 60,000 levels deep.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((env.kube().dir() / "serve.db").c_str(), &db), SQLITE_OK);
  const std::string data = "{\"x\":" + std::string(60000, '[') + std::string(60000, ']') + "}";
  const std::string sql =
      "INSERT INTO jobs (id, queue, state, data_json, created_ms, updated_ms) VALUES ('poison-1', 'default', 'Queued', "
      "'" +
      data + "', 1, 1)";
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_close(db);
  start();
  json done = env.wait_for(url, "poison-1", {"Failed", "Succeeded"});
  EXPECT_EQ(done["state"], "Failed");
  EXPECT_EQ(done["reason"], "InvalidData");
  EXPECT_TRUE(done["data"].is_null());
  EXPECT_NE(done.value("dataError", "").find("nested deeper than 100 levels"), std::string::npos) << done;
  EXPECT_TRUE(env.job_creates().empty());
  ApiReply list = env.request(url, "GET", "/api/v1/jobs");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(env.request(url, "GET", "/healthz", nullptr, "").status, 200);
}

TEST_F(ServeHardeningE2E, AQueueNameCannotForgeLogLines) {
  start();  // no values: any safe queue name is taken, and names are checked for the file system only
  ApiReply r = env.submit(url, {{"queue", "evil\nkjq: info: job forged Succeeded\r\xe2\x80\xae"}});
  const std::string err = serve->process().err_so_far();
  EXPECT_EQ(err.find("\nkjq: info: job forged"), std::string::npos) << err;
  if (r.status == 202) {
    EXPECT_TRUE(eventually([&] {
      return serve->process().err_so_far().find("evil\\nkjq: info: job forged") != std::string::npos;
    })) << serve->process().err_so_far();
  } else {
    EXPECT_EQ(r.status, 400) << r.text;
  }
}

}  // namespace

// JobResultWriter against a throwaway PostgreSQL holding Nautobot's tables
// (tests/support/nautobot_schema.sql): each test case runs in its own process and database.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "nautobot/job_result_writer.hpp"
#include "support/nautobot_database_test.hpp"
#include "support/nautobot_schema.hpp"
#include "support/postgres_server.hpp"
#include "support/test_support.hpp"

namespace kjq::nautobot {
namespace {

using test::PostgresServer;

JobEnd failed_job(const std::string& id) {
  JobEnd end;
  end.job_result_id = id;
  end.ended_at = TimePoint(std::chrono::seconds(1782900000)) + std::chrono::microseconds(123456);
  end.reason = "OOMKilled";
  end.exit_code = 137;
  end.message = "container nautobot-job was killed: out of memory";
  end.events = {{"Warning", "BackOff", "Back-off restarting failed container", "pod/nautobot-job-x", std::nullopt},
                {"Normal", "Pulled", "Container image already present", "pod/nautobot-job-x", std::nullopt}};
  end.log_tail = {"Running job", "Processing 10000 devices"};
  return end;  // 6 rows: error, warning, info × 4
}

class JobResultWriterFixture : public test::NautobotDatabaseTest {
 protected:
  std::string sql(const std::string& text) const { return server_->psql(text, db_); }
  std::unique_ptr<JobResultWriter> writer() const {
    return std::make_unique<JobResultWriter>(NautobotDatabase::from_flags(url_));
  }
  std::string insert(const std::string& status) const { return test::insert_job_result(*server_, db_, status); }
  std::string row(const std::string& id) const {
    return sql(
        "SELECT status, date_done, traceback, debug_log_count, success_log_count, info_log_count,"
        " warning_log_count, error_log_count FROM extras_jobresult WHERE id = '" +
        id + "'");
  }
  int log_rows(const std::string& id, const std::string& where = "TRUE") const {
    return std::stoi(sql("SELECT COUNT(*) FROM extras_joblogentry WHERE job_result_id = '" + id + "' AND " + where));
  }
};

class OpenStatus : public JobResultWriterFixture, public ::testing::WithParamInterface<std::string> {};

TEST_P(OpenStatus, IsMarkedFailureWithEvidence) {
  const auto id = insert(GetParam());
  const auto outcome = writer()->write_failure(failed_job(id));
  EXPECT_EQ(outcome.kind, WriteOutcome::Kind::Written);
  EXPECT_EQ(outcome.status, "FAILURE");
  EXPECT_EQ(outcome.log_entries, 6u);
  EXPECT_EQ(
      sql("SELECT status, date_done = '2026-07-01T10:00:00.123456Z' FROM extras_jobresult WHERE id = '" + id + "'"),
      "FAILURE|t\n");
  const auto traceback = sql("SELECT traceback FROM extras_jobresult WHERE id = '" + id + "'");
  EXPECT_EQ(traceback.rfind(kTracebackMarker, 0), 0u) << traceback;
  EXPECT_NE(traceback.find("Reason: OOMKilled\nExit code: 137\nMessage: container nautobot-job"), std::string::npos);
  EXPECT_EQ(log_rows(id), 6);
  EXPECT_EQ(log_rows(id, "grouping = 'kubernetes' AND log_object = '' AND absolute_url = ''"), 6);
  EXPECT_EQ(sql("SELECT log_level, message FROM extras_joblogentry WHERE job_result_id = '" + id +
                "' ORDER BY created LIMIT 2"),
            "error|Kubernetes Job failed: `OOMKilled`, exit code 137: `container nautobot-job was killed: out of "
            "memory`\nwarning|Event Warning `BackOff` on `pod/nautobot-job-x`: `Back-off restarting failed "
            "container`\n");
  EXPECT_EQ(sql("SELECT COUNT(DISTINCT id), COUNT(DISTINCT created), MIN(created) = '2026-07-01T10:00:00.123456Z'"
                " FROM extras_joblogentry"),
            "6|6|t\n");
  // debug, success, info, warning, error
  EXPECT_EQ(sql("SELECT debug_log_count, success_log_count, info_log_count, warning_log_count, error_log_count"
                " FROM extras_jobresult WHERE id = '" +
                id + "'"),
            "0|0|4|1|1\n");
  EXPECT_EQ(writer()->read_status(id), "FAILURE");
}

INSTANTIATE_TEST_SUITE_P(Statuses, OpenStatus, ::testing::Values("PENDING", "RECEIVED", "STARTED", "RETRY"));

class FinalStatus : public JobResultWriterFixture, public ::testing::WithParamInterface<std::string> {};

TEST_P(FinalStatus, IsNeverTouched) {
  const auto id = insert(GetParam());
  test::insert_job_log_entry(*server_, db_, id, "info", "done");
  sql("UPDATE extras_jobresult SET traceback = 'theirs', info_log_count = 1 WHERE id = '" + id + "'");
  const auto before = row(id);
  const auto outcome = writer()->write_failure(failed_job(id));
  EXPECT_EQ(outcome.kind, WriteOutcome::Kind::AlreadyFinal);
  EXPECT_EQ(outcome.status, GetParam());
  EXPECT_FALSE(outcome.written_by_kjq);
  EXPECT_EQ(row(id), before);
  EXPECT_EQ(log_rows(id), 1);
  EXPECT_EQ(writer()->read_status(id), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Statuses, FinalStatus, ::testing::Values("SUCCESS", "FAILURE", "REVOKED"));

TEST_F(JobResultWriterFixture, CountsAreRecomputedFromEveryRowAsNautobotDoes) {
  const auto id = insert("STARTED");
  for (const auto* level : {"debug", "debug", "info", "success", "warning", "failure", "error", "critical"}) {
    test::insert_job_log_entry(*server_, db_, id, level, std::string("a ") + level + " line");
  }
  // Another JobResult's rows count for that one only.
  const auto other = insert("STARTED");
  test::insert_job_log_entry(*server_, db_, other, "error", "not ours");
  ASSERT_EQ(writer()->write_failure(failed_job(id)).kind, WriteOutcome::Kind::Written);
  // failure, error and critical all count as errors (JobResult.count_logs_by_level).
  EXPECT_EQ(sql("SELECT debug_log_count, success_log_count, info_log_count, warning_log_count, error_log_count"
                " FROM extras_jobresult WHERE id = '" +
                id + "'"),
            "2|1|5|2|4\n");
  EXPECT_EQ(sql("SELECT status, error_log_count FROM extras_jobresult WHERE id = '" + other + "'"), "STARTED|\n");
}

TEST_F(JobResultWriterFixture, WritingTwiceWritesOnce) {
  const auto id = insert("PENDING");
  auto w = writer();
  EXPECT_EQ(w->write_failure(failed_job(id)).kind, WriteOutcome::Kind::Written);
  const auto before = row(id);
  const auto again = w->write_failure(failed_job(id));
  EXPECT_EQ(again.kind, WriteOutcome::Kind::AlreadyFinal);
  EXPECT_EQ(again.status, "FAILURE");
  EXPECT_TRUE(again.written_by_kjq);
  EXPECT_EQ(row(id), before);
  EXPECT_EQ(log_rows(id), 6);
}

TEST_F(JobResultWriterFixture, TwoWritersAtOnceWriteOneSetOfRows) {
  constexpr int kJobs = 20;
  std::vector<std::string> ids;
  for (int i = 0; i < kJobs; ++i) ids.push_back(insert(i % 2 ? "STARTED" : "PENDING"));
  auto first = writer();
  auto second = writer();
  ASSERT_TRUE(first->read_status(ids[0]).has_value());  // both connected before the race
  ASSERT_TRUE(second->read_status(ids[0]).has_value());
  std::atomic<int> ready{0};
  std::vector<WriteOutcome> a(kJobs), b(kJobs);
  auto race = [&](JobResultWriter& w, std::vector<WriteOutcome>& out) {
    ++ready;
    while (ready.load() < 2) std::this_thread::yield();
    for (int i = 0; i < kJobs; ++i) out[i] = w.write_failure(failed_job(ids[i]));
  };
  std::thread t1(race, std::ref(*first), std::ref(a));
  std::thread t2(race, std::ref(*second), std::ref(b));
  t1.join();
  t2.join();
  for (int i = 0; i < kJobs; ++i) {
    const int written = (a[i].kind == WriteOutcome::Kind::Written) + (b[i].kind == WriteOutcome::Kind::Written);
    EXPECT_EQ(written, 1) << ids[i];
    const auto& loser = a[i].kind == WriteOutcome::Kind::Written ? b[i] : a[i];
    EXPECT_EQ(loser.kind, WriteOutcome::Kind::AlreadyFinal);
    EXPECT_TRUE(loser.written_by_kjq);
    EXPECT_EQ(log_rows(ids[i]), 6) << ids[i];
  }
}

TEST_F(JobResultWriterFixture, UnknownJobResultIsNotFound) {
  auto w = writer();
  const auto id = test::random_uuid();
  EXPECT_EQ(w->write_failure(failed_job(id)).kind, WriteOutcome::Kind::NotFound);
  EXPECT_FALSE(w->read_status(id).has_value());
  EXPECT_EQ(sql("SELECT COUNT(*) FROM extras_joblogentry"), "0\n");
  try {
    w->write_failure(failed_job("'; DROP TABLE extras_jobresult; --"));
    FAIL() << "an id that is not a uuid was accepted";
  } catch (const NautobotDbError& e) {
    EXPECT_FALSE(e.retryable());
    EXPECT_NE(std::string(e.what()).find("not a uuid"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(w->read_status("not-a-uuid").has_value());
}

TEST_F(JobResultWriterFixture, HostileTextIsStoredSafelyAndBounded) {
  const auto id = insert("STARTED");
  auto end = failed_job(id);
  end.message = std::string("it's \"quoted\"'); DROP TABLE extras_jobresult; --") + std::string(1, '\0') +
                " \xff\xfe end" + std::string(1 << 20, 'x');
  end.events.push_back({"Warning", "Evil\x1b[2J", std::string("nul\0byte", 8), "pod/`x`", std::nullopt});
  end.log_tail = {std::string("\xc3\x28 invalid \0 utf-8", 18), "```` fences ````", "<script>alert(1)</script>"};
  ASSERT_EQ(writer()->write_failure(end).kind, WriteOutcome::Kind::Written);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM extras_jobresult"), "1\n");
  EXPECT_EQ(sql("SELECT MAX(octet_length(message)) <= " + std::to_string(kMaxMessageBytes) +
                ", octet_length((SELECT traceback FROM extras_jobresult)) <= " + std::to_string(kMaxTracebackBytes) +
                " FROM extras_joblogentry"),
            "t|t\n");
  const auto summary = sql("SELECT message FROM extras_joblogentry WHERE log_level = 'error'");
  EXPECT_NE(summary.find("`it's \"quoted\"'); DROP TABLE extras_jobresult; -- \xEF\xBF\xBD\xEF\xBF\xBD endxxx"),
            std::string::npos)
      << summary.substr(0, 200);
  EXPECT_NE(summary.find(" bytes cut]"), std::string::npos);
  EXPECT_EQ(sql("SELECT message FROM extras_joblogentry WHERE log_level = 'warning' ORDER BY created OFFSET 1"),
            "Event Warning `Evil` on `` pod/`x` ``: `nulbyte`\n");
  EXPECT_EQ(sql("SELECT message FROM extras_joblogentry ORDER BY created DESC LIMIT 3"),
            "`<script>alert(1)</script>`\n`'''' fences ''''`\n`\xEF\xBF\xBD( invalid  utf-8`\n");
}

TEST_F(JobResultWriterFixture, EverythingOrNothing) {
  const auto id = insert("STARTED");
  // A row the log insert cannot write: the status update goes back with it.
  sql("ALTER TABLE extras_joblogentry ADD CONSTRAINT no_kubernetes CHECK (grouping <> 'kubernetes')");
  auto w = writer();
  try {
    w->write_failure(failed_job(id));
    FAIL() << "the insert should have failed";
  } catch (const NautobotDbError& e) {
    EXPECT_FALSE(e.retryable());
    EXPECT_EQ(e.sqlstate(), "23514");
  }
  EXPECT_EQ(sql("SELECT status, date_done, traceback FROM extras_jobresult WHERE id = '" + id + "'"), "STARTED||\n");
  EXPECT_EQ(log_rows(id), 0);
  // The writer's connection is usable again (the transaction was rolled back).
  sql("ALTER TABLE extras_joblogentry DROP CONSTRAINT no_kubernetes");
  EXPECT_EQ(w->write_failure(failed_job(id)).kind, WriteOutcome::Kind::Written);
}

TEST_F(JobResultWriterFixture, SchemaCheck) {
  EXPECT_NO_THROW(writer()->check_schema());
  const auto id = insert("STARTED");
  sql("ALTER TABLE extras_jobresult DROP COLUMN error_log_count");
  try {
    writer()->check_schema();
    FAIL() << "a missing column passed the check";
  } catch (const SchemaError& e) {
    EXPECT_FALSE(e.retryable());
    EXPECT_NE(std::string(e.what()).find("missing extras_jobresult.error_log_count"), std::string::npos) << e.what();
  }
  try {
    writer()->write_failure(failed_job(id));
    FAIL() << "a missing column was written";
  } catch (const SchemaError& e) {
    EXPECT_EQ(e.sqlstate(), "42703");
    EXPECT_NE(std::string(e.what()).find("error_log_count"), std::string::npos) << e.what();
  }
  EXPECT_EQ(sql("SELECT status FROM extras_jobresult"), "STARTED\n");
  const auto empty = server_->create_database();
  try {
    JobResultWriter(NautobotDatabase::from_flags(empty)).check_schema();
    FAIL() << "an empty database passed the check";
  } catch (const SchemaError& e) {
    EXPECT_NE(std::string(e.what()).find("table extras_jobresult, table extras_joblogentry"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(JobResultWriter(NautobotDatabase::from_flags(empty)).write_failure(failed_job(id)), SchemaError);
}

TEST(JobResultWriterDown, UnreachableDatabaseIsRetryable) {
  KJQ_REQUIRE_POSTGRES();
  auto server = std::make_unique<PostgresServer>();
  const auto url = test::create_nautobot_database(*server);
  const auto id = test::insert_job_result(*server, test::database_name(url), "STARTED");
  JobResultWriter writer(NautobotDatabase::from_flags(url));
  ASSERT_EQ(writer.read_status(id), "STARTED");
  server.reset();  // the database goes away under a connected writer
  try {
    writer.write_failure(failed_job(id));
    FAIL() << "a write to a stopped server succeeded";
  } catch (const RetryableError& e) {
    EXPECT_TRUE(e.retryable());
  }
  // And a writer that never got a connection.
  try {
    JobResultWriter(NautobotDatabase::from_flags(url)).write_failure(failed_job(id));
    FAIL() << "a write to a stopped server succeeded";
  } catch (const RetryableError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
  }
  EXPECT_THROW(writer.read_status(id), RetryableError);
}

// A server that asks for passwords: pg_hba.conf rewritten (the superuser may write files as the
// server's user) to trust only the test's own psql user.
class Password : public ::testing::Test {
 protected:
  void SetUp() override {
    KJQ_REQUIRE_POSTGRES();
    server_ = std::make_unique<PostgresServer>();
    url_ = test::create_nautobot_database(*server_);
    const auto db = test::database_name(url_);
    id_ = test::insert_job_result(*server_, db, "STARTED");
    server_->psql(
        "CREATE ROLE nbwriter LOGIN PASSWORD 'Corr3ct-Horse'; GRANT ALL ON ALL TABLES IN SCHEMA public TO nbwriter",
        db);
    const auto data = server_->psql("SHOW data_directory");
    const auto hba = data.substr(0, data.find('\n')) + "/pg_hba.conf";
    server_->psql(
        "COPY (VALUES ('host all kjq 127.0.0.1/32 trust'), ('local all kjq trust'),"
        " ('host all all 127.0.0.1/32 scram-sha-256')) TO " +
        test::sql_literal(hba));
    server_->psql("SELECT pg_reload_conf()");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    writer_url_ = "postgresql://nbwriter@127.0.0.1:" + std::to_string(server_->port()) + "/" + db;
  }

  std::unique_ptr<PostgresServer> server_;
  std::string url_, writer_url_, id_;
  test::TempDir dir_;
};

TEST_F(Password, WrongPasswordIsRetryableAndNeverQuoted) {
  const auto file = dir_.write("password", "Wr0ng-Battery\n").string();
  try {
    JobResultWriter(NautobotDatabase::from_flags(writer_url_, file)).write_failure(failed_job(id_));
    FAIL() << "a wrong password was accepted";
  } catch (const RetryableError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("password authentication failed"), std::string::npos) << message;
    EXPECT_EQ(message.find("Wr0ng"), std::string::npos) << message;
    EXPECT_EQ(message.find("Corr3ct"), std::string::npos) << message;
  }
  EXPECT_EQ(server_->psql("SELECT status FROM extras_jobresult", test::database_name(url_)), "STARTED\n");
}

TEST_F(Password, PasswordFileIsReadAgainForEachConnection) {
  const auto file = dir_.write("password", "Wr0ng-Battery\n").string();
  JobResultWriter writer(NautobotDatabase::from_flags(writer_url_, file));
  EXPECT_THROW(writer.read_status(id_), RetryableError);
  dir_.write("password", "Corr3ct-Horse\n");  // the Secret was rotated: no restart needed
  EXPECT_EQ(writer.read_status(id_), "STARTED");
  EXPECT_EQ(writer.write_failure(failed_job(id_)).kind, WriteOutcome::Kind::Written);
  // A password file gone missing is one more reason to retry later, not a crash.
  std::filesystem::remove(file);
  NautobotDatabase without_file;
  without_file.url = writer_url_;
  without_file.password_file = file;
  try {
    JobResultWriter(without_file).read_status(id_);
    FAIL() << "connected without the password file";
  } catch (const RetryableError& e) {
    EXPECT_NE(std::string(e.what()).find("--nautobot-database-password-file"), std::string::npos) << e.what();
  }
  // No password at all: libpq finds none, the server refuses, retryable.
  EXPECT_THROW(JobResultWriter(NautobotDatabase::from_flags(writer_url_)).read_status(id_), RetryableError);
}

TEST_F(Password, PgpasswordIsUsedWhenNoFileIsGiven) {
  ::setenv("PGPASSWORD", "Corr3ct-Horse", 1);
  JobResultWriter writer(NautobotDatabase::from_flags(writer_url_));
  EXPECT_EQ(writer.read_status(id_), "STARTED");
  ::setenv("PGPASSWORD", "Wr0ng-Battery", 1);
  try {
    JobResultWriter(NautobotDatabase::from_flags(writer_url_)).read_status(id_);
    FAIL() << "a wrong PGPASSWORD was accepted";
  } catch (const RetryableError& e) {
    EXPECT_EQ(std::string(e.what()).find("Wr0ng"), std::string::npos) << e.what();
  }
  ::unsetenv("PGPASSWORD");
}

}  // namespace
}  // namespace kjq::nautobot

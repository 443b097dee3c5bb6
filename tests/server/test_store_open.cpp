// open_store's URL handling and redact_store_url: no error ever shows a password.
#include <gtest/gtest.h>

#include <filesystem>

#include "server/store/job_store.hpp"
#include "support/test_support.hpp"
#include "util/diagnostic.hpp"

namespace kjq::server {
namespace {

TEST(StoreOpen, RejectsAnUnknownSchemeNamingTheFlag) {
  try {
    open_store("mysql://x");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].path, "--store");
    EXPECT_NE(std::string(e.what()).find("--store"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sqlite:PATH"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("mysql://x"), std::string::npos) << e.what();
  }
  EXPECT_THROW(open_store(""), InputError);
  EXPECT_THROW(open_store("/var/lib/kjq/jobs.db"), InputError);
  EXPECT_THROW(open_store("sqlite:"), InputError);
  EXPECT_THROW(open_store("sqlite://"), InputError);
}

TEST(StoreOpen, ARejectedUrlIsQuotedWithoutItsPassword) {
  try {
    open_store("mysql://admin:hunter2@db/jobs");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("admin:***@db"), std::string::npos) << e.what();
  }
}

TEST(StoreOpen, AnUnreachablePostgresFailsWithoutShowingThePassword) {
  for (const std::string url :
       {"postgresql://user:secret@127.0.0.1:1/db", "postgres://user@127.0.0.1:1/db?password=secret"}) {
    try {
      open_store(url);
      FAIL() << "expected a RuntimeError for " << redact_store_url(url);
    } catch (const RuntimeError& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.find("secret"), std::string::npos) << message;
      EXPECT_NE(message.find("127.0.0.1"), std::string::npos) << message;
      EXPECT_NE(message.find("***"), std::string::npos) << message;
    }
  }
}

TEST(StoreOpen, SqliteAcceptsBothSpellingsAndCreatesTheFile) {
  test::TempDir dir;
  const auto plain = dir.path() / "plain.db";
  const auto slashed = dir.path() / "slashed.db";
  EXPECT_EQ(open_store("sqlite:" + plain.string())->schema_version(), 5);
  EXPECT_EQ(open_store("sqlite://" + slashed.string())->schema_version(), 5);
  EXPECT_TRUE(std::filesystem::exists(plain));
  EXPECT_TRUE(std::filesystem::exists(slashed));
}

TEST(StoreOpen, AnUnopenableSqliteFileIsARuntimeErrorNamingIt) {
  test::TempDir dir;
  const auto path = dir.path() / "no-such-dir" / "jobs.db";
  try {
    open_store("sqlite:" + path.string());
    FAIL() << "expected a RuntimeError";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST(StoreRedact, ReplacesEveryPasswordAndNothingElse) {
  EXPECT_EQ(redact_store_url("postgresql://kjq:s3cret@db.example:5432/jobs"),
            "postgresql://kjq:***@db.example:5432/jobs");
  EXPECT_EQ(redact_store_url("postgres://kjq:p@ss:w0rd@db/jobs"), "postgres://kjq:***@db/jobs");
  EXPECT_EQ(redact_store_url("postgresql://kjq:@db/jobs"), "postgresql://kjq:***@db/jobs");
  EXPECT_EQ(redact_store_url("postgresql://kjq@db/jobs"), "postgresql://kjq@db/jobs");
  EXPECT_EQ(redact_store_url("postgresql://db:5432/jobs"), "postgresql://db:5432/jobs");
  EXPECT_EQ(redact_store_url("postgresql://db/jobs?sslmode=require&password=x&user=kjq"),
            "postgresql://db/jobs?sslmode=require&password=***&user=kjq");
  EXPECT_EQ(redact_store_url("postgresql://u:a@db/jobs?password=b"), "postgresql://u:***@db/jobs?password=***");
  EXPECT_EQ(redact_store_url("sqlite:/var/lib/kjq/jobs.db"), "sqlite:/var/lib/kjq/jobs.db");
  EXPECT_EQ(redact_store_url("sqlite:///var/lib/kjq/jobs.db"), "sqlite:///var/lib/kjq/jobs.db");
}

}  // namespace
}  // namespace kjq::server

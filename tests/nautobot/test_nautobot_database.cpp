#include <gtest/gtest.h>

#include <string>

#include "nautobot/nautobot_database.hpp"
#include "support/test_support.hpp"
#include "util/diagnostic.hpp"

namespace kjq::nautobot {
namespace {

// The message of the InputError `url` is refused with ("" when accepted).
std::string refusal(const std::string& url, const std::string& password_file = {}) {
  try {
    NautobotDatabase::from_flags(url, password_file);
  } catch (const InputError& e) {
    return e.what();
  }
  return {};
}

TEST(NautobotDatabase, MysqlUrlIsRefusedNamingTheFlag) {
  const auto message = refusal("mysql://nautobot:hunter2@db:3306/nautobot");
  EXPECT_NE(message.find("--nautobot-database"), std::string::npos) << message;
  EXPECT_NE(message.find("only PostgreSQL is supported"), std::string::npos) << message;
  EXPECT_NE(message.find("mysql://"), std::string::npos) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
}

TEST(NautobotDatabase, OtherSchemesAreRefused) {
  for (const auto* url : {"sqlite:/var/lib/nautobot.db", "http://db/nautobot", "nautobot:hunter2@db/nautobot",
                          "mariadb://db/nautobot", ""}) {
    const auto message = refusal(url);
    EXPECT_NE(message.find("--nautobot-database"), std::string::npos) << url << ": " << message;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  }
  EXPECT_NE(refusal("sqlite:/x").find("only PostgreSQL is supported"), std::string::npos);
}

TEST(NautobotDatabase, UrlWithPasswordIsRefusedWithoutEchoingIt) {
  for (const auto* url :
       {"postgresql://nautobot:hunter2@db:5432/nautobot", "postgres://nautobot:hunter2@db/nautobot",
        "postgresql://nautobot@db/nautobot?password=hunter2", "postgresql://nautobot:hunter%32@db/nautobot"}) {
    const auto message = refusal(url);
    EXPECT_NE(message.find("contains a password"), std::string::npos) << url << ": " << message;
    EXPECT_NE(message.find("--nautobot-database-password-file"), std::string::npos) << message;
    EXPECT_EQ(message.find("hunter"), std::string::npos) << message;
  }
}

TEST(NautobotDatabase, PostgresqlUrlsAreAccepted) {
  const auto db = NautobotDatabase::from_flags("postgresql://nautobot@db.example:5432/nautobot?sslmode=require");
  EXPECT_EQ(db.display_name(), "db.example:5432/nautobot as nautobot");
  EXPECT_EQ(refusal("postgres://nautobot@db/nautobot"), "");
  EXPECT_EQ(refusal("PostgreSQL://nautobot@db/nautobot"), "");
  EXPECT_EQ(NautobotDatabase::from_flags("postgresql:///nautobot").display_name(), "localhost/nautobot");
}

TEST(NautobotDatabase, MalformedPostgresqlUrlIsRefused) {
  const auto message = refusal("postgresql://nautobot@db/nautobot?nonsense=1");
  EXPECT_NE(message.find("not a valid PostgreSQL URL"), std::string::npos) << message;
}

TEST(NautobotDatabase, PasswordFileLosesOneTrailingNewline) {
  test::TempDir dir;
  EXPECT_EQ(read_password_file(dir.write("a", "s3cret\n").string()), "s3cret");
  EXPECT_EQ(read_password_file(dir.write("b", "s3cret\r\n").string()), "s3cret");
  EXPECT_EQ(read_password_file(dir.write("c", "s3cret").string()), "s3cret");
  EXPECT_EQ(read_password_file(dir.write("d", " s3 cret \n\n").string()), " s3 cret \n");
  const auto db = NautobotDatabase::from_flags("postgresql://nautobot@db/nautobot", dir.write("e", "x\n").string());
  EXPECT_EQ(db.password_file, (dir.path() / "e").string());
}

TEST(NautobotDatabase, BadPasswordFilesAreRefusedNamingFlagAndFile) {
  test::TempDir dir;
  const auto missing = (dir.path() / "missing").string();
  auto message = refusal("postgresql://nautobot@db/nautobot", missing);
  EXPECT_NE(message.find("--nautobot-database-password-file"), std::string::npos) << message;
  EXPECT_NE(message.find(missing), std::string::npos) << message;
  message = refusal("postgresql://nautobot@db/nautobot", dir.write("empty", "\n").string());
  EXPECT_NE(message.find("is empty"), std::string::npos) << message;
  message = refusal("postgresql://nautobot@db/nautobot", dir.path().string());
  EXPECT_NE(message.find("--nautobot-database-password-file"), std::string::npos) << message;
}

}  // namespace
}  // namespace kjq::nautobot

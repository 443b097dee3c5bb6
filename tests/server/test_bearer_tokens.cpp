// The API's bearer token (--api-token-file): read at start, compared exactly, re-read when the
// file's modification time changes, never part of an error message.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "server/bearer_tokens.hpp"
#include "support/test_support.hpp"
#include "util/diagnostic.hpp"

namespace {

using kjq::server::BearerTokens;
namespace fs = std::filesystem;

// Rewrites the token file and moves its modification time by `shift` from the previous one, so a
// change is visible whatever the file system's timestamp granularity.
void rotate(const fs::path& file, const std::string& content, std::chrono::seconds shift = std::chrono::seconds(10)) {
  const auto before = fs::last_write_time(file);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
  fs::last_write_time(file, before + shift);
}

// The message of the InputError `make` throws (empty when it throws none).
template <class F>
std::string input_error_of(F make) {
  try {
    make();
  } catch (const kjq::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(BearerTokens, AMissingFileIsAnInputErrorNamingTheFlag) {
  kjq::test::TempDir dir;
  const fs::path file = dir.path() / "no-such-token";
  const std::string e = input_error_of([&] { BearerTokens t(file); });
  EXPECT_NE(e.find("--api-token-file"), std::string::npos) << e;
  EXPECT_NE(e.find(file.string()), std::string::npos) << e;
}

TEST(BearerTokens, AnEmptyFileIsAnInputErrorNamingTheFlag) {
  kjq::test::TempDir dir;
  for (const char* content : {"", "\n", "  \t \r\n"}) {
    const fs::path file = dir.write("token", content);
    const std::string e = input_error_of([&] { BearerTokens t(file); });
    EXPECT_NE(e.find("--api-token-file"), std::string::npos) << "content \"" << content << "\": " << e;
    EXPECT_NE(e.find("empty"), std::string::npos) << e;
  }
}

TEST(BearerTokens, ADirectoryIsAnInputError) {
  kjq::test::TempDir dir;
  const std::string e = input_error_of([&] { BearerTokens t(dir.path()); });
  EXPECT_NE(e.find("--api-token-file"), std::string::npos) << e;
}

TEST(BearerTokens, TheExactTokenIsAccepted) {
  kjq::test::TempDir dir;
  BearerTokens tokens(dir.write("token", "  s3cret-Token.42 \n"));  // surrounding blanks are not part of it
  EXPECT_TRUE(tokens.allows("Bearer s3cret-Token.42"));
  // The scheme is case-insensitive (RFC 9110 §11.1); the token is not.
  EXPECT_TRUE(tokens.allows("bearer s3cret-Token.42"));
  EXPECT_TRUE(tokens.allows("BEARER s3cret-Token.42"));
  EXPECT_TRUE(tokens.allows("BeArEr s3cret-Token.42"));
}

TEST(BearerTokens, AnythingButTheTokenIsRefused) {
  kjq::test::TempDir dir;
  BearerTokens tokens(dir.write("token", "s3cret-Token.42\n"));
  for (const std::string header : {
           "Bearer wrong",
           "Bearer s3cret-Token.4",    // a prefix of the token
           "Bearer s3cret",            // a shorter prefix
           "Bearer s3cret-Token.42x",  // the token and more
           "Bearer s3cret-Token.42 ",  // trailing blank
           "Bearer  s3cret-Token.42",  // two spaces
           "Bearer S3CRET-TOKEN.42",   // the token is case-sensitive
           "",
           "Bearer",
           "Bearer ",
           "s3cret-Token.42",  // no scheme
           "Bearers3cret-Token.42",
           " Bearer s3cret-Token.42",
           "Basic s3cret-Token.42",
           "Basic x",
           "Token s3cret-Token.42",
       })
    EXPECT_FALSE(tokens.allows(header)) << "\"" << header << "\"";
  EXPECT_TRUE(tokens.allows("Bearer s3cret-Token.42"));  // and the right one still works
}

TEST(BearerTokens, ARotatedTokenReplacesTheOldOne) {
  kjq::test::TempDir dir;
  const fs::path file = dir.write("token", "first-token\n");
  BearerTokens tokens(file);
  ASSERT_TRUE(tokens.allows("Bearer first-token"));

  rotate(file, "second-token\n");
  EXPECT_TRUE(tokens.allows("Bearer second-token"));
  EXPECT_FALSE(tokens.allows("Bearer first-token"));

  // A modification time that goes backwards is a change too (a Secret mount swaps in older files).
  rotate(file, "third-token\n", std::chrono::seconds(-3600));
  EXPECT_FALSE(tokens.allows("Bearer second-token"));
  EXPECT_TRUE(tokens.allows("Bearer third-token"));
}

TEST(BearerTokens, TheOldTokenStopsWorkingAtOnceEvenWhenOnlyItWasAsked) {
  kjq::test::TempDir dir;
  const fs::path file = dir.write("token", "first-token\n");
  BearerTokens tokens(file);
  rotate(file, "second-token\n");
  EXPECT_FALSE(tokens.allows("Bearer first-token"));  // the first request after the rotation re-reads
  EXPECT_TRUE(tokens.allows("Bearer second-token"));
}

TEST(BearerTokens, AnEmptyOrMissingFileKeepsThePreviousToken) {
  kjq::test::TempDir dir;
  const fs::path file = dir.write("token", "kept-token\n");
  BearerTokens tokens(file);

  rotate(file, "\n");  // emptied mid-rotation
  EXPECT_TRUE(tokens.allows("Bearer kept-token"));
  EXPECT_FALSE(tokens.allows("Bearer "));

  fs::remove(file);
  EXPECT_TRUE(tokens.allows("Bearer kept-token"));

  // Once the file is back with a token, that token is the one.
  std::ofstream(file) << "new-token\n";
  fs::last_write_time(file, fs::file_time_type::clock::now() + std::chrono::hours(1));
  EXPECT_TRUE(tokens.allows("Bearer new-token"));
  EXPECT_FALSE(tokens.allows("Bearer kept-token"));
}

TEST(BearerTokens, ErrorMessagesNeverContainTheToken) {
  kjq::test::TempDir dir;
  // Too large to be a token file: refused, and the message must not quote the content.
  const std::string secret = "TOPSECRET-" + std::string(70 * 1024, 'z');
  const std::string e = input_error_of([&] { BearerTokens t(dir.write("big", secret)); });
  ASSERT_FALSE(e.empty());
  EXPECT_NE(e.find("--api-token-file"), std::string::npos) << e.substr(0, 300);
  EXPECT_EQ(e.find("TOPSECRET"), std::string::npos) << e.substr(0, 300);
  EXPECT_EQ(e.find("zzzz"), std::string::npos) << e.substr(0, 300);

  // A token file that is unreadable by permissions (skipped as root, who reads anything).
  const fs::path locked = dir.write("locked", "LOCKED-SECRET\n");
  fs::permissions(locked, fs::perms::none);
  std::string e2 = input_error_of([&] { BearerTokens t(locked); });
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_write);
  if (!e2.empty()) {
    EXPECT_EQ(e2.find("LOCKED-SECRET"), std::string::npos) << e2;
    EXPECT_NE(e2.find("--api-token-file"), std::string::npos) << e2;
  }
}

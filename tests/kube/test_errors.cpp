#include <gtest/gtest.h>

#include "kube/errors.hpp"
#include "kube/rate_limiter.hpp"
#include "kube/token_source.hpp"
#include "support/test_support.hpp"

namespace kjq::kube {
namespace {

TEST(StatusErrors, DecodesReasonMessageAndCauses) {
  const std::string body =
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"Job.batch \"x\" is invalid",
    "reason":"Invalid","details":{"name":"x","kind":"Job","causes":[{"reason":"FieldValueRequired",
    "message":"Required value","field":"spec.template.spec.containers"}]},"code":422})";
  ApiError e = decode_status_error(422, body, "create job x in namespace default");
  EXPECT_TRUE(e.is(ErrorReason::Invalid));
  EXPECT_EQ(e.http_code(), 422);
  ASSERT_EQ(e.causes().size(), 1u);
  EXPECT_EQ(e.causes()[0].field, "spec.template.spec.containers");
  EXPECT_STREQ(e.what(),
               "create job x in namespace default: Invalid (HTTP 422): Job.batch \"x\" is invalid\n"
               "  - spec.template.spec.containers: Required value");
}

TEST(StatusErrors, ClassifiesByCodeWhenTheBodyIsNotAStatus) {
  EXPECT_TRUE(decode_status_error(409, "", "x").is(ErrorReason::Conflict));
  EXPECT_TRUE(decode_status_error(410, "", "x").is(ErrorReason::Gone));
  EXPECT_TRUE(decode_status_error(502, "<html>bad gateway</html>", "x").is(ErrorReason::ServerError));
  EXPECT_TRUE(
      decode_status_error(409, R"({"kind":"Status","reason":"AlreadyExists"})", "x").is(ErrorReason::AlreadyExists));
  auto f = decode_status_error(403, R"({"kind":"Status","reason":"Forbidden","message":"no"})", "x");
  EXPECT_NE(std::string(f.what()).find("hint"), std::string::npos);
}

TEST(StatusErrors, RedactRemovesEveryOccurrence) {
  EXPECT_EQ(redact("a secret and secret", "secret"), "a <redacted> and <redacted>");
  EXPECT_EQ(redact("nothing", ""), "nothing");
}

TEST(TokenSource, RereadsAfterRefreshAndAfterInvalidate) {
  test::TempDir d;
  auto f = d.write("token", " first\n");
  TokenSource t = TokenSource::from_file(f.string(), std::chrono::milliseconds(50));
  EXPECT_EQ(t.token(), "first");
  d.write("token", "second\n");
  EXPECT_EQ(t.token(), "first");  // cached
  t.invalidate();
  EXPECT_EQ(t.token(), "second");
  d.write("token", "third");
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(t.token(), "third");
  d.write("token", "");  // mid-rotation: keep the last good one
  t.invalidate();
  EXPECT_EQ(t.token(), "third");
  TokenSource missing = TokenSource::from_file((d.path() / "absent").string());
  EXPECT_THROW(missing.token(), RuntimeError);
  EXPECT_EQ(TokenSource::fixed("x").token(), "x");
}

TEST(RateLimiter, BurstThenQps) {
  RateLimiter r(50, 3);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r.acquire().count(), 0);  // the burst
  for (int i = 0; i < 5; ++i) r.acquire();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(90));  // 5 tokens at 50/s = 100 ms
  EXPECT_LT(took, std::chrono::milliseconds(400));
  RateLimiter off(0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(off.acquire().count(), 0);
}

}  // namespace
}  // namespace kjq::kube

#include "util/base64.hpp"

#include <gtest/gtest.h>

namespace kjq {
namespace {

TEST(Base64, StandardRoundTripsEveryLength) {
  const std::string bytes("\x00\xff\x10kjq\x80 binary\xfe", 14);
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    const std::string part = bytes.substr(0, n);
    const std::string text = base64_encode(part);
    EXPECT_EQ(text.size() % 4, 0u);
    EXPECT_EQ(base64_decode(text), part) << text;
    EXPECT_EQ(base64_decode(base64_encode(part, Base64::UrlUnpadded), Base64::UrlUnpadded), part);
  }
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_EQ(base64_encode("\xfb\xff", Base64::UrlUnpadded), "-_8");
}

TEST(Base64, StandardNeedsPaddingAndItsOwnAlphabetLikeGo) {
  EXPECT_EQ(base64_decode("aGVs\nbG8=\r\n"), std::string("hello"));  // CR and LF skipped
  EXPECT_EQ(base64_decode("aGVsbG8"), std::nullopt);                 // padding missing
  EXPECT_EQ(base64_decode("aGVs=G8="), std::nullopt);                // padding inside
  EXPECT_EQ(base64_decode("aGVs bG8="), std::nullopt);               // a space
  EXPECT_EQ(base64_decode("-_8="), std::nullopt);                    // URL alphabet
  EXPECT_EQ(base64_decode("a==="), std::nullopt);
}

TEST(Base64, UrlUnpaddedRefusesWhatCannotBeBytes) {
  EXPECT_EQ(base64_decode("-_8", Base64::UrlUnpadded), std::string("\xfb\xff"));
  EXPECT_EQ(base64_decode("abcde", Base64::UrlUnpadded), std::nullopt);  // 5 characters: 3.75 bytes
  EXPECT_EQ(base64_decode("ab+/", Base64::UrlUnpadded), std::nullopt);
}

}  // namespace
}  // namespace kjq

#include "util/display_text.hpp"

#include <gtest/gtest.h>

namespace kjq {
namespace {

TEST(DisplayText, PlainTextAndUtf8PassUnchanged) {
  EXPECT_EQ(display_text("queue-a: ok"), "queue-a: ok");
  EXPECT_EQ(display_text("Zürich \xe2\x9c\x93 \xf0\x9f\x98\x80"), "Zürich \xe2\x9c\x93 \xf0\x9f\x98\x80");
}

TEST(DisplayText, ControlCharactersCannotForgeLines) {
  EXPECT_EQ(display_text("a\nkjq: info: forged\r\tb"), "a\\nkjq: info: forged\\r\\tb");
  EXPECT_EQ(display_text(std::string("nul\0esc\x1b[2J del\x7f", 16)), "nul\\x00esc\\x1b[2J del\\x7f");
}

TEST(DisplayText, NewlinesCanBeKeptForMultiLineMessages) {
  EXPECT_EQ(display_text("one\ntwo\r", Newlines::Keep), "one\ntwo\\r");
}

TEST(DisplayText, BidiOverridesAndC1ControlsAreEscaped) {
  EXPECT_EQ(display_text("abc\xe2\x80\xae"
                         "fdp.exe"),
            "abc\\u202efdp.exe");
  EXPECT_EQ(display_text("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");
  EXPECT_EQ(display_text("\xc2\x85"), "\\u0085");
  EXPECT_EQ(display_text("a\xe2\x80\xa8"
                         "b"),
            "a\\u2028b");
}

TEST(DisplayText, BytesThatAreNotUtf8AreShownAsHex) {
  EXPECT_EQ(display_text("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(display_text("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(display_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(display_text("ok\xe2\x82"), "ok\\xe2\\x82");       // cut short
}

}  // namespace
}  // namespace kjq

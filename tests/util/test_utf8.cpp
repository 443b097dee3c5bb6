// The one UTF-8 decoder (util/utf8.hpp): Go's rules, checked at every boundary of each sequence
// length. The writers and readers that use it have their own tests of what they do with bad bytes.
#include "util/utf8.hpp"

#include <gtest/gtest.h>

namespace kjq::utf8 {
namespace {

TEST(Utf8, DecodesEachSequenceLength) {
  EXPECT_EQ(decode("a", 0).code_point, U'a');
  EXPECT_EQ(decode("a", 0).length, 1U);
  EXPECT_EQ(decode("\xc3\xa9", 0).code_point, U'\u00e9');
  EXPECT_EQ(decode("\xc3\xa9", 0).length, 2U);
  EXPECT_EQ(decode("\xe2\x80\xa8", 0).code_point, U'\u2028');
  EXPECT_EQ(decode("\xe2\x80\xa8", 0).length, 3U);
  EXPECT_EQ(decode("\xf0\x9f\x98\x80", 0).code_point, U'\U0001f600');
  EXPECT_EQ(decode("\xf0\x9f\x98\x80", 0).length, 4U);
  EXPECT_EQ(decode("x\xc3\xa9", 1).code_point, U'\u00e9');
}

TEST(Utf8, AcceptsTheEdgesOfEachRange) {
  for (const std::string_view s : {"\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
                                   "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf"}) {
    EXPECT_EQ(sequence_length(s, 0), s.size()) << testing::PrintToString(std::string(s));
    EXPECT_TRUE(is_valid(s));
  }
}

TEST(Utf8, RefusesOverlongsSurrogatesAndCodePointsPastTheEnd) {
  for (const std::string_view s : {
           "\x80",              // a continuation byte first
           "\xc0\xaf",          // overlong '/'
           "\xc1\xbf",          // overlong
           "\xe0\x9f\xbf",      // overlong three-byte form
           "\xed\xa0\x80",      // U+D800, a surrogate
           "\xed\xbf\xbf",      // U+DFFF
           "\xf0\x8f\xbf\xbf",  // overlong four-byte form
           "\xf4\x90\x80\x80",  // U+110000
           "\xf5\x80\x80\x80",  // no such lead byte
           "\xff",              // nor this
           "\xc3",              // cut short
           "\xe2\x80",          // cut short
           "\xe2\x28\xa1",      // a bad continuation
       }) {
    EXPECT_EQ(sequence_length(s, 0), 0U) << testing::PrintToString(std::string(s));
    EXPECT_EQ(decode(s, 0).code_point, 0U);
    EXPECT_FALSE(is_valid(s));
  }
}

TEST(Utf8, ValidatesWholeStrings) {
  EXPECT_TRUE(is_valid(""));
  EXPECT_TRUE(is_valid("Zürich \xe2\x9c\x93"));
  EXPECT_FALSE(is_valid("Zürich \xe2\x9c"));
  EXPECT_FALSE(is_valid(std::string_view("ok\xc0\x80", 4)));
}

TEST(Utf8, ReplacesEachBadByteAsGoReadsRunes) {
  EXPECT_EQ(with_replacement_characters("a\xc3\xa9z"), "a\xc3\xa9z");
  EXPECT_EQ(with_replacement_characters("a\xffz"), "a\xef\xbf\xbdz");
  // An overlong pair is two bad bytes, each its own U+FFFD (Go's utf8.DecodeRuneInString).
  EXPECT_EQ(with_replacement_characters("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(with_replacement_characters("\xe2\x80"), "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(Utf8, TellsContinuationBytes) {
  EXPECT_TRUE(is_continuation_byte('\x80'));
  EXPECT_TRUE(is_continuation_byte('\xbf'));
  EXPECT_FALSE(is_continuation_byte('a'));
  EXPECT_FALSE(is_continuation_byte('\xc3'));
}

}  // namespace
}  // namespace kjq::utf8

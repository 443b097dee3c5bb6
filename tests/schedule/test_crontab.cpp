// Crontab in Nautobot's syntax (Celery's crontab, five fields, * , - / only).
#include <gtest/gtest.h>

#include "schedule/crontab.hpp"
#include "util/diagnostic.hpp"

namespace kjq::schedule {
namespace {

std::string refusal(const std::string& text) {
  try {
    Crontab::parse(text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Crontab, ExpandsStarsStepsRangesAndLists) {
  const auto c = Crontab::parse("*/15 0,8-17/2 1-7 */3 1-5");
  EXPECT_EQ(c.minutes.count(), 4u);
  for (int m : {0, 15, 30, 45}) EXPECT_TRUE(c.minutes.test(m)) << m;
  EXPECT_EQ(c.hours.count(), 6u);
  for (int h : {0, 8, 10, 12, 14, 16}) EXPECT_TRUE(c.hours.test(h)) << h;
  EXPECT_EQ(c.days_of_month.count(), 7u);
  EXPECT_FALSE(c.days_of_month.test(0));
  for (int m : {1, 4, 7, 10}) EXPECT_TRUE(c.months.test(m)) << m;
  EXPECT_EQ(c.months.count(), 4u);
  EXPECT_EQ(c.days_of_week.count(), 5u);
  EXPECT_FALSE(c.days_of_week.test(0));
}

TEST(Crontab, WrapsARangeThatEndsBelowItsStartAsCeleryDoes) {
  const auto c = Crontab::parse("0 22-2 * * 5-1");
  EXPECT_EQ(c.hours.count(), 5u);
  for (int h : {22, 23, 0, 1, 2}) EXPECT_TRUE(c.hours.test(h)) << h;
  EXPECT_EQ(c.days_of_week.count(), 4u);  // fri sat sun mon
  for (int d : {5, 6, 0, 1}) EXPECT_TRUE(c.days_of_week.test(d)) << d;
  // A step counts along the wrapped range: 22, 0, 2.
  const auto s = Crontab::parse("0 22-2/2 * * *");
  EXPECT_EQ(s.hours.count(), 3u);
  EXPECT_TRUE(s.hours.test(22) && s.hours.test(0) && s.hours.test(2));
}

TEST(Crontab, AcceptsCeleryDayNamesInTheDayOfWeekOnly) {
  const auto c = Crontab::parse("0 9 * * mon-fri");
  EXPECT_EQ(c.days_of_week.count(), 5u);
  EXPECT_TRUE(Crontab::parse("0 9 * * Sunday").days_of_week.test(0));
  EXPECT_NE(refusal("mon 9 * * *"), "");
}

TEST(Crontab, RefusesWhatNautobotRefusesNamingTheField) {
  EXPECT_NE(refusal("* * * *").find("expected five fields"), std::string::npos);
  EXPECT_NE(refusal("* * * * * *").find("got 6"), std::string::npos);
  EXPECT_NE(refusal("*  * * * *").find("got 6"), std::string::npos);  // split on single spaces
  EXPECT_NE(refusal(" * * * * *"), "");
  EXPECT_NE(refusal("60 * * * *").find("crontab.minute"), std::string::npos);
  EXPECT_NE(refusal("* 24 * * *").find("crontab.hour"), std::string::npos);
  EXPECT_NE(refusal("* * 0 * *").find("crontab.day_of_month"), std::string::npos);
  EXPECT_NE(refusal("* * 32 * *").find("crontab.day_of_month"), std::string::npos);
  EXPECT_NE(refusal("* * * 13 *").find("crontab.month_of_year"), std::string::npos);
  EXPECT_NE(refusal("* * * * 7").find("crontab.day_of_week"), std::string::npos);  // Celery: 0-6
  EXPECT_NE(refusal("*/0 * * * *").find("step of 0"), std::string::npos);
  EXPECT_NE(refusal("5/15 * * * *").find("a step applies"), std::string::npos);
  EXPECT_NE(refusal("-5 * * * *").find("negative"), std::string::npos);
  EXPECT_NE(refusal("1,,2 * * * *").find("empty"), std::string::npos);
  for (const char* unsupported : {"L * * * *", "* * L * *", "* * 15W * *", "* * * * 5#3", "? * * * *", "@daily"})
    EXPECT_NE(refusal(unsupported), "") << unsupported;
}

TEST(Crontab, RefusesHostileInputWithoutEchoingControlCharacters) {
  const auto message = refusal("\x1b[31m * * * *");
  EXPECT_EQ(message.find('\x1b'), std::string::npos) << message;
  EXPECT_NE(refusal(std::string(300, '*')).find("255"), std::string::npos);
  EXPECT_NE(refusal("99999999999999999999 * * * *").find("out of range"), std::string::npos);
  EXPECT_NE(refusal("*/99999999999 * * * *").find("step"), std::string::npos);
}

}  // namespace
}  // namespace kjq::schedule

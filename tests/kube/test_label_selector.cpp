// LabelSelector: the API server's selector syntax, matched on the client.
#include <gtest/gtest.h>

#include "kube/label_selector.hpp"
#include "util/diagnostic.hpp"

namespace kjq::kube {
namespace {

using Labels = std::map<std::string, std::string>;

bool match(const std::string& sel, const Labels& labels) { return LabelSelector::parse(sel, "-l").matches(labels); }

TEST(LabelSelector, EqualityAndInequality) {
  const Labels nb{{"app.kubernetes.io/component", "nautobot-job"}, {"tier", "x"}};
  EXPECT_TRUE(match("app.kubernetes.io/component=nautobot-job", nb));
  EXPECT_TRUE(match("app.kubernetes.io/component==nautobot-job", nb));
  EXPECT_FALSE(match("app.kubernetes.io/component=nautobot", nb));
  EXPECT_TRUE(match("tier!=y", nb));
  EXPECT_TRUE(match("missing!=y", nb));  // absent counts as not equal
  EXPECT_FALSE(match("tier!=x", nb));
  EXPECT_TRUE(match(" app.kubernetes.io/component = nautobot-job , tier=x ", nb));
  EXPECT_FALSE(match("app.kubernetes.io/component=nautobot-job,tier=y", nb));
}

TEST(LabelSelector, SetsAndExistence) {
  const Labels l{{"env", "prod"}, {"team", ""}};
  EXPECT_TRUE(match("env in (dev, prod)", l));
  EXPECT_FALSE(match("env notin (dev,prod)", l));
  EXPECT_TRUE(match("region notin (eu)", l));
  EXPECT_TRUE(match("team", l));
  EXPECT_TRUE(match("team=", l));
  EXPECT_FALSE(match("!team", l));
  EXPECT_TRUE(match("!region,env in (prod),team", l));
  EXPECT_TRUE(LabelSelector::parse("", "-l").matches({}));
  EXPECT_TRUE(LabelSelector::parse("  ", "-l").empty());
}

TEST(LabelSelector, TextIsNormalised) {
  EXPECT_EQ(LabelSelector::parse(" a = b ,c in ( d , e ),!f,g!=h,i", "-l").text(), "a=b,c in (d,e),!f,g!=h,i");
}

TEST(LabelSelector, BadSelectorsNameTheFlagAndThePart) {
  for (const char* bad : {"a=b,", "=b", "a b", "a in b", "a in (b", "a)", "a=b c", "-a=b", "a/b/c=d",
                          "a="
                          "0123456789012345678901234567890123456789012345678901234567890123",
                          "a foo (b)"}) {
    SCOPED_TRACE(bad);
    try {
      LabelSelector::parse(bad, "--nautobot-job-selector");
      ADD_FAILURE() << "accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--nautobot-job-selector: ", 0), 0u) << e.what();
    }
  }
}

}  // namespace
}  // namespace kjq::kube

#include <gtest/gtest.h>

#include "chart/image.hpp"
#include "chart/names.hpp"

using nlohmann::json;
using namespace kjq::chart;

namespace {
Release release_named(const std::string& name) {
  Release r;
  r.name = name;
  return r;
}
}  // namespace

TEST(Fullname, FollowsTheChartHelper) {
  EXPECT_EQ(fullname(json::object(), release_named("test")), "test-nautobot");
  EXPECT_EQ(fullname(json::object(), release_named("nautobot-prod")), "nautobot-prod");
  EXPECT_EQ(fullname({{"nameOverride", "nb"}}, release_named("nb-prod")), "nb-prod");
  EXPECT_EQ(fullname({{"fullnameOverride", "acme-nautobot-"}}, release_named("x")), "acme-nautobot");
  // Release names are lower-cased and runs of other characters collapse to one "-".
  EXPECT_EQ(fullname(json::object(), release_named("My_App..v2")), "my-app-v2-nautobot");
  // Truncated to 63 bytes, then one trailing "-" removed.
  std::string long_name(62, 'a');
  EXPECT_EQ(fullname(json::object(), release_named(long_name)), long_name.substr(0, 62));
  EXPECT_EQ(fullname(json::object(), release_named(long_name)).size(), 62u);
}

TEST(StandardLabels, AreStringsEvenForNumericReleaseNames) {
  Release r = release_named("123");
  r.chart_version = "3.1.1+build.7";
  auto labels = standard_labels(json::object(), r);
  EXPECT_EQ(labels["app.kubernetes.io/instance"], "123");
  EXPECT_EQ(labels["helm.sh/chart"], "nautobot-3.1.1_build.7");
  EXPECT_EQ(labels["app.kubernetes.io/managed-by"], "kjq");
  r.app_version = "";
  EXPECT_FALSE(standard_labels(json::object(), r).contains("app.kubernetes.io/version"));
}

TEST(ServiceAccountName, DependsOnCreateAndName) {
  Release r = release_named("test");
  EXPECT_EQ(service_account_name({{"serviceAccount", {{"create", true}, {"name", ""}}}}, r), "test-nautobot");
  EXPECT_EQ(service_account_name({{"serviceAccount", {{"create", false}, {"name", ""}}}}, r), "default");
  EXPECT_EQ(service_account_name({{"serviceAccount", {{"create", false}, {"name", "sa"}}}}, r), "sa");
}

TEST(ImageReference, RegistryDigestTagAndFallback) {
  json values = {{"nautobot",
                  {{"image", {{"registry", "r.io"}, {"repository", "nb/nautobot"}, {"tag", "3.0"}}}}}};
  Release r;
  EXPECT_EQ(image_reference(values, r), "r.io/nb/nautobot:3.0");
  values["global"] = {{"imageRegistry", "mirror.local"}};
  EXPECT_EQ(image_reference(values, r), "mirror.local/nb/nautobot:3.0");
  values["nautobot"]["image"]["digest"] = "sha256:abc";
  EXPECT_EQ(image_reference(values, r), "mirror.local/nb/nautobot@sha256:abc");
  values.erase("global");
  values["nautobot"]["image"]["digest"] = "";
  values["nautobot"]["image"]["tag"] = "";
  r.app_version = "3.0.9";
  // The reference prints "r.io/nb/nautobot:" here (defect 11); kjq uses the app version.
  EXPECT_EQ(image_reference(values, r), "r.io/nb/nautobot:3.0.9");
}

TEST(ImagePullSecrets, GlobalFirstDeduplicatedAlwaysStrings) {
  json values = {{"global", {{"imagePullSecrets", {{{"name", "a"}}, "b"}}}},
                 {"nautobot", {{"image", {{"pullSecrets", {"b", 123.0, "c"}}}}}}};
  EXPECT_EQ(image_pull_secrets(values),
            json::parse(R"([{"name":"a"},{"name":"b"},{"name":"123"},{"name":"c"}])"));
  EXPECT_EQ(image_pull_secrets(json::object()), json::array());
}
